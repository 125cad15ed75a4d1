//! What a report reads of cadres and regions is what was stored, whichever way the backend hands it
//! over: on PostgreSQL one joined text, or the JSON form when a stored value holds one of the joined
//! text's separators (written here behind the program's back, as no import lets them in).

mod common;

use common::{import, store_with};
use cunji_store::ImportKind;

const REGIONS: &str = "code,name\n110000000000,北京市\n110100000000,市辖区\n110101000000,东城区\n110101001000,某镇\n110101001001,甲村\n110101001002,乙村\n";

fn cadre_line(c: &cunji_core::cadre::Cadre) -> String {
    format!(
        "{} {} {} {} {:?} {} {} {:?} {:?}",
        c.village,
        c.year,
        c.person,
        c.name,
        c.role,
        c.months_in_post,
        c.sanctioned,
        c.base_pay,
        c.appraisal
    )
}

#[tokio::test]
async fn cadres_and_regions_read_back_as_stored() {
    let (store, url, dir) = store_with("reads", REGIONS).await;
    import(
        &store,
        ImportKind::Cadres,
        "c.csv",
        "village,year,person,name,role,months_in_post,sanctioned,base_pay,appraisal\n\
         110101001002,2024,P2,李四,director,12,0,,\n\
         110101001001,2024,P9,王五,member,6,1,30000,合格\n\
         110101001001,2024,P1,张三,secretary,12,0,36000.50,优秀\n\
         110101001001,2023,P1,张三,secretary,12,0,,\n",
    )
    .await
    .unwrap();
    let expected = [
        "110101001001 2024 P1 张三 Secretary 12 false Some(Fen(3600050)) Some(\"优秀\")",
        "110101001001 2024 P9 王五 Member 6 true Some(Fen(3000000)) Some(\"合格\")",
        "110101001002 2024 P2 李四 Director 12 false None None",
    ];
    let lines =
        |cadres: Vec<cunji_core::cadre::Cadre>| cadres.iter().map(cadre_line).collect::<Vec<_>>();
    assert_eq!(lines(store.load_cadres(2024).await.unwrap()), expected);
    let regions = store.load_regions().await.unwrap();
    let name = |code: &str| {
        let code = cunji_core::region::RegionCode::parse(code).unwrap();
        regions.get(&code).map(|r| r.name.clone())
    };
    assert_eq!(name("110101001002").as_deref(), Some("乙村"));

    // Separators inside stored values: read exactly all the same.
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    for sql in [
        "UPDATE cadres SET name = '李' || char(31) || '四' WHERE person = 'P2'",
        "UPDATE regions SET name = '乙' || char(30) || '村' WHERE code = '110101001002'",
    ] {
        // `char` is SQLite's; PostgreSQL's is `chr`.
        let sql = if url.starts_with("postgres") {
            sql.replace("char(", "chr(")
        } else {
            sql.to_string()
        };
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    let mut odd = expected.map(str::to_string);
    odd[2] = "110101001002 2024 P2 李\u{1f}四 Director 12 false None None".into();
    assert_eq!(lines(store.load_cadres(2024).await.unwrap()), odd);
    let regions = store.load_regions().await.unwrap();
    let code = cunji_core::region::RegionCode::parse("110101001002").unwrap();
    assert_eq!(regions.get(&code).unwrap().name, "乙\u{1e}村");
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The report of one policy reads the entries' kept sums, and the entries only of the villages
/// whose alerts need them: its report is the report from every entry, under round units kept and
/// not kept; a village whose sums are missing is read whole; sums that differ from the entries are
/// found by the audit's check.
#[tokio::test]
async fn a_report_from_kept_sums_is_the_report_from_every_entry() {
    let (store, url, dir) = store_with("sums", REGIONS).await;
    // 甲村: a rent refunded 10 days later (a pass-through pair), and round figures in December.
    // 乙村: nothing for the entries to show.
    import(
        &store,
        ImportKind::Entries,
        "e.csv",
        "village,date,account,amount,voucher\n\
         110101001001,2024-03-01,operating_revenue,5000.01,记-1\n\
         110101001001,2024-03-11,other_expense,5000.01,记-2\n\
         110101001001,2024-12-20,contracting_income,60000,记-3\n\
         110101001002,2024-05-01,operating_revenue,1234.56,记-1\n\
         110101001002,2024-06-01,admin_expense,99.99,记-2\n",
    )
    .await
    .unwrap();
    let report = |data: &cunji_store::LoadedData, policy: &cunji_core::policy::Policy| {
        let r = cunji_core::report::build_report(policy, &data.input(2024, None, None)).unwrap();
        serde_json::to_string_pretty(&r).unwrap()
    };
    let whole = store.load_for_report(2024).await.unwrap();
    assert_eq!(whole.entries.villages_read(), 2);
    // Round units: 10,000 元 (kept, alerts), 20,000 元 (not kept: read), 1 亿元 (kept, no alert).
    for (unit, read) in [("10000", 1), ("20000", 1), ("100000000", 1)] {
        let policy = cunji_core::policy::Policy::parse(&format!(
            "name = \"试\"\n[alerts]\nround_unit = {unit}\n"
        ))
        .unwrap();
        let data = store
            .load_for_report_from(2024, i32::MIN, Some(&policy.alerts))
            .await
            .unwrap();
        assert_eq!(data.entries.villages_read(), read, "round unit {unit}");
        assert_eq!(report(&data, &policy), report(&whole, &policy));
    }
    let policy = cunji_core::policy::Policy::parse("name = \"试\"\n").unwrap();
    let text = report(&whole, &policy);
    assert!(text.contains("pass_through") && text.contains("round_figures"));
    assert!(text.contains("year_end_jump"));

    // Behind the program's back: 乙村's sums gone (read whole), 甲村's changed (found).
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    sqlx::query("DELETE FROM entry_sums WHERE village = '110101001002'")
        .execute(&pool)
        .await
        .unwrap();
    let data = store
        .load_for_report_from(2024, i32::MIN, Some(&policy.alerts))
        .await
        .unwrap();
    assert_eq!(data.entries.villages_read(), 2);
    assert_eq!(report(&data, &policy), text);
    let tampered = if url.starts_with("postgres") {
        "UPDATE entry_sums SET sums = sums || '\\x00'::bytea"
    } else {
        "UPDATE entry_sums SET sums = sums || x'00'"
    };
    sqlx::query(tampered).execute(&pool).await.unwrap();
    pool.close().await;
    assert_eq!(
        store.facts_mismatches().await.unwrap(),
        vec![
            ("110101001001".to_string(), 2024),
            ("110101001002".to_string(), 2024)
        ]
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
