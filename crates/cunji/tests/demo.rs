//! `cunji demo` builds the demo county through the real importers and prints its report.

mod common;

use common::Scratch;

#[test]
fn demo_prints_the_county_report() {
    let s = Scratch::new("demo");
    let out = s.ok(&["demo", "--file", "demo.db", "--no-serve"]);
    assert!(out.contains("村集 cunji 年度报告：2024 年"), "{out}");
    assert!(out.contains("131124000000  饶阳县"), "{out}");
    for township in [
        "饶阳镇",
        "大尹村镇",
        "五公镇",
        "大官亭镇",
        "王同岳镇",
        "东里满镇",
        "留楚镇",
    ] {
        assert!(out.contains(township), "{township} missing");
    }
    assert!(
        out.contains("【扶持资金及收益】") && out.contains("G001"),
        "{out}"
    );
    // The report lists every village of 2024 once: 197 villages less the 4 merged away.
    let section = out
        .split("【村级明细】")
        .nth(1)
        .unwrap()
        .split("\n【")
        .next()
        .unwrap();
    let listed = section.lines().filter(|l| l.starts_with("131124")).count();
    assert_eq!(listed, 193, "{out}");
    // Same seed, same county: the JSON report of the demo database is stable.
    let db = format!("sqlite://{}", s.path("demo.db").display());
    let policy = common::repo_root().join("policies/hebei.toml");
    let args = [
        "--db",
        &db,
        "report",
        "--year",
        "2024",
        "--policy",
        policy.to_str().unwrap(),
        "--format",
        "json",
    ];
    let a = s.ok(&args);
    let json: serde_json::Value = serde_json::from_str(&a).unwrap();
    let county = json["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "131124000000")
        .unwrap();
    assert_eq!(county["villages"], 193);
    assert_eq!(county["with_data"], 193);
    // Books are consistent: pools are ceilings, awards never exceed them.
    let pools: f64 = county["incentive_total"].as_str().unwrap().parse().unwrap();
    let awards: f64 = county["awards_total"].as_str().unwrap().parse().unwrap();
    assert!(awards <= pools && pools > 0.0);
    // The suspicious villages of the demo raise alerts with their evidence.
    let alerts = json["alerts"].as_array().unwrap();
    let kinds: Vec<&str> = alerts.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"year_end_jump") && kinds.contains(&"pass_through"),
        "{kinds:?}"
    );
    let pt = alerts.iter().find(|a| a["kind"] == "pass_through").unwrap();
    assert!(
        pt["evidence"][0].as_str().unwrap().contains("30,000.00 元"),
        "{pt}"
    );
    assert!(out.contains("【预警】"), "{out}");
    // A second demo rebuilds the same database from scratch.
    s.ok(&["demo", "--file", "demo.db", "--no-serve"]);
    assert_eq!(a, s.ok(&args));
}

#[test]
fn the_exit_audit_pack_of_a_cadre() {
    let s = Scratch::new("exit-audit");
    s.ok(&["demo", "--file", "demo.db", "--no-serve"]);
    let db = format!("sqlite://{}", s.path("demo.db").display());
    // R100200-1 is 东关村's secretary-director in every year of the demo.
    let out = s.ok(&[
        "--db",
        &db,
        "audit",
        "cadre",
        "R100200-1",
        "--out",
        "pack.json",
    ]);
    assert!(out.contains("已生成 R100200-1 的离任审计材料"));
    let pack: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("pack.json")).unwrap()).unwrap();
    let years = pack["years"].as_array().unwrap();
    assert_eq!(years.len(), 6);
    assert_eq!(years[0]["year"], 2019);
    assert_eq!(years[5]["village"], "131124100200");
    assert_eq!(years[5]["role"], "secretary_director");
    assert!(years[5]["measures"]["operating_income"].is_string());
    assert!(years[5]["trace"].as_array().is_some_and(|t| !t.is_empty()));
    // The village the demo sent back once: its resolution, the send-back's reason, the payment.
    s.ok(&[
        "--db",
        &db,
        "audit",
        "cadre",
        "R100201-1",
        "--out",
        "sent.json",
    ]);
    let pack: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("sent.json")).unwrap()).unwrap();
    let p = &pack["years"][5]["proposal"];
    assert_eq!(p["status"], "published");
    assert_eq!(p["resolution"]["present"], 31);
    assert_eq!(
        pack["years"][5]["documents"][0]["file_name"],
        "村民代表会议记录.pdf"
    );
    assert_eq!(
        pack["years"][5]["documents"][0]["sha256"]
            .as_str()
            .map(str::len),
        Some(64)
    );
    assert_eq!(p["paid"], p["decided"]);
    let steps: Vec<&str> = p["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "computed",
            "resolved",
            "sent_back",
            "resolved",
            "township_approved",
            "county_filed",
            "paid",
            "published"
        ]
    );
    assert_eq!(
        p["steps"][2]["data"]["reason"],
        "决议附件不全：缺村民代表会议签到表，请补齐后重新录入"
    );
    let missing = s.cunji(&["--db", &db, "audit", "cadre", "NOBODY", "--out", "x.json"]);
    assert_eq!(missing.status.code(), Some(2));
}

/// `GET path` on `addr` over HTTP/1.1; the body (the server closes the connection).
fn get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn every_grant_of_the_demo_shows_on_its_village_public_page() {
    let s = Scratch::new("demo-grants");
    let port = 21_000 + (std::process::id() % 1000) as u16;
    let addr = format!("127.0.0.1:{port}");
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_cunji"))
        .args(["demo", "--file", "demo.db", "--addr", &addr])
        .current_dir(&s.dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the demo");
    let mut up = false;
    for _ in 0..600 {
        if std::net::TcpStream::connect(&addr).is_ok() && get(&addr, "/healthz").contains("\"ok\"")
        {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(up, "the demo server did not start");
    let index = get(&addr, "/public/?region=131124000000");
    let villages: Vec<&str> = index
        .split("href=\"/public/village/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(villages.len() > 150, "{} villages listed", villages.len());
    assert!(index.contains("<title>饶阳县村务公开"), "{index}");
    let pages: Vec<String> = villages
        .iter()
        .map(|code| get(&addr, &format!("/public/village/{code}")))
        .collect();
    let cards: usize = pages
        .iter()
        .map(|p| p.matches("class=\"card grant\"").count())
        .sum();
    // The demo's two published rewards, each told for villagers (SPEC §15).
    let told: Vec<&String> = pages
        .iter()
        .filter(|p| p.contains("这是上限：村里可以决定少发，不能多发。"))
        .collect();
    // The contracts of 大尹村镇 (SPEC §15, §16): by name, never an id number, with what is owed.
    let with_contracts = pages
        .iter()
        .filter(|p| p.contains("年集体资产资源发包租赁"))
        .count();
    let notices: Vec<String> = villages
        .iter()
        .map(|code| get(&addr, &format!("/public/village/{code}/notice")))
        .collect();
    let _ = server.kill();
    let _ = server.wait();
    assert!(with_contracts >= 8, "{with_contracts} pages list contracts");
    for page in pages.iter().chain(&notices) {
        assert!(
            !page.contains("91131124MA0XXXX12X") && !page.contains("*X12X"),
            "{page}"
        );
    }
    assert!(pages
        .iter()
        .any(|p| p.contains("<strong>饶阳县顺达物流有限公司</strong> 租用临街仓库（200 平方米）")));
    // Two villages did not collect their 2024 rent: 14 亩 at 800 and 50 more, 20 亩 at 800 and 250.
    for owed in ["11,300.00", "16,250.00"] {
        assert!(
            pages
                .iter()
                .any(|p| p.contains(&format!("id=\"contract-arrears-1\">{owed}<"))),
            "{owed}"
        );
        assert!(notices
            .iter()
            .any(|p| p.contains(&format!("id=\"notice-contracts-arrears\">{owed} 元<"))));
    }
    assert_eq!(
        cards, 24,
        "the demo's 24 grants, each on its village's page"
    );
    assert_eq!(told.len(), 2, "the two published rewards are told");
    for page in told {
        assert!(page.contains("<li>按《河北省"), "{page}");
        assert!(page.contains("比 2023 年的"), "{page}");
    }
}
