//! Contracts and the asset register for villagers and through the API (SPEC §15, §16; issue #35
//! items 3, 5, 6): the public page and the notice list 东关村's contracts with what fell due, was
//! received and is owed in 元 and never an id number; the API gives the same figures to the fen
//! within the reader's scope; a contract alert must be checked in writing at the township's approval.

use cunji_store::ImportKind;
use serde_json::{json, Value};

use crate::common::{assert_holds, notice_page, public_page, server, Client, Server};
use crate::stat;

const GRANTS: &str = "grant,village,year,level,program,amount,project,expected_rate
G1,131124100200,2022,central,扶贫车间项目,50000,FP-1,
";

const ASSETS: &str = "asset,village,kind,name,quantity,unit,original_value,acquired,grant,status
L1,131124100200,land,村南耕地,20,亩,,2000-01-01,,let
S1,131124100200,facility,扶贫车间设备,1,套,50000,2022-10-01,G1,let
W1,131124100200,building,临街门面房,120,平方米,300000,2010-01-01,,let
";

/// 王建国's land (16,000.00 a year from 1 March) is 10,000.00 short in 2024, 305 days overdue at the
/// report date: an `arrears` alert. The two leases are paid.
const CONTRACTS: &str = "contract,village,counterparty,counterparty_id,asset,kind,signed,start,end,resolution,annual_rent,due_day,step_years,step_rate,account
C1,131124100200,李春生,,S1,lease,2023-01-01,2023-01-01,2027-12-31,2022-12-20,5000,06-30,,,operating_revenue
E1,131124100200,饶阳县顺达物流有限公司,91131124MA0XXXX12X,W1,lease,2022-01-01,2022-01-01,2026-12-31,2021-12-20,30000,01-01,,,operating_revenue
Z1,131124100200,王建国,130000199001011234,L1,contracting,2023-03-01,2023-03-01,2028-02-29,2023-02-20,16000,03-01,,,contracting_income
";

const RECEIPTS: &str = "village,date,account,amount,memo,contract
131124100200,2023-07-01,operating_revenue,5000,车间设备租金,C1
131124100200,2024-06-30,operating_revenue,5000,车间设备租金,C1
131124100200,2022-01-05,operating_revenue,30000,门面房租金,E1
131124100200,2023-01-05,operating_revenue,30000,门面房租金,E1
131124100200,2024-01-05,operating_revenue,30000,门面房租金,E1
131124100200,2023-03-05,contracting_income,16000,土地承包费,Z1
131124100200,2024-03-10,contracting_income,6000,土地承包费,Z1
";

/// The fixture county with 东关村's grant, assets, contracts and receipts.
async fn with_contracts(name: &str) -> Server {
    let s = server(name).await;
    for (kind, text) in [
        (ImportKind::Grants, GRANTS),
        (ImportKind::Assets, ASSETS),
        (ImportKind::Contracts, CONTRACTS),
        (ImportKind::Entries, RECEIPTS),
    ] {
        s.import(kind, text).await;
    }
    s
}

/// Whether `text` holds an 18-character id number (17 digits and a digit or X), or a masked one.
fn holds_id_number(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    for w in chars.windows(18) {
        let digits = w[..17].iter().all(|c| c.is_ascii_digit());
        if digits && (w[17].is_ascii_digit() || w[17] == 'X' || w[17] == 'x') {
            return Some(w.iter().collect());
        }
    }
    ["91131124MA0XXXX12X", "*1234", "*X12X"]
        .iter()
        .find(|m| text.contains(*m))
        .map(|m| m.to_string())
}

#[tokio::test]
async fn the_public_page_and_the_notice_list_the_contracts_in_yuan_without_id_numbers() {
    let s = with_contracts("contracts-public").await;
    let page = public_page(s.addr, "131124100200").await;
    assert_eq!(holds_id_number(&page), None, "{page}");
    assert_holds(
        &page,
        &[
            "2024 年集体资产资源发包租赁（元）",
            "<strong>李春生</strong> 租用扶贫车间设备（1 套）",
            "<strong>饶阳县顺达物流有限公司</strong> 租用临街门面房（120 平方米）",
            "<strong>王建国</strong> 承包村南耕地（20 亩）",
            "合同期限 2023-03-01 至 2028-02-29",
            "截至 2024-12-31 欠收",
            "扶贫车间设备（1 套）</strong>：出租发包",
            "资金来源：扶贫车间项目（中央，2022 年，50,000.00 元）",
            "（李春生）",
        ],
    );
    // In contract order: 李春生, the logistics company, 王建国.
    assert_eq!(stat(&page, "contract-due-1"), "5,000.00");
    assert_eq!(stat(&page, "contract-received-1"), "5,000.00");
    assert_eq!(stat(&page, "contract-arrears-1"), "没有欠收");
    assert_eq!(stat(&page, "contract-due-2"), "30,000.00");
    assert_eq!(stat(&page, "contract-received-2"), "30,000.00");
    assert_eq!(stat(&page, "contract-due-3"), "16,000.00");
    assert_eq!(stat(&page, "contract-received-3"), "6,000.00");
    assert_eq!(stat(&page, "contract-arrears-3"), "10,000.00");
    assert_eq!(stat(&page, "contracts-due"), "51,000.00");
    assert_eq!(stat(&page, "contracts-received"), "41,000.00");
    assert_eq!(stat(&page, "contracts-arrears"), "10,000.00");
    assert_eq!(stat(&page, "asset-earned-1"), "5,000.00");
    // Nothing villagers are not to see: no contract number, no alert, no account key.
    for hidden in [
        "Z1",
        "E1",
        "C1",
        "预警",
        "合同欠收逾期",
        "contracting",
        "lease",
    ] {
        assert!(!page.contains(&format!(">{hidden}<")), "{hidden}");
    }
    assert!(!page.contains("预警") && !page.contains("合同欠收逾期"));
    // A village without contracts shows no such section.
    let other = public_page(s.addr, "131124100201").await;
    assert!(!other.contains("发包租赁"), "{other}");

    let notice = notice_page(s.addr, "131124100200").await;
    assert_eq!(holds_id_number(&notice), None, "{notice}");
    assert_holds(
        &notice,
        &[
            "2024 年集体资产资源发包租赁（截至 2024-12-31）",
            "<tr><td>王建国</td><td>承包村南耕地（20 亩）<br>2023-03-01 至 2028-02-29</td><td class=\"num\">16,000.00 元</td><td class=\"num\">6,000.00 元</td><td class=\"num\">10,000.00 元</td></tr>",
            "<tr><td>李春生</td><td>租用扶贫车间设备（1 套）<br>2023-01-01 至 2027-12-31</td><td class=\"num\">5,000.00 元</td><td class=\"num\">5,000.00 元</td><td class=\"num\">0.00 元</td></tr>",
            "扶贫车间设备（1 套）（出租发包）<br>扶贫车间项目（中央，2022 年，50,000.00 元）",
            "2024 年租金收入 5,000.00 元",
        ],
    );
    assert_eq!(stat(&notice, "notice-contracts-due"), "51,000.00 元");
    assert_eq!(stat(&notice, "notice-contracts-received"), "41,000.00 元");
    assert_eq!(stat(&notice, "notice-contracts-arrears"), "10,000.00 元");
    assert!(!notice.contains("预警"));
}

#[tokio::test]
async fn the_api_gives_contracts_assets_and_arrears_to_the_fen_within_scope() {
    let s = with_contracts("contracts-api").await;
    let mut acct = Client::signed_in(s.addr, "acct").await;
    let (status, v) = acct
        .get_json("/api/villages/131124100200/contracts?year=2024")
        .await;
    assert_eq!(status, 200, "{v}");
    // The API gives the id number masked, never whole.
    for whole in ["130000199001011234", "91131124MA0XXXX12X"] {
        assert!(!v.to_string().contains(whole), "{v}");
    }
    assert_eq!(v["at"], "2024-12-31");
    assert_eq!(v["due_in_year"], "51000.00");
    assert_eq!(v["received_in_year"], "41000.00");
    assert_eq!(v["arrears"], "10000.00");
    let ids: Vec<&str> = v["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["C1", "E1", "Z1"]);
    let z1 = &v["contracts"][2];
    assert_eq!(z1["counterparty"], "王建国");
    assert_eq!(z1["counterparty_id"], "**************1234");
    assert_eq!(z1["asset_name"], "村南耕地");
    assert_eq!(z1["due_in_year"], "16000.00");
    assert_eq!(z1["received_in_year"], "6000.00");
    assert_eq!(z1["due"], "32000.00");
    assert_eq!(z1["received"], "22000.00");
    assert_eq!(z1["arrears"], "10000.00");
    assert_eq!(z1["oldest_unpaid"], "2024-03-01");
    assert_eq!(z1["days_overdue"], 305);
    assert_eq!(v["contracts"][1]["counterparty_id"], "**************X12X");
    // At a date before the 2024 rent fell due, nothing was owed.
    let (_, early) = acct
        .get_json("/api/villages/131124100200/contracts?at=2024-02-29")
        .await;
    assert_eq!(early["year"], 2024);
    assert_eq!(early["contracts"][2]["arrears"], "0.00");
    assert_eq!(early["contracts"][2]["received"], "16000.00");

    let (status, a) = acct
        .get_json("/api/villages/131124100200/assets?year=2024")
        .await;
    assert_eq!(status, 200, "{a}");
    let l1 = &a["assets"][0];
    assert_eq!(
        (&l1["id"], &l1["quantity"], &l1["unit"]),
        (&json!("L1"), &json!("20"), &json!("亩"))
    );
    assert_eq!(l1["contracts"], json!(["Z1"]));
    assert_eq!(
        (&l1["due_in_year"], &l1["received_in_year"], &l1["arrears"]),
        (&json!("16000.00"), &json!("6000.00"), &json!("10000.00"))
    );
    let s1 = &a["assets"][1];
    assert_eq!((&s1["grant"], &s1["status"]), (&json!("G1"), &json!("let")));
    assert_eq!(s1["received_in_year"], "5000.00");
    assert_eq!(a["assets"][2]["original_value"], "300000.00");

    let mut town = Client::signed_in(s.addr, "town").await;
    let (status, r) = town
        .get_json("/api/regions/131124100000/arrears?at=2024-12-31")
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["count"], 1);
    assert_eq!(r["arrears"], "10000.00");
    assert_eq!(r["contracts"][0]["id"], "Z1");
    assert_eq!(r["contracts"][0]["village_name"], "东关村");
    assert_eq!(r["contracts"][0]["days_overdue"], 305);

    // Outside the reader's scope: refused, in Chinese, as JSON.
    for path in [
        "/api/villages/131124101200/contracts",
        "/api/villages/131124101200/assets",
        "/api/regions/131124000000/arrears",
    ] {
        let (status, e) = town.get_json(path).await;
        assert_eq!(status, 403, "{path}: {e}");
        assert!(e["error"].as_str().unwrap().contains("只能查看"), "{e}");
    }
    let (status, e) = acct.get_json("/api/regions/131124100000/arrears").await;
    assert_eq!(status, 403, "{e}");
    let (status, e) = town.get_json("/api/villages/131124100000/contracts").await;
    assert_eq!(status, 404, "{e}");
    assert!(e["error"].as_str().unwrap().contains("不是村"), "{e}");
    let (status, e) = acct
        .get_json("/api/villages/131124100200/contracts?at=2024-02-30")
        .await;
    assert_eq!(status, 400, "{e}");
    assert!(e["error"].as_str().unwrap().contains("不存在"), "{e}");
    let (status, _) = Client::new(s.addr)
        .get_json("/api/villages/131124100200/contracts")
        .await;
    assert_eq!(status, 401);
    let doc: Value = serde_json::from_slice(&acct.get("/api/openapi.json").await.body).unwrap();
    for p in [
        "/api/villages/{code}/contracts",
        "/api/villages/{code}/assets",
        "/api/regions/{code}/arrears",
    ] {
        assert!(doc["paths"][p]["get"].is_object(), "{p} missing");
    }
}

#[tokio::test]
async fn an_approval_needs_a_written_check_of_the_contract_alert() {
    let s = with_contracts("contracts-approve").await;
    // A lease ending 46 days after the report date with nothing after it: `expiring` as well.
    let header = CONTRACTS.lines().next().unwrap();
    s.import(
        ImportKind::Contracts,
        &format!("{header}\nX1,131124100200,赵长海,,,lease,2022-02-10,2022-02-16,2025-02-15,2022-01-20,2000,03-01,,,operating_revenue\n"),
    )
    .await;
    s.import(
        ImportKind::Entries,
        "village,date,account,amount,memo,contract\n131124100200,2022-03-01,operating_revenue,2000,租金,X1\n131124100200,2023-03-01,operating_revenue,2000,租金,X1\n131124100200,2024-03-01,operating_revenue,2000,租金,X1\n",
    )
    .await;
    const API: &str = "/api/proposals/131124100200/2024";
    let mut town = Client::signed_in(s.addr, "town").await;
    assert_eq!(
        town.post_json(&format!("{API}/compute"), &json!({}))
            .await
            .0,
        200
    );
    let (_, p) = town.get_json(API).await;
    let kinds: Vec<String> = p["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(
        kinds.iter().any(|k| k == "arrears") && kinds.iter().any(|k| k == "expiring"),
        "{p}"
    );
    let arrears = p["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "arrears")
        .unwrap();
    assert!(
        arrears.to_string().contains("欠收 10,000.00 元"),
        "{arrears}"
    );
    // Decided as computed.
    let awards: serde_json::Map<String, Value> = p["awards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["person"].as_str().unwrap().to_string(),
                a["computed"].clone(),
            )
        })
        .collect();
    let resolve = json!({ "meetings": { "proposed": "2025-01-06", "discussed": "2025-01-08", "reviewed": "2025-01-10", "decided": "2025-01-15" },
        "body": "representatives", "count_by": "adults", "members": 30, "present": 24,
        "for": 20, "against": 3, "abstain": 1, "resolution_published": "2025-01-16",
        "awards": awards, "attachments": [] });
    let (status, answer) = town.post_json(&format!("{API}/resolve"), &resolve).await;
    assert_eq!(status, 200, "{answer}");
    // The approval form lists the contract alert with a field for its check.
    let page = town.get("/workflow/131124100200/2024").await.text();
    assert!(
        page.contains("data-alert=\"arrears\"") && page.contains("合同欠收逾期"),
        "{page}"
    );
    // Every other alert checked, the contract alert not: refused, nothing stored.
    let others: serde_json::Map<String, Value> = kinds
        .iter()
        .filter(|k| *k != "arrears")
        .map(|k| (k.clone(), json!("已核实")))
        .collect();
    let before = s.store.proposal("131124100200", 2024).await.unwrap();
    let (status, e) = town
        .post_json(
            &format!("{API}/approve"),
            &json!({ "note": "同意", "checks": others }),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    let message = e["error"].as_str().unwrap();
    assert!(
        message.contains("须逐项填写核实说明") && message.contains("合同欠收逾期"),
        "{message}"
    );
    assert_eq!(
        before,
        s.store.proposal("131124100200", 2024).await.unwrap()
    );
    // The arrears checked, the ending lease not: refused, naming it.
    let mut one = others.clone();
    one.remove("expiring");
    one.insert("arrears".into(), json!("已核实"));
    let (status, e) = town
        .post_json(&format!("{API}/approve"), &json!({ "checks": one }))
        .await;
    assert_eq!(status, 422, "{e}");
    let message = e["error"].as_str().unwrap();
    assert!(
        message.contains("合同即将到期未续") && !message.contains("合同欠收逾期"),
        "{message}"
    );
    // A blank check is no check.
    let mut blank = others.clone();
    blank.insert("arrears".into(), json!("  "));
    let (status, _) = town
        .post_json(&format!("{API}/approve"), &json!({ "checks": blank }))
        .await;
    assert_eq!(status, 422);
    // With the check written, approved, and the check kept with the step.
    let mut all = others;
    all.insert(
        "arrears".into(),
        json!("王建国 2025 年 1 月补交 1 万元，有收据"),
    );
    let (status, answer) = town
        .post_json(
            &format!("{API}/approve"),
            &json!({ "note": "同意", "checks": all }),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (_, p) = town.get_json(API).await;
    assert_eq!(p["status"], "township_approved");
    assert_eq!(
        p["steps"][2]["data"]["checks"]["arrears"],
        "王建国 2025 年 1 月补交 1 万元，有收据"
    );
}

/// A notice keeps to one A4 page: past ten contracts it lists those still owing and says how many it
/// left out; its totals and the page count them all.
#[tokio::test]
async fn the_notice_lists_at_most_ten_contracts_those_owing_first() {
    let s = server("contracts-notice-rows").await;
    let mut contracts = CONTRACTS.lines().next().unwrap().to_string() + "\n";
    let mut receipts = RECEIPTS.lines().next().unwrap().to_string() + "\n";
    for i in 1..=12 {
        contracts.push_str(&format!(
            "K{i:02},131124100201,农户{i:02},,,contracting,2024-01-01,2024-01-01,2026-12-31,2023-12-20,1000,03-01,,,contracting_income\n"
        ));
        // The last two paid nothing.
        if i <= 10 {
            receipts.push_str(&format!(
                "131124100201,2024-03-02,contracting_income,1000,承包费,K{i:02}\n"
            ));
        }
    }
    s.import(ImportKind::Contracts, &contracts).await;
    s.import(ImportKind::Entries, &receipts).await;
    let notice = notice_page(s.addr, "131124100201").await;
    assert_eq!(notice.matches("<td>农户").count(), 10, "{notice}");
    assert_holds(
        &notice,
        &[
            "<tr><td>农户11</td><td>承包集体资产<br>2024-01-01 至 2026-12-31</td><td class=\"num\">1,000.00 元</td><td class=\"num\">0.00 元</td><td class=\"num\">1,000.00 元</td></tr>",
            "<td>农户12</td>",
            "<td>农户08</td>",
            "另有 2 份合同未列出（已计入合计）",
        ],
    );
    assert!(!notice.contains("<td>农户09</td>") && !notice.contains("<td>农户10</td>"));
    assert_eq!(stat(&notice, "notice-contracts-due"), "12,000.00 元");
    assert_eq!(stat(&notice, "notice-contracts-received"), "10,000.00 元");
    assert_eq!(stat(&notice, "notice-contracts-arrears"), "2,000.00 元");
    let page = public_page(s.addr, "131124100201").await;
    assert_eq!(page.matches("<strong>农户").count(), 12);
    assert_eq!(stat(&page, "contract-arrears-12"), "1,000.00");
}

/// A village that has reported no books shows what fell due and `尚未报送` for what was received,
/// never 0.00 received or the whole rent owed (SPEC §15).
#[tokio::test]
async fn a_village_without_books_shows_not_yet_reported_for_receipts() {
    let s = server("contracts-unreported").await;
    s.import(ImportKind::Regions, "code,name\n131124100202,南关村\n")
        .await;
    let header = CONTRACTS.lines().next().unwrap();
    s.import(
        ImportKind::Contracts,
        &format!("{header}\nN1,131124100202,孙二虎,,,contracting,2023-05-01,2023-05-01,2028-04-30,2023-04-20,6000,05-01,,,contracting_income\n"),
    )
    .await;
    let page = public_page(s.addr, "131124100202").await;
    assert_holds(
        &page,
        &[
            "<strong>孙二虎</strong> 承包集体资产",
            "2024 年应收 <span id=\"contract-due-1\">6,000.00</span> 元，已收：尚未报送",
            "本村 2024 年账目尚未报送",
        ],
    );
    assert!(
        !page.contains("欠收 <") && !page.contains(">0.00<"),
        "{page}"
    );
    let notice = notice_page(s.addr, "131124100202").await;
    assert_holds(
        &notice,
        &[
            "<td class=\"num\">6,000.00 元</td><td colspan=\"2\">尚未报送</td>",
            "id=\"notice-contracts-received\">尚未报送",
        ],
    );
    assert!(!notice.contains("0.00 元</td><td class=\"num\">6,000.00 元"));
}

/// A village merged into another (SPEC §2): its contracts in force in the year shown and its subsidy
/// assets are on the successor's page and notice, labelled with the old village's name, as its
/// grants are; a contract over before the year and paid is not, and never an id number.
#[tokio::test]
async fn a_merged_villages_contracts_are_on_its_successors_page() {
    let s = server("contracts-merged").await;
    s.import(
        ImportKind::Regions,
        "code,name,predecessors,merged_in\n131124100202,北关村,,\n",
    )
    .await;
    s.import(
        ImportKind::Grants,
        "grant,village,year,level,program,amount,project,expected_rate\nG2,131124100202,2021,county,光伏发电项目,80000,PV-1,\n",
    )
    .await;
    s.import(
        ImportKind::Assets,
        "asset,village,kind,name,quantity,unit,original_value,acquired,grant,status\nBL1,131124100202,water,鱼塘,15,亩,,2000-01-01,,let\nPV1,131124100202,facility,光伏板,1,套,80000,2021-10-01,G2,idle\n",
    )
    .await;
    let header = CONTRACTS.lines().next().unwrap();
    s.import(
        ImportKind::Contracts,
        &format!("{header}\nB1,131124100202,刘大山,130000198505051234,BL1,contracting,2021-12-20,2022-01-01,2026-12-31,,3000,01-10,,,contracting_income\nB2,131124100202,孙老汉,,,lease,2020-12-20,2021-01-01,2023-12-31,,1000,01-01,,,operating_revenue\n"),
    )
    .await;
    s.import(
        ImportKind::Entries,
        "village,date,account,amount,memo,contract\n\
         131124100202,2022-01-10,contracting_income,3000,鱼塘承包费,B1\n\
         131124100202,2023-01-10,contracting_income,3000,鱼塘承包费,B1\n\
         131124100202,2021-01-01,operating_revenue,1000,租金,B2\n\
         131124100202,2022-01-01,operating_revenue,1000,租金,B2\n\
         131124100202,2023-01-01,operating_revenue,1000,租金,B2\n",
    )
    .await;
    // Registered before the merge, as a village's contracts are; then merged into 东关村 in 2024.
    s.import(
        ImportKind::Regions,
        "code,name,predecessors,merged_in\n131124100200,东关村,131124100202,2024\n",
    )
    .await;

    let page = public_page(s.addr, "131124100200").await;
    assert_eq!(holds_id_number(&page), None, "{page}");
    assert_holds(
        &page,
        &[
            "2024 年集体资产资源发包租赁（元）",
            "<strong>刘大山</strong> 承包鱼塘（15 亩）<span class=\"merged\">（原北关村的合同）</span>",
            "合同期限 2022-01-01 至 2026-12-31",
            "<strong>光伏板（1 套）</strong><span class=\"merged\">（原北关村的资产）</span>：闲置",
            "资金来源：光伏发电项目（县级，2021 年，80,000.00 元）",
        ],
    );
    assert_eq!(page.matches("<div class=\"card contract\">").count(), 1);
    assert!(!page.contains("孙老汉"), "over in 2023 and paid");
    assert_eq!(stat(&page, "contract-due-1"), "3,000.00");
    assert_eq!(stat(&page, "contract-received-1"), "0.00");
    assert_eq!(stat(&page, "contract-arrears-1"), "3,000.00");
    assert_eq!(stat(&page, "contracts-due"), "3,000.00");
    assert_eq!(stat(&page, "contracts-received"), "0.00");
    assert_eq!(stat(&page, "contracts-arrears"), "3,000.00");
    assert_eq!(stat(&page, "asset-earned-1"), "0.00");
    for hidden in [">B1<", ">BL1<", ">PV1<", "131124100202"] {
        assert!(!page.contains(hidden), "{hidden}");
    }

    let notice = notice_page(s.addr, "131124100200").await;
    assert_eq!(holds_id_number(&notice), None, "{notice}");
    assert_holds(
        &notice,
        &[
            "<tr><td>刘大山</td><td>承包鱼塘（15 亩）（原北关村的合同）<br>2022-01-01 至 2026-12-31</td><td class=\"num\">3,000.00 元</td><td class=\"num\">0.00 元</td><td class=\"num\">3,000.00 元</td></tr>",
            "光伏板（1 套）（原北关村的资产）（闲置）<br>光伏发电项目（县级，2021 年，80,000.00 元）",
        ],
    );
    assert!(!notice.contains("孙老汉"));
    assert_eq!(stat(&notice, "notice-contracts-due"), "3,000.00 元");
    assert_eq!(stat(&notice, "notice-contracts-arrears"), "3,000.00 元");
}
