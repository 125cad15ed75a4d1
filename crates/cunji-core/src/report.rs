//! The annual report of SPEC §11: villages with measures, bands and incentives; regions with band
//! counts and targets; grants with their returns; the subsidy summary. Built from plain inputs so that
//! every figure can be tested without a database.

use std::collections::{BTreeMap, BTreeSet};

use serde::ser::SerializeMap;
use serde::Serialize;

use crate::alerts::Alert;
use crate::bands::TargetResult;
use crate::books::{Books, YearBook};
use crate::cadre::Cadre;
use crate::incentive::evaluate::{
    evaluate, IncentiveError, IncentiveResult, Reason, VillageFigures,
};
use crate::measure::Measure;
use crate::money::{round_div, Fen};
use crate::policy::Policy;
use crate::region::{Level, RegionCode, RegionSet};
use crate::subsidy::{Grant, GrantReturn};

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
}

/// Where a report finds a village's entries of the year, for its alerts: a map in memory, or a store
/// that keeps them compactly and reads a village's only when its report asks.
pub trait EntrySource: Sync {
    /// The village's entries in date order; an error says what could not be read.
    fn entries_of(&self, village: &RegionCode) -> Result<EntryFacts<'_>, String>;
}

pub type EntryFacts<'a> = std::borrow::Cow<'a, [crate::alerts::EntryFact]>;

impl EntrySource for BTreeMap<RegionCode, Vec<crate::alerts::EntryFact>> {
    fn entries_of(&self, village: &RegionCode) -> Result<EntryFacts<'_>, String> {
        Ok(std::borrow::Cow::Borrowed(
            self.get(village).map(|v| v.as_slice()).unwrap_or(&[]),
        ))
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
        Fen::from_fen(
            self.by_level
                .values()
                .fold(0i64, |t, f| t.saturating_add(f.fen())),
        )
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

/// Is the village within the policy's region prefix and the `--region` scope?
fn in_scope(policy: &Policy, scope: Option<&RegionCode>, code: &RegionCode) -> bool {
    policy
        .region
        .as_deref()
        .is_none_or(|p| code.as_str().starts_with(p))
        && scope.is_none_or(|s| s.contains(code))
}

#[derive(Default)]
struct RegionAgg {
    villages: u64,
    with_data: u64,
    bands: Vec<Option<usize>>,
    incentive_total: i64,
    awards_total: i64,
    total_income: i64,
    operating_income: i64,
}

/// Every cadre row of a listed village in the report year must carry a rating the plan's appraisal
/// table names, whether or not that person shares in a pool (SPEC §6 step 8): a typo in a rating is
/// found when the report is made, not when the person first becomes eligible. In person-id order.
fn check_ratings(
    policy: &Policy,
    village: &RegionCode,
    cadres: &[Cadre],
) -> Result<(), ReportError> {
    let Some(table) = policy.incentive.as_ref().and_then(|p| p.appraisal.as_ref()) else {
        return Ok(());
    };
    let mut unknown: Vec<&Cadre> = cadres
        .iter()
        .filter(|c| c.appraisal.as_ref().is_some_and(|r| !table.contains_key(r)))
        .collect();
    unknown.sort_by(|a, b| a.person.cmp(&b.person));
    match unknown.first() {
        None => Ok(()),
        Some(c) => Err(IncentiveError::UnknownRating {
            village: village.to_string(),
            person: c.person.clone(),
            name: c.name.clone(),
            rating: c.appraisal.clone().unwrap_or_default(),
        }
        .into()),
    }
}

pub fn build_report(policy: &Policy, input: &ReportInput<'_>) -> Result<Report, ReportError> {
    let y = input.year;
    if let Some((from, to)) = policy.years {
        if !policy.in_force(y) {
            return Err(ReportError::NotInForce {
                policy: policy.name.clone(),
                from,
                to,
                year: y,
            });
        }
    }
    if let Some(s) = input.scope {
        if !input.regions.contains(s) {
            return Err(ReportError::UnknownRegion(s.to_string()));
        }
    }
    let regions = input.regions;
    let books = input.books;
    let measures = policy.measures();
    let band_measure: Option<Measure> = policy
        .bands
        .as_ref()
        .and_then(|b| policy.measure(&b.measure));
    let standard = Measure::standard();
    let total = standard[0].clone();
    let operating = standard[1].clone();

    let mut cadres_by_village: BTreeMap<&RegionCode, Vec<Cadre>> = BTreeMap::new();
    // Only the cadres of villages in the report: a village's page on a national register would
    // otherwise copy half a million.
    for c in input
        .cadres
        .iter()
        .filter(|c| c.year == y && in_scope(policy, input.scope, &c.village))
    {
        cadres_by_village
            .entry(&c.village)
            .or_default()
            .push(c.clone());
    }

    // A grant belongs to the report when its village, or a village it was merged into, is in scope
    // (most villages were never merged: their own code answers without walking a chain).
    let grant_in_scope = |g: &Grant| {
        in_scope(policy, input.scope, &g.village)
            || (regions.successor_of(&g.village).is_some()
                && regions
                    .successor_chain(&g.village)
                    .iter()
                    .any(|v| in_scope(policy, input.scope, v)))
    };
    // Villages supported by a grant of year ≤ Y (themselves; predecessors are looked up per village).
    let granted: BTreeSet<&RegionCode> = input
        .grants
        .iter()
        .filter(|g| g.year <= y && grant_in_scope(g))
        .map(|g| &g.village)
        .collect();

    let mut listed_cadres: Vec<Cadre> = Vec::new();
    let mut alerts = Vec::new();
    let grant_returns: Vec<GrantReturn> = input
        .grants
        .iter()
        .filter(|g| g.year <= y && grant_in_scope(g))
        .map(|g| {
            g.returns_in(
                y,
                input
                    .project_actuals
                    .get(&g.project)
                    .copied()
                    .unwrap_or_default(),
            )
        })
        .collect();
    let mut returns_by_village: BTreeMap<&RegionCode, Vec<(usize, &GrantReturn)>> = BTreeMap::new();
    for (i, g) in grant_returns.iter().enumerate() {
        returns_by_village
            .entry(&g.village)
            .or_default()
            .push((i, g));
    }
    // The alerts of every village with books, computed first and on every core: reading each
    // village's entries is most of a province's report. The loop below takes them in the same order.
    // Only the register's range of the narrower of the asked region and the policy's region is walked:
    // a village's page on a national register reads one village, not half a million.
    let prefix = match (input.scope, policy.region.as_deref()) {
        (Some(s), Some(p)) if p.len() > s.prefix().len() => p.to_string(),
        (Some(s), _) => s.prefix().to_string(),
        (None, Some(p)) => p.to_string(),
        (None, None) => String::new(),
    };
    let with_books: Vec<(&RegionCode, &YearBook)> = regions
        .with_prefix(&prefix)
        .filter(|r| r.level() == Level::Village && in_scope(policy, input.scope, &r.code))
        .filter_map(|r| {
            let own = books.own(&r.code, y).filter(|b| b.has_data())?;
            regions
                .is_listed(&r.code, y, true)
                .then_some((&r.code, own))
        })
        .collect();
    let alerts_of = |(code, b): &(&RegionCode, &YearBook)| -> Result<Vec<Alert>, ReportError> {
        let previous = books.compared(regions, code, y - 1, y);
        // A village's own grants and those of the villages merged into it, in grant order.
        let mut mine: Vec<(usize, &GrantReturn)> = std::iter::once(*code)
            .chain(regions.all_predecessors(code).iter())
            .flat_map(|v| returns_by_village.get(v).into_iter().flatten().copied())
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
            &policy.alerts,
            &crate::alerts::VillageYear {
                village: code.as_str(),
                year: y,
                totals: &b.totals,
                previous: previous.as_ref().map(|p| &p.totals),
                entries: &entries,
                grants: &mine,
                bands: policy.bands.as_ref().zip(band_measure.as_ref()),
                today: input.today,
            },
        ))
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let per_thread = with_books.len().div_ceil(threads).max(1);
    let computed: Vec<Result<Vec<Alert>, ReportError>> = if with_books.len() < 1_000 {
        with_books.iter().map(alerts_of).collect()
    } else {
        std::thread::scope(|s| {
            let parts: Vec<_> = with_books
                .chunks(per_thread)
                .map(|part| s.spawn(move || part.iter().map(alerts_of).collect::<Vec<_>>()))
                .collect();
            parts
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    let mut village_alerts = Vec::with_capacity(computed.len());
    for a in computed {
        village_alerts.push(a?);
    }
    let mut village_alerts = village_alerts.into_iter();

    let mut villages = Vec::new();
    let mut aggs: BTreeMap<RegionCode, RegionAgg> = BTreeMap::new();
    let mut increases: [Vec<i64>; 2] = [Vec::new(), Vec::new()]; // [unsupported, supported]
    let mut supported_villages = 0u64;

    for region in regions
        .with_prefix(&prefix)
        .filter(|r| r.level() == Level::Village)
    {
        let code = &region.code;
        if !in_scope(policy, input.scope, code) {
            continue;
        }
        let own = books.own(code, y).filter(|b| b.has_data());
        if !regions.is_listed(code, y, own.is_some()) {
            continue;
        }
        if let Some(cs) = cadres_by_village.get(code) {
            check_ratings(policy, code, cs)?;
            listed_cadres.extend(cs.iter().cloned());
        }
        let measures_out = own.map(|b| {
            Ordered(
                measures
                    .iter()
                    .map(|m| (m.key.clone(), m.value(&b.totals)))
                    .collect(),
            )
        });
        let band_index = match (&policy.bands, &band_measure, own) {
            (Some(scheme), Some(m), Some(b)) => Some(scheme.band_of(m.value(&b.totals))),
            _ => None,
        };
        let band = band_index.map(|i| {
            policy
                .bands
                .as_ref()
                .map(|s| s.bands[i].name.clone())
                .unwrap_or_default()
        });

        let incentive = match &policy.incentive {
            None => None,
            Some(plan) => {
                let current = own.map(|b| plan.measure.value(&b.totals));
                let mut earlier = BTreeMap::new();
                if current.is_some() {
                    for t in books.earlier_years(regions, code, y) {
                        if let Some(b) = books.compared(regions, code, t, y) {
                            earlier.insert(t, plan.measure.value(&b.totals));
                        }
                    }
                }
                let cadres = cadres_by_village
                    .get(code)
                    .map(|v| v.as_slice())
                    .unwrap_or(&[]);
                Some(evaluate(
                    plan,
                    &policy.name,
                    &VillageFigures {
                        village: code.as_str(),
                        year: y,
                        current,
                        earlier: &earlier,
                        cadres,
                    },
                )?)
            }
        };

        if own.is_some() {
            alerts.extend(village_alerts.next().unwrap_or_default());
        }

        // A predecessor's grant counts for its successor only once the merge has taken effect
        // (SPEC §7); before it, for the predecessor alone.
        let supported = granted.contains(code)
            || regions
                .predecessors_merged_by(code, y)
                .iter()
                .any(|p| granted.contains(p));
        if supported {
            supported_villages += 1;
        }
        if let (Some(b), Some(prev)) = (own, books.compared(regions, code, y - 1, y)) {
            let inc = operating.value(&b.totals).fen() - operating.value(&prev.totals).fen();
            increases[supported as usize].push(inc);
        }

        let (pool, awarded) = match &incentive {
            Some(r) => (r.pool.fen(), r.awarded().fen()),
            None => (0, 0),
        };
        for anc in code.ancestors() {
            if !regions.contains(&anc) {
                continue;
            }
            let name = &regions
                .get(&anc)
                .map(|r| r.name.clone())
                .unwrap_or_default();
            let a = aggs.entry(anc.clone()).or_default();
            a.villages += 1;
            a.with_data += own.is_some() as u64;
            a.bands.push(band_index);
            let sum = |into: &mut i64, add: i64, what: &str| {
                *into = into
                    .checked_add(add)
                    .ok_or_else(|| ReportError::Overflow(format!("{name}（{anc}）的{what}")))?;
                Ok::<(), ReportError>(())
            };
            sum(&mut a.incentive_total, pool, "奖励总额")?;
            sum(&mut a.awards_total, awarded, "奖励发放合计")?;
            if let Some(b) = own {
                sum(
                    &mut a.total_income,
                    total.value(&b.totals).fen(),
                    "总收入合计",
                )?;
                sum(
                    &mut a.operating_income,
                    operating.value(&b.totals).fen(),
                    "经营性收入合计",
                )?;
            }
        }

        villages.push(VillageReport {
            code: code.clone(),
            name: region.name.clone(),
            has_data: own.is_some(),
            measures: measures_out,
            band,
            incentive,
        });
    }

    let mut region_reports = Vec::new();
    for (code, a) in aggs {
        if let Some(s) = input.scope {
            if !s.contains(&code) {
                continue;
            }
        }
        let Some(r) = regions.get(&code) else {
            continue;
        };
        let bands = match &policy.bands {
            Some(scheme) => Ordered(
                scheme
                    .bands
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        (
                            b.name.clone(),
                            a.bands.iter().filter(|x| **x == Some(i)).count() as u64,
                        )
                    })
                    .collect(),
            ),
            None => Ordered::default(),
        };
        // Without a band scheme there is nothing to count; with one, a village without data has no band.
        let has_scheme_bands: Vec<Option<usize>> = if policy.bands.is_some() {
            a.bands.clone()
        } else {
            vec![]
        };
        region_reports.push(RegionReport {
            code: code.clone(),
            name: r.name.clone(),
            level: code.level(),
            villages: a.villages,
            with_data: a.with_data,
            bands,
            targets: policy
                .targets
                .iter()
                .map(|t| t.check(&has_scheme_bands))
                .collect(),
            incentive_total: Fen::from_fen(a.incentive_total),
            awards_total: Fen::from_fen(a.awards_total),
            total_income: Fen::from_fen(a.total_income),
            operating_income: Fen::from_fen(a.operating_income),
            avg_operating_income: (a.with_data > 0).then(|| {
                Fen::from_fen(round_div(a.operating_income as i128, a.with_data as i128) as i64)
            }),
        });
    }

    let mut grants: Vec<&Grant> = input
        .grants
        .iter()
        .filter(|g| g.year <= y && grant_in_scope(g))
        .collect();
    grants.sort_by(|a, b| a.grant.cmp(&b.grant));
    let mut by_level: BTreeMap<String, Fen> = BTreeMap::new();
    let mut granted_total = Fen::ZERO;
    for g in &grants {
        let e = by_level.entry(g.level.key().to_string()).or_default();
        let overflow = |what: &str| ReportError::Overflow(format!("{}扶持资金合计", what));
        *e = e
            .checked_add(g.amount)
            .ok_or_else(|| overflow(g.level.name_zh()))?;
        granted_total = granted_total
            .checked_add(g.amount)
            .ok_or_else(|| overflow("各级"))?;
    }
    let grant_returns = grants
        .iter()
        .map(|g| {
            g.returns_in(
                y,
                input
                    .project_actuals
                    .get(&g.project)
                    .copied()
                    .unwrap_or_default(),
            )
        })
        .collect();

    let mean = |v: &Vec<i64>| -> Option<Fen> {
        (!v.is_empty()).then(|| {
            Fen::from_fen(round_div(v.iter().map(|x| *x as i128).sum(), v.len() as i128) as i64)
        })
    };

    let pay_floor = policy
        .pay_floor
        .as_ref()
        .map(|pf| crate::pay_floor::check(pf, y, &listed_cadres, input.stats));

    Ok(Report {
        alerts,
        pay_floor,
        year: y,
        policy: policy.name.clone(),
        villages,
        regions: region_reports,
        grants: grant_returns,
        subsidy_summary: SubsidySummary {
            by_level,
            supported_villages,
            avg_increase_supported: mean(&increases[1]),
            avg_increase_unsupported: mean(&increases[0]),
        },
    })
}

/// The reason a village without an incentive result shows, for renderers.
pub fn reason_of(v: &VillageReport) -> Option<Reason> {
    v.incentive.as_ref().and_then(|i| i.reason)
}
