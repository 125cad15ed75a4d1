//! What one user or a stranger does may not stop the server, read what is not theirs, or show a
//! database's own words (issue #13). Each test runs on a real server, on SQLite, and on PostgreSQL
//! with `CUNJI_TEST_PG`.

mod common;

use common::{server, Client};
use cunji_store::import::Quiet;
use cunji_store::ImportKind;

#[tokio::test]
async fn a_village_of_200000_entries_reports_in_seconds_and_the_server_keeps_answering() {
    let s = server("big-village").await;
    // 200,000 entries of one village: each income refunded a week later (pass-through pairs), the
    // case whose alert once compared every entry with every other.
    let mut csv = String::from("village,date,account,amount\n");
    for k in 0..100_000u32 {
        let day = 1 + k % 28;
        let month = 1 + (k / 28) % 11;
        let yuan = 100 + k;
        csv.push_str(&format!(
            "131124100201,2024-{month:02}-{day:02},operating_revenue,{yuan}\n131124100201,2024-{month:02}-{:02},operating_cost,{yuan}\n",
            day.min(21) + 7
        ));
    }
    s.store
        .import(
            ImportKind::Entries,
            "big.csv",
            csv.as_bytes(),
            "test",
            &Quiet,
        )
        .await
        .unwrap();
    let mut town = Client::new(s.addr);
    town.login("town").await;
    let addr = s.addr;
    let page = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let r = town.get("/village/131124100201?year=2024").await;
        (r, started.elapsed())
    });
    // While the report is built, health checks and public pages answer.
    let mut anon = Client::new(addr);
    for _ in 0..3 {
        assert_eq!(anon.get("/healthz").await.status, 200);
        assert_eq!(anon.get("/public/").await.status, 200);
    }
    let (r, took) = tokio::time::timeout(std::time::Duration::from_secs(120), page)
        .await
        .expect("the page of a large village is built in seconds, not minutes")
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    // Pass-through alert with 100,000 pairs; the page lists the latest 1,000 entries and says so.
    assert!(
        t.contains("100000 笔收入在 60 天内被同额支出或红字冲回"),
        "{took:?}"
    );
    assert!(
        t.contains("本年共 200001 笔分录，这里列出最近的 1000 笔"),
        "{took:?}"
    );
    assert_eq!(t.matches("data-entry=").count(), 1_000);
}

#[tokio::test]
async fn concurrent_logins_hash_at_most_one_password_per_core() {
    let s = server("login-flood").await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let addr = s.addr;
        tasks.push(tokio::spawn(async move {
            let mut c = Client::new(addr);
            c.get("/login").await;
            let name = format!("nobody{i}");
            c.post_form("/login", &[("username", &name), ("password", "x")], true)
                .await
                .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    // Each is refused as a wrong password (401) or, past the wait for a permit, as busy (503).
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 503),
        "{statuses:?}"
    );
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    assert!(s.state.hashing.peak() >= 1);
    assert!(
        s.state.hashing.peak() <= cores,
        "{} hashes at once on {cores} cores",
        s.state.hashing.peak()
    );
    // Each hash ran in working memory kept for it: at most one 19 MiB block per core was made.
    assert!(s.state.hashing.memories() <= cores);
    assert!(s.state.hashing.memories() >= 1);
}

#[tokio::test]
async fn concurrent_guesses_are_counted_before_hashing_and_lock_out_only_that_address() {
    let s = server("guesses").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let addr = s.addr;
        tasks.push(tokio::spawn(async move {
            let mut c = Client::new(addr);
            c.get("/login").await;
            c.post_form(
                "/login",
                &[("username", "admin"), ("password", "guess")],
                true,
            )
            .await
            .status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    // Five guesses are tried; every other one is refused before its password is hashed.
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        15,
        "{statuses:?}"
    );
    // The right password from the guessing address is refused for now …
    let mut here = Client::new(s.addr);
    here.get("/login").await;
    let r = here
        .post_form(
            "/login",
            &[("username", "admin"), ("password", common::PASSWORD)],
            true,
        )
        .await;
    assert_eq!(r.status, 429);
    assert!(r.text().contains("请 15 分钟后再试"), "{}", r.text());
    // … but the user signs in from another computer, and another user from the same one.
    let mut elsewhere = Client::from_address(s.addr, "127.0.0.2");
    elsewhere.login("admin").await;
    let mut colleague = Client::new(s.addr);
    colleague.login("town").await;
    // A user name of 20,000 characters is kept as 64 at most.
    let mut c = Client::new(s.addr);
    c.get("/login").await;
    let long = "名".repeat(20_000);
    let r = c
        .post_form("/login", &[("username", &long), ("password", "x")], true)
        .await;
    assert_eq!(r.status, 401);
    assert!(s.state.limiter.len() <= 4);
}

#[tokio::test]
async fn years_outside_the_books_range_are_refused_and_the_year_cache_is_bounded() {
    let s = server("years").await;
    let mut admin = Client::new(s.addr);
    admin.login("admin").await;
    let loads = s.state.data_loads();
    for year in ["0", "-5", "2147483647", "1899", "3000"] {
        let r = admin.get(&format!("/dashboard?year={year}")).await;
        assert_eq!(r.status, 404, "year {year}");
        assert!(r.text().contains("年度应在 1900–2999 之间"), "{}", r.text());
    }
    assert_eq!(s.state.data_loads(), loads, "no year's data was read");
    for year in 2000..2020 {
        let r = admin.get(&format!("/dashboard?year={year}")).await;
        assert_eq!(r.status, 200, "year {year}");
    }
    assert!(s.state.years_cached() <= 6, "{}", s.state.years_cached());
}

#[tokio::test]
async fn the_audit_log_is_read_within_each_users_scope() {
    let s = server("audit-scope").await;
    let mut admin = Client::new(s.addr);
    admin.login("admin").await;
    for (village, memo) in [
        ("131124100200", "东关的备忘"),
        ("131124101200", "大迁民的备忘"),
    ] {
        admin.get(&format!("/village/{village}?year=2024")).await;
        let r = admin
            .post_form(
                &format!("/village/{village}/entries"),
                &[
                    ("date", "2024-05-01"),
                    ("account", "operating_revenue"),
                    ("amount", "10"),
                    ("memo", memo),
                ],
                true,
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text());
    }
    let seen = |t: &str| {
        (
            t.contains("东关的备忘"),
            t.contains("大迁民的备忘"),
            t.contains("user_add"),
        )
    };
    let mut acct = Client::new(s.addr);
    acct.login("acct").await;
    assert_eq!(seen(&acct.get("/audit").await.text()), (true, false, false));
    let mut town = Client::new(s.addr);
    town.login("town").await;
    assert_eq!(seen(&town.get("/audit").await.text()), (true, false, false));
    // A township officer sees its own actions, whatever they concern.
    town.get("/village/131124100201?year=2024").await;
    town.post_form(
        "/village/131124100201/entries",
        &[
            ("date", "2024-05-02"),
            ("account", "operating_revenue"),
            ("amount", "1"),
            ("memo", "西关的备忘"),
        ],
        true,
    )
    .await;
    assert!(town.get("/audit").await.text().contains("西关的备忘"));
    assert!(!acct.get("/audit").await.text().contains("西关的备忘"));
    let mut auditor = Client::new(s.addr);
    auditor.login("audit").await;
    assert_eq!(
        seen(&auditor.get("/audit").await.text()),
        (true, true, true)
    );
    assert_eq!(seen(&admin.get("/audit").await.text()), (true, true, true));
}

#[tokio::test]
async fn bad_codes_in_paths_are_refused_before_any_write_and_no_database_text_is_shown() {
    let s = server("bad-codes").await;
    let mut admin = Client::new(s.addr);
    admin.login("admin").await;
    let before = s
        .store
        .entries_of("131124100200", 2024)
        .await
        .unwrap()
        .len();
    for path in [
        "/village/131124100200%0D%0A/entries",
        "/village/%20131124100200/entries",
        "/village/131124100200%20/entries",
    ] {
        let r = admin
            .post_form(
                path,
                &[
                    ("date", "2024-05-01"),
                    ("account", "operating_revenue"),
                    ("amount", "10"),
                ],
                true,
            )
            .await;
        assert_eq!(r.status, 400, "{path}: {}", r.text());
        assert!(r.text().contains("应为 12 位数字"), "{}", r.text());
    }
    assert_eq!(
        s.store
            .entries_of("131124100200", 2024)
            .await
            .unwrap()
            .len(),
        before
    );
    for path in [
        "/village/%20131124100200/close",
        "/village/131124100200%0A/reopen",
    ] {
        let r = admin
            .post_form(
                path,
                &[("year", "2023"), ("reason", "补记漏记的租金")],
                true,
            )
            .await;
        assert_eq!(r.status, 400, "{path}");
        let t = r.text();
        assert!(
            !t.contains("FOREIGN KEY") && !t.contains("constraint") && !t.contains("数据库错误"),
            "{t}"
        );
    }
    for path in [
        "/village/%20131124100200",
        "/workflow/131124100200%0D%0A/2024",
        "/api/villages/131124100200%20",
    ] {
        assert_eq!(admin.get(path).await.status, 400, "{path}");
    }
}
