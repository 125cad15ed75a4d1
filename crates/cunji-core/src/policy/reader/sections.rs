//! The `[alerts]` and `[pay_floor]` sections.

use toml::{Table, Value};

use super::{At, Reader};
use crate::policy::PolicyError;
use crate::rate::Ppm;

impl Reader<'_> {
    pub(super) fn alerts(&self, t: &Table) -> Result<crate::alerts::AlertSettings, PolicyError> {
        let sec = Some(("alerts", 0));
        let at = |key| At { section: sec, key };
        self.check_keys(
            t,
            &[
                "year_end_share",
                "surge_rate",
                "surge_min",
                "pass_through_days",
                "subsidy_share",
                "round_unit",
                "round_share",
            ],
            sec,
        )?;
        let mut s = crate::alerts::AlertSettings::default();
        if let Some(v) = t.get("year_end_share") {
            s.year_end_share = self.rate(v, at("year_end_share"), Ppm::ONE)?;
        }
        if let Some(v) = t.get("surge_rate") {
            s.surge_rate = self.rate(v, at("surge_rate"), Ppm::from_ppm(100_000_000))?;
        }
        if let Some(v) = t.get("surge_min") {
            s.surge_min = self.money(v, at("surge_min"))?;
        }
        if let Some(v) = t.get("pass_through_days") {
            s.pass_through_days = match v {
                Value::Integer(n) if (0..=366).contains(n) => *n,
                _ => return Err(self.err(at("pass_through_days"), "应为 0–366 的整数天数")),
            };
        }
        if let Some(v) = t.get("subsidy_share") {
            s.subsidy_share = self.rate(v, at("subsidy_share"), Ppm::ONE)?;
        }
        if let Some(v) = t.get("round_unit") {
            s.round_unit = self.money(v, at("round_unit"))?;
        }
        if let Some(v) = t.get("round_share") {
            s.round_share = self.rate(v, at("round_share"), Ppm::ONE)?;
        }
        Ok(s)
    }

    pub(super) fn pay_floor(&self, t: &Table) -> Result<crate::pay_floor::PayFloor, PolicyError> {
        let sec = Some(("pay_floor", 0));
        let at = |key| At { section: sec, key };
        self.check_keys(
            t,
            &["multiple", "minimum", "minimum_secretary_director", "roles"],
            sec,
        )?;
        let multiple = match t.get("multiple") {
            Some(v) => self.rate(v, at("multiple"), Ppm::from_ppm(10_000_000))?,
            None => return Err(self.err(at("multiple"), "缺少倍数 multiple，如 3")),
        };
        let minimum = match t.get("minimum") {
            Some(v) => self.money(v, at("minimum"))?,
            None => return Err(self.err(at("minimum"), "缺少年最低报酬 minimum（元）")),
        };
        let minimum_secretary_director = t
            .get("minimum_secretary_director")
            .map(|v| self.money(v, at("minimum_secretary_director")))
            .transpose()?;
        let roles = match t.get("roles") {
            None => crate::pay_floor::PayFloor::default_roles(),
            Some(Value::Array(items)) if !items.is_empty() => {
                let mut out = Vec::new();
                for item in items {
                    let Value::String(s) = item else {
                        return Err(self.err(at("roles"), "应为职务字符串列表"));
                    };
                    let r = self.role(s, at("roles"))?;
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
                out
            }
            Some(_) => {
                return Err(self.err(
                    at("roles"),
                    "应为职务列表，如 [\"secretary\", \"secretary_director\"]",
                ))
            }
        };
        Ok(crate::pay_floor::PayFloor {
            multiple,
            minimum,
            minimum_secretary_director,
            roles,
        })
    }
}
