//! A policy as readable rules, one zh-CN sentence each, for the policy page.

use super::Policy;
use crate::incentive::plan::{Basis, Plan, Schedule, TierKey};

impl Policy {
    /// The policy as readable rules, one zh-CN sentence each.
    pub fn describe_zh(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.describe_scope_and_bands(&mut out);
        if let Some(pf) = self.describe_pay_floor_zh() {
            out.push(pf);
        }
        match &self.incentive {
            None => out.push("未设村干部激励办法。".into()),
            Some(p) => describe_plan(p, &mut out),
        }
        out
    }

    /// Where and when the policy applies, its own measures, its bands and targets.
    fn describe_scope_and_bands(&self, out: &mut Vec<String>) {
        if let Some(r) = &self.region {
            out.push(format!("适用区划：代码以 {r} 开头的地区。"));
        }
        if let Some((a, b)) = self.years {
            out.push(format!("有效年度：{a}–{b} 年。"));
        }
        for m in &self.custom_measures {
            out.push(format!(
                "自定义口径“{}”（{}）= {}。",
                m.name,
                m.key,
                m.formula_zh()
            ));
        }
        if let Some(b) = &self.bands {
            let name = self
                .measure(&b.measure)
                .map(|m| m.name)
                .unwrap_or_else(|| b.measure.clone());
            let parts: Vec<String> = b
                .bands
                .iter()
                .map(|x| match x.min {
                    None => format!("“{}”", x.name),
                    Some(m) => format!("“{}”（≥ {} 元）", x.name, m),
                })
                .collect();
            out.push(format!("分档：按{name}分为 {}。", parts.join("、")));
        }
        for t in &self.targets {
            let band = |i: usize| {
                self.bands
                    .as_ref()
                    .map(|b| b.bands[i].name.clone())
                    .unwrap_or_default()
            };
            out.push(match &t.rule {
                crate::bands::TargetRule::ShareAtLeast { band: b, share } => {
                    format!(
                        "目标“{}”：到 {} 年，“{}”及以上的村占有账村的比例不低于 {share}。",
                        t.name,
                        t.year,
                        band(*b)
                    )
                }
                crate::bands::TargetRule::CountAtMost { band: b, count } => {
                    format!(
                        "目标“{}”：到 {} 年，低于“{}”的村不超过 {count} 个。",
                        t.name,
                        t.year,
                        band(*b)
                    )
                }
            });
        }
    }
}

/// The incentive plan: measure, base, gates, schedule, caps, split and appraisal.
fn describe_plan(p: &Plan, out: &mut Vec<String>) {
    out.push(format!(
        "激励口径：{}（{}）。",
        p.measure.name,
        p.measure.formula_zh()
    ));
    if p.allow_subsidy_in_measure && p.measure.counts_subsidies() {
        out.push("注意：口径计入补助收入。".into());
    }
    out.push(match &p.basis {
        Basis::Increase => "基数：比上年的增长额。".into(),
        Basis::IncreaseOverBest {
            lookback_years: Some(n),
        } => format!("基数：比前 {n} 年最高值的增长额。"),
        Basis::IncreaseOverBest {
            lookback_years: None,
        } => "基数：比以往最高值的增长额。".into(),
        Basis::IncreaseOverYear { base_year } => format!("基数：比 {base_year} 年的增长额。"),
        Basis::Level => "基数：当年水平。".into(),
        Basis::Above { threshold } => format!("基数：超过 {threshold} 元的部分。"),
    });
    if let Some(m) = p.min_level {
        out.push(format!("门槛：当年口径值不低于 {m} 元。"));
    }
    if let Some(m) = p.min_base {
        out.push(format!("门槛：基数不低于 {m} 元。"));
    }
    describe_schedule(p, out);
    describe_split(p, out);
    out.push("奖励总额是上限（按不高于）：村民会议可以决定更少，不能更多。".into());
}

/// How the pool is computed from the base: the schedule and the caps.
fn describe_schedule(p: &Plan, out: &mut Vec<String>) {
    let tiers = |t: &[crate::incentive::plan::Tier]| {
        t.iter()
            .map(|x| format!("{} 元起 {}", x.from, x.rate))
            .collect::<Vec<_>>()
            .join("，")
    };
    out.push(match &p.schedule {
        Schedule::Flat { rate } => format!("计提：基数 × {rate}（不高于）。"),
        Schedule::Whole { tier_key, tiers: t } => format!(
            "计提：按{}所在档的比例乘以全部基数（全额累进）：{}。",
            if *tier_key == TierKey::Level {
                "当年口径值"
            } else {
                "基数"
            },
            tiers(t)
        ),
        Schedule::Marginal { tiers: t } => {
            format!("计提：超额累进，各段分别计提：{}。", tiers(t))
        }
    });
    if let Some(c) = p.cap {
        out.push(format!("封顶：每村不超过 {c} 元。"));
    }
    if !p.cap_by_level.is_empty() {
        let parts: Vec<String> = p
            .cap_by_level
            .iter()
            .map(|c| format!("{} 元起封顶 {} 元", c.from, c.cap))
            .collect();
        out.push(format!("按收入水平封顶：{}。", parts.join("，")));
    }
}

/// Who shares the pool, and how much each is paid.
fn describe_split(p: &Plan, out: &mut Vec<String>) {
    let weights: Vec<String> = p
        .weights
        .iter()
        .filter(|(_, w)| **w > 0)
        .map(|(r, w)| format!("{} {w}", r.name_zh()))
        .collect();
    out.push(format!(
        "分配：按权重（{}）{}以最大余额法分到分；受处分者不参与{}。",
        weights.join("、"),
        if p.prorate_by_months {
            "乘以任职月数，"
        } else {
            ""
        },
        if p.min_months > 0 {
            format!("，任职不满 {} 个月者不参与", p.min_months)
        } else {
            String::new()
        }
    ));
    for (r, s) in &p.max_share {
        out.push(format!("{}最多分得奖励总额的 {s}。", r.name_zh()));
    }
    if let Some(a) = &p.appraisal {
        let parts: Vec<String> = a.iter().map(|(k, v)| format!("{k} {v}")).collect();
        out.push(format!(
            "按考核等次发放：{}；无等次者不发。",
            parts.join("，")
        ));
    }
}

impl Policy {
    /// The pay floor as a readable rule, when the policy has one.
    pub fn describe_pay_floor_zh(&self) -> Option<String> {
        let pf = self.pay_floor.as_ref()?;
        let roles: Vec<&str> = pf.roles.iter().map(|r| r.name_zh()).collect();
        Some(format!(
            "报酬保障：{}的基本报酬不低于所在县上年农村居民人均可支配收入的 {} 倍，且不低于 {} 元/年{}；任职不满一年的按月折算。",
            roles.join("、"),
            pf.multiple.decimal(),
            pf.minimum,
            pf.minimum_secretary_director.map(|m| format!("（书记兼主任不低于 {m} 元）")).unwrap_or_default()
        ))
    }
}
