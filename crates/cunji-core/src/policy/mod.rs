//! Policy files (SPEC §10): TOML read strictly — unknown keys, keys of another basis or schedule,
//! tiers out of order, unknown bands and the subsidy guard are all errors with the key's line.

mod describe;
mod reader;

use crate::bands::{BandScheme, Target};
use crate::incentive::plan::Plan;
use crate::measure::Measure;
use crate::region::RegionCode;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    /// Code prefix the policy applies to (`"13"`).
    pub region: Option<String>,
    /// Inclusive range of years in force.
    pub years: Option<(i32, i32)>,
    pub custom_measures: Vec<Measure>,
    pub bands: Option<BandScheme>,
    pub targets: Vec<Target>,
    pub incentive: Option<Plan>,
    pub pay_floor: Option<crate::pay_floor::PayFloor>,
    /// Alert thresholds (`[alerts]`; defaults when absent).
    pub alerts: crate::alerts::AlertSettings,
    /// Contract settings (`[contracts]`; defaults when absent).
    pub contracts: crate::contracts::ContractSettings,
}

/// A policy error: where (line, when it could be found) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}", .line.map(|l| format!("第 {l} 行: ")).unwrap_or_default(), .message)]
pub struct PolicyError {
    pub line: Option<usize>,
    pub message: String,
}

impl Policy {
    /// Whether the policy says nothing a report could apply: no bands, targets, incentive plan or pay
    /// floor. Made current, it would band no village and reward no one, silently; it is refused.
    pub fn is_empty(&self) -> bool {
        self.bands.is_none()
            && self.targets.is_empty()
            && self.incentive.is_none()
            && self.pay_floor.is_none()
    }

    /// Why an empty policy cannot be made current, in the words every refusal uses.
    pub const EMPTY_ZH: &'static str =
        "政策没有分档、目标、激励或报酬保障中的任何一项，不能设为当前政策（请检查是否选错了文件）";

    /// Every measure a report shows: the four standard ones, then the policy's own.
    pub fn measures(&self) -> Vec<Measure> {
        let mut all = Measure::standard();
        all.extend(self.custom_measures.iter().cloned());
        all
    }

    pub fn measure(&self, key: &str) -> Option<Measure> {
        self.measures().into_iter().find(|m| m.key == key)
    }

    /// The first year whose books a report of `year` under this policy reads: last year (for the
    /// alerts, the subsidy summary and an increase), or further back as the plan's basis asks (a
    /// base year, or a high-water mark's window; all years when the window is open). A province's
    /// report then reads two years of kept totals instead of every year kept.
    pub fn first_year_read(&self, year: i32) -> i32 {
        use crate::incentive::plan::Basis;
        let basis = self.incentive.as_ref().map(|p| &p.basis);
        let back = match basis {
            Some(Basis::IncreaseOverBest {
                lookback_years: None,
            }) => i32::MIN,
            Some(Basis::IncreaseOverBest {
                lookback_years: Some(n),
            }) => year.saturating_sub_unsigned(*n),
            Some(Basis::IncreaseOverYear { base_year }) => *base_year,
            _ => year,
        };
        back.min(year.saturating_sub(1))
    }

    /// Is `year` within the years the policy is in force?
    pub fn in_force(&self, year: i32) -> bool {
        self.years.is_none_or(|(a, b)| a <= year && year <= b)
    }

    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        reader::read(text)
    }
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Checks a policy `region` against a register code, for `--region`.
pub fn region_prefix_matches(prefix: &str, code: &RegionCode) -> bool {
    code.as_str().starts_with(prefix)
}
