//! Integrity alerts (预警) per village and year, each with its evidence: the known ways collective income is
//! inflated — year-end jumps, pass-through money (过账), dependence on subsidies, subsidised projects that
//! do not return, incomes that fall behind the pace of their band, and suspiciously round figures. An alert
//! is a place for an auditor to look, not a verdict. Thresholds are policy settings (`[alerts]`).

mod kinds;
mod pass_through;
mod sums;

pub use pass_through::pass_through_pairs;
pub use sums::{EntrySums, SumsBuilder};

use std::borrow::Cow;

use crate::account::{Account, AccountTotals};
use crate::bands::BandScheme;
use crate::date::Date;
use crate::measure::Measure;
use crate::money::Fen;
use crate::rate::Ppm;
use crate::subsidy::GrantReturn;

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
    /// Contracts (SPEC §16).
    Arrears,
    Expiring,
    ExpiredReceipts,
    BelowPeers,
    LongTerm,
    IdleAsset,
}

impl AlertKind {
    /// Every kind, in the order of the enum.
    pub const ALL: [AlertKind; 14] = [
        AlertKind::YearEndJump,
        AlertKind::Surge,
        AlertKind::PassThrough,
        AlertKind::SubsidyDependence,
        AlertKind::ProjectBelowExpectation,
        AlertKind::ProjectNoReturn,
        AlertKind::AtRisk,
        AlertKind::RoundFigures,
        AlertKind::Arrears,
        AlertKind::Expiring,
        AlertKind::ExpiredReceipts,
        AlertKind::BelowPeers,
        AlertKind::LongTerm,
        AlertKind::IdleAsset,
    ];

    /// The kind of a key, as [`AlertKind::key`] gives it.
    pub fn from_key(key: &str) -> Option<AlertKind> {
        AlertKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The kind's key, as the report's JSON and an approval's checks name it.
    pub fn key(self) -> &'static str {
        match self {
            AlertKind::YearEndJump => "year_end_jump",
            AlertKind::Surge => "surge",
            AlertKind::PassThrough => "pass_through",
            AlertKind::SubsidyDependence => "subsidy_dependence",
            AlertKind::ProjectBelowExpectation => "project_below_expectation",
            AlertKind::ProjectNoReturn => "project_no_return",
            AlertKind::AtRisk => "at_risk",
            AlertKind::RoundFigures => "round_figures",
            AlertKind::Arrears => "arrears",
            AlertKind::Expiring => "expiring",
            AlertKind::ExpiredReceipts => "expired_receipts",
            AlertKind::BelowPeers => "below_peers",
            AlertKind::LongTerm => "long_term",
            AlertKind::IdleAsset => "idle_asset",
        }
    }

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
            AlertKind::Arrears => "合同欠收逾期",
            AlertKind::Expiring => "合同即将到期未续",
            AlertKind::ExpiredReceipts => "合同到期后仍有收款",
            AlertKind::BelowPeers => "租金明显低于同类",
            AlertKind::LongTerm => "长期或大额合同",
            AlertKind::IdleAsset => "资产闲置",
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

/// One entry, as alerts read it. The texts borrow from the stored facts where they can: a
/// province's report reads 4.6 million entries, and one voucher string each was a fifth of its
/// time (`perf`, Hebei 2024).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryFact<'a> {
    pub date: Date,
    pub account: Account,
    pub amount: Fen,
    pub voucher: Option<Cow<'a, str>>,
    /// A formal reversal of a named voucher (a documented correction).
    pub reverses: Option<Cow<'a, str>>,
}

impl EntryFact<'_> {
    /// The same entry owning its texts.
    pub fn into_owned(self) -> EntryFact<'static> {
        EntryFact {
            date: self.date,
            account: self.account,
            amount: self.amount,
            voucher: self.voucher.map(|v| Cow::Owned(v.into_owned())),
            reverses: self.reverses.map(|v| Cow::Owned(v.into_owned())),
        }
    }
}

/// What the alerts of one village and year read.
pub struct VillageYear<'a> {
    pub village: &'a str,
    pub year: i32,
    pub totals: &'a AccountTotals,
    /// Last year's books compared per SPEC §2, when there are any.
    pub previous: Option<&'a AccountTotals>,
    /// The year's entries summed (`EntrySums::of` them, or as the store kept them).
    pub sums: &'a EntrySums,
    /// The entries themselves, in date order, where `sums.needs_entries` says they are read.
    pub entries: Option<&'a [EntryFact<'a>]>,
    pub grants: &'a [GrantReturn],
    pub bands: Option<(&'a BandScheme, &'a Measure)>,
    /// Today, when the year is still running (for the pace of the band).
    pub today: Option<Date>,
}

fn share(part: Fen, whole: Fen) -> String {
    part.percent_of(whole)
}

fn over(part: Fen, whole: Fen, limit: Ppm) -> bool {
    part.exceeds_share(whole, limit)
}

/// The entries of a village-year were needed by its alerts but not read: a store that reads only
/// the sums must read the entries of every village whose sums say so (`EntrySums::needs_entries`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntriesNotRead;

impl VillageYear<'_> {
    fn entries(&self) -> Result<&[EntryFact<'_>], EntriesNotRead> {
        self.entries.ok_or(EntriesNotRead)
    }
}

/// The alerts of one village and year, in a fixed order of kinds.
pub fn village_alerts(
    s: &AlertSettings,
    v: &VillageYear<'_>,
) -> Result<Vec<Alert>, EntriesNotRead> {
    let standard = Measure::standard_shared();
    let (total, operating) = (&standard[0], &standard[1]);
    let mut out = Vec::new();
    out.extend(kinds::year_end_jump(s, v, operating));
    out.extend(kinds::surge(s, v, operating));
    out.extend(kinds::pass_through(s, v)?);
    out.extend(kinds::subsidy_dependence(s, v, total));
    out.extend(kinds::projects(v));
    out.extend(kinds::at_risk(v));
    out.extend(kinds::round_figures(s, v)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(date: &str, account: Account, yuan: &str) -> EntryFact<'static> {
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
                sums: &EntrySums::of(entries),
                entries: Some(entries),
                grants: &[],
                bands: scheme,
                today,
            },
        )
        .unwrap()
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
            let start = e.date.day_number();
            let m = entries.iter().enumerate().position(|(j, x)| {
                !used[j]
                    && j != i
                    && x.reverses.is_none()
                    && ((!x.account.is_income() && x.amount == e.amount)
                        || (x.amount.fen() == -e.amount.fen()))
                    && (0..=window).contains(&(x.date.day_number() - start))
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
            // Amounts from a range wide enough that most entries answer nothing (the filter's
            // "no"), or so narrow that every amount meets another.
            spread in proptest::sample::select(vec![1i64, 1_000, 1_000_003]),
        ) {
            let entries: Vec<EntryFact> = rows
                .iter()
                .map(|&(day, account, amount, reversal)| {
                    let d = Date::parse("2024-01-01").unwrap();
                    let date = Date::from_day_number(d.day_number() + day as i64);
                    EntryFact {
                        date,
                        account: Account::ALL[account],
                        amount: Fen::from_fen(amount * 1_000 + (day as i64 * 7_919) % spread),
                        voucher: None,
                        reverses: reversal.then(|| "2024:1".into()),
                    }
                })
                .collect();
            proptest::prop_assert_eq!(
                pass_through_pairs(&entries, window),
                pass_through_by_double_loop(&entries, window)
            );
        }
    }

    /// The round-figure alert as first written, straight from the entries.
    fn round_by_entries(s: &AlertSettings, entries: &[EntryFact]) -> Option<(String, Vec<String>)> {
        let incomes: Vec<&EntryFact> = entries
            .iter()
            .filter(|e| e.account.is_income() && e.amount.fen() > 0)
            .collect();
        let all: i64 = incomes.iter().map(|e| e.amount.fen()).sum();
        let unit = s.round_unit.fen();
        let round: Vec<&&EntryFact> = incomes
            .iter()
            .filter(|e| unit > 0 && e.amount.fen() % unit == 0)
            .collect();
        let sum: i64 = round.iter().map(|e| e.amount.fen()).sum();
        let (sum, all) = (Fen::from_fen(sum), Fen::from_fen(all));
        over(sum, all, s.round_share).then(|| {
            let message = format!(
                "收入中 {} 是 {} 元的整倍数（{} 笔）",
                share(sum, all),
                s.round_unit,
                round.len()
            );
            let listed = round.iter().take(10);
            let evidence = listed
                .map(|e| format!("{} {} {} 元", e.date.iso(), e.account.name_zh(), e.amount))
                .collect();
            (message, evidence)
        })
    }

    proptest::proptest! {
        /// Alerts from the sums, with the entries read only where the sums say, are the alerts
        /// from every entry; the round figures and December's share are as first computed from the
        /// entries themselves.
        #[test]
        fn alerts_from_sums_are_those_from_entries(
            rows in proptest::collection::vec((0u32..366, 0usize..12, 1i64..400, 0usize..6, proptest::bool::weighted(0.1)), 0..40),
            unit in proptest::sample::select(vec![-100i64, 0, 1, 3, 100, 200, 10_000, 50_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000_000, 100_000_000_000]),
            round_share in 0i64..=1_000_000,
            year_end_share in 0i64..=1_000_000,
            window in 0i64..90,
        ) {
            let scale = [1i64, 100, 10_000, 1_000_000, 3, 2_000_000];
            let start = Date::parse("2024-01-01").unwrap().day_number();
            let entries: Vec<EntryFact> = rows
                .iter()
                .map(|&(day, account, n, k, negative)| EntryFact {
                    date: Date::from_day_number(start + day as i64),
                    account: Account::ALL[account],
                    amount: Fen::from_fen(if negative { -n * scale[k] } else { n * scale[k] }),
                    voucher: Some(format!("记-{day}").into()),
                    reverses: None,
                })
                .collect();
            let s = AlertSettings {
                round_unit: Fen::from_fen(unit),
                round_share: Ppm::from_ppm(round_share),
                year_end_share: Ppm::from_ppm(year_end_share),
                pass_through_days: window,
                ..AlertSettings::default()
            };
            let t = totals(&entries);
            let sums = EntrySums::of(&entries);
            let year = |entries| VillageYear {
                village: "v",
                year: 2024,
                totals: &t,
                previous: None,
                sums: &sums,
                entries,
                grants: &[],
                bands: None,
                today: None,
            };
            let whole = village_alerts(&s, &year(Some(&entries))).unwrap();
            let read = sums.needs_entries(&s).then_some(&entries[..]);
            proptest::prop_assert_eq!(&village_alerts(&s, &year(read)).unwrap(), &whole);
            let round = whole
                .iter()
                .find(|a| a.kind == AlertKind::RoundFigures)
                .map(|a| (a.message.clone(), a.evidence.clone()));
            proptest::prop_assert_eq!(round, round_by_entries(&s, &entries));
            let operating = &Measure::standard()[1];
            let december: i64 = entries
                .iter()
                .filter(|e| e.date.month() == 12 && operating.coefficients[e.account.index()] != 0)
                .map(|e| e.amount.fen())
                .sum();
            proptest::prop_assert_eq!(sums.december_operating, Fen::from_fen(december));
            proptest::prop_assert_eq!(sums.answered, pass_through::any_amount_answered(&entries));
        }
    }

    #[test]
    fn pass_through_of_200000_entries_is_quick() {
        // Half incomes, half expenses of the same amounts a week later: every income is answered.
        // (The double loop took minutes for this; the sorted search takes well under a second.)
        let base = Date::parse("2024-01-01").unwrap().day_number();
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

#[cfg(test)]
mod key_tests {
    use super::AlertKind;

    #[test]
    fn keys_are_the_report_json_names_and_read_back() {
        for k in AlertKind::ALL {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.key())
            );
            assert_eq!(AlertKind::from_key(k.key()), Some(k));
        }
        assert_eq!(AlertKind::from_key("arrear"), None);
    }
}
