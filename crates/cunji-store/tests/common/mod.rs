//! The database of a store test: SQLite, or PostgreSQL with `CUNJI_TEST_PG`.

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
