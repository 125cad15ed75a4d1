//! The report as a workbook: 汇总, 村级明细, 奖励计算, 扶持资金, 收益分配 when statement books gave
//! distributions, and, with a pay floor, 报酬保障; A4
//! landscape, each sheet titled with the region and year, frozen headers, money in 元 with thousands
//! separators, villages by code and name, totals as formulas with their results stored.

use std::collections::BTreeMap;

use cunji_core::report::Report;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};

use crate::{headers, measure_name, page_setup, totals_row, write_row, Cell, Widths};

/// What every sheet of one workbook shares: its title's words and the villages' names by code.
struct Book<'r> {
    /// `饶阳县 2024 年村级集体经济报告`
    title: String,
    policy: &'r str,
    names: BTreeMap<&'r str, &'r str>,
}

impl<'r> Book<'r> {
    fn new(report: &'r Report, place: &str) -> Book<'r> {
        let mut names: BTreeMap<&str, &str> = report
            .regions
            .iter()
            .map(|r| (r.code.as_str(), r.name.as_str()))
            .collect();
        names.extend(
            report
                .villages
                .iter()
                .map(|v| (v.code.as_str(), v.name.as_str())),
        );
        Book {
            title: format!("{place} {} 年村级集体经济报告", report.year),
            policy: &report.policy,
            names,
        }
    }

    /// A new sheet named `name`, its first row the workbook's title and the sheet's name.
    fn sheet<'b>(
        &self,
        book: &'b mut Workbook,
        name: &str,
    ) -> Result<&'b mut Worksheet, XlsxError> {
        let ws = book.add_worksheet();
        ws.set_name(name)?;
        ws.write_string_with_format(
            0,
            0,
            format!("{} · {name}（{}）", self.title, self.policy),
            &Format::new().set_bold().set_font_size(14),
        )?;
        Ok(ws)
    }

    /// A village's name by its code (a village merged away before the year is still named).
    fn name(&self, code: &str) -> String {
        self.names
            .get(code)
            .copied()
            .unwrap_or_default()
            .to_string()
    }
}

/// `总收入（元）`: a money column's header says its unit.
fn in_yuan(name: &str) -> String {
    format!("{name}（元）")
}

/// The region a report covers, by name, for a title: its one shallowest region (a county report's
/// county), or `各地区` when it spans several at that level.
pub fn place_of(report: &Report) -> String {
    let Some(top) = report.regions.iter().map(|r| r.level).min() else {
        return "各地区".to_string();
    };
    let mut at_top = report.regions.iter().filter(|r| r.level == top);
    match (at_top.next(), at_top.next()) {
        (Some(r), None) => r.name.clone(),
        _ => "各地区".to_string(),
    }
}

/// The workbook of a report of `place` (the region asked for, by name).
pub fn report_workbook(report: &Report, place: &str) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let b = Book::new(report, place);
    summary_sheet(&mut book, &b, report)?;
    villages_sheet(&mut book, &b, report)?;
    traces_sheet(&mut book, &b, report)?;
    grants_sheet(&mut book, &b, report)?;
    if report.villages.iter().any(|v| v.distribution.is_some()) {
        distribution_sheet(&mut book, &b, report)?;
    }
    if let Some(lines) = &report.pay_floor {
        pay_floor_sheet(&mut book, &b, lines)?;
    }
    book.save_to_buffer()
}

/// 汇总: regions with bands, then the targets.
fn summary_sheet(book: &mut Workbook, b: &Book<'_>, report: &Report) -> Result<(), XlsxError> {
    let ws = b.sheet(book, "汇总")?;
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
        .map(in_yuan),
    );
    let mut w = Widths::new(names.len().max(6));
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
    Ok(())
}

/// 村级明细: every village with measures, band, pool and awards; totals as formulas.
fn villages_sheet(book: &mut Workbook, b: &Book<'_>, report: &Report) -> Result<(), XlsxError> {
    let ws = b.sheet(book, "村级明细")?;
    let measure_keys: Vec<(String, String)> = report
        .villages
        .iter()
        .find_map(|v| v.measures.as_ref())
        .map(|m| {
            m.0.iter()
                .map(|(k, _)| (k.clone(), in_yuan(&measure_name(k))))
                .collect()
        })
        .unwrap_or_default();
    let mut names: Vec<String> = ["代码", "村", "有账"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    names.extend(measure_keys.iter().map(|(_, n)| n.clone()));
    let first_money = 3;
    // The workbook words the reason for a reader, so its column is 说明 where the CSV's is 原因.
    let band_col = first_money + measure_keys.len();
    names.extend(
        cunji_core::report::REWARD_HEADERS
            .iter()
            .enumerate()
            .map(|(i, s)| match (i, *s) {
                (_, "原因") => "说明".to_string(),
                (1..=5, s) => in_yuan(s),
                (_, s) => s.to_string(),
            }),
    );
    let mut w = Widths::new(names.len());
    headers(ws, 1, &names, &mut w)?;
    let mut row = 2;
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
                        .map(|a| format!("{} {} {}", a.name, a.role.name_zh(), a.amount.display()))
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
    totals_row(ws, (row, 2, row - 1), &money_cols, 1, &w)?;
    w.apply(ws)?;
    page_setup(ws, 2)?;
    Ok(())
}

/// 奖励计算: each village's trace, one step a row.
fn traces_sheet(book: &mut Workbook, b: &Book<'_>, report: &Report) -> Result<(), XlsxError> {
    let ws = b.sheet(book, "奖励计算")?;
    let mut w = Widths::new(4);
    headers(
        ws,
        1,
        &["代码", "村", "步骤", "计算说明"].map(String::from),
        &mut w,
    )?;
    let wrap = Format::new()
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Top);
    let mut row = 2;
    for v in &report.villages {
        let Some(i) = &v.incentive else { continue };
        // Read by people: the trace without the policy's keys (the JSON report keeps them).
        let trace = cunji_core::incentive::public::staff_trace(&i.trace);
        for (n, t) in trace.iter().enumerate() {
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
    // 70 characters wrap within an A4 landscape page beside the code, name and step columns (at 100
    // the explanation ran past the page edge when printed).
    ws.set_column_width(3, 70)?;
    page_setup(ws, 2)?;
    Ok(())
}

/// 扶持资金: grants and returns, totals as formulas.
fn grants_sheet(book: &mut Workbook, b: &Book<'_>, report: &Report) -> Result<(), XlsxError> {
    let ws = b.sheet(book, "扶持资金")?;
    let names = [
        "资金编号".to_string(),
        "村代码".to_string(),
        "村".to_string(),
        "项目名称".to_string(),
        "来源".to_string(),
        "年度".to_string(),
        in_yuan("金额"),
        in_yuan("预期年收益"),
        in_yuan("本年实际收益"),
        "状态".to_string(),
    ];
    let mut w = Widths::new(names.len());
    headers(ws, 1, &names, &mut w)?;
    let mut row = 2;
    for g in &report.grants {
        let cells = [
            Cell::Text(g.grant.clone()),
            Cell::Text(g.village.to_string()),
            Cell::Text(b.name(g.village.as_str())),
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
    totals_row(ws, (row, 2, row - 1), &[6, 7, 8], 0, &w)?;
    w.apply(ws)?;
    page_setup(ws, 2)?;
    Ok(())
}

/// 收益分配: each village whose statement book gave a distribution for the year (SPEC §14).
fn distribution_sheet(book: &mut Workbook, b: &Book<'_>, report: &Report) -> Result<(), XlsxError> {
    let ws = b.sheet(book, "收益分配")?;
    let lines = cunji_core::statement_book::Distribution::default().lines();
    let mut names = vec!["村代码".to_string(), "村".to_string()];
    names.extend(lines.iter().map(|(n, _)| in_yuan(n)));
    let mut w = Widths::new(names.len());
    headers(ws, 1, &names, &mut w)?;
    let mut row = 2;
    for v in &report.villages {
        let Some(d) = &v.distribution else { continue };
        let mut cells = vec![Cell::Text(v.code.to_string()), Cell::Text(v.name.clone())];
        cells.extend(d.lines().iter().map(|(_, f)| Cell::Money(Some(*f))));
        write_row(ws, row, &cells, &mut w)?;
        row += 1;
    }
    let money: Vec<usize> = (2..names.len()).collect();
    totals_row(ws, (row, 2, row - 1), &money, 0, &w)?;
    w.apply(ws)?;
    page_setup(ws, 2)?;
    Ok(())
}

/// 报酬保障: covered cadres below the floor or of unknown standing.
fn pay_floor_sheet(
    book: &mut Workbook,
    b: &Book<'_>,
    lines: &[cunji_core::pay_floor::FloorLine],
) -> Result<(), XlsxError> {
    let ws = b.sheet(book, "报酬保障")?;
    let names = [
        "村代码".to_string(),
        "村".to_string(),
        "人员编号".to_string(),
        "姓名".to_string(),
        "职务".to_string(),
        "任职月数".to_string(),
        "状态".to_string(),
        in_yuan("基本报酬"),
        in_yuan("保障线"),
        in_yuan("差额"),
        "说明".to_string(),
    ];
    let mut w = Widths::new(names.len());
    headers(ws, 1, &names, &mut w)?;
    let mut row = 2;
    for l in lines {
        let cells = [
            Cell::Text(l.village.to_string()),
            Cell::Text(b.name(l.village.as_str())),
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
    totals_row(ws, (row, 2, row - 1), &[9], 0, &w)?;
    w.apply(ws)?;
    page_setup(ws, 2)?;
    Ok(())
}
