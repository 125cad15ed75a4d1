//! The `[alerts]` and `[pay_floor]` sections.

use toml::Spanned;

use super::raw::{self, Opt, Written};
use super::{at, Reader};
use crate::alerts::AlertSettings;
use crate::money::Fen;
use crate::pay_floor::PayFloor;
use crate::policy::PolicyError;
use crate::rate::Ppm;

impl Reader<'_> {
    /// `[alerts]`: each threshold written replaces its default.
    /// `[contracts]` (SPEC §16): `resolution_threshold`, yuan, at least 0 (default 100,000).
    pub(super) fn contracts(
        &self,
        c: Spanned<raw::Contracts>,
    ) -> Result<crate::contracts::ContractSettings, PolicyError> {
        let mut settings = crate::contracts::ContractSettings::default();
        if let Some(v) = &c.get_ref().resolution_threshold {
            let at = at("contracts", "resolution_threshold", v.span());
            settings.resolution_threshold = self.non_negative_money(v, at, "决议金额门槛")?;
        }
        Ok(settings)
    }

    pub(super) fn alerts(&self, a: Spanned<raw::Alerts>) -> Result<AlertSettings, PolicyError> {
        let a = a.into_inner();
        let mut s = AlertSettings::default();
        let rate = |v: &Opt<Written>, key, max, into: &mut Ppm| -> Result<(), PolicyError> {
            if let Some(v) = v {
                *into = self.rate(v, at("alerts", key, v.span()), max)?;
            }
            Ok(())
        };
        let money = |v: &Opt<Written>, key, into: &mut Fen| -> Result<(), PolicyError> {
            if let Some(v) = v {
                *into = self.money(v, at("alerts", key, v.span()))?;
            }
            Ok(())
        };
        rate(
            &a.year_end_share,
            "year_end_share",
            Ppm::ONE,
            &mut s.year_end_share,
        )?;
        let surge_max = Ppm::from_ppm(100_000_000);
        rate(&a.surge_rate, "surge_rate", surge_max, &mut s.surge_rate)?;
        money(&a.surge_min, "surge_min", &mut s.surge_min)?;
        if let Some(n) = &a.pass_through_days {
            if !(0..=366).contains(n.get_ref()) {
                let at = at("alerts", "pass_through_days", n.span());
                return Err(self.err(at, "应为 0–366 的整数天数"));
            }
            s.pass_through_days = *n.get_ref();
        }
        rate(
            &a.subsidy_share,
            "subsidy_share",
            Ppm::ONE,
            &mut s.subsidy_share,
        )?;
        money(&a.round_unit, "round_unit", &mut s.round_unit)?;
        rate(&a.round_share, "round_share", Ppm::ONE, &mut s.round_share)?;
        Ok(s)
    }

    /// `[pay_floor]` (SPEC §12): a multiple of 0–10 and a minimum are required.
    pub(super) fn pay_floor(&self, p: Spanned<raw::PayFloor>) -> Result<PayFloor, PolicyError> {
        let sec = p.span();
        let p = p.into_inner();
        let at = |key, span| at("pay_floor", key, span);
        let multiple = match &p.multiple {
            Some(v) => self.rate(v, at("multiple", v.span()), Ppm::from_ppm(10_000_000))?,
            None => return Err(self.err(at("multiple", sec), "缺少倍数 multiple，如 3")),
        };
        let minimum = match &p.minimum {
            Some(v) => self.money(v, at("minimum", v.span()))?,
            None => return Err(self.err(at("minimum", sec), "缺少年最低报酬 minimum（元）")),
        };
        let minimum_secretary_director = p
            .minimum_secretary_director
            .as_ref()
            .map(|v| self.money(v, at("minimum_secretary_director", v.span())))
            .transpose()?;
        let roles = match &p.roles {
            None => PayFloor::default_roles(),
            Some(items) if items.get_ref().is_empty() => {
                return Err(self.err(
                    at("roles", items.span()),
                    "应为职务列表，如 [\"secretary\", \"secretary_director\"]",
                ))
            }
            Some(items) => {
                let mut out = Vec::new();
                for s in items.get_ref() {
                    let r = self.role(s.get_ref(), at("roles", s.span()))?;
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
                out
            }
        };
        Ok(PayFloor {
            multiple,
            minimum,
            minimum_secretary_director,
            roles,
        })
    }
}
