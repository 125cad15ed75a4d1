//! The alerts of a listed village with books, computed in the walk over the villages on every core:
//! reading each village's entries is most of a province's report.

use std::collections::BTreeMap;

use super::walk::Build;
use super::ReportError;
use crate::alerts::Alert;
use crate::books::YearBook;
use crate::region::RegionCode;
use crate::subsidy::{Grant, GrantReturn};

/// The report's grant returns by village, each with its place among the report's grants.
pub(super) type ReturnsByVillage = BTreeMap<RegionCode, Vec<(usize, GrantReturn)>>;

/// The returns of the report's `grants` (in input order), by village.
pub(super) fn returns_by_village(b: &Build<'_, '_>, grants: &[&Grant]) -> ReturnsByVillage {
    let mut by_village: ReturnsByVillage = BTreeMap::new();
    for (i, g) in grants.iter().enumerate() {
        let r = super::subsidy::returns_of(b, g);
        by_village
            .entry(r.village.clone())
            .or_default()
            .push((i, r));
    }
    by_village
}

/// One village's alerts: its books against last year's, its entries, and the returns of its own
/// grants and those of the villages merged into it, in grant order.
pub(super) fn of_village(
    b: &Build<'_, '_>,
    by_village: &ReturnsByVillage,
    code: &RegionCode,
    book: &YearBook,
) -> Result<Vec<Alert>, ReportError> {
    let (regions, y, input) = (b.input.regions, b.year, b.input);
    let previous = input.books.compared(regions, code, y - 1, y);
    // Grants are numbered in input order within each village; a successor's list puts its own
    // and its predecessors' in that order again.
    let mut mine: Vec<(usize, &GrantReturn)> = std::iter::once(code)
        .chain(regions.all_predecessors(code).iter())
        .flat_map(|v| by_village.get(v).into_iter().flatten())
        .map(|(i, g)| (*i, g))
        .collect();
    mine.sort_by_key(|(i, _)| *i);
    let mine: Vec<GrantReturn> = mine.into_iter().map(|(_, g)| g.clone()).collect();
    let entries = input
        .entries
        .entries_of(code)
        .map_err(|reason| ReportError::Entries {
            village: code.to_string(),
            reason,
        })?;
    crate::alerts::village_alerts(
        &b.policy.alerts,
        &crate::alerts::VillageYear {
            village: code.as_str(),
            year: y,
            totals: &book.totals,
            previous: previous.as_ref().map(|p| &p.totals),
            sums: &entries.sums,
            entries: entries.entries.as_deref(),
            grants: &mine,
            bands: b.policy.bands.as_ref().zip(b.band_measure.as_ref()),
            today: input.today,
        },
    )
    .map_err(|_| ReportError::Entries {
        village: code.to_string(),
        reason: "分录未读入".into(),
    })
}
