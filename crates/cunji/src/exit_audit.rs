//! The exit-audit pack (离任审计) of a cadre: every village-year in post with the village's income, band,
//! the reward computed and what was decided and paid, the alerts of that village-year, and the approval
//! steps. Figures come from the core's report of each year; this only gathers them.

use std::path::Path;

use cunji_core::policy::Policy;
use cunji_core::report::build_report;
use cunji_store::Store;
use serde_json::{json, Value};

use crate::support::{read_policy, Failure};

pub async fn pack(
    store: &Store,
    person: &str,
    policy_file: Option<&Path>,
) -> Result<Value, Failure> {
    let (policy, policy_source) = match policy_file {
        Some(p) => (read_policy(p)?, p.display().to_string()),
        None => {
            let stored = store
                .active_policy()
                .await?
                .ok_or_else(|| Failure::input("错误：没有当前政策，请用 --policy 指定政策文件"))?;
            let p = Policy::parse(&stored.source)
                .map_err(|e| Failure::input(format!("错误：当前政策有误：{e}")))?;
            (p, format!("政策 #{}", stored.id))
        }
    };
    let history = store.cadre_history(person).await?;
    if history.is_empty() {
        return Err(Failure::input(format!(
            "错误：没有人员编号为 {person} 的村干部"
        )));
    }
    let mut years = Vec::new();
    for c in &history {
        let data = store.load_for_report(c.year).await?;
        // The village-year under the policy's rules, wherever the policy was written for.
        let scoped = Policy {
            region: None,
            years: None,
            ..policy.clone()
        };
        let report = build_report(
            &scoped,
            &data.input(
                c.year,
                Some(&c.village),
                cunji_core::date::Date::parse(&crate::today()).ok(),
            ),
        )
        .map_err(|e| Failure::input(format!("错误：{e}")))?;
        let village = report.villages.iter().find(|v| v.code == c.village);
        let award = village
            .and_then(|v| v.incentive.as_ref())
            .and_then(|i| i.awards.iter().find(|a| a.person == person));
        let proposal = store.proposal(c.village.as_str(), c.year).await?;
        let documents = match &proposal {
            Some(p) => store.attachments(p.id).await?,
            None => Vec::new(),
        };
        let mine = proposal
            .as_ref()
            .and_then(|p| p.awards.iter().find(|a| a.person == person));
        years.push(json!({
            "year": c.year,
            "village": c.village,
            "village_name": data.regions.get(&c.village).map(|r| r.name.clone()),
            "role": c.role,
            "months_in_post": c.months_in_post,
            "sanctioned": c.sanctioned,
            "appraisal": c.appraisal,
            "base_pay": c.base_pay,
            "has_data": village.map(|v| v.has_data),
            "measures": village.and_then(|v| v.measures.clone()),
            "band": village.and_then(|v| v.band.clone()),
            "pool": village.and_then(|v| v.incentive.as_ref()).map(|i| i.pool),
            "reason": village.and_then(|v| v.incentive.as_ref()).and_then(|i| i.reason),
            "award": award.map(|a| json!({ "share": a.share, "amount": a.amount })),
            "trace": village.and_then(|v| v.incentive.as_ref()).map(|i| i.trace.clone()),
            "proposal": proposal.as_ref().map(|p| proposal_json(p, mine)),
            "documents": documents.iter().map(|d| json!({ "file_name": d.file_name, "content_type": d.content_type,
                "size": d.size, "sha256": d.sha256, "actor": d.actor, "at": cunji_web::when(d.at) })).collect::<Vec<_>>(),
            "alerts": report.alerts,
        }));
    }
    Ok(json!({
        "person": person,
        "name": history.last().map(|c| c.name.clone()),
        "policy": policy.name,
        "policy_source": policy_source,
        "years": years,
    }))
}

/// The proposal as the pack keeps it: status, this person's decided, paid and recovered amounts, the
/// village resolution, and every step with its data (the 核实说明 of each alert at approval, a
/// send-back's reason, the payment).
fn proposal_json(p: &cunji_store::Proposal, mine: Option<&cunji_store::ProposalAward>) -> Value {
    json!({
        "status": p.status.key(),
        "policy_version": p.policy_id,
        "payment_date": p.payment_date().map(|d| d.iso()),
        "notice": p.notice_period().map(|(f, t)| json!({ "from": f.iso(), "to": t.iso() })),
        "decided": mine.and_then(|a| a.decided),
        "paid": mine.and_then(|a| a.paid),
        "recovered": mine.map(|a| a.recovered),
        "resolution": p.resolution.as_ref().map(cunji_web::api::resolution_json),
        "steps": p.steps.iter().map(|s| json!({
            "step": s.step, "actor": s.actor, "at": cunji_web::when(s.at), "detail": s.detail,
            "data": serde_json::from_str::<Value>(&s.data).unwrap_or(Value::Null),
        })).collect::<Vec<_>>(),
    })
}
