//! Money in whole fen (SPEC §1): parsing from yuan text, rounding, and the three ways it is shown.
//!
//! No floating point touches an amount, except reading a number cell of a spreadsheet, where the
//! value must lie within 0.000001 yuan of a whole fen or it is refused.

use std::fmt;

use crate::decimal::{parse_scaled, DecimalError};

/// The largest magnitude of a stored amount or account total: 10^15 fen (10 万亿 yuan).
/// Bounding every stored figure this way keeps sums of a few hundred of them inside `i64`.
pub const MAX_FEN: i64 = 1_000_000_000_000_000;

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

    /// Parses an amount written in yuan per SPEC §1.
    pub fn parse_yuan(text: &str) -> Result<Fen, MoneyError> {
        let t = text.trim();
        let t = t.strip_suffix('元').unwrap_or(t).trim();
        if t.is_empty() {
            return Err(MoneyError::Empty);
        }
        match parse_scaled(t, 2, true) {
            Ok(v) if v.unsigned_abs() <= MAX_FEN as u128 => Ok(Fen(v as i64)),
            Ok(_) | Err(DecimalError::Overflow) => Err(MoneyError::Overflow(text.trim().into())),
            Err(_) => Err(MoneyError::Format(text.trim().into())),
        }
    }

    /// Takes a spreadsheet number cell as yuan; it must be within 0.000001 of a whole fen.
    pub fn from_yuan_f64(v: f64) -> Result<Fen, MoneyError> {
        if !v.is_finite() {
            return Err(MoneyError::Format(v.to_string()));
        }
        let fen = v * 100.0;
        if fen.abs() > MAX_FEN as f64 {
            return Err(MoneyError::Overflow(v.to_string()));
        }
        let rounded = fen.round();
        if (fen - rounded).abs() > 0.0001 {
            return Err(MoneyError::NotWholeFen(v.to_string()));
        }
        Ok(Fen(rounded as i64))
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
            .filter(|v| v.abs() <= MAX_FEN)
            .map(Fen::from_fen)
    }

    /// `self − other`, within the bound of a stored amount ([`MAX_FEN`]).
    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0
            .checked_sub(other.0)
            .filter(|v| v.abs() <= MAX_FEN)
            .map(Fen::from_fen)
    }

    /// The sum of `amounts`, or `None` when a partial sum leaves the bound of a stored amount.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Fen>) -> Option<Fen> {
        amounts
            .into_iter()
            .try_fold(Fen::ZERO, |total, a| total.checked_add(a))
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

    #[test]
    fn parses_the_accepted_forms() {
        assert_eq!(Fen::parse_yuan("12345"), Ok(Fen(1_234_500)));
        assert_eq!(Fen::parse_yuan("12,345.6"), Ok(Fen(1_234_560)));
        assert_eq!(Fen::parse_yuan("12，345.67元"), Ok(Fen(1_234_567)));
        assert_eq!(Fen::parse_yuan(" -80.00 "), Ok(Fen(-8000)));
        assert_eq!(Fen::parse_yuan("-0"), Ok(Fen(0)));
        assert_eq!(Fen::parse_yuan("1,234,567.01"), Ok(Fen(123_456_701)));
    }

    #[test]
    fn refuses_the_rest() {
        for bad in [
            "1e5", "12.345", "12.", "+5", "1,2,3", "abc", "", "1,23", "12,3456", ".5", "--1",
            "1 000", "元",
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
    fn rounds_half_away_from_zero() {
        assert_eq!(round_div(5, 10), 1);
        assert_eq!(round_div(-5, 10), -1);
        assert_eq!(round_div(4, 10), 0);
        assert_eq!(round_div(-15, 10), -2);
        assert_eq!(round_div(25, 10), 3);
    }
}
