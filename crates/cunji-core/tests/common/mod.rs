//! Building small report inputs by hand for core tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use cunji_core::account::Account;
use cunji_core::books::{Books, YearBook};
use cunji_core::cadre::{Cadre, Role};
use cunji_core::money::Fen;
use cunji_core::policy::Policy;
use cunji_core::region::{Region, RegionCode, RegionSet};
use cunji_core::report::{build_report, Report, ReportInput, VillageReport};
use cunji_core::subsidy::Grant;

pub fn code(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap()
}

/// Yuan text → fen, for writing figures as a person reads them.
pub fn y(text: &str) -> i64 {
    Fen::parse_yuan(text).unwrap().fen()
}

/// A little world: regions, books, cadres and grants for one report.
#[derive(Default)]
pub struct World {
    pub regions: RegionSet,
    pub books: Books,
    pub cadres: Vec<Cadre>,
    pub grants: Vec<Grant>,
    pub project_actuals: BTreeMap<String, Fen>,
    pub stats: cunji_core::pay_floor::RuralIncome,
    pub entries: BTreeMap<RegionCode, Vec<cunji_core::alerts::EntryFact<'static>>>,
    pub distributions: BTreeMap<RegionCode, cunji_core::statement_book::Distribution>,
    pub contracts: cunji_core::contracts::ContractBook,
}

impl World {
    /// A province, city, county and township above the villages `codes`.
    pub fn with_villages(prefix9: &str, villages: &[&str]) -> World {
        let mut w = World::default();
        let p = &prefix9[..2];
        let c = &prefix9[..4];
        let k = &prefix9[..6];
        for (code_text, name) in [
            (format!("{p}0000000000"), "省"),
            (format!("{c}00000000"), "市"),
            (format!("{k}000000"), "县"),
            (format!("{prefix9}000"), "镇"),
        ] {
            w.regions.insert(Region {
                code: code(&code_text),
                name: name.into(),
                predecessors: vec![],
                merged_in: None,
            });
        }
        for v in villages {
            w.regions.insert(Region {
                code: code(&format!("{prefix9}{v}")),
                name: format!("村{v}"),
                predecessors: vec![],
                merged_in: None,
            });
        }
        assert!(w.regions.check_merges().is_empty());
        w
    }

    /// Books one village-year with `(account, yuan)` totals.
    pub fn book(&mut self, village: &str, year: i32, totals: &[(Account, &str)]) {
        let mut b = YearBook::default();
        for (a, amount) in totals {
            let i = a.index();
            b.totals[i] = Fen::from_fen(b.totals[i].fen() + y(amount));
            b.entries += 1;
        }
        self.books.add(&code(village), year, &b);
    }

    /// Adds a cadre in post for the year, not sanctioned, without rating; adjust the returned record.
    pub fn cadre(
        &mut self,
        village: &str,
        year: i32,
        person: &str,
        role: Role,
        months: u8,
    ) -> &mut Cadre {
        self.cadres.push(Cadre {
            village: code(village),
            year,
            person: person.into(),
            name: format!("姓名{person}"),
            role,
            months_in_post: months,
            sanctioned: false,
            base_pay: None,
            appraisal: None,
        });
        self.cadres.last_mut().expect("just pushed")
    }

    pub fn input(&self, year: i32) -> ReportInput<'_> {
        ReportInput {
            year,
            regions: &self.regions,
            books: &self.books,
            cadres: &self.cadres,
            grants: &self.grants,
            project_actuals: &self.project_actuals,
            stats: &self.stats,
            entries: &self.entries,
            today: None,
            scope: None,
            distributions: &self.distributions,
            contracts: &self.contracts,
            kept_contracts: None,
        }
    }

    pub fn report(&self, policy: &Policy, year: i32) -> Report {
        build_report(policy, &self.input(year)).expect("report")
    }

    /// The calculation of `village`'s reward told for villagers (SPEC §15).
    #[allow(dead_code)]
    pub fn story(&self, policy: &Policy, year: i32, village: &str) -> Vec<String> {
        let code = cunji_core::region::RegionCode::parse(village).expect("code");
        cunji_core::report::village_story(policy, &self.input(year), &code)
            .expect("story")
            .expect("a plan")
    }
}

pub fn village<'r>(r: &'r Report, c: &str) -> &'r VillageReport {
    r.villages
        .iter()
        .find(|v| v.code.as_str() == c)
        .expect("village listed")
}

/// `(person, share, amount)` of each award, in yuan text.
pub fn awards(v: &VillageReport) -> Vec<(String, String, String)> {
    v.incentive
        .as_ref()
        .unwrap()
        .awards
        .iter()
        .map(|a| (a.person.clone(), a.share.json(), a.amount.json()))
        .collect()
}

pub fn pool(v: &VillageReport) -> String {
    v.incentive.as_ref().unwrap().pool.json()
}

pub fn reason(v: &VillageReport) -> Option<&'static str> {
    v.incentive.as_ref().unwrap().reason.map(|r| r.key())
}

pub fn triple(p: &str, s: &str, a: &str) -> (String, String, String) {
    (p.into(), s.into(), a.into())
}
