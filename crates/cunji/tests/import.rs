//! Imports through the real binary: all or nothing, every bad row named, re-imports stored once,
//! encodings, closed years, merges, reversals, statements and grants.

mod common;

use common::Scratch;

const REGIONS: &str = "code,name,predecessors,merged_in
130000000000,河北省,,
131100000000,衡水市,,
131124000000,饶阳县,,
131124100000,饶阳镇,,
131124100200,东关村,,
131124100201,西关村,,
131124100202,南关村,131124100203,2023
131124100203,北关村,,
";

fn setup(name: &str) -> Scratch {
    let s = Scratch::new(name);
    s.import("regions", "regions.csv", REGIONS);
    s
}

fn report_json(s: &Scratch, year: &str) -> serde_json::Value {
    let p = s.write("p.toml", "name = \"测试\"\n[incentive]\nrate = \"10%\"\n");
    let out = s.report(year, p.to_str().unwrap(), "json");
    serde_json::from_str(&out).unwrap()
}

/// Runs a command that must be refused (exit 2) with each of `expected` in its errors; the errors.
fn refused(s: &Scratch, args: &[&str], expected: &[&str]) -> String {
    let (code, stderr) = err_of(s, args);
    assert_eq!(code, 2, "{stderr}");
    for e in expected {
        assert!(stderr.contains(e), "{e} not in: {stderr}");
    }
    stderr
}

/// Writes `text` as file `name` and imports it as `kind`, which must be refused as `refused` says.
fn import_refused(
    s: &Scratch,
    kind: &str,
    name: &str,
    text: impl AsRef<[u8]>,
    expected: &[&str],
) -> String {
    let f = s.write(name, text);
    refused(s, &["import", kind, f.to_str().unwrap()], expected)
}

fn err_of(s: &Scratch, args: &[&str]) -> (i32, String) {
    let out = s.cunji(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn ten_thousand_rows_with_three_bad_ones_store_nothing() {
    let s = setup("bad3");
    let mut text = String::from("village,date,account,amount,voucher,memo\n");
    for i in 0..10_000 {
        let line = i + 2;
        let (village, date, amount) = match line {
            1234 => ("131124100200", "2023-02-30", "100.00"), // no such day
            5678 => ("131124100299", "2023-05-01", "100.00"), // unregistered village
            9999 => ("131124100201", "2023-06-01", "12.345"), // not whole fen
            _ => (
                if i % 2 == 0 {
                    "131124100200"
                } else {
                    "131124100201"
                },
                "2023-03-15",
                "100.00",
            ),
        };
        text.push_str(&format!(
            "{village},{date},operating_revenue,{amount},记-{i:05},租金\n"
        ));
    }
    let file = s.path("entries.csv").display().to_string();
    import_refused(
        &s,
        "entries",
        "entries.csv",
        text,
        &[
            &format!("{file}:1234: date: 日期 `2023-02-30` 不存在"),
            &format!("{file}:5678: village: 村 131124100299 未登记"),
            &format!("{file}:9999: amount: 金额格式不对：`12.345`"),
            "共 3 处错误，本文件未导入任何数据。",
        ],
    );
    let r = report_json(&s, "2023");
    assert!(r["villages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["has_data"] == false));
}

#[test]
fn a_good_file_imported_twice_is_stored_once() {
    let s = setup("twice");
    let f = s.write(
        "entries.csv",
        "village,date,account,amount,voucher\n131124100200,2023-03-01,operating_revenue,\"1,000.50\",记-1\n131124100200,2024-03-01,经营收入,2000元,记-1\n",
    );
    assert!(s
        .ok(&["import", "entries", f.to_str().unwrap()])
        .contains("已导入 账目 2 行"));
    assert!(s
        .ok(&["import", "entries", f.to_str().unwrap()])
        .contains("已导入过"));
    let r = report_json(&s, "2024");
    let v = &r["villages"][0];
    assert_eq!(v["measures"]["operating_income"], "2000.00");
    assert_eq!(v["incentive"]["base"], "999.50");
    assert_eq!(v["incentive"]["pool"], "99.95");
    let audit = s.ok(&["audit"]);
    assert_eq!(audit.matches("import_entries").count(), 1, "{audit}");
}

#[test]
fn gbk_files_with_chinese_headers_import() {
    let s = setup("gbk");
    let text = "村代码,日期,科目,金额,凭证号,摘要\n131124100200,2023-03-01,发包及上交收入,5000,记-1,土地发包\n131124100200,2023-04-01,502,300,记-2,经营支出\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    // Account code 502 without a chart is ambiguous (经营支出 in 2004, 投资收益 in 2023): refused, the
    // column named by the file's own Chinese header.
    import_refused(
        &s,
        "entries",
        "gbk.csv",
        &*gbk,
        &[":3: 科目: 科目代码 `502` 须同时注明科目体系"],
    );
    let text = "村代码,日期,科目,金额,凭证号,摘要,科目体系\n131124100200,2023-03-01,发包及上交收入,5000,记-1,土地发包,\n131124100200,2023-04-01,502,300,记-2,经营支出,2004\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    s.import("entries", "gbk2.csv", &*gbk);
    let r = report_json(&s, "2023");
    assert_eq!(r["villages"][0]["measures"]["operating_profit"], "4700.00");
}

#[test]
fn closed_years_refuse_entries_until_reopened_with_a_reason() {
    let s = setup("closed");
    s.ok(&["close", "--village", "131124100200", "--year", "2023"]);
    let f = s.write(
        "e.csv",
        "village,date,account,amount\n131124100200,2023-12-31,other_income,1\n",
    );
    refused(
        &s,
        &["import", "entries", f.to_str().unwrap()],
        &[":2: date: 村 131124100200 的 2023 年已结账"],
    );
    let (code, stderr) = err_of(
        &s,
        &[
            "reopen",
            "--village",
            "131124100200",
            "--year",
            "2023",
            "--reason",
            "",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    s.ok(&[
        "reopen",
        "--village",
        "131124100200",
        "--year",
        "2023",
        "--reason",
        "补记漏记的利息收入",
    ]);
    s.ok(&["import", "entries", f.to_str().unwrap()]);
    let audit = s.ok(&["audit"]);
    assert!(
        audit.contains("close_year")
            && audit.contains("reopen_year")
            && audit.contains("补记漏记的利息收入"),
        "{audit}"
    );
}

#[test]
fn merged_villages_take_no_entries_after_the_merge() {
    let s = setup("merged");
    let stderr = import_refused(
        &s,
        "entries",
        "e.csv",
        "village,date,account,amount\n131124100203,2022-05-01,operating_revenue,100\n131124100203,2023-05-01,operating_revenue,100\n",
        &[":3: village: 该村已于 2023 年并入 131124100202（merged into 131124100202 in 2023）"],
    );
    assert!(!stderr.contains(":2:"), "{stderr}");
}

#[test]
fn reversals_name_a_voucher_once() {
    let s = setup("reverse");
    s.import(
        "entries",
        "a.csv",
        "village,date,account,amount,voucher\n131124100200,2023-03-01,other_income,880.00,记-7\n",
    );
    import_refused(
        &s,
        "entries",
        "b.csv",
        "village,date,account,amount,voucher,reverses\n131124100200,2023-03-02,other_income,-88.00,记-8,2023:记-7\n131124100200,2023-03-02,operating_revenue,-880.00,记-9,2023:记-7\n131124100200,2023-03-02,other_income,-880.00,记-10,2023:记-99\n",
        &[
            ":2: amount: 冲销金额应为原凭证的相反数 -880.00",
            ":3: account: 冲销分录的科目应与原凭证相同",
            ":4: reverses: 要冲销的凭证 2023:记-99",
        ],
    );
    s.import("entries", "c.csv", "village,date,account,amount,voucher,reverses,memo\n131124100200,2024-01-05,other_income,-880.00,记-1,2023:记-7,冲销误记\n");
    import_refused(
        &s,
        "entries",
        "d.csv",
        "village,date,account,amount,voucher,reverses\n131124100200,2024-01-06,other_income,-880.00,记-2,2023:记-7\n",
        &["已经冲销过"],
    );
    // The reversal counts in the year of its own date.
    let r = report_json(&s, "2024");
    assert_eq!(r["villages"][0]["measures"]["total_income"], "-880.00");
}

#[test]
fn vouchers_are_unique_per_village_and_year() {
    let s = setup("voucher");
    import_refused(
        &s,
        "entries",
        "e.csv",
        "village,date,account,amount,voucher\n131124100200,2023-03-01,other_income,1,记-1\n131124100200,2023-04-01,other_income,1,记-1\n131124100201,2023-04-01,other_income,1,记-1\n131124100200,2024-04-01,other_income,1,记-1\n",
        &[":3: voucher: 凭证号 记-1 与第 2 行重复", "共 1 处错误"],
    );
}

#[test]
fn statements_become_year_end_entries_once() {
    let s = setup("statements");
    s.import(
        "statements",
        "s.csv",
        "村代码,年度,经营收入,发包及上交收入,补助收入,经营支出\n131124100200,2022,50000,30000,20000,10000\n",
    );
    let r = report_json(&s, "2022");
    let v = &r["villages"][0];
    assert_eq!(v["measures"]["total_income"], "100000.00");
    assert_eq!(v["measures"]["operating_profit"], "70000.00");
    // A statement of a year with entries is a check (SPEC §3): a difference is a row error naming
    // the account, the books' total and the statement's figure ...
    import_refused(
        &s,
        "statements",
        "s2.csv",
        "village,year,operating_revenue\n131124100200,2022,1\n",
        &[":2: operating_revenue: 村 131124100200 的 2022 年已有账目，报表作为核对：“经营收入”账上合计 50,000.00 元，报表写的是 1.00 元"],
    );
    // ... and a statement that agrees adds nothing.
    let totals = || {
        s.ok(&["totals", "--out", "t.csv"]);
        std::fs::read_to_string(s.path("t.csv")).unwrap()
    };
    let before = totals();
    let out = s.import(
        "statements",
        "s4.csv",
        "village,year,operating_revenue,contracting_income,subsidy_income,operating_cost,other_income\n\
         131124100200,2022,\"50,000.00元\",30000,20000,10000,\n",
    );
    assert!(
        out.contains("已导入 年度报表 0 行（另有 1 行与库中相同，未重复存储）"),
        "{out}"
    );
    assert_eq!(totals(), before);
    import_refused(
        &s,
        "statements",
        "s3.csv",
        "village,year,现金\n131124100201,2022,1\n",
        &[":1: 现金: 未知列“现金”"],
    );
}

#[test]
fn headers_must_be_known_and_complete() {
    let s = setup("headers");
    import_refused(
        &s,
        "entries",
        "e.csv",
        "village,date,acount,amount,amount\n",
        &[
            ":1: acount: 未知列“acount”",
            ":1: amount: 列“amount”重复",
            ":1: account: 缺少必填列“account”（科目）",
        ],
    );
}

#[test]
fn grants_follow_their_projects() {
    let s = setup("grants");
    s.import(
        "entries",
        "e.csv",
        "village,date,account,amount,project\n131124100201,2023-06-30,investment_income,15000,PV-1\n131124100200,2023-06-30,investment_income,100,PV-2\n",
    );
    import_refused(
        &s,
        "grants",
        "g.csv",
        "资金编号,村代码,年度,资金来源,项目名称,金额,项目,预期收益率\nG1,131124100200,2022,中央,光伏电站,500000,PV-1,3%\n",
        &[":2: 项目: 村 131124100201 已有账目记在项目 PV-1 名下，但资金拨给村 131124100200"],
    );
    let g = s.write("g2.csv", "grant,village,year,level,program,amount,project,expected_rate\nG1,131124100201,2022,central,光伏电站,500000,PV-1,3%\n");
    s.ok(&["import", "grants", g.to_str().unwrap()]);
    assert!(s
        .ok(&["import", "grants", g.to_str().unwrap()])
        .contains("已导入过"));
    import_refused(
        &s,
        "grants",
        "g3.csv",
        "grant,village,year,level,program,amount,project\nG1,131124100201,2022,central,光伏电站,600000,PV-1\n",
        &["已登记且内容不同"],
    );
    let r = report_json(&s, "2023");
    assert_eq!(r["grants"][0]["expected"], "15000.00");
    assert_eq!(r["grants"][0]["actual"], "15000.00");
    assert_eq!(r["grants"][0]["status"], "on_track");
    assert_eq!(r["subsidy_summary"]["by_level"]["central"], "500000.00");
    // A later entry naming the project from another village is refused.
    import_refused(
        &s,
        "entries",
        "e2.csv",
        "village,date,account,amount,project\n131124100200,2024-06-30,investment_income,1,PV-1\n",
        &[":2: project: 项目 PV-1 的扶持资金拨给村 131124100201"],
    );
}

#[test]
fn cadres_are_checked_and_replaced_per_person_year() {
    let s = setup("cadres");
    import_refused(
        &s,
        "cadres",
        "c.csv",
        "village,year,person,name,role,months_in_post,sanctioned\n131124100200,2023,P1,张三,村长,12,false\n131124100200,2023,P2,李四,secretary,13,maybe\n131124100200,2023,P3,王五,两委成员,12,否\n131124100200,2023,P3,王五,两委成员,12,否\n",
        &[
            ":2: role: 未知职务 `村长`",
            ":3: months_in_post: 任职月数应为 0–12 的整数",
            ":3: sanctioned: 应为 true/false",
            ":5: person: P3 在村 131124100200 的 2023 年已在第 4 行出现",
        ],
    );
}

#[test]
fn regions_are_validated() {
    let s = Scratch::new("regions");
    import_refused(
        &s,
        "regions",
        "r.csv",
        "code,name,predecessors,merged_in\n130000001000,坏代码,,\n1301,短,,\n130102001001,甲村,130102001002,\n130102001003,乙村,130102001009,2020\n",
        &[
            ":2: code: 区划代码 `130000001000` 的零段不在末尾",
            ":3: code: 区划代码 `1301` 应为 12 位数字",
        ],
    );
}

#[test]
fn a_mistyped_database_is_never_created_by_a_report() {
    let s = Scratch::new("missing");
    let p = s.write("p.toml", "name = \"x\"\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cunji"))
        .args([
            "--db",
            &format!("sqlite://{}", s.path("typo.db").display()),
            "report",
            "--year",
            "2024",
            "--policy",
        ])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("不存在"));
    assert!(!s.path("typo.db").exists());
}

#[test]
fn report_errors_exit_2() {
    let s = setup("report-errors");
    s.import("entries", "e.csv", "village,date,account,amount\n131124100200,2023-03-01,operating_revenue,1000\n131124100200,2024-03-01,operating_revenue,2000\n");
    s.import(
        "cadres",
        "c.csv",
        "village,year,person,name,role,appraisal\n131124100200,2024,P1,张三,书记,良好\n",
    );
    // A 2024 report with policy file `name` (text `policy`) is refused, saying `expected`.
    let report_refused = |name: &str, policy: &str, expected: &str| {
        let p = s.write(name, policy);
        let args = ["report", "--year", "2024", "--policy", p.to_str().unwrap()];
        refused(&s, &args, &[expected]);
    };
    report_refused(
        "p.toml",
        "name = \"x\"\n[incentive]\nrate = \"10%\"\nappraisal = { \"优秀\" = 1 }\n",
        "P1（张三）考核等次为“良好”",
    );
    report_refused(
        "q.toml",
        "name = \"x\"\nyears = [2019, 2022]\n",
        "不含 2024 年",
    );
    report_refused(
        "r.toml",
        "name = \"x\"\n[incentive]\nrate = 10%\n",
        "r.toml:3: TOML 语法错误",
    );
}

#[test]
fn users_are_managed_from_the_command_line() {
    let s = setup("users");
    let run = |args: &[&str], password: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cunji"))
            .args(args)
            .env("CUNJI_DB", s.db_url())
            .env("CUNJI_USER", "test")
            .env("CUNJI_PASSWORD", password)
            .output()
            .unwrap()
    };
    let ok = run(
        &[
            "user",
            "add",
            "wang",
            "--role",
            "township_officer",
            "--scope",
            "131124100000",
            "--name",
            "王会计",
        ],
        "long-enough-1",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = run(
        &[
            "user",
            "add",
            "li",
            "--role",
            "township_officer",
            "--scope",
            "131124100200",
        ],
        "long-enough-1",
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("应为乡镇级代码"));
    let bad = run(
        &["user", "add", "li", "--role", "village_accountant"],
        "long-enough-1",
    );
    assert_eq!(bad.status.code(), Some(2));
    let short = run(&["user", "add", "zhao", "--role", "auditor"], "short");
    assert_eq!(short.status.code(), Some(2));
    let dup = run(
        &["user", "add", "wang", "--role", "auditor"],
        "long-enough-1",
    );
    assert_eq!(dup.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&dup.stderr).contains("已存在"));
    let list = String::from_utf8(run(&["user", "list"], "").stdout).unwrap();
    assert_eq!(list.trim(), "wang\t王会计\t乡镇农经站\t131124100000");
    assert!(run(&["user", "passwd", "wang"], "another-password")
        .status
        .success());
    let audit = s.ok(&["audit"]);
    assert!(
        audit.contains("user_add") && audit.contains("user_password"),
        "{audit}"
    );
    // Policies for the web application: checked, stored, audited.
    let p = s.write(
        "p.toml",
        "name = \"河北测试\"\n[incentive]\nrate = \"10%\"\n",
    );
    assert!(s
        .ok(&["policy", "set", p.to_str().unwrap()])
        .contains("已保存政策 #1"));
    let bad = s.write("bad.toml", "name = \"x\"\n[incentive]\nrat = \"10%\"\n");
    let out = s.cunji(&["policy", "set", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(s.ok(&["policy", "list"]).contains("当前\t河北测试"));
}

#[test]
fn audit_verify_and_export() {
    let s = setup("audit-cli");
    s.import(
        "entries",
        "e.csv",
        "village,date,account,amount\n131124100200,2023-03-01,operating_revenue,1000\n",
    );
    assert!(s.ok(&["audit", "verify"]).contains("审计链完整"));
    s.ok(&["audit", "export", "--out", "audit.csv"]);
    let text = std::fs::read_to_string(s.path("audit.csv")).unwrap();
    assert!(
        text.starts_with("\u{feff}编号,时间,操作人,操作,对象,内容,记录哈希,前一条哈希,本条哈希"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 3);
}
