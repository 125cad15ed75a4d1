//! Pay floors through the binary: the stats import (all or nothing) and the `pay_floor` list of the
//! report in JSON, table and CSV, under the shipped Guizhou policy.

mod common;

use common::{repo_root, Scratch};

const REGIONS: &str = "code,name\n520000000000,贵州省\n520300000000,遵义市\n520302000000,红花岗区\n520303000000,汇川区\n520302001000,某街道\n520303001000,某镇\n520302001001,甲村\n520303001001,乙村\n";

fn setup(name: &str) -> Scratch {
    let s = Scratch::new(name);
    s.import("regions", "r.csv", REGIONS);
    s.import("entries", "e.csv", "village,date,account,amount\n520302001001,2024-03-01,operating_revenue,100000\n520303001001,2024-03-01,operating_revenue,100000\n");
    s
}

#[test]
fn stats_imports_are_checked() {
    let s = setup("stats-bad");
    let bad = s.write(
        "s.csv",
        "区划代码,年度,农村居民人均可支配收入\n520302001001,2023,15000\n520399000000,2023,15000\n520302000000,2023,-5\n520303000000,2023,15000\n520303000000,2023,15001\n",
    );
    let out = s.cunji(&["import", "stats", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":2: 区划代码: 520302001001 是村级代码，统计数据按县填报"),
        "{err}"
    );
    assert!(
        err.contains(":3: 区划代码: 县 520399000000 未登记"),
        "{err}"
    );
    assert!(
        err.contains(":4: 农村居民人均可支配收入: 农村居民人均可支配收入应大于 0"),
        "{err}"
    );
    assert!(
        err.contains(":6: 年度: 县 520303000000 的 2023 年数据与第 5 行重复"),
        "{err}"
    );
    let good = s.write(
        "g.csv",
        "region,year,rural_income\n520302000000,2023,15000\n",
    );
    assert!(s
        .ok(&["import", "stats", good.to_str().unwrap()])
        .contains("已导入 县级统计 1 行"));
    // A revised figure replaces the old one, and the audit log keeps both.
    let revised = s.write(
        "v.csv",
        "region,year,rural_income\n520302000000,2023,15100\n",
    );
    s.ok(&["import", "stats", revised.to_str().unwrap()]);
    assert!(s.ok(&["audit"]).contains("15,000.00 → 15,100.00"));
}

#[test]
fn the_report_lists_cadres_below_the_floor() {
    let s = setup("stats-report");
    s.ok(&[
        "import",
        "stats",
        s.write(
            "s.csv",
            "region,year,rural_income\n520302000000,2023,15000\n",
        )
        .to_str()
        .unwrap(),
    ]);
    s.import("cadres", "c.csv", "village,year,person,name,role,months_in_post,base_pay\n520302001001,2024,P1,张三,书记,12,45000\n520302001001,2024,P2,李四,书记兼主任,6,24999.99\n520303001001,2024,P3,王五,书记,12,40000\n");
    let policy = repo_root().join("policies/guizhou.toml");
    let json: serde_json::Value =
        serde_json::from_str(&s.report("2024", policy.to_str().unwrap(), "json")).unwrap();
    // P1 is exactly at 3 × 15,000 = 45,000: not listed. P2 (secretary-director, 6 months): max(45,000,
    // 50,000) × 6/12 = 25,000.00, one fen short. P3's county has no 2023 statistics: unknown.
    let lines = json["pay_floor"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (
            lines[0]["person"].as_str(),
            lines[0]["floor"].as_str(),
            lines[0]["shortfall"].as_str()
        ),
        (Some("P2"), Some("25000.00"), Some("0.01"))
    );
    assert_eq!(
        (lines[1]["person"].as_str(), lines[1]["status"].as_str()),
        (Some("P3"), Some("unknown"))
    );
    let table = s.ok(&[
        "report",
        "--year",
        "2024",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert!(
        table.contains("【村干部报酬保障】")
            && table.contains("24,999.99  25,000.00  0.01  低于保障线"),
        "{table}"
    );
    let csv = s.report("2024", policy.to_str().unwrap(), "csv");
    assert!(
        csv.contains("\r\n村干部报酬保障\r\n年度,村代码,人员编号"),
        "{csv}"
    );
    assert!(
        csv.contains(
            "2024,520302001001,P2,李四,secretary_director,6,below,24999.99,25000.00,0.01,"
        ),
        "{csv}"
    );
}

#[test]
fn stats_import_from_a_workbook() {
    let s = setup("stats-xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (i, h) in ["区划代码", "年度", "农村居民人均可支配收入"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    ws.write_number(1, 0, 520_302_000_000.0).unwrap();
    ws.write_number(1, 1, 2023.0).unwrap();
    ws.write_number(1, 2, 15_000.5).unwrap();
    ws.write_string(2, 0, "520303000000").unwrap();
    ws.write_number(2, 1, 2023.0).unwrap();
    ws.write_string(2, 2, "一万五").unwrap();
    book.save(s.path("stats.xlsx")).unwrap();
    let out = s.cunji(&["import", "stats", "stats.xlsx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("stats.xlsx［Sheet1］:3: 农村居民人均可支配收入（C3）: 金额格式不对"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (i, h) in ["region", "year", "rural_income"].iter().enumerate() {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    ws.write_number(1, 0, 520_302_000_000.0).unwrap();
    ws.write_number(1, 1, 2023.0).unwrap();
    ws.write_number(1, 2, 15_000.5).unwrap();
    book.save(s.path("ok.xlsx")).unwrap();
    assert!(s
        .ok(&["import", "stats", "ok.xlsx"])
        .contains("已导入 县级统计 1 行"));
    assert!(s.ok(&["audit"]).contains("import_stats"));
}
