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
