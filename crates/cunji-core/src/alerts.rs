//! Integrity alerts (预警) per village and year, each with its evidence: the known ways collective income is
//! inflated — year-end jumps, pass-through money (过账), dependence on subsidies, subsidised projects that
//! do not return, incomes that fall behind the pace of their band, and suspiciously round figures. An alert
//! is a place for an auditor to look, not a verdict. Thresholds are policy settings (`[alerts]`).

use crate::account::{Account, AccountTotals};
use crate::bands::BandScheme;
use crate::date::Date;
use crate::measure::Measure;
use crate::money::Fen;
use crate::rate::{Ppm, PPM};
use crate::subsidy::{GrantReturn, ReturnStatus};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertSettings {
    /// December's share of the year's operating income above which the year ends in a jump.
    pub year_end_share: Ppm,
    /// Growth on last year, as a multiple (2 = up 200%), above which income surged …
    pub surge_rate: Ppm,
    /// … when the growth is also above this amount.
    pub surge_min: Fen,
    /// An income entry matched within this many days by an expense or negative entry of the same amount.
    pub pass_through_days: i64,
    /// Subsidy income's share of total income above which a village depends on subsidies.
    pub subsidy_share: Ppm,
    /// Income booked in whole multiples of this amount …
    pub round_unit: Fen,
    /// … above this share of the year's income is a round-figure alert.
    pub round_share: Ppm,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            year_end_share: Ppm::from_ppm(500_000),
            surge_rate: Ppm::from_ppm(2_000_000),
            surge_min: Fen::from_fen(5_000_000),
            pass_through_days: 60,
            subsidy_share: Ppm::from_ppm(700_000),
            round_unit: Fen::from_fen(1_000_000),
            round_share: Ppm::from_ppm(500_000),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    YearEndJump,
    Surge,
    PassThrough,
    SubsidyDependence,
    ProjectBelowExpectation,
    ProjectNoReturn,
    AtRisk,
    RoundFigures,
}

impl AlertKind {
    pub fn name_zh(self) -> &'static str {
        match self {
            AlertKind::YearEndJump => "年末突击入账",
            AlertKind::Surge => "收入异常猛增",
            AlertKind::PassThrough => "疑似过账",
            AlertKind::SubsidyDependence => "依赖补助",
            AlertKind::ProjectBelowExpectation => "扶持项目收益低于预期",
            AlertKind::ProjectNoReturn => "扶持项目无收益",
            AlertKind::AtRisk => "有掉档风险",
            AlertKind::RoundFigures => "整数金额偏多",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Alert {
    pub village: String,
    pub kind: AlertKind,
    pub message: String,
    pub evidence: Vec<String>,
}

/// One entry, as alerts read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryFact {
    pub date: Date,
    pub account: Account,
    pub amount: Fen,
    pub voucher: Option<String>,
    /// A formal reversal of a named voucher (a documented correction).
    pub reverses: Option<String>,
}

/// What the alerts of one village and year read.
pub struct VillageYear<'a> {
    pub village: &'a str,
    pub year: i32,
    pub totals: &'a AccountTotals,
    /// Last year's books compared per SPEC §2, when there are any.
    pub previous: Option<&'a AccountTotals>,
    pub entries: &'a [EntryFact],
    pub grants: &'a [GrantReturn],
    pub bands: Option<(&'a BandScheme, &'a Measure)>,
    /// Today, when the year is still running (for the pace of the band).
    pub today: Option<Date>,
}

fn share(part: i64, whole: i64) -> String {
    crate::bands::percent_string(part.max(0) as u64, whole.max(1) as u64)
}

fn over(part: i64, whole: i64, limit: Ppm) -> bool {
    whole > 0 && part as i128 * PPM as i128 > limit.ppm() as i128 * whole as i128
}

fn days(d: &Date) -> i64 {
    d.day_number()
}

/// The amount an entry can answer as the other half of a pass-through: an expense of a positive
/// amount answers an income of that amount, a negative entry of any account answers an income of
/// the opposite amount. A formal reversal answers nothing (a documented correction).
fn answers(x: &EntryFact) -> Option<i64> {
    if x.reverses.is_some() {
        return None;
    }
    if x.amount.fen() < 0 {
        x.amount.fen().checked_neg()
    } else if x.amount.fen() > 0 && !x.account.is_income() {
        Some(x.amount.fen())
    } else {
        None
    }
}

/// Pass-through pairs `(income, answer)` as entry indexes: each positive income entry, in entry order,
/// takes the earliest-listed unused answer of its amount dated 0 to `window` days after it.
///
/// Why not a double loop: that compared every entry with every other, and one village of 1,000,000
/// entries held a server worker for over 15 minutes. Answers are sorted by (amount, day) once, and a
/// tree of the smallest unused entry index over that order finds each income's answer in O(log n),
/// with the same pairs as the double loop (tested against it below).
pub fn pass_through_pairs(entries: &[EntryFact], window: i64) -> Vec<(usize, usize)> {
    let mut answers: Vec<(i64, i64, usize)> = entries
        .iter()
        .enumerate()
        .filter_map(|(j, x)| answers(x).map(|a| (a, days(&x.date), j)))
        .collect();
    answers.sort_unstable();
    let mut tree = MinTree::new(answers.iter().map(|a| a.2));
    let mut pairs = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if !(e.account.is_income() && e.amount.fen() > 0) {
            continue;
        }
        let start = days(&e.date);
        let end = start.saturating_add(window);
        let lo = answers.partition_point(|a| (a.0, a.1) < (e.amount.fen(), start));
        let hi = answers.partition_point(|a| (a.0, a.1) <= (e.amount.fen(), end));
        if let Some(pos) = tree.take_min(lo, hi) {
            pairs.push((i, answers[pos].2));
        }
    }
    pairs
}

/// The smallest value over a range of positions, with values taken away one at a time
/// (an iterative segment tree: `O(log n)` a query and a removal).
struct MinTree {
    n: usize,
    /// `(value, position)`; `usize::MAX` marks a value taken.
    t: Vec<(usize, usize)>,
}

impl MinTree {
    fn new(values: impl ExactSizeIterator<Item = usize>) -> MinTree {
        let n = values.len();
        let mut t = vec![(usize::MAX, usize::MAX); 2 * n];
        for (p, v) in values.enumerate() {
            t[n + p] = (v, p);
        }
        for i in (1..n).rev() {
            t[i] = t[2 * i].min(t[2 * i + 1]);
        }
        MinTree { n, t }
    }

    /// The position of the smallest value in `lo..hi`, taken away; `None` when all are taken.
    fn take_min(&mut self, lo: usize, hi: usize) -> Option<usize> {
        let (mut l, mut r) = (lo + self.n, hi + self.n);
        let mut best = (usize::MAX, usize::MAX);
        while l < r {
            if l & 1 == 1 {
                best = best.min(self.t[l]);
                l += 1;
            }
            if r & 1 == 1 {
                r -= 1;
                best = best.min(self.t[r]);
            }
            l /= 2;
            r /= 2;
        }
        if best.0 == usize::MAX {
            return None;
        }
        let mut p = best.1 + self.n;
        self.t[p] = (usize::MAX, usize::MAX);
        while p > 1 {
            p /= 2;
            self.t[p] = self.t[2 * p].min(self.t[2 * p + 1]);
        }
        Some(best.1)
    }
}

pub fn village_alerts(s: &AlertSettings, v: &VillageYear<'_>) -> Vec<Alert> {
    let mut out = Vec::new();
    let standard = Measure::standard();
    let (total, operating) = (&standard[0], &standard[1]);
    let op = operating.value(v.totals).fen();
    let alert = |kind: AlertKind, message: String, evidence: Vec<String>| Alert {
        village: v.village.to_string(),
        kind,
        message,
        evidence,
    };

    // Year-end jump: December's operating income against the year's.
    let december: i64 = v
        .entries
        .iter()
        .filter(|e| e.date.month() == 12 && operating.coefficients[e.account.index()] != 0)
        .map(|e| e.amount.fen())
        .sum();
    if over(december, op, s.year_end_share) {
        out.push(alert(
            AlertKind::YearEndJump,
            format!(
                "{} 年 12 月入账的经营性收入占全年的 {}，超过 {}",
                v.year,
                share(december, op),
                s.year_end_share
            ),
            vec![format!(
                "12 月经营性收入 {} 元，全年 {} 元",
                Fen::from_fen(december),
                Fen::from_fen(op)
            )],
        ));
    }
    if let Some(prev) = v.previous {
        let p = operating.value(prev).fen();
        let growth = op - p;
        if p > 0
            && growth > s.surge_min.fen()
            && growth as i128 * PPM as i128 > s.surge_rate.ppm() as i128 * p as i128
        {
            out.push(alert(
                AlertKind::Surge,
                format!(
                    "经营性收入比上年增长 {}，增加 {} 元",
                    share(growth, p),
                    Fen::from_fen(growth)
                ),
                vec![format!(
                    "{} 年 {} 元，{} 年 {} 元",
                    v.year - 1,
                    Fen::from_fen(p),
                    v.year,
                    Fen::from_fen(op)
                )],
            ));
        }
    }

    // Pass-through: income matched soon after by an expense or a negative entry of the same amount.
    let pairs: Vec<String> = pass_through_pairs(v.entries, s.pass_through_days)
        .into_iter()
        .map(|(i, j)| {
            let (e, x) = (&v.entries[i], &v.entries[j]);
            format!(
                "{} {} {} 元（凭证 {}）↔ {} {} {} 元（凭证 {}）",
                e.date.iso(),
                e.account.name_zh(),
                e.amount,
                e.voucher.as_deref().unwrap_or("—"),
                x.date.iso(),
                x.account.name_zh(),
                x.amount,
                x.voucher.as_deref().unwrap_or("—")
            )
        })
        .collect();
    if !pairs.is_empty() {
        out.push(alert(
            AlertKind::PassThrough,
            format!(
                "{} 笔收入在 {} 天内被同额支出或红字冲回",
                pairs.len(),
                s.pass_through_days
            ),
            pairs,
        ));
    }

    // Subsidy dependence.
    let t = total.value(v.totals).fen();
    let subsidy = v.totals[Account::SubsidyIncome.index()].fen();
    if over(subsidy, t, s.subsidy_share) {
        out.push(alert(
            AlertKind::SubsidyDependence,
            format!(
                "补助收入占总收入的 {}，超过 {}",
                share(subsidy, t),
                s.subsidy_share
            ),
            vec![format!(
                "补助收入 {} 元，总收入 {} 元",
                Fen::from_fen(subsidy),
                Fen::from_fen(t)
            )],
        ));
    }

    // Subsidised projects.
    for g in v.grants {
        match g.status {
            ReturnStatus::BelowExpectation => out.push(alert(
                AlertKind::ProjectBelowExpectation,
                format!("扶持资金 {}（{}）收益低于预期", g.grant, g.program),
                vec![format!(
                    "预期 {} 元，实际 {} 元",
                    g.expected.unwrap_or_default(),
                    g.actual
                )],
            )),
            ReturnStatus::NoReturn => out.push(alert(
                AlertKind::ProjectNoReturn,
                format!(
                    "扶持资金 {}（{}）立项后 {} 年没有收益",
                    g.grant, g.program, v.year
                ),
                vec![format!("{} 年拨付 {} 元", g.year, g.amount)],
            )),
            _ => {}
        }
    }

    // At risk: a year still running whose income so far is behind the pace of last year's band.
    if let (Some(today), Some((scheme, measure)), Some(prev)) = (v.today, v.bands, v.previous) {
        if today.year() == v.year {
            let band = scheme.band_of(measure.value(prev));
            if let Some(min) = scheme.bands[band].min.filter(|m| m.fen() > 0) {
                let elapsed = (today.month() as i64 - 1).max(0);
                let pace = min.fen() as i128 * elapsed as i128 / 12;
                let so_far = measure.value(v.totals).fen();
                if elapsed > 0 && (so_far as i128) < pace {
                    out.push(alert(
                        AlertKind::AtRisk,
                        format!(
                            "前 {elapsed} 个月{}仅 {} 元，低于保持“{}”所需的进度",
                            measure.name,
                            Fen::from_fen(so_far),
                            scheme.bands[band].name
                        ),
                        vec![format!(
                            "“{}”下限 {} 元 × {elapsed}/12 = {} 元",
                            scheme.bands[band].name,
                            min,
                            Fen::from_fen(pace as i64)
                        )],
                    ));
                }
            }
        }
    }

    // Round figures.
    let incomes: Vec<&EntryFact> = v
        .entries
        .iter()
        .filter(|e| e.account.is_income() && e.amount.fen() > 0)
        .collect();
    let all: i64 = incomes.iter().map(|e| e.amount.fen()).sum();
    let round: Vec<&&EntryFact> = incomes
        .iter()
        .filter(|e| s.round_unit.fen() > 0 && e.amount.fen() % s.round_unit.fen() == 0)
        .collect();
    let round_sum: i64 = round.iter().map(|e| e.amount.fen()).sum();
    if over(round_sum, all, s.round_share) {
        out.push(alert(
            AlertKind::RoundFigures,
            format!(
                "收入中 {} 是 {} 元的整倍数（{} 笔）",
                share(round_sum, all),
                s.round_unit,
                round.len()
            ),
            round
                .iter()
                .take(10)
                .map(|e| format!("{} {} {} 元", e.date.iso(), e.account.name_zh(), e.amount))
                .collect(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(date: &str, account: Account, yuan: &str) -> EntryFact {
        EntryFact {
            date: Date::parse(date).unwrap(),
            account,
            amount: Fen::parse_yuan(yuan).unwrap(),
            voucher: None,
            reverses: None,
        }
    }

    fn totals(entries: &[EntryFact]) -> AccountTotals {
        let mut t = [Fen::ZERO; crate::account::ACCOUNT_COUNT];
        for x in entries {
            let i = x.account.index();
            t[i] = Fen::from_fen(t[i].fen() + x.amount.fen());
        }
        t
    }

    fn kinds(
        entries: &[EntryFact],
        previous: Option<&AccountTotals>,
        today: Option<Date>,
        scheme: Option<(&BandScheme, &Measure)>,
    ) -> Vec<AlertKind> {
        let t = totals(entries);
        village_alerts(
            &AlertSettings::default(),
            &VillageYear {
                village: "v",
                year: 2024,
                totals: &t,
                previous,
                entries,
                grants: &[],
                bands: scheme,
                today,
            },
        )
        .into_iter()
        .map(|a| a.kind)
        .collect()
    }

    #[test]
    fn each_alert_fires_on_its_evidence_and_not_otherwise() {
        use Account::*;
        // 60,000 of 100,000 operating income booked in December: a year-end jump (and 50,000-multiples).
        let jump = [
            e("2024-03-01", OperatingRevenue, "40000.50"),
            e("2024-12-20", OperatingRevenue, "59999.50"),
        ];
        assert_eq!(kinds(&jump, None, None, None), vec![AlertKind::YearEndJump]);
        let even = [
            e("2024-03-01", OperatingRevenue, "50000.50"),
            e("2024-12-20", OperatingRevenue, "49999.50"),
        ];
        assert!(kinds(&even, None, None, None).is_empty());
        // Up from 20,000 to 80,000.02: +300% and +60,000 → surge.
        let prev = totals(&[e("2023-05-01", OperatingRevenue, "20000")]);
        let now = [e("2024-05-01", OperatingRevenue, "80000.02")];
        assert_eq!(kinds(&now, Some(&prev), None, None), vec![AlertKind::Surge]);
        // A rent of 50,000.01 refunded 30 days later as an expense: pass-through; 61 days later: not.
        let pt = [
            e("2024-03-01", OperatingRevenue, "50000.01"),
            e("2024-03-31", OtherExpense, "50000.01"),
        ];
        assert_eq!(kinds(&pt, None, None, None), vec![AlertKind::PassThrough]);
        let late = [
            e("2024-03-01", OperatingRevenue, "50000.01"),
            e("2024-05-01", OtherExpense, "50000.01"),
        ];
        assert!(kinds(&late, None, None, None).is_empty());
        // A formal reversal is a documented correction, not pass-through.
        let mut rev = vec![
            e("2024-03-01", OperatingRevenue, "50000.01"),
            e("2024-03-02", OperatingRevenue, "-50000.01"),
        ];
        rev[1].reverses = Some("2024:记-1".into());
        assert!(kinds(&rev, None, None, None).is_empty());
        // Subsidy 70,000.01 of 100,000.01: dependence.
        let sub = [
            e("2024-03-01", SubsidyIncome, "70000.01"),
            e("2024-04-01", OperatingRevenue, "30000"),
        ];
        assert_eq!(
            kinds(&sub, None, None, None),
            vec![AlertKind::SubsidyDependence]
        );
        // 30,000 + 40,000 round of 70,000.50: round figures.
        let round = [
            e("2024-03-01", OperatingRevenue, "30000"),
            e("2024-04-01", InvestmentIncome, "40000"),
            e("2024-05-01", OperatingRevenue, "0.50"),
        ];
        assert_eq!(
            kinds(&round, None, None, None),
            vec![AlertKind::RoundFigures]
        );
    }

    /// The rule as first written: every income entry against every other entry.
    fn pass_through_by_double_loop(entries: &[EntryFact], window: i64) -> Vec<(usize, usize)> {
        let mut used = vec![false; entries.len()];
        let mut pairs = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            if !(e.account.is_income() && e.amount.fen() > 0) {
                continue;
            }
            let start = days(&e.date);
            let m = entries.iter().enumerate().position(|(j, x)| {
                !used[j]
                    && j != i
                    && x.reverses.is_none()
                    && ((!x.account.is_income() && x.amount == e.amount)
                        || (x.amount.fen() == -e.amount.fen()))
                    && (0..=window).contains(&(days(&x.date) - start))
            });
            if let Some(j) = m {
                used[j] = true;
                pairs.push((i, j));
            }
        }
        pairs
    }

    proptest::proptest! {
        #[test]
        fn pass_through_pairs_are_those_of_the_double_loop(
            rows in proptest::collection::vec((0u32..120, 0usize..12, -4i64..5, proptest::bool::weighted(0.1)), 0..80),
            window in 0i64..90,
        ) {
            let entries: Vec<EntryFact> = rows
                .iter()
                .map(|&(day, account, amount, reversal)| {
                    let d = Date::parse("2024-01-01").unwrap();
                    let date = Date::from_day_number(days(&d) + day as i64);
                    EntryFact {
                        date,
                        account: Account::ALL[account],
                        amount: Fen::from_fen(amount * 1_000),
                        voucher: None,
                        reverses: reversal.then(|| "2024:1".to_string()),
                    }
                })
                .collect();
            proptest::prop_assert_eq!(
                pass_through_pairs(&entries, window),
                pass_through_by_double_loop(&entries, window)
            );
        }
    }

    #[test]
    fn pass_through_of_200000_entries_is_quick() {
        // Half incomes, half expenses of the same amounts a week later: every income is answered.
        // (The double loop took minutes for this; the sorted search takes well under a second.)
        let base = days(&Date::parse("2024-01-01").unwrap());
        let entries: Vec<EntryFact> = (0..200_000i64)
            .map(|k| {
                let n = k / 2;
                let income = k % 2 == 0;
                EntryFact {
                    date: Date::from_day_number(base + n % 300 + if income { 0 } else { 7 }),
                    account: if income {
                        Account::OperatingRevenue
                    } else {
                        Account::OperatingCost
                    },
                    amount: Fen::from_fen(100 + n),
                    voucher: None,
                    reverses: None,
                }
            })
            .collect();
        let pairs = pass_through_pairs(&entries, 60);
        assert_eq!(pairs.len(), 100_000);
        assert!(pairs.iter().all(|&(i, j)| j == i + 1));
    }

    #[test]
    fn a_running_year_behind_its_band_is_at_risk() {
        use crate::bands::Band;
        let scheme = BandScheme {
            measure: "operating_income".into(),
            bands: vec![
                Band {
                    name: "低".into(),
                    min: None,
                },
                Band {
                    name: "10万以上".into(),
                    min: Some(Fen::from_fen(10_000_000)),
                },
            ],
        };
        let m = Measure::standard().remove(1);
        let prev = totals(&[e("2023-05-01", Account::OperatingRevenue, "120000")]);
        // On 1 July six months have passed: 100,000 × 6/12 = 50,000 is needed; 49,999.99 is behind.
        let so_far = [e("2024-05-01", Account::OperatingRevenue, "49999.99")];
        let today = Date::parse("2024-07-01").ok();
        assert_eq!(
            kinds(&so_far, Some(&prev), today, Some((&scheme, &m))),
            vec![AlertKind::AtRisk]
        );
        let enough = [e("2024-05-01", Account::OperatingRevenue, "50000.01")];
        assert!(kinds(&enough, Some(&prev), today, Some((&scheme, &m))).is_empty());
        // A finished year is not judged by pace.
        assert!(kinds(
            &so_far,
            Some(&prev),
            Date::parse("2025-01-02").ok(),
            Some((&scheme, &m))
        )
        .is_empty());
    }
}
