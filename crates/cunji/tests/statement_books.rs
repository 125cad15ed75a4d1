//! `cunji import statement-book` (SPEC §14) through the binary: workbooks of 收益及收益分配表 made here
//! as a township's platform exports them, one village-year a sheet.

mod common;

use common::Scratch;

/// A county of two townships; 东关 exists in both (the register's 村民委员会 names).
const REGIONS: &str = "code,name\n130000000000,河北省\n131100000000,衡水市\n131124000000,饶阳县\n\
131124100000,饶阳镇\n131124101000,大尹村镇\n\
131124100200,东关村民委员会\n131124100201,西关村民委员会\n131124101200,东关村民委员会\n";

/// The rows of a 2023-layout sheet for `unit`: accounts and distribution consistent, `closing` as
/// written (its right figure is 50,000.00 元, or 5 万元).
fn sheet_rows(unit: &str, village: &str, year: i32, last: &str, closing: &str) -> Vec<Vec<String>> {
    let wan = unit == "万元";
    let v = |yuan: f64| {
        if wan {
            format!("{}", yuan / 10_000.0)
        } else {
            format!("{yuan:.2}")
        }
    };
    let mut rows: Vec<Vec<String>> = vec![
        vec!["收益及收益分配表".into()],
        vec![
            format!("编制单位：{village}"),
            format!("{year}年度"),
            format!("单位：{unit}"),
        ],
        vec![
            "项目".into(),
            "行次".into(),
            "本年金额".into(),
            "上年金额".into(),
        ],
    ];
    let lines: [(&str, f64, &str); 12] = [
        ("一、经营收入", 150_000.0, last),
        ("加：投资收益", 20_000.0, ""),
        ("补助收入", 50_000.0, ""),
        ("减：经营支出", 60_000.0, ""),
        ("管理费用", 40_000.0, ""),
        ("其中：运转支出", 12_000.0, ""),
        ("二、本年收益", 120_000.0, ""),
        ("三、净收益", 120_000.0, ""),
        ("加：年初未分配收益", 30_000.0, ""),
        ("四、可分配收益", 150_000.0, ""),
        ("减：提取公积公益金", 40_000.0, ""),
        ("成员分配（分红）", 60_000.0, ""),
    ];
    for (i, (name, amount, prior)) in lines.iter().enumerate() {
        rows.push(vec![
            name.to_string(),
            (i + 1).to_string(),
            v(*amount),
            prior.to_string(),
        ]);
    }
    rows.push(vec![
        "五、年末未分配收益".into(),
        "13".into(),
        closing.into(),
        String::new(),
    ]);
    rows
}

/// A workbook of `sheets` (name, rows), amounts as numbers where they read as numbers.
fn workbook(s: &Scratch, file: &str, sheets: &[(String, Vec<Vec<String>>)]) -> String {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell.parse::<f64>() {
                    Ok(n) if c >= 2 => ws.write_number(r as u32, c as u16, n).unwrap(),
                    _ => ws.write_string(r as u32, c as u16, cell).unwrap(),
                };
            }
        }
    }
    let path = s.path(file);
    book.save(&path).unwrap();
    path.to_str().unwrap().to_string()
}

fn totals(s: &Scratch) -> String {
    s.ok(&["totals", "--out", "t.csv"]);
    std::fs::read_to_string(s.path("t.csv")).unwrap()
}

#[test]
fn twenty_sheets_import_together_and_a_wrong_sum_refuses_every_file() {
    let s = Scratch::new("books");
    s.import("regions", "r.csv", REGIONS);
    // 20 sheets: two villages of 饶阳镇, ten years each; the village by its cooperative's name.
    let sheets: Vec<(String, Vec<Vec<String>>)> = (0..20)
        .map(|i| {
            let village = if i % 2 == 0 {
                "东关村股份经济合作社"
            } else {
                "西关村股份经济合作社"
            };
            let year = 2015 + i / 2;
            (
                format!("第{i}张"),
                sheet_rows("元", village, year, "", "50000.00"),
            )
        })
        .collect();
    let one = workbook(&s, "books.xlsx", &sheets);
    let out = s.ok(&["import", "statement-book", &one, "--region", "131124100000"]);
    assert!(
        out.contains("已导入收益及收益分配表 20 张（1 个文件），生成 100 笔年末分录"),
        "{out}"
    );
    let t = totals(&s);
    assert!(
        t.contains("131124100200,2015,operating_revenue,150000.00,1"),
        "{t}"
    );

    // A second import of two files, one sheet of the second with a wrong sum: neither is stored.
    let before = totals(&s);
    let good = workbook(
        &s,
        "good.xlsx",
        &[(
            "甲".into(),
            sheet_rows("元", "东关村股份经济合作社", 2030, "", "50000.00"),
        )],
    );
    let bad = workbook(
        &s,
        "bad.xlsx",
        &[(
            "乙".into(),
            sheet_rows("元", "西关村股份经济合作社", 2030, "", "50000.01"),
        )],
    );
    let r = s.cunji(&[
        "import",
        "statement-book",
        &good,
        &bad,
        "--region",
        "131124100000",
    ]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("bad.xlsx［乙］:16: 项目: “年末未分配收益”写的是 50,000.01 元，按各项计算应为 50,000.00 元")
            && err.contains("本次 2 个文件均未导入任何数据"),
        "{err}"
    );
    assert_eq!(totals(&s), before);
}

#[test]
fn an_ambiguous_name_lists_its_candidates_and_wan_yuan_are_exact() {
    let s = Scratch::new("books-names");
    s.import("regions", "r.csv", REGIONS);
    let sheet = sheet_rows("万元", "东关村股份经济合作社", 2024, "", "5");
    let file = workbook(&s, "east.xlsx", &[("东关".into(), sheet)]);
    let r = s.cunji(&["import", "statement-book", &file]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("“东关村股份经济合作社”对应多个村：东关村民委员会（131124100200）、东关村民委员会（131124101200）"),
        "{err}"
    );
    let out = s.ok(&[
        "import",
        "statement-book",
        &file,
        "--region",
        "131124101000",
    ]);
    assert!(out.contains("已导入收益及收益分配表 1 张"), "{out}");
    // 15 万元 of operating revenue are 150,000.00 元.
    assert!(totals(&s).contains("131124101200,2024,operating_revenue,150000.00,1"));
    // The distribution is the village's in the report JSON; a village without a book has null.
    let policy = s.write("p.toml", "name = \"p\"\n");
    let json: serde_json::Value =
        serde_json::from_str(&s.report("2024", policy.to_str().unwrap(), "json")).unwrap();
    let village = |code: &str| {
        json["villages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["code"] == code)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        village("131124101200")["distribution"],
        serde_json::json!({
            "opening_undistributed": "30000.00", "transfers_in": "0.00", "reserves": "40000.00",
            "welfare": "0.00", "outside_investors": "0.00", "members": "60000.00", "other": "0.00",
            "closing_undistributed": "50000.00"
        })
    );
    let other = village("131124100200");
    assert_eq!(other["code"], "131124100200", "listed without books");
    assert!(other["distribution"].is_null() && other.get("distribution").is_some());
}

#[test]
fn last_years_column_is_compared_with_the_stored_year_as_a_warning() {
    let s = Scratch::new("books-prior");
    s.import("regions", "r.csv", REGIONS);
    let first = workbook(
        &s,
        "2023.xlsx",
        &[(
            "2023".into(),
            sheet_rows("元", "西关村股份经济合作社", 2023, "", "50000.00"),
        )],
    );
    s.ok(&[
        "import",
        "statement-book",
        &first,
        "--region",
        "131124100000",
    ]);
    // The 2024 sheet says 2023's operating revenue was 140,000.00; the books hold 150,000.00.
    let second = workbook(
        &s,
        "2024.xlsx",
        &[(
            "2024".into(),
            sheet_rows("元", "西关村股份经济合作社", 2024, "140000", "50000.00"),
        )],
    );
    let out = s.ok(&[
        "import",
        "statement-book",
        &second,
        "--region",
        "131124100000",
    ]);
    assert!(
        out.contains("请核对（上年金额与库中不同，未影响导入）")
            && out.contains("“经营收入”上年金额写的是 140,000.00 元，已入账的 2023 年为 150,000.00 元（村 131124100201）"),
        "{out}"
    );
    // The year is stored once: a second statement for it is refused.
    let again = s.cunji(&[
        "import",
        "statement-book",
        &second,
        "--region",
        "131124100000",
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("2024 年已有账目"));
}
