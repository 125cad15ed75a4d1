//! The worked examples of SPEC.md (tests/fixtures/examples, copied from shared/examples): each is fed to
//! the real binary on an empty database and its JSON report must hold every expected field.

mod common;

use common::{fixture, subset_diffs, Scratch};

fn run_case(name: &str) {
    let dir = fixture(&format!("examples/{name}"));
    let commands = std::fs::read_to_string(dir.join("COMMANDS")).expect("COMMANDS");
    let year = commands
        .split("--year ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("a --year in COMMANDS")
        .to_string();
    let s = Scratch::new(name);
    // The imports as COMMANDS lists them, in its order (assets before the contracts on them,
    // contracts before their installments and the entries naming them).
    for command in commands.split(';').map(str::trim) {
        let words: Vec<&str> = command.split_whitespace().collect();
        if let ["cunji", "import", kind, file] = words.as_slice() {
            s.ok(&["import", kind, dir.join(file).to_str().unwrap()]);
        }
    }
    let policy = dir.join("policy.toml");
    let args = [
        "report",
        "--year",
        &year,
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
    ];
    let first = s.ok(&args);
    let actual: serde_json::Value = serde_json::from_str(&first).expect("report is JSON");
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let mut diffs = Vec::new();
    subset_diffs(&expected, &actual, "$", &mut diffs);
    assert!(diffs.is_empty(), "{name}: {}", diffs.join("\n"));

    // Every village evaluated with data carries a trace.
    for v in actual["villages"].as_array().unwrap() {
        let inc = &v["incentive"];
        if inc["reason"] != "no_data" {
            assert!(
                !inc["trace"].as_array().unwrap().is_empty(),
                "{name}: village {} has no trace",
                v["code"]
            );
        }
    }
    // The same database and arguments give the same bytes.
    assert_eq!(first, s.ok(&args), "{name}: report not byte-identical");
}

#[test]
fn case_176() {
    run_case("case-176");
}

#[test]
fn case_230() {
    run_case("case-230");
}

#[test]
fn case_240() {
    run_case("case-240");
}

#[test]
fn case_250() {
    run_case("case-250");
}

/// Contracts and the asset register (SPEC §16): step-ups, installments, partial and early payments,
/// receipts on and after the end day, and each contract alert at its boundary (see its README).
#[test]
fn contracts_2024() {
    run_case("contracts-2024");
}

/// Contracts at their other boundaries (see its README): a step-up every 2 years, a receipt exactly
/// one year after the end (the day after is refused), `below_peers` with 5 peers and none with 4, an
/// installment due on the report date, and the two band floors of the forecast; assets in GB18030.
#[test]
fn contracts_2025() {
    run_case("contracts-2025");
    // A receipt one day later than the last one the example holds is a row error.
    let dir = fixture("examples/contracts-2025");
    let s = Scratch::new("contracts-2025-late");
    for kind in ["regions", "grants", "assets", "contracts"] {
        s.ok(&[
            "import",
            kind,
            dir.join(format!("{kind}.csv")).to_str().unwrap(),
        ]);
    }
    let late = s.write(
        "late.csv",
        "village,date,account,amount,voucher,memo,project,contract\n130102001002,2025-07-01,contracting_income,1,,x,,C3\n",
    );
    let out = s.cunji(&["import", "entries", late.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("日期 2025-07-01 在合同 C3 终止（2024-06-30）一年以后"),
        "{err}"
    );
}
