//! Runs the browser tests (tests/browser, node's test runner with playwright-core) in Debian's headless
//! Chromium against the real binary. Where Chromium, node or the test's node modules are missing, the
//! test says so and is skipped — except under CI, where that is a failure (`.ci/run` installs them).

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn browser_tests_in_headless_chromium() {
    if std::env::var("CUNJI_TEST_PG").is_ok_and(|u| !u.is_empty()) {
        eprintln!("browser tests run once, on SQLite (the demo's database); skipped in the PostgreSQL pass");
        return;
    }
    let root = common::repo_root();
    let dir = root.join("tests/browser");
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing: Vec<String> = [
        (
            Path::new(&chromium).exists(),
            format!("Chromium ({chromium})"),
        ),
        (
            Command::new("node").arg("--version").output().is_ok(),
            "node".to_string(),
        ),
        (
            dir.join("node_modules/playwright-core").exists(),
            "tests/browser/node_modules (npm ci --prefix tests/browser)".to_string(),
        ),
    ]
    .into_iter()
    .filter(|(ok, _)| !ok)
    .map(|(_, what)| what)
    .collect();
    if !missing.is_empty() {
        let msg = format!("browser tests skipped: missing {}", missing.join(", "));
        assert!(std::env::var("CI").is_err(), "{msg}");
        eprintln!("{msg}");
        return;
    }
    let out = Command::new("node")
        .arg("--test")
        .arg("--test-reporter=spec")
        .arg(dir.join("web.test.mjs"))
        .env("CUNJI_BIN", env!("CARGO_BIN_EXE_cunji"))
        .env("SCREENSHOT_DIR", root.join("target/screenshots"))
        .env("CHROMIUM_PATH", &chromium)
        .current_dir(&dir)
        .output()
        .expect("run node");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{report}");
    assert!(out.status.success(), "browser tests failed:\n{report}");
    for shot in ["dashboard.png", "village.png", "public-phone.png"] {
        assert!(
            root.join("target/screenshots").join(shot).exists(),
            "{shot} not saved"
        );
    }
}
