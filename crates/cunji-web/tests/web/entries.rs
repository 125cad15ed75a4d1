//! Data entry, reversals and file imports through the web.

use crate::common::{assert_holds, server, Client};
use crate::stat;

#[tokio::test]
async fn entries_and_reversals_change_the_dashboard() {
    let s = server("entries").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    let before = operating_income(&mut town).await;
    assert_eq!(before, "19.00");
    town.get("/village/131124100200?year=2024").await;
    let r = town
        .post_entry(
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
    assert_eq!(operating_income(&mut town).await, "20.00");
    // A bad entry is refused with the reason, and nothing is stored.
    let r = town
        .post_entry(
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
    assert_eq!(operating_income(&mut town).await, "19.00");
    let page = town.get("/village/131124100200?year=2024").await.text();
    assert!(
        page.contains("冲销：重复记账") && page.contains("已被 2024:网-"),
        "{page}"
    );
    // The reversal reads red and links to the voucher it reverses, which is anchored on the page.
    let rows: Vec<&str> = page.split("<tr ").collect();
    let reversal = rows.iter().find(|r| r.contains("冲销：重复记账")).unwrap();
    assert!(reversal.contains("class=\"reversal\""), "{reversal}");
    let original = rows.iter().find(|r| r.contains("新增租金")).unwrap();
    let id = crate::common::after(original, "id=\"");
    let id = &id[..id.find('"').unwrap()];
    assert!(id.starts_with("v-2024-网-"), "{original}");
    assert!(
        reversal.contains(&format!("<a href=\"#{}\">", crate::common::enc(id))),
        "{reversal} {id}"
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
async fn web_imports_are_all_or_nothing_and_scoped() {
    let s = server("import").await;
    let mut town = Client::signed_in(s.addr, "town").await;
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
    assert_eq!(s.entries_2024().await, 1);
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
    // The kind chosen stays chosen for the next file (issue #33).
    assert!(
        r.text().contains("<option value=\"entries\" selected>"),
        "{}",
        r.text()
    );
    // What the file brought each village, named.
    assert!(
        r.text().contains("<a href=\"/village/131124100200\">东关村</a> <span class=\"muted\">131124100200</span></td><td class=\"num\">1</td><td>2024 年</td>"),
        "{}",
        r.text()
    );
    // A file with Chinese headers has its errors named by those headers.
    let chinese = multipart("村代码,日期,科目,金额\n131124100200,2024-01-03,经营收入,12.345\n");
    let r = town
        .request(
            "POST",
            "/import",
            Some("multipart/form-data; boundary=XBOUNDARYX"),
            chinese.as_bytes(),
            &[],
        )
        .await;
    assert!(
        r.text()
            .contains("<td class=\"num\">2</td><td>金额</td><td>金额格式不对：`12.345`"),
        "{}",
        r.text()
    );
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
    assert_eq!(s.entries_2024().await, 2);
    // The form sends the token as its first field, not in the address.
    let form = town.get("/import").await.text();
    assert!(
        form.contains(r#"action="/import" enctype="multipart/form-data" id="import-form">"#)
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
async fn templates_and_report_workbooks_download() {
    let s = server("downloads").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    let t = town.get("/templates/cadres.xlsx").await;
    assert_eq!(t.status, 200);
    assert_eq!(
        t.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert!(t.body.starts_with(b"PK"));
    // The township officer's template lists the villages of their township to copy codes from.
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(t.body.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["村干部", "村名单"]);
    let list = book.worksheet_range("村名单").unwrap();
    let codes: Vec<String> = list.rows().skip(1).map(|r| r[0].to_string()).collect();
    assert!(!codes.is_empty());
    assert!(
        codes.iter().all(|c| c.starts_with("131124100")),
        "{codes:?}"
    );
    assert_eq!(list.rows().nth(1).unwrap()[2].to_string(), "饶阳镇");
    assert_eq!(town.get("/templates/nothing.xlsx").await.status, 404);
    // The three files of SPEC §16 have templates too, with their Chinese headers (issue #35).
    for (kind, sheet, first) in [
        ("assets", "资产台账", ["资产编号", "村代码", "类别", "名称"]),
        (
            "contracts",
            "合同",
            ["合同编号", "村代码", "对方名称", "对方证件号"],
        ),
        (
            "installments",
            "合同分期应收",
            ["合同编号", "村代码", "日期", "金额"],
        ),
    ] {
        let t = town.get(&format!("/templates/{kind}.xlsx")).await;
        assert_eq!(t.status, 200, "{kind}");
        let mut b = calamine::Xlsx::new(std::io::Cursor::new(t.body.clone())).unwrap();
        assert_eq!(b.sheet_names()[0], sheet, "{kind}");
        let r = b.worksheet_range(sheet).unwrap();
        let head: Vec<String> = r.rows().next().unwrap()[..4]
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(head, first, "{kind}");
    }
    let r = town.get("/report.xlsx?year=2024").await;
    assert_eq!(r.status, 200);
    let disposition = r.header("content-disposition").unwrap();
    assert!(disposition.contains("cunji-131124100000-2024.xlsx"));
    let chinese = crate::common::enc("饶阳镇2024年村集体经济报告.xlsx");
    assert!(
        disposition.ends_with(&format!("filename*=UTF-8''{chinese}")),
        "{disposition}"
    );
    let template = t.header("content-disposition").unwrap();
    assert!(
        template.ends_with(&crate::common::enc("村干部导入模板.xlsx")),
        "{template}"
    );
    assert_eq!(
        town.get("/report.xlsx?year=2024&region=131124101000")
            .await
            .status,
        403
    );
}

/// The operating income the dashboard shows for 2024.
async fn operating_income(c: &mut Client) -> String {
    stat(
        &c.get("/dashboard?year=2024").await.text(),
        "stat-operating-income",
    )
}

#[tokio::test]
async fn the_import_form_offers_each_role_its_own_kinds_and_states_its_limit() {
    // End to end over a real port: a 65 MB upload arrives as the network delivers it, in chunks,
    // and is refused when the count passes the limit (in process it would be one 65 MB frame).
    let s = crate::common::server_on_port("import-form").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    let page = town.get("/import").await.text();
    assert!(
        page.contains("<option value=\"entries\">账目</option>") && page.contains("不超过 64 MB"),
        "{page}"
    );
    assert!(
        !page.contains("value=\"regions\"")
            && !page.contains("value=\"grants\"")
            && !page.contains("(entries)"),
        "{page}"
    );
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let page = admin.get("/import").await.text();
    assert!(
        page.contains("<option value=\"regions\">区划</option>"),
        "{page}"
    );
    // A file of 3 MB (more than the old 2 MB bound) is read and checked, not refused for its size.
    let mut csv = String::from("village,date,account,amount,memo\n");
    while csv.len() < 3 * 1024 * 1024 {
        csv.push_str(
            "131124100200,2024-01-01,operating_revenue,abc,很长的摘要很长的摘要很长的摘要\n",
        );
    }
    let r = town
        .post_file(
            "/import",
            None,
            &[("kind", "entries")],
            ("file", "big.csv", csv.as_bytes()),
        )
        .await;
    assert!(
        r.text().contains("金额格式不对"),
        "{}",
        &r.text()[..2000.min(r.text().len())]
    );
    // A file over the stated 64 MB is refused in Chinese on the import page, still signed in, and
    // nothing is stored.
    let before = s.entries_2024().await;
    let big = vec![b'x'; 65 * 1024 * 1024];
    let r = town
        .post_file(
            "/import",
            None,
            &[("kind", "entries")],
            ("file", "huge.csv", &big),
        )
        .await;
    assert_eq!(r.status, 413);
    let t = r.text();
    assert!(
        t.contains("超过 64 MB 的上传上限，未导入任何数据") && t.contains("action=\"/logout\""),
        "{}",
        &t[..3000.min(t.len())]
    );
    assert_eq!(s.entries_2024().await, before);
    // The format page the form links to lists each kind's columns as the importer reads them.
    assert!(
        page.contains("<a href=\"/formats\">导入文件格式</a>"),
        "{page}"
    );
    let formats = admin.get("/formats").await.text();
    assert_holds(
        &formats,
        &[
            "<h2 id=\"entries\">账目</h2>",
            "<tr><td>村代码</td><td>village</td><td>是</td>",
            "<tr><td>金额</td><td>amount</td><td>是</td>",
        ],
    );
}
