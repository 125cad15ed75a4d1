//! Statement books (SPEC §14) through the web import page: several workbooks at once, all or nothing,
//! villages found within the user's scope, warnings listed; the distribution then on the village page
//! and the public page; the empty template of the user's villages.

use crate::common::{server, Client};

/// A line of a statement: its name, this year's amount and the year before's (empty: no figure).
type Line<'a> = (&'a str, &'a str, &'a str);

/// A workbook as a 三资 platform exports it: one sheet per (编制单位, year, lines).
fn statement_book(sheets: &[(&str, i32, &[Line<'_>])]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (unit, year, lines) in sheets {
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "收益及收益分配表").unwrap();
        ws.write_string(1, 0, format!("编制单位：{unit}")).unwrap();
        ws.write_string(1, 1, format!("{year}年度")).unwrap();
        for (c, h) in ["项目", "本年金额", "上年金额"].iter().enumerate() {
            ws.write_string(2, c as u16, *h).unwrap();
        }
        for (r, (name, this, last)) in lines.iter().enumerate() {
            let r = r as u32 + 3;
            ws.write_string(r, 0, *name).unwrap();
            for (c, v) in [(1u16, this), (2, last)] {
                if let Ok(n) = v.parse::<f64>() {
                    ws.write_number(r, c, n).unwrap();
                }
            }
        }
    }
    // A blank sheet, as Excel leaves beside the statement: skipped.
    book.add_worksheet();
    book.save_to_buffer().unwrap()
}

/// 东关村's 2025: 200,000 − 50,000 = 150,000; with 10,000 brought forward, 100,000 to members and
/// 60,000 left. Its 上年 经营收入 says 140,000, but the stored 2024 is 150,000.
const DONGGUAN: &[Line<'_>] = &[
    ("一、经营收入", "200000", "140000"),
    ("减：管理费用", "50000", ""),
    ("二、本年收益", "150000", ""),
    ("加：年初未分配收益", "10000", ""),
    ("三、可分配收益", "160000", ""),
    ("减：成员分配（分红）", "100000", ""),
    ("四、年末未分配收益", "60000", ""),
];

fn xiguan(year_profit: &str) -> Vec<Line<'_>> {
    vec![
        ("一、经营收入", "80000", ""),
        ("二、本年收益", year_profit, ""),
        ("三、可分配收益", year_profit, ""),
        ("四、年末未分配收益", year_profit, ""),
    ]
}

#[tokio::test]
async fn statement_books_import_on_the_web_together_or_not_at_all() {
    let s = server("books").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    let page = town.get("/import").await.text();
    assert!(page.contains("<option value=\"statement-book\">"), "{page}");
    assert!(page.contains(" multiple required>"), "{page}");

    // One wrong sum in the second file: neither file is stored, the error names file and sheet.
    let a = statement_book(&[("东关村股份经济合作社", 2025, DONGGUAN)]);
    let bad = statement_book(&[("西关村股份经济合作社", 2025, &xiguan("80000.01"))]);
    let r = town
        .post_files(
            "/import",
            None,
            &[("kind", "statement-book")],
            &[("file", "a.xlsx", &a), ("file", "b.xlsx", &bad)],
        )
        .await;
    let t = r.text();
    assert!(t.contains("1 处错误，本次 2 个文件均未导入任何数据"), "{t}");
    assert!(
        t.contains("<td>b.xlsx［Sheet1］</td><td class=\"num\">5</td><td>项目</td><td>“本年收益”写的是 80,000.01 元，按各项计算应为 80,000.00 元</td>"),
        "{t}"
    );
    let village = town.get("/village/131124100200").await.text();
    assert!(!village.contains("id=\"distribution\""), "{village}");

    // Corrected: both stored, a summary per village, the 上年 difference listed to check.
    let good = statement_book(&[("西关村股份经济合作社", 2025, &xiguan("80000"))]);
    let r = town
        .post_files(
            "/import",
            None,
            &[("kind", "statement-book")],
            &[("file", "a.xlsx", &a), ("file", "c.xlsx", &good)],
        )
        .await;
    let t = r.text();
    assert!(
        t.contains("已导入收益及收益分配表 2 张（2 个文件），生成 3 笔年末分录"),
        "{t}"
    );
    assert!(
        t.contains("<a href=\"/village/131124100200\">东关村</a> <span class=\"muted\">131124100200</span></td><td class=\"num\">2</td><td>2025 年</td>"),
        "{t}"
    );
    assert!(
        t.contains("<li>a.xlsx［Sheet1］：“经营收入”上年金额写的是 140,000.00 元，已入账的 2024 年为 150,000.00 元（村 131124100200）</li>"),
        "{t}"
    );

    // The distribution on the village page and on the public page.
    let village = town.get("/village/131124100200").await.text();
    let table = &village[village.find("id=\"distribution\"").expect("distribution")..];
    assert!(
        table.contains("<th class=\"num\">2025</th>")
            && table
                .contains("<tr><td>成员分配（分红）</td><td class=\"num\">100,000.00</td></tr>")
            && table.contains("<tr><td>年末未分配收益</td><td class=\"num\">60,000.00</td></tr>"),
        "{table}"
    );
    let public = Client::new(s.addr)
        .get("/public/village/131124100200")
        .await
        .text();
    let cards = &public[public.find("id=\"public-distribution\"").expect("cards")..];
    assert!(
        cards.contains("<h3>2025 年</h3><table><tr><td>年初未分配收益</td><td class=\"num\">10,000.00</td></tr><tr><td>成员分配（分红）</td><td class=\"num\">100,000.00</td></tr><tr><td>年末未分配收益</td><td class=\"num\">60,000.00</td></tr></table>"),
        "{cards}"
    );
}

#[tokio::test]
async fn statement_books_stay_within_the_users_villages() {
    let s = server("books-scope").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    // 大迁民村 is in another township: not found within 饶阳镇, nothing stored.
    let other = statement_book(&[("大迁民村", 2025, &xiguan("80000"))]);
    let r = town
        .post_files(
            "/import",
            None,
            &[("kind", "statement-book")],
            &[("file", "d.xlsx", &other)],
        )
        .await;
    let t = r.text();
    assert!(
        t.contains("找不到名为“大迁民村”的村（按“大迁民”在区划中查找，范围 131124100000）"),
        "{t}"
    );
    // Single-file kinds still take one file.
    let r = town
        .post_files(
            "/import",
            None,
            &[("kind", "entries")],
            &[("file", "a.csv", b"x"), ("file", "b.csv", b"y")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("此类型一次只导入一个文件"),
        "{}",
        r.text()
    );

    // The empty template: a sheet for each village of the township, for the year asked.
    let t = town.get("/templates/statement-book.xlsx?year=2025").await;
    assert_eq!(t.status, 200);
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(t.body.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["东关村", "西关村"]);
    let sheet = book.worksheet_range("西关村").unwrap();
    assert_eq!(
        sheet.get((1, 0)).unwrap().to_string(),
        "编制单位：西关村（131124100201）"
    );
    assert_eq!(sheet.get((1, 2)).unwrap().to_string(), "2025年度");
    // Not filled in, it is refused as a whole: never stored as statements of zeros (#31).
    let r = town
        .post_files(
            "/import",
            None,
            &[("kind", "statement-book")],
            &[("file", "t.xlsx", &t.body)],
        )
        .await;
    assert!(
        r.text().contains(
            "没有可导入的数字：2 张工作表都未填写金额（t.xlsx［东关村］、t.xlsx［西关村］）"
        ) && r.text().contains("本次 1 个文件均未导入任何数据"),
        "{}",
        r.text()
    );
}
