//! Evaluating a plan for one village and year (SPEC §6 steps 1–8), writing a zh-CN trace of each
//! step taken.

use std::collections::BTreeMap;

use super::steps::Trace;
use crate::cadre::{Cadre, Role};
use crate::incentive::plan::{Plan, Tier};
use crate::money::{Fen, FenSum};
use crate::rate::Ppm;

/// Why a village's pool is 0 or not split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    NoData,
    NoPriorYear,
    NoGrowth,
    BelowMinLevel,
    BelowMinBase,
    BelowFirstTier,
    ZeroPool,
    NoEligibleCadre,
}

impl Reason {
    pub fn key(self) -> &'static str {
        match self {
            Reason::NoData => "no_data",
            Reason::NoPriorYear => "no_prior_year",
            Reason::NoGrowth => "no_growth",
            Reason::BelowMinLevel => "below_min_level",
            Reason::BelowMinBase => "below_min_base",
            Reason::BelowFirstTier => "below_first_tier",
            Reason::ZeroPool => "zero_pool",
            Reason::NoEligibleCadre => "no_eligible_cadre",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Reason::NoData => "当年无账",
            Reason::NoPriorYear => "无可比年度数据",
            Reason::NoGrowth => "无增长",
            Reason::BelowMinLevel => "未达最低收入门槛",
            Reason::BelowMinBase => "未达最低增长门槛",
            Reason::BelowFirstTier => "低于首档",
            Reason::ZeroPool => "奖励总额为零",
            Reason::NoEligibleCadre => "无符合条件的村干部",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Award {
    pub person: String,
    pub name: String,
    pub role: Role,
    pub share: Fen,
    pub appraisal: Option<String>,
    pub amount: Fen,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IncentiveResult {
    pub measure: Option<Fen>,
    pub base: Option<Fen>,
    pub pool: Fen,
    pub reason: Option<Reason>,
    pub awards: Vec<Award>,
    pub unallocated: Fen,
    pub trace: Vec<String>,
}

impl IncentiveResult {
    /// What the awards pay in all (the pool less what is unallocated).
    pub fn awarded(&self) -> Fen {
        FenSum::of(self.awards.iter().map(|a| a.amount)).saturated()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncentiveError {
    #[error(
        "村 {village} 的 {person}（{name}）考核等次为“{rating}”，政策的 appraisal 表中没有这一等次"
    )]
    UnknownRating {
        village: String,
        person: String,
        name: String,
        rating: String,
    },
}

/// What the evaluation needs to know of one village.
pub struct VillageFigures<'a> {
    pub village: &'a str,
    pub year: i32,
    /// `M(y)` from the village's own entries; `None` without data.
    pub current: Option<Fen>,
    /// `M(t)` for earlier years t with data, compared per SPEC §2 (predecessors added in).
    pub earlier: &'a BTreeMap<i32, Fen>,
    /// The village's cadres for year y, in any order.
    pub cadres: &'a [Cadre],
}

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

/// Σ rate_i × (part of `base` between from_i and from_{i+1}), in millionths of a fen, with the terms
/// for the trace.
pub fn marginal(base: Fen, tiers: &[Tier]) -> (i128, Vec<String>) {
    let mut total: i128 = 0;
    let mut parts = Vec::new();
    for (i, t) in tiers.iter().enumerate() {
        let top = tiers.get(i + 1).map_or(base, |n| base.min(n.from));
        let part = top.saturating_sub(t.from).or_zero();
        if part.is_zero() {
            continue;
        }
        total += part.micros(t.rate);
        parts.push(format!("{part} 元 × {}", t.rate));
    }
    (total, parts)
}

/// Raw amounts are shown as money shows them (`crate::money`).
pub use crate::money::micro_yuan;

pub(super) fn pct_or_one(p: Ppm) -> String {
    p.percent()
}
