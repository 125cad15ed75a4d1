//! The `[incentive]` section: the plan of SPEC §6, checked strictly (a key of another basis or
//! schedule is an error, as is a subsidy-counting measure without `allow_subsidy_in_measure`).

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::raw::{self, Entries, Opt, Written};
use super::{span_or, At, Reader};
use crate::cadre::Role;
use crate::incentive::plan::{Basis, LevelCap, Plan, Schedule, TierKey};
use crate::measure::Measure;
use crate::money::Fen;
use crate::policy::PolicyError;
use crate::rate::Ppm;

fn at(key: &str, span: Range<usize>) -> At<'_> {
    super::at("incentive", key, span)
}

impl Reader<'_> {
    pub(super) fn incentive(
        &self,
        t: Spanned<raw::Incentive>,
        find_measure: &dyn Fn(&str) -> Option<Measure>,
    ) -> Result<Plan, PolicyError> {
        let sec = t.span();
        let t = t.into_inner();
        let measure_span = span_or(&t.measure, &sec);
        let measure_key = self.measure_key(&t.measure, "incentive", &sec, find_measure)?;
        let measure = find_measure(&measure_key).expect("checked by measure_key");
        let allow_subsidy_in_measure = t
            .allow_subsidy_in_measure
            .as_ref()
            .is_some_and(|b| *b.get_ref());
        if measure.counts_subsidies() && !allow_subsidy_in_measure {
            return Err(self.err(
                at("measure", measure_span),
                format!(
                    "口径 `{}` 计入了补助收入，会把上级补助算作增长；确需如此请写 allow_subsidy_in_measure = true",
                    measure.key
                ),
            ));
        }
        let basis = self.basis(&t, &sec)?;
        let min_level = self.optional_money(&t.min_level, "min_level")?;
        let min_base = self.optional_money(&t.min_base, "min_base")?;
        let schedule = self.schedule(&t, &sec)?;
        let cap = t
            .cap
            .as_ref()
            .map(|v| self.non_negative_money(v, at("cap", v.span()), "封顶"))
            .transpose()?;
        let cap_by_level = self.cap_by_level(&t.cap_by_level)?;
        let min_months = match &t.min_months {
            None => 0,
            Some(n) => match u8::try_from(*n.get_ref()) {
                Ok(n) if n <= 12 => n,
                _ => return Err(self.err(at("min_months", n.span()), "应为 0–12 的整数")),
            },
        };
        Ok(Plan {
            measure,
            allow_subsidy_in_measure,
            basis,
            min_level,
            min_base,
            schedule,
            cap,
            cap_by_level,
            min_months,
            prorate_by_months: t.prorate_by_months.is_some_and(|b| b.into_inner()),
            weights: self.weights(&t.weights)?,
            max_share: self.max_share(&t.max_share)?,
            appraisal: self.appraisal(&t.appraisal)?,
        })
    }

    fn optional_money(&self, v: &Opt<Written>, key: &str) -> Result<Option<Fen>, PolicyError> {
        v.as_ref()
            .map(|v| self.money(v, at(key, v.span())))
            .transpose()
    }

    /// A key that belongs to another basis or schedule than the one chosen is an error.
    fn only_for<T>(
        &self,
        v: &Opt<T>,
        key: &str,
        owner: &str,
        chosen: &str,
    ) -> Result<(), PolicyError> {
        match v {
            Some(v) if owner != chosen => Err(self.err(
                at(key, v.span()),
                format!("`{key}` 只用于 {owner}，本方案是 {chosen}"),
            )),
            _ => Ok(()),
        }
    }

    /// `basis` and the key of its own (`lookback_years`, `base_year`, `threshold`).
    fn basis(&self, t: &raw::Incentive, sec: &Range<usize>) -> Result<Basis, PolicyError> {
        let basis_key = t
            .basis
            .as_ref()
            .map_or("increase", |b| b.get_ref().as_str());
        let chosen = format!("basis = \"{basis_key}\"");
        let owner = "basis = \"increase_over_best\"";
        self.only_for(&t.lookback_years, "lookback_years", owner, &chosen)?;
        let owner = "basis = \"increase_over_year\"";
        self.only_for(&t.base_year, "base_year", owner, &chosen)?;
        self.only_for(&t.threshold, "threshold", "basis = \"above\"", &chosen)?;
        Ok(match basis_key {
            "increase" => Basis::Increase,
            "increase_over_best" => Basis::IncreaseOverBest {
                lookback_years: match &t.lookback_years {
                    None => None,
                    Some(n) => match u32::try_from(*n.get_ref()) {
                        Ok(n) if (1..=100).contains(&n) => Some(n),
                        _ => return Err(self.err(at("lookback_years", n.span()), "应为 1–100 的整数")),
                    },
                },
            },
            "increase_over_year" => Basis::IncreaseOverYear {
                base_year: match &t.base_year {
                    Some(y) if (1900..=9999).contains(y.get_ref()) => *y.get_ref() as i32,
                    _ => {
                        let span = span_or(&t.base_year, sec);
                        let message = "increase_over_year 需要基准年 base_year";
                        return Err(self.err(at("base_year", span), message));
                    }
                },
            },
            "level" => Basis::Level,
            "above" => Basis::Above {
                threshold: match &t.threshold {
                    Some(v) => self.money(v, at("threshold", v.span()))?,
                    None => {
                        let message = "above 需要 threshold（元）";
                        return Err(self.err(at("threshold", sec.clone()), message));
                    }
                },
            },
            other => {
                return Err(self.err(
                    at("basis", span_or(&t.basis, sec)),
                    format!("未知的 basis `{other}`（可选 increase、increase_over_best、increase_over_year、level、above）"),
                ))
            }
        })
    }

    /// `schedule` and its keys (`rate`, or `tiers` with `tier_key`).
    fn schedule(&self, t: &raw::Incentive, sec: &Range<usize>) -> Result<Schedule, PolicyError> {
        let schedule_key = t.schedule.as_ref().map_or("flat", |s| s.get_ref().as_str());
        let chosen = format!("schedule = \"{schedule_key}\"");
        self.only_for(&t.rate, "rate", "schedule = \"flat\"", &chosen)?;
        self.only_for(&t.tier_key, "tier_key", "schedule = \"whole\"", &chosen)?;
        if let (Some(tiers), "flat") = (&t.tiers, schedule_key) {
            return Err(self.err(
                at("tiers", tiers.span()),
                "`tiers` 只用于 schedule = \"whole\" 或 \"marginal\"，本方案是 flat",
            ));
        }
        Ok(match schedule_key {
            "flat" => Schedule::Flat {
                rate: match &t.rate {
                    Some(v) => self.rate(v, at("rate", v.span()), Ppm::ONE)?,
                    None => {
                        let message = "flat 需要比例 rate，如 \"10%\"";
                        return Err(self.err(at("rate", sec.clone()), message));
                    }
                },
            },
            "whole" => Schedule::Whole {
                tier_key: match &t.tier_key {
                    None => TierKey::Base,
                    Some(k) => match k.get_ref().as_str() {
                        "base" => TierKey::Base,
                        "level" => TierKey::Level,
                        o => {
                            return Err(self.err(
                                at("tier_key", k.span()),
                                format!("tier_key 只能是 base 或 level，不是 `{o}`"),
                            ))
                        }
                    },
                },
                tiers: self.tiers(&t.tiers, sec)?,
            },
            "marginal" => Schedule::Marginal {
                tiers: self.tiers(&t.tiers, sec)?,
            },
            other => {
                return Err(self.err(
                    at("schedule", span_or(&t.schedule, sec)),
                    format!("未知的 schedule `{other}`（可选 flat、whole、marginal）"),
                ))
            }
        })
    }

    /// `cap_by_level = [{ from, cap }, …]`: `from` strictly ascending, caps not negative.
    fn cap_by_level(
        &self,
        v: &Opt<Vec<Spanned<raw::LevelCap>>>,
    ) -> Result<Vec<LevelCap>, PolicyError> {
        let mut out: Vec<LevelCap> = Vec::new();
        let Some(items) = v else {
            return Ok(out);
        };
        let at = |span| at("cap_by_level", span);
        for item in items.get_ref() {
            let (Some(from), Some(cap)) = (&item.get_ref().from, &item.get_ref().cap) else {
                return Err(self.err(at(item.span()), "每档须且只须有 from 与 cap"));
            };
            let from = self.money(from, at(from.span()))?;
            let c = self.non_negative_money(cap, at(cap.span()), "封顶")?;
            if out.last().is_some_and(|l| l.from >= from) {
                return Err(self.err(at(item.span()), "各档 from 必须严格递增"));
            }
            out.push(LevelCap { from, cap: c });
        }
        if out.is_empty() {
            return Err(self.err(at(items.span()), "至少要有一档"));
        }
        Ok(out)
    }

    fn weights(&self, v: &Opt<Entries<i64>>) -> Result<BTreeMap<Role, u64>, PolicyError> {
        let Some(w) = v else {
            return Ok(Plan::default_weights());
        };
        let mut out = BTreeMap::new();
        for (k, n) in &w.get_ref().0 {
            let role = self.role(k, at("weights", n.span()))?;
            match u64::try_from(*n.get_ref()) {
                Ok(n) if n <= 1_000_000 => {
                    out.insert(role, n);
                }
                _ => {
                    let message = format!("`{k}` 的权重应为不小于 0 的整数");
                    return Err(self.err(at("weights", n.span()), message));
                }
            }
        }
        Ok(out)
    }

    fn max_share(&self, v: &Opt<Entries<Written>>) -> Result<BTreeMap<Role, Ppm>, PolicyError> {
        let mut out = BTreeMap::new();
        for (k, s) in v.iter().flat_map(|m| &m.get_ref().0) {
            let role = self.role(k, at("max_share", s.span()))?;
            out.insert(role, self.rate(s, at("max_share", s.span()), Ppm::ONE)?);
        }
        Ok(out)
    }

    fn appraisal(
        &self,
        v: &Opt<Entries<Written>>,
    ) -> Result<Option<BTreeMap<String, Ppm>>, PolicyError> {
        let Some(a) = v else { return Ok(None) };
        let mut out = BTreeMap::new();
        for (k, m) in &a.get_ref().0 {
            out.insert(
                k.clone(),
                self.rate(m, at("appraisal", m.span()), Ppm::ONE)?,
            );
        }
        Ok(Some(out))
    }
}
