//! The `[incentive]` section: the plan of SPEC §6, read strictly (a key of another basis or schedule
//! is an error, as is a subsidy-counting measure without `allow_subsidy_in_measure`).

use std::collections::BTreeMap;

use toml::{Table, Value};

use super::{At, Reader, INCENTIVE_KEYS};
use crate::cadre::Role;
use crate::incentive::plan::{Basis, LevelCap, Plan, Schedule, TierKey};
use crate::measure::Measure;
use crate::money::Fen;
use crate::policy::PolicyError;
use crate::rate::Ppm;

fn at(key: &str) -> At<'_> {
    At {
        section: Some(("incentive", 0)),
        key,
    }
}

/// How the plan splits its pool: eligibility, weights, shares and appraisal (SPEC §6 steps 7–8).
struct Split {
    min_months: u8,
    prorate_by_months: bool,
    weights: BTreeMap<Role, u64>,
    max_share: BTreeMap<Role, Ppm>,
    appraisal: Option<BTreeMap<String, Ppm>>,
}

impl Reader<'_> {
    pub(super) fn incentive(
        &self,
        t: &Table,
        find_measure: &dyn Fn(&str) -> Option<Measure>,
    ) -> Result<Plan, PolicyError> {
        self.check_keys(t, &INCENTIVE_KEYS, Some(("incentive", 0)))?;
        let measure_key = self.measure_key(t, at("measure"), find_measure)?;
        let measure = find_measure(&measure_key).expect("checked by measure_key");
        let allow_subsidy_in_measure = self
            .boolean(t, at("allow_subsidy_in_measure"))?
            .unwrap_or(false);
        if measure.counts_subsidies() && !allow_subsidy_in_measure {
            return Err(self.err(
                at("measure"),
                format!(
                    "口径 `{}` 计入了补助收入，会把上级补助算作增长；确需如此请写 allow_subsidy_in_measure = true",
                    measure.key
                ),
            ));
        }
        let basis = self.basis(t)?;
        let min_level = self.optional_money(t, "min_level")?;
        let min_base = self.optional_money(t, "min_base")?;
        let schedule = self.schedule(t)?;
        let cap = t
            .get("cap")
            .map(|v| self.non_negative_money(v, at("cap"), "封顶"))
            .transpose()?;
        let cap_by_level = self.cap_by_level(t)?;
        let split = self.split(t)?;
        Ok(Plan {
            measure,
            allow_subsidy_in_measure,
            basis,
            min_level,
            min_base,
            schedule,
            cap,
            cap_by_level,
            min_months: split.min_months,
            prorate_by_months: split.prorate_by_months,
            weights: split.weights,
            max_share: split.max_share,
            appraisal: split.appraisal,
        })
    }

    fn optional_money(&self, t: &Table, key: &str) -> Result<Option<Fen>, PolicyError> {
        t.get(key).map(|v| self.money(v, at(key))).transpose()
    }

    /// A key that belongs to another basis or schedule than the one chosen is an error.
    fn only_for(&self, t: &Table, key: &str, owner: &str, chosen: &str) -> Result<(), PolicyError> {
        if t.contains_key(key) && owner != chosen {
            return Err(self.err(
                at(key),
                format!("`{key}` 只用于 {owner}，本方案是 {chosen}"),
            ));
        }
        Ok(())
    }

    /// `basis` and the key of its own (`lookback_years`, `base_year`, `threshold`).
    fn basis(&self, t: &Table) -> Result<Basis, PolicyError> {
        let basis_key = self
            .string(t, at("basis"))?
            .unwrap_or_else(|| "increase".into());
        let chosen = format!("basis = \"{basis_key}\"");
        self.only_for(
            t,
            "lookback_years",
            "basis = \"increase_over_best\"",
            &chosen,
        )?;
        self.only_for(t, "base_year", "basis = \"increase_over_year\"", &chosen)?;
        self.only_for(t, "threshold", "basis = \"above\"", &chosen)?;
        Ok(match basis_key.as_str() {
            "increase" => Basis::Increase,
            "increase_over_best" => Basis::IncreaseOverBest {
                lookback_years: match t.get("lookback_years") {
                    None => None,
                    Some(Value::Integer(n)) if (1..=100).contains(n) => Some(*n as u32),
                    Some(_) => return Err(self.err(at("lookback_years"), "应为 1–100 的整数")),
                },
            },
            "increase_over_year" => Basis::IncreaseOverYear {
                base_year: match t.get("base_year") {
                    Some(Value::Integer(y)) if (1900..=9999).contains(y) => *y as i32,
                    _ => return Err(self.err(at("base_year"), "increase_over_year 需要基准年 base_year")),
                },
            },
            "level" => Basis::Level,
            "above" => Basis::Above {
                threshold: match t.get("threshold") {
                    Some(v) => self.money(v, at("threshold"))?,
                    None => return Err(self.err(at("threshold"), "above 需要 threshold（元）")),
                },
            },
            other => {
                return Err(self.err(
                    at("basis"),
                    format!("未知的 basis `{other}`（可选 increase、increase_over_best、increase_over_year、level、above）"),
                ))
            }
        })
    }

    /// `schedule` and its keys (`rate`, or `tiers` with `tier_key`).
    fn schedule(&self, t: &Table) -> Result<Schedule, PolicyError> {
        let schedule_key = self
            .string(t, at("schedule"))?
            .unwrap_or_else(|| "flat".into());
        let chosen = format!("schedule = \"{schedule_key}\"");
        self.only_for(t, "rate", "schedule = \"flat\"", &chosen)?;
        self.only_for(t, "tier_key", "schedule = \"whole\"", &chosen)?;
        if t.contains_key("tiers") && schedule_key == "flat" {
            return Err(self.err(
                at("tiers"),
                "`tiers` 只用于 schedule = \"whole\" 或 \"marginal\"，本方案是 flat",
            ));
        }
        Ok(match schedule_key.as_str() {
            "flat" => Schedule::Flat {
                rate: match t.get("rate") {
                    Some(v) => self.rate(v, at("rate"), Ppm::ONE)?,
                    None => return Err(self.err(at("rate"), "flat 需要比例 rate，如 \"10%\"")),
                },
            },
            "whole" => Schedule::Whole {
                tier_key: match self.string(t, at("tier_key"))?.as_deref() {
                    None | Some("base") => TierKey::Base,
                    Some("level") => TierKey::Level,
                    Some(o) => {
                        return Err(self.err(
                            at("tier_key"),
                            format!("tier_key 只能是 base 或 level，不是 `{o}`"),
                        ))
                    }
                },
                tiers: self.tiers(t, at("tiers"))?,
            },
            "marginal" => Schedule::Marginal {
                tiers: self.tiers(t, at("tiers"))?,
            },
            other => {
                return Err(self.err(
                    at("schedule"),
                    format!("未知的 schedule `{other}`（可选 flat、whole、marginal）"),
                ))
            }
        })
    }

    /// `cap_by_level = [{ from, cap }, …]`: `from` strictly ascending, caps not negative.
    fn cap_by_level(&self, t: &Table) -> Result<Vec<LevelCap>, PolicyError> {
        let mut out: Vec<LevelCap> = Vec::new();
        let Some(v) = t.get("cap_by_level") else {
            return Ok(out);
        };
        let Value::Array(items) = v else {
            return Err(self.err(at("cap_by_level"), "应为 [{ from = …, cap = … }, …]"));
        };
        for item in items {
            let Value::Table(it) = item else {
                return Err(self.err(at("cap_by_level"), "每档应为 { from = …, cap = … }"));
            };
            if it.keys().any(|k| k != "from" && k != "cap")
                || !it.contains_key("from")
                || !it.contains_key("cap")
            {
                return Err(self.err(at("cap_by_level"), "每档须且只须有 from 与 cap"));
            }
            let from = self.money(&it["from"], at("cap_by_level"))?;
            let c = self.non_negative_money(&it["cap"], at("cap_by_level"), "封顶")?;
            if out.last().is_some_and(|l| l.from >= from) {
                return Err(self.err(at("cap_by_level"), "各档 from 必须严格递增"));
            }
            out.push(LevelCap { from, cap: c });
        }
        if out.is_empty() {
            return Err(self.err(at("cap_by_level"), "至少要有一档"));
        }
        Ok(out)
    }

    /// `min_months`, `prorate_by_months`, `weights`, `max_share` and `appraisal`.
    fn split(&self, t: &Table) -> Result<Split, PolicyError> {
        let min_months = match t.get("min_months") {
            None => 0,
            Some(Value::Integer(n)) if (0..=12).contains(n) => *n as u8,
            Some(_) => return Err(self.err(at("min_months"), "应为 0–12 的整数")),
        };
        let prorate_by_months = self.boolean(t, at("prorate_by_months"))?.unwrap_or(false);
        Ok(Split {
            min_months,
            prorate_by_months,
            weights: self.weights(t)?,
            max_share: self.max_share(t)?,
            appraisal: self.appraisal(t)?,
        })
    }

    fn weights(&self, t: &Table) -> Result<BTreeMap<Role, u64>, PolicyError> {
        let w = match t.get("weights") {
            None => return Ok(Plan::default_weights()),
            Some(Value::Table(w)) => w,
            Some(_) => return Err(self.err(at("weights"), "应为 { secretary = 1, … }")),
        };
        let mut out = BTreeMap::new();
        for (k, v) in w {
            let role = self.role(k, at("weights"))?;
            match v {
                Value::Integer(n) if *n >= 0 && *n <= 1_000_000 => {
                    out.insert(role, *n as u64);
                }
                _ => {
                    return Err(self.err(at("weights"), format!("`{k}` 的权重应为不小于 0 的整数")))
                }
            }
        }
        Ok(out)
    }

    fn max_share(&self, t: &Table) -> Result<BTreeMap<Role, Ppm>, PolicyError> {
        let mut max_share = BTreeMap::new();
        if let Some(v) = t.get("max_share") {
            let Value::Table(m) = v else {
                return Err(self.err(at("max_share"), "应为 { secretary = \"30%\", … }"));
            };
            for (k, v) in m {
                let role = self.role(k, at("max_share"))?;
                max_share.insert(role, self.rate(v, at("max_share"), Ppm::ONE)?);
            }
        }
        Ok(max_share)
    }

    fn appraisal(&self, t: &Table) -> Result<Option<BTreeMap<String, Ppm>>, PolicyError> {
        match t.get("appraisal") {
            None => Ok(None),
            Some(Value::Table(a)) => {
                let mut out = BTreeMap::new();
                for (k, v) in a {
                    out.insert(k.clone(), self.rate(v, at("appraisal"), Ppm::ONE)?);
                }
                Ok(Some(out))
            }
            Some(_) => Err(self.err(at("appraisal"), "应为 { \"优秀\" = 1, … }")),
        }
    }
}
