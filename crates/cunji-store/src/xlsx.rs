//! Reading the first sheet of an .xlsx workbook into the rows of an import, as Excel and WPS save it:
//! numbers, text and dates are accepted where they mean the same thing (a code typed as a number, a date
//! typed as a date), formulas are read by their cached value, and errors name the sheet, row and cell.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::rows::{sheet_from_rows, CellTexts, Column, ExtraColumns, Row, RowError, Sheet};
use cunji_core::statement_book::SheetRow;

use cunji_core::columns::column_letters as letter;
pub use cunji_core::columns::NOTES_MARK;

/// An Excel serial day (1900 system) as `YYYY-MM-DD`.
fn serial_date(serial: f64) -> Option<String> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    // Day 0 is 1899-12-30 for every serial after Excel's phantom 1900-02-29 (serial 60).
    let days = serial.floor() as i64 - 25_569; // days from 1970-01-01
    Some(cunji_core::date::Date::from_day_number(days).iso())
}

/// A number cell as the text a person would have typed: whole numbers without decimals, amounts within
/// 0.000001 yuan of a whole fen in yuan with two decimals, anything else in full (and then refused by
/// the column's own rule, never rounded silently).
fn number_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    match cunji_core::money::Fen::from_yuan_f64(v) {
        Ok(f) => f.json(),
        Err(_) => format!("{v}"),
    }
}

/// Reads a workbook. A malformed workbook can make the spreadsheet library panic (it was found doing so on
/// a cell reference too long for its counter); that is caught and reported like any other bad file.
pub fn read(
    file: &str,
    bytes: &[u8],
    columns: &[Column],
    extra: Option<ExtraColumns<'_>>,
) -> Result<Sheet, Vec<RowError>> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_unguarded(file, bytes, columns, extra)
    })) {
        Ok(r) => r,
        Err(_) => Err(file_error(file, DAMAGED.into())),
    }
}

/// What is said of a workbook the spreadsheet library panicked on.
const DAMAGED: &str = "工作簿结构损坏，无法读取（请用 Excel 或 WPS 打开后另存为 .xlsx）";

/// An error of the whole file (not of a row), as every reader of a workbook gives it.
fn file_error(file: &str, message: String) -> Vec<RowError> {
    vec![RowError {
        file: file.to_string(),
        line: 1,
        column: "文件".into(),
        message,
    }]
}

/// The workbook in `bytes`, or why it is not one.
fn open(bytes: &[u8]) -> Result<Xlsx<Cursor<Vec<u8>>>, String> {
    Xlsx::new(Cursor::new(bytes.to_vec())).map_err(|e| format!("不是有效的 .xlsx 工作簿：{e}"))
}

/// Streams the filled cells of sheet `name` to `each` (row and column from 0), refusing a row past
/// Excel's last before anything more is read; `past_last_row` ends that refusal with what to do.
fn each_filled_cell(
    book: &mut Xlsx<Cursor<Vec<u8>>>,
    name: &str,
    past_last_row: &str,
    mut each: impl FnMut(u32, u32, &calamine::DataRef<'_>) -> Result<(), String>,
) -> Result<(), String> {
    let unreadable = |e: calamine::XlsxError| format!("无法读取工作表“{name}”：{e}");
    let mut reader = book.worksheet_cells_reader(name).map_err(unreadable)?;
    while let Some(cell) = reader.next_cell().map_err(unreadable)? {
        if matches!(cell.get_value(), calamine::DataRef::Empty) {
            continue;
        }
        let (r, c) = cell.get_position();
        if r >= MAX_ROWS {
            return Err(format!(
                "工作表“{name}”超过 {MAX_ROWS} 行（第 {} 行有内容），不是 Excel 或 WPS 能保存的工作表{past_last_row}",
                r as u64 + 1
            ));
        }
        each(r, c, cell.get_value())?;
    }
    Ok(())
}

/// Cells a sheet may span, empty ones included: the spreadsheet library fills a dense grid of its
/// bounding box, so a workbook naming one far-off cell (XFD1048576) would ask for hundreds of
/// gigabytes and end the process. A million rows of twenty columns fit.
const MAX_CELLS: u64 = 25_000_000;

/// Rows a sheet may have: Excel's and WPS's own limit. A sheet naming a later row was not saved by
/// either (one 10 MB file unpacked to 2,000,000 one-cell rows and took 2 GB before it was refused).
const MAX_ROWS: u32 = 1_048_576;

/// Filled cells a sheet may have, counted while the sheet is streamed and before anything is built:
/// with the grid and the rows made from them, a sheet at this bound stays under 1 GiB (measured on a
/// 1,048,576 × 4 sheet: see docs/benchmarks.md). CSV files have no such bound.
const MAX_FILLED_CELLS: usize = 2_000_000;

/// The first sheet's cells as a range, refused before the grid is built when its bounding box is
/// larger than `MAX_CELLS`.
fn sheet_range(
    book: &mut Xlsx<Cursor<Vec<u8>>>,
    name: &str,
) -> Result<calamine::Range<Data>, String> {
    let mut cells = Vec::new();
    let (mut rows, mut cols) = ((u32::MAX, 0u32), (u32::MAX, 0u32));
    each_filled_cell(
        book,
        name,
        "；大文件请另存为 CSV 后导入",
        |r, c, value| {
            if cells.len() >= MAX_FILLED_CELLS {
                return Err(format!(
                "工作表“{name}”有内容的单元格超过 {MAX_FILLED_CELLS} 个：请分成几个文件，或另存为 CSV 后导入（CSV 不限大小）"
            ));
            }
            rows = (rows.0.min(r), rows.1.max(r));
            cols = (cols.0.min(c), cols.1.max(c));
            cells.push(calamine::Cell::new((r, c), Data::from(value.clone())));
            Ok(())
        },
    )?;
    if !cells.is_empty() {
        let height = (rows.1 - rows.0) as u64 + 1;
        let width = (cols.1 - cols.0) as u64 + 1;
        if height * width > MAX_CELLS {
            return Err(format!(
                "工作表“{name}”的范围过大（{height} 行 × {width} 列，从 {}{} 到 {}{}）：请删去范围外的内容，或另存为 CSV 后导入",
                letter(cols.0 as usize),
                rows.0 + 1,
                letter(cols.1 as usize),
                rows.1 + 1
            ));
        }
    }
    Ok(calamine::Range::from_sparse(cells))
}

fn read_unguarded(
    file: &str,
    bytes: &[u8],
    columns: &[Column],
    extra: Option<ExtraColumns<'_>>,
) -> Result<Sheet, Vec<RowError>> {
    let fail = |m: String| file_error(file, m);
    let mut book = open(bytes).map_err(fail)?;
    let Some(sheet_name) = book.sheet_names().first().cloned() else {
        return Err(fail("工作簿中没有工作表".into()));
    };
    let range = sheet_range(&mut book, &sheet_name).map_err(fail)?;
    let place = format!("{file}［{sheet_name}］");
    let (first_row, first_col) = range
        .start()
        .map(|(r, c)| (r as u64, c as usize))
        .unwrap_or((0, 0));
    let width = range.width();
    let letters: Vec<String> = (0..width).map(|i| letter(first_col + i)).collect();
    let mut errors = Vec::new();
    let mut rows_iter = range.rows().enumerate();
    let Some((_, header_cells)) = rows_iter.next() else {
        return Err(vec![RowError {
            file: place,
            line: 1,
            column: "表头".into(),
            message: "工作表为空，缺少表头行".into(),
        }]);
    };
    let header_line = first_row + 1;
    let header: Vec<String> = header_cells
        .iter()
        .map(|c| match c {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    // Trailing unnamed columns that are empty everywhere are not columns.
    let used = header
        .iter()
        .rposition(|h| !h.trim().is_empty())
        .map(|i| i + 1)
        .unwrap_or(0);
    let header: Vec<String> = header[..used].to_vec();
    let grid = Grid {
        place: &place,
        letters: &letters,
        header: &header,
        used,
    };
    let mut rows = Vec::new();
    for (i, cells) in rows_iter {
        let line = first_row + i as u64 + 1;
        let out = grid.row_cells(line, cells, &mut errors);
        if out.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if i == 1 && out.first().is_some_and(|c| c.starts_with(NOTES_MARK)) {
            continue;
        }
        rows.push(Row {
            line,
            cells: CellTexts::from(out),
        });
    }
    let sheet = sheet_from_rows(
        &place,
        header,
        rows,
        Some(letters),
        columns,
        extra,
        header_line,
    )?;
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(sheet)
}

/// What a data row's cells are read against: the sheet, its column letters and its header.
struct Grid<'a> {
    place: &'a str,
    letters: &'a [String],
    header: &'a [String],
    /// How many columns the header names; cells beyond it must be empty.
    used: usize,
}

impl Grid<'_> {
    /// One row's cells as text, `used` of them; problems of its cells are added to `errors`.
    fn row_cells(&self, line: u64, cells: &[Data], errors: &mut Vec<RowError>) -> Vec<String> {
        let mut out = Vec::with_capacity(self.used);
        for (ci, c) in cells.iter().enumerate() {
            let text = self.cell_text(line, ci, c, errors);
            if ci < self.used {
                out.push(text);
            } else if !text.trim().is_empty() {
                errors.push(self.error(
                    line,
                    format!("{}{line}", self.letters[ci]),
                    "表头之外的列有内容（这一列没有列名）",
                ));
            }
        }
        while out.len() < self.used {
            out.push(String::new());
        }
        out
    }

    /// A cell as the text an import reads: numbers as typed, dates as `YYYY-MM-DD`, errors refused.
    fn cell_text(&self, line: u64, ci: usize, c: &Data, errors: &mut Vec<RowError>) -> String {
        match c {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Int(n) => n.to_string(),
            Data::Float(f) => number_text(*f),
            Data::Bool(b) => b.to_string(),
            Data::DateTime(d) => serial_date(d.as_f64()).unwrap_or_else(|| {
                let cell = format!("{}{line}", self.letters[ci]);
                errors.push(self.error(line, cell, "日期超出范围"));
                String::new()
            }),
            Data::DateTimeIso(s) => s.chars().take(10).collect(),
            Data::DurationIso(s) => s.clone(),
            Data::Error(e) => {
                if ci < self.used {
                    let name = self.header.get(ci).map(|h| h.trim()).unwrap_or("");
                    let cell = format!("{name}（{}{line}）", self.letters[ci]);
                    errors.push(self.error(line, cell, format!("单元格是错误值 {e}")));
                }
                String::new()
            }
        }
    }

    fn error(&self, line: u64, column: String, message: impl Into<String>) -> RowError {
        RowError {
            file: self.place.to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// A sheet's name and the rows it holds.
pub(crate) type BookSheet = (String, Vec<SheetRow>);

/// Filled cells one sheet of a statement book may hold: a statement is a few hundred; this leaves
/// room for notes, signatures and a second layout beside the first.
pub const BOOK_SHEET_CELLS: usize = 100_000;

/// Filled cells one statement-book import may hold over all its files and sheets (5,000 sheets of
/// 400 cells). What is kept of a cell is its column, its text or number and its row's place: at
/// this bound an import stays well under 1 GiB, whatever dimension the sheets declare.
pub const BOOK_IMPORT_CELLS: usize = 2_000_000;

/// Every sheet of a statement book (SPEC §14), each as the rows and cells it holds — never as the
/// rectangle its XML declares or its farthest cell spans: a 6 KB workbook of four sheets, each with
/// one figure in W1048576, once took 3.0 GB as grids of empty cells. Rows past Excel's last row,
/// more than [`BOOK_SHEET_CELLS`] filled cells in a sheet, or more than `budget` (what is left of
/// [`BOOK_IMPORT_CELLS`]) in the import are refused before anything more is read. Numbers stay
/// numbers (万元 are scaled exactly, SPEC §1); formulas are read by their cached value.
pub(crate) fn book_sheets(
    file: &str,
    bytes: &[u8],
    budget: &mut usize,
) -> Result<Vec<BookSheet>, Vec<RowError>> {
    let fail = |m: String| file_error(file, m);
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        book_sheets_unguarded(bytes, budget)
    })) {
        Ok(r) => r.map_err(fail),
        Err(_) => Err(fail(DAMAGED.into())),
    }
}

fn book_sheets_unguarded(bytes: &[u8], budget: &mut usize) -> Result<Vec<BookSheet>, String> {
    use cunji_core::statement_book::Cell as BookCell;
    let mut book = open(bytes)?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let mut cells: Vec<(u32, u32, BookCell)> = Vec::new();
        each_filled_cell(&mut book, &name, "", |r, c, value| {
            let value = match value {
                calamine::DataRef::Float(f) => BookCell::Number(*f),
                calamine::DataRef::Int(n) => BookCell::Number(*n as f64),
                calamine::DataRef::String(s) => BookCell::Text(s.clone()),
                calamine::DataRef::SharedString(s) => BookCell::Text(s.to_string()),
                calamine::DataRef::DateTime(d) => BookCell::Text(
                    serial_date(d.as_f64()).unwrap_or_else(|| d.as_f64().to_string()),
                ),
                other => BookCell::Text(Data::from(other.clone()).to_string()),
            };
            if cells.len() >= BOOK_SHEET_CELLS {
                return Err(format!(
                    "工作表“{name}”有内容的单元格超过 {BOOK_SHEET_CELLS} 个，不像一张收益及收益分配表：请删去表外的内容"
                ));
            }
            if *budget == 0 {
                return Err(format!(
                    "一次导入的收益及收益分配表共超过 {BOOK_IMPORT_CELLS} 个有内容的单元格（到工作表“{name}”为止）：请分几次导入"
                ));
            }
            *budget -= 1;
            cells.push((r, c, value));
            Ok(())
        })?;
        // Sheets are written row by row, but nothing makes a file keep that order; the last of
        // two cells at one place wins, as in a spreadsheet.
        cells.sort_by_key(|(r, c, _)| (*r, *c));
        let mut rows: Vec<SheetRow> = Vec::new();
        for (r, c, value) in cells {
            let row = r as usize + 1;
            if rows.last().is_none_or(|last| last.row != row) {
                rows.push(SheetRow {
                    row,
                    cells: Vec::new(),
                });
            }
            if let Some(last) = rows.last_mut() {
                match last.cells.last_mut() {
                    Some((col, v)) if *col == c as usize => *v = value,
                    _ => last.cells.push((c as usize, value)),
                }
            }
        }
        out.push((name, rows));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_dates() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert_eq!(serial_date(45_292.0).as_deref(), Some("2024-01-01"));
        assert_eq!(serial_date(43_800.5).as_deref(), Some("2019-12-01"));
        assert_eq!(number_text(2024.0), "2024");
        assert_eq!(number_text(120_201_001_001.0), "120201001001");
        assert_eq!(number_text(0.1 + 0.2), "0.30");
        assert_eq!(number_text(0.066), "0.066");
        assert_eq!(number_text(12.345), "12.345");
    }
}
