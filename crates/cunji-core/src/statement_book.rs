//! One sheet of a 收益及收益分配表 workbook in the official layout (SPEC §14), read from its cells: the
//! village and year it is for, its unit, its account lines (which become the year's entries), its sum
//! lines (checked like balance assertions) and its distribution. No I/O: the store reads the workbook
//! and hands each sheet's cells here as text.

use crate::account::Account;
use crate::money::Fen;

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

/// An amount cell in the sheet's unit: empty, `-` or `—` is none; yuan with up to two decimals, or
/// 万元 with up to six (whole fen).
fn amount(text: &str, wan: bool) -> Result<Option<Fen>, String> {
    let t: String = text
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '，')
        .collect();
    if t.is_empty() || matches!(t.as_str(), "-" | "—" | "－" | "——") {
        return Ok(None);
    }
    // In 万元 the sixth decimal is a fen (0.000001 万元 = 0.01 元); in 元 the second.
    let scale = if wan { 6 } else { 2 };
    match crate::decimal::parse_scaled(&t, scale, false) {
        Ok(v) if v.unsigned_abs() <= crate::money::MAX_FEN as u128 => {
            Ok(Some(Fen::from_fen(v as i64)))
        }
        Err(crate::decimal::DecimalError::TooPrecise) if wan => {
            Err(format!("金额 `{text}` 万元不能精确到分（最多 6 位小数）"))
        }
        Err(crate::decimal::DecimalError::TooPrecise) => Err(format!("金额 `{text}` 超过两位小数")),
        _ => Err(format!("金额格式不对：`{text}`")),
    }
}

/// The columns of one block of lines: 项目, the optional 行次, 本年 and the optional 上年.
#[derive(Clone, Copy, Debug)]
struct Block {
    name: usize,
    this_year: usize,
    last_year: Option<usize>,
}

/// The header row (the first holding `项目`) and its blocks: a sheet may print the statement in two
/// halves side by side, each with its own `项目`.
fn header(grid: &[Vec<String>]) -> Option<(usize, Vec<Block>)> {
    let clean = |c: &str| c.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    for (r, row) in grid.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|c| clean(c)).collect();
        let starts: Vec<usize> = (0..cells.len()).filter(|i| cells[*i] == "项目").collect();
        if starts.is_empty() {
            continue;
        }
        let mut blocks = Vec::new();
        for (k, start) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(cells.len());
            let find = |names: &[&str]| (*start..end).find(|i| names.contains(&cells[*i].as_str()));
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
fn heading(grid: &[Vec<String>], header_row: usize) -> (Option<VillageRef>, Option<i32>, bool) {
    let (mut village, mut year, mut wan) = (None, None, false);
    for row in &grid[..header_row] {
        for cell in row {
            let c: String = cell.chars().filter(|c| !c.is_whitespace()).collect();
            let c = c.replace(':', "：");
            for label in ["编制单位：", "单位名称："] {
                if let Some(rest) = c.strip_prefix(label) {
                    let rest = rest.split("单位：").next().unwrap_or(rest);
                    village = Some(village_ref(rest));
                }
            }
            if c.contains("单位：万元") {
                wan = true;
            }
            if year.is_none() {
                year = year_in(&c);
            }
        }
    }
    (village, year, wan)
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

/// Reads one sheet (its cells as text, row by row).
pub fn read_sheet(grid: &[Vec<String>]) -> Result<SheetStatement, Vec<SheetError>> {
    let Some((header_row, blocks)) = header(grid) else {
        return Err(vec![SheetError {
            row: 1,
            message: "找不到表头：须有“项目”列和“本年金额”（或“本年数”“本年累计数”）列".into(),
        }]);
    };
    let (village, year, wan) = heading(grid, header_row);
    let mut errors = Vec::new();
    let mut read = Read::default();
    for (r, row) in grid.iter().enumerate().skip(header_row + 1) {
        for b in &blocks {
            read_line(row, r + 1, b, wan, &mut read, &mut errors);
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
        (Ok(village), Ok(year)) if errors.is_empty() => Ok(SheetStatement {
            village,
            year,
            accounts: read.accounts,
            prior: read.prior,
            distribution,
        }),
        (v, y) => {
            errors.extend(v.err());
            errors.extend(y.err());
            errors.sort_by_key(|e| e.row);
            Err(errors)
        }
    }
}

/// One line of one block: classified, its amounts read.
fn read_line(
    row: &[String],
    r: usize,
    b: &Block,
    wan: bool,
    read: &mut Read,
    errors: &mut Vec<SheetError>,
) {
    let cell = |i: usize| row.get(i).map(|s| s.as_str()).unwrap_or("");
    let (name, sub) = line_name(cell(b.name));
    if name.is_empty() {
        return;
    }
    let mut value = |i: usize| match amount(cell(i), wan) {
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
        None if this_year.is_none_or(|v| v.fen() == 0) => {}
        None => errors.push(SheetError {
            row: r,
            message: format!(
                "不认识的项目“{}”（金额不为 0，不能略过）",
                cell(b.name).trim()
            ),
        }),
    }
}

/// The sum lines checked against their parts; the distribution.
fn check_sums(read: &Read, errors: &mut Vec<SheetError>) -> Distribution {
    let of = |a: Account| -> i64 {
        read.accounts
            .iter()
            .filter(|(x, _)| *x == a)
            .map(|(_, v)| v.fen())
            .sum()
    };
    let part = |p: Part| -> i64 {
        read.parts
            .iter()
            .filter(|(x, _, _)| *x == p)
            .map(|(_, v, _)| v.fen())
            .sum()
    };
    use Account::*;
    let operating = of(OperatingRevenue) + of(ContractingIncome) + of(InvestmentIncome)
        - of(OperatingCost)
        - of(TaxesAndSurcharges)
        - of(AdminExpense);
    let income: i64 = Account::ALL
        .iter()
        .filter(|a| a.is_income())
        .map(|a| of(*a))
        .sum();
    let expense: i64 = Account::ALL
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
            .map(|(_, v, _)| v.fen())
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
    let mut check = |row: usize, name: &str, written: i64, computed: i64| {
        if written != computed {
            errors.push(SheetError {
                row,
                message: format!(
                    "“{name}”写的是 {} 元，按各项计算应为 {} 元",
                    Fen::from_fen(written),
                    Fen::from_fen(computed)
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
        check(*row, name, v.fen(), computed);
    }
    for (p, v, row) in &read.parts {
        if *p == Part::Closing {
            let available = written(SumLine::Distributable).unwrap_or(distributable);
            check(*row, "年末未分配收益", v.fen(), available - handed_out);
        }
    }
    Distribution {
        opening_undistributed: Fen::from_fen(part(Part::Opening)),
        transfers_in: Fen::from_fen(part(Part::TransfersIn)),
        reserves: Fen::from_fen(part(Part::Reserves)),
        welfare: Fen::from_fen(part(Part::Welfare)),
        outside_investors: Fen::from_fen(part(Part::OutsideInvestors)),
        members: Fen::from_fen(part(Part::Members)),
        other: Fen::from_fen(part(Part::Other)),
        closing_undistributed: Fen::from_fen(part(Part::Closing)),
    }
}
