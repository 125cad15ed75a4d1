//! Pay floors (SPEC §12) with the Guizhou "345" policy file, on figures worked by hand in the comments.

mod common;

use common::{code, World};
use cunji_core::account::Account;
use cunji_core::cadre::Role;
use cunji_core::money::Fen;
use cunji_core::pay_floor::{by_township, FloorStatus, Tally};
use cunji_core::policy::Policy;

fn guizhou() -> Policy {
    let text = std::fs::read_to_string(format!(
        "{}/../../policies/guizhou.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    Policy::parse(&text).unwrap()
}

fn pay(w: &mut World, village: &str, person: &str, role: Role, months: u8, base: Option<&str>) {
    w.cadre(village, 2024, person, role, months).base_pay =
        base.map(|b| Fen::parse_yuan(b).unwrap());
}

/// The county's rural per-capita disposable income of a year (SPEC §12).
fn stat(w: &mut World, county: &str, year: i32, yuan: &str) {
    w.stats
        .insert((code(county), year), Fen::parse_yuan(yuan).unwrap());
}

#[test]
fn guizhou_345_on_a_worked_example() {
    // County 520102: rural income 2023 = 15,000.00 → 3 × = 45,000.00 (above the 40,000 minimum).
    //   P1 secretary, 12 months, 45,000.00: exactly at the floor, passes (not listed).
    //   P2 secretary, 12 months, 44,999.99: one fen below → shortfall 0.01.
    //   P4 secretary-director, 12 months, 48,000.00: the higher minimum 50,000 applies → shortfall 2,000.00.
    //   P5 director: not covered by Guizhou's rule (secretaries only), never listed.
    //   P6 secretary without base pay: unknown.
    // County 520103: rural income 2023 = 14,567.89 → 43,703.67; P3 secretary 7 months: 43,703.67 × 7/12 =
    //   25,493.8075 → 25,493.81; base 25,000.00 → shortfall 493.81.
    // County 520111: statistics for 2022 only; P7 secretary: unknown.
    let mut w = World::with_villages("520102001", &["001", "002"]);
    for (c, t) in [("520103001", "001"), ("520111001", "001")] {
        let mut other = World::with_villages(c, &[t]);
        for r in std::mem::take(&mut other.regions).iter() {
            w.regions.insert(r.clone());
        }
    }
    assert!(w.regions.check_merges().is_empty());
    for v in [
        "520102001001",
        "520102001002",
        "520103001001",
        "520111001001",
    ] {
        w.book(v, 2024, &[(Account::OperatingRevenue, "100000")]);
    }
    stat(&mut w, "520102000000", 2023, "15000");
    stat(&mut w, "520103000000", 2023, "14567.89");
    stat(&mut w, "520111000000", 2022, "14000");
    for (village, person, role, months, base) in [
        ("520102001001", "P1", Role::Secretary, 12, Some("45000")),
        ("520102001002", "P2", Role::Secretary, 12, Some("44999.99")),
        (
            "520102001002",
            "P4",
            Role::SecretaryDirector,
            12,
            Some("48000"),
        ),
        ("520102001002", "P5", Role::Director, 12, Some("1")),
        ("520102001001", "P6", Role::Secretary, 12, None),
        ("520103001001", "P3", Role::Secretary, 7, Some("25000")),
        ("520111001001", "P7", Role::Secretary, 12, Some("40000")),
    ] {
        pay(&mut w, village, person, role, months, base);
    }
    let report = w.report(&guizhou(), 2024);
    let lines = report
        .pay_floor
        .as_ref()
        .expect("a [pay_floor] policy lists pay floors");
    let got: Vec<(&str, FloorStatus, Option<String>, Option<String>)> = lines
        .iter()
        .map(|l| {
            (
                l.person.as_str(),
                l.status,
                l.floor.map(|f| f.json()),
                l.shortfall.map(|f| f.json()),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("P6", FloorStatus::Unknown, None, None),
            (
                "P2",
                FloorStatus::Below,
                Some("45000.00".into()),
                Some("0.01".into())
            ),
            (
                "P4",
                FloorStatus::Below,
                Some("50000.00".into()),
                Some("2000.00".into())
            ),
            (
                "P3",
                FloorStatus::Below,
                Some("25493.81".into()),
                Some("493.81".into())
            ),
            ("P7", FloorStatus::Unknown, None, None),
        ]
    );
    assert!(
        lines[3]
            .explanation
            .contains("14,567.89 元 × 3 = 43,703.67 元"),
        "{}",
        lines[3].explanation
    );
    assert!(
        lines[4].explanation.contains("缺少 2023 年"),
        "{}",
        lines[4].explanation
    );
    // The page's sums: in all, and by township (each village's own, in code order).
    let all = Tally::of(lines).unwrap();
    let shortfall = Fen::parse_yuan("2493.82").unwrap();
    assert_eq!((all.below, all.unknown, all.shortfall), (3, 2, shortfall));
    let by: Vec<(String, usize, usize, String)> = by_township(lines)
        .unwrap()
        .into_iter()
        .map(|(t, s)| (t.to_string(), s.below, s.unknown, s.shortfall.json()))
        .collect();
    assert_eq!(
        by,
        [
            ("520102001000".into(), 2, 1, "2000.01".into()),
            ("520103001000".into(), 1, 0, "493.81".into()),
            ("520111001000".into(), 0, 1, "0.00".into()),
        ]
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["pay_floor"][1]["shortfall"], "0.01");
    assert_eq!(json["pay_floor"][0]["status"], "unknown");
}

#[test]
fn the_minimum_wins_over_a_low_multiple_and_policies_without_floors_list_nothing() {
    // Rural income 13,333.33 × 3 = 39,999.99 < 40,000: the minimum applies; 39,999.99 is one fen short.
    let mut w = World::with_villages("520102001", &["001"]);
    w.book("520102001001", 2024, &[(Account::OperatingRevenue, "1")]);
    stat(&mut w, "520102000000", 2023, "13333.33");
    pay(
        &mut w,
        "520102001001",
        "P1",
        Role::Secretary,
        12,
        Some("39999.99"),
    );
    let r = w.report(&guizhou(), 2024);
    let l = &r.pay_floor.as_ref().unwrap()[0];
    assert_eq!(
        (l.floor.unwrap().json(), l.shortfall.unwrap().json()),
        ("40000.00".to_string(), "0.01".to_string())
    );
    let plain = Policy::parse("name = \"x\"\n").unwrap();
    let r = w.report(&plain, 2024);
    assert!(r.pay_floor.is_none());
    assert!(serde_json::to_value(&r).unwrap().get("pay_floor").is_none());
}

#[test]
fn pay_floor_sections_are_checked() {
    for (text, needle) in [
        ("name = \"x\"\n[pay_floor]\nminimum = 40000\n", "multiple"),
        ("name = \"x\"\n[pay_floor]\nmultiple = 3\n", "minimum"),
        (
            "name = \"x\"\n[pay_floor]\nmultiple = 11\nminimum = 1\n",
            "应在 0 与",
        ),
        (
            "name = \"x\"\n[pay_floor]\nmultiple = 3\nminimum = 1\nroles = [\"mayor\"]\n",
            "未知职务",
        ),
        (
            "name = \"x\"\n[pay_floor]\nmultiple = 3\nminimum = 1\nmaximum = 2\n",
            "未知的键",
        ),
        (
            "name = \"x\"\n[pay_floor]\nmultiple = 2.55\nminimum = 1.5\n",
            "浮点数",
        ),
    ] {
        let e = Policy::parse(text).unwrap_err().to_string();
        assert!(e.contains(needle), "{text}: {e}");
    }
    let p =
        Policy::parse("name = \"x\"\n[pay_floor]\nmultiple = \"2.5\"\nminimum = 30000\n").unwrap();
    let pf = p.pay_floor.unwrap();
    assert_eq!(pf.multiple.ppm(), 2_500_000);
    assert_eq!(pf.roles, cunji_core::pay_floor::PayFloor::default_roles());
}

#[test]
fn shortfalls_beyond_what_fen_hold_are_an_error_not_a_wrapped_sum() {
    let line = |person: &str, village: &str| cunji_core::pay_floor::FloorLine {
        person: person.into(),
        name: person.into(),
        village: code(village),
        role: Role::Secretary,
        months_in_post: 12,
        status: FloorStatus::Below,
        base_pay: Some(Fen::ZERO),
        floor: Some(Fen::from_fen(cunji_core::money::MAX_FEN)),
        shortfall: Some(Fen::from_fen(cunji_core::money::MAX_FEN)),
        explanation: String::new(),
    };
    let lines = [line("P1", "520102001001"), line("P2", "520102001002")];
    let e = Tally::of(&lines).unwrap_err().to_string();
    assert!(e.starts_with("报酬保障差额超出可计算的范围"), "{e}");
    assert!(by_township(&lines).is_err());
    // In two townships, each sum fits.
    let apart = [line("P1", "520102001001"), line("P2", "520102002001")];
    assert_eq!(by_township(&apart).unwrap().len(), 2);
}
