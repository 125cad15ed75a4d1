//! Subsidy grants (财政扶持资金) and their returns (SPEC §7).

use crate::money::Fen;
use crate::rate::Ppm;
use crate::region::RegionCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceLevel {
    Central,
    Provincial,
    Municipal,
    County,
    Township,
    Other,
}

impl SourceLevel {
    pub const ALL: [SourceLevel; 6] = [
        SourceLevel::Central,
        SourceLevel::Provincial,
        SourceLevel::Municipal,
        SourceLevel::County,
        SourceLevel::Township,
        SourceLevel::Other,
    ];
    pub fn key(self) -> &'static str {
        match self {
            SourceLevel::Central => "central",
            SourceLevel::Provincial => "provincial",
            SourceLevel::Municipal => "municipal",
            SourceLevel::County => "county",
            SourceLevel::Township => "township",
            SourceLevel::Other => "other",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            SourceLevel::Central => "中央",
            SourceLevel::Provincial => "省级",
            SourceLevel::Municipal => "市级",
            SourceLevel::County => "县级",
            SourceLevel::Township => "乡镇",
            SourceLevel::Other => "其他",
        }
    }
    pub fn parse(text: &str) -> Option<SourceLevel> {
        let t = text.trim();
        SourceLevel::ALL
            .into_iter()
            .find(|l| l.key() == t || l.name_zh() == t)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub grant: String,
    pub village: RegionCode,
    pub year: i32,
    pub level: SourceLevel,
    pub program: String,
    pub amount: Fen,
    pub project: String,
    pub expected_rate: Option<Ppm>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    FirstYear,
    NoReturn,
    NoExpectation,
    OnTrack,
    BelowExpectation,
}

impl ReturnStatus {
    pub fn name_zh(self) -> &'static str {
        match self {
            ReturnStatus::FirstYear => "当年立项",
            ReturnStatus::NoReturn => "无收益",
            ReturnStatus::NoExpectation => "未定预期",
            ReturnStatus::OnTrack => "达到预期",
            ReturnStatus::BelowExpectation => "低于预期",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct GrantReturn {
    pub grant: String,
    pub village: RegionCode,
    #[serde(skip)]
    pub program: String,
    #[serde(skip)]
    pub level: SourceLevel,
    #[serde(skip)]
    pub year: i32,
    pub amount: Fen,
    pub expected: Option<Fen>,
    pub actual: Fen,
    pub status: ReturnStatus,
}

impl Grant {
    /// The expected annual return: amount × rate, rounded to fen.
    pub fn expected(&self) -> Option<Fen> {
        self.expected_rate.map(|r| self.amount.times(r))
    }

    /// The grant's standing in `year`, given the project's actual return booked in that year.
    pub fn returns_in(&self, year: i32, actual: Fen) -> GrantReturn {
        let expected = self.expected();
        let status = if year == self.year {
            ReturnStatus::FirstYear
        } else if actual.is_zero() {
            ReturnStatus::NoReturn
        } else {
            match expected {
                None => ReturnStatus::NoExpectation,
                Some(e) if actual >= e => ReturnStatus::OnTrack,
                Some(_) => ReturnStatus::BelowExpectation,
            }
        };
        GrantReturn {
            grant: self.grant.clone(),
            village: self.village.clone(),
            program: self.program.clone(),
            level: self.level,
            year: self.year,
            amount: self.amount,
            expected,
            actual,
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(rate: Option<&str>) -> Grant {
        Grant {
            grant: "G1".into(),
            village: RegionCode::parse("351301003003").unwrap(),
            year: 2019,
            level: SourceLevel::Central,
            program: "扶持壮大村级集体经济".into(),
            amount: Fen::from_fen(60_000_000),
            project: "P".into(),
            expected_rate: rate.map(|r| Ppm::parse(r).unwrap()),
        }
    }

    #[test]
    fn statuses() {
        let g = grant(Some("0.066"));
        assert_eq!(g.expected(), Some(Fen::from_fen(3_960_000)));
        let cases = [
            (2019, 0, ReturnStatus::FirstYear),
            (2022, 0, ReturnStatus::NoReturn),
            (2022, 2_975_168, ReturnStatus::BelowExpectation),
            (2022, 3_960_000, ReturnStatus::OnTrack),
        ];
        for (year, actual, status) in cases {
            assert_eq!(g.returns_in(year, Fen::from_fen(actual)).status, status);
        }
        assert_eq!(
            grant(None).returns_in(2022, Fen::from_fen(1)).status,
            ReturnStatus::NoExpectation
        );
    }
}
