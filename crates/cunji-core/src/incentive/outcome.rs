//! What an evaluation gives (SPEC §6): the pool, its awards and the reason a pool is 0, and what it
//! is given of a village. Below both `evaluate` and its `steps`, which read and fill these.

use std::collections::BTreeMap;

use crate::cadre::{Cadre, Role};
use crate::money::{Fen, FenSum};

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
