//! Rates and shares held as whole parts per million (SPEC §1).

use std::fmt;

use crate::decimal::{parse_scaled, DecimalError};

pub const PPM: i64 = 1_000_000;

/// A rate, share or multiplier in parts per million (`10%` = 100,000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ppm(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("比率格式不对：`{0}`（应写作 0.1、0.085、10% 或 8.5%）")]
    Format(String),
    #[error("比率 `{0}` 不是整百万分之一")]
    TooPrecise(String),
    #[error("比率 `{0}` 应在 {1} 与 {2} 之间")]
    OutOfRange(String, String, String),
}

/// `0.12345600` → `0.123456`, `10.000` → `10`; text without a decimal point, or whose decimals end in
/// another digit, is returned as it is (so `10.` stays malformed).
fn without_trailing_zero_decimals(body: &str) -> &str {
    let Some((int_part, frac)) = body.split_once('.') else {
        return body;
    };
    if !frac.ends_with('0') || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return body;
    }
    let kept = frac.trim_end_matches('0');
    if kept.is_empty() {
        int_part
    } else {
        &body[..int_part.len() + 1 + kept.len()]
    }
}

impl Ppm {
    /// A rate of `ppm` parts per million (`100_000` is 10%). Rates read from text come through
    /// [`Ppm::parse`] and the policy reader, which check their range.
    pub const fn from_ppm(ppm: i64) -> Ppm {
        Ppm(ppm)
    }

    /// Parts per million.
    pub const fn ppm(self) -> i64 {
        self.0
    }

    pub const ZERO: Ppm = Ppm(0);
    pub const ONE: Ppm = Ppm(PPM);

    /// Parses `0.1`, `0.085`, `10%`, `8.5%` without bounds.
    pub fn parse(text: &str) -> Result<Ppm, RateError> {
        let t = text.trim();
        let (body, scale) = match t.strip_suffix('%') {
            Some(b) => (b.trim(), 4),
            None => (t, 6),
        };
        // The value decides, not the digits (SPEC §1): `0.12345600` is 123,456 ppm.
        let body = without_trailing_zero_decimals(body);
        match parse_scaled(body, scale, false) {
            Ok(v) if v.abs() <= 1_000_000_000_000 => Ok(Ppm(v as i64)),
            Ok(_) | Err(DecimalError::Overflow) => Err(RateError::Format(t.into())),
            Err(DecimalError::TooPrecise) => Err(RateError::TooPrecise(t.into())),
            Err(DecimalError::Format) => Err(RateError::Format(t.into())),
        }
    }

    /// Parses a rate that must lie within `[0, max]`.
    pub fn parse_within(text: &str, max: Ppm) -> Result<Ppm, RateError> {
        let p = Ppm::parse(text)?;
        p.check_within(text, max)
    }

    pub fn check_within(self, text: &str, max: Ppm) -> Result<Ppm, RateError> {
        if self.0 < 0 || self > max {
            return Err(RateError::OutOfRange(
                text.trim().into(),
                "0".into(),
                max.to_string(),
            ));
        }
        Ok(self)
    }

    /// Shown as a percentage, with as many decimals as needed: `10%`, `8.5%`, `0.0001%`.
    pub fn percent(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let whole = a / 10_000;
        let frac = a % 10_000;
        if frac == 0 {
            format!("{sign}{whole}%")
        } else {
            let f = format!("{frac:04}");
            format!("{sign}{whole}.{}%", f.trim_end_matches('0'))
        }
    }

    /// Shown as a plain decimal, as written in policies for multiples: `3`, `2.5`.
    pub fn decimal(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let whole = a / PPM as u64;
        let frac = a % PPM as u64;
        if frac == 0 {
            format!("{sign}{whole}")
        } else {
            let f = format!("{frac:06}");
            format!("{sign}{whole}.{}", f.trim_end_matches('0'))
        }
    }
}

impl fmt::Display for Ppm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.percent())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates() {
        assert_eq!(Ppm::parse("0.1"), Ok(Ppm(100_000)));
        assert_eq!(Ppm::parse("0.085"), Ok(Ppm(85_000)));
        assert_eq!(Ppm::parse("10%"), Ok(Ppm(100_000)));
        assert_eq!(Ppm::parse("8.5%"), Ok(Ppm(85_000)));
        assert_eq!(Ppm::parse("1"), Ok(Ppm(1_000_000)));
        assert!(matches!(
            Ppm::parse("0.0000001"),
            Err(RateError::TooPrecise(_))
        ));
        assert!(matches!(
            Ppm::parse("12.34567%"),
            Err(RateError::TooPrecise(_))
        ));
        assert!(Ppm::parse("abc").is_err());
        assert!(Ppm::parse("").is_err());
        // The value decides, not the digits (SPEC §1).
        assert_eq!(Ppm::parse("0.12345600"), Ok(Ppm(123_456)));
        assert_eq!(Ppm::parse("10.00000%"), Ok(Ppm(100_000)));
        assert_eq!(Ppm::parse("0.1000000000"), Ok(Ppm(100_000)));
        assert_eq!(Ppm::parse("-0.50"), Ok(Ppm(-500_000)));
        assert!(matches!(
            Ppm::parse("0.1234567"),
            Err(RateError::TooPrecise(_))
        ));
        assert!(matches!(
            Ppm::parse("0.12345670"),
            Err(RateError::TooPrecise(_))
        ));
        assert!(Ppm::parse("10.").is_err());
        assert!(Ppm::parse("10.%").is_err());
        assert!(Ppm::parse_within("120%", Ppm::ONE).is_err());
        assert!(Ppm::parse_within("-0.1", Ppm::ONE).is_err());
    }

    #[test]
    fn shows_rates() {
        assert_eq!(Ppm(100_000).percent(), "10%");
        assert_eq!(Ppm(85_000).percent(), "8.5%");
        assert_eq!(Ppm(1).percent(), "0.0001%");
        assert_eq!(Ppm(2_500_000).decimal(), "2.5");
    }
}
