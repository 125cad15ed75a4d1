//! The walk over a report's villages, in code order: each listed village's measures, band, incentive
//! and alerts, and what its regions and the subsidy summary gather from it.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::regions::RegionAgg;
use super::walk::Build;
use super::{ContractYear, Ordered, ReportError, ReportInput, VillageReport};
use crate::alerts::Alert;
use crate::books::YearBook;
use crate::cadre::Cadre;
use crate::incentive::evaluate::{evaluate_told, IncentiveError, IncentiveResult, VillageFigures};
use crate::measure::Measure;
use crate::money::Fen;
use crate::policy::Policy;
use crate::region::{Level, Region, RegionCode};
use crate::subsidy::Grant;

/// Is the village within the policy's region prefix and the `--region` scope?
fn in_scope(policy: &Policy, scope: Option<&RegionCode>, code: &RegionCode) -> bool {
    policy
        .region
        .as_deref()
        .is_none_or(|p| code.as_str().starts_with(p))
        && scope.is_none_or(|s| s.contains(code))
}

/// The policy is in force in the year, and the asked region is registered.
pub(super) fn check_input(policy: &Policy, input: &ReportInput<'_>) -> Result<(), ReportError> {
    if let Some((from, to)) = policy.years {
        if !policy.in_force(input.year) {
            return Err(ReportError::NotInForce {
                policy: policy.name.clone(),
                from,
                to,
                year: input.year,
            });
        }
    }
    match input.scope {
        Some(s) if !input.regions.contains(s) => Err(ReportError::UnknownRegion(s.to_string())),
        _ => Ok(()),
    }
}

/// One listed village's own figures, computed beside the others.
struct VillageDone {
    report: VillageReport,
    band_index: Option<usize>,
    supported: bool,
    increase: Option<Fen>,
}

/// What the walk over the villages gathers.
pub(super) struct Walk {
    pub villages: Vec<VillageReport>,
    pub alerts: Vec<Alert>,
    pub listed_cadres: Vec<Cadre>,
    pub aggs: BTreeMap<RegionCode, RegionAgg>,
    /// Increases of operating income on last year: `[unsupported, supported]`.
    pub increases: [Vec<Fen>; 2],
    pub supported_villages: u64,
}

impl<'a, 'i> Build<'a, 'i> {
    pub fn new(policy: &'a Policy, input: &'a ReportInput<'i>) -> Self {
        let standard = Measure::standard();
        let prefix = match (input.scope, policy.region.as_deref()) {
            (Some(s), Some(p)) if p.len() > s.prefix().len() => p.to_string(),
            (Some(s), _) => s.prefix().to_string(),
            (None, Some(p)) => p.to_string(),
            (None, None) => String::new(),
        };
        let cadres = cadres_by_village(input.cadres, |c| {
            c.year == input.year && in_scope(policy, input.scope, &c.village)
        });
        Build {
            policy,
            input,
            year: input.year,
            measures: policy.measures(),
            band_measure: policy
                .bands
                .as_ref()
                .and_then(|s| policy.measure(&s.measure)),
            total: standard[0].clone(),
            operating: standard[1].clone(),
            prefix,
            cadres,
            report_date: crate::contracts::report_date(input.year, input.today),
            peers: crate::contracts::Peers::of(input.contracts, input.year),
            grant_index: input.grants.iter().map(|g| (g.grant.as_str(), g)).collect(),
        }
    }

    /// A village's contract figures and alerts of the year (SPEC §16); nothing for a village
    /// without contract data.
    pub(super) fn contracts_of(
        &self,
        code: &RegionCode,
    ) -> Result<(Option<crate::contracts::VillageContracts>, Vec<Alert>), ReportError> {
        if let Some(k) = self.input.kept_contracts {
            if !k.serves(self.year, self.report_date, &self.policy.contracts) {
                return Err(ReportError::KeptContractsMismatch);
            }
            let ContractYear { figures, alerts } = k.of(code);
            return Ok((figures, alerts));
        }
        let cx = crate::contracts::ContractContext {
            settings: &self.policy.contracts,
            peers: &self.peers,
            grants: &self.grant_index,
            project_actuals: self.input.project_actuals,
        };
        let y = super::contract_years::village_contract_year(
            &cx,
            code,
            self.input.contracts.of(code),
            self.year,
            self.report_date,
        )?;
        Ok((y.figures, y.alerts))
    }

    /// Is the village within the policy's region prefix and the `--region` scope?
    pub fn in_scope(&self, code: &RegionCode) -> bool {
        in_scope(self.policy, self.input.scope, code)
    }

    /// A grant belongs to the report when its village, or a village it was merged into, is in scope
    /// (most villages were never merged: their own code answers without walking a chain).
    fn grant_in_scope(&self, g: &Grant) -> bool {
        let regions = self.input.regions;
        self.in_scope(&g.village)
            || (regions.successor_of(&g.village).is_some()
                && regions
                    .successor_chain(&g.village)
                    .iter()
                    .any(|v| self.in_scope(v)))
    }

    /// The grants of year ≤ Y in the report, in input order.
    pub fn grants_in_report(&self) -> Vec<&'a Grant> {
        let input: &'a ReportInput<'i> = self.input;
        input
            .grants
            .iter()
            .filter(|g| g.year <= self.year && self.grant_in_scope(g))
            .collect()
    }

    /// The listed villages of the walked range, in code order, each with its own book of the year.
    fn listed_villages(&self) -> impl Iterator<Item = (&'a Region, Option<&'a YearBook>)> + '_ {
        let (regions, books, y) = (self.input.regions, self.input.books, self.year);
        regions
            .with_prefix(&self.prefix)
            .filter(move |r| r.level() == Level::Village && self.in_scope(&r.code))
            .filter_map(move |r| {
                let own = books.own(&r.code, y).filter(|b| b.has_data());
                regions
                    .is_listed(&r.code, y, own.is_some())
                    .then_some((r, own))
            })
    }

    /// Walks the listed villages once, in code order: each village's own figures on every core,
    /// then what its regions gather, in order. A village's entries that cannot be read are the
    /// first error reported, before any village's ratings are judged.
    pub fn walk_villages(&self, grants: &[&Grant]) -> Result<Walk, ReportError> {
        let granted: BTreeSet<&RegionCode> = grants.iter().map(|g| &g.village).collect();
        let returns = super::alerts::returns_by_village(self, grants);
        let listed: Vec<(&Region, Option<&YearBook>)> = self.listed_villages().collect();
        let parts = crate::parallel::map_in_parts(&listed, |&(region, own)| {
            let alerts = match own {
                Some(book) => super::alerts::of_village(self, &returns, &region.code, book),
                None => Ok(Vec::new()),
            };
            // The contracts' alerts follow the books' (a village without books may still owe rent).
            let (figures, more) = match self.contracts_of(&region.code) {
                Ok((f, a)) => (f, Ok(a)),
                Err(e) => (None, Err(e)),
            };
            let alerts = alerts.and_then(|mut a| {
                a.extend(more?);
                Ok(a)
            });
            let done = self.village_done(region, own, &granted).map(|mut d| {
                d.report.contracts = figures;
                d
            });
            (alerts, done)
        });
        if let Some(e) = parts.iter().flatten().find_map(|(a, _)| a.as_ref().err()) {
            return Err(e.clone());
        }
        let mut walk = Walk {
            villages: Vec::with_capacity(listed.len()),
            alerts: Vec::new(),
            listed_cadres: Vec::new(),
            aggs: BTreeMap::new(),
            increases: [Vec::new(), Vec::new()],
            supported_villages: 0,
        };
        // Only the pay floor reads every listed cadre again.
        let keep_cadres = self.policy.pay_floor.is_some();
        let mut gathered = super::regions::Gathered::default();
        let villages = listed.into_iter().zip(parts.into_iter().flatten());
        for ((region, own), (village_alerts, done)) in villages {
            let d = done?;
            if keep_cadres {
                walk.listed_cadres
                    .extend(self.cadres_of(&region.code).iter().cloned());
            }
            walk.alerts.extend(village_alerts.unwrap_or_default());
            walk.supported_villages += d.supported as u64;
            if let Some(inc) = d.increase {
                walk.increases[d.supported as usize].push(inc);
            }
            let (pool, awarded) = match &d.report.incentive {
                Some(r) => (r.pool, r.awarded()),
                None => (Fen::ZERO, Fen::ZERO),
            };
            gathered.add(self, &region.code, own, d.band_index, pool, awarded)?;
            walk.villages.push(d.report);
        }
        walk.aggs = gathered.by_code();
        Ok(walk)
    }

    fn cadres_of(&self, code: &RegionCode) -> &[Cadre] {
        self.cadres.get(code).map(|v| v.as_ref()).unwrap_or(&[])
    }

    /// One listed village's own figures: its ratings checked, its report, and its support.
    fn village_done(
        &self,
        region: &Region,
        own: Option<&YearBook>,
        granted: &BTreeSet<&RegionCode>,
    ) -> Result<VillageDone, ReportError> {
        let cadres = self.cadres_of(&region.code);
        check_ratings(self.policy, &region.code, cadres)?;
        let (report, band_index) = self.village_report(region, own, cadres)?;
        let (supported, increase) = self.support_of(&region.code, own, granted);
        Ok(VillageDone {
            report,
            band_index,
            supported,
            increase,
        })
    }

    /// A village's measures, band and incentive; and its band's index, for its regions' counts.
    fn village_report(
        &self,
        region: &Region,
        own: Option<&YearBook>,
        cadres: &[Cadre],
    ) -> Result<(VillageReport, Option<usize>), ReportError> {
        let policy = self.policy;
        let measures = own.map(|b| {
            Ordered(
                self.measures
                    .iter()
                    .map(|m| (m.key.clone(), m.value(&b.totals)))
                    .collect(),
            )
        });
        let band_index = match (&policy.bands, &self.band_measure, own) {
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
        let report = VillageReport {
            code: region.code.clone(),
            name: region.name.clone(),
            has_data: own.is_some(),
            measures,
            band,
            incentive: self.incentive_of(&region.code, own, cadres, false)?.0,
            distribution: self.input.distributions.get(&region.code).copied(),
            // Filled in beside the contracts' alerts, which read the same figures.
            contracts: None,
        };
        Ok((report, band_index))
    }

    /// The village's story for villagers (SPEC §15): the steps of its incentive told in plain
    /// words; `None` without a plan.
    pub fn story_of(&self, code: &RegionCode) -> Result<Option<Vec<String>>, IncentiveError> {
        let own = self
            .input
            .books
            .own(code, self.year)
            .filter(|b| b.has_data());
        Ok(self.incentive_of(code, own, self.cadres_of(code), true)?.1)
    }

    /// The village's incentive under the policy's plan (SPEC §6), or `None` without a plan; with
    /// `story`, told for villagers too.
    fn incentive_of(
        &self,
        code: &RegionCode,
        own: Option<&YearBook>,
        cadres: &[Cadre],
        story: bool,
    ) -> Result<(Option<IncentiveResult>, Option<Vec<String>>), IncentiveError> {
        let Some(plan) = &self.policy.incentive else {
            return Ok((None, None));
        };
        let (regions, books, y) = (self.input.regions, self.input.books, self.year);
        let current = own.map(|b| plan.measure.value(&b.totals));
        let mut earlier = BTreeMap::new();
        if current.is_some() {
            for t in books.earlier_years(regions, code, y) {
                if let Some(b) = books.compared(regions, code, t, y) {
                    earlier.insert(t, plan.measure.value(&b.totals));
                }
            }
        }
        let figures = VillageFigures {
            village: code.as_str(),
            year: y,
            current,
            earlier: &earlier,
            cadres,
        };
        let (result, told) = evaluate_told(plan, &self.policy.name, &figures, story)?;
        Ok((Some(result), told))
    }

    /// Whether the village counts as supported, and its increase on last year. A predecessor's
    /// grant counts for its successor only once the merge has taken effect (SPEC §7); before it,
    /// for the predecessor alone.
    fn support_of(
        &self,
        code: &RegionCode,
        own: Option<&YearBook>,
        granted: &BTreeSet<&RegionCode>,
    ) -> (bool, Option<Fen>) {
        let (regions, books, y) = (self.input.regions, self.input.books, self.year);
        let supported = granted.contains(code)
            || regions
                .predecessors_merged_by(code, y)
                .iter()
                .any(|p| granted.contains(p));
        let increase = match (own, books.compared(regions, code, y - 1, y)) {
            (Some(b), Some(prev)) => {
                let op = &self.operating;
                Some(op.value(&b.totals).saturating_sub(op.value(&prev.totals)))
            }
            _ => None,
        };
        (supported, increase)
    }
}

/// The cadres that `keep` keeps, by village, in input order within each village.
fn cadres_by_village<'a>(
    all: &'a [Cadre],
    keep: impl Fn(&Cadre) -> bool,
) -> HashMap<&'a RegionCode, Cow<'a, [Cadre]>> {
    let mut out: HashMap<&'a RegionCode, Cow<'a, [Cadre]>> = HashMap::new();
    for run in all.chunk_by(|a, b| a.village == b.village) {
        let village = &run[0].village;
        let whole = run.iter().all(&keep);
        match out.get_mut(village) {
            None if whole => {
                out.insert(village, Cow::Borrowed(run));
            }
            None => {
                let kept: Vec<Cadre> = run.iter().filter(|c| keep(c)).cloned().collect();
                if !kept.is_empty() {
                    out.insert(village, Cow::Owned(kept));
                }
            }
            Some(have) => have
                .to_mut()
                .extend(run.iter().filter(|c| keep(c)).cloned()),
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cadre::Role;

    fn cadre(village: &str, year: i32, person: &str) -> Cadre {
        Cadre {
            village: RegionCode::parse(village).unwrap(),
            year,
            person: person.into(),
            name: person.into(),
            role: Role::Secretary,
            months_in_post: 12,
            sanctioned: false,
            base_pay: None,
            appraisal: None,
        }
    }

    /// Borrowed runs or copies, each village gets what filtering the input in order gives.
    #[test]
    fn cadres_by_village_are_those_kept_in_input_order() {
        let (a, b) = ("110101001001", "110101001002");
        let inputs = [
            vec![
                cadre(a, 2024, "P1"),
                cadre(a, 2024, "P2"),
                cadre(b, 2024, "P1"),
            ],
            vec![
                cadre(a, 2023, "P1"),
                cadre(a, 2024, "P1"),
                cadre(a, 2024, "P2"),
                cadre(b, 2023, "P3"),
            ],
            vec![
                cadre(a, 2024, "P2"),
                cadre(b, 2024, "P1"),
                cadre(a, 2024, "P1"),
                cadre(a, 2023, "P0"),
            ],
            vec![],
        ];
        for all in &inputs {
            let keep = |c: &Cadre| c.year == 2024;
            let got = cadres_by_village(all, keep);
            let mut want: HashMap<&RegionCode, Vec<Cadre>> = HashMap::new();
            for c in all.iter().filter(|c| keep(c)) {
                want.entry(&c.village).or_default().push(c.clone());
            }
            let got: HashMap<&RegionCode, Vec<Cadre>> =
                got.into_iter().map(|(k, v)| (k, v.into_owned())).collect();
            assert_eq!(got, want);
        }
    }
}
