//! cunji-sheets: workbooks for Excel and WPS. The report workbook (汇总, 村级明细, 奖励计算, 扶持资金, and
//! 报酬保障 when the policy has a pay floor), ready to print on A4 landscape with frozen headers, money with
//! thousands separators and totals as formulas; and the empty import templates with Chinese headers, a
//! notes row and drop-down lists. Figures come from the core's report; nothing is computed here except
//! the totals, which are written as formulas for the spreadsheet to compute.

use cunji_core::account::Account;
use cunji_core::cadre::Role;
use cunji_core::money::Fen;
use cunji_core::report::Report;
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
pub fn report_workbook(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();

    // 汇总: regions with bands, then the targets.
    {
        let ws = book.add_worksheet();
        ws.set_name("汇总")?;
        let bands: Vec<String> = report
            .regions
            .first()
            .map(|r| r.bands.0.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        let mut names: Vec<String> = ["代码", "名称", "级别", "村数", "有账村数"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        names.extend(bands.iter().cloned());
        names.extend(
            [
                "总收入",
                "经营性收入",
                "村均经营性收入",
                "奖励总额上限",
                "核定发放",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let mut w = Widths::new(names.len().max(6));
        ws.write_string_with_format(
            0,
            0,
            format!("{} 年 村级集体经济报告（{}）", report.year, report.policy),
            &Format::new().set_bold().set_font_size(14),
        )?;
        headers(ws, 1, &names, &mut w)?;
        let mut row = 2;
        for r in &report.regions {
            let mut cells = vec![
                Cell::Text(r.code.to_string()),
                Cell::Text(r.name.clone()),
                Cell::Text(r.level.name_zh().into()),
                Cell::Count(r.villages),
                Cell::Count(r.with_data),
            ];
            cells.extend(
                bands
                    .iter()
                    .map(|b| Cell::Count(r.bands.get(b).copied().unwrap_or(0))),
            );
            cells.extend([
                Cell::Money(Some(r.total_income)),
                Cell::Money(Some(r.operating_income)),
                Cell::Money(r.avg_operating_income),
                Cell::Money(Some(r.incentive_total)),
                Cell::Money(Some(r.awards_total)),
            ]);
            write_row(ws, row, &cells, &mut w)?;
            row += 1;
        }
        if report.regions.iter().any(|r| !r.targets.is_empty()) {
            row += 1;
            headers(
                ws,
                row,
                &["区域", "目标", "期限", "实际", "数据完整", "达成"].map(String::from),
                &mut w,
            )?;
            row += 1;
            for r in &report.regions {
                for t in &r.targets {
                    let cells = [
                        Cell::Text(r.name.clone()),
                        Cell::Text(t.name.clone()),
                        Cell::Text(format!("{} 年", t.due)),
                        Cell::Text(t.value.clone().unwrap_or_else(|| "—".into())),
                        Cell::Text(if t.complete { "是" } else { "否" }.into()),
                        Cell::Text(if t.met { "达成" } else { "未达成" }.into()),
                    ];
                    write_row(ws, row, &cells, &mut w)?;
                    row += 1;
                }
            }
        }
        w.apply(ws)?;
        page_setup(ws, 2)?;
    }

    // 村级明细: every village with measures, band, pool and awards; totals as formulas.
    {
        let ws = book.add_worksheet();
        ws.set_name("村级明细")?;
        let measure_keys: Vec<(String, String)> = report
            .villages
            .iter()
            .find_map(|v| v.measures.as_ref())
            .map(|m| {
                m.0.iter()
                    .map(|(k, _)| (k.clone(), measure_name(k)))
                    .collect()
            })
            .unwrap_or_default();
        let mut names: Vec<String> = ["代码", "村", "有账"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        names.extend(measure_keys.iter().map(|(_, n)| n.clone()));
        let first_money = 3;
        names.extend(
            [
                "分档",
                "激励口径值",
                "激励基数",
                "奖励总额上限",
                "核定发放",
                "未分配",
                "说明",
                "获奖人员",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let band_col = first_money + measure_keys.len();
        let mut w = Widths::new(names.len());
        headers(ws, 0, &names, &mut w)?;
        let mut row = 1;
        for v in &report.villages {
            let mut cells = vec![
                Cell::Text(v.code.to_string()),
                Cell::Text(v.name.clone()),
                Cell::Text(if v.has_data { "是" } else { "否" }.into()),
            ];
            cells.extend(
                measure_keys
                    .iter()
                    .map(|(k, _)| Cell::Money(v.measures.as_ref().and_then(|m| m.get(k).copied()))),
            );
            cells.push(Cell::Text(v.band.clone().unwrap_or_default()));
            match &v.incentive {
                Some(i) => {
                    cells.push(Cell::Money(i.measure));
                    cells.push(Cell::Money(i.base));
                    cells.push(Cell::Money(Some(i.pool)));
                    cells.push(Cell::Money(Some(i.awarded())));
                    cells.push(Cell::Money(Some(i.unallocated)));
                    cells.push(Cell::Text(
                        i.reason
                            .map(|r| r.name_zh().to_string())
                            .unwrap_or_default(),
                    ));
                    cells.push(Cell::Text(
                        i.awards
                            .iter()
                            .map(|a| {
                                format!("{} {} {}", a.name, a.role.name_zh(), a.amount.display())
                            })
                            .collect::<Vec<_>>()
                            .join("；"),
                    ));
                }
                None => cells.extend((0..7).map(|_| Cell::Text(String::new()))),
            }
            write_row(ws, row, &cells, &mut w)?;
            row += 1;
        }
        let mut money_cols: Vec<usize> = (first_money..band_col).collect();
        money_cols.extend([band_col + 3, band_col + 4, band_col + 5]);
        totals_row(ws, row, 1, row - 1, &money_cols, 1)?;
        w.apply(ws)?;
        page_setup(ws, 1)?;
    }

    // 奖励计算: each village's trace, one step a row.
    {
        let ws = book.add_worksheet();
        ws.set_name("奖励计算")?;
        let mut w = Widths::new(4);
        headers(
            ws,
            0,
            &["代码", "村", "步骤", "计算说明"].map(String::from),
            &mut w,
        )?;
        let wrap = Format::new()
            .set_text_wrap()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::Top);
        let mut row = 1;
        for v in &report.villages {
            let Some(i) = &v.incentive else { continue };
            for (n, t) in i.trace.iter().enumerate() {
                write_row(
                    ws,
                    row,
                    &[
                        Cell::Text(v.code.to_string()),
                        Cell::Text(v.name.clone()),
                        Cell::Count(n as u64 + 1),
                    ],
                    &mut w,
                )?;
                ws.write_string_with_format(row, 3, t, &wrap)?;
                row += 1;
            }
        }
        w.apply(ws)?;
        ws.set_column_width(3, 100)?;
        page_setup(ws, 1)?;
    }

    // 扶持资金: grants and returns, totals as formulas.
    {
        let ws = book.add_worksheet();
        ws.set_name("扶持资金")?;
        let names = [
            "资金编号",
            "村",
            "项目名称",
            "来源",
            "年度",
            "金额",
            "预期年收益",
            "本年实际收益",
            "状态",
        ]
        .map(String::from);
        let mut w = Widths::new(names.len());
        headers(ws, 0, &names, &mut w)?;
        let mut row = 1;
        for g in &report.grants {
            let cells = [
                Cell::Text(g.grant.clone()),
                Cell::Text(g.village.to_string()),
                Cell::Text(g.program.clone()),
                Cell::Text(g.level.name_zh().into()),
                Cell::Count(g.year as u64),
                Cell::Money(Some(g.amount)),
                Cell::Money(g.expected),
                Cell::Money(Some(g.actual)),
                Cell::Text(g.status.name_zh().into()),
            ];
            write_row(ws, row, &cells, &mut w)?;
            row += 1;
        }
        totals_row(ws, row, 1, row - 1, &[5, 6, 7], 0)?;
        w.apply(ws)?;
        page_setup(ws, 1)?;
    }

    if let Some(lines) = &report.pay_floor {
        let ws = book.add_worksheet();
        ws.set_name("报酬保障")?;
        let names = [
            "村代码",
            "人员编号",
            "姓名",
            "职务",
            "任职月数",
            "状态",
            "基本报酬",
            "保障线",
            "差额",
            "说明",
        ]
        .map(String::from);
        let mut w = Widths::new(names.len());
        headers(ws, 0, &names, &mut w)?;
        let mut row = 1;
        for l in lines {
            let cells = [
                Cell::Text(l.village.to_string()),
                Cell::Text(l.person.clone()),
                Cell::Text(l.name.clone()),
                Cell::Text(l.role.name_zh().into()),
                Cell::Count(l.months_in_post as u64),
                Cell::Text(match l.status {
                    cunji_core::pay_floor::FloorStatus::Below => "低于保障线".into(),
                    cunji_core::pay_floor::FloorStatus::Unknown => "无法核对".into(),
                }),
                Cell::Money(l.base_pay),
                Cell::Money(l.floor),
                Cell::Money(l.shortfall),
                Cell::Text(l.explanation.clone()),
            ];
            write_row(ws, row, &cells, &mut w)?;
            row += 1;
        }
        totals_row(ws, row, 1, row - 1, &[8], 0)?;
        w.apply(ws)?;
        page_setup(ws, 1)?;
    }
    book.save_to_buffer()
}

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
