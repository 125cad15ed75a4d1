//! The workflow's steps (SPEC §13), run the same way for a page's form and the API's JSON: the user's
//! role and scope are checked (403), the step must follow the proposal's status and meet its rules
//! (422, nothing changed), then the store records it.

pub mod input;

use std::collections::BTreeMap;

use cunji_core::date::Date;
use cunji_core::incentive::evaluate::IncentiveResult;
use cunji_core::region::RegionCode;
use cunji_core::workflow::{unchecked_alerts, Action, Refusal};
use cunji_core::Fen;
use cunji_store::workflow::StepRecord;
use cunji_store::{Computation, Proposal, ProposalAward};
use serde_json::json;

pub use input::{Fields, StepInput};

use crate::auth::User;
use crate::html::WebError;
use crate::state::AppState;

/// A village's year as the workflow reads it now: its name, the reward computed under the active
/// policy on today's books, its alerts, the stored proposal, and the same reward computed under the
/// proposal's own policy version (what a decided reward is judged against, SPEC §13).
pub struct Now {
    pub name: String,
    /// The active policy's version.
    pub policy_id: i64,
    /// The reward under the active policy: what `compute` would record now.
    pub incentive: Option<IncentiveResult>,
    pub alerts: Vec<cunji_core::alerts::Alert>,
    pub figures: String,
    pub proposal: Option<Proposal>,
    /// The reward from today's books under the proposal's own version (the active one's result when
    /// that is the proposal's version, or when there is no proposal).
    pub own: Option<IncentiveResult>,
    /// What the reward was computed from, for its story (SPEC §15) when it is recorded.
    policy: cunji_core::policy::Policy,
    data: std::sync::Arc<cunji_store::LoadedData>,
}

/// The reward of `village` in `year` under `policy`, from `data`.
async fn incentive_under(
    state: &AppState,
    policy: &cunji_core::policy::Policy,
    data: &std::sync::Arc<cunji_store::LoadedData>,
    (village, year): (&RegionCode, i32),
) -> Result<(Option<IncentiveResult>, Vec<cunji_core::alerts::Alert>), WebError> {
    let report = state.report(policy, data, year, Some(village)).await?;
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
    Ok((incentive, alerts))
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
        let (incentive, alerts) = incentive_under(state, &policy, &data, (village, year)).await?;
        let lineage: Vec<String> = data
            .regions
            .lineage(village)
            .iter()
            .map(|c| c.to_string())
            .collect();
        let figures = state.public_reads().figures_fingerprint(&lineage).await?;
        let proposal = state
            .public_reads()
            .proposal(village.as_str(), year)
            .await?;
        let own = match &proposal {
            Some(p) if p.policy_id != stored.id => {
                let (_, own_policy) = state.policy(Some(p.policy_id)).await?;
                incentive_under(state, &own_policy, &data, (village, year))
                    .await?
                    .0
            }
            _ => incentive.clone(),
        };
        Ok(Now {
            name,
            policy_id: stored.id,
            incentive,
            alerts,
            figures,
            proposal,
            own,
            policy,
            data,
        })
    }

    /// Where the stored proposal stands against today's books under its own version.
    pub fn standing(&self) -> Option<cunji_core::workflow::Standing> {
        Some(self.proposal.as_ref()?.standing(self.own.as_ref()))
    }

    /// What is still to be given back of an overpayment, per person (empty when nothing is).
    pub fn outstanding(&self) -> BTreeMap<String, Fen> {
        self.standing().map(|s| s.outstanding).unwrap_or_default()
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
        return compute(state, &now, (village, year), user).await;
    }
    let Some(p) = &now.proposal else {
        return Err(WebError::Invalid("尚未生成奖励方案".into()));
    };
    let store = user.store(state);
    let today = Date::today_beijing();
    match input {
        StepInput::Resolve(res) => {
            store.record_resolution(p.id, &res, today, who).await?;
            Ok("已录入村级决议".into())
        }
        StepInput::Pay { date, paid } => {
            let paid = if paid.is_empty() { decided(p) } else { paid };
            store.record_payment(p.id, date, &paid, today, who).await?;
            Ok("已登记发放".into())
        }
        StepInput::Publish { from, to } => {
            store.record_notice(p.id, (from, to), today, who).await?;
            Ok(format!(
                "当前：{}",
                cunji_core::workflow::Status::Published.name_zh()
            ))
        }
        StepInput::Recover { date, amounts } => {
            let outstanding = now.outstanding();
            if outstanding.is_empty() {
                return Err(WebError::Invalid("按现在的账目没有应追回的金额".into()));
            }
            store
                .record_recovery(p.id, date, &amounts, &outstanding, today, who)
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
    user: &User,
) -> Result<String, WebError> {
    let who = user.username.as_str();
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
    user.store(state)
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
