//! Roles, sessions, CSRF, the login limiter and hashing bound, the audit log's scope, codes in paths.

use crate::common::{logins_at_once, server, Client};

#[tokio::test]
async fn each_role_sees_and_does_what_it_may() {
    let s = server("roles").await;
    // Not signed in: pages redirect to the login page; the API answers 401.
    let mut anon = Client::new(s.addr);
    assert_eq!(anon.get("/dashboard").await.status, 303);
    assert_eq!(anon.get("/api/report").await.status, 401);

    // The county admin sees the county and may close a year.
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let d = admin.get("/dashboard?year=2024").await;
    assert_eq!(d.status, 200);
    let t = d.text();
    assert!(
        t.contains("饶阳县 · 2024 年总览") && t.contains("饶阳镇") && t.contains("大尹村镇"),
        "{t}"
    );
    // 结账 says what it fixes (西关村 has one 2023 entry) and asks for the tick that the books were
    // checked; without it nothing is closed.
    let page = admin.get("/village/131124100201?year=2023").await.text();
    assert!(
        page.contains("结账将固定 2023 年的 1 笔分录及其各科目合计"),
        "{page}"
    );
    let r = admin
        .post_form("/village/131124100201/close", &[("year", "2023")], true)
        .await;
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().contains("err="));
    assert!(!s.store.is_closed("131124100201", 2023).await.unwrap());
    let r = admin
        .post_form(
            "/village/131124100201/close",
            &[("year", "2023"), ("confirm", "yes")],
            true,
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(s.store.is_closed("131124100201", 2023).await.unwrap());
    // 重新开账 says what it will do and asks first: without the tick the year stays closed.
    let page = admin.get("/village/131124100201?year=2023").await.text();
    assert!(
        page.contains("重新开账后，2023 年可以再记账和冲销")
            && page.contains("id=\"confirm-reopen\""),
        "{page}"
    );
    let reopen = [("year", "2023"), ("reason", "补记漏记的租金")];
    let r = admin
        .post_form("/village/131124100201/reopen", &reopen, true)
        .await;
    assert!(r.header("location").unwrap().contains("err="));
    assert!(s.store.is_closed("131124100201", 2023).await.unwrap());
    let mut confirmed = reopen.to_vec();
    confirmed.push(("confirm", "yes"));
    let r = admin
        .post_form("/village/131124100201/reopen", &confirmed, true)
        .await;
    assert!(r.header("location").unwrap().contains("msg="));
    assert!(!s.store.is_closed("131124100201", 2023).await.unwrap());
    admin
        .post_form(
            "/village/131124100201/close",
            &[("year", "2023"), ("confirm", "yes")],
            true,
        )
        .await;

    // A township officer reads their township, not another one's village, and may not close years.
    let mut town = Client::signed_in(s.addr, "town").await;
    assert_eq!(
        town.get("/village/131124100200?year=2024").await.status,
        200
    );
    let other = town.get("/village/131124101200?year=2024").await;
    assert_eq!(other.status, 403);
    assert!(
        other.text().contains("不能查看 131124101200"),
        "{}",
        other.text()
    );
    assert_eq!(town.get("/dashboard?region=131124101000").await.status, 403);
    assert_eq!(
        town.get("/api/villages/131124101200?year=2024")
            .await
            .status,
        403
    );
    let r = town
        .post_form(
            "/village/131124100200/close",
            &[("year", "2024"), ("confirm", "yes")],
            true,
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(!s.store.is_closed("131124100200", 2024).await.unwrap());
    let r = town
        .post_form(
            "/village/131124101200/entries",
            &[
                ("date", "2024-05-01"),
                ("account", "other_income"),
                ("amount", "1"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, 403);

    // A village accountant lands on their own village and may record entries there only.
    let mut acct = Client::signed_in(s.addr, "acct").await;
    let d = acct.get("/dashboard").await;
    assert_eq!(d.status, 303);
    assert_eq!(
        d.header("location"),
        Some("/village/131124100200?year=2024")
    );
    assert_eq!(acct.get("/village/131124100201").await.status, 403);
    let r = acct
        .post_entry(
            &[
                ("date", "2024-05-01"),
                ("account", "other_income"),
                ("amount", "12.50"),
                ("memo", "利息"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(
        r.header("location").unwrap().contains("msg="),
        "{:?}",
        r.header("location")
    );

    // The auditor reads everything and changes nothing.
    let mut audit = Client::signed_in(s.addr, "audit").await;
    assert_eq!(
        audit.get("/village/131124101200?year=2024").await.status,
        200
    );
    let a = audit.get("/audit").await;
    assert!(
        a.text().contains("<td>录入凭证</td>") && a.text().contains("<td>结账</td>"),
        "{}",
        a.text()
    );
    let r = audit.post_entry(&other_income("1"), true).await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("审计人员只能查看"));
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() {
    let s = server("csrf").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let r = admin.post_entry(&other_income("99"), false).await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("CSRF"));
    let wrong = admin
        .request(
            "POST",
            "/village/131124100200/close",
            Some("application/x-www-form-urlencoded"),
            b"year=2024&_csrf=0000",
            &[],
        )
        .await;
    assert_eq!(wrong.status, 403);
    assert!(!s.store.is_closed("131124100200", 2024).await.unwrap());
    // The API wants the token in a header.
    let body =
        br#"{"village":"131124100200","date":"2024-06-01","account":"other_income","amount":"5"}"#;
    let r = admin
        .request("POST", "/api/entries", Some("application/json"), body, &[])
        .await;
    assert_eq!(r.status, 403);
    let token = admin.csrf.clone().unwrap();
    let r = admin
        .request(
            "POST",
            "/api/entries",
            Some("application/json"),
            body,
            &[("X-CSRF-Token", &token)],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.text().contains("\"voucher\""));
    // A login form needs the token of its own page.
    let mut c = Client::new(s.addr);
    let r = c
        .request(
            "POST",
            "/login",
            Some("application/x-www-form-urlencoded"),
            b"username=admin&password=test-password",
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(s.entries_2024().await == 2);
}

#[tokio::test]
async fn logins_are_rate_limited() {
    let s = server("ratelimit").await;
    let mut c = Client::new(s.addr);
    for _ in 0..5 {
        let r = c.attempt_login("admin", "wrong-password").await;
        assert_eq!(r.status, 401);
    }
    let r = c.attempt_login("admin", crate::common::PASSWORD).await;
    assert_eq!(r.status, 429);
}

#[tokio::test]
async fn concurrent_logins_hash_at_most_one_password_per_core() {
    let s = server("login-flood").await;
    let statuses = logins_at_once(s.addr, 100, |i| (format!("nobody{i}"), "x".to_string())).await;
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
    let statuses = logins_at_once(s.addr, 20, |_| ("admin".to_string(), "guess".to_string())).await;
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
    let r = here.attempt_login("admin", crate::common::PASSWORD).await;
    assert_eq!(r.status, 429);
    assert!(r.text().contains("请 15 分钟后再试"), "{}", r.text());
    // … but the user signs in from another computer, and another user from the same one.
    let mut elsewhere = Client::from_address(s.addr, "127.0.0.2");
    elsewhere.login("admin").await;
    let _colleague = Client::signed_in(s.addr, "town").await;
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
async fn the_audit_log_is_read_within_each_users_scope() {
    let s = server("audit-scope").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
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
            t.contains("<td>添加用户</td>"),
        )
    };
    let mut acct = Client::signed_in(s.addr, "acct").await;
    assert_eq!(seen(&acct.get("/audit").await.text()), (true, false, false));
    let mut town = Client::signed_in(s.addr, "town").await;
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
    let mut auditor = Client::signed_in(s.addr, "audit").await;
    assert_eq!(
        seen(&auditor.get("/audit").await.text()),
        (true, true, true)
    );
    assert_eq!(seen(&admin.get("/audit").await.text()), (true, true, true));
    // In Chinese, the object always the village by name and code; filters by kind, village, who and
    // date; the export holds the same rows.
    let east = admin
        .get("/audit?kind=entry&village=%E4%B8%9C%E5%85%B3%E6%9D%91") // 东关村
        .await
        .text();
    assert!(
        east.contains("<td>录入凭证</td><td>东关村（131124100200）</td>"),
        "{east}"
    );
    assert_eq!(seen(&east), (true, false, false));
    let by_town = admin.get("/audit?who=town").await.text();
    assert!(by_town.contains("西关的备忘") && !by_town.contains("东关的备忘"));
    let old = admin
        .get("/audit?from=2000-01-01&to=2000-01-02")
        .await
        .text();
    assert!(old.contains("没有符合条件的记录"), "{old}");
    let none = admin
        .get("/audit?village=%E6%97%A0%E6%AD%A4%E6%9D%91")
        .await
        .text(); // 无此村
    assert!(none.contains("没有名为“无此村”的村或乡镇"), "{none}");
    let csv = admin.get("/audit.csv?kind=entry").await;
    assert_eq!(csv.status, 200);
    let text = String::from_utf8(csv.body.clone()).unwrap();
    assert!(
        text.starts_with("\u{feff}编号,时间,操作人,操作,对象,内容\r\n"),
        "{text}"
    );
    assert_eq!(text.matches("录入凭证").count(), 3, "{text}");
    assert!(text.contains("东关村（131124100200）") && text.contains("大迁民的备忘"));
    let town_csv = String::from_utf8(town.get("/audit.csv").await.body.clone()).unwrap();
    assert!(town_csv.contains("西关的备忘") && !town_csv.contains("大迁民的备忘"));
}

#[tokio::test]
async fn bad_codes_in_paths_are_refused_before_any_write_and_no_database_text_is_shown() {
    let s = server("bad-codes").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let before = s.entries_2024().await;
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
    assert_eq!(s.entries_2024().await, before);
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

#[tokio::test]
async fn script_in_data_is_escaped_on_pages() {
    let s = server("escape").await;
    use cunji_store::import::Quiet;
    s.store
        .import(cunji_store::ImportKind::Entries, "x.csv", "village,date,account,amount,memo\n131124100200,2024-06-01,other_income,1,<script>alert(1)</script>\n".as_bytes(), "test", &Quiet)
        .await
        .unwrap();
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let t = admin.get("/village/131124100200?year=2024").await.text();
    assert!(
        t.contains("&#60;script&#62;alert(1)") && !t.contains("<script>alert"),
        "{t}"
    );
}

/// The fields of a small 其他收入 entry of 2024-05-01.
fn other_income(amount: &str) -> [(&str, &str); 3] {
    [
        ("date", "2024-05-01"),
        ("account", "other_income"),
        ("amount", amount),
    ]
}

/// Issue #32 item 7: the login form's CSRF cookie is signed by the server, so a cookie set by
/// someone else (with a form token to match) is refused.
#[tokio::test]
async fn the_login_forms_csrf_cookie_is_signed() {
    let s = crate::common::server("login-cookie").await;
    let mut c = crate::common::Client::new(s.addr);
    c.get("/login").await;
    let issued = c
        .cookies
        .get(cunji_web::auth::LOGIN_CSRF_COOKIE)
        .cloned()
        .unwrap();
    let token = c.csrf.clone().unwrap();
    assert!(issued.starts_with(&format!("{token}.")), "{issued}");
    // A planted cookie and a form token to match: refused before the password is looked at.
    let mut forged = crate::common::Client::new(s.addr);
    forged
        .cookies
        .insert(cunji_web::auth::LOGIN_CSRF_COOKIE.into(), "planted".into());
    forged.csrf = Some("planted".into());
    let fields = [("username", "admin"), ("password", crate::common::PASSWORD)];
    let r = forged.post_form("/login", &fields, true).await;
    assert_eq!(r.status, 403, "{}", r.text());
    // Another signature on the real token: refused too.
    forged.cookies.insert(
        cunji_web::auth::LOGIN_CSRF_COOKIE.into(),
        format!("{token}.{}", "0".repeat(64)),
    );
    forged.csrf = Some(token.clone());
    assert_eq!(forged.post_form("/login", &fields, true).await.status, 403);
    // The server's own pair signs in.
    let r = c.post_form("/login", &fields, true).await;
    assert_eq!(r.status, 303, "{}", r.text());
}
