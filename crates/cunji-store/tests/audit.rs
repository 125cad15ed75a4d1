//! The audit log is a hash chain, and every entry, reversal and grant is vouched for by the audit row
//! that wrote it: an edit made directly in the database is found and named.

mod common;

use common::store_with;
use cunji_store::import::Quiet;
use cunji_store::{EntryForm, ImportKind, Store};
use sqlx::Executor;

const REGIONS: &str = "code,name\n110000000000,北京市\n110100000000,市辖区\n110101000000,东城区\n110101001000,某镇\n110101001001,甲村\n110101001002,乙村\n";

async fn fresh(name: &str) -> (Store, sqlx::AnyPool, std::path::PathBuf) {
    let (store, url, dir) = store_with(&format!("audit-{name}"), REGIONS).await;
    store
        .import(
            ImportKind::Entries,
            "e.csv",
            b"village,date,account,amount,voucher\n110101001001,2024-01-05,operating_revenue,1000,V1\n110101001002,2024-02-05,operating_revenue,2000,V1\n",
            "test",
            &Quiet,
        )
        .await
        .unwrap();
    store
        .import(ImportKind::Grants, "g.csv", "grant,village,year,level,program,amount,project\nG1,110101001001,2023,central,光伏,500000,P1\n".as_bytes(), "test", &Quiet)
        .await
        .unwrap();
    let form = EntryForm {
        village: "110101001001".into(),
        date: "2024-03-01".into(),
        account: "other_income".into(),
        amount: "5".into(),
        ..Default::default()
    };
    store.add_entry(&form, None, "web-user").await.unwrap();
    let id = store.entries_of("110101001001", 2024).await.unwrap()[0].id;
    store
        .reverse_entry(id, "2024-03-02", "重复记账", "web-user")
        .await
        .unwrap();
    store
        .close_year("110101001002", 2024, "admin")
        .await
        .unwrap();
    sqlx::any::install_default_drivers();
    let raw = sqlx::AnyPool::connect(&url).await.unwrap();
    (store, raw, dir)
}

#[tokio::test]
async fn an_untouched_database_verifies() {
    let (store, _raw, dir) = fresh("clean").await;
    assert_eq!(store.verify_audit().await.unwrap(), Vec::<String>::new());
    let rows = store.audit_all().await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        [
            "import_regions",
            "import_entries",
            "import_grants",
            "entry_add",
            "entry_reverse",
            "close_year"
        ]
    );
    assert!(rows.windows(2).all(|w| w[1].prev_hash == w[0].hash));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn edits_behind_the_logs_back_are_named() {
    let cases: [(&str, &str, &str); 9] = [
        ("amount", "UPDATE entries SET amount = amount + 100 WHERE voucher = 'V1' AND village = '110101001002'", "写入的分录已被改动、删除或增加"),
        ("account", "UPDATE entries SET account = 8 WHERE voucher = 'V1' AND village = '110101001002'", "写入的分录已被改动、删除或增加"),
        ("source", "UPDATE entry_writes SET source = 'web' WHERE source = 'entry'", "写入的分录已被改动、删除或增加"),
        ("insert", "INSERT INTO entries (village, year, date, account, amount, memo, write_id) VALUES ('110101001001', 2024, '2024-04-01', 0, 999999, '', 999)", "没有对应的审计记录"),
        ("insert-into-a-write", "INSERT INTO entries (village, year, date, account, amount, memo, write_id) VALUES ('110101001001', 2024, '2024-04-01', 0, 999999, '', (SELECT MIN(id) FROM entry_writes))", "写入的分录已被改动、删除或增加"),
        ("delete", "DELETE FROM entries WHERE voucher = 'V1' AND village = '110101001001'", "写入的分录已被改动、删除或增加"),
        ("grant", "UPDATE grants SET amount = 600000 WHERE grant_id = 'G1'", "写入的扶持资金已被改动"),
        ("audit", "UPDATE audit_log SET detail = '改过' WHERE action = 'close_year'", "的内容与其哈希不符"),
        ("tail", "DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)", "最后的记录被删除"),
    ];
    for (name, sql, needle) in cases {
        let (store, raw, dir) = fresh(name).await;
        raw.execute(sqlx::AssertSqlSafe(sql.to_string()))
            .await
            .unwrap();
        let problems = store.verify_audit().await.unwrap();
        assert!(
            problems.iter().any(|p| p.contains(needle)),
            "{name}: {problems:#?}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
