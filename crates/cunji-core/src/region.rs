//! Statistical division codes (统计用区划代码) and the region register with its merges (SPEC §2).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The five levels, from the trailing zero groups of a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    City,
    County,
    Township,
    Village,
}

impl Level {
    pub fn key(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Level::Province => "省",
            Level::City => "市",
            Level::County => "县",
            Level::Township => "乡镇",
            Level::Village => "村",
        }
    }
    /// How many leading digits identify a region of this level.
    pub fn prefix_len(self) -> usize {
        match self {
            Level::Province => 2,
            Level::City => 4,
            Level::County => 6,
            Level::Township => 9,
            Level::Village => 12,
        }
    }
}

const GROUP_ENDS: [usize; 5] = [2, 4, 6, 9, 12];

/// A validated 12-digit code, its digits kept in place: a province's report compares, looks up and
/// copies codes millions of times, and a code on the heap made each of those a pointer to follow
/// and each copy an allocation. Bytes order as the text does.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode([u8; 12]);

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("区划代码 `{0}` 应为 12 位数字")]
    Length(String),
    #[error("区划代码 `{0}` 的零段不在末尾")]
    ZeroGroups(String),
}

impl RegionCode {
    pub fn parse(text: &str) -> Result<RegionCode, CodeError> {
        let t = text.trim();
        if t.len() != 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::Length(t.into()));
        }
        let zero = |from: usize, to: usize| t[from..to].bytes().all(|b| b == b'0');
        // A city without counties (不设区的地级市: 东莞, 中山, 儋州, 嘉峪关) has its townships directly
        // beneath it, with the county group "00": that one zero group may come before non-zero ones.
        let city_without_counties = !zero(2, 4) && zero(4, 6) && !zero(6, 9);
        let mut seen_zero = false;
        let mut start = 0;
        for (i, end) in GROUP_ENDS.iter().enumerate() {
            let group_zero = zero(start, *end);
            if group_zero && i == 0 {
                return Err(CodeError::ZeroGroups(t.into()));
            }
            if seen_zero && !group_zero {
                return Err(CodeError::ZeroGroups(t.into()));
            }
            seen_zero |= group_zero && !(i == 2 && city_without_counties);
            start = *end;
        }
        let mut digits = [0u8; 12];
        digits.copy_from_slice(t.as_bytes());
        Ok(RegionCode(digits))
    }

    pub fn as_str(&self) -> &str {
        // Digits only, as `parse` checked.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    pub fn level(&self) -> Level {
        let b = &self.0;
        let zero = |from: usize, to: usize| b[from..to].iter().all(|c| *c == b'0');
        if zero(2, 12) {
            Level::Province
        } else if zero(4, 12) {
            Level::City
        } else if zero(6, 12) {
            Level::County
        } else if zero(9, 12) {
            Level::Township
        } else {
            Level::Village
        }
    }

    /// The significant digits: a code beneath this region starts with them.
    pub fn prefix(&self) -> &str {
        &self.as_str()[..self.level().prefix_len()]
    }

    /// Is `other` this region or beneath it?
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(self.prefix().as_bytes())
    }

    /// The township (乡镇) a village lies in, or a township itself; `None` above township level.
    /// Every code of a township's villages starts with its 9 digits, in a city without counties too
    /// (`441900101200` lies in `441900101000`).
    pub fn township(&self) -> Option<RegionCode> {
        match self.level() {
            Level::Village | Level::Township => {
                let end = Level::Township.prefix_len();
                let mut digits = [b'0'; 12];
                digits[..end].copy_from_slice(&self.0[..end]);
                Some(RegionCode(digits))
            }
            Level::Province | Level::City | Level::County => None,
        }
    }

    /// The codes of the levels above this one (province first); they need not be registered. A
    /// township of a city without counties has the city as its next level up.
    pub fn ancestors(&self) -> Vec<RegionCode> {
        let level = self.level();
        let mut out: Vec<RegionCode> = GROUP_ENDS
            .iter()
            .take_while(|end| **end < level.prefix_len())
            .map(|end| {
                let mut digits = [b'0'; 12];
                digits[..*end].copy_from_slice(&self.0[..*end]);
                RegionCode(digits)
            })
            .collect();
        out.dedup();
        out
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for RegionCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One registered region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    /// Villages merged into this one, and the year the merge took effect.
    pub predecessors: Vec<RegionCode>,
    pub merged_in: Option<i32>,
}

impl Region {
    pub fn level(&self) -> Level {
        self.code.level()
    }
}

/// The register: every region, with the merge graph checked (one merge per predecessor, no cycle).
#[derive(Clone, Debug, Default)]
pub struct RegionSet {
    regions: BTreeMap<RegionCode, Region>,
    /// predecessor → (successor, merged_in)
    successor: BTreeMap<RegionCode, (RegionCode, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("合并前村 {0} 不是村级代码")]
    PredecessorNotVillage(RegionCode),
    #[error("合并后村 {0} 不是村级代码")]
    SuccessorNotVillage(RegionCode),
    #[error("合并前村 {0} 未登记")]
    UnknownPredecessor(RegionCode),
    #[error("村 {0} 已在另一次合并中（并入 {1}），一个村只能并入一次")]
    TwoMerges(RegionCode, RegionCode),
    #[error("填写合并前村时须填写合并年份")]
    MissingYear,
    #[error("有合并年份却没有合并前村")]
    YearWithoutPredecessors,
    #[error("村 {0} 不能并入自身")]
    SelfMerge(RegionCode),
    #[error("合并关系成环：{0}")]
    Cycle(String),
}

impl RegionSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, code: &RegionCode) -> Option<&Region> {
        self.regions.get(code)
    }

    pub fn contains(&self, code: &RegionCode) -> bool {
        self.regions.contains_key(code)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Region> {
        self.regions.values()
    }

    /// The regions whose codes start with `prefix` (a region and those beneath it), in code order:
    /// a range of the register, not a walk through it.
    pub fn with_prefix<'a>(&'a self, prefix: &str) -> impl Iterator<Item = &'a Region> + 'a {
        // Bounds of the range only (a prefix need not be digits); a prefix longer than a code
        // matches none.
        let bound = |fill: u8| {
            let mut digits = [fill; 12];
            let n = prefix.len().min(12);
            digits[..n].copy_from_slice(&prefix.as_bytes()[..n]);
            RegionCode(digits)
        };
        let fits = prefix.len() <= 12;
        self.regions
            .range(bound(b'0')..=bound(b'9'))
            .filter(move |_| fits)
            .map(|(_, r)| r)
    }

    pub fn len(&self) -> usize {
        self.regions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// Adds or replaces a region without checking merges; call [`RegionSet::check_merges`] after a batch.
    pub fn insert(&mut self, region: Region) {
        self.regions.insert(region.code.clone(), region);
    }

    /// Checks one region's merge fields against the register and rebuilds the successor index.
    /// Returns the problems of each region that has any, in code order.
    pub fn check_merges(&mut self) -> Vec<(RegionCode, MergeError)> {
        let mut problems = Vec::new();
        let mut successor: BTreeMap<RegionCode, (RegionCode, i32)> = BTreeMap::new();
        for r in self.regions.values() {
            match (r.predecessors.is_empty(), r.merged_in) {
                (false, None) => {
                    problems.push((r.code.clone(), MergeError::MissingYear));
                    continue;
                }
                (true, Some(_)) => {
                    problems.push((r.code.clone(), MergeError::YearWithoutPredecessors));
                    continue;
                }
                (true, None) => continue,
                (false, Some(_)) => {}
            }
            if r.level() != Level::Village {
                problems.push((
                    r.code.clone(),
                    MergeError::SuccessorNotVillage(r.code.clone()),
                ));
                continue;
            }
            let year = r.merged_in.unwrap_or_default();
            for p in &r.predecessors {
                if p == &r.code {
                    problems.push((r.code.clone(), MergeError::SelfMerge(p.clone())));
                } else if p.level() != Level::Village {
                    problems.push((r.code.clone(), MergeError::PredecessorNotVillage(p.clone())));
                } else if !self.regions.contains_key(p) {
                    problems.push((r.code.clone(), MergeError::UnknownPredecessor(p.clone())));
                } else if let Some((other, _)) = successor.get(p) {
                    problems.push((
                        r.code.clone(),
                        MergeError::TwoMerges(p.clone(), other.clone()),
                    ));
                } else {
                    successor.insert(p.clone(), (r.code.clone(), year));
                }
            }
        }
        // A cycle: following successors from some village comes back to it.
        let mut reported = BTreeSet::new();
        for start in successor.keys() {
            let mut path = vec![start.clone()];
            let mut cur = start;
            while let Some((next, _)) = successor.get(cur) {
                if next == start {
                    if reported.insert(start.clone()) {
                        let names: Vec<&str> = path.iter().map(|c| c.as_str()).collect();
                        problems.push((
                            start.clone(),
                            MergeError::Cycle(format!("{} → {}", names.join(" → "), start)),
                        ));
                    }
                    break;
                }
                if path.len() > successor.len() {
                    break;
                }
                path.push(next.clone());
                cur = next;
            }
        }
        if problems.is_empty() {
            self.successor = successor;
        }
        problems
    }

    /// The village this one was merged into, and when.
    pub fn successor_of(&self, code: &RegionCode) -> Option<(&RegionCode, i32)> {
        self.successor.get(code).map(|(s, y)| (s, *y))
    }

    /// The village and every village it was merged into, in order.
    pub fn successor_chain(&self, code: &RegionCode) -> Vec<RegionCode> {
        let mut out = vec![code.clone()];
        let mut cur = code;
        while let Some((next, _)) = self.successor.get(cur) {
            if out.contains(next) {
                break;
            }
            out.push(next.clone());
            cur = next;
        }
        out
    }

    /// A village and every village merged into it: whose grants and books are its own (SPEC §7).
    pub fn lineage(&self, code: &RegionCode) -> Vec<RegionCode> {
        let mut out = vec![code.clone()];
        out.extend(self.all_predecessors(code));
        out
    }

    /// Every village merged into this one, directly or through chains.
    pub fn all_predecessors(&self, code: &RegionCode) -> Vec<RegionCode> {
        let mut out = Vec::new();
        let mut stack = vec![code.clone()];
        while let Some(c) = stack.pop() {
            if let Some(r) = self.regions.get(&c) {
                for p in &r.predecessors {
                    if !out.contains(p) && p != code {
                        out.push(p.clone());
                        stack.push(p.clone());
                    }
                }
            }
        }
        out.sort();
        out
    }

    /// The villages merged into this one, directly or through chains, by merges that had all taken
    /// effect by `year` (each `merged_in` ≤ `year` along the way).
    pub fn predecessors_merged_by(&self, code: &RegionCode, year: i32) -> Vec<RegionCode> {
        let mut out = Vec::new();
        let mut stack = vec![code.clone()];
        while let Some(c) = stack.pop() {
            let Some(r) = self.regions.get(&c) else {
                continue;
            };
            for p in &r.predecessors {
                let in_effect = self.successor_of(p).is_some_and(|(_, m)| m <= year);
                if in_effect && !out.contains(p) && p != code {
                    out.push(p.clone());
                    stack.push(p.clone());
                }
            }
        }
        out.sort();
        out
    }

    /// Is the village listed in reports of `year` (SPEC §2)? `has_own_entry` tells whether it has an
    /// entry of its own dated in that year.
    pub fn is_listed(&self, code: &RegionCode, year: i32, has_own_entry: bool) -> bool {
        if let Some((_, merged_in)) = self.successor_of(code) {
            if year >= merged_in {
                return false;
            }
        }
        match self.regions.get(code).and_then(|r| r.merged_in) {
            Some(merged_in) if year < merged_in => has_own_entry,
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn a_village_lies_in_the_township_of_its_first_nine_digits() {
        let township = |c: &str| code(c).township().map(|t| t.to_string());
        assert_eq!(township("131124100200"), Some("131124100000".into()));
        assert_eq!(township("131124100000"), Some("131124100000".into()));
        // A city without counties holds its townships directly.
        assert_eq!(township("441900101200"), Some("441900101000".into()));
        assert_eq!(township("131124000000"), None);
        assert_eq!(township("130000000000"), None);
    }

    #[test]
    fn levels_follow_trailing_zeros() {
        assert_eq!(code("130000000000").level(), Level::Province);
        assert_eq!(code("131100000000").level(), Level::City);
        assert_eq!(code("131124000000").level(), Level::County);
        assert_eq!(code("131124100000").level(), Level::Township);
        assert_eq!(code("131124100200").level(), Level::Village);
        assert!(RegionCode::parse("130000001000").is_err());
        assert!(RegionCode::parse("131100000200").is_err());
        assert!(RegionCode::parse("13010000100").is_err());
        assert!(RegionCode::parse("000000000000").is_err());
        assert!(RegionCode::parse("13010000100a").is_err());
        assert_eq!(
            code("131124100200")
                .ancestors()
                .iter()
                .map(|c| c.as_str().to_string())
                .collect::<Vec<_>>(),
            [
                "130000000000",
                "131100000000",
                "131124000000",
                "131124100000"
            ]
        );
        assert!(code("131124000000").contains(&code("131124100200")));
        assert!(!code("131125000000").contains(&code("131124100200")));
    }

    #[test]
    fn a_city_without_counties_holds_its_townships_directly() {
        // 东莞市 石碣镇 唐洪村 (2023 statistical codes).
        assert_eq!(code("441900000000").level(), Level::City);
        assert_eq!(code("441900101000").level(), Level::Township);
        assert_eq!(code("441900101200").level(), Level::Village);
        assert_eq!(
            code("441900101200")
                .ancestors()
                .iter()
                .map(|c| c.as_str().to_string())
                .collect::<Vec<_>>(),
            ["440000000000", "441900000000", "441900101000"]
        );
        assert!(code("441900000000").contains(&code("441900101200")));
        assert!(code("441900101000").contains(&code("441900101200")));
        assert!(!code("441900102000").contains(&code("441900101200")));
        // The county group may be zero only beneath a city.
        assert!(RegionCode::parse("440000101200").is_err());
    }

    #[test]
    fn a_prefix_is_a_range_of_the_register() {
        let mut set = RegionSet::new();
        for c in [
            "130000000000",
            "131124000000",
            "131124100200",
            "131124101200",
            "131125100200",
            "140000000000",
        ] {
            set.insert(Region {
                code: code(c),
                name: c.into(),
                predecessors: vec![],
                merged_in: None,
            });
        }
        let under = |p: &str| {
            set.with_prefix(p)
                .map(|r| r.code.as_str().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            under("131124"),
            ["131124000000", "131124100200", "131124101200"]
        );
        assert_eq!(under("131124100"), ["131124100200"]);
        assert_eq!(under("13").len(), 5);
        assert_eq!(under("").len(), 6);
        assert_eq!(under("131124101200"), ["131124101200"]);
    }

    fn village(c: &str, preds: &[&str], year: Option<i32>) -> Region {
        Region {
            code: code(c),
            name: c.into(),
            predecessors: preds.iter().map(|p| code(p)).collect(),
            merged_in: year,
        }
    }

    #[test]
    fn merges_are_checked() {
        let mut set = RegionSet::new();
        set.insert(village("120201001001", &[], None));
        set.insert(village("120201001002", &[], None));
        set.insert(village("120201001008", &["120201001001"], Some(2023)));
        assert!(set.check_merges().is_empty());
        assert!(set.is_listed(&code("120201001001"), 2022, true));
        assert!(!set.is_listed(&code("120201001001"), 2023, true));
        assert!(set.is_listed(&code("120201001008"), 2023, false));
        assert!(!set.is_listed(&code("120201001008"), 2022, false));
        assert!(set.is_listed(&code("120201001008"), 2022, true));

        set.insert(village("120201001009", &["120201001001"], Some(2024)));
        let problems = set.check_merges();
        assert!(
            matches!(problems[0].1, MergeError::TwoMerges(..)),
            "{problems:?}"
        );
    }

    #[test]
    fn cycles_are_refused() {
        let mut set = RegionSet::new();
        set.insert(village("120201001001", &["120201001002"], Some(2020)));
        set.insert(village("120201001002", &["120201001001"], Some(2021)));
        let problems = set.check_merges();
        assert!(problems
            .iter()
            .any(|(_, e)| matches!(e, MergeError::Cycle(_))));
    }
}
