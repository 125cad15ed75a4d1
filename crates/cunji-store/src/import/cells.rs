//! One row's cells read into values, each problem recorded against its cell. Every importer reads its
//! rows through this, so "empty", "not a year", "not an amount" and "starts like a formula" are said
//! the same way in every kind of file.

use cunji_core::date::parse_year;
use cunji_core::money::Fen;

use crate::table::{Row, RowErrors, Sheet};

pub(crate) struct Cells<'s, 'e> {
    sheet: &'s Sheet,
    row: &'s Row,
    pub line: u64,
    errors: &'e mut RowErrors,
    /// How many errors the file had before this row.
    start: u64,
}

impl<'s, 'e> Cells<'s, 'e> {
    pub fn new(sheet: &'s Sheet, row: &'s Row, errors: &'e mut RowErrors) -> Self {
        let start = errors.len();
        Cells {
            sheet,
            row,
            line: row.line,
            errors,
            start,
        }
    }

    pub fn sheet(&self) -> &'s Sheet {
        self.sheet
    }

    /// The errors of the whole file, for checks written against a sheet and a line.
    pub fn errors(&mut self) -> &mut RowErrors {
        self.errors
    }

    /// The trimmed cell of column `key` ("" when the file has no such column).
    pub fn get(&self, key: &str) -> &'s str {
        self.sheet.get(self.row, key)
    }

    pub fn fail(&mut self, key: &str, message: impl Into<String>) {
        let e = self.sheet.error(self.line, key, message);
        self.errors.push(e);
    }

    /// Whether this row has any problem so far.
    pub fn failed(&self) -> bool {
        self.errors.len() > self.start
    }

    /// A cell that may not be empty; `empty` says so.
    pub fn required(&mut self, key: &str, empty: &str) -> String {
        let text = self.get(key);
        if text.is_empty() {
            self.fail(key, empty);
        }
        text.to_string()
    }

    /// Free-text cells checked for what a spreadsheet would run as a formula.
    pub fn free_text(&mut self, keys: &[&str]) {
        for key in keys {
            if let Err(m) = crate::table::check_text(self.get(key)) {
                self.fail(key, m);
            }
        }
    }

    /// A cell parsed by `parse`; its error is the cell's problem.
    pub fn parse<T, E: ToString>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match parse(self.get(key)) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(key, e.to_string());
                None
            }
        }
    }

    /// A cell that may be empty (`Some(None)`), else parsed by `parse`; `None` when it is wrong.
    pub fn optional<T, E: ToString>(
        &mut self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        if self.get(key).is_empty() {
            Some(None)
        } else {
            self.parse(key, parse).map(Some)
        }
    }

    pub fn year(&mut self, key: &str) -> Option<i32> {
        self.parse(key, parse_year)
    }

    /// An amount in yuan of at least `least` fen; `below` says what is wrong with a smaller one.
    pub fn amount(&mut self, key: &str, least: i64, below: &str) -> Option<Fen> {
        let f = self.parse(key, Fen::parse_yuan)?;
        if f.fen() < least {
            self.fail(key, below);
            return None;
        }
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(fields: &[(&str, &str)]) -> Sheet {
        let owned: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, v.to_string())).collect();
        Sheet::from_fields("f.csv", &owned)
    }

    #[test]
    fn each_problem_is_recorded_against_its_cell() {
        let s = sheet(&[
            ("year", "20x4"),
            ("amount", "-1"),
            ("name", ""),
            ("memo", "=1"),
        ]);
        let mut errors = RowErrors::from(vec![s.error(9, "before", "an earlier row's problem")]);
        let mut c = Cells::new(&s, &s.rows[0], &mut errors);
        assert!(!c.failed());
        assert_eq!(c.year("year"), None);
        assert_eq!(c.amount("amount", 1, "应大于 0"), None);
        assert_eq!(c.required("name", "不能为空"), "");
        c.free_text(&["memo"]);
        assert_eq!(c.optional("absent", |t| t.parse::<i64>()), Some(None));
        assert!(c.failed());
        let cols: Vec<&str> = errors.iter().skip(1).map(|e| e.column.as_str()).collect();
        assert_eq!(cols, ["year", "amount", "name", "memo"]);
        assert_eq!(errors[2].message, "应大于 0");
    }

    #[test]
    fn good_cells_read_as_values() {
        let s = sheet(&[("year", "2024"), ("amount", "12.5"), ("rate", "3")]);
        let mut errors = RowErrors::new();
        let mut c = Cells::new(&s, &s.rows[0], &mut errors);
        assert_eq!(c.year("year"), Some(2024));
        assert_eq!(c.amount("amount", 1, "x"), Some(Fen::from_fen(1250)));
        assert_eq!(c.optional("rate", |t| t.parse::<i64>()), Some(Some(3)));
        assert!(!c.failed());
        assert!(errors.is_empty());
    }
}
