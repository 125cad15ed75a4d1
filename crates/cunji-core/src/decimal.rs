//! Exact decimal text → scaled integer, shared by money (scale 2) and rates (scale 6).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    Format,
    /// More decimal places than the scale holds (not a whole fen / ppm).
    TooPrecise,
    Overflow,
}

/// Parses `-?(\d+|\d{1,3}([,，]\d{3})+)(\.\d{1,scale})?` into `value × 10^scale`.
/// Thousands separators are accepted only with `grouping`.
pub fn parse_scaled(text: &str, scale: u32, grouping: bool) -> Result<i128, DecimalError> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = integer_digits(int_part, grouping).ok_or(DecimalError::Format)?;
    let mut value: i128 = 0;
    for d in digits.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as i128))
            .ok_or(DecimalError::Overflow)?;
        if value > 1_000_000_000_000_000_000_000 {
            return Err(DecimalError::Overflow);
        }
    }
    let mut frac_value: i128 = 0;
    let mut frac_len = 0u32;
    if let Some(f) = frac_part {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DecimalError::Format);
        }
        if f.len() as u32 > scale {
            return Err(DecimalError::TooPrecise);
        }
        for d in f.bytes() {
            frac_value = frac_value * 10 + (d - b'0') as i128;
            frac_len += 1;
        }
    }
    let scaled = value
        .checked_mul(10i128.pow(scale))
        .and_then(|v| v.checked_add(frac_value * 10i128.pow(scale - frac_len)))
        .ok_or(DecimalError::Overflow)?;
    Ok(if neg { -scaled } else { scaled })
}

/// The digits of an integer part, with separators removed; `None` when malformed.
fn integer_digits(s: &str, grouping: bool) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return Some(s.to_string());
    }
    if !grouping {
        return None;
    }
    let groups: Vec<&str> = s.split([',', '，']).collect();
    let first = groups[0];
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    for g in &groups[1..] {
        if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    Some(groups.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_exactly() {
        assert_eq!(parse_scaled("0.085", 6, false), Ok(85_000));
        assert_eq!(parse_scaled("1", 6, false), Ok(1_000_000));
        assert_eq!(
            parse_scaled("0.0000001", 6, false),
            Err(DecimalError::TooPrecise)
        );
        assert_eq!(parse_scaled("1,000", 6, false), Err(DecimalError::Format));
        assert_eq!(parse_scaled("1,000.5", 2, true), Ok(100_050));
    }
}
