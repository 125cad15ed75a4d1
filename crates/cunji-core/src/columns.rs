//! The import files and their columns (SPEC §2, §3, §7, §8, §12), each defined once: the key, the
//! Chinese header, whether it is required, the note a template shows under it, whether a spreadsheet
//! must keep it as text, and the drop-down list a template offers. The importers check files against
//! these, the templates are drawn from them, and error messages name columns by them.

/// The notes row of a template starts with this, and is skipped on import.
pub const NOTES_MARK: &str = "【说明】";

/// The values a template column offers in a drop-down list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choices {
    None,
    Accounts,
    Roles,
    SourceLevels,
    YesNo,
}

/// One column of an import file.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub key: &'static str,
    pub zh: &'static str,
    pub required: bool,
    /// Shown under the header in a template; empty for a column templates leave out.
    pub note: &'static str,
    /// Codes, vouchers and dates stay text in a spreadsheet, so Excel does not turn them into numbers.
    pub text: bool,
    pub choices: Choices,
}

impl Column {
    /// A column with no template note (one a caller defines for its own reading).
    pub const fn plain(key: &'static str, zh: &'static str, required: bool) -> Column {
        Column {
            key,
            zh,
            required,
            note: "",
            text: false,
            choices: Choices::None,
        }
    }
    const fn with(self, note: &'static str) -> Column {
        Column { note, ..self }
    }
    const fn as_text(self) -> Column {
        Column { text: true, ..self }
    }
    const fn choosing(self, choices: Choices) -> Column {
        Column { choices, ..self }
    }
}

const fn req(key: &'static str, zh: &'static str) -> Column {
    Column::plain(key, zh, true)
}
const fn opt(key: &'static str, zh: &'static str) -> Column {
    Column::plain(key, zh, false)
}

/// The kinds of import file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportKind {
    Regions,
    Entries,
    Statements,
    Cadres,
    Grants,
    Stats,
    Assets,
    Contracts,
    Installments,
}

pub const REGIONS: [Column; 4] = [
    req("code", "代码")
        .as_text()
        .with("必填；12 位统计用区划代码"),
    req("name", "名称").with("必填"),
    opt("predecessors", "合并前村")
        .as_text()
        .with("可空；并入本村的村代码，多个用 ; 分隔"),
    opt("merged_in", "合并年份").with("填合并前村时必填"),
];

/// The `chart` column is read but left out of the template (an older chart is named only when needed).
pub const ENTRIES: [Column; 10] = [
    req("village", "村代码")
        .as_text()
        .with("必填；12 位村级代码"),
    req("date", "日期").with("必填；如 2024-03-31"),
    req("account", "科目")
        .with("必填；从下拉列表选")
        .choosing(Choices::Accounts),
    req("amount", "金额").with("必填；元，最多两位小数；负数为红字冲销"),
    opt("voucher", "凭证号")
        .as_text()
        .with("可空；同村同年不重复"),
    opt("memo", "摘要").with("可空"),
    opt("project", "项目").as_text().with("可空；扶持项目编号"),
    opt("reverses", "冲销")
        .as_text()
        .with("可空；被冲销凭证，写作 年度:凭证号"),
    opt("chart", "科目体系"),
    opt("contract", "合同编号")
        .as_text()
        .with("可空；收取合同款项时填本村的合同编号"),
];

/// The fixed columns of an annual statement; one column per account follows (its note: [`ACCOUNT_NOTE`]).
pub const STATEMENTS: [Column; 2] = [
    req("village", "村代码").as_text().with("必填"),
    req("year", "年度").with("必填；如 2019"),
];

/// The note under each account column of a statement template.
pub const ACCOUNT_NOTE: &str = "元；可空";

pub const CADRES: [Column; 9] = [
    req("village", "村代码").as_text().with("必填"),
    req("year", "年度").with("必填"),
    req("person", "人员编号")
        .as_text()
        .with("必填；同一人各年相同"),
    req("name", "姓名").with("必填"),
    req("role", "职务")
        .with("必填；从下拉列表选")
        .choosing(Choices::Roles),
    opt("months_in_post", "任职月数").with("0–12，空为 12"),
    opt("sanctioned", "受处分")
        .with("是/否，空为否")
        .choosing(Choices::YesNo),
    opt("base_pay", "基本报酬").with("元/年；可空"),
    opt("appraisal", "考核等次").with("如 优秀、合格、基本合格、不合格"),
];

pub const GRANTS: [Column; 8] = [
    req("grant", "资金编号").as_text().with("必填；唯一"),
    req("village", "村代码").as_text().with("必填"),
    req("year", "年度").with("必填"),
    req("level", "资金来源")
        .with("必填；从下拉列表选")
        .choosing(Choices::SourceLevels),
    req("program", "项目名称").with("必填"),
    req("amount", "金额").with("必填；元"),
    req("project", "项目")
        .as_text()
        .with("必填；项目编号，记收益时填在账目的“项目”列"),
    opt("expected_rate", "预期收益率").with("可空；如 3% 或 0.066"),
];

pub const STATS: [Column; 3] = [
    req("region", "区划代码").as_text().with("必填；县级代码"),
    req("year", "年度").with("必填"),
    req("rural_income", "农村居民人均可支配收入").with("必填；元"),
];

/// The asset register (SPEC §16).
pub const ASSETS: [Column; 10] = [
    req("asset", "资产编号").as_text().with("必填；本村内唯一"),
    req("village", "村代码").as_text().with("必填"),
    req("kind", "类别").with("必填；土地、房屋建筑物、设施设备、林地、水面、其他"),
    req("name", "名称").with("必填"),
    req("quantity", "数量").with("必填；大于 0，至多两位小数"),
    req("unit", "单位").with("必填；如 亩、平方米、台"),
    opt("original_value", "原值").with("元；土地、林地、水面可空"),
    req("acquired", "取得日期").with("必填；如 2020-05-01"),
    opt("grant", "资金编号")
        .as_text()
        .with("可空；用扶持资金购建的，填其资金编号"),
    req("status", "状态").with("必填；自用、出租发包、闲置、已处置"),
];

/// Contracts (SPEC §16): a yearly rent, or installments imported after the contract.
pub const CONTRACTS: [Column; 15] = [
    req("contract", "合同编号")
        .as_text()
        .with("必填；本村内唯一"),
    req("village", "村代码").as_text().with("必填"),
    req("counterparty", "对方名称").with("必填；承包方或承租方"),
    opt("counterparty_id", "对方证件号")
        .as_text()
        .with("可空；页面和导出只显示后四位"),
    opt("asset", "资产编号")
        .as_text()
        .with("可空；须是本村已登记的资产"),
    req("kind", "类别").with("必填；发包、租赁、合作经营、其他"),
    req("signed", "签订日期").with("必填"),
    req("start", "起始日期").with("必填"),
    req("end", "终止日期").with("必填；含当天"),
    opt("resolution", "决议日期").with("可空；四议两公开的决议日期"),
    opt("annual_rent", "年租金").with("元；不填则按分期应收（另导入）"),
    opt("due_day", "收款日").with("可空；MM-DD，默认为起始日期的月日；不能是 02-29"),
    opt("step_years", "递增年限").with("可空；每几年递增一次，须与递增比例同填"),
    opt("step_rate", "递增比例").with("可空；如 5%"),
    opt("account", "入账科目").with("可空；收入类科目，默认经营收入"),
];

/// Installments of contracts without a yearly rent (SPEC §16).
pub const INSTALLMENTS: [Column; 4] = [
    req("contract", "合同编号")
        .as_text()
        .with("必填；须是已导入的合同"),
    req("village", "村代码").as_text().with("必填"),
    req("date", "日期").with("必填；到期日"),
    req("amount", "金额").with("必填；元，大于 0"),
];

impl ImportKind {
    pub const ALL: [ImportKind; 9] = [
        ImportKind::Regions,
        ImportKind::Entries,
        ImportKind::Statements,
        ImportKind::Cadres,
        ImportKind::Grants,
        ImportKind::Stats,
        ImportKind::Assets,
        ImportKind::Contracts,
        ImportKind::Installments,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ImportKind::Regions => "regions",
            ImportKind::Entries => "entries",
            ImportKind::Statements => "statements",
            ImportKind::Cadres => "cadres",
            ImportKind::Grants => "grants",
            ImportKind::Stats => "stats",
            ImportKind::Assets => "assets",
            ImportKind::Contracts => "contracts",
            ImportKind::Installments => "installments",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            ImportKind::Regions => "区划",
            ImportKind::Entries => "账目",
            ImportKind::Statements => "年度报表",
            ImportKind::Cadres => "村干部",
            ImportKind::Grants => "扶持资金",
            ImportKind::Stats => "县级统计",
            ImportKind::Assets => "资产台账",
            ImportKind::Contracts => "合同",
            ImportKind::Installments => "合同分期应收",
        }
    }

    pub fn parse(s: &str) -> Option<ImportKind> {
        ImportKind::ALL.into_iter().find(|k| k.key() == s)
    }

    /// The fixed columns of this kind of file.
    pub fn columns(self) -> &'static [Column] {
        match self {
            ImportKind::Regions => &REGIONS,
            ImportKind::Entries => &ENTRIES,
            ImportKind::Statements => &STATEMENTS,
            ImportKind::Cadres => &CADRES,
            ImportKind::Grants => &GRANTS,
            ImportKind::Stats => &STATS,
            ImportKind::Assets => &ASSETS,
            ImportKind::Contracts => &CONTRACTS,
            ImportKind::Installments => &INSTALLMENTS,
        }
    }

    /// The Chinese header of column `key`, or the key itself for a column this kind does not have.
    pub fn header_zh(self, key: &str) -> &str {
        self.columns()
            .iter()
            .find(|c| c.key == key)
            .map(|c| c.zh)
            .unwrap_or(key)
    }
}

/// A spreadsheet's column letters for a zero-based index: A, B, …, Z, AA, AB, ….
pub fn column_letters(mut index: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Lower-case hexadecimal of bytes (hashes, tokens).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// The most characters a free-text field keeps: a memo (摘要), a name, a reason, a file name. A
/// village's 摘要 is a few words (the demo's longest is 14 characters); 500 leave room for a careful
/// explanation while bounding what one row can make a page carry: a village page lists at most 1,000
/// entries, so its memos are at most 1.5 MB of text however the books were filled (a 200 KB memo on
/// many entries once made one page 249 MB).
pub const MAX_TEXT_CHARS: usize = 500;

/// `Err` naming the bound when `text` is longer than [`MAX_TEXT_CHARS`].
pub fn check_length(text: &str) -> Result<(), String> {
    let n = text.chars().count();
    if n > MAX_TEXT_CHARS {
        return Err(format!("文字过长：{n} 个字，最多 {MAX_TEXT_CHARS} 个字"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_as_a_spreadsheet_names_columns() {
        let got: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702, 16_383]
            .into_iter()
            .map(column_letters)
            .collect();
        assert_eq!(
            got,
            ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD"]
        );
    }

    #[test]
    fn hex_of_bytes() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn kinds_round_trip_and_keys_are_unique_within_a_kind() {
        for k in ImportKind::ALL {
            assert_eq!(ImportKind::parse(k.key()), Some(k));
            let cols = k.columns();
            for (i, c) in cols.iter().enumerate() {
                assert!(cols[i + 1..].iter().all(|d| d.key != c.key && d.zh != c.zh));
            }
        }
        assert_eq!(ImportKind::parse("nonsense"), None);
        assert_eq!(ImportKind::Grants.header_zh("project"), "项目");
    }
}

/// Characters a spreadsheet may read as the start of a formula: OWASP's list (`=`, `+`, `-`, `@`, tab,
/// carriage return) and their fullwidth forms (＝＋－＠), which a Chinese input method types and
/// which Excel and WPS take as the ASCII ones.
const FORMULA_STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

/// Whether a cell of an export would be read as a formula: its first character after any leading
/// spaces and byte-order marks (U+FEFF, invisible, so `\u{feff}=HYPERLINK(…)` looks like text in an
/// editor) is one of [`FORMULA_STARTS`], unless the cell is a plain number such as `-3.00`.
pub fn formula_like(cell: &str) -> bool {
    let t = cell.trim_start_matches([' ', '\u{feff}']);
    let starts = t
        .chars()
        .next()
        .is_some_and(|c| FORMULA_STARTS.contains(&c));
    starts && !is_plain_number(cell)
}

/// `-12`, `-3.00`: a minus sign, digits, at most one decimal point between digits.
fn is_plain_number(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// A cell for a CSV export: with a leading `'` when it would be read as a formula (OWASP's advice for
/// CSV injection), as it is otherwise.
pub fn export_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    if formula_like(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod formula_tests {
    use super::{export_cell, formula_like};

    #[test]
    fn formulas_are_caught_in_every_disguise() {
        for cell in [
            "=1+1",
            "+1",
            "-1+cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "＝HYPERLINK(\"http://x\")",
            "＋1",
            "－1＋1",
            "＠SUM(A1)",
            "\u{feff}=1+1",
            "\u{feff}＝1",
            " \u{feff} =1",
        ] {
            assert!(formula_like(cell), "{cell:?}");
            assert!(export_cell(cell).starts_with('\''), "{cell:?}");
        }
        for cell in ["-3.00", "-12", "3.5", "东关村", "记-001", "", "a=b"] {
            assert!(!formula_like(cell), "{cell:?}");
            assert_eq!(export_cell(cell), cell);
        }
    }
}
