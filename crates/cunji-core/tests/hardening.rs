//! Corners an independent check found: grants of merged villages, unknown ratings of cadres outside a
//! pool, and sums beyond 64 bits (SPEC §1, §6 step 8, §7 as amended).

mod common;

use common::{code, World};
use cunji_core::account::Account;
use cunji_core::cadre::Role;
use cunji_core::policy::Policy;
use cunji_core::region::Region;
use cunji_core::report::{build_report, ReportInput};
use cunji_core::subsidy::{Grant, SourceLevel};
use cunji_core::Fen;

fn try_report(w: &World, policy: &Policy, year: i32) -> Result<cunji_core::report::Report, String> {
    try_report_of(w, policy, year, None)
}

fn try_report_of(
    w: &World,
    policy: &Policy,
    year: i32,
    scope: Option<&cunji_core::region::RegionCode>,
) -> Result<cunji_core::report::Report, String> {
    build_report(
        policy,
        &ReportInput {
            year,
            regions: &w.regions,
            books: &w.books,
            cadres: &w.cadres,
            grants: &w.grants,
            project_actuals: &w.project_actuals,
            stats: &w.stats,
            entries: &w.entries,
            today: None,
            scope,
            distributions: &w.distributions,
            contracts: &w.contracts,
            kept_contracts: None,
        },
    )
    .map_err(|e| e.to_string())
}

fn grant(id: &str, village: &str, year: i32, yuan: i64) -> Grant {
    Grant {
        grant: id.into(),
        village: code(village),
        year,
        level: SourceLevel::Central,
        program: "项目".into(),
        amount: Fen::from_yuan_int(yuan).unwrap(),
        project: format!("P-{id}"),
        expected_rate: None,
    }
}

/// 001 (granted in 2021) is merged into 003 in 2023; 002 stands alone without grants.
fn merged_world() -> World {
    let mut w = World::with_villages("110101001", &["002"]);
    w.regions.insert(Region {
        code: code("110101001001"),
        name: "甲村".into(),
        predecessors: vec![],
        merged_in: None,
    });
    w.regions.insert(Region {
        code: code("110101001003"),
        name: "新村".into(),
        predecessors: vec![code("110101001001")],
        merged_in: Some(2023),
    });
    assert!(w.regions.check_merges().is_empty());
    for year in 2020..=2024 {
        let v = if year < 2023 {
            "110101001001"
        } else {
            "110101001003"
        };
        let base = 10_000 + 1_000 * (year as i64 - 2020);
        w.book(v, year, &[(Account::OperatingRevenue, &base.to_string())]);
        w.book(
            "110101001002",
            year,
            &[(
                Account::OperatingRevenue,
                &(20_000 + 500 * (year as i64 - 2020)).to_string(),
            )],
        );
    }
    // The successor also books a little of its own in 2022 (so it is listed then).
    w.book("110101001003", 2022, &[(Account::OperatingRevenue, "100")]);
    w.grants.push(grant("G1", "110101001001", 2021, 500_000));
    w
}

#[test]
fn a_predecessors_grant_counts_for_its_successor_only_from_the_merge_year() {
    let w = merged_world();
    let policy = Policy::parse("name = \"x\"\n").unwrap();
    // 2022: 001 (granted) and 003 (own entries) are both listed; only 001 is supported.
    let r = try_report(&w, &policy, 2022).unwrap();
    let listed: Vec<&str> = r.villages.iter().map(|v| v.code.as_str()).collect();
    assert_eq!(listed, ["110101001001", "110101001002", "110101001003"]);
    assert_eq!(r.subsidy_summary.supported_villages, 1);
    // Supported: 001's increase 12,000 − 11,000 = 1,000.00. Unsupported: 002's 500.00 and 003, which
    // has no data in 2021 (the merge is not in effect in 2022, so 001's books are not its own).
    assert_eq!(
        r.subsidy_summary.avg_increase_supported.map(|f| f.json()),
        Some("1000.00".into())
    );
    assert_eq!(
        r.subsidy_summary.avg_increase_unsupported.map(|f| f.json()),
        Some("500.00".into())
    );
    // 2023: the merge is in effect; 003 carries the grant, 001 is no longer listed.
    let r = try_report(&w, &policy, 2023).unwrap();
    assert_eq!(r.subsidy_summary.supported_villages, 1);
    // 003 in 2023: 13,000 against 2022's 12,000 (001) + 100 (its own) = 900.00.
    assert_eq!(
        r.subsidy_summary.avg_increase_supported.map(|f| f.json()),
        Some("900.00".into())
    );
}

#[test]
fn an_unknown_rating_fails_the_report_even_outside_a_pool() {
    let mut w = World::with_villages("110101001", &["001"]);
    w.book(
        "110101001001",
        2023,
        &[(Account::OperatingRevenue, "10000")],
    );
    w.book(
        "110101001001",
        2024,
        &[(Account::OperatingRevenue, "20000")],
    );
    w.cadre("110101001001", 2024, "P1", Role::Secretary, 12)
        .appraisal = Some("优秀".into());
    // A member takes no share (weight 0), but the rating is still checked.
    w.cadre("110101001001", 2024, "P2", Role::Member, 12)
        .appraisal = Some("良好".into());
    let policy = Policy::parse(
        "name = \"x\"\n[incentive]\nrate = \"10%\"\nappraisal = { \"优秀\" = 1, \"合格\" = 1 }\n",
    )
    .unwrap();
    let e = try_report(&w, &policy, 2024).unwrap_err();
    assert_eq!(
        e,
        "村 110101001001 的 P2（姓名P2）考核等次为“良好”，政策的 appraisal 表中没有这一等次"
    );
    // Without an appraisal table, ratings are not read.
    let plain = Policy::parse("name = \"x\"\n[incentive]\nrate = \"10%\"\n").unwrap();
    assert!(try_report(&w, &plain, 2024).is_ok());
}

#[test]
fn region_sums_beyond_64_bits_are_errors_not_wrapped_figures() {
    // Two townships of 999 villages, each village with six income accounts at the bound of a stored
    // total (10^15 fen): a township's total income (5.99 × 10^18 fen) fits in i64, the county's
    // (1.2 × 10^19) does not. It once wrapped to a negative figure.
    let villages: Vec<String> = (1..=999).map(|i| format!("{i:03}")).collect();
    let refs: Vec<&str> = villages.iter().map(|s| s.as_str()).collect();
    let mut w = World::with_villages("110101001", &refs);
    w.regions.insert(Region {
        code: code("110101002000"),
        name: "乙镇".into(),
        predecessors: vec![],
        merged_in: None,
    });
    for v in &villages {
        w.regions.insert(Region {
            code: code(&format!("110101002{v}")),
            name: format!("乙{v}"),
            predecessors: vec![],
            merged_in: None,
        });
    }
    let at_bound = "10000000000000";
    let incomes: Vec<(Account, &str)> = Account::ALL
        .iter()
        .filter(|a| a.is_income())
        .map(|a| (*a, at_bound))
        .collect();
    assert_eq!(incomes.len(), 6);
    for t in ["001", "002"] {
        for v in &villages {
            w.book(&format!("110101{t}{v}"), 2024, &incomes);
        }
    }
    let policy = Policy::parse("name = \"x\"\n").unwrap();
    let e = try_report(&w, &policy, 2024).unwrap_err();
    assert_eq!(
        e,
        "省（110000000000）的总收入合计超出可计算的范围（合计溢出），请检查是否有金额录错"
    );
    // One township alone fits: 999 × 6 × 10^13 yuan.
    let scoped = try_report_of(&w, &policy, 2024, Some(&code("110101001000"))).unwrap();
    let township = scoped
        .regions
        .iter()
        .find(|r| r.code.as_str() == "110101001000")
        .unwrap();
    assert_eq!(township.total_income.json(), "59940000000000000.00");
}

#[test]
fn grant_totals_beyond_the_bound_are_errors() {
    let mut w = World::with_villages("110101001", &["001"]);
    w.book("110101001001", 2024, &[(Account::OperatingRevenue, "1")]);
    w.grants
        .push(grant("G1", "110101001001", 2024, 6_000_000_000_000));
    w.grants
        .push(grant("G2", "110101001001", 2024, 6_000_000_000_000));
    let policy = Policy::parse("name = \"x\"\n").unwrap();
    let e = try_report(&w, &policy, 2024).unwrap_err();
    assert_eq!(
        e,
        "中央扶持资金合计超出可计算的范围（合计溢出），请检查是否有金额录错"
    );
}
