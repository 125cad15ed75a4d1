//! Contracts and the asset register in the store (SPEC §16): the three imports all or nothing with
//! every bad row named, versions instead of edits, receipts checked on the entries that name a
//! contract, and the reads a page lists.

mod common;

use common::{import, store_with};
use cunji_core::date::Date;
use cunji_core::money::Fen;
use cunji_core::region::RegionCode;
use cunji_store::import::ImportError;
use cunji_store::{ImportKind, ImportOutcome};

const REGIONS: &str =
    "code,name\n130101000000,县\n130101001000,镇\n130101001001,东村\n130101001002,西村\n";
const ASSETS: &str = "asset,village,kind,name,quantity,unit,original_value,acquired,grant,status\n\
A1,130101001001,land,东坡地,10,亩,,2010-01-01,,let\n\
B1,130101001002,land,西河滩,5,亩,,2010-01-01,,let\n";
const CONTRACTS: &str = "contract,village,counterparty,counterparty_id,asset,kind,signed,start,end,resolution,annual_rent,due_day,step_years,step_rate,account\n\
C1,130101001001,张三,130101198001011234,A1,lease,2022-01-01,2022-01-01,2026-12-31,,10000,,1,10%,\n\
C2,130101001001,合作社,,,cooperation,2024-01-01,2024-01-01,2025-03-31,,,,,,\n";

fn errors(r: Result<ImportOutcome, ImportError>) -> Vec<String> {
    match r {
        Err(ImportError::Rows(e)) => e.iter().map(|e| e.to_string()).collect(),
        other => panic!("expected row errors, got {other:?}"),
    }
}

fn rows(r: Result<ImportOutcome, ImportError>) -> (u64, u64) {
    match r.unwrap() {
        ImportOutcome::Stored { rows, unchanged } => (rows, unchanged),
        other => panic!("not stored: {other:?}"),
    }
}

#[tokio::test]
async fn imports_check_every_row_and_keep_versions() {
    let (store, _, dir) = store_with("contracts-import", REGIONS).await;
    assert_eq!(
        rows(import(&store, ImportKind::Assets, "a.csv", ASSETS).await),
        (2, 0)
    );
    // Every bad row named by file, line and column; nothing stored.
    let bad = format!(
        "{}\
C3,130101001001,李四,,B1,lease,2024-01-01,2024-01-01,2025-01-01,,100,,,,\n\
C4,130101001001,王五,,,lease,2024-01-01,2024-02-01,2024-01-01,,100,,1,,\n\
C5,130101001001,赵六,,,lease,2024-01-01,2024-01-01,2025-01-01,,100,02-29,,,\n\
C6,130101001001,钱七,,,lease,2024-01-01,2024-01-01,2025-01-01,,100,,,,admin_expense\n",
        CONTRACTS
    );
    let e = errors(import(&store, ImportKind::Contracts, "c.csv", &bad).await);
    assert!(
        e.iter()
            .any(|m| m.starts_with("c.csv:4: asset:") && m.contains("不是村 130101001001")),
        "{e:?}"
    );
    assert!(e.iter().any(|m| m.starts_with("c.csv:5: end:")), "{e:?}");
    assert!(
        e.iter().any(|m| m.starts_with("c.csv:5: step_rate:")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|m| m.starts_with("c.csv:6: due_day:") && m.contains("02-29")),
        "{e:?}"
    );
    assert!(
        e.iter().any(|m| m.starts_with("c.csv:7: account:")),
        "{e:?}"
    );
    assert_eq!(store.load_contracts().await.unwrap().villages.len(), 2); // assets only

    assert_eq!(
        rows(import(&store, ImportKind::Contracts, "c.csv", CONTRACTS).await),
        (2, 0)
    );
    // Installments only for a contract without a yearly rent; Chinese headers.
    let inst = "合同编号,村代码,日期,金额\nC1,130101001001,2024-03-01,100\nC2,130101001001,2024-03-01,3000\n";
    let e = errors(import(&store, ImportKind::Installments, "i.csv", inst).await);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("i.csv:2: 合同编号:") && e[0].contains("年租金"),
        "{e:?}"
    );
    let inst = "合同编号,村代码,日期,金额\nC2,130101001001,2024-03-01,3000\nC2,130101001001,2024-10-02,3000\n";
    assert_eq!(
        rows(import(&store, ImportKind::Installments, "i.csv", inst).await),
        (2, 0)
    );

    // A changed contract is a new version; an unchanged one is skipped.
    let changed = CONTRACTS.replace("张三,130101198001011234", "张三丰,130101198001011234");
    assert_eq!(
        rows(import(&store, ImportKind::Contracts, "c2.csv", &changed).await),
        (1, 1)
    );
    let book = store.load_contracts().await.unwrap();
    let east = book
        .of(&RegionCode::parse("130101001001").unwrap())
        .unwrap();
    assert_eq!(east.contract("C1").unwrap().counterparty(), "张三丰");
    assert_eq!(east.contract("C2").unwrap().total(), Fen::from_fen(600_000));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn entries_naming_a_contract_are_receipts() {
    let (store, _, dir) = store_with("contracts-receipts", REGIONS).await;
    import(&store, ImportKind::Assets, "a.csv", ASSETS)
        .await
        .unwrap();
    import(&store, ImportKind::Contracts, "c.csv", CONTRACTS)
        .await
        .unwrap();
    let bad = "village,date,account,amount,contract\n\
130101001002,2024-01-05,operating_revenue,100,C1\n\
130101001001,2021-12-31,operating_revenue,100,C1\n\
130101001001,2028-01-01,operating_revenue,100,C1\n\
130101001001,2024-01-05,admin_expense,100,C1\n\
130101001001,2024-01-05,operating_revenue,100,C9\n";
    let e = errors(import(&store, ImportKind::Entries, "e.csv", bad).await);
    let lines: Vec<&str> = e.iter().map(|m| &m[..m.find(": ").unwrap() + 1]).collect();
    assert_eq!(
        lines,
        ["e.csv:2:", "e.csv:3:", "e.csv:4:", "e.csv:5:", "e.csv:6:"],
        "{e:?}"
    );
    assert!(e.iter().all(|m| m.contains(": contract: ")), "{e:?}");
    assert!(e[0].contains("是村 130101001001 的合同"), "{e:?}");
    // On the end day plus one year, and with the Chinese header.
    let good = "村代码,日期,科目,金额,合同编号\n\
130101001001,2022-01-05,经营收入,10000,C1\n\
130101001001,2023-01-05,经营收入,11000,C1\n\
130101001001,2024-02-01,经营收入,6000,C1\n\
130101001001,2027-12-31,经营收入,1,C1\n\
130101001001,2024-06-30,经营收入,500,\n";
    import(&store, ImportKind::Entries, "e.csv", good)
        .await
        .unwrap();
    let v = RegionCode::parse("130101001001").unwrap();
    let at = Date::parse("2024-12-31").unwrap();
    let lines = store.village_contracts(&v, 2024, at).await.unwrap();
    assert_eq!(lines.len(), 2);
    let c1 = &lines[0];
    assert_eq!(c1.asset_name.as_deref(), Some("东坡地"));
    assert_eq!(c1.due_in_year, Fen::from_fen(1_210_000));
    assert_eq!(c1.received_in_year, Fen::from_fen(600_000));
    assert_eq!(c1.standing.arrears, Fen::from_fen(610_000));
    assert_eq!(
        c1.contract.counterparty_id_masked().as_deref(),
        Some("**************1234")
    );
    // The township's arrears, oldest unpaid first.
    let township = RegionCode::parse("130101001000").unwrap();
    let arrears = store.arrears_within(&township, at).await.unwrap();
    assert_eq!(arrears.len(), 1);
    assert_eq!(
        arrears[0].standing.oldest_unpaid,
        Some(Date::parse("2024-01-01").unwrap())
    );
    // The report reads them.
    let data = store.load_for_report(2024).await.unwrap();
    assert_eq!(data.contracts.of(&v).unwrap().receipts_of("C1").len(), 4);

    // A receipt reversed by voucher (in a later file, and within the same file) is taken back
    // from its contract, though the reversal names no contract.
    let text = "village,date,account,amount,voucher,reverses,contract\n\
130101001001,2024-11-01,operating_revenue,1000,记-1,,C1\n\
130101001001,2024-11-02,operating_revenue,-1000,记-2,2024:记-1,\n";
    import(&store, ImportKind::Entries, "r1.csv", text)
        .await
        .unwrap();
    let text = "village,date,account,amount,voucher,contract\n\
130101001001,2024-11-03,operating_revenue,2000,记-3,C1\n";
    import(&store, ImportKind::Entries, "r2.csv", text)
        .await
        .unwrap();
    let text = "village,date,account,amount,voucher,reverses\n\
130101001001,2024-11-04,operating_revenue,-2000,记-4,2024:记-3\n";
    import(&store, ImportKind::Entries, "r3.csv", text)
        .await
        .unwrap();
    let lines = store.village_contracts(&v, 2024, at).await.unwrap();
    assert_eq!(lines[0].received_in_year, Fen::from_fen(600_000));
    let _ = std::fs::remove_dir_all(dir);
}

/// A past year's contract figures are judged once and kept: the next report reads them instead of
/// the contracts and says the same, byte for byte; a running year, other settings or a new import
/// make them judged again; and an edit of the kept rows behind cunji's back is found by `check`.
#[tokio::test]
async fn a_past_years_contract_figures_are_kept_until_the_books_change() {
    use cunji_core::policy::Policy;
    let (store, url, dir) = store_with("contracts-kept", REGIONS).await;
    import(&store, ImportKind::Assets, "a.csv", ASSETS)
        .await
        .unwrap();
    import(&store, ImportKind::Contracts, "c.csv", CONTRACTS)
        .await
        .unwrap();
    let receipts = "village,date,account,amount,contract\n\
130101001001,2024-03-01,operating_revenue,6000,C1\n";
    import(&store, ImportKind::Entries, "e.csv", receipts)
        .await
        .unwrap();
    let policy = Policy::parse("name = \"试\"\n").unwrap();
    let today = Date::parse("2026-12-04").ok();
    let report = |data: &cunji_store::LoadedData, policy: &Policy, year: i32| {
        let input = data.input(year, None, today);
        serde_json::to_string(&cunji_core::report::build_report(policy, &input).unwrap()).unwrap()
    };
    let judged = store
        .load_for_report_from(2024, i32::MIN, Some(&policy.alerts))
        .await
        .unwrap();
    let expected = report(&judged, &policy, 2024);
    assert!(expected.contains("\"contracted\":\"12100.00\",\"received\":\"6000.00\""));

    // The first report judges them and keeps them; the second reads them, not the contracts.
    let first = store
        .load_for_report_under(&policy, 2024, today)
        .await
        .unwrap();
    assert!(!first.contracts.is_empty());
    assert_eq!(report(&first, &policy, 2024), expected);
    let second = store
        .load_for_report_under(&policy, 2024, today)
        .await
        .unwrap();
    assert!(
        second.contracts.is_empty(),
        "the kept figures were not read"
    );
    assert_eq!(report(&second, &policy, 2024), expected);
    let v = RegionCode::parse("130101001001").unwrap();
    let kept = second.kept_contracts.as_ref().unwrap().of(&v);
    // Due 10,000 + 11,000 + 12,100 by the end of 2024, 6,000 received.
    assert_eq!(kept.figures.unwrap().arrears, Fen::from_fen(2_710_000));

    // A running year is judged on its day, never kept.
    let running = store
        .load_for_report_under(&policy, 2026, today)
        .await
        .unwrap();
    assert!(!running.contracts.is_empty() && running.kept_contracts.is_none());

    // `check` makes them again: clean, then an edit of the kept rows is found.
    assert_eq!(store.check().await.unwrap().problems, Vec::<String>::new());
    let sql = "UPDATE kept_contract_years SET arrears = 0 WHERE village = '130101001001'";
    let edit = url.clone();
    tokio::task::spawn_blocking(move || cunji_store::testing::execute_directly(&edit, sql))
        .await
        .unwrap();
    let problems = store.check().await.unwrap().problems;
    assert_eq!(
        problems,
        ["村 130101001001 2024 年的合同汇总或提示与按合同重新计算的不符（保存的汇总被改动过）"]
    );

    // Other settings judge them again (and keep theirs, which the edit no longer touches).
    let other = Policy::parse("name = \"试\"\n[contracts]\nresolution_threshold = 5000\n").unwrap();
    let again = store
        .load_for_report_under(&other, 2024, today)
        .await
        .unwrap();
    assert!(!again.contracts.is_empty());
    assert_eq!(store.check().await.unwrap().problems, Vec::<String>::new());

    // A new import changes the books: judged again, with the new receipt.
    let more = "village,date,account,amount,contract\n\
130101001001,2024-04-01,operating_revenue,1000,C1\n";
    import(&store, ImportKind::Entries, "e2.csv", more)
        .await
        .unwrap();
    let after = store
        .load_for_report_under(&other, 2024, today)
        .await
        .unwrap();
    assert!(!after.contracts.is_empty());
    assert!(report(&after, &other, 2024).contains("\"received\":\"7000.00\""));
    let _ = std::fs::remove_dir_all(dir);
}

/// Each contract's lines on its village's page, for the worked examples of
/// `tests/fixtures/examples/contracts-*` (step-ups, installments, receipts, arrears at 89 and 90
/// days): the lines in `contract-lines.json`, village by village, in contract order.
#[tokio::test]
async fn the_worked_examples_tell_each_contract_line_by_line() {
    for (case, year) in [("contracts-2024", 2024), ("contracts-2025", 2025)] {
        let dir = format!(
            "{}/../../tests/fixtures/examples/{case}",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = |f: &str| std::fs::read(format!("{dir}/{f}")).unwrap();
        let read = |f: &str| String::from_utf8(bytes(f)).unwrap();
        let (store, _, tmp) = store_with(case, &read("regions.csv")).await;
        for (kind, file) in [
            (ImportKind::Grants, "grants.csv"),
            (ImportKind::Assets, "assets.csv"),
            (ImportKind::Contracts, "contracts.csv"),
            (ImportKind::Installments, "installments.csv"),
            (ImportKind::Entries, "entries.csv"),
        ] {
            // As the files are (one in GB18030, as WPS saves it).
            let quiet = &cunji_store::import::Quiet;
            store
                .import(kind, file, &bytes(file), "test", quiet)
                .await
                .unwrap();
        }
        let expected: std::collections::BTreeMap<String, Vec<String>> =
            serde_json::from_str(&read("contract-lines.json")).unwrap();
        let at = Date::year_end(year);
        for (village, lines) in expected {
            let v = RegionCode::parse(&village).unwrap();
            let got: Vec<String> = store
                .village_contracts(&v, year, at)
                .await
                .unwrap()
                .into_iter()
                .flat_map(|l| l.trace)
                .collect();
            assert_eq!(got, lines, "{case}: village {village}");
        }
        let _ = std::fs::remove_dir_all(tmp);
    }
}
