//! For the project's tests: the database a test runs on. One test story runs against either backend by
//! URL: SQLite in the test's directory, or, with `CUNJI_TEST_PG=postgres://user@host:port`, a fresh
//! database of its own on that server (made through `psql`, so that the server's own tools are what
//! creates it, as they are for an operator).

use std::path::Path;

/// The PostgreSQL server of `CUNJI_TEST_PG`, if the tests run against one.
pub fn postgres_server() -> Option<String> {
    std::env::var("CUNJI_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| u.trim_end_matches('/').to_string())
}

/// Runs SQL on the server's `postgres` database through psql; panics with psql's words if it fails.
pub fn pg_admin(base: &str, sql: &str) {
    let out = std::process::Command::new("psql")
        .arg(format!("{base}/postgres"))
        .args(["-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql (PostgreSQL client) is needed with CUNJI_TEST_PG");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh database for test `name` of suite `suite` (a short word that keeps suites apart on one
/// server): `sqlite://DIR/t.db`, or a new PostgreSQL database named after the process, suite and test.
pub fn database_url(dir: &Path, suite: &str, name: &str) -> String {
    let Some(base) = postgres_server() else {
        return format!("sqlite://{}", dir.join("t.db").display());
    };
    let db = format!(
        "cunji_{suite}_{}_{}",
        std::process::id(),
        name.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    pg_admin(&base, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    pg_admin(&base, &format!("CREATE DATABASE {db}"));
    format!("{base}/{db}")
}

/// Drops a test's PostgreSQL database, if `url` names one (a SQLite file goes with its directory).
pub fn drop_database(url: &str) {
    let (Some(base), Some((server, db))) = (postgres_server(), url.rsplit_once('/')) else {
        return;
    };
    if server == base {
        let _ = std::process::Command::new("psql")
            .arg(format!("{base}/postgres"))
            .args([
                "-qAt",
                "-c",
                &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            ])
            .output();
    }
}

/// A year's stored entry facts, parsed, village by village.
pub async fn facts_of(
    store: &crate::Store,
    year: i32,
) -> std::collections::BTreeMap<
    cunji_core::region::RegionCode,
    Vec<cunji_core::alerts::EntryFact<'static>>,
> {
    store
        .load_entry_facts(year)
        .await
        .expect("facts load")
        .parsed()
        .expect("facts parse")
}

/// Runs `sql` on the database at `url` directly, not through cunji: tests of what `check` finds
/// after an edit made behind cunji's back.
pub fn execute_directly(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .expect("connect");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&pool)
            .await
            .expect("run the SQL");
        pool.close().await;
    });
}
