//! Who may do what: the roles of cunji's users (SPEC §13's steps name them), defined once, as low as
//! they can live, so that the store, the web application and the command line share them.

use crate::region::Level;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    CountyAdmin,
    TownshipOfficer,
    VillageAccountant,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::CountyAdmin,
        Role::TownshipOfficer,
        Role::VillageAccountant,
        Role::Auditor,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Role::CountyAdmin => "county_admin",
            Role::TownshipOfficer => "township_officer",
            Role::VillageAccountant => "village_accountant",
            Role::Auditor => "auditor",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Role::CountyAdmin => "县级管理员",
            Role::TownshipOfficer => "乡镇农经站",
            Role::VillageAccountant => "村报账员",
            Role::Auditor => "审计",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == s)
    }
    /// The level of region a user of this role must be scoped to, if any.
    pub fn scope_level(self) -> Option<Level> {
        match self {
            Role::TownshipOfficer => Some(Level::Township),
            Role::VillageAccountant => Some(Level::Village),
            Role::CountyAdmin | Role::Auditor => None,
        }
    }
}
