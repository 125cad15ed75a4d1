//! Money in whole fen (SPEC §1): parsing from yuan text, rounding, and the three ways it is shown.
//!
//! No floating point touches an amount, except reading a number cell of a spreadsheet: its value is
//! taken at the shortest decimal text that reads back as it, scaled exactly to yuan (× 10,000 from
//! 万元), and must then lie within 0.000001 yuan of a whole fen or it is refused.

use std::fmt;

use crate::decimal::{parse_scaled, DecimalError};
use crate::rate::{Ppm, PPM};

/// The largest magnitude of a stored amount or account total: 10^15 fen (10 万亿 yuan).
/// Bounding every stored figure this way keeps sums of a few hundred of them inside `i64`.
pub const MAX_FEN: i64 = 1_000_000_000_000_000;

/// The unit amounts are written in: 元, or 万元 where a statement says `单位：万元` (SPEC §1, §14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Yuan,
    Wan,
}

impl Unit {
    /// Decimal places of a whole fen in this unit: 0.01 元, 0.000001 万元.
    pub const fn fen_digits(self) -> u32 {
        match self {
            Unit::Yuan => 2,
            Unit::Wan => 6,
        }
    }
}

/// An amount of money in fen (分, 1/100 yuan).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fen(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额为空")]
    Empty,
    #[error("金额格式不对：`{0}`（应写作元，如 12345、12,345.6、-80.00）")]
    Format(String),
    #[error("金额超出范围：`{0}`")]
    Overflow(String),
    #[error("数值 {0} 不是整分（不会擅自四舍五入）")]
    NotWholeFen(String),
}

impl Fen {
    /// An amount of `fen` fen. Amounts read from files come through [`Fen::parse_yuan`] and
    /// [`Fen::from_yuan_f64`], which bound them by [`MAX_FEN`]; this one is for figures already
    /// computed or stored (sums of many villages may exceed that bound).
    pub const fn from_fen(fen: i64) -> Fen {
        Fen(fen)
    }

    /// The amount in fen.
    pub const fn fen(self) -> i64 {
        self.0
    }

    pub const ZERO: Fen = Fen(0);
    /// One fen, the smallest amount.
    pub const ONE: Fen = Fen(1);

    /// Parses an amount written in yuan per SPEC §1.
    pub fn parse_yuan(text: &str) -> Result<Fen, MoneyError> {
        Fen::parse_in(text, Unit::Yuan)
    }

    /// Parses an amount written as text in `unit` — the one place SPEC §1's rule for written amounts
    /// lives, used by CSV files, spreadsheet text cells and statement books alike: after trimming
    /// spaces and one trailing `元`, `-?(\d+|\d{1,3}([,，]\d{3})+)(\.\d{1,2})?` in yuan (in 万元 up to
    /// six decimals, the sixth being a fen), at most [`MAX_FEN`] in magnitude.
    pub fn parse_in(text: &str, unit: Unit) -> Result<Fen, MoneyError> {
        let t = text.trim();
        let t = t.strip_suffix('元').unwrap_or(t).trim();
        if t.is_empty() {
            return Err(MoneyError::Empty);
        }
        match parse_scaled(t, unit.fen_digits(), true) {
            Ok(v) if v.unsigned_abs() <= MAX_FEN as u128 => Ok(Fen(v as i64)),
            Ok(_) | Err(DecimalError::Overflow) => Err(MoneyError::Overflow(text.trim().into())),
            Err(DecimalError::TooPrecise) if unit == Unit::Wan => {
                Err(MoneyError::NotWholeFen(format!("{} 万元", text.trim())))
            }
            Err(_) => Err(MoneyError::Format(text.trim().into())),
        }
    }

    /// Takes a spreadsheet number cell as yuan; it must be within 0.000001 of a whole fen.
    pub fn from_yuan_f64(v: f64) -> Result<Fen, MoneyError> {
        Fen::from_number(v, Unit::Yuan)
    }

    /// Takes a spreadsheet number cell written in `unit` (SPEC §1): the value is scaled to yuan
    /// first (× 10,000 for 万元), then must lie within 0.000001 yuan of a whole fen.
    ///
    /// Why decimal and not `f64` arithmetic: the cell holds the double nearest to what was typed, and
    /// `v * 10_000.0 * 100.0` rounds again, so 20.010001 万元 came out a fen short and 0.000001 万元
    /// (one fen) fell inside the tolerance of 0. The shortest text that reads back as the same double
    /// (Rust's `Display` for `f64`, never in exponent form) is what the user typed whenever they typed
    /// 15 significant digits or fewer; it is scaled by moving its point, which is exact.
    pub fn from_number(v: f64, unit: Unit) -> Result<Fen, MoneyError> {
        let shown = || match unit {
            Unit::Yuan => v.to_string(),
            Unit::Wan => format!("{v} 万元"),
        };
        if !v.is_finite() {
            return Err(MoneyError::Format(v.to_string()));
        }
        // Far beyond the bound in either unit: refused before a 300-digit text is made.
        if v.abs() >= 1e18 {
            return Err(MoneyError::Overflow(shown()));
        }
        let text = format!("{}", v.abs());
        let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
        let shift = unit.fen_digits() as usize;
        // The digits of whole fen: the integer part and the first `shift` decimals.
        let mut fen: u128 = 0;
        let frac_bytes = frac.as_bytes();
        for i in 0..int.len() + shift {
            let d = if i < int.len() {
                int.as_bytes()[i]
            } else {
                frac_bytes.get(i - int.len()).copied().unwrap_or(b'0')
            };
            if !d.is_ascii_digit() {
                return Err(MoneyError::Format(shown()));
            }
            fen = fen * 10 + (d - b'0') as u128;
        }
        // What is left is a fraction of a fen; within 0.0001 fen (0.000001 yuan) of either
        // neighbour it is the float's noise, otherwise the cell is not a whole fen.
        let rest = frac_bytes.get(shift..).unwrap_or(&[]);
        let first4: [u8; 4] = std::array::from_fn(|i| rest.get(i).copied().unwrap_or(b'0'));
        let beyond_zero = rest.iter().skip(4).all(|b| *b == b'0');
        if &first4 == b"9999" {
            fen += 1;
        } else if !(&first4 == b"0000" || (&first4 == b"0001" && beyond_zero)) {
            return Err(MoneyError::NotWholeFen(shown()));
        }
        if fen > MAX_FEN as u128 {
            return Err(MoneyError::Overflow(shown()));
        }
        let fen = fen as i64;
        Ok(Fen(if v < 0.0 { -fen } else { fen }))
    }

    /// Whole yuan (a TOML integer in a policy file).
    pub fn from_yuan_int(yuan: i64) -> Result<Fen, MoneyError> {
        match yuan.checked_mul(100) {
            Some(f) if f.abs() <= MAX_FEN => Ok(Fen(f)),
            _ => Err(MoneyError::Overflow(yuan.to_string())),
        }
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0
            .checked_add(other.0)
            .filter(|v| v.unsigned_abs() <= MAX_FEN as u64)
            .map(Fen::from_fen)
    }

    /// `self − other`, within the bound of a stored amount ([`MAX_FEN`]).
    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0
            .checked_sub(other.0)
            .filter(|v| v.unsigned_abs() <= MAX_FEN as u64)
            .map(Fen::from_fen)
    }

    /// The sum of `amounts`, or `None` when a partial sum leaves the bound of a stored amount.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Fen>) -> Option<Fen> {
        amounts
            .into_iter()
            .try_fold(Fen::ZERO, |total, a| total.checked_add(a))
    }

    /// `self + other` where a total of many amounts may pass [`MAX_FEN`] (a region's figures) but
    /// must fit in `i64`: the overflow is reported, never wrapped (SPEC §1).
    pub fn add_total(self, other: Fen) -> Result<Fen, FenOverflow> {
        self.0.checked_add(other.0).map(Fen).ok_or(FenOverflow)
    }

    /// `self + other` in `i64`, staying at the largest figure instead of wrapping: for totals that a
    /// checked sum refuses later (a region's figures), and for the few places that already did so.
    pub const fn saturating_add(self, other: Fen) -> Fen {
        Fen(self.0.saturating_add(other.0))
    }

    /// `self − other` in `i64`, staying at the largest figure instead of wrapping.
    pub const fn saturating_sub(self, other: Fen) -> Fen {
        Fen(self.0.saturating_sub(other.0))
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The magnitude (the largest figure for `i64::MIN`, which no stored amount is).
    pub const fn abs(self) -> Fen {
        Fen(self.0.saturating_abs())
    }

    /// The amount, or zero when it is negative (what is owed is never below nothing).
    pub fn or_zero(self) -> Fen {
        self.max(Fen::ZERO)
    }

    /// Whether the amount is a whole multiple of `unit` (a positive unit; never for a unit ≤ 0).
    pub const fn is_multiple_of(self, unit: Fen) -> bool {
        unit.0 > 0 && self.0 % unit.0 == 0
    }

    /// The amount with its sign turned, or `None` for the one `i64` without an opposite.
    pub const fn checked_neg(self) -> Option<Fen> {
        match self.0.checked_neg() {
            Some(v) => Some(Fen(v)),
            None => None,
        }
    }

    /// Whether `self` is more than `limit` of `whole` (a positive whole): `self > whole × limit`,
    /// exactly.
    pub fn exceeds_share(self, whole: Fen, limit: Ppm) -> bool {
        whole.is_positive() && self.as_micros() > whole.micros(limit)
    }

    /// `self` as a percentage of `whole` with two decimals, rounded half away from zero (`61.54%`);
    /// a negative part counts as 0 and a whole below 1 fen as 1.
    pub fn percent_of(self, whole: Fen) -> String {
        percent_string(self.0.max(0) as u64, whole.0.max(1) as u64)
    }

    /// An exact figure narrowed to `i64` fen, or the overflow it is (SPEC §1: never a wrapped
    /// number).
    pub fn try_from_wide(v: i128) -> Result<Fen, FenOverflow> {
        i64::try_from(v).map(Fen).map_err(|_| FenOverflow)
    }

    /// An exact figure narrowed to `i64` fen, at the largest figure of its sign when it does not
    /// fit (for a product whose factors are bounded so that it always fits).
    fn saturate(v: i128) -> Fen {
        Fen(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }

    /// The amount in an exact wide total, to add other amounts to.
    pub const fn wide(self) -> FenSum {
        FenSum(self.0 as i128)
    }

    /// `self × rate`, rounded to whole fen half away from zero (四舍五入, SPEC §1): the one rounding
    /// of a product. A rate a policy may hold (at most 10) times an amount within [`MAX_FEN`]
    /// always fits; a larger product stays at the largest figure.
    pub fn times(self, rate: Ppm) -> Fen {
        Fen::saturate(round_div(self.micros(rate), PPM as i128))
    }

    /// `⌊self × rate⌋` in whole fen, rounded down (SPEC §6's `max_share`: at most `floor(pool × s)`).
    pub fn times_floor(self, rate: Ppm) -> Fen {
        Fen::saturate(self.micros(rate).div_euclid(PPM as i128))
    }

    /// `⌊self × months / 12⌋`, truncated toward zero: the pace of a year's figure after `months`.
    pub fn times_months(self, months: i64) -> Fen {
        Fen::saturate(self.0 as i128 * months as i128 / 12)
    }

    /// `self × num / den` (a positive `den`), rounded half away from zero: a part of a year
    /// (months / 12), an average.
    pub fn ratio(self, num: i64, den: i64) -> Fen {
        Fen::saturate(round_div(self.0 as i128 * num as i128, den as i128))
    }

    /// The exact product `self × rate` in millionths of a fen, not yet rounded (SPEC §6's raw
    /// amount `R`).
    pub const fn micros(self, rate: Ppm) -> i128 {
        self.0 as i128 * rate.ppm() as i128
    }

    /// The amount in millionths of a fen, to compare with a raw product.
    pub const fn as_micros(self) -> i128 {
        self.0 as i128 * PPM as i128
    }

    /// A raw amount in millionths of a fen rounded once to whole fen, half away from zero (SPEC §6
    /// step 6). A raw amount is an amount times a rate of at most 1 (the policy reader checks), so
    /// it fits; a larger one would stay at the largest figure.
    pub fn round_micros(raw: i128) -> Fen {
        Fen::saturate(round_div(raw, PPM as i128))
    }

    /// JSON form: yuan with exactly two decimals and no separators (`"1234.50"`, `"-3.00"`).
    pub fn json(self) -> String {
        self.written(false, &mut [0; AMOUNT_TEXT]).to_string()
    }

    /// For people: `12,345.67`.
    pub fn display(self) -> String {
        self.to_string()
    }

    /// The amount in yuan with two decimals (`-1234.50`, or `-1,234.50` with `group`), written
    /// into `buf` from its end: a province's report writes millions of amounts, and a `String` for
    /// each was a tenth of its allocations.
    fn written(self, group: bool, buf: &mut [u8; AMOUNT_TEXT]) -> &str {
        let mut at = buf.len();
        let mut put = |b: u8| {
            at -= 1;
            buf[at] = b;
        };
        let a = self.0.unsigned_abs();
        let (mut yuan, cents) = (a / 100, a % 100);
        put(b'0' + (cents % 10) as u8);
        put(b'0' + (cents / 10) as u8);
        put(b'.');
        let mut n = 0;
        loop {
            if group && n > 0 && n % 3 == 0 {
                put(b',');
            }
            put(b'0' + (yuan % 10) as u8);
            n += 1;
            yuan /= 10;
            if yuan == 0 {
                break;
            }
        }
        if self.0 < 0 {
            put(b'-');
        }
        // ASCII digits and signs only.
        std::str::from_utf8(&buf[at..]).unwrap_or_default()
    }

    /// For summaries: `1.23 万元` (rounded half away from zero to 0.01 万).
    pub fn wan(self) -> String {
        format!("{} 万元", self.wan_number())
    }

    /// The amount in 万元 with two decimals and no unit (`26.78`), for a place whose heading says 万元.
    pub fn wan_number(self) -> String {
        // 1 万元 = 1,000,000 fen; two decimals of 万 = 10,000 fen.
        let hundredths = round_div(self.0 as i128, 10_000);
        let sign = if hundredths < 0 { "-" } else { "" };
        let a = hundredths.unsigned_abs();
        format!("{sign}{}.{:02}", group_thousands(a / 100), a % 100)
    }
}

impl std::ops::Neg for Fen {
    type Output = Fen;
    /// The amount with its sign turned (a red-ink correction of it).
    fn neg(self) -> Fen {
        Fen(self.0.saturating_neg())
    }
}

/// A sum or product of amounts that does not fit in an `i64` of fen: reported, never wrapped
/// (SPEC §1). The caller names what overflowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("金额合计超出范围")]
pub struct FenOverflow;

/// A total that does not fit, named: SPEC §1's "an error naming what overflowed", for a sum the
/// caller checks itself (a report's region sums say the same in `ReportError::Overflow`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}超出可计算的范围（合计溢出），请检查是否有金额录错")]
pub struct NamedOverflow(pub String);

/// An exact running total of amounts (an `i128` of fen): any number of stored amounts add up
/// exactly, in any order, and the total is checked against `i64` once, as a whole, when it is
/// taken out with [`FenSum::fen`] (SPEC §1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FenSum(i128);

impl FenSum {
    pub const ZERO: FenSum = FenSum(0);

    /// The exact sum of `amounts`.
    pub fn of(amounts: impl IntoIterator<Item = Fen>) -> FenSum {
        amounts.into_iter().sum()
    }

    /// Adds `amount × k` (a measure's coefficient, a forecast's weight).
    pub fn add_times(&mut self, amount: Fen, k: i64) {
        self.0 += amount.0 as i128 * k as i128;
    }

    /// The total in `i64` fen, or the overflow it is.
    pub fn fen(self) -> Result<Fen, FenOverflow> {
        Fen::try_from_wide(self.0)
    }

    /// The total in `i64` fen, at the largest figure of its sign when it does not fit: for a sum
    /// bounded by what it adds (a proposal's handful of awards), shown, never stored.
    pub fn saturated(self) -> Fen {
        Fen::saturate(self.0)
    }

    /// The mean of `count` amounts totalling `self` (a positive count), rounded to fen half away
    /// from zero.
    pub fn mean(self, count: usize) -> Fen {
        Fen::saturate(round_div(self.0, count as i128))
    }

    /// The total as one stored amount: `None` beyond [`MAX_FEN`] in magnitude.
    pub fn amount(self) -> Option<Fen> {
        (self.0.unsigned_abs() <= MAX_FEN as u128).then_some(Fen(self.0 as i64))
    }

    /// The magnitude.
    pub fn abs(self) -> FenSum {
        FenSum(self.0.abs())
    }

    /// JSON form, as [`Fen::json`]: yuan with exactly two decimals and no separators, for a total
    /// of any size (a workbook's totals row).
    pub fn json(self) -> String {
        let a = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }

    /// The total as people read it: yuan (`12,345.67`) when it fits in `i64`, else a count of fen
    /// (`… 分`), for a message about a total a sheet wrote.
    pub fn shown(self) -> String {
        match self.fen() {
            Ok(f) => f.to_string(),
            Err(_) => format!("{} 分", self.0),
        }
    }

    /// The exact total written as a count of fen (`1000000000000000001`), for a message about a
    /// total too large to show in yuan.
    pub fn fen_text(self) -> String {
        self.0.to_string()
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// `self / whole` in hundredths of a percent (ten-thousandths), rounded half away from zero: a
    /// growth's percentage. `whole` must be positive.
    pub fn per_10_000_of(self, whole: Fen) -> i128 {
        round_div(self.0 * 10_000, whole.0 as i128)
    }
}

impl std::iter::Sum<Fen> for FenSum {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> FenSum {
        FenSum(iter.map(|f| f.0 as i128).sum())
    }
}

impl std::iter::Sum<FenSum> for FenSum {
    fn sum<I: Iterator<Item = FenSum>>(iter: I) -> FenSum {
        FenSum(iter.map(|f| f.0).sum())
    }
}

impl std::ops::AddAssign<Fen> for FenSum {
    fn add_assign(&mut self, amount: Fen) {
        self.0 += amount.0 as i128;
    }
}

impl std::ops::SubAssign<Fen> for FenSum {
    fn sub_assign(&mut self, amount: Fen) {
        self.0 -= amount.0 as i128;
    }
}

impl std::ops::AddAssign<FenSum> for FenSum {
    fn add_assign(&mut self, other: FenSum) {
        self.0 += other.0;
    }
}

impl std::ops::Add for FenSum {
    type Output = FenSum;
    fn add(self, other: FenSum) -> FenSum {
        FenSum(self.0 + other.0)
    }
}

impl std::ops::Sub for FenSum {
    type Output = FenSum;
    fn sub(self, other: FenSum) -> FenSum {
        FenSum(self.0 - other.0)
    }
}

impl From<Fen> for FenSum {
    fn from(f: Fen) -> FenSum {
        f.wide()
    }
}

/// Room for any amount's text: 17 digits of yuan, 5 commas, sign, point and cents.
const AMOUNT_TEXT: usize = 32;

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.written(true, &mut [0; AMOUNT_TEXT]))
    }
}

impl serde::Serialize for Fen {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.written(false, &mut [0; AMOUNT_TEXT]))
    }
}

/// `num / den` rounded to an integer half away from zero (四舍五入). `den` must be positive.
pub fn round_div(num: i128, den: i128) -> i128 {
    debug_assert!(den > 0);
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// An exact amount in millionths of a fen, shown in yuan with as many decimals as it needs.
pub fn micro_yuan(v: i128) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let unit: u128 = 100 * PPM as u128; // millionths of a fen per yuan
    let whole = Fen((a / unit) as i64 * 100).display();
    let whole = whole.trim_end_matches(".00");
    let frac = a % unit;
    let frac = format!("{frac:08}");
    let mut frac = frac.trim_end_matches('0').to_string();
    while frac.len() < 2 {
        frac.push('0');
    }
    format!("{sign}{whole}.{frac}")
}

/// `part / whole` as a percentage with two decimals, rounded half away from zero: `"61.54%"`.
pub fn percent_string(part: u64, whole: u64) -> String {
    let hundredths = round_div(part as i128 * 10_000, whole as i128);
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

fn group_thousands<T: Into<u128>>(v: T) -> String {
    let digits = v.into().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Written in place, amounts read as they did when formatted through `String`s.
        #[test]
        fn amounts_are_written_as_formatted(v in proptest::prelude::any::<i64>(), small in -10_000_000i64..10_000_000) {
            for v in [v, small, i64::MIN, i64::MAX, 0, -1, 99, -100] {
                let sign = if v < 0 { "-" } else { "" };
                let a = v.unsigned_abs();
                let json = format!("{sign}{}.{:02}", a / 100, a % 100);
                let shown = format!("{sign}{}.{:02}", group_thousands(a / 100), a % 100);
                proptest::prop_assert_eq!(Fen(v).json(), json.clone());
                proptest::prop_assert_eq!(Fen(v).display(), shown.clone());
                proptest::prop_assert_eq!(serde_json::to_string(&Fen(v)).unwrap(), format!("\"{json}\""));
                proptest::prop_assert_eq!(format!("{}", Fen(v)), shown);
            }
        }
    }

    /// Rounding `n / d` (d > 0) half away from zero the slow, obvious way, without `round_div`:
    /// twice the magnitude plus the divisor, halved.
    fn reference_round(n: i128, d: i128) -> i128 {
        let m = (2 * n.abs() + d) / (2 * d);
        if n < 0 {
            -m
        } else {
            m
        }
    }

    proptest::proptest! {
        /// An exact sum equals the `i128` sum of its amounts, in any order; taken out as `i64` it
        /// is that sum when it fits and an overflow otherwise, never a wrapped figure.
        #[test]
        fn exact_sums_are_the_wide_sum_or_an_overflow(
            v in proptest::collection::vec(proptest::prelude::any::<i64>(), 0..40),
            small in proptest::collection::vec(-MAX_FEN..=MAX_FEN, 0..40),
        ) {
            for v in [&v, &small] {
                let wide: i128 = v.iter().map(|x| *x as i128).sum();
                let sum = FenSum::of(v.iter().map(|x| Fen(*x)));
                let reversed = FenSum::of(v.iter().rev().map(|x| Fen(*x)));
                proptest::prop_assert_eq!(sum, reversed);
                match i64::try_from(wide) {
                    Ok(w) => {
                        proptest::prop_assert_eq!(sum.fen(), Ok(Fen(w)));
                        proptest::prop_assert_eq!(sum.json(), Fen(w).json());
                        proptest::prop_assert_eq!(sum.shown(), Fen(w).to_string());
                        proptest::prop_assert_eq!(sum.saturated(), Fen(w));
                    }
                    Err(_) => {
                        proptest::prop_assert_eq!(sum.fen(), Err(FenOverflow));
                        let end = if wide < 0 { i64::MIN } else { i64::MAX };
                        proptest::prop_assert_eq!(sum.saturated(), Fen(end));
                    }
                }
                proptest::prop_assert_eq!(
                    sum.amount(),
                    (wide.abs() <= MAX_FEN as i128).then_some(Fen(wide as i64))
                );
                // The checked sum of stored amounts: each partial sum within the bound, or None.
                let mut partial = 0i128;
                let mut within = true;
                for x in v.iter() {
                    partial += *x as i128;
                    within &= partial.abs() <= MAX_FEN as i128;
                }
                let checked = Fen::checked_sum(v.iter().map(|x| Fen(*x)));
                proptest::prop_assert_eq!(checked, within.then_some(Fen(wide as i64)));
            }
        }

        /// A sum of two amounts in `i64`: checked against `i64` (a total), against the bound (a
        /// stored amount), or saturated — each the `i128` sum where it fits.
        #[test]
        fn two_amounts_add_as_wide_integers(a in proptest::prelude::any::<i64>(), b in proptest::prelude::any::<i64>()) {
            let wide = a as i128 + b as i128;
            let fits = i64::try_from(wide).ok();
            proptest::prop_assert_eq!(Fen(a).add_total(Fen(b)).ok(), fits.map(Fen));
            proptest::prop_assert_eq!(
                Fen(a).checked_add(Fen(b)),
                fits.filter(|w| w.abs() <= MAX_FEN).map(Fen)
            );
            proptest::prop_assert_eq!(Fen(a).saturating_add(Fen(b)), Fen(wide.clamp(i64::MIN as i128, i64::MAX as i128) as i64));
            let diff = a as i128 - b as i128;
            proptest::prop_assert_eq!(Fen(a).saturating_sub(Fen(b)), Fen(diff.clamp(i64::MIN as i128, i64::MAX as i128) as i64));
            proptest::prop_assert_eq!(Fen::try_from_wide(wide).ok(), fits.map(Fen));
        }

        /// The one rounding of a product: `amount × rate` rounded half away from zero, as an exact
        /// `i128` reference computes it; `⌊amount × rate⌋` rounded down; `amount × n / d` alike.
        #[test]
        fn products_round_as_the_reference(
            a in -MAX_FEN..=MAX_FEN,
            ppm in 0i64..=10 * PPM,
            n in 0i64..=12,
            d in 1i64..=1_000_000,
        ) {
            let exact = a as i128 * ppm as i128;
            let rate = Ppm::from_ppm(ppm);
            proptest::prop_assert_eq!(Fen(a).micros(rate), exact);
            proptest::prop_assert_eq!(Fen(a).times(rate), Fen(reference_round(exact, PPM as i128) as i64));
            proptest::prop_assert_eq!(Fen::round_micros(exact), Fen(a).times(rate));
            let floor = if exact >= 0 { exact / PPM as i128 } else { -((-exact + PPM as i128 - 1) / PPM as i128) };
            proptest::prop_assert_eq!(Fen(a).times_floor(rate), Fen(floor as i64));
            proptest::prop_assert_eq!(Fen(a).ratio(n, d), Fen(reference_round(a as i128 * n as i128, d as i128) as i64));
            proptest::prop_assert_eq!(Fen(a).as_micros(), a as i128 * PPM as i128);
            let count = d as usize;
            proptest::prop_assert_eq!(Fen(a).wide().mean(count), Fen(reference_round(a as i128, d as i128) as i64));
            if a > 0 {
                let part = Fen(a / 3).wide();
                proptest::prop_assert_eq!(part.per_10_000_of(Fen(a)), reference_round((a / 3) as i128 * 10_000, a as i128));
            }
        }

        /// The tests of sign and size agree with the integer's.
        #[test]
        fn signs_and_sizes_follow_the_integer(a in proptest::prelude::any::<i64>(), unit in -5i64..1_000_000) {
            let f = Fen(a);
            proptest::prop_assert_eq!(f.is_zero(), a == 0);
            proptest::prop_assert_eq!(f.is_positive(), a > 0);
            proptest::prop_assert_eq!(f.is_negative(), a < 0);
            proptest::prop_assert_eq!(f.abs(), Fen(a.saturating_abs()));
            proptest::prop_assert_eq!(-f, Fen(a.saturating_neg()));
            proptest::prop_assert_eq!(f.or_zero(), Fen(a.max(0)));
            proptest::prop_assert_eq!(f.is_multiple_of(Fen(unit)), unit > 0 && a % unit == 0);
        }
    }

    /// SPEC §1's pattern checked the slow, obvious way, without sharing code (or a regex) with
    /// `parse_scaled`: the value in fen, or `None` when the text does not match.
    fn reference_fen(text: &str) -> Option<i128> {
        let t = text.trim();
        let t = t.strip_suffix('元').unwrap_or(t).trim();
        let chars: Vec<char> = t.chars().collect();
        let mut i = 0;
        let negative = chars.first() == Some(&'-');
        if negative {
            i = 1;
        }
        // The integer part runs to the point or the end.
        let end = chars[i..]
            .iter()
            .position(|c| *c == '.')
            .map_or(chars.len(), |p| p + i);
        let int: &[char] = &chars[i..end];
        let is_digit = |c: &char| c.is_ascii_digit();
        let plain = !int.is_empty() && int.iter().all(is_digit);
        let grouped = {
            // Groups separated by commas: the first 1–3 digits, the others exactly 3, at least two.
            let groups: Vec<Vec<char>> = int
                .split(|c| *c == ',' || *c == '，')
                .map(|g| g.to_vec())
                .collect();
            groups.len() >= 2
                && (1..=3).contains(&groups[0].len())
                && groups.iter().all(|g| g.iter().all(is_digit))
                && groups[1..].iter().all(|g| g.len() == 3)
        };
        if !(plain || grouped) {
            return None;
        }
        let frac: &[char] = if end < chars.len() {
            &chars[end + 1..]
        } else {
            &[]
        };
        if end < chars.len() && (frac.is_empty() || frac.len() > 2 || !frac.iter().all(is_digit)) {
            return None;
        }
        let mut v: i128 = 0;
        for c in int.iter().filter(|c| c.is_ascii_digit()) {
            v = v * 10 + c.to_digit(10)? as i128;
            if v > 1_000_000_000_000_000_000 {
                return None; // far beyond any bound: called an overflow by both
            }
        }
        let mut cents = 0;
        for k in 0..2 {
            cents = cents * 10 + frac.get(k).and_then(|c| c.to_digit(10)).unwrap_or(0) as i128;
        }
        let fen = v * 100 + cents;
        Some(if negative { -fen } else { fen })
    }

    proptest::proptest! {
        /// Any text made of the characters amounts are written with reads as the reference does.
        #[test]
        fn written_amounts_follow_the_reference(
            text in "[ ]?-?[0-9,，.元+e ]{0,14}[元]?",
        ) {
            let got = Fen::parse_yuan(&text);
            match reference_fen(&text) {
                Some(v) if v.abs() <= MAX_FEN as i128 => {
                    proptest::prop_assert_eq!(got, Ok(Fen(v as i64)), "{:?}", text)
                }
                Some(_) => proptest::prop_assert!(matches!(got, Err(MoneyError::Overflow(_))), "{:?}", text),
                None => proptest::prop_assert!(got.is_err(), "{:?} must be refused, got {:?}", text, got),
            }
        }

        /// Every amount in the bound, written plain, grouped with either comma, with a unit or
        /// without its cents, reads back exactly.
        #[test]
        fn every_amount_written_reads_back(fen in -MAX_FEN..=MAX_FEN, style in 0u8..4) {
            let f = Fen(fen);
            let text = match style {
                0 => f.json(),
                1 => f.display(),
                2 => format!(" {}元", f.display().replace(',', "，")),
                _ => format!("{}.{}", f.json().split('.').next().unwrap_or(""), (fen.unsigned_abs() % 100) / 10)
                    .to_string(),
            };
            let expected = if style == 3 { Fen(fen - fen % 10) } else { f };
            proptest::prop_assert_eq!(reference_fen(&text), Some(expected.0 as i128));
            proptest::prop_assert_eq!(Fen::parse_yuan(&text), Ok(expected), "{:?}", text);
        }

        /// A number typed into a cell (at most 15 significant digits, as Excel keeps) in 元 or 万元
        /// is read as exactly the fen typed: scaled before the whole-fen test, never rounded first.
        #[test]
        fn typed_numbers_are_exact_in_either_unit(fen in -99_999_999_999_999i64..=99_999_999_999_999, wan: bool) {
            let unit = if wan { Unit::Wan } else { Unit::Yuan };
            let digits = unit.fen_digits() as usize;
            let a = fen.unsigned_abs().to_string();
            let a = format!("{a:0>width$}", width = digits + 1);
            let (int, frac) = a.split_at(a.len() - digits);
            let typed = format!("{}{int}.{frac}", if fen < 0 { "-" } else { "" });
            let v: f64 = typed.parse().unwrap();
            proptest::prop_assert_eq!(Fen::from_number(v, unit), Ok(Fen(fen)), "{}", typed);
            proptest::prop_assert_eq!(Fen::parse_in(&typed, unit), Ok(Fen(fen)), "{}", typed);
        }

        /// A cell off a whole fen by more than the tolerance is refused, in either unit.
        #[test]
        fn cells_between_fen_are_refused(fen in -1_000_000_000i64..1_000_000_000, off in 2u32..9_998) {
            // fen + off/10,000 fen, written in yuan: off between 0.0002 and 0.9998 of a fen.
            let a = fen.unsigned_abs() as u128 * 10_000 + off as u128;
            let text = format!("{}{}.{:06}", if fen < 0 { "-" } else { "" }, a / 1_000_000, a % 1_000_000);
            let v: f64 = text.parse().unwrap();
            proptest::prop_assert!(matches!(Fen::from_number(v, Unit::Yuan), Err(MoneyError::NotWholeFen(_))), "{}", text);
        }
    }

    #[test]
    fn wan_yuan_cells_are_scaled_before_the_whole_fen_test() {
        assert_eq!(Fen::from_number(20.010001, Unit::Wan), Ok(Fen(20_010_001)));
        assert_eq!(Fen::from_number(0.000001, Unit::Wan), Ok(Fen(1)));
        assert_eq!(Fen::from_number(-0.000001, Unit::Wan), Ok(Fen(-1)));
        assert_eq!(Fen::from_number(15.0, Unit::Wan), Ok(Fen(15_000_000)));
        assert!(matches!(
            Fen::from_number(0.0000001, Unit::Wan),
            Err(MoneyError::NotWholeFen(_))
        ));
        assert_eq!(Fen::from_number(0.1 + 0.2, Unit::Wan), Ok(Fen(300_000)));
        assert_eq!(Fen::from_number(1e9, Unit::Wan), Ok(Fen(MAX_FEN)));
        assert!(matches!(
            Fen::from_number(1.00000001e9, Unit::Wan),
            Err(MoneyError::Overflow(_))
        ));
        assert!(matches!(
            Fen::from_number(1e300, Unit::Yuan),
            Err(MoneyError::Overflow(_))
        ));
        assert_eq!(Fen::from_number(1e-300, Unit::Yuan), Ok(Fen(0)));
        assert_eq!(Fen::parse_in("20.010001", Unit::Wan), Ok(Fen(20_010_001)));
        assert!(Fen::parse_in("1,234.5万", Unit::Wan).is_err());
        assert!(matches!(
            Fen::parse_in("0.0000001", Unit::Wan),
            Err(MoneyError::NotWholeFen(_))
        ));
    }

    #[test]
    fn parses_the_accepted_forms() {
        assert_eq!(Fen::parse_yuan("12345"), Ok(Fen(1_234_500)));
        assert_eq!(Fen::parse_yuan("12,345.6"), Ok(Fen(1_234_560)));
        assert_eq!(Fen::parse_yuan("12，345.67元"), Ok(Fen(1_234_567)));
        assert_eq!(Fen::parse_yuan(" -80.00 "), Ok(Fen(-8000)));
        assert_eq!(Fen::parse_yuan("-0"), Ok(Fen(0)));
        assert_eq!(Fen::parse_yuan("1,234,567.01"), Ok(Fen(123_456_701)));
        assert_eq!(Fen::parse_yuan("1,234.00元"), Ok(Fen(123_400)));
        assert_eq!(Fen::parse_yuan("10000000000000"), Ok(Fen(MAX_FEN)));
        assert!(matches!(
            Fen::parse_yuan("10000000000000.01"),
            Err(MoneyError::Overflow(_))
        ));
    }

    #[test]
    fn refuses_the_rest() {
        for bad in [
            "1e5",
            "12.345",
            "12.",
            "+5",
            "1,2,3",
            "abc",
            "",
            "1,23",
            "12,3456",
            ".5",
            "--1",
            "1 000",
            "元",
            "1,234.00元元",
            "１２",
        ] {
            assert!(Fen::parse_yuan(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(matches!(
            Fen::parse_yuan("99999999999999999999"),
            Err(MoneyError::Overflow(_))
        ));
    }

    #[test]
    fn shows_money() {
        assert_eq!(Fen(123_450).json(), "1234.50");
        assert_eq!(Fen(-300).json(), "-3.00");
        assert_eq!(Fen(-5).json(), "-0.05");
        assert_eq!(Fen(1_234_567).display(), "12,345.67");
        assert_eq!(Fen(-100_000_000).display(), "-1,000,000.00");
        assert_eq!(Fen(12_345_000).wan(), "12.35 万元");
        assert_eq!(Fen(-12_345_000).wan(), "-12.35 万元");
    }

    #[test]
    fn spreadsheet_numbers_must_be_whole_fen() {
        assert_eq!(Fen::from_yuan_f64(12.34), Ok(Fen(1234)));
        assert_eq!(Fen::from_yuan_f64(0.1 + 0.2), Ok(Fen(30)));
        assert!(Fen::from_yuan_f64(12.345).is_err());
        assert!(Fen::from_yuan_f64(f64::NAN).is_err());
    }

    #[test]
    fn shows_exact_raw_amounts() {
        assert_eq!(micro_yuan(234_567_800_000), "2,345.678");
        assert_eq!(micro_yuan(100_000_000), "1.00");
        assert_eq!(micro_yuan(-150_000_000), "-1.50");
        assert_eq!(micro_yuan(1), "0.00000001");
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(round_div(5, 10), 1);
        assert_eq!(round_div(-5, 10), -1);
        assert_eq!(round_div(4, 10), 0);
        assert_eq!(round_div(-15, 10), -2);
        assert_eq!(round_div(25, 10), 3);
    }
}
