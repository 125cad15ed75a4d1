//! The annual report of SPEC §11: villages with measures, bands and incentives; regions with band
//! counts and targets; grants with their returns; the subsidy summary. Built from plain inputs so that
//! every figure can be tested without a database.

mod alerts;
mod build;
mod contract_years;
mod regions;
mod subsidy;
mod walk;

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::Serialize;

use crate::bands::TargetResult;
use crate::books::Books;
use crate::cadre::Cadre;
use crate::incentive::evaluate::{IncentiveError, IncentiveResult, Reason};
use crate::money::Fen;
use crate::policy::Policy;
use crate::region::{Level, RegionCode, RegionSet};
use crate::subsidy::{Grant, GrantReturn};

pub use contract_years::{contract_years, ContractYear, ContractYears};

/// Everything a report reads, already loaded.
pub struct ReportInput<'a> {
    pub year: i32,
    pub regions: &'a RegionSet,
    pub books: &'a Books,
    /// Cadres of the report year (others are ignored).
    pub cadres: &'a [Cadre],
    pub grants: &'a [Grant],
    /// Sum of income-account entries tagged with each project, dated in the report year.
    pub project_actuals: &'a BTreeMap<String, Fen>,
    /// `--region`: that region and those beneath it.
    pub scope: Option<&'a RegionCode>,
    /// County rural per-capita disposable income (SPEC §12), for pay floors.
    pub stats: &'a crate::pay_floor::RuralIncome,
    /// The report year's entries per village, for alerts.
    pub entries: &'a dyn EntrySource,
    /// Today, so that a running year can be judged by its pace.
    pub today: Option<crate::date::Date>,
    /// The report year's distribution of each village whose statement book gave one (SPEC §14).
    pub distributions: &'a BTreeMap<RegionCode, crate::statement_book::Distribution>,
    /// Assets, contracts and their receipts (SPEC §16).
    pub contracts: &'a crate::contracts::ContractBook,
    /// The year's contract figures and alerts as kept, read instead of `contracts` (which may then
    /// not have been read at all): they must serve the report's year, report date and settings.
    pub kept_contracts: Option<&'a ContractYears>,
}

/// Where a report finds a village's entries of the year, for its alerts: a map in memory, or a store
/// that keeps them compactly and reads a village's only when its report asks.
pub trait EntrySource: Sync {
    /// The village's entries, summed, and in date order unless the source read only their sums;
    /// an error says what could not be read.
    fn entries_of(&self, village: &RegionCode) -> Result<VillageEntries<'_>, String>;
}

pub type EntryFacts<'a> = std::borrow::Cow<'a, [crate::alerts::EntryFact<'a>]>;

/// A village's entries of the year as its alerts read them.
pub struct VillageEntries<'a> {
    pub sums: crate::alerts::EntrySums,
    /// `None` where a store read the sums alone, as `EntrySums::needs_entries` allows.
    pub entries: Option<EntryFacts<'a>>,
}

impl<'a> VillageEntries<'a> {
    /// Entries read whole, summed here.
    pub fn whole(entries: EntryFacts<'a>) -> Self {
        VillageEntries {
            sums: crate::alerts::EntrySums::of(&entries),
            entries: Some(entries),
        }
    }
}

impl EntrySource for BTreeMap<RegionCode, Vec<crate::alerts::EntryFact<'_>>> {
    fn entries_of(&self, village: &RegionCode) -> Result<VillageEntries<'_>, String> {
        Ok(VillageEntries::whole(std::borrow::Cow::Borrowed(
            self.get(village).map(|v| v.as_slice()).unwrap_or(&[]),
        )))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("政策《{policy}》的有效年度为 {from}–{to} 年，不含 {year} 年")]
    NotInForce {
        policy: String,
        from: i32,
        to: i32,
        year: i32,
    },
    #[error("区划 {0} 未登记")]
    UnknownRegion(String),
    #[error(transparent)]
    Incentive(#[from] IncentiveError),
    #[error("村 {village} 的分录读不出：{reason}")]
    Entries { village: String, reason: String },
    /// A sum beyond what 64-bit fen hold (SPEC §1): reported, never wrapped to a negative figure.
    #[error("{0}超出可计算的范围（合计溢出），请检查是否有金额录错")]
    Overflow(String),
    /// Kept contract figures of another year, report date or `[contracts]` settings were given in
    /// place of the contracts (a caller's mistake: they are read for one report only).
    #[error("读取的合同汇总与本报告的年度、报告日或合同设置不符，请重新生成报告")]
    KeptContractsMismatch,
}

/// A map serialized in insertion order (measures, bands).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ordered<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for Ordered<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<V> Ordered<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VillageReport {
    pub code: RegionCode,
    pub name: String,
    pub has_data: bool,
    pub measures: Option<Ordered<Fen>>,
    pub band: Option<String>,
    pub incentive: Option<IncentiveResult>,
    /// The year's distribution from its statement book (SPEC §14); `null` without one.
    pub distribution: Option<crate::statement_book::Distribution>,
    /// The year's contracts (SPEC §16); `null` for a village without any contract at all.
    pub contracts: Option<crate::contracts::VillageContracts>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegionReport {
    pub code: RegionCode,
    pub name: String,
    pub level: Level,
    pub villages: u64,
    pub with_data: u64,
    pub bands: Ordered<u64>,
    pub targets: Vec<TargetResult>,
    pub incentive_total: Fen,
    pub awards_total: Fen,
    /// Sums over the villages with data (extra to SPEC §11, for dashboards).
    pub total_income: Fen,
    pub operating_income: Fen,
    /// Mean operating income of the villages with data, rounded to fen.
    pub avg_operating_income: Option<Fen>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubsidySummary {
    pub by_level: BTreeMap<String, Fen>,
    pub supported_villages: u64,
    pub avg_increase_supported: Option<Fen>,
    pub avg_increase_unsupported: Option<Fen>,
}

impl SubsidySummary {
    /// Everything granted, over all source levels.
    pub fn total_granted(&self) -> Fen {
        // Checked when the report was built: the levels' sum fits.
        self.by_level
            .values()
            .fold(Fen::ZERO, |t, f| t.saturating_add(*f))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    pub year: i32,
    pub policy: String,
    pub villages: Vec<VillageReport>,
    pub regions: Vec<RegionReport>,
    pub grants: Vec<GrantReturn>,
    pub subsidy_summary: SubsidySummary,
    /// Integrity alerts of the listed villages, in village order, each with its evidence.
    pub alerts: Vec<crate::alerts::Alert>,
    /// Covered cadres below the pay floor or of unknown standing (policies with `[pay_floor]` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_floor: Option<Vec<crate::pay_floor::FloorLine>>,
}

/// The reward columns of a village line in the CSV report and the workbook, after the measures.
pub const REWARD_HEADERS: [&str; 8] = [
    "分档",
    "激励口径值",
    "激励基数",
    "奖励总额上限",
    "核定发放",
    "未分配",
    "原因",
    "获奖人员",
];

impl VillageReport {
    /// The village's value of measure `key` (none without books, or for a key the policy lacks).
    pub fn measure(&self, key: &str) -> Option<Fen> {
        self.measures.as_ref().and_then(|m| m.get(key).copied())
    }
}

impl Report {
    /// The grants of a village in this report: its own and those of the villages merged into it.
    pub fn grants_of<'a>(
        &'a self,
        regions: &crate::region::RegionSet,
        village: &RegionCode,
    ) -> impl Iterator<Item = &'a GrantReturn> {
        let lineage = regions.lineage(village);
        self.grants
            .iter()
            .filter(move |g| lineage.contains(&g.village))
    }
}

/// The report of `input.year` under `policy` (SPEC §11). The villages are walked once, in code
/// order, after their alerts were computed on every core; regions and the subsidy summary are made
/// from what that walk gathered.
pub fn build_report(policy: &Policy, input: &ReportInput<'_>) -> Result<Report, ReportError> {
    build::check_input(policy, input)?;
    let b = walk::Build::new(policy, input);
    let grants = b.grants_in_report();
    let walk = b.walk_villages(&grants)?;
    let region_reports = regions::region_reports(policy, input, walk.aggs);
    let (grant_returns, subsidy_summary) =
        subsidy::summary(&b, grants, walk.supported_villages, &walk.increases)?;
    let pay_floor = policy
        .pay_floor
        .as_ref()
        .map(|pf| crate::pay_floor::check(pf, input.year, &walk.listed_cadres, input.stats));
    Ok(Report {
        alerts: walk.alerts,
        pay_floor,
        year: input.year,
        policy: policy.name.clone(),
        villages: walk.villages,
        regions: region_reports,
        grants: grant_returns,
        subsidy_summary,
    })
}

/// The calculation of `village`'s reward told for villagers (SPEC §15), from the same steps and
/// numbers as its trace in the report of `input`; `None` when the policy has no plan.
pub fn village_story(
    policy: &Policy,
    input: &ReportInput<'_>,
    village: &RegionCode,
) -> Result<Option<Vec<String>>, ReportError> {
    build::check_input(policy, input)?;
    Ok(walk::Build::new(policy, input).story_of(village)?)
}

/// The reason a village without an incentive result shows, for renderers.
pub fn reason_of(v: &VillageReport) -> Option<Reason> {
    v.incentive.as_ref().and_then(|i| i.reason)
}
