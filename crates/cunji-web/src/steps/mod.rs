//! The workflow's steps (SPEC §13), run the same way for a page's form and the API's JSON: the user's
//! role and scope are checked (403), the step must follow the proposal's status and meet its rules
//! (422, nothing changed), then the store records it.

pub mod input;

use std::collections::BTreeMap;

use cunji_core::date::Date;
use cunji_core::incentive::evaluate::IncentiveResult;
use cunji_core::region::RegionCode;
use cunji_core::workflow::{overpayment, unchecked_alerts, Action, Refusal};
use cunji_core::Fen;
use cunji_store::workflow::StepRecord;
use cunji_store::{Computation, Proposal, ProposalAward};
use serde_json::json;

pub use input::{Fields, StepInput};

use crate::auth::User;
use crate::html::WebError;
use crate::state::AppState;

/// A village's year as the workflow reads it now: its name, the reward computed under the active
/// policy on today's books, its alerts, and the stored proposal.
pub struct Now {
    pub name: String,
    pub policy_id: i64,
    pub incentive: Option<IncentiveResult>,
    pub alerts: Vec<cunji_core::alerts::Alert>,
    pub figures: String,
    pub proposal: Option<Proposal>,
    /// What the reward was computed from, for its story (SPEC §15) when it is recorded.
    policy: cunji_core::policy::Policy,
    data: std::sync::Arc<cunji_store::LoadedData>,
}

impl Now {
    pub async fn read(state: &AppState, village: &RegionCode, year: i32) -> Result<Now, WebError> {
        let (stored, policy) = state.policy(None).await?;
        let data = state.data(year).await?;
        let name = data
            .regions
            .get(village)
            .map(|r| r.name.clone())
            .ok_or_else(|| crate::html::not_found(&format!("村 {village}")))?;
        let report = state.report(&policy, &data, year, Some(village)).await?;
        let incentive = report
            .villages
            .iter()
            .find(|v| &v.code == village)
            .and_then(|v| v.incentive.clone());
        let alerts = report
            .alerts
            .iter()
            .filter(|a| a.village == village.as_str())
            .cloned()
            .collect();
        let lineage: Vec<String> = data
            .regions
            .lineage(village)
            .iter()
            .map(|c| c.to_string())
            .collect();
        let figures = state.store.figures_fingerprint(&lineage).await?;
        let proposal = state.store.proposal(village.as_str(), year).await?;
        Ok(Now {
            name,
            policy_id: stored.id,
            incentive,
            alerts,
            figures,
            proposal,
            policy,
            data,
        })
    }

    /// What is still to be given back of an overpayment, per person (empty when nothing is).
    pub fn outstanding(&self) -> BTreeMap<String, Fen> {
        let Some(p) = &self.proposal else {
            return BTreeMap::new();
        };
        let (now_pool, now_awards) = match &self.incentive {
            Some(i) => (
                i.pool,
                i.awards
                    .iter()
                    .map(|a| (a.person.clone(), a.amount))
                    .collect(),
            ),
            None => (Fen::ZERO, BTreeMap::new()),
        };
        let Some(over) = overpayment(&p.paid(), now_pool, &now_awards) else {
            return BTreeMap::new();
        };
        over.into_iter()
            .filter_map(|(person, f)| {
                let back = p
                    .awards
                    .iter()
                    .find(|a| a.person == person)
                    .map_or(0, |a| a.recovered.fen());
                let left = f.fen() - back;
                (left > 0).then(|| (person, Fen::from_fen(left)))
            })
            .collect()
    }

    /// The alert kinds of the village's year, each once, in report order.
    pub fn alert_kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = Vec::new();
        for a in &self.alerts {
            if !kinds.contains(&a.kind.key()) {
                kinds.push(a.kind.key());
            }
        }
        kinds
    }
}

/// Runs `action` on the village's year for `user`; the message to show when it is done.
pub async fn run(
    state: &AppState,
    user: &User,
    (village, year): (&RegionCode, i32),
    action: Action,
    input: StepInput,
) -> Result<String, WebError> {
    let now = Now::read(state, village, year).await?;
    action
        .check(now.proposal.as_ref().map(|p| p.status), user.role)
        .map_err(|r| match r {
            Refusal::Role(m) => WebError::Denied(m),
            Refusal::Status(m) => WebError::Invalid(m),
        })?;
    let who = user.username.as_str();
    if let StepInput::Compute = input {
        return compute(state, &now, (village, year), who).await;
    }
    let Some(p) = &now.proposal else {
        return Err(WebError::Invalid("尚未生成奖励方案".into()));
    };
    let store = &state.store;
    match input {
        StepInput::Resolve(res) => {
            store
                .record_resolution(p.id, &res, Date::today_beijing(), who)
                .await?;
            Ok("已录入村级决议".into())
        }
        StepInput::Pay { date, paid } => {
            let paid = if paid.is_empty() { decided(p) } else { paid };
            store.record_payment(p.id, date, &paid, who).await?;
            Ok("已登记发放".into())
        }
        StepInput::Recover { date, amounts } => {
            let outstanding = now.outstanding();
            if outstanding.is_empty() {
                return Err(WebError::Invalid("按现在的账目没有应追回的金额".into()));
            }
            store
                .record_recovery(p.id, date, &amounts, &outstanding, who)
                .await?;
            Ok("已登记追回".into())
        }
        other => {
            let record = review_record(&now, action, other)?;
            let next = store.take_step(p.id, action, &record, who).await?;
            Ok(format!("当前：{}", next.name_zh()))
        }
    }
}

/// Each person's decided amount (a payment of the decided amounts when none are given).
fn decided(p: &Proposal) -> BTreeMap<String, Fen> {
    p.awards
        .iter()
        .filter_map(|a| a.decided.map(|d| (a.person.clone(), d)))
        .collect()
}

/// The history line and data of a review step, after its own rules: an approval needs a 核实说明 for
/// each alert, a send-back a reason, a notice a period that ends on or after it starts.
fn review_record(now: &Now, action: Action, input: StepInput) -> Result<StepRecord, WebError> {
    let invalid = |m: String| Err(WebError::Invalid(m));
    let (detail, data) = match input {
        StepInput::Approve { note, checks } => {
            let missing = unchecked_alerts(now.alert_kinds(), &checks);
            if !missing.is_empty() {
                let names: Vec<&str> = now
                    .alerts
                    .iter()
                    .filter(|a| missing.contains(&a.kind.key()))
                    .map(|a| a.kind.name_zh())
                    .collect();
                return invalid(format!(
                    "该村本年度有预警，审核前须逐项填写核实说明：{}",
                    dedup(names).join("、")
                ));
            }
            let kept: Vec<(&str, &str, &str)> = now
                .alert_kinds()
                .into_iter()
                .filter_map(|k| {
                    let name = now
                        .alerts
                        .iter()
                        .find(|a| a.kind.key() == k)?
                        .kind
                        .name_zh();
                    checks.get(k).map(|t| (k, name, t.trim()))
                })
                .collect();
            let data_checks: BTreeMap<&str, &str> = kept.iter().map(|(k, _, t)| (*k, *t)).collect();
            let named: Vec<(&str, &str)> = kept.iter().map(|(_, n, t)| (*n, *t)).collect();
            (
                with_note("乡镇审核通过", &note, &named),
                json!({ "note": note, "checks": data_checks }),
            )
        }
        StepInput::File { note } => (with_note("县级备案", &note, &[]), json!({ "note": note })),
        StepInput::Publish { from, to } => {
            if to < from {
                return invalid(format!(
                    "公示期结束日期 {} 早于开始日期 {}",
                    to.iso(),
                    from.iso()
                ));
            }
            let detail = format!("公示 {} 至 {}", from.iso(), to.iso());
            (detail, json!({ "from": from.iso(), "to": to.iso() }))
        }
        StepInput::SendBack { reason } => {
            if reason.is_empty() {
                return invalid("退回须写明理由".into());
            }
            (format!("退回：{reason}"), json!({ "reason": reason }))
        }
        _ => return invalid(format!("“{}”的内容有误", action.name_zh())),
    };
    Ok(StepRecord { detail, data })
}

fn dedup(names: Vec<&str>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for n in names {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// A step's history line: what was done, the note, and each alert's check by the alert's name.
fn with_note(done: &str, note: &str, checks: &[(&str, &str)]) -> String {
    let mut s = done.to_string();
    if !note.is_empty() {
        s.push_str(&format!("：{note}"));
    }
    for (name, text) in checks {
        s.push_str(&format!("；核实说明（{name}）：{text}"));
    }
    s
}

/// Computes the village's reward under the active policy and records it as the proposal.
async fn compute(
    state: &AppState,
    now: &Now,
    (village, year): (&RegionCode, i32),
    who: &str,
) -> Result<String, WebError> {
    let Some(inc) = &now.incentive else {
        return Err(WebError::Invalid(
            "当前政策未设激励办法，或该村当年不在报告中".into(),
        ));
    };
    let awards: Vec<ProposalAward> = inc.awards.iter().map(ProposalAward::from).collect();
    let story = now
        .data
        .story(&now.policy, year, village)
        .map_err(|e| WebError::Invalid(e.to_string()))?;
    state
        .store
        .record_computation(
            &Computation {
                village: village.as_str(),
                year,
                policy_id: now.policy_id,
                pool: inc.pool.fen(),
                measure: inc.measure,
                base: inc.base,
                figures: &now.figures,
                awards: &awards,
                trace: &inc.trace,
                story: &story,
            },
            who,
        )
        .await?;
    Ok(format!(
        "已按现行政策计算：奖励总额上限 {} 元",
        inc.pool.display()
    ))
}
