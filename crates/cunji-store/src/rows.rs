//! The rows of an import file as every reader gives them: the sheet with its header, each row's
//! cells, and the problems found, each named by file, line and column. CSV (`table.rs`) and
//! spreadsheets (`xlsx.rs`) both build these, so both sit above this module.

use std::collections::HashMap;
use std::fmt;

/// One problem of one row: `FILE:LINE: column: problem`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Row errors a refused import lists at most; past that they are only counted (SPEC §9), so that a
/// wrong file of millions of rows costs no more memory than a right one (30 million bad rows once
/// kept 9.1 GB of messages).
pub const ERRORS_LISTED: usize = 1_000;

/// The row errors of a refused import: the first [`ERRORS_LISTED`] found, kept whole, and the count
/// of all of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowErrors {
    listed: Vec<RowError>,
    total: u64,
}

impl RowErrors {
    pub fn new() -> RowErrors {
        RowErrors::default()
    }

    /// Counts `e`, and keeps it while fewer than [`ERRORS_LISTED`] are kept.
    pub fn push(&mut self, e: RowError) {
        self.total += 1;
        if self.listed.len() < ERRORS_LISTED {
            self.listed.push(e);
        }
    }

    pub fn append(&mut self, errors: &mut Vec<RowError>) {
        for e in errors.drain(..) {
            self.push(e);
        }
    }

    /// How many errors there are, listed or not.
    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many are counted but not listed.
    pub fn unlisted(&self) -> u64 {
        self.total - self.listed.len() as u64
    }

    /// The listed errors.
    pub fn iter(&self) -> std::slice::Iter<'_, RowError> {
        self.listed.iter()
    }

    /// The errors of `parts` (each found in line order, as rows of a file split in parts are read
    /// side by side) as one list in line order: those of one line in the order of the parts, the
    /// first [`ERRORS_LISTED`] lines' errors listed. Each part kept its own first ones, so the
    /// merged list is what reading the parts one after the other would have listed.
    pub fn merged(parts: Vec<RowErrors>) -> RowErrors {
        let total = parts.iter().map(|p| p.total).sum();
        let mut listed: Vec<RowError> = parts.into_iter().flat_map(|p| p.listed).collect();
        listed.sort_by_key(|e| e.line);
        listed.truncate(ERRORS_LISTED);
        RowErrors { listed, total }
    }

    /// The listed errors in line order (those of one line in the order found).
    pub fn sort_by_line(&mut self) {
        self.listed.sort_by_key(|e| e.line);
    }

    /// The listed errors.
    pub fn into_listed(self) -> Vec<RowError> {
        self.listed
    }
}

impl std::ops::Index<usize> for RowErrors {
    type Output = RowError;
    /// The `i`-th listed error.
    fn index(&self, i: usize) -> &RowError {
        &self.listed[i]
    }
}

impl Extend<RowError> for RowErrors {
    fn extend<I: IntoIterator<Item = RowError>>(&mut self, errors: I) {
        for e in errors {
            self.push(e);
        }
    }
}

impl From<Vec<RowError>> for RowErrors {
    fn from(errors: Vec<RowError>) -> RowErrors {
        let mut out = RowErrors::new();
        out.extend(errors);
        out
    }
}

impl IntoIterator for RowErrors {
    type Item = RowError;
    type IntoIter = std::vec::IntoIter<RowError>;
    fn into_iter(self) -> Self::IntoIter {
        self.listed.into_iter()
    }
}

impl<'a> IntoIterator for &'a RowErrors {
    type Item = &'a RowError;
    type IntoIter = std::slice::Iter<'a, RowError>;
    fn into_iter(self) -> Self::IntoIter {
        self.listed.iter()
    }
}

impl fmt::Display for RowErrors {
    /// Each listed error on its line, then `… 另有 N 处错误未列出` when some are not listed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.listed {
            writeln!(f, "{e}")?;
        }
        if self.unlisted() > 0 {
            writeln!(
                f,
                "… 另有 {} 处错误未列出（只列出前 {ERRORS_LISTED} 处）",
                self.unlisted()
            )?;
        }
        Ok(())
    }
}

pub use cunji_core::columns::Column;

/// A column read by name only (a test's or a caller's own file), with no template note.
pub const fn col(key: &'static str, zh: &'static str, required: bool) -> Column {
    Column::plain(key, zh, required)
}

/// A decoded, header-checked file.
pub struct Sheet {
    pub file: String,
    /// For a spreadsheet, the column letter of each column, so errors can name the cell.
    letters: Option<Vec<String>>,
    /// The resolved key of each column, in file order.
    pub keys: Vec<String>,
    /// Each column's header as the file wrote it (`金额` or `amount`): errors name the column so.
    names: Vec<String>,
    index: HashMap<String, usize>,
    pub rows: Vec<Row>,
}

pub struct Row {
    pub line: u64,
    /// The cells as read (a CSV record is kept as the parser wrote it, not copied cell by cell).
    pub cells: CellTexts,
}

/// A row's cells as text.
///
/// Invariant: the record's bytes are UTF-8. Cell texts are built from `&str`s, or read by the CSV parser
/// from a text that `decode` gave as a `&str` whole; the parser splits it at ASCII bytes (commas,
/// quotes, line breaks) and drops only ASCII quotes, and no byte of a multi-byte character is
/// ASCII, so every cell is UTF-8 too. The field is private and only this module fills it (from
/// `&str`s, or by `read_byte_record` over the decoded text), so nothing else can break the
/// invariant.
///
/// Why the cells are not checked again (measured, docs/benchmarks.md, "unsafe, and what each one
/// buys"): the parser's own `StringRecord` checks a record that is not all ASCII cell by cell
/// (every row of entries holds a 记), a twentieth of the checking thread's time on a province's
/// year; `from_utf8` at each read of a cell took 3% of an import's samples; one check a record
/// (the cells copied into one `String`, each a slice of it) cost 4–5% of the import's wall time in
/// paired runs.
#[derive(Clone, Debug, Default)]
pub struct CellTexts(pub(crate) csv::ByteRecord);

impl CellTexts {
    pub fn get(&self, i: usize) -> Option<&str> {
        self.0.get(i).map(|cell| {
            // SAFETY: every cell of the record is UTF-8 (the type's invariant).
            unsafe { std::str::from_utf8_unchecked(cell) }
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|cell| {
            // SAFETY: every cell of the record is UTF-8 (the type's invariant).
            unsafe { std::str::from_utf8_unchecked(cell) }
        })
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> FromIterator<&'a str> for CellTexts {
    fn from_iter<I: IntoIterator<Item = &'a str>>(cells: I) -> CellTexts {
        CellTexts(cells.into_iter().map(str::as_bytes).collect())
    }
}

impl From<Vec<String>> for CellTexts {
    fn from(cells: Vec<String>) -> CellTexts {
        cells.iter().map(String::as_str).collect()
    }
}

impl Sheet {
    /// A one-row sheet from named fields (a form on a web page), checked like a file.
    pub fn from_fields(file: &str, fields: &[(&str, String)]) -> Sheet {
        let keys: Vec<String> = fields.iter().map(|(k, _)| k.to_string()).collect();
        let index = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i))
            .collect();
        let cells = fields.iter().map(|(_, v)| v.as_str()).collect();
        Sheet {
            file: file.to_string(),
            letters: None,
            names: keys.clone(),
            keys,
            index,
            rows: vec![Row { line: 1, cells }],
        }
    }

    /// The trimmed cell of column `key`, or "" when the file has no such column.
    pub fn get<'r>(&self, row: &'r Row, key: &str) -> &'r str {
        self.index
            .get(key)
            .and_then(|i| row.cells.get(*i))
            .map(|s| s.trim())
            .unwrap_or("")
    }

    /// The position of column `key`, when the file has it.
    pub fn column(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    pub fn has(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// An error of column `column` (a key) on `line`, the column named as the file's header names it
    /// (Chinese headers stay Chinese) and, in a spreadsheet, with its cell.
    pub fn error(&self, line: u64, column: &str, message: impl Into<String>) -> RowError {
        let i = self.index.get(column).copied();
        let name = i
            .and_then(|i| self.names.get(i))
            .map_or(column, |n| n.as_str());
        let column = match (&self.letters, i) {
            (Some(letters), Some(i)) => format!("{name}（{}{line}）", letters[i]),
            _ => name.to_string(),
        };
        RowError {
            file: self.file.clone(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// Resolves a header that is not a fixed column to a key, or `None` for an unknown column.
pub type ExtraColumns<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Checks a header row and builds the sheet, shared by CSV and spreadsheet reading.
pub(crate) fn sheet_from_rows(
    file: &str,
    header: Vec<String>,
    rows: Vec<Row>,
    letters: Option<Vec<String>>,
    columns: &[Column],
    extra: Option<ExtraColumns<'_>>,
    header_line: u64,
) -> Result<Sheet, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut keys = Vec::new();
    let mut index = HashMap::new();
    let err = |line: u64, column: String, message: String| RowError {
        file: file.to_string(),
        line,
        column,
        message,
    };
    let place = |i: usize, name: &str| match &letters {
        Some(l) => format!("{name}（{}{header_line}）", l[i]),
        None => name.to_string(),
    };
    for (i, raw) in header.iter().enumerate() {
        let name = raw.trim();
        let key = columns
            .iter()
            .find(|c| c.key == name || c.zh == name)
            .map(|c| c.key.to_string())
            .or_else(|| extra.and_then(|f| f(name)));
        match key {
            None => errors.push(err(
                header_line,
                place(i, if name.is_empty() { "表头" } else { name }),
                if name.is_empty() {
                    format!("第 {} 列没有列名", i + 1)
                } else {
                    format!("未知列“{name}”（可用列：{}）", column_list(columns))
                },
            )),
            Some(k) => {
                if index.insert(k.clone(), i).is_some() {
                    errors.push(err(header_line, place(i, name), format!("列“{name}”重复")));
                }
                keys.push(k);
            }
        }
    }
    for c in columns.iter().filter(|c| c.required) {
        if !index.contains_key(c.key) {
            errors.push(err(
                header_line,
                c.key.to_string(),
                format!("缺少必填列“{}”（{}）", c.key, c.zh),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Sheet {
        file: file.to_string(),
        letters,
        names: header.iter().map(|h| h.trim().to_string()).collect(),
        keys,
        index,
        rows,
    })
}

fn column_list(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| format!("{}/{}", c.key, c.zh))
        .collect::<Vec<_>>()
        .join("、")
}
