//! A year's contract figures and alerts of every village, made once and then read (SPEC §16):
//! a province's 150,163 contracts and 321,226 receipts took 2 s to read and judge, five times the
//! rest of its report, for figures that stay the same until the books change. A year's figures are
//! fixed once its report date is 31 December; the store keeps them and says when they still hold.

use std::collections::BTreeMap;

use super::{ReportError, ReportInput};
use crate::alerts::Alert;
use crate::contracts::{
    contract_alerts, report_date, village_year, ContractContext, ContractSettings, Overflow, Peers,
    VillageContractData, VillageContracts,
};
use crate::date::Date;
use crate::region::RegionCode;
use crate::subsidy::Grant;

/// One village's contract figures (`None`: it has no contract at all) and contract alerts of a year.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContractYear {
    pub figures: Option<VillageContracts>,
    pub alerts: Vec<Alert>,
}

/// Every village's [`ContractYear`] of `year` at report date `at` under `settings`: what any report
/// of that year with those settings shows of contracts (the figures depend on no report's scope).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractYears {
    pub year: i32,
    pub at: Date,
    pub settings: ContractSettings,
    /// The villages with contract data, in code order (looked up by halving: a province's 50,000
    /// hashed by SipHash were 2% of its report); any other village has nothing to show.
    villages: Vec<(RegionCode, ContractYear)>,
}

impl ContractYears {
    /// The figures of `villages` (any order; each village once: both callers give each code
    /// once, from a map of villages or a table keyed by village).
    pub fn new(
        year: i32,
        at: Date,
        settings: ContractSettings,
        mut villages: Vec<(RegionCode, ContractYear)>,
    ) -> ContractYears {
        villages.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        debug_assert!(villages.windows(2).all(|w| w[0].0 != w[1].0));
        ContractYears {
            year,
            at,
            settings,
            villages,
        }
    }

    /// Each village with contract data and its figures, in code order.
    pub fn villages(&self) -> impl Iterator<Item = (&RegionCode, &ContractYear)> {
        self.villages.iter().map(|(c, y)| (c, y))
    }

    /// Whether a report of `year` at report date `at` under `settings` shows these.
    pub fn serves(&self, year: i32, at: Date, settings: &ContractSettings) -> bool {
        self.year == year && self.at == at && &self.settings == settings
    }

    /// Whether a year's figures can be kept: its report date is 31 December (a year that is not
    /// running), so that only a change of the books changes them, not the passing of days.
    pub fn keepable(year: i32, today: Option<Date>) -> bool {
        report_date(year, today) == Date::year_end(year)
    }

    /// The village's figures and alerts.
    pub fn of(&self, village: &RegionCode) -> ContractYear {
        match self.villages.binary_search_by(|(c, _)| c.cmp(village)) {
            Ok(i) => self.villages[i].1.clone(),
            Err(_) => ContractYear::default(),
        }
    }
}

/// Every village's contract figures and alerts in `input`'s year under `settings`, made as a
/// report makes them (the villages of `input.contracts`, on every core).
pub fn contract_years(
    settings: &ContractSettings,
    input: &ReportInput<'_>,
) -> Result<ContractYears, ReportError> {
    let (year, at) = (input.year, report_date(input.year, input.today));
    let peers = Peers::of(input.contracts, year);
    let grants: BTreeMap<&str, &Grant> =
        input.grants.iter().map(|g| (g.grant.as_str(), g)).collect();
    let cx = ContractContext {
        settings,
        peers: &peers,
        grants: &grants,
        project_actuals: input.project_actuals,
    };
    let villages: Vec<(&RegionCode, &VillageContractData)> =
        input.contracts.villages.iter().collect();
    let parts = crate::parallel::map_in_parts(&villages, |&(code, data)| {
        village_contract_year(&cx, code, Some(data), year, at).map(|y| (code.clone(), y))
    });
    let villages = parts.into_iter().flatten().collect::<Result<Vec<_>, _>>()?;
    Ok(ContractYears::new(year, at, settings.clone(), villages))
}

/// A village's contract figures and alerts of `year` at report date `at` (nothing for a village
/// without contract data): one home for what a report shows and what is kept.
pub(super) fn village_contract_year(
    cx: &ContractContext<'_>,
    code: &RegionCode,
    data: Option<&VillageContractData>,
    year: i32,
    at: Date,
) -> Result<ContractYear, ReportError> {
    let Some(data) = data else {
        return Ok(ContractYear::default());
    };
    let overflow = |e: Overflow| ReportError::Overflow(format!("村 {code} 的{}", e.0));
    Ok(ContractYear {
        figures: village_year(data, year, at).map_err(overflow)?,
        alerts: contract_alerts(cx, code, data, year, at).map_err(overflow)?,
    })
}
