//! Public pages and QR codes.

use crate::common::{assert_holds, server, Client};
use cunji_store::ImportKind;

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
        notice.contains("<link rel=\"stylesheet\" href=\"/static/notice.css\">")
            && notice.contains("东关村村务公开"),
        "{notice}"
    );
    // Its print rules come from this server (no inline style under the security policy).
    let css = anon.get("/static/notice.css").await.text();
    assert!(css.contains("@page { size: A4 portrait;"), "{css}");
    assert_eq!(anon.get("/public/village/131124100299").await.status, 404);
    assert_eq!(
        anon.get("/public/village/131124100000/qr.svg").await.status,
        404
    );
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
    assert_holds(&top, &["<a href=\"/public/?region=131124000000\">饶阳县</a> <span class=\"muted\">3 个村</span>", "<a href=\"/public/?region=131125000000\">安平县</a> <span class=\"muted\">1100 个村</span>"]);
    assert!(!top.contains("/public/village/"), "{top}");
    // A county of 1,100 villages: its townships.
    let county = anon.get("/public/?region=131125000000").await.text();
    assert_holds(
        &county,
        &[
            "安平镇</a> <span class=\"muted\">550 个村</span>",
            "马店镇</a> <span class=\"muted\">550 个村</span>",
            "<a href=\"/public/?region=130000000000\">河北省</a>",
        ],
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
async fn a_village_page_shows_every_grant_with_each_later_year_and_the_latest_year_first() {
    let s = server("public-grants").await;
    let grants = "grant,village,year,level,program,amount,project,expected_rate\nG1,131124100200,2023,central,光伏电站,500000,PV-1,3%\n";
    let returns = "village,date,account,amount,project\n131124100200,2024-06-30,investment_income,12000,PV-1\n";
    for (kind, text) in [(ImportKind::Grants, grants), (ImportKind::Entries, returns)] {
        s.import(kind, text).await;
    }
    let page = crate::common::public_page(s.addr, "131124100200").await;
    assert!(
        page.contains(
            "<strong>光伏电站</strong>（中央，2023 年）：500,000.00 元；预期年收益 15,000.00 元。"
        ),
        "{page}"
    );
    assert!(
        page.contains("<li>2024 年实际收益 12,000.00 元（低于预期）</li>"),
        "{page}"
    );
    let notice = crate::common::notice_page(s.addr, "131124100200").await;
    assert_holds(&notice, &[
        "<td>光伏电站（中央，2023 年）</td><td class=\"num\">500,000.00 元</td><td>2024 年收益 12,000.00 元</td>",
        "<tr><th>总支出</th><td class=\"num\">0.00 元</td></tr>",
    ]);
    // On a phone, a card a year: the latest first.
    let card = crate::common::after(&page, "id=\"year-2024\"><h3>2024 年</h3>");
    assert!(
        card.starts_with("<table><tr><td>经营收入</td><td class=\"num\">150,000.00</td></tr>"),
        "{card}"
    );
    // The latest year by quarter: rent in the first, the project's return in the second.
    let quarters = crate::common::after(&page, "id=\"public-quarters\"");
    assert_holds(quarters, &[
        "<tr><td>经营收入</td><td class=\"num\">150,000.00</td><td class=\"num\">0.00</td><td class=\"num\">0.00</td><td class=\"num\">0.00</td></tr>",
        "<tr><td>投资收益</td><td class=\"num\">0.00</td><td class=\"num\">12,000.00</td>",
    ]);
    let header = crate::common::after(&page, "id=\"public-accounts\"");
    assert!(
        header.starts_with(
            "><tr><th>科目</th><th class=\"num\">2024 年</th><th class=\"num\">2023 年</th>"
        ),
        "{header}"
    );
    // January: another village has booked 2025 already. This village has not reported 2025, and
    // its villagers read 尚未报送 for that year, never 无收益 or 0.00 (SPEC §15).
    let early = "village,date,account,amount\n131124100201,2025-01-05,operating_revenue,800\n";
    s.import(ImportKind::Entries, early).await;
    let page = crate::common::public_page(s.addr, "131124100200").await;
    assert_holds(
        &page,
        &["<li>2025 年账目尚未报送</li><li>2024 年实际收益 12,000.00 元（低于预期）</li>"],
    );
    assert!(
        !page.contains("无收益") && !page.contains("2025 年实际收益"),
        "{page}"
    );
    let notice = crate::common::notice_page(s.addr, "131124100200").await;
    assert_holds(&notice, &["<td>2025 年账目尚未报送</td>"]);
}

#[tokio::test]
async fn public_pages_never_show_what_villagers_are_not_to_see() {
    let s = server("never-show").await;
    let cadres =
        "village,year,person,name,role,base_pay\n131124100200,2024,P1,张建国,secretary,45678.90\n";
    let entries = "village,date,account,amount,voucher,memo\n131124100200,2024-05-05,other_income,12.34,记-777,秘密摘要\n";
    for (kind, text) in [(ImportKind::Cadres, cadres), (ImportKind::Entries, entries)] {
        s.import(kind, text).await;
    }
    // An unpublished proposal, with the village's alerts, by a named officer.
    let mut town = Client::signed_in(s.addr, "town").await;
    town.get("/workflow/131124100200/2024").await;
    town.post_form("/workflow/131124100200/2024/compute", &[], true)
        .await;
    let pool = s
        .store
        .proposal("131124100200", 2024)
        .await
        .unwrap()
        .unwrap()
        .pool
        .display();
    let mut anon = Client::new(s.addr);
    for path in [
        "/public/village/131124100200",
        "/public/village/131124100200/notice",
        "/public/",
        "/public/?region=131124100000",
    ] {
        let page = anon.get(path).await.text();
        for secret in [
            "45,678.90",
            "45678.90",
            "记-777",
            "秘密摘要",
            "用户town",
            ">town<",
            "整数金额偏多",
            "预警",
            "审计",
            "P1",
            pool.as_str(),
        ] {
            assert!(!page.contains(secret), "{path} shows {secret}:\n{page}");
        }
    }
}

#[tokio::test]
async fn villagers_find_their_village_by_name_and_every_title_names_the_county() {
    let s = server("public-search").await;
    let mut anon = Client::new(s.addr);
    let page = anon.get("/public/?q=%E5%85%B3").await.text(); // 关
    assert!(page.contains("<a href=\"/public/village/131124100200\">东关村</a> <span class=\"muted\">饶阳县 饶阳镇</span>"), "{page}");
    assert!(
        page.contains(">西关村</a>") && !page.contains(">大迁民村</a> <span"),
        "{page}"
    );
    let index = anon.get("/public/").await.text();
    assert!(
        index.contains("<title>饶阳县村务公开") && index.contains("<h1>饶阳县村务公开</h1>"),
        "{index}"
    );
    let none = anon.get("/public/?q=%E6%B2%A1%E6%9C%89").await.text(); // 没有
    assert!(none.contains("没有找到名称含“没有”的村"), "{none}");
    for path in [
        "/public/village/131124100200",
        "/public/village/131124100200/notice",
    ] {
        let page = anon.get(path).await.text();
        assert!(
            page.contains("<title>饶阳县 饶阳镇 东关村 村务公开"),
            "{path}: {page}"
        );
    }
}

#[tokio::test]
async fn larger_text_is_remembered_for_the_reader() {
    let s = server("public-large").await;
    let mut anon = Client::new(s.addr);
    let page = anon.get("/public/village/131124100200").await.text();
    assert!(
        page.starts_with("<!doctype html>\n<html lang=\"zh-CN\">"),
        "{page}"
    );
    assert!(
        page.contains(
            "href=\"/public/text-size?large=1&amp;back=%2Fpublic%2Fvillage%2F131124100200\""
        ),
        "{page}"
    );
    let r = anon
        .get("/public/text-size?large=1&back=%2Fpublic%2Fvillage%2F131124100200")
        .await;
    assert_eq!(r.header("location"), Some("/public/village/131124100200"));
    assert!(r
        .header("set-cookie")
        .unwrap()
        .starts_with("cunji_text=large; Path=/public; Max-Age=31536000"));
    let page = anon.get("/public/village/131124100200").await.text();
    assert!(
        page.contains("<html lang=\"zh-CN\" class=\"large\">") && page.contains(">标准字号</a>"),
        "{page}"
    );
    // Only back to a public page of this site.
    let r = anon
        .get("/public/text-size?large=0&back=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(r.header("location"), Some("/public/"));
    let page = anon.get("/public/").await.text();
    assert!(page.contains("<html lang=\"zh-CN\">"), "{page}");
}

#[tokio::test]
async fn the_county_sets_the_supervision_phone_that_pages_and_notices_print() {
    let s = server("public-phone").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    assert!(!crate::common::public_page(s.addr, "131124100200")
        .await
        .contains("监督电话"));
    assert_eq!(
        town.post_form("/settings/phone", &[("phone", "110")], true)
            .await
            .status,
        403
    );
    admin.get("/policy").await;
    let r = admin
        .post_form("/settings/phone", &[("phone", "=1+2")], true)
        .await;
    assert!(r.header("location").unwrap().contains("err="));
    admin
        .post_form("/settings/phone", &[("phone", "0318-7221234")], true)
        .await;
    let page = crate::common::public_page(s.addr, "131124100200").await;
    assert!(
        page.contains("县级监督电话：<a href=\"tel:0318-7221234\">0318-7221234</a>"),
        "{page}"
    );
    let notice = crate::common::notice_page(s.addr, "131124100200").await;
    assert!(
        notice.contains("监督电话：<strong id=\"notice-phone\">0318-7221234</strong>"),
        "{notice}"
    );
    let audit = s.store.audit_log(10).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.action == "setting" && a.detail == "“” → “0318-7221234”"));
}

/// The text of the QR code in `png`, read by Debian's `zbarimg`; `None` when it is not installed
/// (which CI does not allow).
fn decode_qr(png: &[u8]) -> Option<String> {
    let path = std::env::temp_dir().join(format!("cunji-qr-{}.png", std::process::id()));
    std::fs::write(&path, png).unwrap();
    let out = std::process::Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&path)
        .output();
    let _ = std::fs::remove_file(&path);
    match out {
        Ok(o) => Some(String::from_utf8_lossy(&o.stdout).trim().to_string()),
        Err(_) if std::env::var("CI").is_ok() => {
            panic!("zbarimg (apt install zbar-tools) is needed under CI")
        }
        Err(_) => {
            eprintln!("zbarimg is not installed (apt install zbar-tools): QR decoding not checked");
            None
        }
    }
}

#[tokio::test]
async fn the_qr_codes_decode_to_the_village_page() {
    let s = server("qr-decode").await;
    let mut anon = Client::new(s.addr);
    let png = anon.get("/public/village/131124100200/qr.png").await.body;
    let Some(text) = decode_qr(&png) else { return };
    assert_eq!(
        text,
        format!("http://{}/public/village/131124100200", s.addr)
    );
}

/// Issue #32 item 7: the QR code's address comes only from `--public-url`, never from the Host a
/// request sends; without it, the notice says where to set it instead of printing a code.
#[tokio::test]
async fn the_qr_code_never_takes_the_requests_host() {
    let s = server("qr-host").await;
    let mut anon = Client::new(s.addr);
    let evil = [("Host", "evil.example")];
    let page = anon
        .request(
            "GET",
            "/public/village/131124100200/notice",
            None,
            b"",
            &evil,
        )
        .await
        .text();
    assert!(!page.contains("evil.example"), "{page}");
    assert!(page.contains(&format!("http://{}/public/village/131124100200", s.addr)));

    // The same database served without a public address.
    let bare = crate::common::serve_state(cunji_web::AppState::new(s.store.clone(), None)).await;
    let mut anon = Client::new(bare);
    for path in [
        "/public/village/131124100200/notice",
        "/public/village/131124100200",
    ] {
        let r = anon.request("GET", path, None, b"", &evil).await;
        assert_eq!(r.status, 200);
        let t = r.text();
        assert!(
            !t.contains("evil.example") && !t.contains("<svg"),
            "{path}: {t}"
        );
        assert_holds(&t, &["--public-url", "未印二维码"]);
    }
    for path in [
        "/public/village/131124100200/qr.svg",
        "/public/village/131124100200/qr.png",
    ] {
        let r = anon.request("GET", path, None, b"", &evil).await;
        assert_eq!(r.status, 404, "{path}");
        assert_holds(&r.text(), &["--public-url"]);
    }
}
