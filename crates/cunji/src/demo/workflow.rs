//! The demo's rewards, walked through SPEC §13's workflow as the demo users would: the first village of
//! 饶阳镇 with a reward is sent back once (its resolution's documents were incomplete) and then goes on
//! to publication; the second is published, and then a correction of its books lowers the pool below
//! what was paid, so that it shows an overpayment awaiting recovery.

use std::collections::BTreeMap;

use cunji_core::date::Date;
use cunji_core::policy::Policy;
use cunji_core::report::{Report, VillageReport};
use cunji_core::workflow::{unchecked_alerts, Action, Body, Meetings, Resolution};
use cunji_core::Fen;
use cunji_store::workflow::StepRecord;
use cunji_store::{Computation, EntryForm, LoadedData, ProposalAward, Store};

use super::LAST_YEAR;
use crate::support::Failure;

const TOWNSHIP: &str = "raoyang";

/// A one-page PDF standing for the scanned minutes of the demo's village meeting.
const MINUTES_PDF: &[u8] = b"%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj
trailer << /Root 1 0 R >>
%%EOF
";
const COUNTY: &str = "admin";

pub async fn examples(
    store: &Store,
    report: &Report,
    policy: (&Policy, i64),
    data: &LoadedData,
) -> Result<(), Failure> {
    let mut candidates = report.villages.iter().filter(|v| {
        v.code.as_str().starts_with("131124100")
            && v.incentive
                .as_ref()
                .is_some_and(|i| i.reason.is_none() && !i.awards.is_empty())
    });
    if let Some(v) = candidates.next() {
        let id = compute(store, v, policy, data).await?;
        store
            .add_attachment(id, "村民代表会议记录.pdf", MINUTES_PDF, TOWNSHIP)
            .await?;
        resolve(store, id, v).await?;
        let reason = "决议附件不全：缺村民代表会议签到表，请补齐后重新录入";
        let back = StepRecord {
            detail: format!("退回：{reason}"),
            data: serde_json::json!({ "reason": reason }),
        };
        store
            .take_step(id, Action::SendBack, &back, TOWNSHIP)
            .await?;
        resolve(store, id, v).await?;
        review_to_publication(store, id, v, report).await?;
    }
    if let Some(v) = candidates.next() {
        let id = compute(store, v, policy, data).await?;
        resolve(store, id, v).await?;
        review_to_publication(store, id, v, report).await?;
        overstate_then_correct(store, v).await?;
    }
    // The county's 监督电话, printed on every public page and notice (an invented number).
    let phone = cunji_store::settings::SUPERVISION_PHONE;
    store.set_setting(phone, "0318-7200000", COUNTY).await?;
    Ok(())
}

async fn compute(
    store: &Store,
    v: &VillageReport,
    (policy, policy_id): (&Policy, i64),
    data: &LoadedData,
) -> Result<i64, Failure> {
    let Some(inc) = &v.incentive else {
        return Err(Failure::other("演示村没有奖励（程序缺陷）"));
    };
    let awards: Vec<ProposalAward> = inc.awards.iter().map(ProposalAward::from).collect();
    let villages: Vec<String> = data
        .regions
        .lineage(&v.code)
        .iter()
        .map(|c| c.to_string())
        .collect();
    let figures = store.figures_fingerprint(&villages).await?;
    let story = data
        .story(policy, LAST_YEAR, &v.code)
        .map_err(|e| Failure::other(e.to_string()))?;
    let computation = Computation {
        village: v.code.as_str(),
        year: LAST_YEAR,
        policy_id,
        pool: inc.pool.fen(),
        measure: inc.measure,
        base: inc.base,
        figures: &figures,
        awards: &awards,
        trace: &inc.trace,
        story: &story,
    };
    Ok(store.record_computation(&computation, TOWNSHIP).await?)
}

fn day(text: &str) -> Result<Date, Failure> {
    Date::parse(text).map_err(Failure::other)
}

/// The village's resolution: 33 representatives, 31 present, 29 for; each person the computed amount.
async fn resolve(store: &Store, id: i64, v: &VillageReport) -> Result<(), Failure> {
    let awards: BTreeMap<String, Fen> = v
        .incentive
        .iter()
        .flat_map(|i| i.awards.iter().map(|a| (a.person.clone(), a.amount)))
        .collect();
    let resolution = Resolution {
        meetings: Meetings {
            proposed: day("2025-01-06")?,
            discussed: day("2025-01-08")?,
            reviewed: day("2025-01-10")?,
            decided: day("2025-01-12")?,
        },
        body: Body::Representatives,
        members: 33,
        present: 31,
        votes_for: 29,
        votes_against: 0,
        votes_abstain: 2,
        published: day("2025-01-13")?,
        awards,
    };
    store
        .record_resolution(id, &resolution, Date::today_beijing(), TOWNSHIP)
        .await?;
    Ok(())
}

/// Township approval (with a check of each of the village's alerts), county filing, payment of the
/// decided amounts, public notice.
async fn review_to_publication(
    store: &Store,
    id: i64,
    v: &VillageReport,
    report: &Report,
) -> Result<(), Failure> {
    let kinds: Vec<&str> = report
        .alerts
        .iter()
        .filter(|a| a.village == v.code.as_str())
        .map(|a| a.kind.key())
        .collect();
    let checks: BTreeMap<&str, &str> = unchecked_alerts(kinds, &BTreeMap::new())
        .into_iter()
        .map(|k| (k, "已调阅原始凭证和合同，收入真实"))
        .collect();
    let approve = StepRecord {
        detail: "乡镇审核通过：决议程序完整".into(),
        data: serde_json::json!({ "note": "决议程序完整", "checks": checks }),
    };
    store
        .take_step(id, Action::Approve, &approve, TOWNSHIP)
        .await?;
    let file = StepRecord {
        detail: "县级备案：饶农备〔2025〕3号".into(),
        data: serde_json::json!({ "note": "饶农备〔2025〕3号" }),
    };
    store.take_step(id, Action::File, &file, COUNTY).await?;
    let paid: BTreeMap<String, Fen> = v
        .incentive
        .iter()
        .flat_map(|i| i.awards.iter().map(|a| (a.person.clone(), a.amount)))
        .collect();
    let today = Date::today_beijing();
    store
        .record_payment(id, day("2025-02-10")?, &paid, today, TOWNSHIP)
        .await?;
    let period = (day("2025-02-11")?, day("2025-02-20")?);
    store.record_notice(id, period, today, TOWNSHIP).await?;
    Ok(())
}

/// After publication the township finds half of the year's growth was booked twice and corrects it
/// with a red-ink entry: the pool falls below what was paid.
async fn overstate_then_correct(store: &Store, v: &VillageReport) -> Result<(), Failure> {
    let growth = v
        .incentive
        .as_ref()
        .and_then(|i| i.base)
        .unwrap_or(Fen::ZERO);
    let correction = Fen::from_fen(-(growth.fen() / 2));
    let form = EntryForm {
        village: v.code.to_string(),
        date: format!("{LAST_YEAR}-12-30"),
        account: "operating_revenue".into(),
        amount: correction.json(),
        voucher: String::new(),
        memo: "冲减重复记账的经营收入".into(),
        project: String::new(),
    };
    store
        .add_entry(&form, None, TOWNSHIP)
        .await
        .map_err(|e| Failure::other(format!("演示更正分录有误（程序缺陷）：{e}")))?;
    Ok(())
}
