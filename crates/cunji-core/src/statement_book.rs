//! One sheet of a 收益及收益分配表 workbook in the official layout (SPEC §14), read from its cells: the
//! village and year it is for, its unit, its account lines (which become the year's entries), its sum
//! lines (checked like balance assertions) and its distribution. No I/O: the store reads the workbook
//! and hands each sheet's cells here as text.

use crate::account::Account;
use crate::money::{Fen, FenSum, MoneyError, Unit};

/// A filled cell of a sheet: text, or a number as the spreadsheet holds it (a number keeps its
/// value so that 万元 are scaled exactly, SPEC §1).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
}

impl Cell {
    /// The cell as text: a number in its shortest exact form.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Cell::Text(s) => std::borrow::Cow::Borrowed(s),
            Cell::Number(v) => std::borrow::Cow::Owned(format!("{v}")),
        }
    }
}

/// One row of a sheet as the sheet holds it: its number (1-based, as a spreadsheet numbers it) and
/// its filled cells with their columns (0-based), in column order. Only what a sheet holds is kept:
/// a sheet naming one far-off cell is one row of one cell, not a rectangle to it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SheetRow {
    pub row: usize,
    pub cells: Vec<(usize, Cell)>,
}

impl SheetRow {
    /// The cell of column `col`, if filled.
    pub fn get(&self, col: usize) -> Option<&Cell> {
        self.cells
            .binary_search_by_key(&col, |(c, _)| *c)
            .ok()
            .map(|i| &self.cells[i].1)
    }

    /// The text of column `col` ("" when empty).
    fn text(&self, col: usize) -> std::borrow::Cow<'_, str> {
        self.get(col)
            .map_or(std::borrow::Cow::Borrowed(""), Cell::text)
    }
}

/// What a sheet turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub enum SheetRead {
    Statement(SheetStatement),
    /// Every amount cell of its lines is empty (the template as handed out; its formulas' sums
    /// read 0): skipped with a warning, never stored as a statement of zeros (SPEC §14).
    NotFilledIn,
}

/// Where a sheet says which village it is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VillageRef {
    /// `编制单位：东关村股份经济合作社`: a name, matched to the register (see [`village_key`]).
    Name(String),
    /// A 12-digit code in that cell.
    Code(String),
}

/// The distribution of a year (SPEC §14), in fen; lines the sheet does not have are 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Distribution {
    pub opening_undistributed: Fen,
    pub transfers_in: Fen,
    pub reserves: Fen,
    pub welfare: Fen,
    pub outside_investors: Fen,
    pub members: Fen,
    pub other: Fen,
    pub closing_undistributed: Fen,
}

impl Distribution {
    /// Its lines as a statement prints them, in the statement's order.
    pub fn lines(&self) -> [(&'static str, Fen); 8] {
        [
            ("年初未分配收益", self.opening_undistributed),
            ("其他转入", self.transfers_in),
            ("提取公积公益金", self.reserves),
            ("提取应付福利费", self.welfare),
            ("外来投资分利", self.outside_investors),
            ("成员分配（分红）", self.members),
            ("其他", self.other),
            ("年末未分配收益", self.closing_undistributed),
        ]
    }
}

/// What one sheet holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetStatement {
    pub village: VillageRef,
    pub year: i32,
    /// This year's amount of each account line the sheet has (zero lines included).
    pub accounts: Vec<(Account, Fen)>,
    /// The `上年` column's amount of each account line, when the sheet has that column.
    pub prior: Vec<(Account, Fen)>,
    pub distribution: Distribution,
}

/// A problem of a sheet: the row (1-based, as a spreadsheet numbers it) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetError {
    pub row: usize,
    pub message: String,
}

/// The kinds of line a statement has, by their normalised names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Line {
    Account(Account),
    /// 经营收益, 本年收益, 净收益, 可分配收益: checked against their parts.
    Sum(SumLine),
    Distribution(Part),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SumLine {
    OperatingProfit,
    YearProfit,
    NetProfit,
    Distributable,
}

/// A line of the distribution part (年末未分配收益 is both stored and checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Opening,
    TransfersIn,
    Reserves,
    Welfare,
    OutsideInvestors,
    Members,
    Other,
    Closing,
}

fn line_of(name: &str) -> Option<Line> {
    if let Some(a) = Account::ALL.iter().find(|a| a.name_zh() == name) {
        return Some(Line::Account(*a));
    }
    let line = match name {
        "经营收益" => Line::Sum(SumLine::OperatingProfit),
        "本年收益" => Line::Sum(SumLine::YearProfit),
        "净收益" => Line::Sum(SumLine::NetProfit),
        "可分配收益" => Line::Sum(SumLine::Distributable),
        "年初未分配收益" => Line::Distribution(Part::Opening),
        "其他转入" => Line::Distribution(Part::TransfersIn),
        "提取公积公益金" => Line::Distribution(Part::Reserves),
        "提取应付福利费" => Line::Distribution(Part::Welfare),
        "外来投资分利" => Line::Distribution(Part::OutsideInvestors),
        "成员分配"
        | "农户分配"
        | "成员分配（分红）"
        | "农户分配（分红）"
        | "成员分红"
        | "农户分红" => Line::Distribution(Part::Members),
        "其他" => Line::Distribution(Part::Other),
        "年末未分配收益" => Line::Distribution(Part::Closing),
        _ => return None,
    };
    Some(line)
}

/// A line's name without its numbering (`一、`, `1.`, `（1）`), the words `加：`, `减：`, `其中：` and
/// spaces; and whether it was a `其中：` sub-line.
pub fn line_name(raw: &str) -> (String, bool) {
    let mut s: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect();
    s = s.replace('(', "（").replace(')', "）").replace(':', "：");
    loop {
        let before = s.clone();
        s = strip_numbering(&s);
        for word in ["加：", "减："] {
            if let Some(rest) = s.strip_prefix(word) {
                s = rest.to_string();
            }
        }
        if s == before {
            break;
        }
    }
    match s.strip_prefix("其中：") {
        Some(rest) => (strip_numbering(rest), true),
        None => (s, false),
    }
}

/// `一、`, `十二、`, `1.`, `1、`, `（1）` at the start go.
fn strip_numbering(s: &str) -> String {
    const NUMERALS: &str = "一二三四五六七八九十";
    if let Some(rest) = s.strip_prefix('（') {
        if let Some(end) = rest.find('）') {
            let inner = &rest[..end];
            if !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_ascii_digit() || NUMERALS.contains(c))
            {
                return rest[end + '）'.len_utf8()..].to_string();
            }
        }
    }
    let lead: String = s
        .chars()
        .take_while(|c| c.is_ascii_digit() || NUMERALS.contains(*c))
        .collect();
    if !lead.is_empty() {
        let rest = &s[lead.len()..];
        for mark in ["、", ".", "．"] {
            if let Some(after) = rest.strip_prefix(mark) {
                return after.to_string();
            }
        }
    }
    s.to_string()
}

/// A name as the register and a statement both write it, for matching: without the organisation's
/// kind at its end (村民委员会, 居民委员会, 股份经济合作社, 经济合作社, 集体经济组织), then without a final
/// 村 — `东关村民委员会` and `东关村股份经济合作社` are both `东关`.
pub fn village_key(name: &str) -> String {
    let mut s: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    for kind in [
        "村民委员会",
        "居民委员会",
        "股份经济合作社",
        "经济合作社",
        "集体经济组织",
    ] {
        if let Some(rest) = s.strip_suffix(kind) {
            s = rest.to_string();
            break;
        }
    }
    if let Some(rest) = s.strip_suffix('村') {
        s = rest.to_string();
    }
    s
}

/// An amount cell in the sheet's unit: empty, `-` or `—` is none; text is read by SPEC §1's rule
/// for written amounts ([`Fen::parse_in`]), a number by its rule for number cells
/// ([`Fen::from_number`]: scaled to yuan before the whole-fen test).
fn amount(cell: Option<&Cell>, unit: Unit) -> Result<Option<Fen>, String> {
    let read = match cell {
        None => return Ok(None),
        Some(Cell::Number(v)) => Fen::from_number(*v, unit),
        Some(Cell::Text(text)) => {
            if is_blank_text(text) {
                return Ok(None);
            }
            Fen::parse_in(text, unit)
        }
    };
    read.map(Some).map_err(|e| match (e, unit) {
        (MoneyError::NotWholeFen(v), Unit::Wan) => {
            format!("金额 `{v}` 万元不能精确到分（须是 0.000001 万元即 1 分的整数倍）")
        }
        (e, _) => e.to_string(),
    })
}

/// Text an amount cell holds when it holds no amount.
fn is_blank_text(text: &str) -> bool {
    matches!(text.trim(), "" | "-" | "—" | "－" | "——")
}

/// The columns of one block of lines: 项目, the optional 行次, 本年 and the optional 上年.
#[derive(Clone, Copy, Debug)]
struct Block {
    name: usize,
    this_year: usize,
    last_year: Option<usize>,
}

/// The header row (the index of the first row holding `项目`) and its blocks: a sheet may print the
/// statement in two halves side by side, each with its own `项目`.
fn header(rows: &[SheetRow]) -> Option<(usize, Vec<Block>)> {
    let clean = |c: &Cell| {
        c.text()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
    };
    for (r, row) in rows.iter().enumerate() {
        let cells: Vec<(usize, String)> = row.cells.iter().map(|(i, c)| (*i, clean(c))).collect();
        let starts: Vec<usize> = cells
            .iter()
            .filter(|(_, t)| t == "项目")
            .map(|(i, _)| *i)
            .collect();
        if starts.is_empty() {
            continue;
        }
        let mut blocks = Vec::new();
        for (k, start) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(usize::MAX);
            let find = |names: &[&str]| {
                cells
                    .iter()
                    .find(|(i, t)| (*start..end).contains(i) && names.contains(&t.as_str()))
                    .map(|(i, _)| *i)
            };
            let Some(this_year) = find(&["本年金额", "本年数", "本年累计数"]) else {
                continue;
            };
            blocks.push(Block {
                name: *start,
                this_year,
                last_year: find(&["上年金额", "上年数", "上年同期数"]),
            });
        }
        if !blocks.is_empty() {
            return Some((r, blocks));
        }
    }
    None
}

/// The village, year and unit from the cells above the header.
fn heading(rows: &[SheetRow], header_row: usize) -> (Option<VillageRef>, Option<i32>, Unit) {
    let (mut village, mut year, mut unit) = (None, None, Unit::Yuan);
    for row in &rows[..header_row] {
        for (_, cell) in &row.cells {
            let c: String = cell.text().chars().filter(|c| !c.is_whitespace()).collect();
            let c = c.replace(':', "：");
            for label in ["编制单位：", "单位名称："] {
                if let Some(rest) = c.strip_prefix(label) {
                    let rest = rest.split("单位：").next().unwrap_or(rest);
                    village = Some(village_ref(rest));
                }
            }
            if c.contains("单位：万元") {
                unit = Unit::Wan;
            }
            if year.is_none() {
                year = year_in(&c);
            }
        }
    }
    (village, year, unit)
}

/// A 12-digit code, a name followed by its code in brackets (`东关村民委员会（131124100200）`, as
/// cunji's template writes it: the code decides), or a name.
fn village_ref(text: &str) -> VillageRef {
    let is_code = |t: &str| t.len() == 12 && t.bytes().all(|b| b.is_ascii_digit());
    if is_code(text) {
        return VillageRef::Code(text.to_string());
    }
    let bracketed = (text.strip_suffix('）').and_then(|t| t.rsplit_once('（')))
        .or_else(|| text.strip_suffix(')').and_then(|t| t.rsplit_once('(')))
        .filter(|(_, code)| is_code(code));
    match bracketed {
        Some((_, code)) => VillageRef::Code(code.to_string()),
        None => VillageRef::Name(text.to_string()),
    }
}

/// `2024年`, `2024年度`, `2024 年`: the first four digits followed by 年.
fn year_in(text: &str) -> Option<i32> {
    let chars: Vec<char> = text.chars().collect();
    for i in 0..chars.len().saturating_sub(4) {
        let digits: String = chars[i..i + 4].iter().collect();
        let before_ok = i == 0 || !chars[i - 1].is_ascii_digit();
        if before_ok && digits.bytes().all(|b| b.is_ascii_digit()) && chars[i + 4] == '年' {
            return digits.parse().ok().filter(|y| (1900..=2999).contains(y));
        }
    }
    None
}

/// What the lines of a sheet add up to, and the sum lines as written (row, figure).
#[derive(Default)]
struct Read {
    accounts: Vec<(Account, Fen)>,
    prior: Vec<(Account, Fen)>,
    parts: Vec<(Part, Fen, usize)>,
    sums: Vec<(SumLine, Fen, usize)>,
}

/// Reads one sheet given as text, row by row from row 1 (tests, and callers with a dense grid); a
/// sheet not filled in is an error here.
pub fn read_sheet(grid: &[Vec<String>]) -> Result<SheetStatement, Vec<SheetError>> {
    let rows: Vec<SheetRow> = grid
        .iter()
        .enumerate()
        .map(|(r, cells)| SheetRow {
            row: r + 1,
            cells: cells
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.is_empty())
                .map(|(i, c)| (i, Cell::Text(c.clone())))
                .collect(),
        })
        .collect();
    match read_rows(&rows)? {
        SheetRead::Statement(s) => Ok(s),
        SheetRead::NotFilledIn => Err(vec![SheetError {
            row: 1,
            message: "工作表没有填写金额".into(),
        }]),
    }
}

/// Reads one sheet from the rows it holds (in row order; rows without cells may be left out).
pub fn read_rows(rows: &[SheetRow]) -> Result<SheetRead, Vec<SheetError>> {
    let Some((header_row, blocks)) = header(rows) else {
        return Err(vec![SheetError {
            row: 1,
            message: "找不到表头：须有“项目”列和“本年金额”（或“本年数”“本年累计数”）列".into(),
        }]);
    };
    if !filled_in(&rows[header_row + 1..], &blocks) {
        return Ok(SheetRead::NotFilledIn);
    }
    let (village, year, unit) = heading(rows, header_row);
    let mut errors = Vec::new();
    let mut read = Read::default();
    for row in &rows[header_row + 1..] {
        for b in &blocks {
            read_line(row, b, unit, &mut read, &mut errors);
        }
    }
    let village = village.ok_or_else(|| SheetError {
        row: 1,
        message: "表头上方没有“编制单位：”（或“单位名称：”）".into(),
    });
    let year = year.ok_or_else(|| SheetError {
        row: 1,
        message: "表头上方没有年度（如“2024年”）".into(),
    });
    let distribution = check_sums(&read, &mut errors);
    match (village, year) {
        (Ok(village), Ok(year)) if errors.is_empty() => Ok(SheetRead::Statement(SheetStatement {
            village,
            year,
            accounts: read.accounts,
            prior: read.prior,
            distribution,
        })),
        (v, y) => {
            errors.extend(v.err());
            errors.extend(y.err());
            errors.sort_by_key(|e| e.row);
            Err(errors)
        }
    }
}

/// Whether any line has a figure: an amount cell that is not empty, other than a sum line holding 0
/// (the template's sum lines are formulas whose stored result is 0 before anything is typed).
fn filled_in(lines: &[SheetRow], blocks: &[Block]) -> bool {
    lines.iter().any(|row| {
        blocks.iter().any(|b| {
            let (name, _) = line_name(&row.text(b.name));
            let is_sum = matches!(
                line_of(&name),
                Some(Line::Sum(_)) | Some(Line::Distribution(Part::Closing))
            );
            [Some(b.this_year), b.last_year]
                .into_iter()
                .flatten()
                .filter_map(|c| row.get(c))
                .any(|cell| {
                    let zero = match cell {
                        Cell::Number(v) => *v == 0.0,
                        Cell::Text(t) => Fen::parse_yuan(t) == Ok(Fen::ZERO),
                    };
                    let blank = matches!(cell, Cell::Text(t) if is_blank_text(t));
                    // A figure: not blank, and not a sum line's 0.
                    let formula_zero = is_sum && zero;
                    !(blank || formula_zero)
                })
        })
    })
}

/// One line of one block: classified, its amounts read.
fn read_line(row: &SheetRow, b: &Block, unit: Unit, read: &mut Read, errors: &mut Vec<SheetError>) {
    let r = row.row;
    let raw = row.text(b.name);
    let (name, sub) = line_name(&raw);
    if name.is_empty() {
        return;
    }
    let mut value = |i: usize| match amount(row.get(i), unit) {
        Ok(v) => v,
        Err(message) => {
            errors.push(SheetError {
                row: r,
                message: format!("“{name}”：{message}"),
            });
            None
        }
    };
    let this_year = value(b.this_year);
    let last_year = b.last_year.and_then(&mut value);
    if sub {
        return; // 其中：a part of the line above, read but not added again.
    }
    match line_of(&name) {
        Some(Line::Account(a)) => {
            read.accounts.push((a, this_year.unwrap_or_default()));
            if let Some(p) = last_year {
                read.prior.push((a, p));
            }
        }
        Some(Line::Sum(s)) => {
            if let Some(v) = this_year {
                read.sums.push((s, v, r));
            }
        }
        Some(Line::Distribution(p)) => read.parts.push((p, this_year.unwrap_or_default(), r)),
        None if this_year.is_none_or(|v| v.is_zero()) => {}
        None => errors.push(SheetError {
            row: r,
            message: format!("不认识的项目“{}”（金额不为 0，不能略过）", raw.trim()),
        }),
    }
}

/// The sum lines checked against their parts; the distribution. Added up exactly (`i128`): a sheet
/// may print an account on many lines, each within the bound of one amount.
fn check_sums(read: &Read, errors: &mut Vec<SheetError>) -> Distribution {
    let of = |a: Account| -> FenSum {
        read.accounts
            .iter()
            .filter(|(x, _)| *x == a)
            .map(|(_, v)| *v)
            .sum()
    };
    let part = |p: Part| -> FenSum {
        read.parts
            .iter()
            .filter(|(x, _, _)| *x == p)
            .map(|(_, v, _)| *v)
            .sum()
    };
    use Account::*;
    let operating = of(OperatingRevenue) + of(ContractingIncome) + of(InvestmentIncome)
        - of(OperatingCost)
        - of(TaxesAndSurcharges)
        - of(AdminExpense);
    let income: FenSum = Account::ALL
        .iter()
        .filter(|a| a.is_income())
        .map(|a| of(*a))
        .sum();
    let expense: FenSum = Account::ALL
        .iter()
        .filter(|a| !a.is_income() && **a != IncomeTax)
        .map(|a| of(*a))
        .sum();
    // Each sum line is checked against the lines just above it as written, the way an accountant
    // ticks a statement: one wrong 本年收益 is one error, not one more for every total below it.
    let written = |line: SumLine| {
        read.sums
            .iter()
            .find(|(s, _, _)| *s == line)
            .map(|(_, v, _)| v.wide())
    };
    let year_profit = income - expense;
    let net = written(SumLine::YearProfit).unwrap_or(year_profit) - of(IncomeTax);
    let before_distribution = written(SumLine::NetProfit)
        .or(written(SumLine::YearProfit))
        .unwrap_or(year_profit);
    let distributable = before_distribution + part(Part::Opening) + part(Part::TransfersIn);
    let handed_out = part(Part::Reserves)
        + part(Part::Welfare)
        + part(Part::OutsideInvestors)
        + part(Part::Members)
        + part(Part::Other);
    let shown = FenSum::shown;
    let mut check = |row: usize, name: &str, written: FenSum, computed: FenSum| {
        if written != computed {
            errors.push(SheetError {
                row,
                message: format!(
                    "“{name}”写的是 {} 元，按各项计算应为 {} 元",
                    shown(written),
                    shown(computed)
                ),
            });
        }
    };
    for (s, v, row) in &read.sums {
        let (name, computed) = match s {
            SumLine::OperatingProfit => ("经营收益", operating),
            SumLine::YearProfit => ("本年收益", year_profit),
            SumLine::NetProfit => ("净收益", net),
            SumLine::Distributable => ("可分配收益", distributable),
        };
        check(*row, name, v.wide(), computed);
    }
    for (p, v, row) in &read.parts {
        if *p == Part::Closing {
            let available = written(SumLine::Distributable).unwrap_or(distributable);
            check(*row, "年末未分配收益", v.wide(), available - handed_out);
        }
    }
    // An account or part printed on several lines is one figure: within the bound of one amount.
    let mut bounded = |name: &str, total: FenSum| -> Fen {
        let Some(amount) = total.amount() else {
            errors.push(SheetError {
                row: 1,
                message: format!(
                    "“{name}”各行合计 {} 分超出范围（一项金额不能超过 10 万亿元）",
                    total.fen_text()
                ),
            });
            return Fen::ZERO;
        };
        amount
    };
    for a in Account::ALL {
        bounded(a.name_zh(), of(a));
    }
    let mut part_fen = |p: Part, name: &str| bounded(name, part(p));
    let opening = part_fen(Part::Opening, "年初未分配收益");
    let transfers_in = part_fen(Part::TransfersIn, "其他转入");
    let reserves = part_fen(Part::Reserves, "提取公积公益金");
    let welfare = part_fen(Part::Welfare, "提取应付福利费");
    let outside = part_fen(Part::OutsideInvestors, "外来投资分利");
    let members = part_fen(Part::Members, "成员分配");
    let other = part_fen(Part::Other, "其他");
    let closing = part_fen(Part::Closing, "年末未分配收益");
    Distribution {
        opening_undistributed: opening,
        transfers_in,
        reserves,
        welfare,
        outside_investors: outside,
        members,
        other,
        closing_undistributed: closing,
    }
}
