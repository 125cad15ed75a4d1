//! The county's questions (issue #33): every dashboard count links to the list of those villages; the
//! list filters by band, township, growth and reporting, sorts by any column and exports what it
//! shows; years side by side for a village and a region. The fixture's operating income: 东关村
//! 100,000 → 150,000, 西关村 50,000 → 40,000 (饶阳镇), 大迁民村 80,000 → 120,000 (大尹村镇).

use crate::common::{assert_holds, server, Client};

/// The village names of the list's rows, in order.
fn names(page: &str) -> Vec<String> {
    let table = crate::common::after(page, "id=\"villages\"");
    table
        .split("<tr>")
        .skip(2)
        .filter_map(|row| {
            let a = row.find("\">")? + 2;
            let b = row[a..].find("</a>")? + a;
            Some(row[a..b].to_string())
        })
        .collect()
}

#[tokio::test]
async fn every_count_leads_to_its_villages_filtered_sorted_and_exported() {
    let s = server("villages-list").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let dashboard = admin.get("/dashboard?year=2024").await.text();
    // The band counts are links to their villages (10万以上: 2; 5万以下: 1).
    assert_holds(
        &dashboard,
        &[
            "<a href=\"/villages?region=131124000000&amp;year=2024&amp;band=5%E4%B8%87%E4%BB%A5%E4%B8%8B\">1</a>",
            "<a href=\"/villages?region=131124000000&amp;year=2024&amp;band=10%E4%B8%87%E4%BB%A5%E4%B8%8A\">2</a>",
            "<a href=\"/villages?region=131124000000&amp;year=2024&amp;reported=yes\">3</a>",
        ],
    );
    let page = admin
        .get("/villages?region=131124000000&year=2024&band=5%E4%B8%87%E4%BB%A5%E4%B8%8B")
        .await
        .text();
    assert_eq!(names(&page), ["西关村"]);
    assert_holds(&page, &["分档为“5万以下”的村：共 <strong>1</strong> 个", "<td class=\"num\">40,000.00</td><td class=\"num\">50,000.00</td><td class=\"num\">-10,000.00</td><td class=\"num\">-20.00%</td>"]);
    // Which grew, by how much: sorted by the change, largest first.
    let grew = admin
        .get("/villages?region=131124000000&year=2024&growth=up&sort=change&desc=1")
        .await
        .text();
    assert_eq!(names(&grew), ["东关村", "大迁民村"]);
    assert_holds(
        &grew,
        &[
            "<td class=\"num\">50,000.00</td><td class=\"num\">50.00%</td>",
            "增幅</a></th>",
        ],
    );
    let fell = admin
        .get("/villages?region=131124000000&year=2024&growth=down")
        .await
        .text();
    assert_eq!(names(&fell), ["西关村"]);
    let township = admin
        .get("/villages?region=131124000000&year=2024&township=131124101000")
        .await
        .text();
    assert_eq!(names(&township), ["大迁民村"]);
    let by_income = admin
        .get("/villages?region=131124000000&year=2024&sort=income")
        .await
        .text();
    assert_eq!(names(&by_income), ["西关村", "大迁民村", "东关村"]);
    // The export is what the list shows, in its order, as Excel opens it.
    let csv = admin
        .get("/villages.csv?region=131124000000&year=2024&growth=up&sort=change&desc=1")
        .await;
    let text = String::from_utf8(csv.body.clone()).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert_eq!(
        lines[0],
        "代码,村,乡镇,经营性收入（元）,上年（元）,增减（元）,增幅,分档,奖励总额上限（元）,说明"
    );
    assert_eq!(
        &lines[1..3],
        [
            "131124100200,东关村,饶阳镇,\"150,000.00\",\"100,000.00\",\"50,000.00\",50.00%,10万以上,\"5,000.00\",",
            "131124101200,大迁民村,大尹村镇,\"120,000.00\",\"80,000.00\",\"40,000.00\",50.00%,10万以上,\"4,000.00\",",
        ]
    );
    assert_eq!(lines.len(), 4, "{text}");
    // A township officer's list stays within the township.
    let mut town = Client::signed_in(s.addr, "town").await;
    let r = town.get("/villages?region=131124000000&year=2024").await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn years_side_by_side_for_a_region_and_a_village() {
    let s = server("compare-years").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let county = admin.get("/compare?region=131124000000").await.text();
    // 2024: 310,000 against 230,000 in 2023 = +80,000, 34.78% (80,000 / 230,000 = 0.347826…).
    assert_holds(
        &county,
        &[
            "<tr><td>2024 年</td><td class=\"num\">3 / 3</td><td class=\"num\">310,000.00</td><td class=\"num\">80,000.00</td><td class=\"num\">34.78%</td>",
            "<tr><td>2023 年</td><td class=\"num\">3 / 3</td><td class=\"num\">230,000.00</td><td class=\"num\">—</td><td class=\"num\">—</td>",
            "<tr><td><a href=\"/compare?region=131124100201\">西关村</a></td><td class=\"num\">40,000.00</td><td class=\"num\">50,000.00</td></tr>",
        ],
    );
    let village = admin.get("/compare?region=131124100201").await.text();
    assert_holds(
        &village,
        &["<tr><td>2024 年</td><td class=\"num\">40,000.00</td><td class=\"num\">-10,000.00</td><td class=\"num\">-20.00%</td>"],
    );
    let mut acct = Client::signed_in(s.addr, "acct").await;
    assert_eq!(acct.get("/compare?region=131124100201").await.status, 403);
}

/// January (issue #33): one village of three books 2025 first. The dashboard keeps opening on 2024,
/// which most villages reported, and says how many have reported 2025; once two of three have, it
/// opens on 2025.
#[tokio::test]
async fn the_dashboard_opens_on_the_year_most_villages_reported() {
    let s = server("opening-year").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    s.import(
        cunji_store::ImportKind::Entries,
        "village,date,account,amount\n131124100200,2025-01-03,operating_revenue,500\n",
    )
    .await;
    let page = admin.get("/dashboard").await.text();
    assert_holds(
        &page,
        &[
            "<h1>饶阳县 · 2024 年总览</h1>",
            "2025 年已有 1 个村报账（共 3 个村），尚未过半，先显示 2024 年。",
        ],
    );
    let list = admin.get("/villages").await.text();
    assert_holds(&list, &["2024 年村级台账"]);
    s.import(
        cunji_store::ImportKind::Entries,
        "village,date,account,amount\n131124100201,2025-01-04,operating_revenue,600\n",
    )
    .await;
    let page = admin.get("/dashboard").await.text();
    assert_holds(&page, &["<h1>饶阳县 · 2025 年总览</h1>"]);
    assert!(!page.contains("id=\"later-year\""), "{page}");
}
