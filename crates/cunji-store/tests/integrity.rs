//! Direct edits of the rows that hold decisions and permissions are found by `check` (issue #32):
//! each test changes the database with SQL behind cunji's back, as someone with the file or the
//! server's password could, and `check` names the table, the row and what changed, in Chinese.

mod common;

use common::{import, resolved_proposal, store_with};
use cunji_core::workflow::Action;
use cunji_store::workflow::StepRecord;
use cunji_store::{Computation, ImportKind, Store};

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
    let id = resolved_proposal(&store, policy_id).await;
    let record = StepRecord {
        detail: "审核通过".into(),
        data: serde_json::json!({}),
    };
    for action in [Action::Approve, Action::File] {
        store.take_step(id, action, &record, "test").await.unwrap();
    }
    store.close_year(VILLAGE, 2024, "test").await.unwrap();
    no_problems(&store).await;
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

/// What `check` finds.
async fn problems(store: &Store) -> Vec<String> {
    store.check().await.unwrap().problems
}

/// `check` finds nothing: every row stands as its seal says.
async fn no_problems(store: &Store) {
    assert_eq!(problems(store).await, Vec::<String>::new());
}

/// Closes the store and removes its database and directory.
async fn done(store: Store, url: &str, dir: std::path::PathBuf) {
    store.close().await;
    cunji_store::testing::drop_database(url);
    let _ = std::fs::remove_dir_all(dir);
}

/// Edits the database with `sql` and asserts that `check` finds it, with every piece of `want` in
/// one problem.
async fn found(name: &str, sql: &str, want: &[&str]) {
    let (store, url, dir, _) = everything(name).await;
    behind_the_back(&url, sql).await;
    let problems = problems(&store).await;
    assert!(
        problems.iter().any(|p| want.iter().all(|w| p.contains(w))),
        "no problem names {want:?}: {problems:#?}"
    );
    done(store, &url, dir).await;
}

#[tokio::test]
async fn a_users_role_changed_directly_is_found() {
    found(
        "seal-role",
        "UPDATE users SET role = 'county_admin', scope = NULL WHERE username = 'wang'",
        &[
            "用户表",
            "wang",
            "角色 由“乡镇农经站”改为“县级管理员”",
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
        &["政策表", "政策条文（比例、档位等）被改动"],
    )
    .await;
}

#[tokio::test]
async fn a_decided_reward_multiplied_by_ten_is_found() {
    found(
        "seal-award",
        "UPDATE proposal_awards SET decided = decided * 10",
        &[
            "奖励金额表",
            "P1",
            "决定金额 由“4,000.00 元”改为“40,000.00 元”",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_proposals_status_changed_directly_is_found() {
    found(
        "seal-status",
        "UPDATE proposals SET status = 'published'",
        &["奖励方案表", "状态 由“县级已备案”改为“已公示”"],
    )
    .await;
}

#[tokio::test]
async fn a_deleted_workflow_step_is_found() {
    found(
        "seal-step",
        "DELETE FROM proposal_steps WHERE step = 'township_approved'",
        &["审批步骤表", "被直接删除", "乡镇已审核"],
    )
    .await;
}

#[tokio::test]
async fn a_cadres_appraisal_changed_directly_is_found() {
    found(
        "seal-cadre",
        "UPDATE cadres SET appraisal = '优秀'",
        &[
            "村干部表",
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
            "县级设置表",
            "设置项 监督电话",
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
        &["用户表", "mole", "没有对应的审计记录"],
    )
    .await;
}

#[tokio::test]
async fn a_reopened_year_deleted_directly_is_found() {
    found(
        "seal-closed",
        "DELETE FROM closed_years",
        &["结账表", "村 110101001001、年度 2024", "被直接删除"],
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
    no_problems(&store).await;
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
    done(store, &url, dir).await;
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
    done(store, &url, dir).await;
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
    no_problems(&store).await;
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
    no_problems(&store).await;
    done(store, &url, dir).await;
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
    no_problems(&store).await;
    let row = &store.audit_log(1).await.unwrap()[0];
    assert_eq!(row.action, "seal_accept");
    assert!(
        row.detail.contains("会议纪要") && row.detail.contains("县级管理员"),
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
    no_problems(&store).await;
    done(store, &url, dir).await;
}

const ASSETS: &str = "asset,village,kind,name,quantity,unit,original_value,acquired,grant,status\nA1,110101001001,land,东坡地,10,亩,,2010-01-01,,let\n";
const CONTRACTS: &str = "contract,village,counterparty,counterparty_id,asset,kind,signed,start,end,resolution,annual_rent,due_day,step_years,step_rate,account\n\
C1,110101001001,张三,110101198001011234,A1,lease,2022-01-01,2022-01-01,2026-12-31,2021-12-20,10000,10-03,,,\n\
C2,110101001001,东村合作社,,,cooperation,2024-01-01,2024-01-01,2025-03-31,2023-12-20,,,,,\n";
const INSTALLMENTS: &str = "contract,village,date,amount\nC2,110101001001,2024-03-01,3000\nC2,110101001001,2024-10-02,3000\n";

/// A village with an asset, a contract with a yearly rent (C1) and one paid in installments (C2),
/// each imported (sealed by its import's audit row); the audit row that imported each file, by kind.
async fn with_contracts(name: &str) -> (Store, String, std::path::PathBuf, [i64; 3]) {
    let (store, url, dir) = store_with(name, REGIONS).await;
    let mut ids = [0; 3];
    for (i, (kind, text)) in [
        (ImportKind::Assets, ASSETS),
        (ImportKind::Contracts, CONTRACTS),
        (ImportKind::Installments, INSTALLMENTS),
    ]
    .into_iter()
    .enumerate()
    {
        import(&store, kind, "f.csv", text).await.unwrap();
        ids[i] = store.audit_log(1).await.unwrap()[0].id;
    }
    no_problems(&store).await;
    (store, url, dir, ids)
}

/// A contract's rent doubled directly is named by `check` with the contract and the amounts; the
/// next change to the contract (an early end on the web, a new version imported) is refused, and
/// so is nothing else (another contract of the village is ended as usual).
#[tokio::test]
async fn a_contracts_rent_changed_directly_is_found_and_refused() {
    let (store, url, dir, [_, contracts, _]) = with_contracts("seal-rent").await;
    behind_the_back(
        &url,
        "UPDATE contracts SET annual_rent = 2000000 WHERE contract_id = 'C1'",
    )
    .await;
    let problem = format!(
        "合同表中 村 110101001001、合同编号 C1、版本 1 这一行被直接改动（未经程序，不在审计日志中；最后一次记录的写入是审计记录 #{contracts}）：年租金 由“10,000.00 元”改为“20,000.00 元”"
    );
    assert_eq!(problems(&store).await, vec![problem.clone()]);
    let village = cunji_core::region::RegionCode::parse(VILLAGE).unwrap();
    let end = cunji_core::date::Date::parse("2025-12-31").unwrap();
    let refused = store
        .end_contract_early(&village, "C1", end, "村里收回", "test")
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        refused,
        format!("合同的记录被直接改过（未经程序），为免替改动背书，本次未写入任何数据（请县级管理员运行 cunji check 查明）：{problem}")
    );
    let changed = CONTRACTS.replace("10000,10-03", "12000,10-03");
    let refused = import(&store, ImportKind::Contracts, "c2.csv", &changed)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains(&problem), "{refused}");
    // The other contract is not touched by the edit: its early end goes through, sealed.
    let end = cunji_core::date::Date::parse("2024-06-30").unwrap();
    store
        .end_contract_early(&village, "C2", end, "合作社解散", "test")
        .await
        .unwrap();
    assert_eq!(problems(&store).await, vec![problem]);
    done(store, &url, dir).await;
}

/// An installment contract ended before its first installment owes nothing: the set has no empty
/// version, so the installments of the longer term are left stored but no longer counted, and the
/// change is sealed like any other.
#[tokio::test]
async fn an_installment_contract_ended_before_its_first_installment_owes_nothing() {
    let (store, url, dir, _) = with_contracts("end-before-first").await;
    let village = cunji_core::region::RegionCode::parse(VILLAGE).unwrap();
    let end = cunji_core::date::Date::parse("2024-02-15").unwrap();
    store
        .end_contract_early(&village, "C2", end, "合作社未成立", "test")
        .await
        .unwrap();
    let book = store.load_contracts_within(VILLAGE).await.unwrap();
    let c2 = book.of(&village).unwrap().contract("C2").unwrap();
    assert_eq!(c2.end().iso(), "2024-02-15");
    assert_eq!(c2.total().fen(), 0);
    assert!(c2.dues().is_empty());
    // The yearly rent of C1 is untouched: 2022-10-03 to 2026-10-03, five rents of 10,000.00.
    let c1 = book.of(&village).unwrap().contract("C1").unwrap();
    assert_eq!(c1.total().fen(), 5_000_000);
    assert_eq!(store.check().await.unwrap().problems, Vec::<String>::new());
    store.close().await;
    cunji_store::testing::drop_database(&url);
    let _ = std::fs::remove_dir_all(dir);
}

/// An installment deleted directly is named by `check` with its contract, date and amount, and a new
/// set of installments for that contract is refused.
#[tokio::test]
async fn a_deleted_installment_is_found_and_refused() {
    let (store, url, dir, [_, _, installments]) = with_contracts("seal-installment").await;
    behind_the_back(&url, "DELETE FROM installments WHERE seq = 1").await;
    let problem = format!(
        "分期应收表中 村 110101001001、合同编号 C2、版本 1、序号 1 这一行被直接删除（审计记录 #{installments} 记录的内容：应收日期 “2024-10-02”，金额 “3,000.00 元”，写入的审计记录 “{installments}”）"
    );
    assert_eq!(problems(&store).await, vec![problem.clone()]);
    let again = format!("{INSTALLMENTS}C2,110101001001,2025-03-01,3000\n");
    let refused = import(&store, ImportKind::Installments, "i.csv", &again)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        refused,
        format!("分期应收的记录被直接改过（未经程序），为免替改动背书，本次未写入任何数据（请县级管理员运行 cunji check 查明）：{problem}")
    );
    done(store, &url, dir).await;
}

/// An asset's status changed directly and a contract inserted directly are found; the counterparty's
/// id number is never printed.
#[tokio::test]
async fn an_assets_status_changed_and_a_contract_inserted_directly_are_found() {
    let (store, url, dir, [assets, _, _]) = with_contracts("seal-asset").await;
    behind_the_back(
        &url,
        "UPDATE assets SET status = 'idle'; \
         INSERT INTO contracts (village, contract_id, version, counterparty, counterparty_id, kind, signed, start_date, end_date, annual_rent, due_day, account, audit_id) \
         SELECT village, 'C9', 1, counterparty, counterparty_id, kind, signed, start_date, end_date, annual_rent, due_day, account, audit_id FROM contracts WHERE contract_id = 'C1'",
    )
    .await;
    let problems = problems(&store).await;
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(
        problems[0],
        format!("资产台账表中 村 110101001001、资产编号 A1、版本 1 这一行被直接改动（未经程序，不在审计日志中；最后一次记录的写入是审计记录 #{assets}）：状态 由“出租发包”改为“闲置”")
    );
    assert!(
        problems[1].starts_with("合同表中 村 110101001001、合同编号 C9、版本 1 这一行没有对应的审计记录（绕过程序直接写入）：对方 “张三”"),
        "{}",
        problems[1]
    );
    assert!(
        !problems[1].contains("110101198001011234"),
        "{}",
        problems[1]
    );
    done(store, &url, dir).await;
}

/// Changes made through cunji stay sealed: a new version imported, an early end (with its new set
/// of installments), an added and a renewed contract.
#[tokio::test]
async fn contract_changes_through_cunji_stay_sealed() {
    let (store, url, dir, _) = with_contracts("seal-changes").await;
    let changed = CONTRACTS.replace("10000,10-03", "12000,10-03");
    import(&store, ImportKind::Contracts, "c2.csv", &changed)
        .await
        .unwrap();
    let village = cunji_core::region::RegionCode::parse(VILLAGE).unwrap();
    let end = cunji_core::date::Date::parse("2024-06-30").unwrap();
    store
        .end_contract_early(&village, "C2", end, "合作社解散", "test")
        .await
        .unwrap();
    no_problems(&store).await;
    done(store, &url, dir).await;
}

/// The import id of the receipts numbered `seq` (read directly, as the test's edits are made).
async fn receipt_import(url: &str, seq: i64) -> i64 {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap();
    let id: i64 = sqlx::query("SELECT import_id FROM contract_receipts WHERE seq = $1")
        .bind(seq)
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    pool.close().await;
    id
}

/// The receipts an entries file makes on contracts (SPEC §16) are sealed by its import: an amount
/// edited, a receipt deleted and one added directly, each of which would change the arrears, are
/// each named by `check`; the entries themselves are untouched, so nothing else is.
#[tokio::test]
async fn receipts_on_contracts_edited_deleted_or_added_directly_are_found() {
    let (store, url, dir, _) = with_contracts("seal-receipts").await;
    import(
        &store,
        ImportKind::Entries,
        "e.csv",
        "village,date,account,amount,voucher,memo,contract\n\
         110101001001,2024-10-05,operating_revenue,10000,记-1,租金,C1\n\
         110101001001,2024-03-02,operating_revenue,3000,记-2,合作款,C2\n",
    )
    .await
    .unwrap();
    let entries = store.audit_log(1).await.unwrap()[0].id;
    assert_eq!(store.check().await.unwrap().problems, Vec::<String>::new());
    let import_id = receipt_import(&url, 1).await;
    behind_the_back(
        &url,
        &format!(
            "UPDATE contract_receipts SET amount = 2000000 WHERE seq = 0; \
             DELETE FROM contract_receipts WHERE seq = 1; \
             INSERT INTO contract_receipts (village, contract_id, entry_date, year, account, amount, voucher, import_id, audit_id, seq) \
             VALUES ('110101001001', 'C1', '2024-12-01', 2024, 'operating_revenue', 500000, NULL, 99, {entries}, 7)"
        ),
    )
    .await;
    let row =
        |seq: i64| format!("合同收款表中 村 110101001001、审计记录 {entries}、序号 {seq} 这一行");
    assert_eq!(
        store.check().await.unwrap().problems,
        [
            format!(
                "{}被直接改动（未经程序，不在审计日志中；最后一次记录的写入是审计记录 #{entries}）：金额 由“10,000.00 元”改为“20,000.00 元”",
                row(0)
            ),
            format!(
                "{}没有对应的审计记录（绕过程序直接写入）：合同编号 “C1”，日期 “2024-12-01”，年度 “2024”，科目 “经营收入”，金额 “5,000.00 元”，凭证号 空，导入批次 “99”",
                row(7)
            ),
            format!(
                "{}被直接删除（审计记录 #{entries} 记录的内容：合同编号 “C2”，日期 “2024-03-02”，年度 “2024”，科目 “经营收入”，金额 “3,000.00 元”，凭证号 “记-2”，导入批次 “{import_id}”）",
                row(1)
            ),
        ]
    );
    store.close().await;
    cunji_store::testing::drop_database(&url);
    let _ = std::fs::remove_dir_all(dir);
}
