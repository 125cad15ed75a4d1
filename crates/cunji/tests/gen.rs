//! `cunji gen` writes files that import cleanly, with a correct region tree, and is reproducible.

mod common;

use common::Scratch;

#[test]
fn generated_books_import_and_are_reproducible() {
    let s = Scratch::new("gen");
    for out in ["a", "b"] {
        s.ok(&[
            "gen",
            "--villages",
            "120",
            "--years",
            "2023-2024",
            "--entries-per-month",
            "2",
            "--seed",
            "3",
            "--out",
            out,
        ]);
    }
    for f in [
        "regions.csv",
        "entries.csv",
        "cadres.csv",
        "grants.csv",
        "assets.csv",
        "contracts.csv",
        "installments.csv",
        "receipts.csv",
    ] {
        assert_eq!(
            std::fs::read(s.path("a").join(f)).unwrap(),
            std::fs::read(s.path("b").join(f)).unwrap(),
            "{f} differs"
        );
    }
    // Grants before the assets bought with them; contracts before the receipts naming them.
    for (k, f) in [
        ("regions", "regions"),
        ("entries", "entries"),
        ("cadres", "cadres"),
        ("grants", "grants"),
        ("assets", "assets"),
        ("contracts", "contracts"),
        ("installments", "installments"),
        ("entries", "receipts"),
    ] {
        let out = s.ok(&[
            "import",
            k,
            s.path("a").join(format!("{f}.csv")).to_str().unwrap(),
        ]);
        assert!(out.contains("已导入"), "{out}");
    }
    // About 5 assets and 3 contracts a village (SPEC §16, issue #35), exactly so for this seed.
    let rows = |f: &str| {
        std::fs::read_to_string(s.path("a").join(f))
            .unwrap()
            .lines()
            .count()
            - 1
    };
    assert_eq!(
        [
            rows("assets.csv"),
            rows("contracts.csv"),
            rows("installments.csv"),
            rows("receipts.csv")
        ],
        [618, 367, 288, 989]
    );
    let regions = std::fs::read_to_string(s.path("a/regions.csv")).unwrap();
    let villages: Vec<&str> = regions
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .filter(|c| !c.ends_with("000"))
        .collect();
    assert_eq!(villages.len(), 120);
    // Townships hold 10–30 villages (the last one may be cut short by --villages).
    let mut per_township = std::collections::BTreeMap::new();
    for v in &villages {
        *per_township.entry(&v[..9]).or_insert(0) += 1;
    }
    let counts: Vec<i32> = per_township.values().copied().collect();
    assert!(
        counts[..counts.len() - 1]
            .iter()
            .all(|n| (10..=30).contains(n)),
        "{counts:?}"
    );
    let p = s.write(
        "p.toml",
        std::fs::read_to_string(common::repo_root().join("policies/bands-national.toml")).unwrap(),
    );
    let json: serde_json::Value =
        serde_json::from_str(&s.report("2024", p.to_str().unwrap(), "json")).unwrap();
    assert_eq!(json["regions"][0]["with_data"], 120);
    // Some contracts in arrears, some expiring, some idle assets (on grants too), counted for this seed.
    let mut kinds = std::collections::BTreeMap::new();
    for a in json["alerts"].as_array().unwrap() {
        *kinds.entry(a["kind"].as_str().unwrap()).or_insert(0) += 1;
    }
    assert_eq!(
        (
            kinds["arrears"],
            kinds["expiring"],
            kinds["idle_asset"],
            kinds["below_peers"]
        ),
        (35, 37, 66, 1),
        "{kinds:?}"
    );
    let idle_grants = json["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "idle_asset" && a["evidence"].to_string().contains("GEN"))
        .count();
    assert!(idle_grants > 0, "no idle asset on a grant");
    let bad = s.cunji(&["gen", "--years", "2024", "--out", "c"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_register_gives_every_one_of_its_villages_unless_a_number_is_given() {
    let s = Scratch::new("gen-register");
    // 1,200 villages in 12 townships of one county: more than the 1,000 of the default without one.
    let mut register =
        String::from("code,name\n130000000000,河北省\n131100000000,衡水市\n131124000000,饶阳县\n");
    for t in 1..=12 {
        register.push_str(&format!("131124{t:03}000,第{t}镇\n"));
        for v in 1..=100 {
            register.push_str(&format!("131124{t:03}{v:03},第{t}镇第{v}村\n"));
        }
    }
    let file = s.write("register.csv", register);
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a = vec![
            "gen",
            "--regions",
            file.to_str().unwrap(),
            "--years",
            "2024-2024",
            "--entries-per-month",
            "1",
            "--out",
        ];
        a.extend(extra);
        a.into_iter().map(String::from).collect()
    };
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        String::from_utf8(s.cunji(&refs).stderr).unwrap()
    };
    let all = run(args(&["all"]));
    assert!(all.contains("已生成 1200 个村"), "{all}");
    let some = run(args(&["some", "--villages", "150"]));
    assert!(some.contains("已生成 150 个村"), "{some}");
    let regions = std::fs::read_to_string(s.path("all/regions.csv")).unwrap();
    let villages = regions.lines().skip(1).filter(|l| !l.contains("000,"));
    assert_eq!(villages.count(), 1200);
}
