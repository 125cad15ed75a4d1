//! Helpers for tests that run the real `cunji` binary on a fresh database.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh directory (and database) of its own for one test, removed when dropped. With
/// `CUNJI_TEST_PG=postgres://user@host:port` the database is a fresh PostgreSQL database on that server;
/// otherwise a SQLite file in the directory.
pub struct Scratch {
    pub dir: PathBuf,
    url: String,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("cunji-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        let url = cunji_store::testing::database_url(&dir, "t", &format!("{n}_{name}"));
        Scratch { dir, url }
    }

    pub fn db_url(&self) -> String {
        self.url.clone()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, bytes).expect("write fixture");
        p
    }

    /// Runs `cunji ARGS` on this scratch database.
    pub fn cunji(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cunji"))
            .args(args)
            .env("CUNJI_DB", self.db_url())
            .env("CUNJI_USER", "test")
            .current_dir(&self.dir)
            .output()
            .expect("run cunji")
    }

    /// Writes `text` as file `name` and imports it as `kind`, which must succeed; the output.
    pub fn import(&self, kind: &str, name: &str, text: impl AsRef<[u8]>) -> String {
        let path = self.write(name, text);
        self.ok(&["import", kind, path.to_str().expect("utf-8 path")])
    }

    /// `cunji report --year YEAR --policy POLICY --format FORMAT`, which must succeed.
    pub fn report(&self, year: &str, policy: &str, format: &str) -> String {
        self.ok(&[
            "report", "--year", year, "--policy", policy, "--format", format,
        ])
    }

    /// `cunji ARGS` run under `/usr/bin/time`: its output and its peak resident memory in KiB, or
    /// `None` where the machine has no `/usr/bin/time`.
    pub fn cunji_measured(&self, args: &[&str]) -> Option<(Output, u64)> {
        let time = Path::new("/usr/bin/time");
        if !time.exists() {
            eprintln!("/usr/bin/time is missing: memory not measured");
            return None;
        }
        let report = self.path("time.txt");
        let out = Command::new(time)
            .args(["-f", "%M", "-o"])
            .arg(&report)
            .arg(env!("CARGO_BIN_EXE_cunji"))
            .args(args)
            .env("CUNJI_DB", self.db_url())
            .env("CUNJI_USER", "test")
            .current_dir(&self.dir)
            .output()
            .expect("run cunji under /usr/bin/time");
        let text = std::fs::read_to_string(&report).expect("time's report");
        let kib = text.lines().last()?.trim().parse().ok()?;
        Some((out, kib))
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cunji(args);
        assert!(
            out.status.success(),
            "cunji {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        cunji_store::testing::drop_database(&self.url);
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(rel)
}

/// Every field of `expected` must be in `actual` with the same value (extra fields are fine).
pub fn subset_diffs(
    expected: &serde_json::Value,
    actual: &serde_json::Value,
    path: &str,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                match a.get(k) {
                    None => out.push(format!("{path}.{k}: missing")),
                    Some(av) => subset_diffs(v, av, &format!("{path}.{k}"), out),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                out.push(format!(
                    "{path}: expected {} items, got {}",
                    e.len(),
                    a.len()
                ));
                return;
            }
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                subset_diffs(x, y, &format!("{path}[{i}]"), out);
            }
        }
        (e, a) if e == a => {}
        (e, a) => out.push(format!("{path}: expected {e}, got {a}")),
    }
}
