//! The table and CSV renderings of a report.

mod common;

use common::{fixture, Scratch};

fn case_250(s: &Scratch) -> String {
    let dir = fixture("examples/case-250");
    for kind in ["regions", "entries", "cadres", "grants"] {
        s.ok(&[
            "import",
            kind,
            dir.join(format!("{kind}.csv")).to_str().unwrap(),
        ]);
    }
    dir.join("policy.toml").display().to_string()
}

#[test]
fn table_shows_regions_targets_villages_and_grants() {
    let s = Scratch::new("table");
    let policy = case_250(&s);
    let out = s.ok(&["report", "--year", "2022", "--policy", &policy]);
    assert!(
        out.starts_with("村集 cunji 年度报告：2022 年　政策：随机案例 250"),
        "{out}"
    );
    // Region summary with band counts: the province has 4 / 2 / 1 villages in 5万以下 / 5–10万 / 10万以上.
    let province = out.lines().find(|l| l.starts_with("350000000000")).unwrap();
    let cells: Vec<&str> = province.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "350000000000",
            "某省",
            "省",
            "8",
            "7",
            "0",
            "4",
            "2",
            "1",
            "0.00",
            "0.00"
        ]
    );
    assert!(
        out.contains("10万以上占比  2022 年  14.29%  否（有村未报账）  ✘ 未达成"),
        "{out}"
    );
    assert!(out.contains("351301003001  村03001"), "{out}");
    assert!(out.contains("未报账"), "{out}");
    assert!(out.contains("G002      351301003003"), "{out}");
    assert!(out.contains("低于预期"), "{out}");
}

#[test]
fn csv_has_a_bom_chinese_headers_and_one_row_per_village() {
    let s = Scratch::new("csv");
    let policy = case_250(&s);
    let out_path = s.path("r.csv");
    s.ok(&[
        "report",
        "--year",
        "2022",
        "--policy",
        &policy,
        "--format",
        "csv",
        "--out",
        out_path.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&out_path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 9);
    assert!(lines[0].starts_with("年度,代码,村,有账,total_income,operating_income,operating_profit,net_income,cash_profit,分档"), "{}", lines[0]);
    assert!(
        lines[1].starts_with("2022,351301001001,村01001,是,84906.50,69275.05,57137.73,59901.10,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains(",5–10万,57137.73,7137.73,0.00,0.00,0.00,below_min_base,"),
        "{}",
        lines[1]
    );
}

#[test]
fn totals_lists_each_village_year_account_as_summed_from_the_entries() {
    let s = Scratch::new("totals");
    case_250(&s);
    let out = s.ok(&["totals"]);
    assert_eq!(
        out.lines().next(),
        Some("village,year,account,amount,entries")
    );
    // Recompute every line from the fixture's entries, in fen, and compare exactly.
    let text = std::fs::read_to_string(fixture("examples/case-250").join("entries.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |k: &str| header.iter().position(|h| *h == k).unwrap();
    let (v, d, a, m) = (col("village"), col("date"), col("account"), col("amount"));
    let mut want: std::collections::BTreeMap<(String, String, String), (i64, u32)> =
        Default::default();
    for l in lines.filter(|l| !l.trim().is_empty()) {
        let c: Vec<&str> = l.split(',').collect();
        let (whole, frac) = c[m]
            .trim_start_matches('-')
            .split_once('.')
            .unwrap_or((c[m].trim_start_matches('-'), "0"));
        let fen = whole.parse::<i64>().unwrap() * 100
            + format!("{frac:0<2}")[..2].parse::<i64>().unwrap();
        let fen = if c[m].starts_with('-') { -fen } else { fen };
        let t = want
            .entry((c[v].to_string(), c[d][..4].to_string(), c[a].to_string()))
            .or_default();
        t.0 += fen;
        t.1 += 1;
    }
    let got: Vec<String> = out.lines().skip(1).map(|l| l.to_string()).collect();
    let expected: Vec<String> = want
        .iter()
        .map(|((v, y, a), (fen, n))| {
            format!(
                "{v},{y},{a},{}{}.{:02},{n}",
                if *fen < 0 { "-" } else { "" },
                fen.abs() / 100,
                fen.abs() % 100
            )
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);
}

#[test]
fn a_report_of_one_region_is_the_whole_report_cut_to_that_region() {
    let s = Scratch::new("scoped");
    let policy = case_250(&s);
    let json = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "report", "--year", "2022", "--policy", &policy, "--format", "json",
        ];
        args.extend_from_slice(extra);
        serde_json::from_str(&s.ok(&args)).unwrap()
    };
    let whole = json(&[]);
    for (region, prefix) in [("351301003000", "351301003"), ("351301000000", "351301")] {
        let part = json(&["--region", region]);
        let cut = |key: &str, field: &str| -> Vec<serde_json::Value> {
            whole[key]
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| v[field].as_str().unwrap().starts_with(prefix))
                .cloned()
                .collect()
        };
        assert!(!cut("villages", "code").is_empty());
        assert_eq!(
            part["villages"].as_array().unwrap(),
            &cut("villages", "code")
        );
        assert_eq!(part["regions"].as_array().unwrap(), &cut("regions", "code"));
        assert_eq!(
            part["alerts"].as_array().unwrap(),
            &cut("alerts", "village")
        );
        assert_eq!(
            part["grants"].as_array().unwrap(),
            &cut("grants", "village")
        );
    }
}
