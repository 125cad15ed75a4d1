//! The shipped policy files (policies/*.toml), each evaluated on a worked example whose figures were
//! computed by hand in the comments.

mod common;

use common::{awards, pool, reason, triple, village, World};
use cunji_core::account::Account::*;
use cunji_core::cadre::Role;
use cunji_core::policy::Policy;

fn policy(file: &str) -> Policy {
    let path = format!("{}/../../policies/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    Policy::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn hebei_ten_percent_of_growth() {
    // 经营性收入 2023: 100,000.00. 2024: 80,000.71 + 30,000.00 + 13,456.00 = 123,456.71; the 50,000 of
    // 补助收入 is not operating income. Growth 23,456.71 × 10% = 2,345.671 → pool 2,345.67 (234,567 fen).
    // Secretary P1 and director P2 weigh 1 each: 117,283.5 fen each; the odd fen goes to the smaller id.
    // The member weighs 0 under Hebei's rule.
    let v = "130102001001";
    let mut w = World::with_villages("130102001", &["001"]);
    w.book(v, 2023, &[(OperatingRevenue, "100000")]);
    w.book(
        v,
        2024,
        &[
            (OperatingRevenue, "80000.71"),
            (ContractingIncome, "30000"),
            (InvestmentIncome, "13456"),
            (SubsidyIncome, "50000"),
        ],
    );
    w.cadre(v, 2024, "P1", Role::Secretary, 12);
    w.cadre(v, 2024, "P2", Role::Director, 12);
    w.cadre(v, 2024, "P3", Role::Member, 12);
    let r = w.report(&policy("hebei.toml"), 2024);
    let vr = village(&r, v);
    assert_eq!(
        vr.incentive.as_ref().unwrap().base.unwrap().json(),
        "23456.71"
    );
    assert_eq!(pool(vr), "2345.67");
    assert_eq!(
        awards(vr),
        vec![
            triple("P1", "1172.84", "1172.84"),
            triple("P2", "1172.83", "1172.83")
        ]
    );
    assert_eq!(vr.band.as_deref(), Some("10万以上"));
    // Outside the policy's region (13), a village is not listed.
    let mut other = World::with_villages("410102001", &["001"]);
    other.book("410102001001", 2024, &[(OperatingRevenue, "1")]);
    assert!(other
        .report(&policy("hebei.toml"), 2024)
        .villages
        .is_empty());
}

#[test]
fn helan_whole_tiers_caps_and_months() {
    // 经营收益（现金）= 经营收入 + 发包 + 投资收益 − 经营支出. 2023: 150,000; 2024: 300,000 − 20,000 = 280,000.
    // Growth 130,000 falls in the 100,000 tier: the whole growth × 9% = 11,700.00 (cap 80,000 not reached).
    // Eligible: secretary S, director D, member M1 (member M2 has 4 months < 6). Weights 1 each: 3,900 each;
    // secretary and director may get at most 30% = 3,510.00, so they are fixed there and M1 takes the
    // remaining 11,700 − 7,020 = 4,680.00.
    let v = "640122001001";
    let mut w = World::with_villages("640122001", &["001"]);
    w.book(v, 2023, &[(OperatingRevenue, "150000")]);
    w.book(
        v,
        2024,
        &[(OperatingRevenue, "300000"), (OperatingCost, "20000")],
    );
    w.cadre(v, 2024, "D", Role::Director, 12);
    w.cadre(v, 2024, "M1", Role::Member, 12);
    w.cadre(v, 2024, "M2", Role::Member, 4);
    w.cadre(v, 2024, "S", Role::Secretary, 12);
    let r = w.report(&policy("helan.toml"), 2024);
    let vr = village(&r, v);
    assert_eq!(pool(vr), "11700.00");
    assert_eq!(
        awards(vr),
        vec![
            triple("D", "3510.00", "3510.00"),
            triple("M1", "4680.00", "4680.00"),
            triple("S", "3510.00", "3510.00")
        ]
    );
    assert_eq!(vr.incentive.as_ref().unwrap().unallocated.json(), "0.00");

    // Growth of 20,000 (< 30,000, the first tier): below_first_tier. Level 95,000 < 100,000: below_min_level.
    let mut w = World::with_villages("640122001", &["001"]);
    w.book(v, 2023, &[(OperatingRevenue, "180000")]);
    w.book(v, 2024, &[(OperatingRevenue, "200000")]);
    assert_eq!(
        reason(village(&w.report(&policy("helan.toml"), 2024), v)),
        Some("below_first_tier")
    );
    let mut w = World::with_villages("640122001", &["001"]);
    w.book(v, 2023, &[(OperatingRevenue, "10000")]);
    w.book(v, 2024, &[(OperatingRevenue, "95000")]);
    assert_eq!(
        reason(village(&w.report(&policy("helan.toml"), 2024), v)),
        Some("below_min_level")
    );
}

#[test]
fn ningxia_cap_and_exclusions() {
    // 经营收益 2023: 200,000; 2024: 1,500,000. Growth 1,300,000 × 10% = 130,000, capped at 100,000.
    // Eligible: SD (secretary-director) and M; M2 has 11 months (< 12), F is a first secretary (weight 0),
    // M3 is sanctioned. 50,000 each, but SD may get at most 30% = 30,000; M takes 70,000.
    let v = "640104001001";
    let mut w = World::with_villages("640104001", &["001"]);
    w.book(v, 2023, &[(OperatingRevenue, "200000")]);
    w.book(v, 2024, &[(OperatingRevenue, "1500000")]);
    w.cadre(v, 2024, "F", Role::FirstSecretary, 12);
    w.cadre(v, 2024, "M", Role::Member, 12);
    w.cadre(v, 2024, "M2", Role::Member, 11);
    w.cadre(v, 2024, "M3", Role::Member, 12).sanctioned = true;
    w.cadre(v, 2024, "SD", Role::SecretaryDirector, 12);
    let r = w.report(&policy("ningxia.toml"), 2024);
    let vr = village(&r, v);
    assert_eq!(pool(vr), "100000.00");
    assert_eq!(
        awards(vr),
        vec![
            triple("M", "70000.00", "70000.00"),
            triple("SD", "30000.00", "30000.00")
        ]
    );
    let trace = vr.incentive.as_ref().unwrap().trace.join("\n");
    assert!(trace.contains("受处分"), "{trace}");
    assert!(trace.contains("少于 12 个月"), "{trace}");

    // Growth 40,000 < 50,000: below_min_base.
    let mut w = World::with_villages("640104001", &["001"]);
    w.book(v, 2023, &[(OperatingRevenue, "200000")]);
    w.book(v, 2024, &[(OperatingRevenue, "240000")]);
    assert_eq!(
        reason(village(&w.report(&policy("ningxia.toml"), 2024), v)),
        Some("below_min_base")
    );
}

#[test]
fn xian_profit_above_fifty_thousand() {
    // Profit 350,000: the part above 50,000 is 300,000; the level 350,000 is in the 200,000 tier (20%):
    // 60,000.00. Profit 120,000: 70,000 × 15% = 10,500.00. Profit 40,000: 40,000 − 50,000 < 0, no_growth.
    let mut w = World::with_villages("610102001", &["001", "002", "003"]);
    w.book("610102001001", 2024, &[(OperatingRevenue, "350000")]);
    w.book("610102001002", 2024, &[(OperatingRevenue, "120000")]);
    w.book("610102001003", 2024, &[(OperatingRevenue, "40000")]);
    for v in ["610102001001", "610102001002"] {
        w.cadre(v, 2024, "A", Role::SecretaryDirector, 12);
        w.cadre(v, 2024, "B", Role::FirstSecretary, 12);
    }
    let r = w.report(&policy("xian.toml"), 2024);
    assert_eq!(pool(village(&r, "610102001001")), "60000.00");
    assert_eq!(
        awards(village(&r, "610102001001")),
        vec![triple("A", "60000.00", "60000.00")]
    );
    assert_eq!(pool(village(&r, "610102001002")), "10500.00");
    assert_eq!(reason(village(&r, "610102001003")), Some("no_growth"));
    assert_eq!(r.regions[0].incentive_total.json(), "70500.00");
}

#[test]
fn zhashui_caps_by_level_and_counts_subsidies_openly() {
    // Village 1: net income 2023 200,000; 2024 300,000 − 40,000 = 260,000 (of which 40,000 subsidy... the
    // subsidy is counted, as the rule says). Growth 60,000 × 20% = 12,000; level 260,000 is in the 100,000
    // tier whose cap is 30,000: pool 12,000.00.
    // Village 2: 100,000 → 400,000: 300,000 × 20% = 60,000; level 400,000 → cap 50,000: pool 50,000.00.
    // Village 3: 10,000 → 25,000: 15,000 × 20% = 3,000, but 25,000 is below the first cap tier (30,000).
    let mut w = World::with_villages("611026001", &["001", "002", "003"]);
    w.book("611026001001", 2023, &[(OperatingRevenue, "200000")]);
    w.book(
        "611026001001",
        2024,
        &[
            (OperatingRevenue, "260000"),
            (SubsidyIncome, "40000"),
            (AdminExpense, "40000"),
        ],
    );
    w.book("611026001002", 2023, &[(OperatingRevenue, "100000")]);
    w.book("611026001002", 2024, &[(OperatingRevenue, "400000")]);
    w.book("611026001003", 2023, &[(OperatingRevenue, "10000")]);
    w.book("611026001003", 2024, &[(OperatingRevenue, "25000")]);
    let r = w.report(&policy("zhashui.toml"), 2024);
    let v1 = village(&r, "611026001001");
    assert_eq!(pool(v1), "12000.00");
    assert!(v1
        .incentive
        .as_ref()
        .unwrap()
        .trace
        .iter()
        .any(|t| t.contains("计入补助收入")));
    assert_eq!(pool(village(&r, "611026001002")), "50000.00");
    assert_eq!(
        reason(village(&r, "611026001003")),
        Some("below_first_tier")
    );
}

#[test]
fn chenggu_level_with_appraisal() {
    // Profit 86,543.21 × 10% = 8,654.321 → pool 8,654.32. Secretary and director share 4,327.16 each.
    // The secretary is 基本合格 (50%): 2,163.58; the director 优秀 (100%): 4,327.16; 2,163.58 withheld.
    let v = "610722001001";
    let mut w = World::with_villages("610722001", &["001", "002"]);
    w.book(v, 2024, &[(OperatingRevenue, "86543.21")]);
    w.book("610722001002", 2024, &[(OperatingRevenue, "45000")]);
    w.cadre(v, 2024, "S", Role::Secretary, 12).appraisal = Some("基本合格".into());
    w.cadre(v, 2024, "D", Role::Director, 12).appraisal = Some("优秀".into());
    let r = w.report(&policy("chenggu.toml"), 2024);
    let vr = village(&r, v);
    assert_eq!(pool(vr), "8654.32");
    assert_eq!(
        awards(vr),
        vec![
            triple("D", "4327.16", "4327.16"),
            triple("S", "4327.16", "2163.58")
        ]
    );
    assert_eq!(vr.incentive.as_ref().unwrap().unallocated.json(), "2163.58");
    assert_eq!(reason(village(&r, "610722001002")), Some("below_min_level"));
}

#[test]
fn tongcheng_half_of_new_income_rounds_half_away() {
    // 80,000.00 → 93,333.33: 13,333.33 × 50% = 6,666.665 → 6,666.67 (四舍五入). Two people: 333,333.5 fen
    // each; the odd fen goes to the smaller id A.
    let v = "340881001001";
    let mut w = World::with_villages("340881001", &["001"]);
    w.book(v, 2023, &[(OperatingRevenue, "80000")]);
    w.book(v, 2024, &[(OperatingRevenue, "93333.33")]);
    w.cadre(v, 2024, "A", Role::Secretary, 12);
    w.cadre(v, 2024, "B", Role::Director, 12);
    let r = w.report(&policy("tongcheng.toml"), 2024);
    let vr = village(&r, v);
    assert_eq!(pool(vr), "6666.67");
    assert_eq!(
        awards(vr),
        vec![
            triple("A", "3333.34", "3333.34"),
            triple("B", "3333.33", "3333.33")
        ]
    );
}

#[test]
fn band_schemes() {
    // National: 0 → 空壳村, 0.01 → 5万以下, 49,999.99 → 5万以下, 50,000 → 5–10万, 100,000 → 10万以上.
    let national = policy("bands-national.toml");
    let scheme = national.bands.as_ref().unwrap();
    let name = |yuan: &str| {
        scheme.bands[scheme.band_of(cunji_core::Fen::parse_yuan(yuan).unwrap())]
            .name
            .clone()
    };
    assert_eq!(name("0"), "空壳村");
    assert_eq!(name("-5"), "空壳村");
    assert_eq!(name("0.01"), "5万以下");
    assert_eq!(name("49999.99"), "5万以下");
    assert_eq!(name("50000"), "5–10万");
    assert_eq!(name("100000"), "10万以上");
    assert!(national.incentive.is_none());
    // Hunan: 49,999.99 → 薄弱村, 50,000 → 一般村, 199,999.99 → 一般村, 200,000 → 富裕村.
    let hunan = policy("bands-hunan.toml");
    let scheme = hunan.bands.as_ref().unwrap();
    let name = |yuan: &str| {
        scheme.bands[scheme.band_of(cunji_core::Fen::parse_yuan(yuan).unwrap())]
            .name
            .clone()
    };
    assert_eq!(name("49999.99"), "薄弱村");
    assert_eq!(name("50000"), "一般村");
    assert_eq!(name("199999.99"), "一般村");
    assert_eq!(name("200000"), "富裕村");
}

#[test]
fn hebei_targets_on_a_township() {
    // Five villages with operating income 120,000 / 100,000 / 60,000 / 100,000 / 0.01: three of five (60%)
    // are 10万以上, which meets “≥ 60%” exactly; one is below 5万, so “清零” is not met.
    let mut w = World::with_villages("130102001", &["001", "002", "003", "004", "005"]);
    for (v, amount) in [
        ("001", "120000"),
        ("002", "100000"),
        ("003", "60000"),
        ("004", "100000"),
        ("005", "0.01"),
    ] {
        w.book(
            &format!("130102001{v}"),
            2022,
            &[(OperatingRevenue, amount)],
        );
    }
    let r = w.report(&policy("hebei.toml"), 2022);
    let township = r
        .regions
        .iter()
        .find(|x| x.code.as_str() == "130102001000")
        .unwrap();
    assert_eq!(township.targets[0].value.as_deref(), Some("60.00%"));
    assert!(township.targets[0].met);
    assert_eq!(township.targets[1].value.as_deref(), Some("1"));
    assert!(!township.targets[1].met);
    assert_eq!(township.bands.get("10万以上"), Some(&3));
}

#[test]
fn every_shipped_policy_parses() {
    let dir = format!("{}/../../policies", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            Policy::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 9, "only {n} policies");
}
