//! Every policy file the project ships (policies/*.toml and the fixtures' policy.toml) reads to the
//! Policy recorded in `snapshots/policy_files.txt`. The snapshot was written by the reader this one
//! replaced (#34), so a change in how a shipped file reads is seen here, not in a county's report.
//! After a deliberate change: `CUNJI_BLESS=1 cargo test -p cunji-core --test policy_files`.

use std::path::{Path, PathBuf};

use cunji_core::policy::Policy;

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

#[test]
fn every_shipped_policy_reads_as_recorded() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    toml_files(&root.join("policies"), &mut files);
    toml_files(&root.join("tests/fixtures"), &mut files);
    files.sort();
    assert!(files.len() >= 14, "policy files found: {files:?}");
    let mut seen = String::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let name = f.strip_prefix(&root).unwrap().display().to_string();
        let policy = Policy::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        seen.push_str(&format!("== {name}\n{policy:#?}\n"));
    }
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/policy_files.txt");
    if std::env::var_os("CUNJI_BLESS").is_some() {
        std::fs::write(&snapshot, &seen).unwrap();
    }
    let recorded = std::fs::read_to_string(&snapshot).unwrap();
    // Compared file by file, so that a difference names its file.
    let split = |s: &str| -> Vec<String> { s.split("== ").map(str::to_string).collect() };
    let (seen, recorded) = (split(&seen), split(&recorded));
    for (s, r) in seen.iter().zip(&recorded) {
        assert_eq!(s, r);
    }
    assert_eq!(seen.len(), recorded.len());
}
