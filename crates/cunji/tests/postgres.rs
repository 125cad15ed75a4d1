//! PostgreSQL. The whole suite runs against a server when `CUNJI_TEST_PG=postgres://user@host:port`
//! names one (`.ci/run` runs it a second time so); without it every test runs on SQLite and this says
//! that PostgreSQL was skipped.

mod common;

#[test]
fn postgresql_urls_open_a_server_or_fail_clearly() {
    let s = common::Scratch::new("pg-url");
    match std::env::var("CUNJI_TEST_PG") {
        Ok(url) if !url.is_empty() => {
            eprintln!("this run uses PostgreSQL at {url}");
            assert!(s.db_url().starts_with("postgres"));
            let out = s.import("regions", "r.csv", "code,name\n130000000000,河北省\n");
            assert!(out.contains("已导入 区划 1 行"));
        }
        _ => eprintln!("PostgreSQL skipped: set CUNJI_TEST_PG=postgres://postgres@127.0.0.1:5432 to run the suite against a server"),
    }
    // A server that is not there is an error (exit 1), never a database created somewhere.
    let out = s.cunji(&["--db", "postgres://postgres@127.0.0.1:1/none", "audit"]);
    assert_eq!(out.status.code(), Some(1));
    // Said at once, naming the server (#32: it used to be sqlx's "pool timed out" after 30 s).
    assert!(String::from_utf8_lossy(&out.stderr).contains("无法连接 PostgreSQL 服务器 127.0.0.1:1"));
}
