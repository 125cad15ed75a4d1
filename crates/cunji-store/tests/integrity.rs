//! Direct edits of the rows that hold decisions and permissions are found by `check` (issue #32):
//! each test changes the database with SQL behind cunji's back, as someone with the file or the
//! server's password could, and `check` names the table, the row and what changed, in Chinese.

mod common;

use common::{import, resolution, store_with};
use cunji_core::workflow::Action;
use cunji_store::workflow::StepRecord;
use cunji_store::{Computation, ImportKind, ProposalAward, Store};

const REGIONS: &str = "code,name\n110000000000,北京市\n110100000000,市辖区\n110101000000,东城区\n110101001000,某镇\n110101001001,甲村\n";
const VILLAGE: &str = "110101001001";
const POLICY: &str = "name = \"测试政策\"\n[incentive]\nrate = \"10%\"\n";
const CADRES: &str = "village,year,person,name,role,months_in_post,sanctioned,appraisal\n110101001001,2024,P1,张三,secretary,12,false,合格\n";

/// A database holding one of everything sealed: a township officer, a policy, the supervision
/// phone, a cadre with an appraisal, and a reward decided, approved and filed. Its address too, to
/// edit it directly.
async fn everything(name: &str) -> (Store, String, std::path::PathBuf, i64) {
    let (store, url, dir) = store_with(name, REGIONS).await;
    store
        .add_user(
            "wang",
            "王会计",
            "hash",
            "township_officer",
            Some("110101001000"),
            "test",
        )
        .await
        .unwrap();
    let policy_id = store
        .save_policy("测试政策", POLICY, true, "test")
        .await
        .unwrap()
        .id;
    store
        .set_setting(
            cunji_store::settings::SUPERVISION_PHONE,
            "0318-1234567",
            "test",
        )
        .await
        .unwrap();
    import(&store, ImportKind::Cadres, "c.csv", CADRES)
        .await
        .unwrap();
    let figures = store
        .figures_fingerprint(&[VILLAGE.to_string()])
        .await
        .unwrap();
    let awards = [ProposalAward {
        person: "P1".into(),
        name: "张三".into(),
        role: cunji_core::cadre::Role::Secretary,
        computed: cunji_core::Fen::from_fen(500_000),
        decided: None,
        paid: None,
        recovered: cunji_core::Fen::ZERO,
    }];
    let computation = Computation {
        village: VILLAGE,
        year: 2024,
        policy_id,
        pool: 500_000,
        measure: None,
        base: None,
        figures: &figures,
        awards: &awards,
        trace: &[],
        story: &[],
    };
    let id = store
        .record_computation(&computation, "test")
        .await
        .unwrap();
    let today = cunji_core::date::Date::parse("2025-03-01").unwrap();
    store
        .record_resolution(id, &resolution(&[("P1", 400_000)]), today, "test")
        .await
        .unwrap();
    let record = StepRecord {
        detail: "审核通过".into(),
        data: serde_json::json!({}),
    };
    for action in [Action::Approve, Action::File] {
        store.take_step(id, action, &record, "test").await.unwrap();
    }
    store.close_year(VILLAGE, 2024, "test").await.unwrap();
    assert_eq!(store.check().await.unwrap().problems, Vec::<String>::new());
    (store, url, dir, id)
}

/// Runs `sql` on the database directly (not through cunji).
async fn behind_the_back(url: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
}

/// Edits the database with `sql` and asserts that `check` finds it, with every piece of `want` in
/// one problem.
async fn found(name: &str, sql: &str, want: &[&str]) {
    let (store, url, dir, _) = everything(name).await;
    behind_the_back(&url, sql).await;
    let problems = store.check().await.unwrap().problems;
    assert!(
        problems.iter().any(|p| want.iter().all(|w| p.contains(w))),
        "no problem names {want:?}: {problems:#?}"
    );
    store.close().await;
    cunji_store::testing::drop_database(&url);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_users_role_changed_directly_is_found() {
    found(
        "seal-role",
        "UPDATE users SET role = 'county_admin', scope = NULL WHERE username = 'wang'",
        &[
            "用户表（users）",
            "wang",
            "角色 由“township_officer”改为“county_admin”",
            "管辖范围",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_policys_rate_changed_directly_is_found() {
    found(
        "seal-policy",
        "UPDATE policies SET source = REPLACE(source, '10%', '50%')",
        &["政策表（policies）", "政策条文（比例、档位等）被改动"],
    )
    .await;
}

#[tokio::test]
async fn a_decided_reward_multiplied_by_ten_is_found() {
    found(
        "seal-award",
        "UPDATE proposal_awards SET decided = decided * 10",
        &[
            "奖励金额表（proposal_awards）",
            "P1",
            "决定金额（分） 由“400000”改为“4000000”",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_proposals_status_changed_directly_is_found() {
    found(
        "seal-status",
        "UPDATE proposals SET status = 'published'",
        &[
            "奖励方案表（proposals）",
            "状态 由“county_filed”改为“published”",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_deleted_workflow_step_is_found() {
    found(
        "seal-step",
        "DELETE FROM proposal_steps WHERE step = 'township_approved'",
        &[
            "审批步骤表（proposal_steps）",
            "被直接删除",
            "township_approved",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_cadres_appraisal_changed_directly_is_found() {
    found(
        "seal-cadre",
        "UPDATE cadres SET appraisal = '优秀'",
        &[
            "村干部表（cadres）",
            "村 110101001001、年度 2024、人员 P1",
            "考核等次 由“合格”改为“优秀”",
        ],
    )
    .await;
}

#[tokio::test]
async fn the_supervision_phone_changed_directly_is_found() {
    found(
        "seal-phone",
        "UPDATE settings SET value = '010-99999999' WHERE key = 'supervision_phone'",
        &[
            "县级设置表（settings）",
            "supervision_phone",
            "值 由“0318-1234567”改为“010-99999999”",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_user_inserted_directly_is_found() {
    found(
        "seal-insert",
        "INSERT INTO users (username, display_name, password_hash, role, scope, created_at) VALUES ('mole', '内鬼', 'x', 'county_admin', NULL, 0)",
        &["用户表（users）", "mole", "没有对应的审计记录"],
    )
    .await;
}

#[tokio::test]
async fn a_reopened_year_deleted_directly_is_found() {
    found(
        "seal-closed",
        "DELETE FROM closed_years",
        &[
            "结账表（closed_years）",
            "村 110101001001、年度 2024",
            "被直接删除",
        ],
    )
    .await;
}

/// A seal rewritten to match an edit breaks its audit row's seal hash.
#[tokio::test]
async fn a_seal_rewritten_to_match_an_edit_is_found() {
    found(
        "seal-rewritten",
        "UPDATE audit_seals SET content = REPLACE(content, '400000', '4000000') WHERE tbl = 'proposal_awards'; \
         UPDATE proposal_awards SET decided = decided * 10",
        &["封存的记录内容被改动"],
    )
    .await;
}

/// The last audit rows deleted and the head rewritten, with everything they wrote: consistent inside
/// the database, found only against the head kept outside it.
#[tokio::test]
async fn the_last_audit_rows_deleted_with_the_head_rewritten_are_found_against_the_kept_head() {
    let (store, url, dir, _) = everything("seal-tail").await;
    store.set_setting("note", "甲", "test").await.unwrap();
    store.set_setting("note", "乙", "test").await.unwrap();
    let (id, hash) = store.audit_head().await.unwrap();
    behind_the_back(
        &url,
        &format!(
            "DELETE FROM audit_seals WHERE audit_id >= {n}; DELETE FROM audit_log WHERE id >= {n}; \
             DELETE FROM settings WHERE key = 'note'; \
             UPDATE audit_head SET hash = (SELECT hash FROM audit_log WHERE id = {m}) WHERE id = 1",
            n = id - 1,
            m = id - 2
        ),
    )
    .await;
    assert_eq!(store.check().await.unwrap().problems, Vec::<String>::new());
    let problems = store
        .check_with_head(Some((id, &hash)))
        .await
        .unwrap()
        .problems;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("审计日志被截断") && p.contains(&format!("#{id}"))),
        "{problems:#?}"
    );
    store.close().await;
    cunji_store::testing::drop_database(&url);
    let _ = std::fs::remove_dir_all(dir);
}

/// A step refuses to vouch for an edit made before it: paying a decided amount raised tenfold is
/// refused, naming what was changed.
#[tokio::test]
async fn a_step_on_a_proposal_changed_directly_is_refused() {
    let (store, url, dir, id) = everything("seal-pay").await;
    behind_the_back(&url, "UPDATE proposal_awards SET decided = decided * 10").await;
    let today = cunji_core::date::Date::parse("2025-03-01").unwrap();
    let date = cunji_core::date::Date::parse("2025-02-01").unwrap();
    let paid = [("P1".to_string(), cunji_core::Fen::from_fen(4_000_000))].into();
    let refused = store
        .record_payment(id, date, &paid, today, "test")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("被直接改过") && refused.contains("决定金额"),
        "{refused}"
    );
    store.close().await;
    cunji_store::testing::drop_database(&url);
    let _ = std::fs::remove_dir_all(dir);
}

/// New figures send an unpaid proposal back (a step written by the entry's own write): its rows stay
/// bound, through an import (whose audit row is completed after its rows) and through a single entry.
#[tokio::test]
async fn proposals_sent_back_by_new_figures_stay_sealed() {
    let (store, url, dir, id) = everything("seal-stale").await;
    let entries =
        "village,date,account,amount,voucher\n110101001001,2023-06-01,operating_revenue,5.00,I-1\n";
    import(&store, ImportKind::Entries, "e.csv", entries)
        .await
        .unwrap();
    let p = store.proposal(VILLAGE, 2024).await.unwrap().unwrap();
    assert_eq!((p.id, p.status), (id, cunji_store::Status::Stale));
    assert_eq!(store.check().await.unwrap().problems, Vec::<String>::new());
    // Computed again, then sent back by one entry typed on the web.
    let figures = store
        .figures_fingerprint(&[VILLAGE.to_string()])
        .await
        .unwrap();
    let computation = Computation {
        village: VILLAGE,
        year: 2024,
        policy_id: p.policy_id,
        pool: 300_000,
        measure: None,
        base: None,
        figures: &figures,
        awards: &[],
        trace: &[],
        story: &[],
    };
    store
        .record_computation(&computation, "test")
        .await
        .unwrap();
    let form = cunji_store::EntryForm {
        village: VILLAGE.into(),
        date: "2023-05-01".into(),
        account: "operating_revenue".into(),
        amount: "1000.00".into(),
        ..Default::default()
    };
    store.add_entry(&form, None, "test").await.unwrap();
    let p = store.proposal(VILLAGE, 2024).await.unwrap().unwrap();
    assert_eq!(p.status, cunji_store::Status::Stale);
    assert!(
        p.awards.is_empty(),
        "the recomputation's awards replaced the old ones"
    );
    assert_eq!(store.check().await.unwrap().problems, Vec::<String>::new());
    store.close().await;
    cunji_store::testing::drop_database(&url);
    let _ = std::fs::remove_dir_all(dir);
}

/// A write that would seal rows changed behind the log's back refuses, storing nothing: a password
/// changed after a role was raised, a policy saved after an older version's rate was changed, cadres
/// imported over an edited appraisal, entries that would send an edited proposal back. Once looked
/// into, `accept_unsealed` records every difference with its reason and writes go on.
#[tokio::test]
async fn writes_refuse_to_seal_rows_changed_directly_until_the_change_is_accepted() {
    let (store, url, dir, _) = everything("seal-guard").await;
    behind_the_back(
        &url,
        "UPDATE users SET role = 'county_admin' WHERE username = 'wang'; \
         UPDATE policies SET source = REPLACE(source, '10%', '50%'); \
         UPDATE cadres SET appraisal = '优秀'; \
         UPDATE proposal_awards SET decided = decided * 10",
    )
    .await;
    let refused = |e: String, what: &str| {
        assert!(e.contains("被直接改过") && e.contains(what), "{e}");
    };
    refused(
        store
            .set_password("wang", "new-hash", "test")
            .await
            .unwrap_err()
            .to_string(),
        "角色",
    );
    refused(
        store
            .save_policy("新政策", POLICY, true, "test")
            .await
            .unwrap_err()
            .to_string(),
        "政策条文",
    );
    let cadres = CADRES.replace("合格", "基本合格");
    refused(
        import(&store, ImportKind::Cadres, "c2.csv", &cadres)
            .await
            .unwrap_err()
            .to_string(),
        "考核等次",
    );
    let entries =
        "village,date,account,amount,voucher\n110101001001,2023-06-01,operating_revenue,5.00,I-1\n";
    refused(
        import(&store, ImportKind::Entries, "e.csv", entries)
            .await
            .unwrap_err()
            .to_string(),
        "决定金额",
    );
    assert!(
        store.accept_unsealed("test", "查").await.is_err(),
        "a reason is required"
    );
    let accepted = store
        .accept_unsealed("县管理员", "经核实系县里会议决定，已补会议纪要")
        .await
        .unwrap();
    assert_eq!(accepted.len(), 4, "{accepted:#?}");
    assert_eq!(store.check().await.unwrap().problems, Vec::<String>::new());
    let row = &store.audit_log(1).await.unwrap()[0];
    assert_eq!(row.action, "seal_accept");
    assert!(
        row.detail.contains("会议纪要") && row.detail.contains("county_admin"),
        "{}",
        row.detail
    );
    store
        .set_password("wang", "new-hash", "test")
        .await
        .unwrap();
    store
        .save_policy("新政策", POLICY, true, "test")
        .await
        .unwrap();
    import(&store, ImportKind::Entries, "e.csv", entries)
        .await
        .unwrap();
    assert_eq!(store.check().await.unwrap().problems, Vec::<String>::new());
    store.close().await;
    cunji_store::testing::drop_database(&url);
    let _ = std::fs::remove_dir_all(dir);
}
