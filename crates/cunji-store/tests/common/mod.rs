//! The database of a store test: SQLite, or PostgreSQL with `CUNJI_TEST_PG`.
// Each test file uses some of these helpers.
#![allow(dead_code)]

use cunji_store::import::{ImportError, Quiet};
use cunji_store::{ImportKind, ImportOutcome, Store};

/// SQLite in `dir`, or a fresh database on the PostgreSQL server of `CUNJI_TEST_PG`.
pub fn test_url(dir: &std::path::Path, name: &str) -> String {
    match std::env::var("CUNJI_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(base) => {
            let base = base.trim_end_matches('/').to_string();
            let db = format!("cunji_s_{}_{}", std::process::id(), name.replace('-', "_"));
            for sql in [
                format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                format!("CREATE DATABASE {db}"),
            ] {
                let out = std::process::Command::new("psql")
                    .arg(format!("{base}/postgres"))
                    .args(["-qAt", "-v", "ON_ERROR_STOP=1", "-c", &sql])
                    .output()
                    .expect("psql");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            format!("{base}/{db}")
        }
        None => format!("sqlite://{}", dir.join("t.db").display()),
    }
}

/// A fresh store for test `name` holding the region register `regions`, with its address and its
/// directory (for the caller to remove).
pub async fn store_with(name: &str, regions: &str) -> (Store, String, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("cunji-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = test_url(&dir, name);
    let store = Store::open(&url, true).await.unwrap();
    import(&store, ImportKind::Regions, "r.csv", regions)
        .await
        .unwrap();
    (store, url, dir)
}

/// Imports `text` as file `file` of `kind`, by the user "test".
pub async fn import(
    store: &Store,
    kind: ImportKind,
    file: &str,
    text: &str,
) -> Result<ImportOutcome, ImportError> {
    store
        .import(kind, file, text.as_bytes(), "test", &Quiet)
        .await
}
