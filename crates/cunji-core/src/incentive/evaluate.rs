//! Evaluating a plan for one village and year (SPEC §6 steps 1–8), writing a zh-CN trace of each
//! step taken.

use super::steps::Trace;
use crate::incentive::plan::Plan;
use crate::money::Fen;

pub use super::outcome::{Award, IncentiveError, IncentiveResult, Reason, VillageFigures};
pub use super::steps::marginal;

/// Evaluates `plan` for one village (SPEC §6). `policy_name` names the clause source in the trace.
/// Each step is a function of `steps`: it writes its sentence to the trace and either goes on or
/// ends the evaluation with a pool of 0 and its reason.
pub fn evaluate(
    plan: &Plan,
    policy_name: &str,
    v: &VillageFigures<'_>,
) -> Result<IncentiveResult, IncentiveError> {
    let (out, _) = evaluate_told(plan, policy_name, v, false)?;
    Ok(out)
}

/// `evaluate`, and with `story` the same steps told for villagers (SPEC §15): plain sentences with
/// the trace's numbers and no policy keys or person ids.
pub fn evaluate_told(
    plan: &Plan,
    policy_name: &str,
    v: &VillageFigures<'_>,
    story: bool,
) -> Result<(IncentiveResult, Option<Vec<String>>), IncentiveError> {
    let mut out = IncentiveResult {
        measure: None,
        base: None,
        pool: Fen::ZERO,
        reason: None,
        awards: Vec::new(),
        unallocated: Fen::ZERO,
        trace: Vec::new(),
    };
    let mut trace = Trace::new(story);
    // Step 1: the measure.
    let Some(current) = v.current else {
        out.reason = Some(Reason::NoData);
        trace.tell(|| format!("{} 年本村没有账，不发奖励。", v.year));
        return Ok((out, trace.story));
    };
    out.measure = Some(current);
    super::steps::measure(plan, policy_name, v.year, current, &mut trace);
    // Steps 2–6: the base, the gates, the schedule, the caps and the one rounding.
    let pool = match super::steps::pool(plan, v, current, &mut out.base, &mut trace) {
        Ok(pool) => pool,
        Err(reason) => return Ok(finish_zero(out, trace, reason)),
    };
    out.pool = pool;
    // Step 7: who shares.
    let eligible = super::steps::eligible(plan, v, &mut trace);
    if eligible.is_empty() {
        out.unallocated = pool;
        trace.push(format!("无符合条件的村干部，奖励总额 {pool} 元未分配。"));
        trace.tell(|| format!("没有符合条件的村干部，这 {pool} 元不发放。"));
        return Ok(finish(out, trace, Some(Reason::NoEligibleCadre)));
    }
    // Steps 7–8: the split, and each person's appraisal.
    let (awards, unallocated) = super::steps::awards(plan, v.village, pool, &eligible, &mut trace)?;
    out.awards = awards;
    out.unallocated = unallocated;
    if !unallocated.is_zero() {
        trace.push(format!("未分配 {unallocated} 元（封顶或考核扣减）。"));
        trace.tell(|| format!("其余 {unallocated} 元因封顶或考核没有分出，不发放。"));
    }
    Ok(finish(out, trace, None))
}

type Told = (IncentiveResult, Option<Vec<String>>);

fn finish_zero(out: IncentiveResult, trace: Trace, reason: Reason) -> Told {
    let (mut out, story) = finish(out, trace, Some(reason));
    out.pool = Fen::ZERO;
    out.unallocated = Fen::ZERO;
    out.awards.clear();
    (out, story)
}

fn finish(mut out: IncentiveResult, trace: Trace, reason: Option<Reason>) -> Told {
    out.reason = reason;
    out.trace = trace.lines;
    if let Some(r) = reason {
        out.trace
            .push(format!("结论：{}（{}）。", r.name_zh(), r.key()));
    }
    (out, trace.story)
}

/// Raw amounts are shown as money shows them (`crate::money`).
pub use crate::money::micro_yuan;
