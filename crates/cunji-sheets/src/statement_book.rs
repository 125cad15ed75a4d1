//! The empty statement book (SPEC §14): a 收益及收益分配表 in the 2023 layout (财会〔2023〕14号) for each
//! village, one sheet a village, ready for a township accountant to fill in and import as is. The sum
//! lines are formulas with their results stored (0 on an empty sheet), so that a spreadsheet that does
//! not recalculate on opening (LibreOffice's default) still shows them, and the importer checks them
//! like balance assertions.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet, XlsxError};

use crate::VillageRow;

/// What a line of the statement holds: an amount typed in, or a sum of the lines named by their
/// number (negative: subtracted).
enum Fill {
    Typed,
    Sum(&'static [i8]),
}

/// The lines of the 2023 layout, numbered 1… as 行次. `其中：运转支出` is a part of 管理费用, not added again.
const LINES: [(&str, Fill); 21] = [
    ("一、经营收入", Fill::Typed),
    ("减：经营支出", Fill::Typed),
    ("税金及附加", Fill::Typed),
    ("管理费用", Fill::Typed),
    ("其中：运转支出", Fill::Typed),
    ("加：投资收益", Fill::Typed),
    ("补助收入", Fill::Typed),
    ("其他收入", Fill::Typed),
    ("减：公益支出", Fill::Typed),
    ("其他支出", Fill::Typed),
    (
        "二、本年收益",
        Fill::Sum(&[1, -2, -3, -4, 6, 7, 8, -9, -10]),
    ),
    ("减：所得税费用", Fill::Typed),
    ("三、净收益", Fill::Sum(&[11, -12])),
    ("加：年初未分配收益", Fill::Typed),
    ("其他转入", Fill::Typed),
    ("四、可分配收益", Fill::Sum(&[13, 14, 15])),
    ("减：提取公积公益金", Fill::Typed),
    ("外来投资分利", Fill::Typed),
    ("成员分配（分红）", Fill::Typed),
    ("其他", Fill::Typed),
    ("五、年末未分配收益", Fill::Sum(&[16, -17, -18, -19, -20])),
];

/// The spreadsheet row (1-based) of line 1; the heading takes the three above it.
const FIRST_LINE_ROW: u32 = 4;

/// The formula of a sum line in `column` (C this year, D the year before).
fn sum_formula(column: char, parts: &[i8]) -> String {
    let mut f = String::from("=");
    for (i, p) in parts.iter().enumerate() {
        let row = FIRST_LINE_ROW + p.unsigned_abs() as u32 - 1;
        match (i, *p < 0) {
            (_, true) => f.push('-'),
            (0, false) => {}
            (_, false) => f.push('+'),
        }
        f.push_str(&format!("{column}{row}"));
    }
    f
}

/// A sheet name for `v` that Excel accepts (at most 31 characters, none of `[]:*?/\`) and that no
/// earlier sheet has: the village's name, or its name and code when two villages share a name.
fn sheet_name(v: &VillageRow, taken: &mut std::collections::HashSet<String>) -> String {
    let clean: String = v
        .name
        .chars()
        .filter(|c| !"[]:*?/\\'".contains(*c))
        .collect();
    let short: String = clean.chars().take(31).collect();
    let name = if short.is_empty() || taken.contains(&short) {
        let room = 31 - v.code.len() - 1;
        format!(
            "{}-{}",
            clean.chars().take(room).collect::<String>(),
            v.code
        )
    } else {
        short
    };
    taken.insert(name.clone());
    name
}

/// The workbook: one sheet for each of `villages` (at most `crate::TEMPLATE_VILLAGES_AT_MOST`), for
/// `year`, A4 portrait on one page.
pub fn statement_book_template(villages: &[VillageRow], year: i32) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let mut taken = std::collections::HashSet::new();
    for v in villages.iter().take(crate::TEMPLATE_VILLAGES_AT_MOST) {
        let ws = book.add_worksheet();
        ws.set_name(sheet_name(v, &mut taken))?;
        village_sheet(ws, v, year)?;
    }
    book.save_to_buffer()
}

fn village_sheet(ws: &mut Worksheet, v: &VillageRow, year: i32) -> Result<(), XlsxError> {
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    ws.merge_range(0, 0, 0, 3, "收益及收益分配表", &title)?;
    // The code in brackets finds the village even where two townships have one of the same name.
    ws.write_string(1, 0, format!("编制单位：{}（{}）", v.name, v.code))?;
    ws.write_string(1, 2, format!("{year}年度"))?;
    ws.write_string(1, 3, "单位：元")?;
    let head = crate::header_format().set_align(FormatAlign::Center);
    for (c, h) in ["项目", "行次", "本年金额", "上年金额"].iter().enumerate() {
        ws.write_string_with_format(2, c as u16, *h, &head)?;
    }
    let text = Format::new().set_border(FormatBorder::Thin);
    let number = text.clone().set_align(FormatAlign::Center);
    let typed = crate::money_format().set_background_color("FFFFFF");
    let summed = crate::money_format()
        .set_bold()
        .set_background_color("F1F3F5");
    for (i, (label, fill)) in LINES.iter().enumerate() {
        let row = FIRST_LINE_ROW - 1 + i as u32;
        let indent = if label.contains('、') { 0 } else { 1 };
        ws.write_string_with_format(row, 0, *label, &text.clone().set_indent(indent))?;
        ws.write_number_with_format(row, 1, (i + 1) as f64, &number)?;
        for (col, letter) in [(2u16, 'C'), (3u16, 'D')] {
            match fill {
                Fill::Typed => ws.write_blank(row, col, &typed)?,
                Fill::Sum(parts) => {
                    let f = Formula::new(sum_formula(letter, parts)).set_result("0");
                    ws.write_formula_with_format(row, col, f, &summed)?
                }
            };
        }
    }
    let notes = FIRST_LINE_ROW + LINES.len() as u32 + 1;
    ws.write_string(
        notes - 1,
        0,
        "填表说明：金额填在白色格中（元，两位小数）；灰色的合计行是公式，自动计算，导入时逐行核对。",
    )?;
    ws.write_string(
        notes,
        0,
        "单位负责人：            会计：            制表日期：",
    )?;
    ws.set_column_width(0, 30)?;
    ws.set_column_width(1, 6)?;
    ws.set_column_width(2, 18)?;
    ws.set_column_width(3, 18)?;
    ws.set_paper_size(crate::A4);
    ws.set_portrait();
    ws.set_print_fit_to_pages(1, 1);
    ws.set_freeze_panes(3, 0)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_lines_refer_to_their_parts() {
        assert_eq!(sum_formula('C', &[11, -12]), "=C14-C15");
        assert_eq!(
            sum_formula('D', &[16, -17, -18, -19, -20]),
            "=D19-D20-D21-D22-D23"
        );
    }

    #[test]
    fn sheet_names_stay_unique_and_short() {
        let mut taken = Default::default();
        let v = |name: &str, code: &str| VillageRow {
            code: code.into(),
            name: name.into(),
            township: String::new(),
        };
        assert_eq!(
            sheet_name(&v("东关村民委员会", "131124100200"), &mut taken),
            "东关村民委员会"
        );
        assert_eq!(
            sheet_name(&v("东关村民委员会", "131124101200"), &mut taken),
            "东关村民委员会-131124101200"
        );
        let long = "很".repeat(40);
        let n = sheet_name(&v(&long, "131124101201"), &mut taken);
        assert_eq!(n.chars().count(), 31);
        assert_eq!(sheet_name(&v("a/b", "1"), &mut taken), "ab");
    }
}
