//! Reading an import file into rows: encoding (UTF-8 with or without BOM, else GB18030 as Excel and
//! WPS save it in China), the CSV grammar, and the header (keys or Chinese names; unknown or repeated
//! columns are errors, so a typo never silently drops data).

use crate::rows::sheet_from_rows;
pub use crate::rows::{
    col, CellTexts, Column, ExtraColumns, Row, RowError, RowErrors, Sheet, ERRORS_LISTED,
};

/// Free text (names, memos) may not start like a spreadsheet formula: a cell beginning with `=`, `+`,
/// `@` or a control character would run as a formula when the data is opened in Excel or WPS again.
/// A leading `-` is refused too unless the text is a plain number (`-1+cmd|' /C calc'!A0` is a
/// formula to Excel).
pub fn check_text(value: &str) -> Result<(), String> {
    cunji_core::columns::check_length(value)?;
    let t = value.trim_start_matches(' ');
    let negative_number = t.strip_prefix('-').is_some_and(|rest| {
        let (int, frac) = rest.split_once('.').unwrap_or((rest, "0"));
        !int.is_empty()
            && !frac.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
    });
    match t.chars().next() {
        Some('-') if negative_number => Ok(()),
        Some(c) if matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r') => Err(format!(
            "文本不能以“{}”开头（防止表格公式注入）：`{}`",
            c.escape_default(),
            value.chars().take(30).collect::<String>()
        )),
        _ => Ok(()),
    }
}

/// Text of an import file: UTF-8 (a BOM is dropped), else GB18030; neither is an error.
pub fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, String> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(body) {
        return Ok(std::borrow::Cow::Borrowed(s));
    }
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|s| std::borrow::Cow::Owned(s.into_owned()))
        .ok_or_else(|| "文件编码既不是 UTF-8 也不是 GB18030/GBK，无法读取".to_string())
}

/// Reads a CSV file. `columns` are the fixed columns; `extra` resolves any other header (the account
/// columns of an annual statement) to a key, or `None` for an unknown column.
pub fn read_csv(
    file: &str,
    bytes: &[u8],
    columns: &[Column],
    extra: Option<ExtraColumns<'_>>,
) -> Result<Sheet, RowErrors> {
    let mut reader = TableReader::csv(file, bytes, columns, extra)?;
    let mut rows = Vec::new();
    while let Some((_, row)) = reader.next_row() {
        rows.push(Row {
            line: row.line,
            cells: row.cells.clone(),
        });
    }
    let mut sheet = reader.finish()?;
    sheet.rows = rows;
    Ok(sheet)
}

/// An import file read a row at a time, so that a caller can check and store rows while the rest of
/// the file is still unread. Problems of the file's grammar (a broken quote, a row of the wrong
/// width) are kept for `finish`; rows around them are still read.
pub struct TableReader<'a> {
    sheet: Sheet,
    source: RowSource<'a>,
    row: Row,
    errors: RowErrors,
}

enum RowSource<'a> {
    Csv {
        reader: csv::Reader<std::io::Cursor<std::borrow::Cow<'a, [u8]>>>,
        width: usize,
        lines: LineCounter,
    },
    /// A workbook, read whole by calamine.
    Rows(std::vec::IntoIter<Row>),
}

impl<'a> TableReader<'a> {
    /// A spreadsheet (.xlsx, by name or content) or CSV.
    pub fn open(
        file: &str,
        bytes: &'a [u8],
        columns: &[Column],
        extra: Option<ExtraColumns<'_>>,
    ) -> Result<TableReader<'a>, Vec<RowError>> {
        if !is_workbook(file, bytes) {
            return Self::csv(file, bytes, columns, extra);
        }
        let mut sheet = crate::xlsx::read(file, bytes, columns, extra)?;
        let rows = std::mem::take(&mut sheet.rows);
        Ok(TableReader {
            row: Row {
                line: 0,
                cells: CellTexts::default(),
            },
            sheet,
            source: RowSource::Rows(rows.into_iter()),
            errors: RowErrors::new(),
        })
    }

    /// A CSV file; its header is read and checked here.
    pub fn csv(
        file: &str,
        bytes: &'a [u8],
        columns: &[Column],
        extra: Option<ExtraColumns<'_>>,
    ) -> Result<TableReader<'a>, Vec<RowError>> {
        let err = |line: u64, column: &str, message: String| RowError {
            file: file.to_string(),
            line,
            column: column.to_string(),
            message,
        };
        let text = match decode(bytes).map_err(|m| vec![err(1, "文件", m)])? {
            std::borrow::Cow::Borrowed(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
            std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.into_bytes()),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::Cursor::new(text));
        let mut record = CellTexts::default();
        let header: Vec<String> = match reader.read_byte_record(&mut record.0) {
            Ok(false) => return Err(vec![err(1, "表头", "文件为空，缺少表头行".into())]),
            Err(e) => return Err(vec![err(1, "表头", format!("CSV 格式错误：{e}"))]),
            Ok(true) => record.iter().map(|c| c.to_string()).collect(),
        };
        let width = header.len();
        let sheet = sheet_from_rows(file, header, Vec::new(), None, columns, extra, 1)?;
        Ok(TableReader {
            sheet,
            source: RowSource::Csv {
                reader,
                width,
                lines: LineCounter::default(),
            },
            row: Row {
                line: 0,
                cells: record,
            },
            errors: RowErrors::new(),
        })
    }

    /// The header, resolved.
    pub fn sheet(&self) -> &Sheet {
        &self.sheet
    }

    /// The next non-blank row of the right width, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Option<(&Sheet, &Row)> {
        match &mut self.source {
            RowSource::Rows(rows) => {
                self.row = rows.next()?;
            }
            RowSource::Csv {
                reader,
                width,
                lines,
            } => loop {
                let record = &mut self.row.cells;
                match reader.read_byte_record(&mut record.0) {
                    Ok(false) => return None,
                    Err(e) => {
                        let text = reader.get_ref().get_ref();
                        let line = e.position().map_or(0, |p| lines.line_at(text, p.byte()));
                        self.errors.push(RowError {
                            file: self.sheet.file.clone(),
                            line,
                            column: "行".into(),
                            message: format!("CSV 格式错误：{e}"),
                        });
                    }
                    Ok(true) => {
                        let text = reader.get_ref().get_ref();
                        let line = record
                            .0
                            .position()
                            .map_or(0, |p| lines.line_at(text, p.byte()));
                        if record.iter().all(|c| c.trim().is_empty()) {
                            continue;
                        }
                        if record.len() != *width {
                            self.errors.push(RowError {
                                file: self.sheet.file.clone(),
                                line,
                                column: "行".into(),
                                message: format!("本行有 {} 列，表头有 {width} 列", record.len()),
                            });
                            continue;
                        }
                        self.row.line = line;
                        break;
                    }
                }
            },
        }
        Some((&self.sheet, &self.row))
    }

    /// Whether the file's grammar was sound so far.
    pub fn is_sound(&self) -> bool {
        self.errors.is_empty()
    }

    /// The header as a sheet without rows, or every problem of the file's grammar.
    pub fn finish(self) -> Result<Sheet, RowErrors> {
        if self.errors.is_empty() {
            Ok(self.sheet)
        } else {
            Err(self.errors)
        }
    }
}

/// The line a text editor shows for a byte offset, whatever the line endings: LF, CRLF (as Excel and
/// WPS save on Windows) or CR alone (old Mac files). The CSV reader's own count was off by one line a
/// record in CRLF files and ignored CR-only breaks. Offsets only grow, so the counter moves forward
/// from the last one asked for: the whole file is scanned once.
#[derive(Default)]
struct LineCounter {
    offset: u64,
    /// Line breaks before `offset`.
    breaks: u64,
}

impl LineCounter {
    fn line_at(&mut self, text: &[u8], offset: u64) -> u64 {
        // A record's position is where the reader began it, before the blank lines it skipped.
        let mut end = (offset as usize).min(text.len());
        while end < text.len() && matches!(text[end], b'\r' | b'\n') {
            end += 1;
        }
        let start = (self.offset as usize).min(end);
        self.breaks += breaks_in(text, start, end);
        self.offset = self.offset.max(end as u64);
        self.breaks + 1
    }
}

/// Line breaks in `text[start..end]`: CR LF, a lone LF and a lone CR each end a line (a LF at
/// `start` is part of a CR LF when the byte before it is CR). Counted as whole-slice counts, which
/// the compiler vectorizes, rather than a branch a byte (a tenth of a second on a province's year).
fn breaks_in(text: &[u8], start: usize, end: usize) -> u64 {
    let part = &text[start..end];
    let lf = part.iter().filter(|&&b| b == b'\n').count();
    let cr = part.iter().filter(|&&b| b == b'\r').count();
    let cr_lf = if cr == 0 && (start == 0 || text[start - 1] != b'\r') {
        0
    } else {
        text[start.saturating_sub(1)..end]
            .windows(2)
            .filter(|w| w == b"\r\n")
            .count()
    };
    (lf + cr - cr_lf) as u64
}

fn is_workbook(file: &str, bytes: &[u8]) -> bool {
    file.to_lowercase().ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04")
}

/// Reads an import file: a spreadsheet (.xlsx, by name or content) or CSV.
pub fn read_table(
    file: &str,
    bytes: &[u8],
    columns: &[Column],
    extra: Option<ExtraColumns<'_>>,
) -> Result<Sheet, RowErrors> {
    if is_workbook(file, bytes) {
        crate::xlsx::read(file, bytes, columns, extra).map_err(RowErrors::from)
    } else {
        read_csv(file, bytes, columns, extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The breaks of `text[start..end]` a byte at a time, as they were counted before `breaks_in`.
    fn breaks_by_byte(text: &[u8], start: usize, end: usize) -> u64 {
        (start..end)
            .filter(|&i| match text[i] {
                b'\r' => true,
                b'\n' => i == 0 || text[i - 1] != b'\r',
                _ => false,
            })
            .count() as u64
    }

    proptest! {
        /// Any mix of CR, LF and other bytes, cut anywhere (a CR LF split between two records
        /// included), has the breaks counted a byte at a time.
        #[test]
        fn breaks_are_counted_as_byte_by_byte(
            text in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'a'), Just(b',')], 0..200),
            a in 0usize..201,
            b in 0usize..201,
        ) {
            let (a, b) = (a.min(text.len()), b.min(text.len()));
            let (start, end) = (a.min(b), a.max(b));
            prop_assert_eq!(breaks_in(&text, start, end), breaks_by_byte(&text, start, end));
        }

        /// CellTexts read by the parser come back as the text they were cut from, CSV quoting undone.
        #[test]
        fn cells_read_are_the_text_written(cells in proptest::collection::vec("[^\r\n]{0,12}", 1..6)) {
            // After a first record, as a file's rows follow its header (a BOM is only one at the start).
            let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
            w.write_record(["村代码"]).unwrap();
            w.write_record(&cells).unwrap();
            let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(text.as_bytes());
            let mut record = CellTexts::default();
            prop_assert!(reader.read_byte_record(&mut record.0).unwrap());
            prop_assert_eq!(record.iter().collect::<Vec<_>>(), vec!["村代码"]);
            let more = reader.read_byte_record(&mut record.0).unwrap();
            let read: Vec<&str> = record.iter().collect();
            let expected: Vec<&str> = cells.iter().map(String::as_str).collect();
            // A record of one empty cell is written as an empty line, which the reader skips.
            if expected != [""] {
                prop_assert!(more);
                prop_assert_eq!(read, expected);
            }
        }
    }

    const COLS: [Column; 2] = [col("village", "村代码", true), col("memo", "摘要", false)];

    #[test]
    fn reads_gbk_and_chinese_headers() {
        let (gbk, _, _) = encoding_rs::GBK.encode("村代码,摘要\n130000000001,收租金\n");
        let sheet = read_csv("a.csv", &gbk, &COLS, None).unwrap();
        assert_eq!(sheet.get(&sheet.rows[0], "memo"), "收租金");
        assert_eq!(sheet.rows[0].line, 2);
        let bom = "\u{feff}village\n1\n".as_bytes();
        assert_eq!(read_csv("b.csv", bom, &COLS, None).unwrap().rows.len(), 1);
    }

    #[test]
    fn header_problems_are_named() {
        let e = read_csv("c.csv", b"village,memo,mmo\n", &COLS, None)
            .err()
            .unwrap();
        assert_eq!(
            e[0].to_string(),
            "c.csv:1: mmo: 未知列“mmo”（可用列：village/村代码、memo/摘要）"
        );
        let e = read_csv("c.csv", b"memo,memo\n", &COLS, None)
            .err()
            .unwrap();
        assert_eq!(e.len(), 2);
        assert!(read_csv("d.csv", &[0xff, 0xfe, 0xfd, 0x80], &COLS, None).is_err());
    }
}
