//! Contracts and assets on staff pages (SPEC §16, issue #35 items 1 and 4). The fixture's contracts,
//! read at the end of 2025 (`?year=2025`):
//!
//! | contract | village | yearly rent | due to 2025-12-31 | received | arrears | oldest unpaid | days |
//! |---|---|---|---|---|---|---|---|
//! | HT-01 | 东关村 | 12,000 on 01-15 | 24,000 | 17,000 | 7,000 | 2025-01-15 | 350 |
//! | HT-02 | 东关村 | 5,000 on 03-01, +10% a year | 10,500 | 5,000 | 5,500 | 2025-03-01 | 305 |
//! | HT-03 | 西关村 | 8,000 on 07-01 (from 2022) | 32,000 | 16,000 | 16,000 | 2024-07-01 | 548 |
//! | HT-09 | 大迁民村 (大尹村镇) | 3,000 on 01-01, 2025 only | 3,000 | 0 | 3,000 | 2025-01-01 | 364 |

use crate::common::{assert_holds, server, Client, Server};
use cunji_store::ImportKind;

pub const GRANTS: &str = "grant,village,year,level,program,amount,project,expected_rate
G1,131124100201,2022,county,冷库建设项目,200000,P-冷库,5%
";

pub const ASSETS: &str =
    "asset,village,kind,name,quantity,unit,original_value,acquired,grant,status
A1,131124100200,building,门面房,120,平方米,300000,2018-05-01,,let
A2,131124100200,land,东坡地,50,亩,,2000-01-01,,let
A3,131124100201,facility,冷库,1,座,200000,2022-06-01,G1,let
";

pub const CONTRACTS: &str = "contract,village,counterparty,counterparty_id,asset,kind,signed,start,end,resolution,annual_rent,due_day,step_years,step_rate,account
HT-01,131124100200,张三,130123198001011234,A1,lease,2023-12-20,2024-01-01,2028-12-31,2023-12-15,12000,01-15,,,
HT-02,131124100200,李四,,A2,contracting,2024-02-20,2024-03-01,2026-02-28,,5000,03-01,1,10%,
HT-03,131124100201,王五,,A3,lease,2022-06-20,2022-07-01,2027-06-30,,8000,07-01,,,
HT-09,131124101200,赵六,,,lease,2024-12-20,2025-01-01,2025-12-31,,3000,01-01,,,
";

pub const RECEIPTS: &str = "village,date,account,amount,voucher,memo,contract
131124100200,2024-01-15,operating_revenue,12000,记-101,门面房租金,HT-01
131124100200,2025-01-20,operating_revenue,5000,记-101,门面房租金,HT-01
131124100200,2024-03-01,operating_revenue,5000,记-102,东坡地承包费,HT-02
131124100201,2023-07-05,operating_revenue,8000,记-101,冷库租金,HT-03
131124100201,2024-07-05,operating_revenue,8000,记-101,冷库租金,HT-03
";

/// The fixture server with the contracts above.
pub async fn with_contracts(name: &str) -> Server {
    let s = server(name).await;
    s.import(ImportKind::Grants, GRANTS).await;
    s.import(ImportKind::Assets, ASSETS).await;
    s.import(ImportKind::Contracts, CONTRACTS).await;
    s.import(ImportKind::Entries, RECEIPTS).await;
    s
}

/// The contract ids of the arrears list's rows, in order.
fn order(page: &str) -> Vec<String> {
    page.split("data-contract=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(String::from)
        .collect()
}

/// The text of the cell with attribute `attr="id"`.
fn cell(page: &str, attr: &str, id: &str) -> String {
    let rest = crate::common::after(page, &format!("{attr}=\"{id}\">"));
    rest[..rest.find('<').unwrap()].to_string()
}

#[tokio::test]
async fn a_villages_contracts_and_assets_with_what_is_owed() {
    let s = with_contracts("contracts-village").await;
    let mut acct = Client::signed_in(s.addr, "acct").await;
    let r = acct.get("/village/131124100200/contracts?year=2025").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let page = r.text();
    assert_eq!(cell(&page, "data-arrears", "HT-01"), "7,000.00 元");
    assert_eq!(cell(&page, "data-arrears", "HT-02"), "5,500.00 元");
    assert_eq!(cell(&page, "data-days", "HT-01"), "350 天");
    assert_eq!(cell(&page, "data-days", "HT-02"), "305 天");
    assert_eq!(crate::stat(&page, "total-due"), "34,500.00 元");
    assert_eq!(crate::stat(&page, "total-received"), "22,000.00 元");
    assert_eq!(crate::stat(&page, "total-arrears"), "12,500.00 元");
    // The id number only masked; the year's due with how it was made.
    assert!(!page.contains("130123198001011234"));
    assert_holds(
        &page,
        &[
            "**************1234",
            "门面房（A1）",
            "2024-01-01 至 2028-12-31",
            "合同 HT-02（李四）2025年应收 5,500.00 元",
            "年租金 5,000.00 元，每年 3 月 1 日收，每年递增 10%",
            // Each contract's arrears told beside its dues (no longer in the report's JSON).
            "2025 年应收、收款和欠收是怎样算出的",
            "欠收 5,500.00 元，最早未收清的一笔 2025-03-01 到期，已逾期 305 天",
        ],
    );
    // An accountant reads, but the forms are for the township and the county.
    assert!(!page.contains("id=\"add-contract\""));

    // 西关村's cold store, built with grant G1, and the rent it earns.
    let page = acct.get("/village/131124100201/contracts?year=2024").await;
    assert_eq!(page.status, 403, "the accountant's scope is 东关村");
    let mut town = Client::signed_in(s.addr, "town").await;
    let page = town
        .get("/village/131124100201/contracts?year=2024")
        .await
        .text();
    assert_holds(
        &page,
        &[
            "冷库建设项目（G1，2022 年，200,000.00 元）",
            "id=\"add-contract\"",
        ],
    );
    let row = crate::common::after(&page, "data-asset=\"A3\"");
    let row = &row[..row.find("</tr>").unwrap()];
    assert_holds(
        row,
        &["HT-03", "8,000.00 元</td><td class=\"num\">8,000.00 元"],
    );
    // The village's subsidy table: the grant's asset and its rent in the year.
    let village = town.get("/village/131124100201?year=2024").await.text();
    let grant = crate::common::after(&village, "data-grant=\"G1\"");
    let grant = &grant[..grant.find("</tr>").unwrap()];
    assert_holds(
        grant,
        &["冷库（A3，1 座，出租发包）：2024 年合同 HT-03，应收租金 8,000.00 元，已收 8,000.00 元"],
    );
}

#[tokio::test]
async fn the_arrears_list_oldest_first_sorted_scoped_and_exported() {
    let s = with_contracts("contracts-arrears").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let page = admin.get("/arrears?region=131124000000&year=2025").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let page = page.text();
    assert_eq!(order(&page), ["HT-03", "HT-09", "HT-01", "HT-02"]);
    assert_eq!(crate::stat(&page, "arrears-total"), "31,500.00 元");
    let by_arrears = admin
        .get("/arrears?region=131124000000&year=2025&sort=arrears&desc=1")
        .await
        .text();
    assert_eq!(order(&by_arrears), ["HT-03", "HT-01", "HT-02", "HT-09"]);
    let by_village = admin
        .get("/arrears?region=131124000000&year=2025&sort=days")
        .await
        .text();
    assert_eq!(order(&by_village), ["HT-02", "HT-01", "HT-09", "HT-03"]);

    // A township officer sees the township's; another township's list is refused.
    let mut town = Client::signed_in(s.addr, "town").await;
    let mine = town.get("/arrears?year=2025").await.text();
    assert_eq!(order(&mine), ["HT-03", "HT-01", "HT-02"]);
    let other = town.get("/arrears?region=131124101000&year=2025").await;
    assert_eq!(other.status, 403);

    // The workbook: the same columns and rows, money as numbers, then the totals.
    let r = admin
        .get("/arrears.xlsx?region=131124000000&year=2025")
        .await;
    assert_eq!(r.status, 200);
    use calamine::{Data, Reader};
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(r.body.clone())).unwrap();
    let sheet = book.worksheet_range("合同欠收").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    let text = |d: &Data| match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => format!("{i}"),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    };
    let line = |i: usize| rows[i].iter().map(text).collect::<Vec<_>>();
    assert_eq!(
        line(0),
        [
            "乡镇",
            "村",
            "合同编号",
            "对方",
            "资产",
            "应收（元）",
            "已收（元）",
            "欠收（元）",
            "最早未收清的到期日",
            "逾期天数"
        ]
    );
    assert_eq!(
        line(1),
        [
            "饶阳镇",
            "西关村",
            "HT-03",
            "王五",
            "冷库",
            "32000",
            "16000",
            "16000",
            "2024-07-01",
            "548"
        ]
    );
    assert_eq!(
        line(2),
        [
            "大尹村镇",
            "大迁民村",
            "HT-09",
            "赵六",
            "",
            "3000",
            "0",
            "3000",
            "2025-01-01",
            "364"
        ]
    );
    assert_eq!(rows.len(), 6, "a header, four contracts and the totals");
    assert_eq!(text(&rows[5][0]), "合计");
    assert_eq!(text(&rows[5][7]), "31500");
}

#[tokio::test]
async fn the_dashboard_counts_contracts_in_arrears_and_their_alerts() {
    let s = with_contracts("contracts-dashboard").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let page = admin
        .get("/dashboard?region=131124000000&year=2025")
        .await
        .text();
    assert_holds(
        &page,
        &[
            "<a href=\"/arrears?region=131124000000&amp;year=2025\" id=\"arrears-link\">有欠收的合同 <strong>4</strong> 份，欠收合计 31,500.00 元",
            "<a href=\"/contract-alerts?region=131124000000&amp;year=2025&amp;kind=arrears\" data-kind=\"arrears\">合同欠收逾期 <strong>3</strong></a>",
            "id=\"forecast\"",
        ],
    );
    let list = admin
        .get("/contract-alerts?region=131124000000&year=2025&kind=arrears")
        .await;
    assert_eq!(list.status, 200, "{}", list.text());
    let list = list.text();
    for v in ["东关村", "西关村", "大迁民村"] {
        assert!(list.contains(v), "{v}");
    }
}

#[tokio::test]
async fn contracts_are_added_ended_and_renewed_as_new_versions_with_audit_rows() {
    let s = with_contracts("contracts-forms").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    town.get("/village/131124100200/contracts?year=2025").await;

    // A refused form keeps what was typed and lists every error, each beside its field.
    let r = town
        .post_form(
            "/village/131124100200/contracts",
            &[
                ("contract", ""),
                ("counterparty", ""),
                ("kind", "lease"),
                ("signed", "2025-13-01"),
                ("start", "2025-01-01"),
                ("end", "2024-12-31"),
                ("annual_rent", "abc"),
                ("step_years", "2"),
                ("year", "2025"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let page = r.text();
    let list = crate::common::after(&page, "id=\"errors-add\"");
    let list = &list[..list.find("</ul>").unwrap()];
    for m in [
        "合同编号不能为空",
        "对方名称不能为空",
        "签订日期",
        "终止日期 2024-12-31 早于起始日期 2025-01-01",
        "年租金",
        "填了递增年限，也须填递增比例",
    ] {
        assert!(list.contains(m), "{m} in {list}");
    }
    assert_eq!(list.matches("<li>").count(), 6, "{list}");
    for field in [
        "add-contract-id",
        "add-counterparty",
        "add-signed",
        "add-end",
        "add-rent",
        "add-step-rate",
    ] {
        let after = crate::common::after(&page, &format!("id=\"{field}\""));
        let next = &after[after.find('>').unwrap()..];
        assert!(
            next.trim_start_matches('>')
                .starts_with("<p class=\"field-error\""),
            "an error beside {field}"
        );
    }
    assert_holds(&page, &["value=\"2025-13-01\"", "value=\"abc\""]);

    // Added: version 1 with its audit row.
    let r = town
        .post_form(
            "/village/131124100200/contracts",
            &[
                ("contract", "HT-05"),
                ("counterparty", "孙七"),
                ("counterparty_id", "130123199002023456"),
                ("asset", "A1"),
                ("kind", "lease"),
                ("signed", "2025-05-01"),
                ("start", "2025-06-01"),
                ("end", "2027-05-31"),
                ("annual_rent", "6000"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let code = cunji_core::region::RegionCode::parse("131124100200").unwrap();
    assert_eq!(
        s.store
            .contract_versions(&code, "HT-05")
            .await
            .unwrap()
            .len(),
        1
    );
    let page = town
        .get("/village/131124100200/contracts?year=2025")
        .await
        .text();
    assert_eq!(cell(&page, "data-arrears", "HT-05"), "6,000.00 元");
    assert!(page.contains("**************3456") && !page.contains("130123199002023456"));

    // Ended early: the next version with the earlier end; the first kept.
    let r = town
        .post_form(
            "/village/131124100200/contracts/HT-01/end",
            &[("end", "2026-06-30"), ("reason", "承租方退租")],
            true,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let versions = s.store.contract_versions(&code, "HT-01").await.unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.version, v.end.as_str()))
            .collect::<Vec<_>>(),
        [(1, "2028-12-31"), (2, "2026-06-30")]
    );

    // Renewed: a new contract on the same asset after the old one's end, with an audit row.
    let r = town
        .post_form(
            "/village/131124100200/contracts/HT-02/renew",
            &[
                ("contract", "HT-02-2"),
                ("counterparty", "李四"),
                ("signed", "2026-01-10"),
                ("start", "2026-03-01"),
                ("end", "2029-02-28"),
                ("annual_rent", "6000"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let page = town
        .get("/village/131124100200/contracts?year=2025")
        .await
        .text();
    assert_eq!(
        cell(&page, "data-history", "HT-01"),
        "第 2 版（第 1 版期限 2024-01-01 至 2028-12-31；各版本均保留，见审计日志）"
    );
    assert_eq!(cell(&page, "data-history", "HT-02"), "已续签：HT-02-2");
    let renewed = s.store.contract_versions(&code, "HT-02-2").await.unwrap();
    assert_eq!(renewed.len(), 1);
    let log = s.store.audit_log(20).await.unwrap();
    let row = log
        .iter()
        .find(|a| a.id == renewed[0].audit_id)
        .expect("the renewal's audit row");
    assert_eq!(
        (row.actor.as_str(), row.action.as_str()),
        ("town", "contract_renew")
    );
    assert!(row.detail.contains("续签合同 HT-02（李四）：合同 HT-02-2（李四），2026-03-01 至 2029-02-28，年租金 6,000.00 元"), "{}", row.detail);
    let ended = log
        .iter()
        .find(|a| a.id == versions[1].audit_id)
        .expect("the early end's audit row");
    assert_eq!(
        (ended.actor.as_str(), ended.action.as_str()),
        ("town", "contract_end")
    );
    assert!(ended.detail.contains("理由：承租方退租"));
    // The audit page names the changes in Chinese, by village, and filters them as a kind.
    let audit = town.get("/audit?kind=contracts").await.text();
    assert_holds(
        &audit,
        &[
            "新增合同",
            "提前终止合同",
            "续签合同",
            "东关村（131124100200）",
        ],
    );
    // The renewal starting on the old end is refused, beside the start.
    let r = town
        .post_form(
            "/village/131124100200/contracts/HT-05/renew",
            &[
                ("contract", "HT-05-2"),
                ("counterparty", "孙七"),
                ("signed", "2027-01-10"),
                ("start", "2027-05-31"),
                ("end", "2029-05-31"),
                ("annual_rent", "6000"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, 422);
    let t = r.text();
    assert!(
        t.contains("续签合同的起始日期 2027-05-31 应晚于原合同的终止日期 2027-05-31"),
        "{t}"
    );
    assert!(s
        .store
        .contract_versions(&code, "HT-05-2")
        .await
        .unwrap()
        .is_empty());

    // An officer of another township, and an accountant, are refused; nothing is stored.
    let r = town
        .post_form(
            "/village/131124101200/contracts",
            &[
                ("contract", "HT-10"),
                ("counterparty", "周八"),
                ("kind", "lease"),
                ("signed", "2025-05-01"),
                ("start", "2025-06-01"),
                ("end", "2027-05-31"),
                ("annual_rent", "6000"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status, 403);
    let other = cunji_core::region::RegionCode::parse("131124101200").unwrap();
    assert!(s
        .store
        .contract_versions(&other, "HT-10")
        .await
        .unwrap()
        .is_empty());
    let mut acct = Client::signed_in(s.addr, "acct").await;
    acct.get("/village/131124100200/contracts").await;
    let r = acct
        .post_form(
            "/village/131124100200/contracts/HT-05/end",
            &[("end", "2026-01-31"), ("reason", "退租")],
            true,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        s.store
            .contract_versions(&code, "HT-05")
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn text_that_would_run_as_a_formula_is_refused_or_neutralised() {
    let s = with_contracts("contracts-formulas").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    town.get("/village/131124100200/contracts?year=2025").await;
    let add = |counterparty: &'static str, id: &'static str| {
        vec![
            ("contract", id),
            ("counterparty", counterparty),
            ("kind", "lease"),
            ("signed", "2025-05-01"),
            ("start", "2025-06-01"),
            ("end", "2027-05-31"),
            ("annual_rent", "6000"),
        ]
    };
    // An ASCII formula is refused beside its field, as the importers refuse it.
    let r = town
        .post_form(
            "/village/131124100200/contracts",
            &add("=1+1", "HT-06"),
            true,
        )
        .await;
    assert_eq!(r.status, 422);
    let page = r.text();
    let beside = crate::common::after(&page, "id=\"add-counterparty\"");
    assert!(beside[beside.find('>').unwrap() + 1..].starts_with("<p class=\"field-error\""));
    assert!(page.contains("防止表格公式注入"));
    // A fullwidth one is text a person may type; the workbook neutralises it as the CSV exports do.
    let r = town
        .post_form(
            "/village/131124100200/contracts",
            &add("＝1+1", "HT-07"),
            true,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let r = town.get("/arrears.xlsx?year=2025").await;
    use calamine::{Data, Reader};
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(r.body.clone())).unwrap();
    let sheet = book.worksheet_range("合同欠收").unwrap();
    let row = sheet
        .rows()
        .find(|r| r[2] == Data::String("HT-07".into()))
        .expect("HT-07 in arrears");
    assert_eq!(row[3], Data::String("'＝1+1".into()));
}

/// The forecast (预计) of SPEC §16 for the current year: booked so far plus what contracts still
/// have to fall due this year; arrears count nothing.
#[tokio::test]
async fn the_forecast_lists_villages_expected_to_stay_below_a_floor() {
    let s = server("contracts-forecast").await;
    let today = cunji_core::date::Date::today_beijing();
    let y = today.year();
    s.import(
        ImportKind::Entries,
        &format!(
            "village,date,account,amount,voucher,memo\n131124100200,{y}-01-01,operating_revenue,30000,记-001,租金\n"
        ),
    )
    .await;
    s.import(
        ImportKind::Contracts,
        &format!(
            "contract,village,counterparty,counterparty_id,asset,kind,signed,start,end,resolution,annual_rent,due_day,step_years,step_rate,account\n\
             HT-20,131124100200,钱九,,,lease,{y}-01-01,{y}-01-01,{}-12-31,,10000,12-31,,,\n",
            y + 1
        ),
    )
    .await;
    // Due on 31 December: still to fall due unless today is that day.
    let to_fall_due = if (today.month(), today.day()) == (12, 31) {
        0
    } else {
        10_000
    };
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let page = admin
        .get(&format!("/dashboard?region=131124100000&year={y}"))
        .await
        .text();
    let forecast = crate::common::after(&page, "id=\"forecast\"");
    let group = crate::common::after(forecast, "预计今年仍低于5万元的村（预计分档“5万以下”）");
    let row = crate::common::after(group, "/village/131124100200/contracts\">东关村</a>");
    let row = &row[..row.find("</tr>").unwrap()];
    let yuan = |n: i64| format!("{} 元", cunji_core::money::Fen::from_fen(n * 100));
    assert_eq!(
        row.split("<td class=\"num\">")
            .skip(1)
            .map(|c| c[..c.find('<').unwrap()].to_string())
            .collect::<Vec<_>>(),
        [
            yuan(30_000),
            yuan(to_fall_due),
            yuan(30_000 + to_fall_due),
            yuan(50_000 - 30_000 - to_fall_due),
        ]
    );
}

/// A contract paid in installments, added on the web (SPEC §16): one installment a line, dates as
/// §1 allows, amounts in 元; stored as the importer stores them, with its audit row and seals.
#[tokio::test]
async fn an_installment_contract_is_added_from_the_form() {
    let s = with_contracts("contracts-installments").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    let page = town
        .get("/village/131124100200/contracts?year=2025")
        .await
        .text();
    assert!(page.contains("id=\"add-installments\""), "{page}");
    let form = |installments: &'static str, rent: &'static str| {
        vec![
            ("contract", "HT-30"),
            ("counterparty", "周九"),
            ("asset", "A2"),
            ("kind", "contracting"),
            ("signed", "2024-12-20"),
            ("start", "2025-01-01"),
            ("end", "2026-12-31"),
            ("annual_rent", rent),
            ("installments", installments),
            ("year", "2025"),
        ]
    };
    let code = cunji_core::region::RegionCode::parse("131124100200").unwrap();
    let nothing_stored = |s: &Server| {
        let store = s.store.clone();
        let code = code.clone();
        async move {
            assert!(store
                .contract_versions(&code, "HT-30")
                .await
                .unwrap()
                .is_empty());
        }
    };

    // Bad lines: each told by its line, beside the field; what was typed kept; nothing stored.
    let r = town
        .post_form(
            "/village/131124100200/contracts",
            &form(
                "2025-03-31 4000\n2025-02-30 100\n2025-05-01\n\n2027-01-01 100\n2025-06-01 -5\n2025-07-01 abc\n2025-08-01 10000000000001",
                "",
            ),
            true,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let page = r.text();
    let list = crate::common::after(&page, "id=\"errors-add\"");
    let list = &list[..list.find("</ul>").unwrap()];
    assert_eq!(
        list.split("<li>")
            .skip(1)
            .map(|l| l[..l.find("</li>").unwrap()].to_string())
            .collect::<Vec<_>>(),
        [
            "分期收款第 2 行：日期 `2025-02-30` 不存在",
            "分期收款第 3 行“2025-05-01”：应写作“日期 金额”，如 2025-06-30 5000",
            "分期收款第 6 行：金额应大于 0，不是“-5”",
            "分期收款第 7 行：金额格式不对：`abc`（应写作元，如 12345、12,345.6、-80.00）",
            "分期收款第 8 行：金额超出范围：`10000000000001`",
            "分期收款第 5 行：日期 2027-01-01 不在合同期限 2025-01-01 至 2026-12-31 内",
        ]
    );
    let beside = crate::common::after(&page, "id=\"add-installments\"");
    let beside = crate::common::after(beside, "</textarea>");
    assert!(beside.starts_with("<p class=\"field-error\" role=\"alert\">分期收款第 2 行"));
    assert!(page.contains("2025-07-01 abc\n2025-08-01 10000000000001</textarea>"));
    nothing_stored(&s).await;

    // A yearly rent and installments together, neither, and too many lines: refused.
    for (installments, rent, message) in [
        (
            "2025-03-31 4000",
            "6000",
            "填了分期收款就不能再填年租金（二者只能选一）",
        ),
        (
            "",
            "",
            "年租金和分期收款须填一项（按年收租填年租金，分期收款填分期收款）",
        ),
    ] {
        let r = town
            .post_form(
                "/village/131124100200/contracts",
                &form(installments, rent),
                true,
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text());
        let page = r.text();
        let list = crate::common::after(&page, "id=\"errors-add\"");
        let list = &list[..list.find("</ul>").unwrap()];
        assert_eq!(list, format!("><li>{message}</li>").as_str(), "{list}");
    }
    let many: String = (0..121).map(|_| "2025-03-31 1\n").collect();
    let many: &'static str = Box::leak(many.into_boxed_str());
    let r = town
        .post_form("/village/131124100200/contracts", &form(many, ""), true)
        .await;
    assert_eq!(r.status, 422);
    assert!(r
        .text()
        .contains("分期收款最多 120 行，现有 121 行（更多的请用导入）"));
    nothing_stored(&s).await;

    // Added: three installments, dates and amounts as §1 writes them.
    let r = town
        .post_form(
            "/village/131124100200/contracts",
            &form(
                "2025-03-31 4000\r\n2025/9/30  6,000.50 元\r\n\r\n2026年3月31日 5000",
                "",
            ),
            true,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    s.import(
        ImportKind::Entries,
        "village,date,account,amount,voucher,memo,contract\n131124100200,2025-04-02,contracting_income,4000,记-201,承包费,HT-30\n",
    )
    .await;
    let page = town
        .get("/village/131124100200/contracts?year=2025")
        .await
        .text();
    let row = crate::common::after(&page, "data-contract=\"HT-30\"");
    let row = &row[..row.find("</tr>").unwrap()];
    assert_holds(
        row,
        &[
            "<summary>分期应收 3 笔，合计 15,000.50 元</summary><ul><li>2025-03-31 应收 4,000.00 元</li><li>2025-09-30 应收 6,000.50 元</li><li>2026-03-31 应收 5,000.00 元</li></ul>",
            "<td class=\"num\">10,000.50 元</td><td class=\"num\">4,000.00 元</td><td class=\"num\">10,000.50 元</td><td class=\"num\">4,000.00 元</td>",
            "<td>2025-09-30</td>",
        ],
    );
    assert_eq!(cell(&page, "data-arrears", "HT-30"), "6,000.50 元");
    assert_eq!(cell(&page, "data-days", "HT-30"), "92 天");
    assert_holds(
        &page,
        &["合同 HT-30（周九）2025年应收 6,000.50 元：分期应收，2025-09-30 到期 6,000.50 元"],
    );
    // One version with its audit row; the installments sealed with it, so check finds nothing.
    let versions = s.store.contract_versions(&code, "HT-30").await.unwrap();
    assert_eq!(versions.len(), 1);
    let log = s.store.audit_log(20).await.unwrap();
    let row = log.iter().find(|a| a.id == versions[0].audit_id).unwrap();
    assert_eq!(
        row.detail,
        "新增合同 HT-30（周九），2025-01-01 至 2026-12-31，分期应收 3 笔，合计 15,000.50 元"
    );
    assert_eq!(s.store.verify_audit().await.unwrap(), Vec::<String>::new());

    // Renewed by installments: a line outside the new term refused, then stored.
    let renew = |installments: &'static str| {
        vec![
            ("contract", "HT-30-2"),
            ("counterparty", "周九"),
            ("signed", "2026-12-01"),
            ("start", "2027-01-01"),
            ("end", "2027-12-31"),
            ("annual_rent", ""),
            ("installments", installments),
        ]
    };
    let r = town
        .post_form(
            "/village/131124100200/contracts/HT-30/renew",
            &renew("2026-12-31 8000"),
            true,
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r
        .text()
        .contains("分期收款第 1 行：日期 2026-12-31 不在合同期限 2027-01-01 至 2027-12-31 内"));
    let r = town
        .post_form(
            "/village/131124100200/contracts/HT-30/renew",
            &renew("2027-06-30 8000"),
            true,
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let book = s.store.load_contracts_within("131124100200").await.unwrap();
    let renewed = book.of(&code).unwrap().contract("HT-30-2").unwrap();
    assert_eq!(
        (renewed.asset(), renewed.total().fen(), renewed.dues().len()),
        (Some("A2"), 800_000, 1)
    );
    assert_eq!(s.store.verify_audit().await.unwrap(), Vec::<String>::new());
}
