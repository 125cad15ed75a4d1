//! The alerts of every listed village with books, computed before the walk over the villages and on
//! every core: reading each village's entries is most of a province's report.

use std::collections::BTreeMap;

use super::build::Build;
use super::ReportError;
use crate::alerts::Alert;
use crate::books::YearBook;
use crate::region::RegionCode;
use crate::subsidy::{Grant, GrantReturn};

/// Villages below this many are done on the calling thread (threads cost more than they save).
const PARALLEL_FROM: usize = 1_000;

/// The alerts of `with_books`, in the same order; `grants` are the report's, in input order.
pub(super) fn all(
    b: &Build<'_, '_>,
    grants: &[&Grant],
    with_books: &[(&RegionCode, &YearBook)],
) -> Result<Vec<Vec<Alert>>, ReportError> {
    let returns: Vec<GrantReturn> = grants
        .iter()
        .map(|g| super::subsidy::returns_of(b, g))
        .collect();
    let mut by_village: BTreeMap<&RegionCode, Vec<(usize, &GrantReturn)>> = BTreeMap::new();
    for (i, g) in returns.iter().enumerate() {
        by_village.entry(&g.village).or_default().push((i, g));
    }
    let one = |v: &(&RegionCode, &YearBook)| of_village(b, &by_village, v.0, v.1);
    let computed: Vec<Result<Vec<Alert>, ReportError>> = if with_books.len() < PARALLEL_FROM {
        with_books.iter().map(one).collect()
    } else {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8);
        let per_thread = with_books.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            let parts: Vec<_> = with_books
                .chunks(per_thread)
                .map(|part| s.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    computed.into_iter().collect()
}

/// One village's alerts: its books against last year's, its entries, and the returns of its own
/// grants and those of the villages merged into it, in grant order.
fn of_village(
    b: &Build<'_, '_>,
    by_village: &BTreeMap<&RegionCode, Vec<(usize, &GrantReturn)>>,
    code: &RegionCode,
    book: &YearBook,
) -> Result<Vec<Alert>, ReportError> {
    let (regions, y, input) = (b.input.regions, b.year, b.input);
    let previous = input.books.compared(regions, code, y - 1, y);
    let mut mine: Vec<(usize, &GrantReturn)> = std::iter::once(code)
        .chain(regions.all_predecessors(code).iter())
        .flat_map(|v| by_village.get(v).into_iter().flatten().copied())
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
    Ok(crate::alerts::village_alerts(
        &b.policy.alerts,
        &crate::alerts::VillageYear {
            village: code.as_str(),
            year: y,
            totals: &book.totals,
            previous: previous.as_ref().map(|p| &p.totals),
            entries: &entries,
            grants: &mine,
            bands: b.policy.bands.as_ref().zip(b.band_measure.as_ref()),
            today: input.today,
        },
    ))
}
