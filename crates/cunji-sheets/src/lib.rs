//! cunji-sheets: workbooks for Excel and WPS. The report workbook (汇总, 村级明细, 奖励计算, 扶持资金, and
//! 报酬保障 when the policy has a pay floor), ready to print on A4 landscape with frozen headers, money with
//! thousands separators and totals as formulas; and the empty import templates with Chinese headers, a
//! notes row and drop-down lists. Figures come from the core's report; nothing is computed here except
//! the totals, which are written as formulas for the spreadsheet to compute.

mod report;
mod statement_book;

pub use statement_book::statement_book_template;

use cunji_core::account::Account;
use cunji_core::cadre::Role;
use cunji_core::columns::{column_letters as col_letter, Choices, ImportKind, ACCOUNT_NOTE};
use cunji_core::money::{Fen, FenSum};
use cunji_core::subsidy::SourceLevel;
use rust_xlsxwriter::{
    DataValidation, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError,
};

/// The row a template's notes sit on starts with this; importers skip it.
pub use cunji_core::columns::NOTES_MARK;

const A4: u8 = 9;

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color("EEF2F7")
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::VerticalCenter)
}

fn money_format() -> Format {
    Format::new()
        .set_num_format("#,##0.00")
        .set_border(FormatBorder::Thin)
}

fn text_format() -> Format {
    Format::new().set_border(FormatBorder::Thin)
}

fn yuan(f: Fen) -> f64 {
    // Exact: every stored amount is far below 2^53 fen.
    f.fen() as f64 / 100.0
}

/// Terminal-like width of text: CJK characters count two.
fn width(s: &str) -> f64 {
    s.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 2.0 } else { 1.0 })
        .sum()
}

/// Collects the widest text per column to size the columns for Chinese text, and each money column's
/// sum in fen, which a totals row stores as its formula's result: LibreOffice with its default settings
/// shows a formula's stored result, so a formula without one reads 0.00 there.
struct Widths(Vec<f64>, Vec<FenSum>);

impl Widths {
    fn new(n: usize) -> Widths {
        Widths(vec![6.0; n], vec![FenSum::ZERO; n])
    }
    fn add(&mut self, col: usize, f: Fen) {
        if col < self.1.len() {
            self.1[col] += f;
        }
    }
    fn see(&mut self, col: usize, text: &str) {
        if col < self.0.len() {
            self.0[col] = self.0[col].max(width(text) + 2.0);
        }
    }
    fn apply(&self, ws: &mut Worksheet) -> Result<(), XlsxError> {
        for (i, w) in self.0.iter().enumerate() {
            ws.set_column_width(i as u16, w.min(60.0))?;
        }
        Ok(())
    }
}

fn page_setup(ws: &mut Worksheet, header_rows: u32) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(A4);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_freeze_panes(header_rows, 0)?;
    if header_rows > 0 {
        ws.set_repeat_rows(0, header_rows - 1)?;
    }
    Ok(())
}

fn headers(
    ws: &mut Worksheet,
    row: u32,
    names: &[String],
    w: &mut Widths,
) -> Result<(), XlsxError> {
    let f = header_format();
    for (i, h) in names.iter().enumerate() {
        ws.write_string_with_format(row, i as u16, h, &f)?;
        w.see(i, h);
    }
    Ok(())
}

/// A cell: text or money (or empty).
enum Cell {
    Text(String),
    Money(Option<Fen>),
    Count(u64),
}

fn write_row(
    ws: &mut Worksheet,
    row: u32,
    cells: &[Cell],
    w: &mut Widths,
) -> Result<(), XlsxError> {
    let (tf, mf) = (text_format(), money_format());
    for (i, c) in cells.iter().enumerate() {
        let col = i as u16;
        match c {
            Cell::Text(t) => {
                ws.write_string_with_format(row, col, t, &tf)?;
                w.see(i, t);
            }
            Cell::Money(Some(f)) => {
                ws.write_number_with_format(row, col, yuan(*f), &mf)?;
                w.see(i, &f.display());
                w.add(i, *f);
            }
            Cell::Money(None) => {
                ws.write_blank(row, col, &mf)?;
            }
            Cell::Count(n) => {
                ws.write_number_with_format(row, col, *n as f64, &tf)?;
                w.see(i, &n.to_string());
            }
        }
    }
    Ok(())
}

/// A totals row: "合计" and a SUM formula for each money column over the data rows.
fn totals_row(
    ws: &mut Worksheet,
    (row, first, last): (u32, u32, u32),
    money_cols: &[usize],
    label_col: usize,
    w: &Widths,
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold().set_border(FormatBorder::Thin);
    let money = money_format().set_bold();
    ws.write_string_with_format(row, label_col as u16, "合计", &bold)?;
    for c in money_cols {
        let l = col_letter(*c);
        // Rows are 1-based in formulas.
        let f = if last >= first {
            format!("=SUM({l}{}:{l}{})", first + 1, last + 1)
        } else {
            "=0".to_string()
        };
        let result = w.1.get(*c).copied().unwrap_or_default().json();
        ws.write_formula_with_format(row, *c as u16, Formula::new(f).set_result(result), &money)?;
    }
    Ok(())
}

/// The report as a workbook (bytes of an .xlsx file).
pub use report::{place_of, report_workbook};

fn measure_name(key: &str) -> String {
    cunji_core::measure::Measure::standard()
        .into_iter()
        .find(|m| m.key == key)
        .map(|m| m.name)
        .unwrap_or_else(|| key.to_string())
}

/// The import kinds a template can be made for.
pub const TEMPLATE_KINDS: [&str; 9] = [
    "regions",
    "entries",
    "statements",
    "cadres",
    "grants",
    "stats",
    "assets",
    "contracts",
    "installments",
];

/// One template column: Chinese header, the note under it, whether it stays text, and the values of
/// its drop-down list.
struct TemplateColumn {
    header: &'static str,
    note: &'static str,
    text: bool,
    choices: Vec<String>,
}

fn choices(c: Choices) -> Vec<String> {
    match c {
        Choices::None => Vec::new(),
        Choices::Accounts => Account::ALL.iter().map(|a| a.name_zh().into()).collect(),
        Choices::Roles => Role::ALL.iter().map(|r| r.name_zh().into()).collect(),
        Choices::SourceLevels => SourceLevel::ALL
            .iter()
            .map(|l| l.name_zh().into())
            .collect(),
        Choices::YesNo => vec!["否".to_string(), "是".to_string()],
    }
}

/// The columns a template shows: the kind's columns that have a note, and for a statement one column
/// per account.
fn template_columns(kind: &str) -> Option<Vec<TemplateColumn>> {
    let kind = ImportKind::parse(kind)?;
    let mut cols: Vec<TemplateColumn> = kind
        .columns()
        .iter()
        .filter(|c| !c.note.is_empty())
        .map(|c| TemplateColumn {
            header: c.zh,
            note: c.note,
            text: c.text,
            choices: choices(c.choices),
        })
        .collect();
    if kind == ImportKind::Statements {
        cols.extend(Account::ALL.iter().map(|a| TemplateColumn {
            header: a.name_zh(),
            note: ACCOUNT_NOTE,
            text: false,
            choices: Vec::new(),
        }));
    }
    Some(cols)
}

/// A village as a template lists it for the person filling it in: code, name, and its township.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VillageRow {
    pub code: String,
    pub name: String,
    pub township: String,
}

/// Villages a template's 村名单 lists at most: a county has a few hundred, a province 48,000; past a
/// county's worth the list is cut (and says so) so that a province admin's template stays small.
pub const TEMPLATE_VILLAGES_AT_MOST: usize = 5_000;

/// The open villages (not merged away) under `scope`, or of the whole register, in code order, at
/// most `TEMPLATE_VILLAGES_AT_MOST`.
pub fn village_rows(
    regions: &cunji_core::region::RegionSet,
    scope: Option<&cunji_core::region::RegionCode>,
) -> Vec<VillageRow> {
    use cunji_core::region::Level;
    regions
        .with_prefix(scope.map_or("", |s| s.prefix()))
        .filter(|r| r.level() == Level::Village && regions.successor_of(&r.code).is_none())
        .take(TEMPLATE_VILLAGES_AT_MOST)
        .map(|r| VillageRow {
            code: r.code.to_string(),
            name: r.name.clone(),
            township: r
                .code
                .ancestors()
                .last()
                .and_then(|t| regions.get(t))
                .map(|t| t.name.clone())
                .unwrap_or_default(),
        })
        .collect()
}

/// An empty import template (.xlsx bytes): a sheet named for the kind in Chinese (the one imported)
/// with Chinese headers, a notes row (skipped on import) and drop-down lists for accounts, roles,
/// source levels and yes/no; and, when `villages` are given, a second sheet 村名单 listing them with
/// their codes to copy from. Both print on A4 landscape.
pub fn template(kind: &str, villages: &[VillageRow]) -> Result<Option<Vec<u8>>, XlsxError> {
    let Some(cols) = template_columns(kind) else {
        return Ok(None);
    };
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(ImportKind::parse(kind).map_or(kind, |k| k.name_zh()))?;
    let mut w = Widths::new(cols.len());
    let names: Vec<String> = cols.iter().map(|c| c.header.to_string()).collect();
    headers(ws, 0, &names, &mut w)?;
    let note = Format::new()
        .set_italic()
        .set_font_color("7B8794")
        .set_text_wrap();
    let text = Format::new().set_num_format("@");
    for (i, c) in cols.iter().enumerate() {
        let n = if i == 0 {
            format!("{NOTES_MARK}{}", c.note)
        } else {
            c.note.to_string()
        };
        ws.write_string_with_format(1, i as u16, &n, &note)?;
        w.see(i, c.header);
        if c.text {
            ws.set_column_format(i as u16, &text)?;
        }
        if !c.choices.is_empty() {
            let list: Vec<&str> = c.choices.iter().map(|s| s.as_str()).collect();
            let dv = DataValidation::new().allow_list_strings(&list)?;
            ws.add_data_validation(2, i as u16, 10_000, i as u16, &dv)?;
        }
    }
    for (i, wd) in w.0.iter_mut().enumerate() {
        *wd = wd.max(12.0).max(width(cols[i].note).min(30.0));
    }
    w.apply(ws)?;
    ws.set_row_height(1, 36)?;
    page_setup(ws, 2)?;
    if !villages.is_empty() {
        villages_sheet(&mut book, villages)?;
    }
    Ok(Some(book.save_to_buffer()?))
}

/// 村名单: the villages the user keeps, to copy codes from (not read on import: only the first sheet
/// is).
fn villages_sheet(book: &mut Workbook, villages: &[VillageRow]) -> Result<(), XlsxError> {
    let ws = book.add_worksheet();
    ws.set_name("村名单")?;
    let mut w = Widths::new(3);
    headers(ws, 0, &["村代码", "村", "乡镇"].map(String::from), &mut w)?;
    ws.set_column_format(0, &Format::new().set_num_format("@"))?;
    for (i, v) in villages.iter().enumerate() {
        let cells = [
            Cell::Text(v.code.clone()),
            Cell::Text(v.name.clone()),
            Cell::Text(v.township.clone()),
        ];
        write_row(ws, i as u32 + 1, &cells, &mut w)?;
    }
    if villages.len() == TEMPLATE_VILLAGES_AT_MOST {
        let note = format!(
            "仅列出前 {TEMPLATE_VILLAGES_AT_MOST} 个村；其余村的代码请在系统的地区页查看。"
        );
        ws.write_string(villages.len() as u32 + 1, 0, note)?;
    }
    w.apply(ws)?;
    page_setup(ws, 1)?;
    Ok(())
}

/// A cell of a list exported as it is shown (the arrears list): text, money in yuan, or a count.
pub enum ListCell {
    Text(String),
    Money(cunji_core::money::Fen),
    Count(i64),
}

/// A list as one sheet named `sheet`: `headers`, then `rows` as given, then a totals row over the
/// money columns. Text that a spreadsheet would read as a formula gets a leading `'`, as the CSV
/// exports do (`cunji_core::columns::export_cell`).
pub fn list_workbook(
    sheet: &str,
    header_names: &[&str],
    rows: &[Vec<ListCell>],
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet)?;
    let mut w = Widths::new(header_names.len());
    let names: Vec<String> = header_names.iter().map(|h| h.to_string()).collect();
    headers(ws, 0, &names, &mut w)?;
    let mut money_cols: Vec<usize> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let cells: Vec<Cell> = r
            .iter()
            .enumerate()
            .map(|(c, cell)| match cell {
                ListCell::Text(t) => Cell::Text(cunji_core::columns::export_cell(t).into_owned()),
                ListCell::Money(f) => {
                    if !money_cols.contains(&c) {
                        money_cols.push(c);
                    }
                    Cell::Money(Some(*f))
                }
                ListCell::Count(n) => Cell::Count((*n).max(0) as u64),
            })
            .collect();
        write_row(ws, i as u32 + 1, &cells, &mut w)?;
    }
    if !rows.is_empty() {
        money_cols.sort_unstable();
        let last = rows.len() as u32;
        totals_row(ws, (last + 1, 1, last), &money_cols, 0, &w)?;
    }
    w.apply(ws)?;
    page_setup(ws, 1)?;
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_template() {
        for k in TEMPLATE_KINDS {
            let bytes = template(k, &[]).unwrap().unwrap();
            assert!(bytes.starts_with(b"PK"), "{k}");
        }
        assert!(template("nonsense", &[]).unwrap().is_none());
    }
}
