//! A readable zh-CN terminal table: region summary with bands and targets, then villages, grants.

use cunji_core::money::Fen;
use cunji_core::report::Report;

/// Columns of a terminal are counted per character; CJK and full-width characters take two.
pub fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    let u = c as u32;
    let wide = (0x1100..=0x115F).contains(&u)
        || (0x2E80..=0xA4CF).contains(&u)
        || (0xAC00..=0xD7A3).contains(&u)
        || (0xF900..=0xFAFF).contains(&u)
        || (0xFE30..=0xFE4F).contains(&u)
        || (0xFF00..=0xFF60).contains(&u)
        || (0xFFE0..=0xFFE6).contains(&u)
        || (0x20000..=0x3FFFD).contains(&u);
    if wide {
        2
    } else {
        1
    }
}

/// A table with a header; numbers are right-aligned, text left-aligned.
pub struct Grid {
    header: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Grid {
    pub fn new(header: &[(&str, bool)]) -> Grid {
        Grid {
            header: header.iter().map(|(h, _)| h.to_string()).collect(),
            right: header.iter().map(|(_, r)| *r).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| display_width(h)).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                widths[i] = widths[i].max(display_width(c));
            }
        }
        let line = |cells: &[String], out: &mut String| {
            let mut parts = Vec::new();
            for (i, w) in widths.iter().enumerate() {
                let c = cells.get(i).map(|s| s.as_str()).unwrap_or("");
                let pad = " ".repeat(w.saturating_sub(display_width(c)));
                parts.push(if self.right[i] {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                });
            }
            out.push_str(parts.join("  ").trim_end());
            out.push('\n');
        };
        let mut out = String::new();
        line(&self.header, &mut out);
        let total: usize = widths.iter().sum::<usize>() + 2 * n.saturating_sub(1);
        out.push_str(&"─".repeat(total));
        out.push('\n');
        for r in &self.rows {
            line(r, &mut out);
        }
        out
    }
}

fn money(f: Option<Fen>) -> String {
    f.map(|f| f.display()).unwrap_or_else(|| "—".into())
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "村集 cunji 年度报告：{} 年　政策：{}\n\n",
        report.year, report.policy
    ));
    regions_section(&mut out, report);
    targets_section(&mut out, report);
    villages_section(&mut out, report);
    grants_section(&mut out, report);
    alerts_section(&mut out, report);
    pay_floor_section(&mut out, report);
    subsidy_section(&mut out, report);
    out
}

/// 【区域汇总】: each region with its villages per band and its reward totals.
fn regions_section(out: &mut String, report: &Report) {
    let band_names: Vec<String> = report
        .regions
        .first()
        .map(|r| r.bands.0.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    out.push_str("【区域汇总】\n");
    let mut header: Vec<(&str, bool)> = vec![
        ("代码", false),
        ("名称", false),
        ("级别", false),
        ("村数", true),
        ("有账", true),
    ];
    for b in &band_names {
        header.push((b.as_str(), true));
    }
    header.push(("奖励总额上限", true));
    header.push(("核定发放", true));
    let mut g = Grid::new(&header);
    for r in &report.regions {
        let mut cells = vec![
            r.code.to_string(),
            r.name.clone(),
            r.level.name_zh().to_string(),
            r.villages.to_string(),
            r.with_data.to_string(),
        ];
        for b in &band_names {
            cells.push(r.bands.get(b).copied().unwrap_or(0).to_string());
        }
        cells.push(r.incentive_total.display());
        cells.push(r.awards_total.display());
        g.row(cells);
    }
    out.push_str(&g.render());
}

/// 【目标】, when any region has targets.
fn targets_section(out: &mut String, report: &Report) {
    if report.regions.iter().any(|r| !r.targets.is_empty()) {
        out.push_str("\n【目标】\n");
        let mut g = Grid::new(&[
            ("区域", false),
            ("目标", false),
            ("期限", true),
            ("实际", true),
            ("数据完整", false),
            ("达成", false),
        ]);
        for r in &report.regions {
            for t in &r.targets {
                g.row(vec![
                    r.name.clone(),
                    t.name.clone(),
                    format!("{} 年", t.due),
                    t.value.clone().unwrap_or_else(|| "—".into()),
                    if t.complete {
                        "是"
                    } else {
                        "否（有村未报账）"
                    }
                    .into(),
                    if t.met { "✔ 达成" } else { "✘ 未达成" }.into(),
                ]);
            }
        }
        out.push_str(&g.render());
    }
}

/// 【村级明细】: each village's measures, band and reward.
fn villages_section(out: &mut String, report: &Report) {
    out.push_str("\n【村级明细】\n");
    let mut g = Grid::new(&[
        ("代码", false),
        ("村", false),
        ("总收入", true),
        ("经营性收入", true),
        ("经营收益", true),
        ("分档", false),
        ("激励基数", true),
        ("奖励总额上限", true),
        ("核定发放", true),
        ("说明", false),
    ]);
    for v in &report.villages {
        let m = |k: &str| money(v.measures.as_ref().and_then(|m| m.get(k).copied()));
        let (base, pool, awarded, note) = match &v.incentive {
            None => ("—".into(), "—".into(), "—".into(), String::new()),
            Some(i) => (
                money(i.base),
                i.pool.display(),
                i.awarded().display(),
                i.reason
                    .map(|r| r.name_zh().to_string())
                    .unwrap_or_default(),
            ),
        };
        g.row(vec![
            v.code.to_string(),
            v.name.clone(),
            m("total_income"),
            m("operating_income"),
            m("operating_profit"),
            v.band.clone().unwrap_or_else(|| {
                if v.has_data {
                    "—".into()
                } else {
                    "未报账".into()
                }
            }),
            base,
            pool,
            awarded,
            note,
        ]);
    }
    out.push_str(&g.render());
}

/// 【扶持资金及收益】, when there are grants.
fn grants_section(out: &mut String, report: &Report) {
    if !report.grants.is_empty() {
        out.push_str("\n【扶持资金及收益】\n");
        let mut g = Grid::new(&[
            ("资金编号", false),
            ("村", false),
            ("项目", false),
            ("来源", false),
            ("金额", true),
            ("预期年收益", true),
            ("本年实际", true),
            ("状态", false),
        ]);
        for gr in &report.grants {
            g.row(vec![
                gr.grant.clone(),
                gr.village.to_string(),
                gr.program.clone(),
                gr.level.name_zh().into(),
                gr.amount.display(),
                money(gr.expected),
                gr.actual.display(),
                gr.status.name_zh().into(),
            ]);
        }
        out.push_str(&g.render());
    }
}

/// 【预警】, when there are alerts.
fn alerts_section(out: &mut String, report: &Report) {
    if !report.alerts.is_empty() {
        out.push_str("\n【预警】（供审计核查，不是结论）\n");
        let mut g = Grid::new(&[
            ("村", false),
            ("类型", false),
            ("说明", false),
            ("依据", false),
        ]);
        for a in &report.alerts {
            g.row(vec![
                a.village.clone(),
                a.kind.name_zh().into(),
                a.message.clone(),
                a.evidence.first().cloned().unwrap_or_default(),
            ]);
        }
        out.push_str(&g.render());
    }
}

/// 【村干部报酬保障】, when the policy has a pay floor.
fn pay_floor_section(out: &mut String, report: &Report) {
    if let Some(lines) = &report.pay_floor {
        out.push_str("\n【村干部报酬保障】\n");
        if lines.is_empty() {
            out.push_str("所有在保障范围内的村干部基本报酬均不低于保障线。\n");
        } else {
            let mut g = Grid::new(&[
                ("村", false),
                ("人员", false),
                ("姓名", false),
                ("职务", false),
                ("任职月数", true),
                ("基本报酬", true),
                ("保障线", true),
                ("差额", true),
                ("说明", false),
            ]);
            for l in lines {
                g.row(vec![
                    l.village.to_string(),
                    l.person.clone(),
                    l.name.clone(),
                    l.role.name_zh().into(),
                    l.months_in_post.to_string(),
                    money(l.base_pay),
                    money(l.floor),
                    money(l.shortfall),
                    match l.status {
                        cunji_core::pay_floor::FloorStatus::Below => "低于保障线".into(),
                        cunji_core::pay_floor::FloorStatus::Unknown => l.explanation.clone(),
                    },
                ]);
            }
            out.push_str(&g.render());
        }
    }
}

/// 【扶持资金汇总】: by source level, and the average growth with and without support.
fn subsidy_section(out: &mut String, report: &Report) {
    let s = &report.subsidy_summary;
    out.push_str("\n【扶持资金汇总】\n");
    let levels: Vec<String> = s
        .by_level
        .iter()
        .map(|(k, v)| {
            let name = cunji_core::subsidy::SourceLevel::parse(k)
                .map(|l| l.name_zh())
                .unwrap_or(k);
            format!("{name} {}", v.wan())
        })
        .collect();
    out.push_str(&format!(
        "按来源：{}\n获扶持村数：{}\n村均年增收（经营性收入）：获扶持村 {}，未获扶持村 {}\n",
        if levels.is_empty() {
            "无".to_string()
        } else {
            levels.join("，")
        },
        s.supported_villages,
        s.avg_increase_supported
            .map(|f| f.wan())
            .unwrap_or_else(|| "—".into()),
        s.avg_increase_unsupported
            .map(|f| f.wan())
            .unwrap_or_else(|| "—".into()),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_two_columns_wide() {
        assert_eq!(display_width("饶阳县"), 6);
        assert_eq!(display_width("5–10万"), 6);
        let mut g = Grid::new(&[("村", false), ("金额", true)]);
        g.row(vec!["东关村".into(), "1.00".into()]);
        let text = g.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(display_width(lines[0]), display_width(lines[2]));
    }
}
