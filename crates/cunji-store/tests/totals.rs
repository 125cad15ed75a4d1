//! The kept per village-year totals always equal the sum of the entries, whatever mix of imports,
//! statements, reversals and refused files came before.

mod common;

use common::{import, store_with};
use cunji_store::ImportKind;

const REGIONS: &str = "code,name\n110000000000,北京市\n110100000000,市辖区\n110101000000,东城区\n110101001000,某镇\n110101001001,甲村\n110101001002,乙村\n";

#[tokio::test]
async fn totals_follow_every_write() {
    let (store, url, dir) = store_with("totals", REGIONS).await;
    let mut text = String::from("village,date,account,amount,voucher,project\n");
    for i in 0..2_000 {
        let v = if i % 3 == 0 {
            "110101001001"
        } else {
            "110101001002"
        };
        let account = [
            "operating_revenue",
            "investment_income",
            "admin_expense",
            "subsidy_income",
        ][i % 4];
        let project = if i % 10 == 1 { "PRJ" } else { "" };
        text.push_str(&format!(
            "{v},{}-0{}-1{},{account},{}.{:02},V{i},{project}\n",
            2020 + i % 5,
            1 + i % 9,
            i % 10,
            i * 7 % 5000,
            i % 100
        ));
    }
    import(&store, ImportKind::Entries, "e.csv", &text)
        .await
        .unwrap();
    import(
        &store,
        ImportKind::Statements,
        "s.csv",
        "village,year,operating_revenue,operating_cost\n110101001001,2019,100,40\n",
    )
    .await
    .unwrap();
    import(&store, ImportKind::Entries, "rev.csv", "village,date,account,amount,voucher,reverses\n110101001001,2025-01-01,operating_revenue,-0.00,R1,2020:V0\n").await.unwrap();
    // A refused file leaves no trace in the totals.
    let refused = import(&store, ImportKind::Entries, "bad.csv", "village,date,account,amount\n110101001001,2021-01-01,operating_revenue,5\n110101001001,2021-13-01,operating_revenue,5\n").await;
    assert!(refused.is_err());
    assert_eq!(store.totals_mismatches().await.unwrap(), vec![]);
    // The facts the alerts read follow the entries too, in date order across files.
    assert_eq!(store.facts_mismatches().await.unwrap(), vec![]);
    let facts = cunji_store::testing::facts_of(&store, 2025).await;
    let v1 = cunji_core::region::RegionCode::parse("110101001001").unwrap();
    assert_eq!(facts[&v1].len(), 1);
    assert_eq!(facts[&v1][0].reverses.as_deref(), Some("2020:V0"));
    let facts = cunji_store::testing::facts_of(&store, 2020).await;
    let dates: Vec<String> = facts[&v1].iter().map(|f| f.date.iso()).collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted);
    assert_eq!(
        facts.values().map(|v| v.len()).sum::<usize>(),
        (0..2_000).filter(|i| i % 5 == 0).count()
    );

    let books = store.load_books().await.unwrap();
    let v1 = cunji_core::region::RegionCode::parse("110101001001").unwrap();
    let b = books.own(&v1, 2019).unwrap();
    assert_eq!(b.entries, 2);
    assert_eq!(
        b.totals[cunji_core::account::Account::OperatingRevenue.index()],
        cunji_core::Fen::from_fen(10_000)
    );
    // A report reads the kept totals of the years its policy compares with, and no others.
    let from_2021 = store.load_books_from(2021).await.unwrap();
    assert!(from_2021.own(&v1, 2019).is_none() && from_2021.own(&v1, 2020).is_none());
    assert!(books.own(&v1, 2020).is_some());
    for y in 2021..=2025 {
        let kept = |b: &cunji_core::books::Books| b.own(&v1, y).map(|b| (b.totals, b.entries));
        assert!(kept(&books).is_some(), "{y}");
        assert_eq!(kept(&from_2021), kept(&books), "{y}");
    }
    // Entries whose running sum passes beyond 64 bits on the way to a total that fits (SPEC §1) are
    // summed by the check without failing, and a kept total that differs is still found.
    let most = "10000000000000";
    let mut big = String::from("village,date,account,amount\n");
    for sign in ["", "-"] {
        for _ in 0..9_300 {
            big.push_str(&format!(
                "110101001002,2018-05-01,other_income,{sign}{most}\n"
            ));
        }
    }
    big.push_str("110101001002,2018-05-02,other_income,0.07\n");
    import(&store, ImportKind::Entries, "big.csv", &big)
        .await
        .unwrap();
    assert_eq!(store.totals_mismatches().await.unwrap(), vec![]);
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query(
            "UPDATE totals SET amount = amount + 1 WHERE village = '110101001002' AND year = 2018",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let found = store.totals_mismatches().await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].kept, found[0].summed), ((8, 18_601), (7, 18_601)));
    let actuals = store.load_project_actuals(2021).await.unwrap();
    // Project entries: i ≡ 1 (mod 10) → i % 4 is 1 or 3 (investment_income or subsidy_income), both income.
    let expected: i64 = (0..2_000usize)
        .filter(|i| i % 10 == 1 && 2020 + i % 5 == 2021)
        .map(|i| ((i * 7 % 5000) * 100 + i % 100) as i64)
        .sum();
    assert_eq!(actuals.get("PRJ").map(|f| f.fen()), Some(expected));
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
