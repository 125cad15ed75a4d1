//! The report's grants with their returns, and the subsidy summary of SPEC §7.

use std::collections::BTreeMap;

use super::walk::Build;
use super::{ReportError, SubsidySummary};
use crate::money::{Fen, FenSum};
use crate::subsidy::{Grant, GrantReturn};

/// A grant's return in the report year.
pub(super) fn returns_of(b: &Build<'_, '_>, g: &Grant) -> GrantReturn {
    let actual = b
        .input
        .project_actuals
        .get(&g.project)
        .copied()
        .unwrap_or_default();
    g.returns_in(b.year, actual)
}

/// The grants in grant-id order with their returns, and the summary: granted per source level
/// (checked against overflow), supported villages, and the mean increase of each group.
pub(super) fn summary(
    b: &Build<'_, '_>,
    mut grants: Vec<&Grant>,
    supported_villages: u64,
    increases: &[Vec<Fen>; 2],
) -> Result<(Vec<GrantReturn>, SubsidySummary), ReportError> {
    grants.sort_by(|x, y| x.grant.cmp(&y.grant));
    let mut by_level: BTreeMap<String, Fen> = BTreeMap::new();
    let mut granted_total = Fen::ZERO;
    for g in &grants {
        let e = by_level.entry(g.level.key().to_string()).or_default();
        let overflow = |what: &str| ReportError::Overflow(format!("{what}扶持资金合计"));
        *e = e
            .checked_add(g.amount)
            .ok_or_else(|| overflow(g.level.name_zh()))?;
        granted_total = granted_total
            .checked_add(g.amount)
            .ok_or_else(|| overflow("各级"))?;
    }
    let returns = grants.iter().map(|g| returns_of(b, g)).collect();
    let summary = SubsidySummary {
        by_level,
        supported_villages,
        avg_increase_supported: mean(&increases[1]),
        avg_increase_unsupported: mean(&increases[0]),
    };
    Ok((returns, summary))
}

/// The mean, rounded to fen half away from zero; `None` for no values.
fn mean(v: &[Fen]) -> Option<Fen> {
    (!v.is_empty()).then(|| FenSum::of(v.iter().copied()).mean(v.len()))
}
