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
