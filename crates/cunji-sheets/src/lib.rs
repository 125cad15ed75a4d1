//! cunji-sheets: workbooks for Excel and WPS. The report workbook (汇总, 村级明细, 奖励计算, 扶持资金, and
//! 报酬保障 when the policy has a pay floor), ready to print on A4 landscape with frozen headers, money with
//! thousands separators and totals as formulas; and the empty import templates with Chinese headers, a
//! notes row and drop-down lists. Figures come from the core's report; nothing is computed here except
//! the totals, which are written as formulas for the spreadsheet to compute.

mod report;

use cunji_core::account::Account;
use cunji_core::cadre::Role;
use cunji_core::money::Fen;
use cunji_core::subsidy::SourceLevel;
use rust_xlsxwriter::{
    DataValidation, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError,
};

/// The row a template's notes sit on starts with this; importers skip it.
pub const NOTES_MARK: &str = "【说明】";

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

/// Collects the widest text per column to size the columns for Chinese text.
struct Widths(Vec<f64>);

impl Widths {
    fn new(n: usize) -> Widths {
        Widths(vec![6.0; n])
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

/// Column letters for formulas (A, B, …, AA).
fn col_letter(mut col: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
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
    row: u32,
    first: u32,
    last: u32,
    money_cols: &[usize],
    label_col: usize,
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
        ws.write_formula_with_format(row, *c as u16, Formula::new(f), &money)?;
    }
    Ok(())
}

/// The report as a workbook (bytes of an .xlsx file).
pub use report::report_workbook;

fn measure_name(key: &str) -> String {
    cunji_core::measure::Measure::standard()
        .into_iter()
        .find(|m| m.key == key)
        .map(|m| m.name)
        .unwrap_or_else(|| key.to_string())
}

/// The import kinds a template can be made for.
pub const TEMPLATE_KINDS: [&str; 6] = [
    "regions",
    "entries",
    "statements",
    "cadres",
    "grants",
    "stats",
];

/// One template column: Chinese header, the note under it, and the values of its drop-down list.
struct TemplateColumn {
    header: &'static str,
    note: &'static str,
    choices: Vec<String>,
}

fn tc(header: &'static str, note: &'static str) -> TemplateColumn {
    TemplateColumn {
        header,
        note,
        choices: Vec::new(),
    }
}

fn template_columns(kind: &str) -> Option<Vec<TemplateColumn>> {
    let accounts: Vec<String> = Account::ALL
        .iter()
        .map(|a| a.name_zh().to_string())
        .collect();
    let roles: Vec<String> = Role::ALL.iter().map(|r| r.name_zh().to_string()).collect();
    let levels: Vec<String> = SourceLevel::ALL
        .iter()
        .map(|l| l.name_zh().to_string())
        .collect();
    let booleans = vec!["否".to_string(), "是".to_string()];
    Some(match kind {
        "regions" => vec![
            tc("代码", "必填；12 位统计用区划代码"),
            tc("名称", "必填"),
            tc("合并前村", "可空；并入本村的村代码，多个用 ; 分隔"),
            tc("合并年份", "填合并前村时必填"),
        ],
        "entries" => vec![
            tc("村代码", "必填；12 位村级代码"),
            tc("日期", "必填；如 2024-03-31"),
            TemplateColumn {
                header: "科目",
                note: "必填；从下拉列表选",
                choices: accounts,
            },
            tc("金额", "必填；元，最多两位小数；负数为红字冲销"),
            tc("凭证号", "可空；同村同年不重复"),
            tc("摘要", "可空"),
            tc("项目", "可空；扶持项目编号"),
            tc("冲销", "可空；被冲销凭证，写作 年度:凭证号"),
        ],
        "statements" => {
            let mut cols = vec![tc("村代码", "必填"), tc("年度", "必填；如 2019")];
            for a in Account::ALL {
                cols.push(TemplateColumn {
                    header: a.name_zh(),
                    note: "元；可空",
                    choices: Vec::new(),
                });
            }
            cols
        }
        "cadres" => vec![
            tc("村代码", "必填"),
            tc("年度", "必填"),
            tc("人员编号", "必填；同一人各年相同"),
            tc("姓名", "必填"),
            TemplateColumn {
                header: "职务",
                note: "必填；从下拉列表选",
                choices: roles,
            },
            tc("任职月数", "0–12，空为 12"),
            TemplateColumn {
                header: "受处分",
                note: "是/否，空为否",
                choices: booleans,
            },
            tc("基本报酬", "元/年；可空"),
            tc("考核等次", "如 优秀、合格、基本合格、不合格"),
        ],
        "grants" => vec![
            tc("资金编号", "必填；唯一"),
            tc("村代码", "必填"),
            tc("年度", "必填"),
            TemplateColumn {
                header: "资金来源",
                note: "必填；从下拉列表选",
                choices: levels,
            },
            tc("项目名称", "必填"),
            tc("金额", "必填；元"),
            tc("项目", "必填；项目编号，记收益时填在账目的“项目”列"),
            tc("预期收益率", "可空；如 3% 或 0.066"),
        ],
        "stats" => vec![
            tc("区划代码", "必填；县级代码"),
            tc("年度", "必填"),
            tc("农村居民人均可支配收入", "必填；元"),
        ],
        _ => return None,
    })
}

/// An empty import template (.xlsx bytes): Chinese headers, a notes row (skipped on import), and
/// drop-down lists for accounts, roles, source levels and yes/no.
pub fn template(kind: &str) -> Result<Option<Vec<u8>>, XlsxError> {
    let Some(cols) = template_columns(kind) else {
        return Ok(None);
    };
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(kind)?;
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
        // Codes, vouchers and dates stay text, so Excel does not turn them into numbers.
        if matches!(
            c.header,
            "代码"
                | "村代码"
                | "区划代码"
                | "凭证号"
                | "人员编号"
                | "资金编号"
                | "项目"
                | "冲销"
                | "合并前村"
        ) {
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
    ws.set_freeze_panes(2, 0)?;
    Ok(Some(book.save_to_buffer()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_for_formulas() {
        assert_eq!(col_letter(0), "A");
        assert_eq!(col_letter(27), "AB");
    }

    #[test]
    fn every_kind_has_a_template() {
        for k in TEMPLATE_KINDS {
            let bytes = template(k).unwrap().unwrap();
            assert!(bytes.starts_with(b"PK"), "{k}");
        }
        assert!(template("nonsense").unwrap().is_none());
    }
}
