//! The incentive plan language (SPEC §6), as read from a policy's `[incentive]` section.

use std::collections::BTreeMap;

use crate::cadre::Role;
use crate::measure::Measure;
use crate::money::Fen;
use crate::rate::Ppm;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Basis {
    /// `M(y) − M(y−1)`.
    Increase,
    /// `M(y) − max M(t)` over earlier years with data (a high-water mark).
    IncreaseOverBest { lookback_years: Option<u32> },
    /// `M(y) − M(base_year)`.
    IncreaseOverYear { base_year: i32 },
    /// `M(y)`.
    Level,
    /// `M(y) − threshold`.
    Above { threshold: Fen },
}

impl Basis {
    pub fn key(&self) -> &'static str {
        match self {
            Basis::Increase => "increase",
            Basis::IncreaseOverBest { .. } => "increase_over_best",
            Basis::IncreaseOverYear { .. } => "increase_over_year",
            Basis::Level => "level",
            Basis::Above { .. } => "above",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierKey {
    Base,
    Level,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    pub from: Fen,
    pub rate: Ppm,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    Flat { rate: Ppm },
    Whole { tier_key: TierKey, tiers: Vec<Tier> },
    Marginal { tiers: Vec<Tier> },
}

impl Schedule {
    pub fn key(&self) -> &'static str {
        match self {
            Schedule::Flat { .. } => "flat",
            Schedule::Whole { .. } => "whole",
            Schedule::Marginal { .. } => "marginal",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelCap {
    pub from: Fen,
    pub cap: Fen,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub measure: Measure,
    pub allow_subsidy_in_measure: bool,
    pub basis: Basis,
    pub min_level: Option<Fen>,
    pub min_base: Option<Fen>,
    pub schedule: Schedule,
    pub cap: Option<Fen>,
    pub cap_by_level: Vec<LevelCap>,
    pub min_months: u8,
    pub prorate_by_months: bool,
    /// Weight per role; roles not named weigh 0.
    pub weights: BTreeMap<Role, u64>,
    pub max_share: BTreeMap<Role, Ppm>,
    /// Multiplier per appraisal rating; `None` means no appraisal step.
    pub appraisal: Option<BTreeMap<String, Ppm>>,
}

impl Plan {
    /// The default weights: secretary, director and secretary_director 1 each.
    pub fn default_weights() -> BTreeMap<Role, u64> {
        [
            (Role::Secretary, 1),
            (Role::Director, 1),
            (Role::SecretaryDirector, 1),
        ]
        .into_iter()
        .collect()
    }

    /// A flat plan on a measure with default everything, a starting point for tests and what-ifs.
    pub fn flat(measure: Measure, rate: Ppm) -> Plan {
        Plan {
            measure,
            allow_subsidy_in_measure: false,
            basis: Basis::Increase,
            min_level: None,
            min_base: None,
            schedule: Schedule::Flat { rate },
            cap: None,
            cap_by_level: Vec::new(),
            min_months: 0,
            prorate_by_months: false,
            weights: Plan::default_weights(),
            max_share: BTreeMap::new(),
            appraisal: None,
        }
    }
}
