//! Evaluating a plan for one village and year (SPEC §6 steps 1–8), writing a zh-CN trace of each
//! step taken.

use std::collections::BTreeMap;

use crate::cadre::{Cadre, Role};
use crate::incentive::plan::{Basis, Plan, Schedule, Tier, TierKey};
use crate::incentive::split::split_with_caps;
use crate::money::{round_div, Fen};
use crate::rate::{Ppm, PPM};

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
        Fen::from_fen(self.awards.iter().map(|a| a.amount.fen()).sum())
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

/// Evaluates `plan` for one village. `policy_name` names the clause source in the trace.
pub fn evaluate(
    plan: &Plan,
    policy_name: &str,
    v: &VillageFigures<'_>,
) -> Result<IncentiveResult, IncentiveError> {
    let mut trace = Vec::new();
    let mut out = IncentiveResult {
        measure: None,
        base: None,
        pool: Fen::ZERO,
        reason: None,
        awards: Vec::new(),
        unallocated: Fen::ZERO,
        trace: Vec::new(),
    };
    let y = v.year;
    let m = &plan.measure;

    // Step 1: the measure.
    let Some(current) = v.current else {
        out.reason = Some(Reason::NoData);
        return Ok(out);
    };
    out.measure = Some(current);
    trace.push(format!(
        "依据《{policy_name}》〔incentive〕，口径为{}（{}）= {}；{y} 年为 {} 元。",
        m.name,
        m.key,
        m.formula_zh(),
        current
    ));
    if plan.allow_subsidy_in_measure && m.counts_subsidies() {
        trace.push(
            "注意：本方案口径计入补助收入（allow_subsidy_in_measure = true），增长中可能含上级补助。"
                .to_string(),
        );
    }

    // Step 2: the base.
    let base = match &plan.basis {
        Basis::Increase => match v.earlier.get(&(y - 1)) {
            Some(prev) => {
                let b = Fen::from_fen(current.fen() - prev.fen());
                trace.push(format!(
                    "基数（basis = increase，比上年增长）：{y} 年 {current} 元 − {} 年 {prev} 元 = {b} 元。",
                    y - 1
                ));
                b
            }
            None => {
                trace.push(format!(
                    "基数（basis = increase）：{} 年无账，无法比较。",
                    y - 1
                ));
                return Ok(finish_zero(out, trace, Reason::NoPriorYear));
            }
        },
        Basis::IncreaseOverBest { lookback_years } => {
            let from = lookback_years.map(|n| y - n as i32).unwrap_or(i32::MIN);
            let best = v
                .earlier
                .range(from..y)
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
            let window = match lookback_years {
                Some(n) => format!("前 {n} 年（{}–{} 年）", y - *n as i32, y - 1),
                None => "以往各年".to_string(),
            };
            match best {
                Some((best_year, best_value)) => {
                    let b = Fen::from_fen(current.fen() - best_value.fen());
                    trace.push(format!(
                        "基数（basis = increase_over_best，比{window}最高值增长）：最高为 {best_year} 年 {best_value} 元；{current} 元 − {best_value} 元 = {b} 元。"
                    ));
                    b
                }
                None => {
                    trace.push(format!(
                        "基数（basis = increase_over_best）：{window}均无账，无法比较。"
                    ));
                    return Ok(finish_zero(out, trace, Reason::NoPriorYear));
                }
            }
        }
        Basis::IncreaseOverYear { base_year } => {
            let prev = if *base_year < y {
                v.earlier.get(base_year)
            } else {
                None
            };
            match prev {
                Some(prev) => {
                    let b = Fen::from_fen(current.fen() - prev.fen());
                    trace.push(format!(
                        "基数（basis = increase_over_year，比 {base_year} 年增长）：{current} 元 − {prev} 元 = {b} 元。"
                    ));
                    b
                }
                None => {
                    trace.push(format!(
                        "基数（basis = increase_over_year）：基准年 {base_year} 年无账或不早于 {y} 年，无法比较。"
                    ));
                    return Ok(finish_zero(out, trace, Reason::NoPriorYear));
                }
            }
        }
        Basis::Level => {
            trace.push(format!("基数（basis = level，按当年水平）：{current} 元。"));
            current
        }
        Basis::Above { threshold } => {
            let b = Fen::from_fen(current.fen() - threshold.fen());
            trace.push(format!(
                "基数（basis = above，超过 {threshold} 元的部分）：{current} 元 − {threshold} 元 = {b} 元。"
            ));
            b
        }
    };
    out.base = Some(base);
    if base.fen() <= 0 {
        trace.push("基数不大于 0，无增长，不计奖励。".to_string());
        return Ok(finish_zero(out, trace, Reason::NoGrowth));
    }

    // Step 3: gates.
    if let Some(min) = plan.min_level {
        if current < min {
            trace.push(format!(
                "门槛（min_level）：{y} 年 {current} 元，低于最低 {min} 元，不计奖励。"
            ));
            return Ok(finish_zero(out, trace, Reason::BelowMinLevel));
        }
        trace.push(format!(
            "门槛（min_level）：{current} 元 ≥ {min} 元，满足。"
        ));
    }
    if let Some(min) = plan.min_base {
        if base < min {
            trace.push(format!(
                "门槛（min_base）：基数 {base} 元，低于最低 {min} 元，不计奖励。"
            ));
            return Ok(finish_zero(out, trace, Reason::BelowMinBase));
        }
        trace.push(format!(
            "门槛（min_base）：基数 {base} 元 ≥ {min} 元，满足。"
        ));
    }

    // Step 4: schedule → raw amount, exact, in millionths of a fen.
    let raw: i128 = match &plan.schedule {
        Schedule::Flat { rate } => {
            let r = base.fen() as i128 * rate.ppm() as i128;
            trace.push(format!(
                "计提（schedule = flat）：{base} 元 × {rate} = {} 元。",
                micro_yuan(r)
            ));
            r
        }
        Schedule::Whole { tier_key, tiers } => {
            let (key, key_name) = match tier_key {
                TierKey::Base => (base, "基数"),
                TierKey::Level => (current, "当年口径值"),
            };
            let Some(tier) = tiers.iter().rev().find(|t| t.from <= key) else {
                trace.push(format!(
                    "计提（schedule = whole）：{key_name} {key} 元低于首档起点 {} 元，不计奖励。",
                    tiers.first().map(|t| t.from).unwrap_or_default()
                ));
                return Ok(finish_zero(out, trace, Reason::BelowFirstTier));
            };
            let r = base.fen() as i128 * tier.rate.ppm() as i128;
            trace.push(format!(
                "计提（schedule = whole，全额累进）：{key_name} {key} 元落在 {} 元起一档，比例 {}；{base} 元 × {} = {} 元。",
                tier.from,
                tier.rate,
                tier.rate,
                micro_yuan(r)
            ));
            r
        }
        Schedule::Marginal { tiers } => {
            let first = tiers.first().map(|t| t.from).unwrap_or_default();
            if base <= first {
                trace.push(format!(
                    "计提（schedule = marginal）：基数 {base} 元不超过首档起点 {first} 元，不计奖励。"
                ));
                return Ok(finish_zero(out, trace, Reason::BelowFirstTier));
            }
            let (r, parts) = marginal(base, tiers);
            trace.push(format!(
                "计提（schedule = marginal，超额累进）：{} = {} 元。",
                parts.join(" + "),
                micro_yuan(r)
            ));
            r
        }
    };

    // Step 5: caps.
    let mut pool_raw = raw;
    if let Some(cap) = plan.cap {
        let c = cap.fen() as i128 * PPM as i128;
        if pool_raw > c {
            trace.push(format!("封顶（cap）：每村不超过 {cap} 元，按 {cap} 元计。"));
            pool_raw = c;
        } else {
            trace.push(format!("封顶（cap）：每村不超过 {cap} 元，未触及。"));
        }
    }
    if !plan.cap_by_level.is_empty() {
        let Some(lc) = plan.cap_by_level.iter().rev().find(|c| c.from <= current) else {
            trace.push(format!(
                "封顶（cap_by_level）：{current} 元低于分档封顶的首档 {} 元，不计奖励。",
                plan.cap_by_level[0].from
            ));
            return Ok(finish_zero(out, trace, Reason::BelowFirstTier));
        };
        let c = lc.cap.fen() as i128 * PPM as i128;
        if pool_raw > c {
            trace.push(format!(
                "封顶（cap_by_level）：{current} 元落在 {} 元起一档，封顶 {} 元，按 {} 元计。",
                lc.from, lc.cap, lc.cap
            ));
            pool_raw = c;
        } else {
            trace.push(format!(
                "封顶（cap_by_level）：{current} 元落在 {} 元起一档，封顶 {} 元，未触及。",
                lc.from, lc.cap
            ));
        }
    }

    // Step 6: round once.
    let pool = Fen::from_fen(round_div(pool_raw, PPM as i128) as i64);
    out.pool = pool;
    trace.push(format!(
        "取整（四舍五入到分）：奖励总额（上限）{pool} 元；实际发放可以更少，不能更多。"
    ));
    if pool.fen() == 0 {
        return Ok(finish_zero(out, trace, Reason::ZeroPool));
    }

    // Step 7: split.
    let mut people: Vec<&Cadre> = v.cadres.iter().filter(|c| c.year == y).collect();
    people.sort_by(|a, b| a.person.cmp(&b.person));
    let mut eligible: Vec<(&Cadre, u128)> = Vec::new();
    for c in &people {
        let role_weight = plan.weights.get(&c.role).copied().unwrap_or(0);
        let weight = if plan.prorate_by_months {
            role_weight as u128 * c.months_in_post as u128
        } else {
            role_weight as u128
        };
        let who = format!("{}（{}，{}）", c.person, c.name, c.role.name_zh());
        if weight == 0 {
            trace.push(format!("{who}：权重为 0，不参与分配。"));
        } else if c.months_in_post < plan.min_months {
            trace.push(format!(
                "{who}：任职 {} 个月，少于 {} 个月（min_months），不参与分配。",
                c.months_in_post, plan.min_months
            ));
        } else if c.sanctioned {
            trace.push(format!("{who}：受处分或在影响期内，不参与分配。"));
        } else {
            eligible.push((c, weight));
        }
    }
    if eligible.is_empty() {
        out.unallocated = pool;
        trace.push(format!("无符合条件的村干部，奖励总额 {pool} 元未分配。"));
        return Ok(finish(out, trace, Some(Reason::NoEligibleCadre)));
    }
    let weights: Vec<u128> = eligible.iter().map(|(_, w)| *w).collect();
    let caps: Vec<Option<i64>> = eligible
        .iter()
        .map(|(c, _)| {
            plan.max_share
                .get(&c.role)
                .map(|s| (pool.fen() as i128 * s.ppm() as i128 / PPM as i128) as i64)
        })
        .collect();
    let total_weight: u128 = weights.iter().sum();
    let weight_note = if plan.prorate_by_months {
        "（角色权重 × 任职月数）"
    } else {
        ""
    };
    trace.push(format!(
        "分配：符合条件 {} 人，权重{weight_note}合计 {total_weight}，按最大余额法分到分。",
        eligible.len()
    ));
    let split = split_with_caps(pool.fen(), &weights, &caps);
    let mut unallocated = split.unallocated;

    // Step 8: appraisal, per person.
    for (i, (c, w)) in eligible.iter().enumerate() {
        let share = Fen::from_fen(split.shares[i]);
        let mut line = format!(
            "{}（{}，{}）：权重 {w}，份额 {share} 元",
            c.person,
            c.name,
            c.role.name_zh()
        );
        if split.capped[i] {
            let s = plan.max_share[&c.role];
            line.push_str(&format!(
                "（{}最多分得总额的 {s}，即 {} 元，已封顶）",
                c.role.name_zh(),
                Fen::from_fen(caps[i].unwrap_or(0))
            ));
        }
        let amount = match &plan.appraisal {
            None => share,
            Some(table) => match &c.appraisal {
                None => {
                    line.push_str("；无考核等次，发放 0 元");
                    Fen::ZERO
                }
                Some(rating) => {
                    let Some(mult) = table.get(rating) else {
                        return Err(IncentiveError::UnknownRating {
                            village: v.village.to_string(),
                            person: c.person.clone(),
                            name: c.name.clone(),
                            rating: rating.clone(),
                        });
                    };
                    let amt = Fen::from_fen(round_div(
                        share.fen() as i128 * mult.ppm() as i128,
                        PPM as i128,
                    ) as i64);
                    line.push_str(&format!(
                        "；考核“{rating}”× {}，发放 {amt} 元",
                        pct_or_one(*mult)
                    ));
                    amt
                }
            },
        };
        line.push('。');
        trace.push(line);
        unallocated += share.fen() - amount.fen();
        out.awards.push(Award {
            person: c.person.clone(),
            name: c.name.clone(),
            role: c.role,
            share,
            appraisal: c.appraisal.clone(),
            amount,
        });
    }
    out.unallocated = Fen::from_fen(unallocated);
    if unallocated != 0 {
        trace.push(format!(
            "未分配 {} 元（封顶或考核扣减）。",
            Fen::from_fen(unallocated)
        ));
    }
    Ok(finish(out, trace, None))
}

fn finish_zero(out: IncentiveResult, trace: Vec<String>, reason: Reason) -> IncentiveResult {
    let mut out = finish(out, trace, Some(reason));
    out.pool = Fen::ZERO;
    out.unallocated = Fen::ZERO;
    out.awards.clear();
    out
}

fn finish(mut out: IncentiveResult, trace: Vec<String>, reason: Option<Reason>) -> IncentiveResult {
    out.reason = reason;
    out.trace = trace;
    if let Some(r) = reason {
        out.trace
            .push(format!("结论：{}（{}）。", r.name_zh(), r.key()));
    }
    out
}

/// Σ rate_i × (part of `base` between from_i and from_{i+1}), in millionths of a fen, with the terms
/// for the trace.
pub fn marginal(base: Fen, tiers: &[Tier]) -> (i128, Vec<String>) {
    let mut total: i128 = 0;
    let mut parts = Vec::new();
    for (i, t) in tiers.iter().enumerate() {
        let upper = tiers.get(i + 1).map(|n| n.from.fen()).unwrap_or(i64::MAX);
        let part = (base.fen().min(upper) - t.from.fen()).max(0);
        if part == 0 {
            continue;
        }
        total += part as i128 * t.rate.ppm() as i128;
        parts.push(format!("{} 元 × {}", Fen::from_fen(part), t.rate));
    }
    (total, parts)
}

/// An exact amount in millionths of a fen, shown in yuan with as many decimals as it needs.
pub fn micro_yuan(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let unit: u128 = 100 * PPM as u128; // millionths of a fen per yuan
    let whole = Fen::from_fen((a / unit) as i64 * 100).display();
    let whole = whole.trim_end_matches(".00");
    let frac = a % unit;
    let frac = format!("{frac:08}");
    let mut frac = frac.trim_end_matches('0').to_string();
    while frac.len() < 2 {
        frac.push('0');
    }
    format!("{sign}{whole}.{frac}")
}

fn pct_or_one(p: Ppm) -> String {
    p.percent()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_exact_raw_amounts() {
        assert_eq!(micro_yuan(234_567_800_000), "2,345.678");
        assert_eq!(micro_yuan(100_000_000), "1.00");
        assert_eq!(micro_yuan(-150_000_000), "-1.50");
        assert_eq!(micro_yuan(1), "0.00000001");
    }
}
