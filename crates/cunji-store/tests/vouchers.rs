//! Entries typed without a voucher number are numbered inside their write transaction (#32): eight
//! clients at once each store every entry, every one with its own number.

mod common;

use common::store_with;
use cunji_store::EntryForm;

const REGIONS: &str = "code,name\n110000000000,北京市\n110100000000,市辖区\n110101000000,东城区\n110101001000,某镇\n110101001001,甲村\n";

#[tokio::test]
async fn eight_concurrent_clients_get_distinct_vouchers_for_every_entry() {
    let (store, _, dir) = store_with("auto-vouchers", REGIONS).await;
    let mut clients = Vec::new();
    for c in 0..8 {
        let store = store.clone();
        clients.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for k in 0..30 {
                let form = EntryForm {
                    village: "110101001001".into(),
                    date: "2024-03-01".into(),
                    account: "operating_revenue".into(),
                    amount: format!("{}.00", 100 + c * 100 + k),
                    memo: format!("客户端 {c} 第 {k} 笔"),
                    ..EntryForm::default()
                };
                match store.add_entry(&form, None, "test").await {
                    Ok(v) => got.push(v),
                    Err(e) => panic!("client {c} entry {k} refused: {e}"),
                }
            }
            got
        }));
    }
    let mut vouchers = Vec::new();
    for c in clients {
        vouchers.extend(c.await.unwrap());
    }
    assert_eq!(vouchers.len(), 240);
    let mut distinct = vouchers.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 240, "every voucher given once");
    let stored = store.entries_of("110101001001", 2024).await.unwrap();
    assert_eq!(stored.len(), 240, "every entry stored once");
    let mut stored_vouchers: Vec<String> =
        stored.iter().filter_map(|e| e.voucher.clone()).collect();
    stored_vouchers.sort();
    assert_eq!(stored_vouchers, distinct);
    assert_eq!(store.verify_audit().await.unwrap(), Vec::<String>::new());
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// A year closed while entries are being typed into it takes none after its closing: the closed
/// year is re-checked inside each entry's transaction.
#[tokio::test]
async fn no_entry_lands_in_a_year_after_it_was_closed() {
    let (store, _, dir) = store_with("close-race", REGIONS).await;
    let mut writers = Vec::new();
    for c in 0..4 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for k in 0..25 {
                let form = EntryForm {
                    village: "110101001001".into(),
                    date: "2024-06-01".into(),
                    account: "operating_revenue".into(),
                    amount: format!("{}.00", 1 + c * 100 + k),
                    ..EntryForm::default()
                };
                let _ = store.add_entry(&form, None, "test").await;
                tokio::task::yield_now().await;
            }
        }));
    }
    tokio::task::yield_now().await;
    store
        .close_year("110101001001", 2024, "test")
        .await
        .unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let log = store.audit_log(1_000).await.unwrap();
    let closed = log.iter().find(|r| r.action == "close_year").unwrap().id;
    let late: Vec<i64> = log
        .iter()
        .filter(|r| r.action == "entry_add" && r.id > closed)
        .map(|r| r.id)
        .collect();
    assert_eq!(late, Vec::<i64>::new(), "entries stored after the closing");
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
