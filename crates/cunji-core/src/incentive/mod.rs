//! Cadre incentive plans (村干部激励): the plan language, its evaluation and the split of a pool.

pub mod evaluate;
mod outcome;
pub mod plan;
pub mod public;
pub mod split;
mod steps;

pub use evaluate::{evaluate, Award, IncentiveError, IncentiveResult, Reason, VillageFigures};
pub use plan::{Basis, LevelCap, Plan, Schedule, Tier, TierKey};
