//! The steps of SPEC §6, one function each, as `evaluate` takes them. A step writes its sentence to
//! the trace; one that ends the evaluation returns the reason (`Err(Reason)`), and `evaluate` then
//! reports a pool of 0 with that reason.

use super::outcome::{Award, IncentiveError, Reason, VillageFigures};
use crate::cadre::Cadre;
use crate::incentive::plan::{Basis, Plan, Schedule, Tier, TierKey};
use crate::incentive::split::split_with_caps;
use crate::money::{micro_yuan, Fen};
use crate::rate::Ppm;

/// The trace of SPEC §6 and, when asked for, the same steps told for villagers (SPEC §15): the
/// same numbers in plain words, without policy keys or person ids.
pub(super) struct Trace {
    pub lines: Vec<String>,
    pub story: Option<Vec<String>>,
}

impl Trace {
    pub fn new(story: bool) -> Trace {
        Trace {
            lines: Vec::new(),
            story: story.then(Vec::new),
        }
    }

    pub fn push(&mut self, line: String) {
        self.lines.push(line);
    }

    /// A sentence for villagers, made only when the story is asked for: a province report traces
    /// 48,000 villages and tells none of them.
    pub fn tell(&mut self, line: impl FnOnce() -> String) {
        if let Some(story) = &mut self.story {
            story.push(line());
        }
    }
}

/// What the base is called in the story: the growth, the year's level, or the part above a line.
fn base_word(plan: &Plan) -> &str {
    match plan.basis {
        Basis::Level => &plan.measure.name,
        Basis::Above { .. } => "超出部分",
        _ => "增加额",
    }
}

/// Step 1: the measure and its formula.
pub(super) fn measure(plan: &Plan, policy_name: &str, y: i32, current: Fen, trace: &mut Trace) {
    let m = &plan.measure;
    trace.push(format!(
        "依据《{policy_name}》〔incentive〕，口径为{}（{}）= {}；{y} 年为 {} 元。",
        m.name,
        m.key,
        m.formula_zh(),
        current
    ));
    trace.tell(|| {
        format!(
            "按《{policy_name}》计算。{y} 年本村{}为 {current} 元（{}）。",
            m.name,
            m.formula_zh()
        )
    });
    if plan.allow_subsidy_in_measure && m.counts_subsidies() {
        trace.push(
            "注意：本方案口径计入补助收入（allow_subsidy_in_measure = true），增长中可能含上级补助。"
                .to_string(),
        );
        trace.tell(|| "按这个办法，上级补助收入也算在内，所以增长中可能有补助的部分。".to_string());
    }
}

/// Steps 2–6: the base (written to `base` once known), the gates, the schedule's raw amount, the
/// caps, and the one rounding to fen: the pool.
pub(super) fn pool(
    plan: &Plan,
    v: &VillageFigures<'_>,
    current: Fen,
    base_out: &mut Option<Fen>,
    trace: &mut Trace,
) -> Result<Fen, Reason> {
    let base = base(plan, v, current, trace)?;
    *base_out = Some(base);
    if !base.is_positive() {
        trace.push("基数不大于 0，无增长，不计奖励。".to_string());
        trace.tell(|| format!("{}不大于 0，按办法不发奖励。", base_word(plan)));
        return Err(Reason::NoGrowth);
    }
    gates(plan, v.year, current, base, trace)?;
    let raw = schedule(plan, current, base, trace)?;
    let capped = caps(plan, current, raw, trace)?;
    let pool = Fen::round_micros(capped);
    trace.push(format!(
        "取整（四舍五入到分）：奖励总额（上限）{pool} 元；实际发放可以更少，不能更多。"
    ));
    trace.tell(|| match pool.is_zero() {
        true => "四舍五入到分为 0 元，不发奖励。".to_string(),
        _ => {
            format!("四舍五入到分，奖励总额最多 {pool} 元。这是上限：村里可以决定少发，不能多发。")
        }
    });
    if pool.is_zero() {
        return Err(Reason::ZeroPool);
    }
    Ok(pool)
}

/// Step 2: the base by `basis` (comparisons with earlier years follow SPEC §2).
fn base(
    plan: &Plan,
    v: &VillageFigures<'_>,
    current: Fen,
    trace: &mut Trace,
) -> Result<Fen, Reason> {
    let y = v.year;
    match &plan.basis {
        Basis::Increase => match v.earlier.get(&(y - 1)) {
            Some(prev) => {
                let b = current.saturating_sub(*prev);
                trace.push(format!(
                    "基数（basis = increase，比上年增长）：{y} 年 {current} 元 − {} 年 {prev} 元 = {b} 元。",
                    y - 1
                ));
                trace.tell(|| format!("比 {} 年的 {prev} 元{}。", y - 1, change(b)));
                Ok(b)
            }
            None => {
                trace.push(format!(
                    "基数（basis = increase）：{} 年无账，无法比较。",
                    y - 1
                ));
                trace.tell(|| format!("{} 年没有账，无法比较增长，按办法不发奖励。", y - 1));
                Err(Reason::NoPriorYear)
            }
        },
        Basis::IncreaseOverBest { lookback_years } => {
            increase_over_best(v, *lookback_years, current, trace)
        }
        Basis::IncreaseOverYear { base_year } => {
            let prev = if *base_year < y {
                v.earlier.get(base_year)
            } else {
                None
            };
            match prev {
                Some(prev) => {
                    let b = current.saturating_sub(*prev);
                    trace.push(format!(
                        "基数（basis = increase_over_year，比 {base_year} 年增长）：{current} 元 − {prev} 元 = {b} 元。"
                    ));
                    trace.tell(|| {
                        format!("办法按比 {base_year} 年增长多少计算：比 {base_year} 年的 {prev} 元{}。", change(b))
                    });
                    Ok(b)
                }
                None => {
                    trace.push(format!(
                        "基数（basis = increase_over_year）：基准年 {base_year} 年无账或不早于 {y} 年，无法比较。"
                    ));
                    trace.tell(|| {
                        format!("办法按比 {base_year} 年增长多少计算，但那一年没有账，无法比较，不发奖励。")
                    });
                    Err(Reason::NoPriorYear)
                }
            }
        }
        Basis::Level => {
            trace.push(format!("基数（basis = level，按当年水平）：{current} 元。"));
            trace.tell(|| format!("办法按当年{}计算，即 {current} 元。", plan.measure.name));
            Ok(current)
        }
        Basis::Above { threshold } => {
            let b = current.saturating_sub(*threshold);
            trace.push(format!(
                "基数（basis = above，超过 {threshold} 元的部分）：{current} 元 − {threshold} 元 = {b} 元。"
            ));
            trace.tell(|| {
                format!(
                    "办法按超过 {threshold} 元的部分计算：{current} 元 − {threshold} 元 = {b} 元。"
                )
            });
            Ok(b)
        }
    }
}

/// `增加 12.00 元`, `减少 3.00 元` or `持平` — how the year compares.
fn change(b: Fen) -> String {
    match b {
        b if b.is_zero() => "持平".to_string(),
        b if b.is_positive() => format!("增加 {b} 元"),
        b => format!("减少 {} 元", -b),
    }
}

/// A high-water mark: growth over the best earlier year of the window (recovering from a dip is not
/// growth).
fn increase_over_best(
    v: &VillageFigures<'_>,
    lookback_years: Option<u32>,
    current: Fen,
    trace: &mut Trace,
) -> Result<Fen, Reason> {
    let y = v.year;
    let from = lookback_years.map(|n| y - n as i32).unwrap_or(i32::MIN);
    let best = v
        .earlier
        .range(from..y)
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
    let window = match lookback_years {
        Some(n) => format!("前 {n} 年（{}–{} 年）", y - n as i32, y - 1),
        None => "以往各年".to_string(),
    };
    match best {
        Some((best_year, best_value)) => {
            let b = current.saturating_sub(*best_value);
            trace.push(format!(
                "基数（basis = increase_over_best，比{window}最高值增长）：最高为 {best_year} 年 {best_value} 元；{current} 元 − {best_value} 元 = {b} 元。"
            ));
            trace.tell(|| {
                format!("办法按比{window}最高的一年增长多少计算：最高是 {best_year} 年的 {best_value} 元，比它{}。", change(b))
            });
            Ok(b)
        }
        None => {
            trace.push(format!(
                "基数（basis = increase_over_best）：{window}均无账，无法比较。"
            ));
            trace.tell(|| format!("{window}都没有账，无法比较增长，按办法不发奖励。"));
            Err(Reason::NoPriorYear)
        }
    }
}

/// Step 3: `min_level` on the measure, then `min_base` on the base.
fn gates(plan: &Plan, y: i32, current: Fen, base: Fen, trace: &mut Trace) -> Result<(), Reason> {
    let level = format!("{current} 元");
    let told = format!("本村{}", plan.measure.name);
    gate(
        (plan.min_level, current),
        ("min_level", &told),
        (&format!("{y} 年 {level}"), &level),
        trace,
    )
    .ok_or(Reason::BelowMinLevel)?;
    let based = format!("基数 {base} 元");
    let told = format!("本村{}", base_word(plan));
    gate(
        (plan.min_base, base),
        ("min_base", &told),
        (&based, &based),
        trace,
    )
    .ok_or(Reason::BelowMinBase)
}

/// One threshold: `None` when `value` is below `min` (the trace says so with `shown.0`), else the
/// trace says it is met (with `shown.1`); the story names the value as `told`.
fn gate(
    (min, value): (Option<Fen>, Fen),
    (key, told): (&str, &str),
    shown: (&str, &str),
    trace: &mut Trace,
) -> Option<()> {
    let Some(min) = min else { return Some(()) };
    if value < min {
        trace.push(format!(
            "门槛（{key}）：{}，低于最低 {min} 元，不计奖励。",
            shown.0
        ));
        trace.tell(|| {
            format!("办法要求{told}至少 {min} 元，本村是 {value} 元，没有达到，不发奖励。")
        });
        return None;
    }
    trace.push(format!("门槛（{key}）：{} ≥ {min} 元，满足。", shown.1));
    trace.tell(|| format!("办法要求{told}至少 {min} 元，本村是 {value} 元，已达到。"));
    Some(())
}

/// Step 4: the schedule's raw amount, exact, in millionths of a fen.
fn schedule(plan: &Plan, current: Fen, base: Fen, trace: &mut Trace) -> Result<i128, Reason> {
    match &plan.schedule {
        Schedule::Flat { rate } => {
            let r = base.micros(*rate);
            trace.push(format!(
                "计提（schedule = flat）：{base} 元 × {rate} = {} 元。",
                micro_yuan(r)
            ));
            trace.tell(|| {
                format!(
                    "按办法，奖励不超过{}的 {rate}：{base} 元 × {rate} = {} 元。",
                    base_word(plan),
                    micro_yuan(r)
                )
            });
            Ok(r)
        }
        Schedule::Whole { tier_key, tiers } => {
            whole(plan, (*tier_key, tiers), current, base, trace)
        }
        Schedule::Marginal { tiers } => {
            let first = tiers.first().map(|t| t.from).unwrap_or_default();
            if base <= first {
                trace.push(format!(
                    "计提（schedule = marginal）：基数 {base} 元不超过首档起点 {first} 元，不计奖励。"
                ));
                trace.tell(|| {
                    format!(
                        "{} {base} 元没有超过起算点 {first} 元，按办法不发奖励。",
                        base_word(plan)
                    )
                });
                return Err(Reason::BelowFirstTier);
            }
            let (r, parts) = marginal(base, tiers);
            let parts = parts.join(" + ");
            trace.push(format!(
                "计提（schedule = marginal，超额累进）：{parts} = {} 元。",
                micro_yuan(r)
            ));
            trace.tell(|| {
                format!(
                    "按办法分段计算，每一段按自己的比例：{parts} = {} 元。",
                    micro_yuan(r)
                )
            });
            Ok(r)
        }
    }
}

/// Whole tiers: the tier the key falls in applies to the whole base.
fn whole(
    plan: &Plan,
    (tier_key, tiers): (TierKey, &[crate::incentive::plan::Tier]),
    current: Fen,
    base: Fen,
    trace: &mut Trace,
) -> Result<i128, Reason> {
    let (key, key_name, told) = match tier_key {
        TierKey::Base => (base, "基数", base_word(plan)),
        TierKey::Level => (current, "当年口径值", plan.measure.name.as_str()),
    };
    let Some(tier) = tiers.iter().rev().find(|t| t.from <= key) else {
        let first = tiers.first().map(|t| t.from).unwrap_or_default();
        trace.push(format!(
            "计提（schedule = whole）：{key_name} {key} 元低于首档起点 {first} 元，不计奖励。"
        ));
        trace.tell(|| format!("{told} {key} 元不到最低一档的 {first} 元，按办法不发奖励。"));
        return Err(Reason::BelowFirstTier);
    };
    let r = base.micros(tier.rate);
    let (from, rate) = (tier.from, tier.rate);
    trace.push(format!(
        "计提（schedule = whole，全额累进）：{key_name} {key} 元落在 {from} 元起一档，比例 {rate}；{base} 元 × {rate} = {} 元。",
        micro_yuan(r)
    ));
    trace.tell(|| {
        format!(
            "按办法分档计算：{told} {key} 元属于 {from} 元以上这一档，比例 {rate}；{base} 元 × {rate} = {} 元。",
            micro_yuan(r)
        )
    });
    Ok(r)
}

/// Step 5: `cap` and `cap_by_level` (raw amounts in millionths of a fen).
fn caps(plan: &Plan, current: Fen, raw: i128, trace: &mut Trace) -> Result<i128, Reason> {
    let mut pool_raw = raw;
    if let Some(cap) = plan.cap {
        let c = cap.as_micros();
        if pool_raw > c {
            trace.push(format!("封顶（cap）：每村不超过 {cap} 元，按 {cap} 元计。"));
            trace.tell(|| format!("办法规定每村最多 {cap} 元，所以按 {cap} 元计。"));
            pool_raw = c;
        } else {
            trace.push(format!("封顶（cap）：每村不超过 {cap} 元，未触及。"));
            trace.tell(|| format!("没有超过每村最多 {cap} 元的上限。"));
        }
    }
    if plan.cap_by_level.is_empty() {
        return Ok(pool_raw);
    }
    let name = &plan.measure.name;
    let Some(lc) = plan.cap_by_level.iter().rev().find(|c| c.from <= current) else {
        let first = plan.cap_by_level[0].from;
        trace.push(format!(
            "封顶（cap_by_level）：{current} 元低于分档封顶的首档 {first} 元，不计奖励。"
        ));
        trace.tell(|| {
            format!("{name} {current} 元不到分档上限最低一档的 {first} 元，按办法不发奖励。")
        });
        return Err(Reason::BelowFirstTier);
    };
    let (from, cap) = (lc.from, lc.cap);
    let c = cap.as_micros();
    let hit = pool_raw > c;
    let (said, told) = if hit {
        (format!("按 {cap} 元计"), format!("所以按 {cap} 元计"))
    } else {
        ("未触及".to_string(), "没有超过".to_string())
    };
    trace.push(format!(
        "封顶（cap_by_level）：{current} 元落在 {from} 元起一档，封顶 {cap} 元，{said}。"
    ));
    trace.tell(|| {
        format!("{name} {current} 元属于 {from} 元以上这一档，这一档最多 {cap} 元，{told}。")
    });
    if hit {
        pool_raw = c;
    }
    Ok(pool_raw)
}

/// Step 7, who shares: the year's cadres in person-id order, each with their weight, those left out
/// said in the trace.
pub(super) fn eligible<'c>(
    plan: &Plan,
    v: &VillageFigures<'c>,
    trace: &mut Trace,
) -> Vec<(&'c Cadre, u128)> {
    let mut people: Vec<&Cadre> = v.cadres.iter().filter(|c| c.year == v.year).collect();
    people.sort_by(|a, b| a.person.cmp(&b.person));
    let mut eligible = Vec::new();
    for c in people {
        let role_weight = plan.weights.get(&c.role).copied().unwrap_or(0);
        let weight = if plan.prorate_by_months {
            role_weight as u128 * c.months_in_post as u128
        } else {
            role_weight as u128
        };
        let who = format!("{}（{}，{}）", c.person, c.name, c.role.name_zh());
        let told = || format!("{}（{}）", c.name, c.role.name_zh());
        if weight == 0 {
            trace.push(format!("{who}：权重为 0，不参与分配。"));
            trace.tell(|| format!("{}按办法不参加分配。", told()));
        } else if c.months_in_post < plan.min_months {
            let (months, min) = (c.months_in_post, plan.min_months);
            trace.push(format!(
                "{who}：任职 {months} 个月，少于 {min} 个月（min_months），不参与分配。"
            ));
            trace.tell(|| {
                format!(
                    "{}任职 {months} 个月，不满 {min} 个月，不参加分配。",
                    told()
                )
            });
        } else if c.sanctioned {
            trace.push(format!("{who}：受处分或在影响期内，不参与分配。"));
            trace.tell(|| format!("{}受到处分或在处分影响期内，不参加分配。", told()));
        } else {
            eligible.push((c, weight));
        }
    }
    eligible
}

/// Steps 7–8: the split by the largest remainder with `max_share` caps, then each person's
/// appraisal; the awards and what no one takes.
pub(super) fn awards(
    plan: &Plan,
    village: &str,
    pool: Fen,
    eligible: &[(&Cadre, u128)],
    trace: &mut Trace,
) -> Result<(Vec<Award>, Fen), IncentiveError> {
    let weights: Vec<u128> = eligible.iter().map(|(_, w)| *w).collect();
    let caps: Vec<Option<Fen>> = eligible
        .iter()
        .map(|(c, _)| plan.max_share.get(&c.role).map(|s| pool.times_floor(*s)))
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
    trace.tell(|| {
        format!(
            "符合条件的 {} 人按权重{weight_note}分这 {pool} 元，每人分到分，不足一分的零头按余数从大到小补给。",
            eligible.len()
        )
    });
    // The split itself works in whole fen as plain integers (split.rs); amounts cross here.
    let raw_caps: Vec<Option<i64>> = caps.iter().map(|c| c.map(Fen::fen)).collect();
    let split = split_with_caps(pool.fen(), &weights, &raw_caps);
    let mut unallocated = Fen::from_fen(split.unallocated);
    let mut awards = Vec::with_capacity(eligible.len());
    for (i, (c, w)) in eligible.iter().enumerate() {
        let share = Fen::from_fen(split.shares[i]);
        let role = c.role.name_zh();
        let mut line = format!(
            "{}（{}，{role}）：权重 {w}，份额 {share} 元",
            c.person, c.name
        );
        let mut told = format!("{}（{role}）权重 {w}，分得 {share} 元", c.name);
        if split.capped[i] {
            let s = plan.max_share[&c.role];
            let cap = caps[i].unwrap_or(Fen::ZERO);
            line.push_str(&format!(
                "（{role}最多分得总额的 {s}，即 {cap} 元，已封顶）"
            ));
            told.push_str(&format!("（{role}最多分总额的 {s}，即 {cap} 元）"));
        }
        let amount = appraise(plan, village, c, share, (&mut line, &mut told))?;
        line.push('。');
        told.push('。');
        trace.push(line);
        trace.tell(|| told);
        unallocated = unallocated.saturating_add(share.saturating_sub(amount));
        awards.push(Award {
            person: c.person.clone(),
            name: c.name.clone(),
            role: c.role,
            share,
            appraisal: c.appraisal.clone(),
            amount,
        });
    }
    Ok((awards, unallocated))
}

/// Step 8 for one person: the share × the multiplier of their own rating, rounded to fen (without
/// a rating, 0); without an appraisal table, the share.
fn appraise(
    plan: &Plan,
    village: &str,
    c: &Cadre,
    share: Fen,
    (line, told): (&mut String, &mut String),
) -> Result<Fen, IncentiveError> {
    let Some(table) = &plan.appraisal else {
        return Ok(share);
    };
    let Some(rating) = &c.appraisal else {
        line.push_str("；无考核等次，发放 0 元");
        told.push_str("；没有考核等次，发 0 元");
        return Ok(Fen::ZERO);
    };
    let Some(mult) = table.get(rating) else {
        return Err(IncentiveError::UnknownRating {
            village: village.to_string(),
            person: c.person.clone(),
            name: c.name.clone(),
            rating: rating.clone(),
        });
    };
    let amt = share.times(*mult);
    let mult = pct_or_one(*mult);
    line.push_str(&format!("；考核“{rating}”× {mult}，发放 {amt} 元"));
    told.push_str(&format!("；考核“{rating}”，按 {mult} 发放 {amt} 元"));
    Ok(amt)
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

pub(super) fn pct_or_one(p: Ppm) -> String {
    p.percent()
}
