//! Dates of entries (SPEC §1): ISO `YYYY-MM-DD` as cunji writes them, and in files also the forms Excel
//! and WPS write in China (`Date::parse_file`); a year is the calendar year.

/// A calendar date: a real day of a real month, made only by [`Date::parse`], [`Date::parse_file`],
/// [`Date::from_ymd`] or the day-number conversions, so that no impossible date exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// The date of a year, month and day, if it exists (leap years counted).
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Date> {
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
            .then_some(Date { year, month, day })
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn month(&self) -> u8 {
        self.month
    }

    pub fn day(&self) -> u8 {
        self.day
    }

    /// Parses `YYYY-MM-DD` with a real day of a real month (leap years counted), years 1900–2999.
    pub fn parse(text: &str) -> Result<Date, String> {
        let t = text.trim();
        let bad = || format!("日期 `{t}` 应写作 YYYY-MM-DD，如 2024-03-31");
        let b = t.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |s: &str| -> Option<u32> {
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())
                .flatten()
        };
        let (Some(y), Some(m), Some(d)) = (num(&t[0..4]), num(&t[5..7]), num(&t[8..10])) else {
            return Err(bad());
        };
        if !(1900..=2999).contains(&y) {
            return Err(format!("日期 `{t}` 的年份应在 1900–2999 之间"));
        }
        if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y as i32, m as u8) as u32 {
            return Err(format!("日期 `{t}` 不存在"));
        }
        Ok(Date {
            year: y as i32,
            month: m as u8,
            day: d as u8,
        })
    }

    /// Parses a date as a file may hold it (SPEC §1): ISO `2025-03-05`, or as Excel and WPS write
    /// dates in China — `2025/3/5`, `2025-3-5`, `2025.3.5`, `2025年3月5日` (month and day with one
    /// or two digits, the same separator twice). The year comes first, always: `3/5/2025` is
    /// refused rather than guessed (month or day first?). What cunji writes and the web's ISO
    /// inputs stay with the strict [`Date::parse`].
    pub fn parse_file(text: &str) -> Result<Date, String> {
        let t = text.trim();
        let bad = || {
            format!("日期 `{t}` 应写作 2025-03-05、2025/3/5、2025.3.5 或 2025年3月5日（年份在前）")
        };
        let (y, m, d) = split_file_date(t).ok_or_else(bad)?;
        if !(1900..=2999).contains(&y) {
            return Err(format!("日期 `{t}` 的年份应在 1900–2999 之间"));
        }
        Date::from_ymd(y as i32, m as u8, d as u8).ok_or_else(|| format!("日期 `{t}` 不存在"))
    }

    /// Days since 1970-01-01 in the civil calendar (days-from-civil, Howard Hinnant's algorithm).
    pub fn day_number(&self) -> i64 {
        let (y, m, d) = (self.year as i64, self.month as i64, self.day as i64);
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01 (civil-from-days); the inverse of `day_number`.
    pub fn from_day_number(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        Date {
            year: (if m <= 2 { y + 1 } else { y }) as i32,
            month: m as u8,
            day: d as u8,
        }
    }

    /// Today in Beijing time (UTC+8), from the system clock.
    pub fn today_beijing() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0) as i64;
        Date::from_day_number((secs + 8 * 3600).div_euclid(86_400))
    }

    pub fn year_end(year: i32) -> Date {
        Date {
            year,
            month: 12,
            day: 31,
        }
    }

    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `YYYY-MM-DD` as `iso` writes it, without allocating (an import formats millions), or `None`
    /// for a year outside 0–9999 or an impossible month or day, which `parse` never returns.
    pub fn iso_bytes(&self) -> Option<[u8; 10]> {
        if !(0..=9999).contains(&self.year) || self.month > 99 || self.day > 99 {
            return None;
        }
        let y = self.year as u32;
        let digit = |n: u32| b'0' + (n % 10) as u8;
        let (m, d) = (self.month as u32, self.day as u32);
        Some([
            digit(y / 1000),
            digit(y / 100),
            digit(y / 10),
            digit(y),
            b'-',
            digit(m / 10),
            digit(m),
            b'-',
            digit(d / 10),
            digit(d),
        ])
    }
}

/// Year, month and day of `YYYY?M?D` with one separator of `-`, `/`, `.` used twice, or
/// `YYYY年M月D日`; month and day of one or two digits. Not checked for existence here.
fn split_file_date(t: &str) -> Option<(u32, u32, u32)> {
    let number = |s: &str, most: usize| -> Option<u32> {
        (!s.is_empty() && s.len() <= most && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (y, m, d) = if let Some(rest) = t.strip_suffix('日') {
        let (y, rest) = rest.split_once('年')?;
        let (m, d) = rest.split_once('月')?;
        (y, m, d)
    } else {
        let sep = t.chars().find(|c| !c.is_ascii_digit())?;
        if !matches!(sep, '-' | '/' | '.') {
            return None;
        }
        let mut parts = t.split(sep);
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        (y, m, d)
    };
    if y.len() != 4 {
        return None;
    }
    Some((number(y, 4)?, number(m, 2)?, number(d, 2)?))
}

pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses a year column: a whole number 1900–2999.
pub fn parse_year(text: &str) -> Result<i32, String> {
    let t = text.trim();
    match t.parse::<i32>() {
        Ok(y) if (1900..=2999).contains(&y) && t.bytes().all(|b| b.is_ascii_digit()) => Ok(y),
        _ => Err(format!("年度 `{t}` 应为 1900–2999 的四位年份")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn day_numbers() {
        assert_eq!(Date::parse("1970-01-01").unwrap().day_number(), 0);
        assert_eq!(Date::parse("2024-03-01").unwrap().day_number(), 19_783);
        assert_eq!(Date::from_day_number(19_783).iso(), "2024-03-01");
        assert_eq!(Date::from_day_number(19_782).iso(), "2024-02-29");
    }

    proptest! {
        #[test]
        fn day_numbers_round_trip(days in -25_567i64..376_000) {
            let d = Date::from_day_number(days);
            prop_assert_eq!(d.day_number(), days);
            prop_assert_eq!(Date::parse(&d.iso()).map(|p| p.day_number()), Ok(days));
        }
    }

    proptest! {
        #[test]
        fn iso_bytes_write_what_iso_writes(year in -20i32..10_020, month in 0u8..=120, day in 0u8..=120) {
            let d = Date { year, month, day };
            match d.iso_bytes() {
                Some(b) => prop_assert_eq!(std::str::from_utf8(&b).unwrap(), d.iso()),
                None => prop_assert!(!(0..=9999).contains(&year) || month > 99 || day > 99),
            }
        }
    }

    #[test]
    fn file_dates_take_the_forms_excel_and_wps_write() {
        for text in [
            "2025-03-05",
            "2025/3/5",
            "2025-3-5",
            "2025.3.5",
            "2025年3月5日",
            " 2025/03/05 ",
            "2025年03月05日",
        ] {
            assert_eq!(
                Date::parse_file(text).map(|d| d.iso()),
                Ok("2025-03-05".to_string()),
                "{text}"
            );
        }
        for text in [
            "3/5/2025",
            "05/03/2025",
            "2025-02-30",
            "2025/2/29",
            "2025-3/5",
            "2025年3月5",
            "25-3-5",
            "2025--3-5",
            "2025-3-5-1",
            "2025-003-5",
            "2025 3 5",
            "",
            "2025-03-05T00:00",
            "+2025-3-5",
        ] {
            assert!(Date::parse_file(text).is_err(), "{text:?} must be refused");
        }
        assert_eq!(
            Date::parse_file("3/5/2025").unwrap_err(),
            "日期 `3/5/2025` 应写作 2025-03-05、2025/3/5、2025.3.5 或 2025年3月5日（年份在前）"
        );
        assert_eq!(
            Date::parse_file("2025-02-30").unwrap_err(),
            "日期 `2025-02-30` 不存在"
        );
        assert_eq!(
            Date::parse_file("2024/2/29").map(|d| d.iso()),
            Ok("2024-02-29".into())
        );
    }

    proptest! {
        /// Every real date reads the same in each of the file forms.
        #[test]
        fn every_file_form_reads_the_same_date(days in -25_567i64..376_000, form in 0usize..5) {
            let d = Date::from_day_number(days);
            let (y, m, dd) = (d.year(), d.month(), d.day());
            let text = match form {
                0 => d.iso(),
                1 => format!("{y}/{m}/{dd}"),
                2 => format!("{y}-{m}-{dd}"),
                3 => format!("{y}.{m}.{dd}"),
                _ => format!("{y}年{m}月{dd}日"),
            };
            prop_assert_eq!(Date::parse_file(&text), Ok(d));
        }
    }

    #[test]
    fn dates() {
        assert_eq!(Date::parse("2024-02-29").unwrap().year, 2024);
        assert!(Date::parse("2023-02-29").is_err());
        assert!(Date::parse("2023-13-01").is_err());
        assert!(Date::parse("2023/01/01").is_err());
        assert!(Date::parse("2023-1-01").is_err());
        assert!(Date::parse("+023-01-01").is_err());
        assert_eq!(Date::parse(" 2019-11-23 ").unwrap().iso(), "2019-11-23");
        assert_eq!(parse_year("2024"), Ok(2024));
        assert!(parse_year("24").is_err());
        assert!(parse_year("+2024").is_err());
    }
}
