//! Growth of a measure from one year to the next, for the county's questions ("which villages grew,
//! which fell, by how much?") and the comparison of years. A village's prior year is compared as
//! SPEC §2 says (a merged village's predecessors added in); a region's figure of a year is the sum of
//! its villages' own figures of that year (every village stands on its own entries for counts and
//! totals). The percentage is exact and rounded once, half away from zero, to two decimals.

use crate::books::Books;
use crate::measure::Measure;
use crate::money::{Fen, FenSum};
use crate::region::{RegionCode, RegionSet};

/// A figure of a year beside the same figure of the year before.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Growth {
    pub now: Option<Fen>,
    pub before: Option<Fen>,
}

/// How a figure moved, for filtering lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    /// One of the two years has no data.
    Unknown,
    Down,
    Flat,
    Up,
}

impl Direction {
    pub fn key(self) -> &'static str {
        match self {
            Direction::Unknown => "unknown",
            Direction::Down => "down",
            Direction::Flat => "flat",
            Direction::Up => "up",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Direction::Unknown => "无法比较（有一年未报账）",
            Direction::Down => "下降",
            Direction::Flat => "持平",
            Direction::Up => "增长",
        }
    }

    pub fn parse(s: &str) -> Option<Direction> {
        [
            Direction::Unknown,
            Direction::Down,
            Direction::Flat,
            Direction::Up,
        ]
        .into_iter()
        .find(|d| d.key() == s)
    }
}

impl Growth {
    /// `now − before` (exact; `None` when either year has no data). Stored figures are bounded by
    /// 10^15 fen, and a region's sums are checked by the report, so the difference fits an `i64`;
    /// it is computed in `i128` and saturates rather than wraps should a caller pass anything else.
    pub fn change(&self) -> Option<Fen> {
        Some((self.now?.wide() - self.before?.wide()).saturated())
    }

    /// The change in hundredths of a percent of `before`, rounded half away from zero; `None` when
    /// either year has no data or `before` is not above 0 (a rise from nothing has no percentage).
    pub fn basis_points(&self) -> Option<i128> {
        let before = self.before?;
        if !before.is_positive() {
            return None;
        }
        Some((self.now?.wide() - before.wide()).per_10_000_of(before))
    }

    /// `12.34%`, `-5.00%`; `None` as [`Growth::basis_points`].
    pub fn percent(&self) -> Option<String> {
        let bp = self.basis_points()?;
        let sign = if bp < 0 { "-" } else { "" };
        let a = bp.unsigned_abs();
        Some(format!("{sign}{}.{:02}%", a / 100, a % 100))
    }

    pub fn direction(&self) -> Direction {
        match self.change() {
            None => Direction::Unknown,
            Some(c) if c.is_positive() => Direction::Up,
            Some(c) if c.is_negative() => Direction::Down,
            Some(_) => Direction::Flat,
        }
    }
}

/// A village's `measure` in year `y` beside year `y − 1` compared as SPEC §2 says.
pub fn of_village(
    books: &Books,
    regions: &RegionSet,
    village: &RegionCode,
    measure: &Measure,
    y: i32,
) -> Growth {
    let now = books
        .own(village, y)
        .filter(|b| b.has_data())
        .map(|b| measure.value(&b.totals));
    let before = books
        .compared(regions, village, y - 1, y)
        .map(|b| measure.value(&b.totals));
    Growth { now, before }
}

/// A region's `measure` in each of `years`: the sum of the own figures of the villages beneath it
/// that have data that year (`None` for a year none has), each year beside the one before.
pub fn of_region_by_year(
    books: &Books,
    villages: &[&RegionCode],
    measure: &Measure,
    years: &[i32],
) -> Vec<(i32, Growth, usize)> {
    let total = |y: i32| -> (Option<Fen>, usize) {
        let mut sum = FenSum::ZERO;
        let mut n = 0;
        for v in villages {
            if let Some(b) = books.own(v, y).filter(|b| b.has_data()) {
                sum += measure.value(&b.totals);
                n += 1;
            }
        }
        ((n > 0).then(|| sum.saturated()), n)
    };
    years
        .iter()
        .map(|&y| {
            let (now, n) = total(y);
            let (before, _) = total(y - 1);
            (y, Growth { now, before }, n)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(now: Option<i64>, before: Option<i64>) -> Growth {
        Growth {
            now: now.map(Fen::from_fen),
            before: before.map(Fen::from_fen),
        }
    }

    #[test]
    fn change_and_percent_exact_and_rounded_once() {
        let x = g(Some(15_000_000), Some(10_000_000));
        assert_eq!(x.change(), Some(Fen::from_fen(5_000_000)));
        assert_eq!(x.percent().as_deref(), Some("50.00%"));
        assert_eq!(x.direction(), Direction::Up);
        // 1/3 = 33.333…% → 33.33%; 2/3 → 66.67%; a fall of 1/8 = −12.50%.
        assert_eq!(g(Some(4), Some(3)).percent().as_deref(), Some("33.33%"));
        assert_eq!(g(Some(5), Some(3)).percent().as_deref(), Some("66.67%"));
        assert_eq!(g(Some(7), Some(8)).percent().as_deref(), Some("-12.50%"));
        // Half a basis point rounds away from zero both ways: 1/20000 = 0.005%.
        assert_eq!(
            g(Some(20_001), Some(20_000)).percent().as_deref(),
            Some("0.01%")
        );
        assert_eq!(
            g(Some(19_999), Some(20_000)).percent().as_deref(),
            Some("-0.01%")
        );
    }

    #[test]
    fn no_percentage_from_nothing_and_no_change_without_both_years() {
        assert_eq!(g(Some(100), Some(0)).percent(), None);
        assert_eq!(g(Some(100), Some(0)).direction(), Direction::Up);
        assert_eq!(g(Some(100), None).change(), None);
        assert_eq!(g(Some(100), None).direction(), Direction::Unknown);
        assert_eq!(g(Some(100), Some(100)).direction(), Direction::Flat);
    }

    proptest::proptest! {
        #[test]
        fn percent_is_the_rounded_exact_ratio(now in -1_000_000_000_000i64..1_000_000_000_000, before in 1i64..1_000_000_000_000) {
            let x = g(Some(now), Some(before));
            let bp = x.basis_points().unwrap();
            // |exact − bp| ≤ 1/2 basis point: |(now − before)·10⁴ − bp·before| ≤ before / 2.
            let exact = (now as i128 - before as i128) * 10_000;
            proptest::prop_assert!(2 * (exact - bp * before as i128).abs() <= before as i128);
            proptest::prop_assert_eq!(x.change().unwrap().fen(), now - before);
        }
    }
}
