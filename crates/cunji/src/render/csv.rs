//! The report as CSV, one row per village, with Chinese headers, in UTF-8 with a BOM so that Excel and
//! WPS open it correctly.

use cunji_core::report::Report;

/// One CSV field, quoted when needed, and never read as a formula: a cell that starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return, or their fullwidth forms, also after a byte-order mark
/// (a person id `-1+cmd|' /C calc'!A0`, a file name `=HYPERLINK(…)`), gets a leading `'`, as OWASP
/// advises for CSV injection (`cunji_core::columns::formula_like`); a plain number such as `-3.00` is
/// left as it is.
pub fn field(s: &str) -> String {
    let s: std::borrow::Cow<'_, str> = if is_formula_like(s) {
        format!("'{s}").into()
    } else {
        s.into()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn is_formula_like(s: &str) -> bool {
    cunji_core::columns::formula_like(s)
}

pub fn render(report: &Report) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let measure_keys: Vec<String> = report
        .villages
        .iter()
        .find_map(|v| v.measures.as_ref())
        .map(|m| m.0.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_else(|| {
            cunji_core::measure::STANDARD_KEYS
                .iter()
                .map(|s| s.to_string())
                .collect()
        });
    let mut header = vec![
        "年度".to_string(),
        "代码".into(),
        "村".into(),
        "有账".into(),
    ];
    header.extend(measure_keys.iter().cloned());
    header.extend(
        cunji_core::report::REWARD_HEADERS
            .iter()
            .map(|s| s.to_string()),
    );
    line(&mut out, &header);
    for v in &report.villages {
        line(&mut out, &village_cells(report.year, v, &measure_keys));
    }
    // Pay floors follow as a second table after an empty line, with its own header.
    if let Some(lines) = &report.pay_floor {
        out.push_str("\r\n村干部报酬保障\r\n年度,村代码,人员编号,姓名,职务,任职月数,状态,基本报酬,保障线,差额,说明\r\n");
        for l in lines {
            line(&mut out, &floor_cells(report.year, l));
        }
    }
    out.into_bytes()
}

/// One CSV line of fields, CRLF-ended as Excel writes it.
fn line(out: &mut String, cells: &[String]) {
    out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
    out.push_str("\r\n");
}

fn village_cells(
    year: i32,
    v: &cunji_core::report::VillageReport,
    measure_keys: &[String],
) -> Vec<String> {
    let mut cells = vec![
        year.to_string(),
        v.code.to_string(),
        v.name.clone(),
        if v.has_data { "是" } else { "否" }.to_string(),
    ];
    for k in measure_keys {
        cells.push(v.measure(k).map(|f| f.json()).unwrap_or_default());
    }
    cells.push(v.band.clone().unwrap_or_default());
    match &v.incentive {
        None => cells.extend(std::iter::repeat_n(String::new(), 7)),
        Some(i) => {
            cells.push(i.measure.map(|f| f.json()).unwrap_or_default());
            cells.push(i.base.map(|f| f.json()).unwrap_or_default());
            cells.push(i.pool.json());
            cells.push(i.awarded().json());
            cells.push(i.unallocated.json());
            cells.push(i.reason.map(|r| r.key().to_string()).unwrap_or_default());
            cells.push(
                i.awards
                    .iter()
                    .map(|a| format!("{} {} {}", a.person, a.name, a.amount.json()))
                    .collect::<Vec<_>>()
                    .join("；"),
            );
        }
    }
    cells
}

fn floor_cells(year: i32, l: &cunji_core::pay_floor::FloorLine) -> Vec<String> {
    vec![
        year.to_string(),
        l.village.to_string(),
        l.person.clone(),
        l.name.clone(),
        l.role.key().to_string(),
        l.months_in_post.to_string(),
        match l.status {
            cunji_core::pay_floor::FloorStatus::Below => "below".to_string(),
            cunji_core::pay_floor::FloorStatus::Unknown => "unknown".to_string(),
        },
        l.base_pay.map(|f| f.json()).unwrap_or_default(),
        l.floor.map(|f| f.json()).unwrap_or_default(),
        l.shortfall.map(|f| f.json()).unwrap_or_default(),
        l.explanation.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn cells_that_would_run_as_formulas_are_neutralised() {
        assert_eq!(field("-1+cmd|' /C calc'!A0"), "'-1+cmd|' /C calc'!A0");
        assert_eq!(
            field("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("\tx"), "'\tx");
        // Numbers, negative ones included, stay numbers.
        assert_eq!(field("-3.00"), "-3.00");
        assert_eq!(field("-12"), "-12");
        assert_eq!(field("1234.50"), "1234.50");
        assert_eq!(field("东关村"), "东关村");
        assert_eq!(field("-"), "'-");
        assert_eq!(field("-1.2.3"), "'-1.2.3");
    }
}
