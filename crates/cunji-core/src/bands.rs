//! Band schemes (分档) and targets (目标) (SPEC §5).

use crate::money::Fen;
use crate::rate::{Ppm, PPM};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    pub name: String,
    /// Inclusive lower bound; `None` only for the first band.
    pub min: Option<Fen>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BandScheme {
    pub measure: String,
    pub bands: Vec<Band>,
}

impl BandScheme {
    /// The index of the last band whose `min` ≤ value (the first band takes everything below).
    pub fn band_of(&self, value: Fen) -> usize {
        let mut idx = 0;
        for (i, b) in self.bands.iter().enumerate().skip(1) {
            match b.min {
                Some(min) if min <= value => idx = i,
                _ => break,
            }
        }
        idx
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.bands.iter().position(|b| b.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetRule {
    /// Share of villages with data whose band is `band` or later ≥ `share`.
    ShareAtLeast { band: usize, share: Ppm },
    /// Number of villages with data in a band before `band` ≤ `count`.
    CountAtMost { band: usize, count: u64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub year: i32,
    pub rule: TargetRule,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TargetResult {
    pub name: String,
    pub due: i32,
    pub value: Option<String>,
    pub complete: bool,
    pub met: bool,
}

impl Target {
    /// `bands`: the band index of each listed village of the region, `None` for a village without data.
    pub fn check(&self, bands: &[Option<usize>]) -> TargetResult {
        let with_data = bands.iter().filter(|b| b.is_some()).count() as u64;
        let complete = with_data == bands.len() as u64;
        let (value, holds) = match &self.rule {
            TargetRule::ShareAtLeast { band, share } => {
                let at_least = bands
                    .iter()
                    .filter(|b| matches!(b, Some(i) if i >= band))
                    .count() as u64;
                if with_data == 0 {
                    (None, false)
                } else {
                    let holds =
                        at_least as i128 * PPM as i128 >= share.ppm() as i128 * with_data as i128;
                    (Some(percent_string(at_least, with_data)), holds)
                }
            }
            TargetRule::CountAtMost { band, count } => {
                let below = bands
                    .iter()
                    .filter(|b| matches!(b, Some(i) if i < band))
                    .count() as u64;
                (Some(below.to_string()), below <= *count)
            }
        };
        TargetResult {
            name: self.name.clone(),
            due: self.year,
            value,
            complete,
            met: holds && complete,
        }
    }
}

/// `part / whole` as a percentage (money's, which shares of amounts use too).
pub use crate::money::percent_string;

#[cfg(test)]
mod tests {
    use super::*;

    fn national() -> BandScheme {
        BandScheme {
            measure: "operating_income".into(),
            bands: vec![
                Band {
                    name: "空壳村".into(),
                    min: None,
                },
                Band {
                    name: "5万以下".into(),
                    min: Some(Fen::from_fen(1)),
                },
                Band {
                    name: "5–10万".into(),
                    min: Some(Fen::from_fen(5_000_000)),
                },
                Band {
                    name: "10万以上".into(),
                    min: Some(Fen::from_fen(10_000_000)),
                },
            ],
        }
    }

    #[test]
    fn bands_take_the_last_min_reached() {
        let s = national();
        assert_eq!(s.band_of(Fen::from_fen(-5)), 0);
        assert_eq!(s.band_of(Fen::from_fen(0)), 0);
        assert_eq!(s.band_of(Fen::from_fen(1)), 1);
        assert_eq!(s.band_of(Fen::from_fen(4_999_999)), 1);
        assert_eq!(s.band_of(Fen::from_fen(5_000_000)), 2);
        assert_eq!(s.band_of(Fen::from_fen(10_000_000)), 3);
    }

    #[test]
    fn targets_need_complete_data() {
        let share = Target {
            name: "10万以上占比".into(),
            year: 2022,
            rule: TargetRule::ShareAtLeast {
                band: 3,
                share: Ppm::from_ppm(600_000),
            },
        };
        let r = share.check(&[Some(3), Some(3), Some(1)]);
        assert_eq!(r.value.as_deref(), Some("66.67%"));
        assert!(r.met);
        let r = share.check(&[Some(3), Some(3), Some(1), None]);
        assert!(!r.met && !r.complete);
        assert_eq!(share.check(&[None]).value, None);
        // Exactly 60% meets the target; the comparison is not made on the rounded string.
        let r = share.check(&[Some(3), Some(3), Some(3), Some(0), Some(0)]);
        assert!(r.met);
        let count = Target {
            name: "清零".into(),
            year: 2022,
            rule: TargetRule::CountAtMost { band: 2, count: 0 },
        };
        let r = count.check(&[Some(2), Some(3)]);
        assert_eq!((r.value.as_deref(), r.met), (Some("0"), true));
        let r = count.check(&[Some(1), Some(3)]);
        assert_eq!((r.value.as_deref(), r.met), (Some("1"), false));
        assert_eq!(percent_string(8, 13), "61.54%");
        assert_eq!(percent_string(1, 8), "12.50%");
    }
}
