//! What every step of a report reads, made once before the walk (`build.rs` makes it and walks the
//! villages; `regions.rs`, `subsidy.rs` and `alerts.rs` read it): below all of them, so that none
//! of them needs another's module to name it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use super::ReportInput;
use crate::cadre::Cadre;
use crate::measure::Measure;
use crate::policy::Policy;
use crate::region::RegionCode;
use crate::subsidy::Grant;

/// What every step of a report reads: the policy, the input, and what follows from them once.
pub(super) struct Build<'a, 'i> {
    pub policy: &'a Policy,
    pub input: &'a ReportInput<'i>,
    pub year: i32,
    pub(super) measures: Vec<Measure>,
    pub band_measure: Option<Measure>,
    pub total: Measure,
    pub operating: Measure,
    /// The register's range walked: the narrower of the asked region and the policy's region (a
    /// village's page on a national register reads one village, not half a million).
    pub prefix: String,
    /// The report year's cadres of villages in the report (not the country's), by village: each
    /// village's run borrowed from the input when the run is all of its cadres in the report
    /// (as loaded for a report: one year, by village), copied otherwise. Copying the country's
    /// 456,459 into a tree was 0.45 s of its report.
    pub(super) cadres: HashMap<&'a RegionCode, Cow<'a, [Cadre]>>,
    /// The year's report date (SPEC §16): 31 December, or today while the year runs.
    pub report_date: crate::date::Date,
    /// Land rents of the county's contracts signed this year or last, for `below_peers`.
    pub(super) peers: crate::contracts::Peers,
    /// Every grant by id, for subsidy assets.
    pub(super) grant_index: BTreeMap<&'a str, &'a Grant>,
}
