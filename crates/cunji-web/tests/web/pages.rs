//! Officials' pages: dashboard, what-if, pay floor, alerts, and what a page may make the server spend.

use crate::common::{assert_holds, server, Client, POLICY};
use crate::stat;
use cunji_store::import::Quiet;
use cunji_store::ImportKind;

#[tokio::test]
async fn what_if_compares_both_plans_and_the_admin_saves() {
    let s = server("whatif").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    // Current 10%: 东关村 5,000.00 + 大迁民村 4,000.00 = 9,000.00. At 20% (typed `20`, a percentage),
    // capped at 8,000 a village: 8,000.00 + 8,000.00 = 16,000.00.
    let t = admin
        .get("/policy/whatif?year=2024&rate=20&cap=8000")
        .await
        .text();
    assert_eq!(stat(&t, "total-before"), "9,000.00");
    assert_eq!(stat(&t, "total-after"), "16,000.00");
    assert_eq!(stat(&t, "total-change"), "+7,000.00");
    // Every lever is a field: the rate in percent, and the largest share of each role that shares.
    assert_holds(
        &t,
        &[
            "name=\"rate\" value=\"20\"",
            "name=\"cap\" value=\"8000\"",
            "name=\"max_share.secretary\" value=\"\"",
        ],
    );
    // Subtotals by township: 东关村 of 饶阳镇, 大迁民村 of 大尹村镇.
    let towns = crate::common::after(&t, "id=\"townships\"");
    assert!(
        towns.contains("<tr><td>饶阳镇</td><td class=\"num\">5,000.00</td><td class=\"num\">8,000.00</td><td class=\"num\">+3,000.00</td></tr><tr><td>大尹村镇</td><td class=\"num\">4,000.00</td><td class=\"num\">8,000.00</td><td class=\"num\">+4,000.00</td></tr>"),
        "{towns}"
    );
    // `20%` reads the same as `20`.
    let same = admin
        .get("/policy/whatif?year=2024&rate=20%25&cap=8000")
        .await
        .text();
    assert_eq!(stat(&same, "total-after"), "16,000.00");
    // An invalid value clears the result instead of showing the last one.
    let bad = admin.get("/policy/whatif?year=2024&rate=abc").await.text();
    assert_eq!(stat(&bad, "total-after"), "—");
    assert!(
        bad.contains("比例“abc”不是百分数：请填数字，如 8 表示 8%"),
        "{bad}"
    );
    assert!(!bad.contains("id=\"save-whatif\""), "{bad}");
    // Saving asks for a new name; the current one is refused.
    let source = saved_source(&t);
    let r = admin
        .post_form(
            "/policy",
            &[("source", &source), ("name", "测试政策")],
            true,
        )
        .await;
    let to = r.header("location").unwrap_or_default().to_string();
    assert!(to.contains("err="), "{to}");
    // Saving shows first what the new plan changes, and saves only once confirmed (issue #33).
    let r = admin
        .post_form(
            "/policy",
            &[("source", &source), ("name", "测试政策（调整）")],
            true,
        )
        .await;
    assert_eq!(r.status, 200);
    let confirm = r.text();
    assert!(
        confirm.contains("id=\"policy-impact\"") && confirm.contains("id=\"confirm-policy\""),
        "{confirm}"
    );
    assert_eq!(
        s.store.policies().await.unwrap().len(),
        1,
        "nothing saved yet"
    );
    let r = admin
        .post_form(
            "/policy",
            &[
                ("source", &source),
                ("name", "测试政策（调整）"),
                ("confirm", "1"),
            ],
            true,
        )
        .await;
    let to = r.header("location").unwrap_or_default().to_string();
    assert!(to.contains("msg="), "{to} {source}");
    let rules = admin.get("/policy").await.text();
    assert!(
        rules.contains("测试政策（调整）")
            && rules.contains("计提：基数 × 20%（不高于）")
            && rules.contains("封顶：每村不超过 8,000.00 元"),
        "{rules}"
    );
    let mut town = Client::signed_in(s.addr, "town").await;
    assert_eq!(
        town.post_form("/policy", &[("source", "name = \"x\"")], true)
            .await
            .status,
        403
    );
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
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let t = admin.get("/payfloor?year=2024").await.text();
    // 3 × 15,000 = 45,000: P1 is one fen short, P2 passes, P3 has no base pay.
    assert_eq!(stat(&t, "below"), "1 人");
    assert_eq!(stat(&t, "unknown"), "1 人");
    assert!(
        t.contains("44,999.99") && t.contains("0.01") && t.contains("未登记基本报酬"),
        "{t}"
    );
    // The shortfalls in all and by township; the explanation folded under each row.
    assert_eq!(stat(&t, "shortfall"), "0.01");
    let towns = crate::common::after(&t, "id=\"payfloor-townships\"");
    assert!(
        towns.contains("<tr><td>饶阳镇</td><td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">0.01</td></tr><tr><td>大尹村镇</td><td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">0.00</td></tr>"),
        "{towns}"
    );
    assert!(
        t.contains("<details><summary>说明（王志强，人员编号 P3）</summary>"),
        "{t}"
    );
    let csv = admin.get("/payfloor.csv?year=2024").await;
    let csv = String::from_utf8(csv.body.clone()).unwrap();
    assert!(
        csv.starts_with("\u{feff}村代码,村,人员编号,姓名,职务,任职月数,基本报酬（元）,保障线（元）,差额（元）,说明\r\n131124100200,东关村,P1,张建国,书记,12,\"44,999.99\",\"45,000.00\",0.01,"),
        "{csv}"
    );
    assert_eq!(csv.matches("\r\n").count(), 3, "{csv}");
    // A year without cadre records says so instead of “none below the floor”.
    let empty = admin.get("/payfloor?year=2019").await.text();
    assert!(
        empty.contains("2019 年本地区没有村干部名册，无法核对报酬保障")
            && !empty.contains("均不低于保障线"),
        "{empty}"
    );
    let mut town = Client::signed_in(s.addr, "town").await;
    let t = town.get("/payfloor?year=2024").await.text();
    assert_eq!(
        stat(&t, "unknown"),
        "0 人",
        "the officer sees only their township"
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
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let t = admin.get("/dashboard?year=2024").await.text();
    assert!(
        t.contains("疑似过账")
            && t.contains("30,000.00 元（凭证 V1）↔ 2024-04-01 其他支出 30,000.00 元（凭证 V2）"),
        "{t}"
    );
    // Folded into a count per kind that opens the list, below the drill-down and the ranking.
    assert!(
        t.contains("<summary>疑似过账 <strong>1</strong> 条</summary>"),
        "{t}"
    );
    let at = |id: &str| {
        t.find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("{id}: {t}"))
    };
    assert!(at("cards-wan") < at("downloads") && at("downloads") < at("children"));
    assert!(at("children") < at("ranking") && at("ranking") < at("alerts"));
    let ranking = crate::common::after(&t, "id=\"ranking\"");
    let ranking = &ranking[..ranking.find("</table>").unwrap()];
    assert_holds(
        ranking,
        &[
            "<tr><td class=\"num\">1</td><td><a href=\"/dashboard?region=131124101000&year=2024\">大尹村镇</a></td><td class=\"num\">1</td><td class=\"num\">120,000.00</td>",
            "<tr><td class=\"num\">2</td><td><a href=\"/dashboard?region=131124100000&year=2024\">饶阳镇</a></td><td class=\"num\">2</td><td class=\"num\">110,000.00</td>",
        ],
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
async fn a_user_without_a_scope_lands_on_the_policys_region_and_the_region_list_stays_short() {
    let s = server("landing").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
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
    assert_holds(&page, &["value=\"131124000000\"", "value=\"131124100000\""]);
    assert!(!page.contains("value=\"131124101000\""), "{page}");
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

#[tokio::test]
async fn years_outside_the_books_range_are_refused_and_the_year_cache_is_bounded() {
    let s = server("years").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
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
    let mut town = Client::signed_in(s.addr, "town").await;
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

/// Issue #32 item 7: on pages, axum's own refusals are a Chinese error page.
#[tokio::test]
async fn framework_refusals_on_pages_are_chinese_pages() {
    let s = server("page-refusals").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let r = admin.get("/dashboard?year=abc").await;
    assert_eq!(r.status, 400);
    assert!(r
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
    assert_holds(&r.text(), &["查询参数格式不对"]);
    assert!(!r.text().contains("Failed to deserialize"), "{}", r.text());
    let r = admin.post_form("/dashboard", &[], true).await;
    assert_eq!(r.status, 405);
    assert_holds(&r.text(), &["这个网址不接受 POST 请求"]);
    assert!(r.header("allow").is_some(), "{:?}", r.headers);
    let r = admin.get("/no-such-page").await;
    assert_eq!(r.status, 404);
    assert_holds(&r.text(), &["未找到这个页面"]);
}

/// Issue #32 item 7: the audit page's “who” list names only the users within the reader's scope.
#[tokio::test]
async fn the_audit_pages_user_list_stays_within_the_readers_scope() {
    let s = server("audit-users").await;
    let option = |u: &str| format!("<option value=\"{u}\"");
    let mut town = Client::signed_in(s.addr, "town").await;
    let page = town.get("/audit").await.text();
    assert!(
        page.contains(&option("town")) && page.contains(&option("acct")),
        "{page}"
    );
    assert!(
        !page.contains(&option("admin")) && !page.contains(&option("audit")),
        "{page}"
    );
    let mut acct = Client::signed_in(s.addr, "acct").await;
    let page = acct.get("/audit").await.text();
    assert!(page.contains(&option("acct")), "{page}");
    assert!(
        !page.contains(&option("town")) && !page.contains(&option("admin")),
        "{page}"
    );
    let mut auditor = Client::signed_in(s.addr, "audit").await;
    let page = auditor.get("/audit").await.text();
    for u in ["admin", "town", "acct", "audit"] {
        assert!(page.contains(&option(u)), "{u}: {page}");
    }
}

/// Issue #32 item 7: a policy with no bands, targets, incentive or pay floor is never made current.
#[tokio::test]
async fn an_empty_policy_cannot_be_made_current() {
    let s = server("empty-policy").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let r = admin
        .post_form("/policy", &[("source", "name = \"空政策\"")], true)
        .await;
    let to = r.header("location").unwrap_or_default().to_string();
    assert!(to.contains("err="), "{to}");
    let page = admin.get(&to).await.text();
    assert_holds(&page, &["不能设为当前政策"]);
    let current = s.store.policies().await.unwrap();
    assert!(
        current
            .iter()
            .filter(|p| p.active)
            .all(|p| p.name == "测试政策"),
        "{:?}",
        current
            .iter()
            .map(|p| (&p.name, p.active))
            .collect::<Vec<_>>()
    );
    // The store refuses it too (the command line's `policy set` goes there).
    let e = s
        .store
        .save_policy("空政策", "name = \"空政策\"", true, "admin")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("不能设为当前政策"), "{e}");
}

/// Issue #32 item 7: a CSV export escapes a cell that a spreadsheet would read as a formula, also
/// behind a byte-order mark or in fullwidth (＝＋－＠).
#[tokio::test]
async fn csv_exports_escape_fullwidth_and_bom_formulas() {
    let s = server("export-formulas").await;
    let hash = cunji_web::auth::hash_password(crate::common::PASSWORD).unwrap();
    let names = ["＝HYPERLINK(1)", "\u{feff}=1+1", "＋1", "－1", "＠SUM(A1)"];
    for (i, name) in names.iter().enumerate() {
        let user = format!("evil{i}");
        s.store
            .add_user(&user, name, &hash, "auditor", None, "test")
            .await
            .unwrap();
        // An action by the user, so that the audit log names them as its actor.
        s.store
            .add_user(&format!("by{i}"), "某人", &hash, "auditor", None, &user)
            .await
            .unwrap();
    }
    let mut auditor = Client::signed_in(s.addr, "audit").await;
    let csv = auditor.get("/audit.csv").await.text();
    for name in names {
        assert!(
            csv.contains(&format!("'{name}（evil")),
            "{name:?} not escaped in:\n{csv}"
        );
    }
}

/// The policy source the what-if page offers for saving, unescaped.
fn saved_source(t: &str) -> String {
    let i = t.find("name=\"source\" value=\"").unwrap() + "name=\"source\" value=\"".len();
    t[i..t[i..].find('"').unwrap() + i]
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
        .replace("&#37;", "%")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&#10;", "\n")
        .replace("&#xa;", "\n")
}

#[tokio::test]
async fn what_if_moves_a_band_and_a_target_and_counts_the_villages_on_both_sides() {
    let s = server("whatif-bands").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    // 2024: 东关村 150,000, 西关村 40,000, 大迁民村 120,000. Raising 10万以上 to 130,000 moves
    // 大迁民村 down to 5–10万; the 10万以上 share falls from 2 of 3 to 1 of 3, which a 30% target
    // still meets.
    let t = admin
        .get("/policy/whatif?year=2024&band_min.3=130000&target_share.0=30")
        .await
        .text();
    let bands = crate::common::after(&t, "id=\"band-compare\"");
    assert_holds(
        bands,
        &[
            "<tr><td>5万以下（村）</td><td class=\"num\">1</td><td class=\"num\">1</td></tr>",
            "<tr><td>5–10万（村）</td><td class=\"num\">0</td><td class=\"num\">1</td></tr>",
            "<tr><td>10万以上（村）</td><td class=\"num\">2</td><td class=\"num\">1</td></tr>",
        ],
    );
    let targets = crate::common::after(&t, "id=\"target-compare\"");
    assert!(targets.starts_with("><tr><th>目标</th>"), "{targets}");
    let row = &targets[targets.find("<tr><td>10万以上占比</td>").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert_eq!(
        row,
        "<tr><td>10万以上占比</td><td>达成（66.67%，2024 年）</td><td>达成（33.33%，2024 年）</td>"
    );
    // The fields show what was typed; the first band has no lower bound to move.
    assert_holds(
        &t,
        &[
            "name=\"band_min.3\" value=\"130000\"",
            "name=\"band_min.2\" value=\"50000.00\"",
            "name=\"target_share.0\" value=\"30\"",
            "name=\"target_year.0\" value=\"2024\"",
            "<span>空壳村：最低一档</span>",
        ],
    );
    // The plan offered for saving carries the new bound and share; saving it first shows the one
    // village whose band moves.
    let source = saved_source(&t);
    assert!(source.contains("min = \"130000\""), "{source}");
    assert!(source.contains("share_at_least = \"30%\""), "{source}");
    let confirm = admin
        .post_form(
            "/policy",
            &[("source", &source), ("name", "测试政策（调档）")],
            true,
        )
        .await
        .text();
    assert_holds(
        &confirm,
        &[
            "<strong id=\"moved-count\">1</strong> 个村的分档有变",
            "<tr><td>大迁民村</td><td>10万以上</td><td>5–10万</td></tr>",
        ],
    );
    // The unchanged plan compares equal with itself; a wrong bound is named and shows no result.
    let bad = admin
        .get("/policy/whatif?year=2024&band_min.2=五万")
        .await
        .text();
    assert!(
        bad.contains("第 3 档起点“五万”不是金额：请填元，如 8000"),
        "{bad}"
    );
    assert_eq!(stat(&bad, "total-after"), "—");
    let bad = admin
        .get("/policy/whatif?year=2024&target_year.0=20245")
        .await
        .text();
    assert!(
        bad.contains("“10万以上占比”的年份“20245”不是有效年份"),
        "{bad}"
    );
}
