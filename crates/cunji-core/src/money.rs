//! Money in whole fen (SPEC §1): parsing from yuan text, rounding, and the three ways it is shown.
//!
//! No floating point touches an amount, except reading a number cell of a spreadsheet: its value is
//! taken at the shortest decimal text that reads back as it, scaled exactly to yuan (× 10,000 from
//! 万元), and must then lie within 0.000001 yuan of a whole fen or it is refused.

use std::fmt;

use crate::decimal::{parse_scaled, DecimalError};

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
    fn rounds_half_away_from_zero() {
        assert_eq!(round_div(5, 10), 1);
        assert_eq!(round_div(-5, 10), -1);
        assert_eq!(round_div(4, 10), 0);
        assert_eq!(round_div(-15, 10), -2);
        assert_eq!(round_div(25, 10), 3);
    }
}
