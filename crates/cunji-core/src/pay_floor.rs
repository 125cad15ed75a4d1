//! Cadre pay floors (村干部报酬保障, e.g. Guizhou's "345"), SPEC §12: a covered cadre's base pay must reach
//! the larger of a multiple of the county's rural per-capita disposable income of the year before and a
//! minimum, pro-rated by months in post.

use std::collections::BTreeMap;

use crate::cadre::{Cadre, Role};
use crate::money::{Fen, NamedOverflow};
use crate::rate::Ppm;
use crate::region::{Level, RegionCode};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayFloor {
    /// Times the county's rural income of the year before (0–10, exact).
    pub multiple: Ppm,
    /// Yuan a year.
    pub minimum: Fen,
    /// For a person who is both secretary and director, when the policy names one.
    pub minimum_secretary_director: Option<Fen>,
    pub roles: Vec<Role>,
}

impl PayFloor {
    pub fn default_roles() -> Vec<Role> {
        vec![Role::Secretary, Role::Director, Role::SecretaryDirector]
    }
}

/// County statistics: rural per-capita disposable income by county code and year.
pub type RuralIncome = BTreeMap<(RegionCode, i32), Fen>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FloorStatus {
    Below,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FloorLine {
    pub person: String,
    pub name: String,
    pub village: RegionCode,
    pub role: Role,
    pub months_in_post: u8,
    pub status: FloorStatus,
    pub base_pay: Option<Fen>,
    /// The floor pro-rated by months in post.
    pub floor: Option<Fen>,
    pub shortfall: Option<Fen>,
    /// How the floor was found, in zh-CN.
    pub explanation: String,
}

/// The county a village belongs to.
pub fn county_of(village: &RegionCode) -> Option<RegionCode> {
    village
        .ancestors()
        .into_iter()
        .find(|a| a.level() == Level::County)
}

/// Every covered cadre of `year` below the floor, or whose floor cannot be known, in village and person
/// order. `cadres` may hold other years; they are ignored.
pub fn check(pf: &PayFloor, year: i32, cadres: &[Cadre], stats: &RuralIncome) -> Vec<FloorLine> {
    let mut people: Vec<&Cadre> = cadres
        .iter()
        .filter(|c| c.year == year && pf.roles.contains(&c.role))
        .collect();
    people.sort_by(|a, b| (&a.village, &a.person).cmp(&(&b.village, &b.person)));
    let mut out = Vec::new();
    for c in people {
        let line = |status, base_pay, floor, shortfall, explanation: String| FloorLine {
            person: c.person.clone(),
            name: c.name.clone(),
            village: c.village.clone(),
            role: c.role,
            months_in_post: c.months_in_post,
            status,
            base_pay,
            floor,
            shortfall,
            explanation,
        };
        let county = county_of(&c.village);
        let income = county
            .as_ref()
            .and_then(|k| stats.get(&(k.clone(), year - 1)));
        let Some(pay) = c.base_pay else {
            out.push(line(
                FloorStatus::Unknown,
                None,
                None,
                None,
                "未登记基本报酬，无法核对".into(),
            ));
            continue;
        };
        let Some(income) = income else {
            let k = county.map(|k| k.to_string()).unwrap_or_else(|| "?".into());
            out.push(line(
                FloorStatus::Unknown,
                Some(pay),
                None,
                None,
                format!(
                    "县 {k} 缺少 {} 年农村居民人均可支配收入，无法核对",
                    year - 1
                ),
            ));
            continue;
        };
        let by_income = income.times(pf.multiple);
        let minimum = match (c.role, pf.minimum_secretary_director) {
            (Role::SecretaryDirector, Some(m)) => m,
            _ => pf.minimum,
        };
        let full = by_income.max(minimum);
        let floor = full.ratio(c.months_in_post as i64, 12);
        if pay >= floor {
            continue;
        }
        let explanation = format!(
            "{} 年农村居民人均可支配收入 {} 元 × {} = {} 元，最低 {} 元，取 {} 元；任职 {} 个月，按 {}/12 为 {} 元；基本报酬 {} 元，差 {} 元",
            year - 1,
            income,
            pf.multiple.decimal(),
            by_income,
            minimum,
            full,
            c.months_in_post,
            c.months_in_post,
            floor,
            pay,
            floor.saturating_sub(pay)
        );
        out.push(line(
            FloorStatus::Below,
            Some(pay),
            Some(floor),
            Some(floor.saturating_sub(pay)),
            explanation,
        ));
    }
    out
}

/// Lines of a region summed (SPEC §12's page): covered cadres below the floor, those whose standing
/// is unknown, and the shortfall of those below.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub below: usize,
    pub unknown: usize,
    pub shortfall: Fen,
}

impl Tally {
    /// `lines` summed; a shortfall beyond what fen hold is an error (SPEC §1), never a wrapped sum.
    pub fn of<'a>(lines: impl IntoIterator<Item = &'a FloorLine>) -> Result<Tally, NamedOverflow> {
        let mut t = Tally::default();
        for l in lines {
            t.add(l)?;
        }
        Ok(t)
    }

    fn add(&mut self, l: &FloorLine) -> Result<(), NamedOverflow> {
        match l.status {
            FloorStatus::Below => self.below += 1,
            FloorStatus::Unknown => self.unknown += 1,
        }
        self.shortfall = self
            .shortfall
            .checked_add(l.shortfall.unwrap_or(Fen::ZERO))
            .ok_or_else(|| NamedOverflow("报酬保障差额".into()))?;
        Ok(())
    }
}

/// Each township's lines summed, by the township's code (in code order): the township of a village
/// is `RegionCode::township`.
pub fn by_township(lines: &[FloorLine]) -> Result<BTreeMap<RegionCode, Tally>, NamedOverflow> {
    let mut by: BTreeMap<RegionCode, Tally> = BTreeMap::new();
    for l in lines {
        let township = l.village.township().unwrap_or_else(|| l.village.clone());
        by.entry(township).or_default().add(l)?;
    }
    Ok(by)
}
