//! The store keeps SPEC §13's rules inside each step's transaction: a refused resolution, payment or
//! recovery stores nothing; a send-back clears the decided amounts and keeps the resolution in the
//! history; resolutions, payments and recoveries read back as they were stored.

mod common;

use std::collections::BTreeMap;

use common::{resolution, store_with};
use cunji_core::date::Date;
use cunji_core::workflow::Action;
use cunji_core::Fen;
use cunji_store::workflow::StepRecord;
use cunji_store::{Computation, ProposalAward, Status, Store, StoreError};

const REGIONS: &str = "code,name\n110000000000,北京市\n110100000000,市辖区\n110101000000,东城区\n110101001000,某镇\n110101001001,甲村\n";
const VILLAGE: &str = "110101001001";
/// The calculation told for villagers, kept with the computation and read back line by line.
const STORY: [&str; 2] = [
    "2024 年本村经营性收入为 90,000.00 元。",
    "按办法，奖励不超过增加额的 10%：80,000.00 元 × 10% = 8,000.00 元。",
];

fn award(person: &str, computed: i64) -> ProposalAward {
    ProposalAward {
        person: person.into(),
        name: format!("姓名{person}"),
        role: cunji_core::cadre::Role::Secretary,
        computed: Fen::from_fen(computed),
        decided: None,
        paid: None,
        recovered: Fen::ZERO,
    }
}

async fn computed(store: &Store) -> i64 {
    let policy_id = store
        .save_policy(
            "p",
            "name = \"p\"\n[incentive]\nrate = \"10%\"\n",
            true,
            "t",
        )
        .await
        .unwrap()
        .id;
    let awards = [award("P1", 500_000), award("P2", 300_000)];
    let c = Computation {
        village: VILLAGE,
        year: 2024,
        policy_id,
        pool: 800_000,
        measure: None,
        base: None,
        figures: "f",
        awards: &awards,
        trace: &[],
        story: &STORY.map(String::from),
    };
    store.record_computation(&c, "t").await.unwrap()
}

async fn proposal(store: &Store) -> cunji_store::Proposal {
    store
        .proposal(VILLAGE, 2024)
        .await
        .unwrap()
        .expect("a proposal")
}

/// A computed proposal resolved with P1 4,500.00 and P2 3,000.00 (both within what was computed).
async fn resolved(store: &Store) -> i64 {
    let id = computed(store).await;
    let good = resolution(&[("P1", 450_000), ("P2", 300_000)]);
    store
        .record_resolution(id, &good, today(), "t")
        .await
        .unwrap();
    id
}

/// The audit chain is whole after the test's steps; the store is closed and its directory removed.
async fn done(store: Store, dir: std::path::PathBuf) {
    assert_eq!(store.verify_audit().await.unwrap(), Vec::<String>::new());
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

fn today() -> Date {
    Date::parse("2025-03-01").unwrap()
}

fn invalid(r: Result<impl std::fmt::Debug, StoreError>) -> String {
    match r {
        // Bad input (422) or a step the proposal's state forbids now (409).
        Err(StoreError::Invalid(m) | StoreError::Conflict(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn step(detail: &str) -> StepRecord {
    StepRecord {
        detail: detail.into(),
        data: serde_json::json!({ "reason": detail }),
    }
}

#[tokio::test]
async fn a_refused_resolution_stores_nothing_and_a_good_one_reads_back() {
    let (store, _, dir) = store_with("wf-resolve", REGIONS).await;
    let id = computed(&store).await;
    let mut voted_down = resolution(&[("P1", 500_000), ("P2", 300_000)]);
    (
        voted_down.votes_for,
        voted_down.votes_against,
        voted_down.votes_abstain,
    ) = (0, 24, 0);
    let m = invalid(store.record_resolution(id, &voted_down, today(), "t").await);
    assert_eq!(m, "决议须经到会人员的过半数通过：到会 24 人，赞成 0 票");
    let too_much = resolution(&[("P1", 500_001), ("P2", 300_000)]);
    let m = invalid(store.record_resolution(id, &too_much, today(), "t").await);
    assert!(m.starts_with("P1 的决定金额 5,000.01 超出计算所得"), "{m}");
    let p = proposal(&store).await;
    assert_eq!(p.status, Status::Computed);
    assert_eq!(p.story, STORY);
    assert_eq!(p.steps.len(), 1);
    assert_eq!(p.resolution, None);
    assert!(p.awards.iter().all(|a| a.decided.is_none()));
    let good = resolution(&[("P1", 450_000), ("P2", 300_000)]);
    store
        .record_resolution(id, &good, today(), "t")
        .await
        .unwrap();
    let p = proposal(&store).await;
    assert_eq!(p.status, Status::Resolved);
    assert_eq!(p.resolution.as_ref(), Some(&good));
    assert_eq!(
        p.steps.last().unwrap().detail,
        "党组织提议 2025-01-06，两委会议商议 2025-01-08，党员大会审议 2025-01-10，村民（代表）会议决议 2025-01-15；村民代表会议：应到 30、实到 24，赞成 20、反对 3、弃权 1；决议公开 2025-01-16"
    );
    done(store, dir).await;
}

#[tokio::test]
async fn sending_back_returns_to_computed_and_keeps_the_history() {
    let (store, _, dir) = store_with("wf-back", REGIONS).await;
    let id = resolved(&store).await;
    let m = invalid(store.take_step(id, Action::File, &step("x"), "t").await);
    assert_eq!(
        m,
        "当前是“村级决议已通过（四议两公开）”，不能进行“县级备案”"
    );
    let back = store
        .take_step(id, Action::SendBack, &step("签到表缺页"), "t")
        .await
        .unwrap();
    assert_eq!(back, Status::Computed);
    let p = proposal(&store).await;
    assert!(p.awards.iter().all(|a| a.decided.is_none()));
    let last = p.steps.last().unwrap();
    assert_eq!(
        (last.step.as_str(), last.detail.as_str()),
        ("sent_back", "签到表缺页")
    );
    assert_eq!(last.data, r#"{"reason":"签到表缺页"}"#);
    // Sent back from `computed` is refused; resolved again, the latest resolution is the one read.
    let m = invalid(store.take_step(id, Action::SendBack, &step("x"), "t").await);
    assert_eq!(m, "当前是“已计算”，不能进行“退回”");
    let mut again = resolution(&[("P1", 400_000), ("P2", 300_000)]);
    again.present = 30;
    store
        .record_resolution(id, &again, today(), "t")
        .await
        .unwrap();
    let p = proposal(&store).await;
    assert_eq!(p.resolution.unwrap().present, 30);
    let audit = store.audit_log(50).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.action == "workflow_sent_back" && a.detail == "签到表缺页"));
    done(store, dir).await;
}

#[tokio::test]
async fn payments_within_the_decided_amounts_and_recoveries_within_what_is_owed() {
    let (store, _, dir) = store_with("wf-pay", REGIONS).await;
    let id = resolved(&store).await;
    for action in [Action::Approve, Action::File] {
        store.take_step(id, action, &step("ok"), "t").await.unwrap();
    }
    let fen = |pairs: &[(&str, i64)]| -> BTreeMap<String, Fen> {
        pairs
            .iter()
            .map(|(p, f)| (p.to_string(), Fen::from_fen(*f)))
            .collect()
    };
    let m = invalid(
        store
            .record_payment(id, today(), &fen(&[("P1", 450_001)]), today(), "t")
            .await,
    );
    assert_eq!(m, "P1 的发放金额 4,500.01 应在 0 与决定金额 4,500.00 之间");
    let m = invalid(
        store
            .record_payment(id, today(), &fen(&[("X", 1)]), today(), "t")
            .await,
    );
    assert_eq!(m, "X 不在村级决议的名单中");
    assert_eq!(proposal(&store).await.status, Status::CountyFiled);
    let paid = fen(&[("P1", 450_000), ("P2", 300_000)]);
    store
        .record_payment(id, today(), &paid, today(), "t")
        .await
        .unwrap();
    let p = proposal(&store).await;
    assert_eq!((p.status, p.paid()), (Status::Paid, paid));
    let owed = fen(&[("P1", 100_000)]);
    let m = invalid(
        store
            .record_recovery(id, today(), &fen(&[("P1", 100_001)]), &owed, today(), "t")
            .await,
    );
    assert_eq!(
        m,
        "P1 的追回金额 1,000.01 应大于 0 且不超过应追回的 1,000.00"
    );
    store
        .record_recovery(id, today(), &fen(&[("P1", 60_000)]), &owed, today(), "t")
        .await
        .unwrap();
    let p = proposal(&store).await;
    assert_eq!(p.status, Status::Paid, "a recovery is a step, not a status");
    assert_eq!(p.awards[0].recovered, Fen::from_fen(60_000));
    assert_eq!(
        p.steps.last().unwrap().detail,
        "2025-03-01 追回多发金额 600.00 元"
    );
    done(store, dir).await;
}

/// SPEC §13's dates of the steps, inside the store's transaction: a payment before the decision
/// (2025-01-15 in the example resolution) or after today is refused naming both dates and stores
/// nothing; the day of the decision is accepted; a recovery before the payment and a 公示期 that
/// ended before the year it concerns had begun are refused; the 公示期's boundaries are accepted.
#[tokio::test]
async fn the_dates_of_the_steps_follow_the_dates_they_must_follow() {
    let (store, _, dir) = store_with("wf-dates", REGIONS).await;
    let id = resolved(&store).await;
    for action in [Action::Approve, Action::File] {
        store.take_step(id, action, &step("ok"), "t").await.unwrap();
    }
    let day = |s: &str| Date::parse(s).unwrap();
    let paid: BTreeMap<String, Fen> = [("P1".to_string(), Fen::from_fen(450_000))].into();
    let m = invalid(
        store
            .record_payment(id, day("2025-01-14"), &paid, today(), "t")
            .await,
    );
    assert_eq!(
        m,
        "发放日期 2025-01-14 早于村民（代表）会议决议的日期 2025-01-15"
    );
    let m = invalid(
        store
            .record_payment(id, day("2025-03-02"), &paid, today(), "t")
            .await,
    );
    assert_eq!(m, "发放日期 2025-03-02 晚于今天（2025-03-01）");
    let m = invalid(
        store
            .record_payment(id, day("2024-12-31"), &paid, today(), "t")
            .await,
    );
    assert_eq!(
        m,
        "发放日期 2024-12-31 早于 2025-01-01：2024 年的收入要到年度结束后才能确定；发放日期 2024-12-31 早于村民（代表）会议决议的日期 2025-01-15"
    );
    assert_eq!(proposal(&store).await.status, Status::CountyFiled);
    store
        .record_payment(id, day("2025-01-15"), &paid, today(), "t")
        .await
        .unwrap();
    let p = proposal(&store).await;
    assert_eq!(p.payment_date(), Some(day("2025-01-15")));
    let m = invalid(
        store
            .record_notice(id, (day("2024-06-01"), day("2024-06-08")), today(), "t")
            .await,
    );
    assert!(
        m.starts_with("公示期开始日期 2024-06-01 早于 2025-01-01"),
        "{m}"
    );
    assert!(
        m.contains("公示期开始日期 2024-06-01 早于村民（代表）会议决议的日期 2025-01-15"),
        "{m}"
    );
    let m = invalid(
        store
            .record_notice(id, (day("2025-02-08"), day("2025-02-01")), today(), "t")
            .await,
    );
    assert_eq!(m, "公示期结束日期 2025-02-01 早于开始日期 2025-02-08");
    assert_eq!(proposal(&store).await.status, Status::Paid);
    store
        .record_notice(id, (day("2025-01-15"), day("2025-03-01")), today(), "t")
        .await
        .unwrap();
    let p = proposal(&store).await;
    assert_eq!(p.status, Status::Published);
    assert_eq!(
        p.notice_period(),
        Some((day("2025-01-15"), day("2025-03-01")))
    );
    let owed: BTreeMap<String, Fen> = [("P1".to_string(), Fen::from_fen(10_000))].into();
    let m = invalid(
        store
            .record_recovery(id, day("2025-01-14"), &owed, &owed, today(), "t")
            .await,
    );
    assert_eq!(m, "追回日期 2025-01-14 早于发放日期 2025-01-15");
    store
        .record_recovery(id, day("2025-01-15"), &owed, &owed, today(), "t")
        .await
        .unwrap();
    done(store, dir).await;
}

#[tokio::test]
async fn documents_are_kept_with_their_hash_and_verified() {
    let (store, url, dir) = store_with("wf-docs", REGIONS).await;
    let id = computed(&store).await;
    let pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n".to_vec();
    let doc = store
        .add_attachment(id, "会议记录.pdf", &pdf, "t")
        .await
        .unwrap();
    let m = invalid(
        store
            .add_attachment(id, "决议.docx", b"PK\x03\x04", "t")
            .await,
    );
    assert_eq!(
        m,
        "附件《决议.docx》不是 PDF、JPEG 或 PNG 文件（按文件内容判断）"
    );
    let big = [b"%PDF-".as_slice(), &vec![b' '; 10 * 1024 * 1024]].concat();
    let m = invalid(store.add_attachment(id, "大.pdf", &big, "t").await);
    assert!(m.contains("超过每个附件 10 MB 的上限"), "{m}");
    let m = invalid(
        store
            .add_attachment(id, "=HYPERLINK(1).pdf", &pdf, "t")
            .await,
    );
    assert!(m.starts_with("附件的文件名：文本不能以“=”开头"), "{m}");
    let list = store.attachments(id).await.unwrap();
    assert_eq!(list.len(), 1);
    let a = &list[0];
    assert_eq!(
        (a.id, a.file_name.as_str(), a.content_type.as_str(), a.size),
        (doc, "会议记录.pdf", "application/pdf", pdf.len() as i64)
    );
    assert_eq!(
        a.sha256,
        cunji_core::columns::hex(&<sha2::Sha256 as sha2::Digest>::digest(&pdf))
    );
    let (_, bytes) = store.attachment(id, doc).await.unwrap().unwrap();
    assert_eq!(bytes, pdf);
    assert!(store.attachment(id + 1, doc).await.unwrap().is_none());
    assert_eq!(store.verify_audit().await.unwrap(), Vec::<String>::new());
    // A document replaced behind the program's back is found.
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .unwrap();
    sqlx::query("UPDATE proposal_attachments SET bytes = $1 WHERE id = $2")
        .bind(b"%PDF-1.7 forged".to_vec())
        .bind(doc)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let problems = store.verify_audit().await.unwrap();
    assert_eq!(
        problems,
        [format!(
            "奖励方案 #{id} 的附件 #{doc} 的内容与其 sha256 不符（文件被替换或改动）"
        )]
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

/// The documents of one township's proposals of a year are bounded in all (SPEC §13's documents,
/// issue #32): past [`MAX_BYTES_PER_TOWNSHIP_YEAR`] an upload is refused naming the quota, and
/// nothing is stored. The quota is counted from the stored sizes, so the test fills it with one
/// row of a declared size rather than gigabytes.
#[tokio::test]
async fn a_townships_documents_of_a_year_are_bounded() {
    use cunji_store::workflow::attachments::MAX_BYTES_PER_TOWNSHIP_YEAR;
    let (store, url, dir) = store_with("wf-quota", REGIONS).await;
    let id = computed(&store).await;
    let pdf = b"%PDF-1.7\n%%EOF\n".to_vec();
    store.add_attachment(id, "a.pdf", &pdf, "t").await.unwrap();
    let almost = MAX_BYTES_PER_TOWNSHIP_YEAR - pdf.len() as i64 + 1;
    // A direct write stands for 2 GiB of uploads (sqlx's `Any` driver needs its drivers installed).
    sqlx::any::install_default_drivers();
    let raw = sqlx::AnyPool::connect(&url).await.unwrap();
    let sql = format!("UPDATE proposal_attachments SET size = {almost}");
    sqlx::Executor::execute(&raw, sqlx::AssertSqlSafe(sql))
        .await
        .unwrap();
    raw.close().await;
    let m = invalid(store.add_attachment(id, "b.pdf", &pdf, "t").await);
    assert_eq!(
        m,
        "本乡镇 2024 年奖励方案的附件已用 2047 MB，再存这个文件将超过每个乡镇每年 2048 MB 的上限"
    );
    assert_eq!(store.attachments(id).await.unwrap().len(), 1);
    done(store, dir).await;
}
