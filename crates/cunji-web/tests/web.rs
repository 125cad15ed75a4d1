//! The web application through HTTP, on a real server and database: roles, scopes, CSRF, data entry,
//! the reward workflow, public pages with their QR codes, imports, the what-if page and the API.

mod common;

use common::{server, Client, POLICY};

#[tokio::test]
async fn each_role_sees_and_does_what_it_may() {
    let s = server("roles").await;
    // Not signed in: pages redirect to the login page; the API answers 401.
    let mut anon = Client::new(s.addr);
    assert_eq!(anon.get("/dashboard").await.status, 303);
    assert_eq!(anon.get("/api/report").await.status, 401);

    // The county admin sees the county and may close a year.
    let mut admin = Client::new(s.addr);
    admin.login("admin").await;
    let d = admin.get("/dashboard?year=2024").await;
    assert_eq!(d.status, 200);
    let t = d.text();
    assert!(
        t.contains("饶阳县 · 2024 年总览") && t.contains("饶阳镇") && t.contains("大尹村镇"),
        "{t}"
    );
    let r = admin
        .post_form("/village/131124100201/close", &[("year", "2023")], true)
        .await;
    assert_eq!(r.status, 303);
    assert!(s.store.is_closed("131124100201", 2023).await.unwrap());

    // A township officer reads their township, not another one's village, and may not close years.
    let mut town = Client::new(s.addr);
    town.login("town").await;
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
        .post_form("/village/131124100200/close", &[("year", "2024")], true)
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
    let mut acct = Client::new(s.addr);
    acct.login("acct").await;
    let d = acct.get("/dashboard").await;
    assert_eq!(d.status, 303);
    assert_eq!(
        d.header("location"),
        Some("/village/131124100200?year=2024")
    );
    assert_eq!(acct.get("/village/131124100201").await.status, 403);
    let r = acct
        .post_form(
            "/village/131124100200/entries",
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
    let mut audit = Client::new(s.addr);
    audit.login("audit").await;
    assert_eq!(
        audit.get("/village/131124101200?year=2024").await.status,
        200
    );
    let a = audit.get("/audit").await;
    assert!(
        a.text().contains("entry_add") && a.text().contains("close_year"),
        "{}",
        a.text()
    );
    let r = audit
        .post_form(
            "/village/131124100200/entries",
            &[
                ("date", "2024-05-01"),
                ("account", "other_income"),
                ("amount", "1"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("审计人员只能查看"));
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() {
    let s = server("csrf").await;
    let mut admin = Client::new(s.addr);
    admin.login("admin").await;
    let r = admin
        .post_form(
            "/village/131124100200/entries",
            &[
                ("date", "2024-05-01"),
                ("account", "other_income"),
                ("amount", "99"),
            ],
            false,
        )
        .await;
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
    assert!(
        s.store
            .entries_of("131124100200", 2024)
            .await
            .unwrap()
            .len()
            == 2
    );
}

fn stat(html: &str, id: &str) -> String {
    let i = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no {id}"));
    let rest = &html[i..];
    rest[rest.find('>').unwrap() + 1..rest.find('<').unwrap()].to_string()
}

#[tokio::test]
async fn entries_and_reversals_change_the_dashboard() {
    let s = server("entries").await;
    let mut town = Client::new(s.addr);
    town.login("town").await;
    let before = stat(
        &town.get("/dashboard?year=2024").await.text(),
        "stat-operating-income",
    );
    assert_eq!(before, "19.00 万元");
    town.get("/village/131124100200?year=2024").await;
    let r = town
        .post_form(
            "/village/131124100200/entries",
            &[
                ("date", "2024-06-30"),
                ("account", "经营收入"),
                ("amount", "10,000"),
                ("memo", "新增租金"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        stat(
            &town.get("/dashboard?year=2024").await.text(),
            "stat-operating-income"
        ),
        "20.00 万元"
    );
    // A bad entry is refused with the reason, and nothing is stored.
    let r = town
        .post_form(
            "/village/131124100200/entries",
            &[
                ("date", "2024-02-30"),
                ("account", "经营收入"),
                ("amount", "1"),
            ],
            true,
        )
        .await;
    let loc = r.header("location").unwrap().to_string();
    assert!(loc.contains("err="), "{loc}");
    let page = town.get(&loc).await.text();
    assert!(page.contains("日期 `2024-02-30` 不存在"), "{page}");
    // Reverse the new entry with a reason: the dashboard goes back.
    let entries = s.store.entries_of("131124100200", 2024).await.unwrap();
    let new = entries.iter().find(|e| e.memo == "新增租金").unwrap();
    let r = town
        .post_form(
            &format!("/entries/{}/reverse", new.id),
            &[("date", "2024-07-01"), ("reason", "重复记账")],
            true,
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        stat(
            &town.get("/dashboard?year=2024").await.text(),
            "stat-operating-income"
        ),
        "19.00 万元"
    );
    let page = town.get("/village/131124100200?year=2024").await.text();
    assert!(
        page.contains("冲销：重复记账") && page.contains("已被 2024:网-"),
        "{page}"
    );
    // Reversing twice is refused.
    let r = town
        .post_form(
            &format!("/entries/{}/reverse", new.id),
            &[("date", "2024-07-02"), ("reason", "再冲")],
            true,
        )
        .await;
    assert!(r.header("location").unwrap().contains("err="));
}

#[tokio::test]
async fn the_reward_workflow_walks_to_published_and_no_step_is_skipped() {
    let s = server("workflow").await;
    let mut town = Client::new(s.addr);
    town.login("town").await;
    let mut admin = Client::new(s.addr);
    admin.login("admin").await;
    let base = "/workflow/131124100200/2024";
    // Growth 50,000 × 10% = 5,000.00, split between secretary P1 and director P2.
    let r = town.post_form(&format!("{base}/compute"), &[], true).await;
    assert_eq!(r.status, 303);
    let p = s
        .store
        .proposal("131124100200", 2024)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.pool, 500_000);
    assert_eq!(
        p.awards.iter().map(|a| a.computed).collect::<Vec<_>>(),
        vec![250_000, 250_000]
    );
    // Filing before the village resolution and township approval is refused.
    let r = admin
        .post_form(&format!("{base}/file"), &[("note", "x")], true)
        .await;
    assert!(r.header("location").unwrap().contains("err="));
    // A decided amount above the computed one is refused.
    let fields = |p1: &'static str| {
        vec![
            ("proposed", "2025-01-06"),
            ("discussed", "2025-01-08"),
            ("reviewed", "2025-01-10"),
            ("decided", "2025-01-12"),
            ("votes_for", "31"),
            ("votes_against", "0"),
            ("votes_abstain", "2"),
            ("documents", "会议记录.pdf"),
            ("decided_P1", p1),
            ("decided_P2", "2000.00"),
        ]
    };
    let r = town
        .post_form(&format!("{base}/resolve"), &fields("2600.00"), true)
        .await;
    let loc = r.header("location").unwrap().to_string();
    assert!(loc.contains("err="), "{loc}");
    let r = town
        .post_form(&format!("{base}/resolve"), &fields("2500.00"), true)
        .await;
    assert!(
        r.header("location").unwrap().contains("msg="),
        "{:?}",
        r.header("location")
    );
    // Only the county files; the officer cannot.
    assert_eq!(
        town.post_form(&format!("{base}/file"), &[], true)
            .await
            .status,
        403
    );
    town.post_form(&format!("{base}/approve"), &[("note", "同意")], true)
        .await;
    admin
        .post_form(
            &format!("{base}/file"),
            &[("note", "饶农备〔2025〕3号")],
            true,
        )
        .await;
    town.post_form(&format!("{base}/pay"), &[("note", "转账")], true)
        .await;
    town.post_form(&format!("{base}/publish"), &[("note", "公示 10 天")], true)
        .await;
    let p = s
        .store
        .proposal("131124100200", 2024)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status, cunji_store::Status::Published);
    let steps: Vec<&str> = p.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "computed",
            "resolved",
            "township_approved",
            "county_filed",
            "paid",
            "published"
        ]
    );
    assert_eq!(p.steps[3].actor, "admin");
    // The public page shows the decided amounts and the explanation.
    let mut anon = Client::new(s.addr);
    let page = anon.get("/public/village/131124100200").await.text();
    assert!(
        page.contains("张建国") && page.contains("2,500.00") && page.contains("2,000.00"),
        "{page}"
    );
    assert!(page.contains("基数（basis = increase"), "{page}");
}

#[tokio::test]
async fn new_figures_send_an_unpaid_proposal_back() {
    let s = server("sendback").await;
    let mut town = Client::new(s.addr);
    town.login("town").await;
    town.post_form("/workflow/131124100200/2024/compute", &[], true)
        .await;
    let mut acct = Client::new(s.addr);
    acct.login("acct").await;
    acct.post_form(
        "/village/131124100200/entries",
        &[
            ("date", "2023-12-31"),
            ("account", "operating_revenue"),
            ("amount", "1000"),
        ],
        true,
    )
    .await;
    let p = s
        .store
        .proposal("131124100200", 2024)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status, cunji_store::Status::Stale);
    assert!(p.steps.last().unwrap().detail.contains("退回重新计算"));
    // Recomputed on the new figures: growth 49,000 → 4,900.00.
    town.post_form("/workflow/131124100200/2024/compute", &[], true)
        .await;
    let p = s
        .store
        .proposal("131124100200", 2024)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((p.status, p.pool), (cunji_store::Status::Computed, 490_000));
}

#[tokio::test]
async fn public_pages_work_at_phone_width_with_their_qr_codes() {
    let s = server("public").await;
    let mut anon = Client::new(s.addr);
    let index = anon.get("/public/").await;
    assert_eq!(index.status, 200);
    assert!(index.text().contains("/public/village/131124100200"));
    let page = anon.get("/public/village/131124100200").await;
    assert_eq!(page.status, 200);
    let t = page.text();
    assert!(
        t.contains("name=\"viewport\" content=\"width=device-width") && t.contains("<svg"),
        "{t}"
    );
    assert!(t.contains(&format!("http://{}/public/village/131124100200", s.addr)));
    let svg = anon.get("/public/village/131124100200/qr.svg").await;
    assert_eq!(
        svg.header("content-type"),
        Some("image/svg+xml; charset=utf-8")
    );
    let png = anon.get("/public/village/131124100200/qr.png").await;
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert!(png.body.starts_with(b"\x89PNG"));
    let notice = anon.get("/public/village/131124100200/notice").await.text();
    assert!(
        notice.contains("size: A4") && notice.contains("东关村村务公开"),
        "{notice}"
    );
    assert_eq!(anon.get("/public/village/131124100299").await.status, 404);
    assert_eq!(
        anon.get("/public/village/131124100000/qr.svg").await.status,
        404
    );
}

#[tokio::test]
async fn web_imports_are_all_or_nothing_and_scoped() {
    let s = server("import").await;
    let mut town = Client::new(s.addr);
    town.login("town").await;
    let token = town.csrf.clone().unwrap();
    let multipart_with = |token: &str, csv: &str| {
        let b = "XBOUNDARYX";
        format!("--{b}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n--{b}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nentries\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{b}--\r\n")
    };
    let multipart = |csv: &str| multipart_with(&token, csv);
    let bad = multipart("village,date,account,amount\n131124100200,2024-01-01,operating_revenue,5\n131124100200,2024-01-01,operating_revenue,abc\n131124101200,2024-01-01,operating_revenue,5\n");
    let r = town
        .request(
            "POST",
            "/import",
            Some("multipart/form-data; boundary=XBOUNDARYX"),
            bad.as_bytes(),
            &[],
        )
        .await;
    let t = r.text();
    assert!(
        t.contains("import-errors") && t.contains("金额格式不对") && t.contains("不在您的管辖范围"),
        "{t}"
    );
    assert_eq!(
        s.store
            .entries_of("131124100200", 2024)
            .await
            .unwrap()
            .len(),
        1
    );
    let good =
        multipart("village,date,account,amount\n131124100200,2024-01-01,operating_revenue,5\n");
    let r = town
        .request(
            "POST",
            "/import",
            Some("multipart/form-data; boundary=XBOUNDARYX"),
            good.as_bytes(),
            &[],
        )
        .await;
    assert!(r.text().contains("已导入账目 1 行"), "{}", r.text());
    // The token travels in the body, never in the address: a wrong one, or one only in the address,
    // is refused and nothing is stored.
    let wrong = multipart_with(
        "bad",
        "village,date,account,amount\n131124100200,2024-01-02,operating_revenue,7\n",
    );
    let r = town
        .request(
            "POST",
            "/import",
            Some("multipart/form-data; boundary=XBOUNDARYX"),
            wrong.as_bytes(),
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    let b = "XBOUNDARYX";
    let no_body_token = format!("--{b}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nentries\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"e.csv\"\r\nContent-Type: text/csv\r\n\r\nvillage,date,account,amount\n131124100200,2024-01-02,operating_revenue,7\r\n--{b}--\r\n");
    let r = town
        .request(
            "POST",
            &format!("/import?_csrf={token}"),
            Some("multipart/form-data; boundary=XBOUNDARYX"),
            no_body_token.as_bytes(),
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        s.store
            .entries_of("131124100200", 2024)
            .await
            .unwrap()
            .len(),
        2
    );
    // The form sends the token as its first field, not in the address.
    let form = town.get("/import").await.text();
    assert!(
        form.contains(r#"action="/import" enctype="multipart/form-data">"#)
            && form.contains(&format!(
                r#"<input type="hidden" name="_csrf" value="{token}">"#
            ))
            && !form.contains("_csrf="),
        "{form}"
    );
    // A file of 3,000 bad rows: the page lists the first 1,000 and says how many there are.
    let mut many = String::from("village,date,account,amount\n");
    for _ in 0..3_000 {
        many.push_str("131124100200,2024-01-01,operating_revenue,abc\n");
    }
    let r = town
        .request(
            "POST",
            "/import",
            Some("multipart/form-data; boundary=XBOUNDARYX"),
            multipart(&many).as_bytes(),
            &[],
        )
        .await;
    let t = r.text();
    assert!(
        t.contains("共 3000 处错误，下面列出前 1000 处")
            && t.contains("3000 处错误，本文件未导入任何数据"),
        "{t}"
    );
    assert_eq!(t.matches("金额格式不对").count(), 1_000);
}

#[tokio::test]
async fn what_if_compares_both_plans_and_the_admin_saves() {
    let s = server("whatif").await;
    let mut admin = Client::new(s.addr);
    admin.login("admin").await;
    // Current 10%: 东关村 5,000.00 + 大迁民村 4,000.00 = 9,000.00. At 20%, capped at 8,000 a village:
    // 8,000.00 + 8,000.00 = 16,000.00.
    let r = admin
        .get("/policy/whatif?year=2024&rate=20%25&cap=8000")
        .await;
    let t = r.text();
    assert_eq!(stat(&t, "total-before"), "9,000.00");
    assert_eq!(stat(&t, "total-after"), "16,000.00");
    let i = t.find("name=\"source\"").unwrap();
    let source = &t[t[i..].find('>').unwrap() + i + 1..];
    let source = source[..source.find("</textarea>").unwrap()]
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
        .replace("&#37;", "%")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'");
    let r = admin
        .post_form("/policy", &[("source", &source)], true)
        .await;
    assert!(
        r.header("location").unwrap().contains("msg="),
        "{:?} {source}",
        r.header("location")
    );
    let rules = admin.get("/policy").await.text();
    assert!(
        rules.contains("计提：基数 × 20%（不高于）")
            && rules.contains("封顶：每村不超过 8,000.00 元"),
        "{rules}"
    );
    let mut town = Client::new(s.addr);
    town.login("town").await;
    assert_eq!(
        town.post_form("/policy", &[("source", "name = \"x\"")], true)
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn logins_are_rate_limited() {
    let s = server("ratelimit").await;
    let mut c = Client::new(s.addr);
    for _ in 0..5 {
        c.get("/login").await;
        let r = c
            .post_form(
                "/login",
                &[("username", "admin"), ("password", "wrong-password")],
                true,
            )
            .await;
        assert_eq!(r.status, 401);
    }
    c.get("/login").await;
    let r = c
        .post_form(
            "/login",
            &[("username", "admin"), ("password", common::PASSWORD)],
            true,
        )
        .await;
    assert_eq!(r.status, 429);
}

#[tokio::test]
async fn the_api_and_its_description() {
    let s = server("api").await;
    let mut c = Client::new(s.addr);
    let doc: serde_json::Value =
        serde_json::from_slice(&c.get("/api/openapi.json").await.body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for p in [
        "/api/report",
        "/api/entries",
        "/api/entries/{id}/reverse",
        "/api/villages/{code}",
        "/api/proposals/{code}/{year}",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
    c.login("town").await;
    let report: serde_json::Value =
        serde_json::from_slice(&c.get("/api/report?year=2024").await.body).unwrap();
    assert_eq!(report["regions"][0]["code"], "131124100000");
    assert_eq!(report["villages"].as_array().unwrap().len(), 2);
    assert_eq!(report["villages"][0]["incentive"]["pool"], "5000.00");
    let session: serde_json::Value =
        serde_json::from_slice(&c.get("/api/session").await.body).unwrap();
    let token = session["csrf"].as_str().unwrap().to_string();
    let r = c.request("POST", "/api/entries", Some("application/json"), br#"{"village":"131124100200","date":"2024-13-01","account":"other_income","amount":"5"}"#, &[("X-CSRF-Token", &token)]).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("不存在"));
    let health = c.get("/healthz").await;
    assert_eq!(health.status, 200);
}

#[tokio::test]
async fn the_pay_floor_page_lists_shortfalls() {
    let s = server("payfloor").await;
    use cunji_store::import::Quiet;
    use cunji_store::ImportKind;
    s.store
        .import(
            ImportKind::Stats,
            "s.csv",
            b"region,year,rural_income\n131124000000,2023,15000\n",
            "test",
            &Quiet,
        )
        .await
        .unwrap();
    s.store
        .import(ImportKind::Cadres, "c2.csv", "village,year,person,name,role,base_pay\n131124100200,2024,P1,张建国,secretary,44999.99\n131124100200,2024,P2,李秀英,director,45000\n131124101200,2024,P3,王志强,secretary_director,\n".as_bytes(), "test", &Quiet)
        .await
        .unwrap();
    s.store
        .save_policy(
            "保障",
            "name = \"保障\"\n[pay_floor]\nmultiple = 3\nminimum = 40000\n",
            false,
            "test",
        )
        .await
        .unwrap();
    let mut admin = Client::new(s.addr);
    admin.login("admin").await;
    let t = admin.get("/payfloor?year=2024").await.text();
    // 3 × 15,000 = 45,000: P1 is one fen short, P2 passes, P3 has no base pay.
    assert_eq!(stat(&t, "below"), "1 人");
    assert_eq!(stat(&t, "unknown"), "1 人");
    assert!(
        t.contains("44,999.99") && t.contains("0.01") && t.contains("未登记基本报酬"),
        "{t}"
    );
    let mut town = Client::new(s.addr);
    town.login("town").await;
    let t = town.get("/payfloor?year=2024").await.text();
    assert_eq!(
        stat(&t, "unknown"),
        "0 人",
        "the officer sees only their township"
    );
}

#[tokio::test]
async fn templates_and_report_workbooks_download() {
    let s = server("downloads").await;
    let mut town = Client::new(s.addr);
    town.login("town").await;
    let t = town.get("/templates/cadres.xlsx").await;
    assert_eq!(t.status, 200);
    assert_eq!(
        t.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert!(t.body.starts_with(b"PK"));
    assert_eq!(town.get("/templates/nothing.xlsx").await.status, 404);
    let r = town.get("/report.xlsx?year=2024").await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-disposition")
        .unwrap()
        .contains("cunji-131124100000-2024.xlsx"));
    assert_eq!(
        town.get("/report.xlsx?year=2024&region=131124101000")
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn alerts_show_on_the_dashboard_and_the_village_page() {
    let s = server("alerts").await;
    use cunji_store::import::Quiet;
    // Rent booked in March and refunded in April: pass-through; it is also most of the year's income in
    // whole 10,000s.
    s.store
        .import(cunji_store::ImportKind::Entries, "pt.csv", b"village,date,account,amount,voucher\n131124100201,2024-03-10,contracting_income,30000,V1\n131124100201,2024-04-01,other_expense,30000,V2\n", "test", &Quiet)
        .await
        .unwrap();
    let mut admin = Client::new(s.addr);
    admin.login("admin").await;
    let t = admin.get("/dashboard?year=2024").await.text();
    assert!(
        t.contains("疑似过账")
            && t.contains("30,000.00 元（凭证 V1）↔ 2024-04-01 其他支出 30,000.00 元（凭证 V2）"),
        "{t}"
    );
    let v = admin.get("/village/131124100201?year=2024").await.text();
    assert!(v.contains("id=\"alerts\"") && v.contains("疑似过账"), "{v}");
    let api: serde_json::Value =
        serde_json::from_slice(&admin.get("/api/report?year=2024").await.body).unwrap();
    assert!(api["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["kind"] == "pass_through" && a["village"] == "131124100201"));
}

#[tokio::test]
async fn script_in_data_is_escaped_on_pages() {
    let s = server("escape").await;
    use cunji_store::import::Quiet;
    s.store
        .import(cunji_store::ImportKind::Entries, "x.csv", "village,date,account,amount,memo\n131124100200,2024-06-01,other_income,1,<script>alert(1)</script>\n".as_bytes(), "test", &Quiet)
        .await
        .unwrap();
    let mut admin = Client::new(s.addr);
    admin.login("admin").await;
    let t = admin.get("/village/131124100200?year=2024").await.text();
    assert!(
        t.contains("&#60;script&#62;alert(1)") && !t.contains("<script>alert"),
        "{t}"
    );
}

#[tokio::test]
async fn a_user_without_a_scope_lands_on_the_policys_region_and_the_region_list_stays_short() {
    let s = server("landing").await;
    let mut admin = Client::new(s.addr);
    admin.login("admin").await;
    // Under the test policy (no region) the first county opens.
    let page = admin.get("/dashboard?year=2024").await.text();
    assert!(page.contains("饶阳县 2024 年总览"), "{page}");
    // A policy of the province still opens on the county, which it covers.
    let province = POLICY.replace(
        "name = \"测试政策\"",
        "name = \"河北政策\"\nregion = \"13\"",
    );
    s.store
        .save_policy("河北政策", &province, true, "test")
        .await
        .unwrap();
    let page = admin.get("/dashboard?year=2024").await.text();
    assert!(page.contains("饶阳县 2024 年总览"), "{page}");
    // A policy of one township does not cover the county: its own dashboard opens instead.
    let policy = POLICY.replace(
        "name = \"测试政策\"",
        "name = \"饶阳镇政策\"\nregion = \"131124100\"",
    );
    s.store
        .save_policy("饶阳镇政策", &policy, true, "test")
        .await
        .unwrap();
    let page = admin.get("/dashboard?year=2024").await.text();
    assert!(page.contains("饶阳镇 2024 年总览"), "{page}");
    // The region list holds the way up and the township itself, not the other township.
    assert!(page.contains("value=\"131124000000\""), "{page}");
    assert!(page.contains("value=\"131124100000\""), "{page}");
    assert!(!page.contains("value=\"131124101000\""), "{page}");
}

#[tokio::test]
async fn a_large_register_is_opened_region_by_region_on_the_public_page() {
    let s = server("public-regions").await;
    // A second county of 1,100 villages in two townships: more than one page holds.
    let mut regions =
        String::from("code,name\n131125000000,安平县\n131125100000,安平镇\n131125101000,马店镇\n");
    for i in 0..1_100 {
        let township = if i < 550 { "100" } else { "101" };
        regions.push_str(&format!("131125{township}{:03},安平{i}村\n", 200 + i % 550));
    }
    s.store
        .import(
            cunji_store::ImportKind::Regions,
            "r2.csv",
            regions.as_bytes(),
            "test",
            &cunji_store::import::Quiet,
        )
        .await
        .unwrap();
    let mut anon = Client::new(s.addr);
    // One province and one city: the page opens on the level that divides them, the counties.
    let top = anon.get("/public/").await.text();
    assert!(
        top.contains("<a href=\"/public/?region=131124000000\">饶阳县</a> <span class=\"muted\">3 个村</span>"),
        "{top}"
    );
    assert!(
        top.contains("<a href=\"/public/?region=131125000000\">安平县</a> <span class=\"muted\">1100 个村</span>"),
        "{top}"
    );
    assert!(!top.contains("/public/village/"), "{top}");
    // A county of 1,100 villages: its townships.
    let county = anon.get("/public/?region=131125000000").await.text();
    assert!(
        county.contains("安平镇</a> <span class=\"muted\">550 个村</span>"),
        "{county}"
    );
    assert!(
        county.contains("马店镇</a> <span class=\"muted\">550 个村</span>"),
        "{county}"
    );
    assert!(
        county.contains("<a href=\"/public/?region=130000000000\">河北省</a>"),
        "{county}"
    );
    // A township, and a small county: their villages, as on a small register.
    let township = anon.get("/public/?region=131125101000").await.text();
    assert_eq!(township.matches("/public/village/131125101").count(), 550);
    let small = anon.get("/public/?region=131124000000").await.text();
    assert!(small.contains("/public/village/131124100200"), "{small}");
    assert!(!small.contains("/public/village/131125"), "{small}");
    // Unknown or malformed regions are not found.
    assert_eq!(anon.get("/public/?region=131199000000").await.status, 404);
    assert_eq!(anon.get("/public/?region=13x").await.status, 404);
}

#[tokio::test]
async fn requests_arriving_together_after_new_data_read_it_once() {
    let s = server("single-flight").await;
    let burst = |addr| async move {
        let mut tasks = Vec::new();
        for _ in 0..16 {
            tasks.push(tokio::spawn(async move {
                Client::new(addr)
                    .get("/public/village/131124100200")
                    .await
                    .status
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 200);
        }
    };
    burst(s.addr).await;
    assert_eq!(s.state.data_loads(), 1);
    // New data: the next burst reads the year again, once.
    s.store
        .import(
            cunji_store::ImportKind::Entries,
            "more.csv",
            "village,date,account,amount,voucher\n131124100200,2024-06-01,operating_revenue,10.00,X-1\n".as_bytes(),
            "test",
            &cunji_store::import::Quiet,
        )
        .await
        .unwrap();
    burst(s.addr).await;
    assert_eq!(s.state.data_loads(), 2);
}
