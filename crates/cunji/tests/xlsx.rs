//! Excel and WPS in and out, checked by LibreOffice headless: the exported workbook, opened with the
//! default settings (stored results, no recalculation) and converted to CSV, holds the figures of the JSON
//! report; a workbook saved by LibreOffice from the CSV
//! fixtures imports to the same report as the CSVs. Without LibreOffice these say so and are skipped,
//! except under CI (`.ci/run` installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, Scratch};

fn soffice() -> Option<PathBuf> {
    for p in [
        "/usr/bin/soffice",
        "/usr/bin/libreoffice",
        "/usr/lib/libreoffice/program/soffice",
    ] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    assert!(
        std::env::var("CI").is_err(),
        "LibreOffice is missing (apt-get install libreoffice-calc-nogui)"
    );
    eprintln!("LibreOffice tests skipped: soffice not found");
    None
}

/// Runs LibreOffice as a user has it: a fresh profile of its own with the default settings, which
/// show a formula's stored result and do not recompute it when the file is loaded.
fn lo(s: &Scratch, args: &[&str]) {
    let profile = s.path("lo-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let out = Command::new(soffice().unwrap())
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .arg("--headless")
        .arg("--norestore")
        .args(args)
        .current_dir(&s.dir)
        .output()
        .expect("run soffice");
    assert!(
        out.status.success(),
        "soffice {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    r.records()
        .map(|rec| rec.unwrap().iter().map(|c| c.to_string()).collect())
        .collect()
}

/// A number as LibreOffice writes it (raw value) → fen.
fn fen(text: &str) -> i64 {
    (text
        .parse::<f64>()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
        * 100.0)
        .round() as i64
}

fn json_fen(v: &serde_json::Value) -> i64 {
    cunji_core::Fen::parse_yuan(v.as_str().unwrap())
        .unwrap()
        .fen()
}

fn load_case(s: &Scratch, case: &str, ext: &str) -> String {
    let dir = fixture(&format!("examples/{case}"));
    for kind in ["regions", "entries", "cadres", "grants"] {
        let f = if ext == "csv" {
            dir.join(format!("{kind}.csv"))
        } else {
            s.path(&format!("{kind}.{ext}"))
        };
        s.ok(&["import", kind, f.to_str().unwrap()]);
    }
    dir.join("policy.toml").display().to_string()
}

#[test]
fn the_exported_workbook_shows_the_json_figures_in_libreoffices_default_settings() {
    if soffice().is_none() {
        return;
    }
    let s = Scratch::new("xlsx-out");
    let policy = load_case(&s, "case-230", "csv");
    let json: serde_json::Value = serde_json::from_str(&s.report("2023", &policy, "json")).unwrap();
    s.ok(&[
        "report",
        "--year",
        "2023",
        "--policy",
        &policy,
        "--format",
        "xlsx",
        "--out",
        "report.xlsx",
    ]);
    lo(
        &s,
        &[
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            "lo",
            "report.xlsx",
        ],
    );
    let lo_dir = s.path("lo");

    // 村级明细: one row per village in code order, then the totals row as LibreOffice shows it
    // without recomputing (the formula's stored result).
    let rows = csv_rows(&lo_dir.join("report-村级明细.csv"));
    assert!(
        rows[0][0].starts_with("某省 2023 年村级集体经济报告 · 村级明细（"),
        "{:?}",
        rows[0]
    );
    let header = &rows[1];
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (pool_c, paid_c, total_c) = (
        col("奖励总额上限（元）"),
        col("核定发放（元）"),
        col("总收入（元）"),
    );
    let villages = json["villages"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        villages.len() + 3,
        "villages plus title, header and totals"
    );
    let mut pools = 0;
    let mut totals = 0;
    for (v, row) in villages.iter().zip(&rows[2..]) {
        assert_eq!(row[0], v["code"].as_str().unwrap());
        assert_eq!(row[1], v["name"].as_str().unwrap());
        let pool = json_fen(&v["incentive"]["pool"]);
        assert_eq!(fen(&row[pool_c]), pool, "pool of {}", row[0]);
        pools += pool;
        if let Some(t) = v["measures"]["total_income"].as_str() {
            let t = cunji_core::Fen::parse_yuan(t).unwrap().fen();
            assert_eq!(fen(&row[total_c]), t);
            totals += t;
        } else {
            assert_eq!(row[total_c], "");
        }
    }
    let last = rows.last().unwrap();
    assert_eq!(last[1], "合计");
    assert_eq!(fen(&last[pool_c]), pools, "the stored SUM of pools");
    assert_eq!(fen(&last[total_c]), totals);
    let province = &json["regions"][0];
    assert_eq!(fen(&last[paid_c]), json_fen(&province["awards_total"]));
    assert_eq!(pools, json_fen(&province["incentive_total"]));

    // 汇总: every region with the JSON's figures.
    let summary = csv_rows(&lo_dir.join("report-汇总.csv"));
    let h = &summary[1];
    let pc = h.iter().position(|x| x == "奖励总额上限（元）").unwrap();
    for (r, row) in json["regions"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&summary[2..])
    {
        assert_eq!(row[0], r["code"].as_str().unwrap());
        assert_eq!(fen(&row[pc]), json_fen(&r["incentive_total"]));
        assert_eq!(row[4], r["with_data"].to_string());
    }

    // 扶持资金: grants and their totals.
    let grants = csv_rows(&lo_dir.join("report-扶持资金.csv"));
    assert_eq!(
        grants[1][..4],
        ["资金编号", "村代码", "村", "项目名称"].map(String::from)
    );
    let jg = json["grants"].as_array().unwrap();
    let sum: i64 = jg.iter().map(|g| json_fen(&g["amount"])).sum();
    assert_eq!(fen(&grants.last().unwrap()[6]), sum);
    let name_of = |code: &str| {
        villages
            .iter()
            .find(|v| v["code"] == code)
            .map(|v| v["name"].as_str().unwrap().to_string())
    };
    for (g, row) in jg.iter().zip(&grants[2..]) {
        assert_eq!(fen(&row[8]), json_fen(&g["actual"]));
        if let Some(name) = name_of(g["village"].as_str().unwrap()) {
            assert_eq!(row[2], name);
        }
    }
    // 奖励计算 holds every trace line.
    let traces = csv_rows(&lo_dir.join("report-奖励计算.csv"));
    let lines: usize = villages
        .iter()
        .map(|v| {
            v["incentive"]["trace"]
                .as_array()
                .map(|t| t.len())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(traces.len(), lines + 2, "title, header and every line");
}

#[test]
fn a_workbook_saved_by_libreoffice_imports_to_the_same_report() {
    if soffice().is_none() {
        return;
    }
    for case in ["case-176", "case-250"] {
        let from_csv = Scratch::new("xlsx-in-csv");
        let policy = load_case(&from_csv, case, "csv");
        let expected = from_csv.report(
            if case == "case-176" { "2023" } else { "2022" },
            &policy,
            "json",
        );

        let s = Scratch::new("xlsx-in");
        for kind in ["regions", "entries", "cadres", "grants"] {
            std::fs::copy(
                fixture(&format!("examples/{case}/{kind}.csv")),
                s.path(&format!("{kind}.csv")),
            )
            .unwrap();
            lo(
                &s,
                &[
                    "--infilter=CSV:44,34,76,1,,0,false,true",
                    "--convert-to",
                    "xlsx",
                    &format!("{kind}.csv"),
                ],
            );
            std::fs::remove_file(s.path(&format!("{kind}.csv"))).unwrap();
        }
        let policy = load_case(&s, case, "xlsx");
        let actual = s.report(
            if case == "case-176" { "2023" } else { "2022" },
            &policy,
            "json",
        );
        assert_eq!(
            actual, expected,
            "{case}: the workbook imported differently from the CSVs"
        );
    }
}

#[test]
fn templates_import_and_workbook_errors_name_the_cell() {
    let s = Scratch::new("xlsx-template");
    s.ok(&[
        "import",
        "regions",
        fixture("examples/case-250/regions.csv").to_str().unwrap(),
    ]);
    assert!(s
        .ok(&["template", "entries", "--out", "t.xlsx"])
        .contains("已生成 entries 导入模板"));
    // The empty template's header and notes row are understood: nothing to store, nothing wrong.
    assert!(s
        .ok(&["import", "entries", "t.xlsx"])
        .contains("已导入 账目 0 行"));
    // With --region, a second sheet lists the region's villages to copy codes from; the import reads
    // the first sheet alone.
    let listed = s.ok(&[
        "template",
        "cadres",
        "--out",
        "c.xlsx",
        "--region",
        "351301000000",
    ]);
    assert!(listed.contains("“村名单”表列出 "), "{listed}");
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(s.path("c.xlsx")).unwrap();
    assert_eq!(book.sheet_names(), ["村干部", "村名单"]);
    use calamine::Reader;
    let list = book.worksheet_range("村名单").unwrap();
    let rows: Vec<Vec<String>> = list
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(rows[0], ["村代码", "村", "乡镇"]);
    let regions = std::fs::read_to_string(fixture("examples/case-250/regions.csv")).unwrap();
    // The county's villages in code order, less those merged into another (named as predecessors).
    let merged: Vec<&str> = regions
        .lines()
        .filter_map(|l| l.split(',').nth(2))
        .flat_map(|p| p.split(';'))
        .collect();
    let mut expected: Vec<&str> = regions
        .lines()
        .map(|l| l.split(',').next().unwrap())
        .filter(|c| c.starts_with("351301") && !c.ends_with("000") && !merged.contains(c))
        .collect();
    expected.sort();
    let listed: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(listed, expected);
    assert!(s
        .ok(&["import", "cadres", "c.xlsx"])
        .contains("已导入 村干部 0 行"));
    let bad = s.cunji(&["template", "ledger", "--out", "x.xlsx"]);
    assert_eq!(bad.status.code(), Some(2));

    // A workbook as a person fills it: a date cell, a number cell for the code, a formula for the amount.
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("一月").unwrap();
    for (i, h) in ["村代码", "日期", "科目", "金额", "摘要"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    typed_row(ws, "经营收入");
    ws.write_string(1, 4, "门面房租金").unwrap();
    ws.write_string(2, 0, "351301001001").unwrap();
    ws.write_string(2, 1, "2022-04-01").unwrap();
    ws.write_string(2, 2, "经营收入").unwrap();
    ws.write_number(2, 3, 12.345).unwrap();
    book.save(s.path("jan.xlsx")).unwrap();
    let out = s.cunji(&["import", "entries", "jan.xlsx"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("jan.xlsx［一月］:3: 金额（D3）: 金额格式不对：`12.345`"),
        "{err}"
    );
    // Without the bad row, the workbook imports: the formula by its cached value, the date as a date.
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (i, h) in ["village", "date", "account", "amount"].iter().enumerate() {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    typed_row(ws, "operating_revenue");
    book.save(s.path("ok.xlsx")).unwrap();
    s.ok(&["import", "entries", "ok.xlsx"]);
    let p = s.write("p.toml", "name = \"x\"\n");
    let json: serde_json::Value =
        serde_json::from_str(&s.report("2022", p.to_str().unwrap(), "json")).unwrap();
    assert_eq!(
        json["villages"][0]["measures"]["operating_income"],
        "1234.50"
    );
}

/// Row 2 as a person types it: the code as a number, the date as a date, the amount as a formula
/// (with its cached value).
fn typed_row(ws: &mut rust_xlsxwriter::Worksheet, account: &str) {
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let day = rust_xlsxwriter::ExcelDateTime::from_ymd(2022, 3, 15).unwrap();
    let amount = rust_xlsxwriter::Formula::new("=1000+234.5").set_result("1234.5");
    ws.write_number(1, 0, 351_301_001_001.0).unwrap();
    ws.write_datetime_with_format(1, 1, day, &date).unwrap();
    ws.write_string(1, 2, account).unwrap();
    ws.write_formula(1, 3, amount).unwrap();
}

/// Python with LibreOffice's UNO bridge (Debian's python3-uno, installed with LibreOffice), or None
/// outside CI when it is missing.
fn uno_python() -> Option<&'static str> {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import uno"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").is_err(),
            "python3-uno is missing (apt-get install python3-uno)"
        );
        eprintln!("skipped: /usr/bin/python3 cannot import uno");
    }
    ok.then_some("/usr/bin/python3")
}

/// SPEC §14's template: a sheet for each village of `--region`, the code beside the name so that the
/// two 东关 of one county are told apart. Empty, it is refused (`没有可导入的数字`); typed into and saved
/// by LibreOffice (its sum formulas recomputed there), it imports the figures typed, the sums checked
/// by the importer; a sheet left as handed out is skipped and named.
#[test]
fn the_statement_book_template_is_refused_empty_and_imports_filled_in_by_libreoffice() {
    let s = Scratch::new("xlsx-books");
    s.import(
        "regions",
        "r.csv",
        "code,name\n130000000000,河北省\n131100000000,衡水市\n131124000000,饶阳县\n\
         131124100000,饶阳镇\n131124101000,大尹村镇\n131124100200,东关村民委员会\n\
         131124100201,西关村民委员会\n131124101200,东关村民委员会\n",
    );
    let made = s.ok(&[
        "template",
        "statement-book",
        "--region",
        "131124000000",
        "--year",
        "2023",
        "--out",
        "empty.xlsx",
    ]);
    assert!(made.contains("（3 个村，每村一张表）"), "{made}");
    let book: calamine::Xlsx<_> = calamine::open_workbook(s.path("empty.xlsx")).unwrap();
    use calamine::Reader;
    assert_eq!(
        book.sheet_names(),
        [
            "东关村民委员会",
            "西关村民委员会",
            "东关村民委员会-131124101200"
        ]
    );
    // Not filled in, it is refused as a whole (#31: it was once stored as statements of zeros).
    let empty = s.cunji(&["import", "statement-book", "empty.xlsx"]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&empty.stderr).contains("没有可导入的数字：3 张工作表都未填写金额"),
        "{}",
        String::from_utf8_lossy(&empty.stderr)
    );

    let (Some(office), Some(python)) = (soffice(), uno_python()) else {
        return;
    };
    s.ok(&[
        "template",
        "statement-book",
        "--region",
        "131124000000",
        "--year",
        "2024",
        "--out",
        "t.xlsx",
    ]);
    let profile = s.path("lo-profile");
    std::fs::create_dir_all(&profile).unwrap();
    // Sheet i: 经营收入 150,000 + i × 1,000.55, 经营支出 60,000, 管理费用 40,000 (运转支出 12,000 of it),
    // 投资收益 20,000, 补助收入 50,000, 年初未分配收益 30,000, 公积公益金 40,000, 成员分配 60,000.
    let script = fixture("statement-books/lo_fill.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(&office)
        .arg(&profile)
        .arg(s.path("t.xlsx"))
        .arg(s.path("filled.xlsx"))
        .args([
            "C4=150000+{i}*1000.55",
            "C5=60000",
            "C7=40000",
            "C8=12000",
            "C9=20000",
            "C10=50000",
            "C17=30000",
            "C20=40000",
            "C22=60000",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored = s.ok(&["import", "statement-book", "filled.xlsx"]);
    assert!(
        stored.contains("已导入收益及收益分配表 3 张（1 个文件），生成 15 笔年末分录"),
        "{stored}"
    );
    // The year before, only the first and last sheets filled in: the middle one is skipped.
    s.ok(&[
        "template",
        "statement-book",
        "--region",
        "131124000000",
        "--year",
        "2023",
        "--out",
        "t2023.xlsx",
    ]);
    let out = Command::new(python)
        .arg(&script)
        .arg(&office)
        .arg(&profile)
        .arg(s.path("t2023.xlsx"))
        .arg(s.path("some.xlsx"))
        .args(["sheets=0,2", "C4=1000.01", "C17=0", "C22=0"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored = s.ok(&["import", "statement-book", "some.xlsx"]);
    assert!(
        stored.contains("已导入收益及收益分配表 2 张（1 个文件），生成 2 笔年末分录")
            && stored.contains("已跳过未填写金额的工作表 1 张（未存入任何数据）：")
            && stored.contains("some.xlsx［西关村民委员会］"),
        "{stored}"
    );
    s.ok(&["totals", "--out", "t.csv"]);
    let totals = std::fs::read_to_string(s.path("t.csv")).unwrap();
    for line in [
        "131124100200,2024,operating_revenue,150000.00,1",
        "131124100201,2024,operating_revenue,151000.55,1",
        "131124101200,2024,operating_revenue,152001.10,1",
        "131124101200,2024,admin_expense,40000.00,1",
        "131124100200,2023,operating_revenue,1000.01,1",
        "131124101200,2023,operating_revenue,1000.01,1",
    ] {
        assert!(totals.contains(line), "{line} in {totals}");
    }
}
