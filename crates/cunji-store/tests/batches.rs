//! Files larger than one batch: an import reads, checks and stores its rows a batch at a time, so a
//! bad row late in a file must still leave nothing stored, and rows in any order must still give
//! the same totals, entry facts and audit record as rows read whole.

mod common;

use common::{import, store_with};
use cunji_store::import::ImportError;
use cunji_store::{ImportKind, ImportOutcome, Store};

const REGIONS: &str = "code,name\n110000000000,北京市\n110100000000,市辖区\n110101000000,东城区\n110101001000,某镇\n110101001001,甲村\n110101001002,乙村\n110101001003,丙村\n";

const VILLAGES: [&str; 3] = ["110101001001", "110101001002", "110101001003"];

/// More rows than four batches of the importer on SQLite (32,000 each) and seven on PostgreSQL
/// (20,000): the checker runs up to three batches ahead of the writer, so batches are stored while
/// later ones wait and later rows are still being checked.
const ROWS: usize = 150_000;

/// Row `i` of a file: villages and dates interleaved and out of order, so that no village-year's
/// rows come together or in date order. Amounts are `i` fen plus one yuan.
fn row(i: usize, voucher_prefix: &str) -> String {
    let village = VILLAGES[i % 3];
    let year = 2022 + (i / 7) % 2;
    let month = 12 - (i * 5) % 12;
    let day = 1 + (i * 11) % 28;
    let account = ["operating_revenue", "admin_expense", "investment_income"][(i / 3) % 3];
    let project = if i.is_multiple_of(97) { "P1" } else { "" };
    format!(
        "{village},{year}-{month:02}-{day:02},{account},{}.{:02},{voucher_prefix}{i},{project}\n",
        1 + i / 100,
        i % 100
    )
}

fn file(rows: impl Iterator<Item = usize>, voucher_prefix: &str) -> String {
    let mut text = String::from("village,date,account,amount,voucher,project\n");
    for i in rows {
        text.push_str(&row(i, voucher_prefix));
    }
    text
}

fn fen(i: usize) -> i64 {
    ((1 + i / 100) * 100 + i % 100) as i64
}

async fn open(name: &str) -> (Store, std::path::PathBuf) {
    let (store, _, dir) = store_with(&format!("batches-{name}"), REGIONS).await;
    (store, dir)
}

async fn stored_sum(store: &Store) -> (i64, i64) {
    let totals = store.all_totals().await.unwrap();
    (
        totals.iter().map(|t| t.entries).sum(),
        totals.iter().map(|t| t.amount.fen()).sum(),
    )
}

#[tokio::test]
async fn a_file_of_many_batches_in_any_order_is_stored_whole_with_its_figures() {
    let (store, dir) = open("whole").await;
    let text = file(0..ROWS, "V");
    let outcome = import(&store, ImportKind::Entries, "e.csv", &text)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ImportOutcome::Stored {
            rows: ROWS as u64,
            unchanged: 0
        }
    );
    let expected: i64 = (0..ROWS).map(fen).sum();
    assert_eq!(stored_sum(&store).await, (ROWS as i64, expected));
    // Every row of a village-year once.
    let mut got: Vec<String> = store
        .entries_of(VILLAGES[0], 2022)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.voucher)
        .collect();
    let mut want: Vec<String> = (0..ROWS)
        .filter(|i| i % 3 == 0 && (i / 7) % 2 == 0)
        .map(|i| format!("V{i}"))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);

    // A second file adds to the same village-years, its rows merged into the stored facts by date.
    let more = file(0..5_000, "W");
    import(&store, ImportKind::Entries, "f.csv", &more)
        .await
        .unwrap();
    let expected = expected + (0..5_000).map(fen).sum::<i64>();
    assert_eq!(stored_sum(&store).await, (ROWS as i64 + 5_000, expected));
    assert_eq!(store.totals_mismatches().await.unwrap(), vec![]);
    assert_eq!(store.facts_mismatches().await.unwrap(), vec![]);
    let facts = cunji_store::testing::facts_of(&store, 2023).await;
    for list in facts.values() {
        assert!(list.windows(2).all(|w| w[0].date <= w[1].date));
    }
    assert_eq!(
        facts.values().map(|l| l.len()).sum::<usize>(),
        (0..ROWS).filter(|i| (i / 7) % 2 == 1).count()
            + (0..5_000).filter(|i| (i / 7) % 2 == 1).count()
    );
    let income: i64 = (0..ROWS)
        .filter(|i| i % 97 == 0 && (i / 3) % 3 != 1 && (i / 7) % 2 == 1)
        .map(fen)
        .sum::<i64>()
        + (0..5_000)
            .filter(|i| i % 97 == 0 && (i / 3) % 3 != 1 && (i / 7) % 2 == 1)
            .map(fen)
            .sum::<i64>();
    assert_eq!(
        store
            .load_project_actuals(2023)
            .await
            .unwrap()
            .get("P1")
            .map(|f| f.fen()),
        Some(income)
    );
    // The audit rows, written before their rows were counted, were completed and still chain.
    assert_eq!(store.verify_audit().await.unwrap(), Vec::<String>::new());
    let log = store.audit_log(10).await.unwrap();
    assert!(log[1].detail.starts_with(&format!("导入账目 {ROWS} 行")));
    assert!(log[0].detail.starts_with("导入账目 5000 行"));
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_bad_row_after_stored_batches_leaves_nothing_stored() {
    let (store, dir) = open("late").await;
    let mut lines: Vec<String> = (0..ROWS).map(|i| row(i, "V")).collect();
    // File line of row i is i + 2 (after the header). A repeated voucher in the fourth batch and a
    // bad date in the fifth (on SQLite), after three batches were handed to the database.
    lines[100_000] = row(12, "V");
    let mut cells: Vec<String> = lines[140_000].split(',').map(|c| c.to_string()).collect();
    cells[1] = "2023-02-30".into();
    lines[140_000] = cells.join(",");
    let text = format!(
        "village,date,account,amount,voucher,project\n{}",
        lines.concat()
    );
    let err = import(&store, ImportKind::Entries, "e.csv", &text)
        .await
        .unwrap_err();
    let ImportError::Rows(errors) = err else {
        panic!("expected row errors, got {err}");
    };
    let found: Vec<(u64, String)> = errors.iter().map(|e| (e.line, e.column.clone())).collect();
    assert_eq!(
        found,
        vec![
            (100_002, "voucher".to_string()),
            (140_002, "date".to_string())
        ]
    );
    assert_eq!(errors[0].message, "凭证号 V12 与第 14 行重复");
    assert_eq!(stored_sum(&store).await, (0, 0));
    assert!(store
        .entries_of(VILLAGES[0], 2022)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.audit_log(10).await.unwrap().len(), 1);
    assert_eq!(store.facts_mismatches().await.unwrap(), vec![]);
    assert_eq!(
        store.load_entry_facts(2022).await.unwrap().villages_read(),
        0
    );
    // The refused import let go of the database: the good file goes in whole.
    let good = file(0..ROWS, "V");
    import(&store, ImportKind::Entries, "e2.csv", &good)
        .await
        .unwrap();
    assert_eq!(
        stored_sum(&store).await,
        (ROWS as i64, (0..ROWS).map(fen).sum())
    );
    assert_eq!(store.verify_audit().await.unwrap(), Vec::<String>::new());
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
