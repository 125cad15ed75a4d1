//! Village cadres (村干部), one record per person, village and year (SPEC §8).

use crate::money::Fen;
use crate::region::RegionCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Secretary,
    Director,
    SecretaryDirector,
    Member,
    FirstSecretary,
    Other,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Secretary,
        Role::Director,
        Role::SecretaryDirector,
        Role::Member,
        Role::FirstSecretary,
        Role::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Role::Secretary => "secretary",
            Role::Director => "director",
            Role::SecretaryDirector => "secretary_director",
            Role::Member => "member",
            Role::FirstSecretary => "first_secretary",
            Role::Other => "other",
        }
    }

    /// The short Chinese name accepted in files.
    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Secretary => "书记",
            Role::Director => "主任",
            Role::SecretaryDirector => "书记兼主任",
            Role::Member => "两委成员",
            Role::FirstSecretary => "第一书记",
            Role::Other => "其他",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        let t = text.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.key() == t || r.name_zh() == t)
            .or(match t {
                "党组织书记" => Some(Role::Secretary),
                "村委会主任" => Some(Role::Director),
                "一肩挑" => Some(Role::SecretaryDirector),
                "驻村第一书记" => Some(Role::FirstSecretary),
                _ => None,
            })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cadre {
    pub village: RegionCode,
    pub year: i32,
    pub person: String,
    pub name: String,
    pub role: Role,
    pub months_in_post: u8,
    pub sanctioned: bool,
    pub base_pay: Option<Fen>,
    pub appraisal: Option<String>,
}

/// Booleans in files: `true`/`false`, `是`/`否`, `1`/`0`.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "true" | "TRUE" | "True" | "是" | "1" => Some(true),
        "false" | "FALSE" | "False" | "否" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_in_both_languages() {
        assert_eq!(Role::parse("书记兼主任"), Some(Role::SecretaryDirector));
        assert_eq!(Role::parse("secretary"), Some(Role::Secretary));
        assert_eq!(Role::parse("村长"), None);
        assert_eq!(parse_bool("是"), Some(true));
        assert_eq!(parse_bool("yes"), None);
    }
}
