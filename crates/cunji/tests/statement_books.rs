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

/// A workbook `file` of one sheet `sheet` in 元 (`sheet_rows` of `village`, `year`, `last`, `closing`).
fn one_sheet(
    s: &Scratch,
    file: &str,
    sheet: &str,
    village: &str,
    year: i32,
    last: &str,
    closing: &str,
) -> String {
    let rows = sheet_rows("元", village, year, last, closing);
    workbook(s, file, &[(sheet.into(), rows)])
}

/// The arguments of `cunji import statement-book FILES --region 131124100000` (the county).
fn book_args<'a>(files: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["import", "statement-book"];
    args.extend(files);
    args.extend(["--region", "131124100000"]);
    args
}

/// Imports the statement books `files` for the county, which must succeed: the output.
fn import_books(s: &Scratch, files: &[&str]) -> String {
    s.ok(&book_args(files))
}

/// Imports the statement books `files` for the county, which must be refused: the errors.
fn books_refused(s: &Scratch, files: &[&str]) -> String {
    refused(s, &book_args(files))
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
    let out = import_books(&s, &[&one]);
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
    let good = one_sheet(
        &s,
        "good.xlsx",
        "甲",
        "东关村股份经济合作社",
        2030,
        "",
        "50000.00",
    );
    let bad = one_sheet(
        &s,
        "bad.xlsx",
        "乙",
        "西关村股份经济合作社",
        2030,
        "",
        "50000.01",
    );
    let err = books_refused(&s, &[&good, &bad]);
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
    let first = one_sheet(
        &s,
        "2023.xlsx",
        "2023",
        "西关村股份经济合作社",
        2023,
        "",
        "50000.00",
    );
    import_books(&s, &[&first]);
    // The 2024 sheet says 2023's operating revenue was 140,000.00; the books hold 150,000.00.
    let second = one_sheet(
        &s,
        "2024.xlsx",
        "2024",
        "西关村股份经济合作社",
        2024,
        "140000",
        "50000.00",
    );
    let out = import_books(&s, &[&second]);
    assert!(
        out.contains("请核对（上年金额与库中不同，未影响导入）")
            && out.contains("“经营收入”上年金额写的是 140,000.00 元，已入账的 2023 年为 150,000.00 元（村 131124100201）"),
        "{out}"
    );
    // The year is stored once: a second book for it is a row error naming the sheet, the village
    // and the year, never the database's own words.
    let err = books_refused(&s, &[&second]);
    assert!(
        err.contains("2024.xlsx［2024］:1: 项目: 村 131124100201 的 2024 年已导入过收益及收益分配表，不能再导入一张（更正请记账或冲销）")
            && !err.contains("UNIQUE"),
        "{err}"
    );
}

/// A sheet as the template hands it out: the lines named, no amount typed, the sum lines 0 (in the
/// template they are formulas whose stored result is 0).
fn blank_rows(village: &str, year: i32) -> Vec<Vec<String>> {
    let mut rows = sheet_rows("元", village, year, "", "0");
    for row in rows.iter_mut().skip(3) {
        let sum = ["本年收益", "净收益", "可分配收益", "年末未分配收益"]
            .iter()
            .any(|s| row[0].contains(s));
        row[2] = if sum { "0".into() } else { String::new() };
    }
    rows
}

fn refused(s: &Scratch, args: &[&str]) -> String {
    let r = s.cunji(args);
    assert_eq!(
        r.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&r.stdout)
    );
    String::from_utf8_lossy(&r.stderr).to_string()
}

/// #31: the template with sheets not filled in was stored as statements of zeros for every
/// village. A sheet without figures is skipped with a warning naming it and blocks nothing — not
/// even for a village that has ledger entries; a workbook without any figure is refused.
#[test]
fn sheets_not_filled_in_are_skipped_and_a_book_without_figures_is_refused() {
    let s = Scratch::new("books-blank");
    s.import("regions", "r.csv", REGIONS);
    s.ok(&[
        "template",
        "statement-book",
        "--region",
        "131124000000",
        "--year",
        "2023",
        "--out",
        "empty.xlsx",
    ]);
    let err = refused(&s, &["import", "statement-book", "empty.xlsx"]);
    assert!(
        err.contains("empty.xlsx:1: 文件: 没有可导入的数字：3 张工作表都未填写金额（empty.xlsx［东关村民委员会］、empty.xlsx［西关村民委员会］、empty.xlsx［东关村民委员会-131124101200］）")
            && err.contains("共 1 处错误，本次 1 个文件均未导入任何数据。"),
        "{err}"
    );
    assert_eq!(totals(&s), "village,year,account,amount,entries\n");

    // 东关 (131124100200) has entries of 2024; its blank sheet sits beside 西关's filled one.
    s.import(
        "entries",
        "e.csv",
        "village,date,account,amount\n131124100200,2024-03-01,operating_revenue,10\n",
    );
    let book = workbook(
        &s,
        "mixed.xlsx",
        &[
            (
                "东关".into(),
                blank_rows("东关村民委员会（131124100200）", 2024),
            ),
            (
                "西关".into(),
                sheet_rows("元", "西关村股份经济合作社", 2024, "", "50000.00"),
            ),
            (
                "东关又一张".into(),
                blank_rows("东关村民委员会（131124100200）", 2024),
            ),
        ],
    );
    let out = import_books(&s, &[&book]);
    assert!(
        out.contains("已导入收益及收益分配表 1 张（1 个文件），生成 5 笔年末分录。")
            && out.contains("已跳过未填写金额的工作表 2 张（未存入任何数据）：")
            && out.contains("mixed.xlsx［东关］")
            && out.contains("mixed.xlsx［东关又一张］"),
        "{out}"
    );
    let t = totals(&s);
    assert!(
        t.contains("131124100200,2024,operating_revenue,10.00,1\n")
            && t.contains("131124100201,2024,operating_revenue,150000.00,1\n"),
        "{t}"
    );
}

/// #31: 万元 cells are multiplied by 10,000 before the whole-fen test (20.010001 万元 is 200,100.01
/// 元, 0.000001 万元 one fen: once a fen was lost, and one fen was stored as 0); text amounts follow
/// SPEC §1's one rule (`1,234.00元` is an amount, `1,2,3` a row error).
#[test]
fn wan_yuan_cells_are_exact_and_text_amounts_follow_the_rule() {
    let s = Scratch::new("books-exact");
    s.import("regions", "r.csv", REGIONS);
    let head = |unit: &str| -> Vec<Vec<String>> {
        vec![
            vec![
                "编制单位：西关村股份经济合作社".into(),
                "2024年度".into(),
                format!("单位：{unit}"),
            ],
            vec!["项目".into(), "行次".into(), "本年金额".into()],
        ]
    };
    let line = |name: &str, amount: &str| vec![name.to_string(), String::new(), amount.to_string()];
    let mut wan = head("万元");
    wan.extend([
        line("经营收入", "20.010001"),
        line("其他收入", "0.000001"),
        line("本年收益", "20.010002"),
    ]);
    let file = workbook(&s, "wan.xlsx", &[("万元".into(), wan)]);
    import_books(&s, &[&file]);
    let t = totals(&s);
    assert!(
        t.contains("131124100201,2024,operating_revenue,200100.01,1\n")
            && t.contains("131124100201,2024,other_income,0.01,1\n"),
        "{t}"
    );

    // Text cells in 元 (the workbook helper writes them as text: they are not numbers).
    let mut text = head("元");
    text[0][1] = "2023年度".into();
    text.extend([line("经营收入", "1,234.00元"), line("本年收益", "1，234元")]);
    let file = workbook(&s, "text.xlsx", &[("元".into(), text.clone())]);
    import_books(&s, &[&file]);
    assert!(totals(&s).contains("131124100201,2023,operating_revenue,1234.00,1\n"));
    text[0][1] = "2022年度".into();
    text[2][2] = "1,2,3".into();
    text[3][2] = "123".into();
    let file = workbook(&s, "bad.xlsx", &[("元".into(), text)]);
    let err = books_refused(&s, &[&file]);
    assert!(
        err.contains("bad.xlsx［元］:3: 项目: “经营收入”：金额格式不对：`1,2,3`（应写作元，如 12345、12,345.6、-80.00）"),
        "{err}"
    );
}

/// SPEC §14: a village-year with ledger entries takes its book as a check — each account line must
/// equal the entries' total (a difference names the account, the books' total and the statement's
/// figure); no entry is added and the distribution is stored. Two books for one village-year in one
/// import are a row error, not the database's.
#[test]
fn a_book_over_a_year_with_entries_is_a_check_and_keeps_its_distribution() {
    let s = Scratch::new("books-check");
    s.import("regions", "r.csv", REGIONS);
    // The entries of sheet_rows: 经营收入 150,000, 投资收益 20,000, 补助收入 50,000, 经营支出 60,000,
    // 管理费用 40,000 — 东关 in two entries of 经营收入, 西关 one yuan short.
    s.import(
        "entries",
        "e.csv",
        "village,date,account,amount\n\
         131124100200,2024-03-01,operating_revenue,100000\n\
         131124100200,2024-06-01,operating_revenue,50000\n\
         131124100200,2024-06-01,investment_income,20000\n\
         131124100200,2024-06-01,subsidy_income,50000\n\
         131124100200,2024-06-01,operating_cost,60000\n\
         131124100200,2024-06-01,admin_expense,40000\n\
         131124100201,2024-06-01,operating_revenue,149999\n\
         131124100201,2024-06-01,investment_income,20000\n\
         131124100201,2024-06-01,subsidy_income,50000\n\
         131124100201,2024-06-01,operating_cost,60000\n\
         131124100201,2024-06-01,admin_expense,40000\n",
    );
    let before = totals(&s);
    let east = one_sheet(
        &s,
        "east.xlsx",
        "东关",
        "东关村股份经济合作社",
        2024,
        "",
        "50000.00",
    );
    let out = import_books(&s, &[&east]);
    assert!(
        out.contains("已导入收益及收益分配表 1 张（1 个文件），生成 0 笔年末分录。")
            && out.contains(
                "其中 1 张所属村、年度已有账目：已与账目核对一致，未重复记账，只存入收益分配。"
            ),
        "{out}"
    );
    assert_eq!(totals(&s), before, "no entry added");
    let policy = s.write("p.toml", "name = \"p\"\n");
    let json: serde_json::Value =
        serde_json::from_str(&s.report("2024", policy.to_str().unwrap(), "json")).unwrap();
    let east_json = json["villages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == "131124100200")
        .cloned()
        .unwrap();
    assert_eq!(east_json["distribution"]["members"], "60000.00");

    let west = workbook(
        &s,
        "west.xlsx",
        &[
            (
                "西关".into(),
                sheet_rows("元", "西关村股份经济合作社", 2024, "", "50000.00"),
            ),
            (
                "西关2023".into(),
                sheet_rows("元", "西关村股份经济合作社", 2023, "", "50000.00"),
            ),
            (
                "西关2023又一张".into(),
                sheet_rows("元", "西关村股份经济合作社", 2023, "", "50000.00"),
            ),
        ],
    );
    let err = books_refused(&s, &[&west]);
    assert!(
        err.contains("west.xlsx［西关］:1: 项目: 村 131124100201 的 2024 年已有账目，报表作为核对：“经营收入”账上合计 149,999.00 元，报表写的是 150,000.00 元")
            && err.contains("west.xlsx［西关2023又一张］:1: 项目: 村 131124100201 的 2023 年收益及收益分配表与 /")
            && err.contains("/west.xlsx［西关2023］ 重复（一个村一年只导入一张）")
            && err.contains("共 2 处错误"),
        "{err}"
    );
    assert_eq!(totals(&s), before);
}

/// #32: a 6 KB workbook whose four sheets each hold one value in W1048576 took 3.0 GB, the reader
/// filling the rectangle to that cell. Only what a sheet holds is read: it imports in little memory.
#[test]
fn a_far_off_cell_costs_no_memory() {
    let s = Scratch::new("books-far");
    s.import("regions", "r.csv", REGIONS);
    let mut book = rust_xlsxwriter::Workbook::new();
    for (i, (village, year)) in [
        ("东关村股份经济合作社", 2021),
        ("西关村股份经济合作社", 2021),
        ("东关村股份经济合作社", 2022),
        ("西关村股份经济合作社", 2022),
    ]
    .iter()
    .enumerate()
    {
        let ws = book.add_worksheet();
        ws.set_name(format!("表{i}")).unwrap();
        for (r, row) in sheet_rows("元", village, *year, "", "50000.00")
            .iter()
            .enumerate()
        {
            for (c, cell) in row.iter().enumerate() {
                match cell.parse::<f64>() {
                    Ok(n) if c >= 2 => ws.write_number(r as u32, c as u16, n).unwrap(),
                    _ => ws.write_string(r as u32, c as u16, cell).unwrap(),
                };
            }
        }
        ws.write_number(1_048_575, 22, 1.0).unwrap();
    }
    let path = s.path("far.xlsx");
    book.save(&path).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 16_000, "{size} bytes");
    let args = [
        "import",
        "statement-book",
        path.to_str().unwrap(),
        "--region",
        "131124100000",
    ];
    let Some((out, kib)) = s.cunji_measured(&args) else {
        s.ok(&args);
        return;
    };
    eprintln!("far-off cell: {size} bytes, peak RSS {kib} KiB");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("已导入收益及收益分配表 4 张"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(kib < 200 * 1024, "peak RSS {kib} KiB");
}

/// A sheet is bounded by the cells it holds (100,000 filled cells; BOOK_SHEET_CELLS): past that it
/// is refused with a message naming the sheet, before anything else is read.
#[test]
fn a_sheet_of_too_many_cells_is_refused() {
    let s = Scratch::new("books-cells");
    s.import("regions", "r.csv", REGIONS);
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("大表").unwrap();
    for r in 0..50_001u32 {
        ws.write_number(r, 0, 1.0).unwrap();
        ws.write_number(r, 1, 2.0).unwrap();
    }
    let path = s.path("big.xlsx");
    book.save(&path).unwrap();
    let err = refused(&s, &["import", "statement-book", path.to_str().unwrap()]);
    assert!(
        err.contains("big.xlsx:1: 文件: 工作表“大表”有内容的单元格超过 100000 个，不像一张收益及收益分配表：请删去表外的内容"),
        "{err}"
    );
}
