//! A village's resolution on its cadres' reward (四议两公开) as data, and the rules it must meet
//! (SPEC §13; 村民委员会组织法 第二十二条、第二十六条).

use std::collections::BTreeMap;

use crate::date::Date;
use crate::money::Fen;

/// The four meetings, in the order they must be held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meetings {
    /// 党组织提议
    pub proposed: Date,
    /// 两委会议商议
    pub discussed: Date,
    /// 党员大会审议
    pub reviewed: Date,
    /// 村民会议或村民代表会议决议
    pub decided: Date,
}

impl Meetings {
    /// The meetings with their Chinese names, in order.
    pub fn named(&self) -> [(&'static str, Date); 4] {
        [
            ("党组织提议", self.proposed),
            ("两委会议商议", self.discussed),
            ("党员大会审议", self.reviewed),
            ("村民（代表）会议决议", self.decided),
        ]
    }
}

/// How a 村民会议 counts its members: adult villagers, or households.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteCount {
    Adults,
    Households,
}

/// The body that decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// 村民代表会议
    Representatives,
    /// 村民会议
    Villagers(VoteCount),
}

impl Body {
    /// From the API's `body` and `count_by` (`count_by` matters only for a 村民会议).
    pub fn parse(body: &str, count_by: &str) -> Result<Body, String> {
        match (body.trim(), count_by.trim()) {
            ("representatives", _) => Ok(Body::Representatives),
            ("villagers", "adults" | "") => Ok(Body::Villagers(VoteCount::Adults)),
            ("villagers", "households") => Ok(Body::Villagers(VoteCount::Households)),
            ("villagers", other) => Err(format!(
                "村民会议的应到人数按十八周岁以上村民（adults）或按户（households）计，不是“{other}”"
            )),
            (other, _) => Err(format!(
                "决议机构应为村民代表会议（representatives）或村民会议（villagers），不是“{other}”"
            )),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Body::Representatives => "representatives",
            Body::Villagers(_) => "villagers",
        }
    }

    pub fn count_by_key(self) -> &'static str {
        match self {
            Body::Villagers(VoteCount::Households) => "households",
            _ => "adults",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Body::Representatives => "村民代表会议",
            Body::Villagers(VoteCount::Adults) => "村民会议（按十八周岁以上村民计）",
            Body::Villagers(VoteCount::Households) => "村民会议（按户计）",
        }
    }

    /// The quorum rule: `None` when `present` of `members` may decide, else why not.
    fn quorum_refusal(self, members: u32, present: u32) -> Option<String> {
        let (m, p) = (members as u64, present as u64);
        match self {
            Body::Representatives if p * 3 < m * 2 => Some(format!(
                "村民代表会议应有三分之二以上的组成人员参加（村民委员会组织法第二十六条）：应到 {members} 人，实到 {present} 人"
            )),
            Body::Villagers(VoteCount::Adults) if p * 2 <= m => Some(format!(
                "村民会议应有本村十八周岁以上村民的过半数参加（村民委员会组织法第二十二条）：应到 {members} 人，实到 {present} 人"
            )),
            Body::Villagers(VoteCount::Households) if p * 3 < m * 2 => Some(format!(
                "村民会议应有本村三分之二以上的户的代表参加（村民委员会组织法第二十二条）：应到 {members} 户，实到 {present} 户"
            )),
            _ => None,
        }
    }
}

/// A village resolution: meetings, the deciding body and its vote, when the resolution was made public,
/// and the amount decided for each person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub meetings: Meetings,
    pub body: Body,
    pub members: u32,
    pub present: u32,
    pub votes_for: u32,
    pub votes_against: u32,
    pub votes_abstain: u32,
    /// 决议公开 date.
    pub published: Date,
    pub awards: BTreeMap<String, Fen>,
}

impl Resolution {
    /// SPEC §13's example of a 2024 reward's resolution (30 representatives, 24 present, 20 for, 3
    /// against, 1 abstaining; meetings 2025-01-06 … 2025-01-15, made public 2025-01-16) deciding
    /// `awards` (person, fen): the one worked example the tests of every crate start from.
    pub fn spec_example(awards: &[(&str, i64)]) -> Resolution {
        let day = |s: &str| Date::parse(s).unwrap_or(Date::year_end(2024));
        Resolution {
            meetings: Meetings {
                proposed: day("2025-01-06"),
                discussed: day("2025-01-08"),
                reviewed: day("2025-01-10"),
                decided: day("2025-01-15"),
            },
            body: Body::Representatives,
            members: 30,
            present: 24,
            votes_for: 20,
            votes_against: 3,
            votes_abstain: 1,
            published: day("2025-01-16"),
            awards: awards
                .iter()
                .map(|(p, f)| (p.to_string(), Fen::from_fen(*f)))
                .collect(),
        }
    }

    /// Checks the resolution of year `year`'s reward against the rules of SPEC §13, `today` being the
    /// day it is entered and `computed` each person's computed amount. The first rule broken is said.
    pub fn check(
        &self,
        year: i32,
        today: Date,
        computed: &BTreeMap<String, Fen>,
    ) -> Result<(), String> {
        // Every group of rules is asked, so a refused form lists each rule broken (SPEC §13); within a
        // group the first broken rule is named, as a later one often follows from it.
        let errors: Vec<String> = [
            self.check_dates(year, today),
            self.check_vote(),
            check_amounts(&self.awards, computed),
        ]
        .into_iter()
        .filter_map(Result::err)
        .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("；"))
        }
    }

    fn check_dates(&self, year: i32, today: Date) -> Result<(), String> {
        let named = self.meetings.named();
        let year_end = Date::year_end(year);
        for (i, (name, date)) in named.iter().enumerate() {
            if *date <= year_end {
                return Err(format!(
                    "{name}的日期 {} 早于 {} 年 1 月 1 日：{year} 年的收入要到年度结束后才能确定",
                    date.iso(),
                    year + 1
                ));
            }
            if *date > today {
                return Err(format!("{name}的日期 {} 晚于今天", date.iso()));
            }
            if let Some((before, earlier)) = i.checked_sub(1).map(|j| named[j]) {
                if *date < earlier {
                    return Err(format!(
                        "四次会议应依次召开：{name}（{}）早于{before}（{}）",
                        date.iso(),
                        earlier.iso()
                    ));
                }
            }
        }
        if self.published < self.meetings.decided {
            return Err(format!(
                "决议公开的日期 {} 早于村民（代表）会议决议的日期 {}",
                self.published.iso(),
                self.meetings.decided.iso()
            ));
        }
        if self.published > today {
            return Err(format!("决议公开的日期 {} 晚于今天", self.published.iso()));
        }
        Ok(())
    }

    fn check_vote(&self) -> Result<(), String> {
        let (members, present) = (self.members, self.present);
        if members == 0 {
            return Err("应到人数应大于 0".into());
        }
        if present > members {
            return Err(format!("实到 {present} 人多于应到 {members} 人"));
        }
        if let Some(refusal) = self.body.quorum_refusal(members, present) {
            return Err(refusal);
        }
        let cast = self.votes_for as u64 + self.votes_against as u64 + self.votes_abstain as u64;
        if cast > present as u64 {
            return Err(format!(
                "赞成、反对、弃权合计 {cast} 票，多于到会的 {present} 人"
            ));
        }
        if self.votes_for as u64 * 2 <= present as u64 {
            return Err(format!(
                "决议须经到会人员的过半数通过：到会 {present} 人，赞成 {} 票",
                self.votes_for
            ));
        }
        Ok(())
    }

    /// The resolution in one line, for the proposal's history and the audit log.
    pub fn summary_zh(&self) -> String {
        let meetings: Vec<String> = self
            .meetings
            .named()
            .iter()
            .map(|(name, d)| format!("{name} {}", d.iso()))
            .collect();
        format!(
            "{}；{}：应到 {}、实到 {}，赞成 {}、反对 {}、弃权 {}；决议公开 {}",
            meetings.join("，"),
            self.body.name_zh(),
            self.members,
            self.present,
            self.votes_for,
            self.votes_against,
            self.votes_abstain,
            self.published.iso()
        )
    }
}

/// Each computed person has a decided amount, none above the computed one (the pool is a ceiling) or
/// negative, and no one outside the computation.
fn check_amounts(
    decided: &BTreeMap<String, Fen>,
    computed: &BTreeMap<String, Fen>,
) -> Result<(), String> {
    for (person, limit) in computed {
        let Some(amount) = decided.get(person) else {
            return Err(format!("缺少 {person} 的决定金额"));
        };
        if amount.is_negative() {
            return Err(format!("{person} 的决定金额不能为负"));
        }
        if amount > limit {
            return Err(format!(
                "{person} 的决定金额 {} 超出计算所得 {}（只能更少，不能更多）",
                amount.display(),
                limit.display()
            ));
        }
    }
    if let Some(stranger) = decided.keys().find(|p| !computed.contains_key(*p)) {
        return Err(format!("{stranger} 不在计算所得的奖励名单中"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn fen(pairs: &[(&str, i64)]) -> BTreeMap<String, Fen> {
        pairs
            .iter()
            .map(|(p, f)| (p.to_string(), Fen::from_fen(*f)))
            .collect()
    }

    fn example() -> Resolution {
        Resolution::spec_example(&[("R100201-1", 940_220), ("R100201-2", 900_000)])
    }

    fn refusal(r: &Resolution) -> String {
        let computed = fen(&[("R100201-1", 940_220), ("R100201-2", 950_000)]);
        r.check(2024, d("2025-03-01"), &computed).unwrap_err()
    }

    #[test]
    fn the_example_passes() {
        let computed = fen(&[("R100201-1", 940_220), ("R100201-2", 950_000)]);
        assert_eq!(example().check(2024, d("2025-03-01"), &computed), Ok(()));
    }

    #[test]
    fn a_resolution_voted_down_is_refused() {
        let mut r = example();
        (r.votes_for, r.votes_against, r.votes_abstain) = (0, 24, 0);
        assert_eq!(
            refusal(&r),
            "决议须经到会人员的过半数通过：到会 24 人，赞成 0 票"
        );
        // Exactly half is not more than half.
        (r.votes_for, r.votes_against) = (12, 12);
        assert!(refusal(&r).starts_with("决议须经到会人员的过半数通过"));
        (r.votes_for, r.votes_against, r.votes_abstain) = (20, 4, 1);
        assert_eq!(refusal(&r), "赞成、反对、弃权合计 25 票，多于到会的 24 人");
    }

    #[test]
    fn meetings_in_order_after_the_year_and_not_in_the_future() {
        let mut r = example();
        r.meetings.discussed = d("2025-01-05");
        assert_eq!(
            refusal(&r),
            "四次会议应依次召开：两委会议商议（2025-01-05）早于党组织提议（2025-01-06）"
        );
        let mut r = example();
        r.meetings.proposed = d("2024-12-31");
        assert_eq!(
            refusal(&r),
            "党组织提议的日期 2024-12-31 早于 2025 年 1 月 1 日：2024 年的收入要到年度结束后才能确定"
        );
        let mut r = example();
        r.published = d("2025-01-14");
        assert_eq!(
            refusal(&r),
            "决议公开的日期 2025-01-14 早于村民（代表）会议决议的日期 2025-01-15"
        );
        let mut r = example();
        r.meetings.decided = d("2025-04-01");
        r.published = d("2025-04-01");
        assert_eq!(
            refusal(&r),
            "村民（代表）会议决议的日期 2025-04-01 晚于今天"
        );
    }

    #[test]
    fn quorum_of_each_body() {
        let mut r = example();
        r.present = 19; // 19 × 3 = 57 < 60
        (r.votes_for, r.votes_against, r.votes_abstain) = (19, 0, 0);
        assert!(refusal(&r).starts_with("村民代表会议应有三分之二以上的组成人员参加"));
        r.present = 20; // 20 × 3 = 60: two thirds exactly is enough
        let computed = fen(&[("R100201-1", 940_220), ("R100201-2", 950_000)]);
        assert_eq!(r.check(2024, d("2025-03-01"), &computed), Ok(()));
        r.body = Body::Villagers(VoteCount::Adults);
        r.members = 40; // 20 × 2 = 40: half is not more than half
        assert!(refusal(&r).starts_with("村民会议应有本村十八周岁以上村民的过半数参加"));
        r.body = Body::Villagers(VoteCount::Households);
        r.members = 31; // 20 × 3 = 60 < 62
        assert_eq!(
            refusal(&r),
            "村民会议应有本村三分之二以上的户的代表参加（村民委员会组织法第二十二条）：应到 31 户，实到 20 户"
        );
    }

    #[test]
    fn decided_amounts_never_exceed_the_computed_ones() {
        let mut r = example();
        r.awards.insert("R100201-2".into(), Fen::from_fen(950_001));
        assert_eq!(
            refusal(&r),
            "R100201-2 的决定金额 9,500.01 超出计算所得 9,500.00（只能更少，不能更多）"
        );
        r.awards.insert("R100201-2".into(), Fen::from_fen(-1));
        assert_eq!(refusal(&r), "R100201-2 的决定金额不能为负");
        r.awards.remove("R100201-2");
        assert_eq!(refusal(&r), "缺少 R100201-2 的决定金额");
        let mut r = example();
        r.awards.insert("X".into(), Fen::from_fen(1));
        assert_eq!(refusal(&r), "X 不在计算所得的奖励名单中");
    }

    #[test]
    fn bodies_parse_from_the_api_words() {
        assert_eq!(
            Body::parse("representatives", ""),
            Ok(Body::Representatives)
        );
        assert_eq!(
            Body::parse("villagers", "households"),
            Ok(Body::Villagers(VoteCount::Households))
        );
        assert!(Body::parse("party", "").is_err());
        assert!(Body::parse("villagers", "heads").is_err());
    }
}
