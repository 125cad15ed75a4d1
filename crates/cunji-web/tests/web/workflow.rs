//! The reward workflow.

use crate::common::{server, Client, Server};

#[tokio::test]
async fn the_reward_workflow_walks_to_published_and_no_step_is_skipped() {
    let s = server("workflow").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    let mut admin = Client::signed_in(s.addr, "admin").await;
    let base = "/workflow/131124100200/2024";
    // Growth 50,000 × 10% = 5,000.00, split between secretary P1 and director P2.
    let r = town.post_form(&format!("{base}/compute"), &[], true).await;
    assert_eq!(r.status, 303);
    let p = proposal_2024(&s).await;
    assert_eq!(p.pool, cunji_core::Fen::from_fen(500_000));
    assert_eq!(
        p.awards
            .iter()
            .map(|a| a.computed.fen())
            .collect::<Vec<_>>(),
        vec![250_000, 250_000]
    );
    // Filing before the village resolution and township approval is refused.
    let r = admin
        .post_form(&format!("{base}/file"), &[("note", "x")], true)
        .await;
    assert!(r.header("location").unwrap().contains("err="));
    // A decided amount above the computed one is refused.
    let fields = |p1: &'static str| {
        vec![
            ("proposed", "2025-01-06"),
            ("discussed", "2025-01-08"),
            ("reviewed", "2025-01-10"),
            ("decided", "2025-01-12"),
            ("votes_for", "31"),
            ("votes_against", "0"),
            ("votes_abstain", "2"),
            ("documents", "会议记录.pdf"),
            ("decided_P1", p1),
            ("decided_P2", "2000.00"),
        ]
    };
    let r = town
        .post_form(&format!("{base}/resolve"), &fields("2600.00"), true)
        .await;
    let loc = r.header("location").unwrap().to_string();
    assert!(loc.contains("err="), "{loc}");
    let r = town
        .post_form(&format!("{base}/resolve"), &fields("2500.00"), true)
        .await;
    assert!(
        r.header("location").unwrap().contains("msg="),
        "{:?}",
        r.header("location")
    );
    // Only the county files; the officer cannot.
    assert_eq!(
        town.post_form(&format!("{base}/file"), &[], true)
            .await
            .status,
        403
    );
    town.post_form(&format!("{base}/approve"), &[("note", "同意")], true)
        .await;
    admin
        .post_form(
            &format!("{base}/file"),
            &[("note", "饶农备〔2025〕3号")],
            true,
        )
        .await;
    town.post_form(&format!("{base}/pay"), &[("note", "转账")], true)
        .await;
    town.post_form(&format!("{base}/publish"), &[("note", "公示 10 天")], true)
        .await;
    let p = proposal_2024(&s).await;
    assert_eq!(p.status, cunji_store::Status::Published);
    let steps: Vec<&str> = p.steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "computed",
            "resolved",
            "township_approved",
            "county_filed",
            "paid",
            "published"
        ]
    );
    assert_eq!(p.steps[3].actor, "admin");
    // The public page shows the decided amounts and the explanation.
    let mut anon = Client::new(s.addr);
    let page = anon.get("/public/village/131124100200").await.text();
    assert!(
        page.contains("张建国") && page.contains("2,500.00") && page.contains("2,000.00"),
        "{page}"
    );
    assert!(page.contains("基数（basis = increase"), "{page}");
}

#[tokio::test]
async fn new_figures_send_an_unpaid_proposal_back() {
    let s = server("sendback").await;
    let mut town = Client::signed_in(s.addr, "town").await;
    town.post_form("/workflow/131124100200/2024/compute", &[], true)
        .await;
    let mut acct = Client::signed_in(s.addr, "acct").await;
    acct.post_entry(
        &[
            ("date", "2023-12-31"),
            ("account", "operating_revenue"),
            ("amount", "1000"),
        ],
        true,
    )
    .await;
    let p = proposal_2024(&s).await;
    assert_eq!(p.status, cunji_store::Status::Stale);
    assert!(p.steps.last().unwrap().detail.contains("退回重新计算"));
    // Recomputed on the new figures: growth 49,000 → 4,900.00.
    town.post_form("/workflow/131124100200/2024/compute", &[], true)
        .await;
    let p = proposal_2024(&s).await;
    assert_eq!(
        (p.status, p.pool.fen()),
        (cunji_store::Status::Computed, 490_000)
    );
}

/// The stored proposal of 131124100200 for 2024.
async fn proposal_2024(s: &Server) -> cunji_store::Proposal {
    s.store
        .proposal("131124100200", 2024)
        .await
        .unwrap()
        .expect("a proposal")
}
