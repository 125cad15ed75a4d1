//! Sheets of 收益及收益分配表 workbooks in both official layouts (SPEC §14), read cell by cell: their
//! village, year and unit, their accounts, their sum lines checked like balance assertions, and their
//! distribution.

use cunji_core::account::Account::*;
use cunji_core::money::Fen;
use cunji_core::statement_book::{
    line_name, read_rows, read_sheet, village_key, Cell, Distribution, SheetError, SheetRead,
    SheetRow, VillageRef,
};

fn grid(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

fn y(text: &str) -> Fen {
    Fen::parse_yuan(text).unwrap()
}

/// The 2023 layout (财会〔2023〕14号): no 发包及上交收入, 净收益 after 所得税费用.
fn layout_2023(closing: &str) -> Vec<Vec<String>> {
    grid(&[
        &["收益及收益分配表", "", "", ""],
        &["编制单位：东关村股份经济合作社", "2024年度", "", "单位：元"],
        &["项目", "行次", "本年金额", "上年金额"],
        &["一、经营收入", "1", "150,000.00", "120,000.00"],
        &["加：投资收益", "2", "20,000.00", "10,000.00"],
        &["补助收入", "3", "50,000.00", "50,000.00"],
        &["其他收入", "4", "1,000.00", ""],
        &["减：经营支出", "5", "60,000.00", "55,000.00"],
        &["税金及附加", "6", "500.00", "400.00"],
        &["管理费用", "7", "30,000.00", "28,000.00"],
        &["其中：运转支出", "8", "12,000.00", ""],
        &["公益支出", "9", "10,000.00", "9,000.00"],
        &["其他支出", "10", "", ""],
        &["二、本年收益", "11", "120,500.00", ""],
        &["减：所得税费用", "12", "500.00", ""],
        &["三、净收益", "13", "120,000.00", ""],
        &["加：年初未分配收益", "14", "30,000.00", ""],
        &["其他转入", "15", "", ""],
        &["四、可分配收益", "16", "150,000.00", ""],
        &["减：提取公积公益金", "17", "40,000.00", ""],
        &["外来投资分利", "18", "", ""],
        &["成员分配（分红）", "19", "60,000.00", ""],
        &["其他", "20", "", ""],
        &["五、年末未分配收益", "21", closing, ""],
    ])
}

#[test]
fn the_2023_layout_reads_accounts_distribution_and_checks_its_sums() {
    let s = read_sheet(&layout_2023("50,000.00")).unwrap();
    assert_eq!(s.village, VillageRef::Name("东关村股份经济合作社".into()));
    assert_eq!(s.year, 2024);
    assert_eq!(
        s.accounts,
        [
            (OperatingRevenue, y("150000")),
            (InvestmentIncome, y("20000")),
            (SubsidyIncome, y("50000")),
            (OtherIncome, y("1000")),
            (OperatingCost, y("60000")),
            (TaxesAndSurcharges, y("500")),
            (AdminExpense, y("30000")),
            (PublicWelfareExpense, y("10000")),
            (OtherExpense, Fen::ZERO),
            (IncomeTax, y("500")),
        ]
    );
    assert_eq!(s.prior[0], (OperatingRevenue, y("120000")));
    assert_eq!(
        s.distribution,
        Distribution {
            opening_undistributed: y("30000"),
            reserves: y("40000"),
            members: y("60000"),
            closing_undistributed: y("50000"),
            ..Distribution::default()
        }
    );
}

#[test]
fn a_sum_line_that_disagrees_names_the_line_the_figure_written_and_the_figure_computed() {
    let e = read_sheet(&layout_2023("50,000.01")).unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].row, 24);
    assert_eq!(
        e[0].message,
        "“年末未分配收益”写的是 50,000.01 元，按各项计算应为 50,000.00 元"
    );
    // A wrong 本年收益 is one error: the totals below are checked against it as written.
    let mut g = layout_2023("50,000.01");
    g[13][2] = "120,500.01".into();
    g[15][2] = "120,000.01".into();
    g[18][2] = "150,000.01".into();
    let e = read_sheet(&g).unwrap_err();
    assert_eq!(
        e,
        [SheetError {
            row: 14,
            message: "“本年收益”写的是 120,500.01 元，按各项计算应为 120,500.00 元".into()
        }]
    );
}

/// The 2004 layout (财会〔2004〕12号) in 万元, with 发包及上交收入 and 经营收益, in two halves side by
/// side, the village by code.
#[test]
fn the_2004_layout_in_wan_yuan_side_by_side_with_a_code() {
    let g = grid(&[
        &["收益及收益分配表", "", "", "", ""],
        &["单位名称：131124100200", "2023年", "", "单位：万元", ""],
        &["项目", "本年数", "", "项目", "本年数"],
        &["1.经营收入", "15.5", "", "本年收益", "6.1234"],
        &["2.发包及上交收入", "2", "", "年初未分配收益", "1"],
        &["3.投资收益", "0.5", "", "可分配收益", "7.1234"],
        &["减：经营支出", "8", "", "提取公积公益金", "2"],
        &["管理费用", "3.8766", "", "提取应付福利费", "0.1234"],
        &["经营收益", "6.1234", "", "年末未分配收益", "5"],
    ]);
    let s = read_sheet(&g).unwrap();
    assert_eq!(s.village, VillageRef::Code("131124100200".into()));
    assert_eq!(s.year, 2023);
    assert!(s.accounts.contains(&(ContractingIncome, y("20000"))));
    assert!(s.accounts.contains(&(AdminExpense, y("38766"))));
    assert_eq!(s.distribution.welfare, y("1234"));
    assert_eq!(s.distribution.closing_undistributed, y("50000"));
    // 万元 are exact to the fen, or refused.
    let mut bad = g.clone();
    bad[3][1] = "15.5000001".into();
    let e = read_sheet(&bad).unwrap_err();
    assert!(e[0].message.contains("万元不能精确到分"), "{:?}", e);
}

/// A sheet as the store hands it over: only the filled cells, numbers as numbers.
fn sparse(grid: &[Vec<String>], numbers_from_col: usize) -> Vec<SheetRow> {
    grid.iter()
        .enumerate()
        .map(|(r, cells)| SheetRow {
            row: r + 1,
            cells: cells
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.is_empty())
                .map(|(i, c)| match c.replace(',', "").parse::<f64>() {
                    Ok(v) if i >= numbers_from_col => (i, Cell::Number(v)),
                    _ => (i, Cell::Text(c.clone())),
                })
                .collect(),
        })
        .collect()
}

/// Number cells in 万元 are multiplied by 10,000 before the whole-fen test: 20.010001 万元 is
/// 200,100.01 元 and 0.000001 万元 one fen, never rounded in yuan first.
#[test]
fn wan_yuan_number_cells_are_exact_to_the_fen() {
    let g = grid(&[
        &["编制单位：131124100200", "2024年", "单位：万元"],
        &["项目", "本年金额"],
        &["经营收入", "20.010001"],
        &["其他收入", "0.000001"],
        &["本年收益", "20.010002"],
    ]);
    let Ok(SheetRead::Statement(s)) = read_rows(&sparse(&g, 1)) else {
        panic!("{:?}", read_rows(&sparse(&g, 1)));
    };
    assert_eq!(
        s.accounts,
        vec![
            (OperatingRevenue, Fen::from_fen(20_010_001)),
            (OtherIncome, Fen::from_fen(1))
        ]
    );
    // In 元 the same cell is not a whole fen: refused, not rounded.
    let mut yuan = g.clone();
    yuan[0][2] = "单位：元".into();
    yuan[2][1] = "20.0105".into();
    let e = read_rows(&sparse(&yuan, 1)).unwrap_err();
    assert_eq!(
        e[0].message,
        "“经营收入”：数值 20.0105 不是整分（不会擅自四舍五入）"
    );
}

/// Text amounts follow SPEC §1's rule exactly: `1,234.00元` is an amount, `1,2,3` is an error (it
/// once read as 123, every comma dropped).
#[test]
fn text_amounts_follow_the_one_rule_for_written_amounts() {
    let sheet = |revenue: &str, sum: &str| {
        grid(&[
            &["编制单位：131124100200", "2024年", "单位：元"],
            &["项目", "本年金额"],
            &["经营收入", revenue],
            &["本年收益", sum],
        ])
    };
    let s = read_sheet(&sheet("1,234.00元", "1234")).unwrap();
    assert_eq!(s.accounts, vec![(OperatingRevenue, y("1234"))]);
    let e = read_sheet(&sheet("1,2,3", "123")).unwrap_err();
    assert_eq!(
        e[..1],
        [SheetError {
            row: 3,
            message: "“经营收入”：金额格式不对：`1,2,3`（应写作元，如 12345、12,345.6、-80.00）"
                .into()
        }]
    );
    assert!(read_sheet(&sheet("12.345", "0")).is_err());
    assert_eq!(
        read_rows(&sparse(&sheet("—", "0"), 1)),
        Ok(SheetRead::NotFilledIn),
        "a dash is no amount"
    );
}

/// The template as handed out — its amount cells empty, its sum lines formulas showing 0 — is not
/// filled in; one typed figure, even 0, makes it a statement.
#[test]
fn a_sheet_without_figures_is_not_filled_in() {
    let template = grid(&[
        &[
            "编制单位：东关村民委员会（131124100200）",
            "",
            "2024年度",
            "单位：元",
        ],
        &["项目", "行次", "本年金额", "上年金额"],
        &["一、经营收入", "1", "", ""],
        &["二、本年收益", "2", "0", "0"],
        &["三、净收益", "3", "0", "0"],
        &["五、年末未分配收益", "4", "0", "0"],
    ]);
    assert_eq!(read_rows(&sparse(&template, 1)), Ok(SheetRead::NotFilledIn));
    let mut typed = template.clone();
    typed[2][2] = "0".into();
    assert!(matches!(
        read_rows(&sparse(&typed, 1)),
        Ok(SheetRead::Statement(_))
    ));
    let mut prior_only = template.clone();
    prior_only[2][3] = "5".into();
    assert!(
        matches!(read_rows(&sparse(&prior_only, 1)), Ok(SheetRead::Statement(s)) if s.prior == vec![(OperatingRevenue, y("5"))]),
        "a figure of the year before is a figure"
    );
}

/// cunji's template writes the name and, in brackets, the code, which decides; a name alone stays a name.
#[test]
fn a_code_in_brackets_after_the_name_decides() {
    let sheet = |unit: &str| {
        grid(&[
            &[unit, "2024年度", "单位：元"],
            &["项目", "本年金额", ""],
            &["经营收入", "100", ""],
        ])
    };
    let of = |unit: &str| read_sheet(&sheet(unit)).unwrap().village;
    assert_eq!(
        of("编制单位：东关村民委员会（131124101200）"),
        VillageRef::Code("131124101200".into())
    );
    assert_eq!(
        of("编制单位：东关村民委员会(131124101200)"),
        VillageRef::Code("131124101200".into())
    );
    assert_eq!(
        of("编制单位：东关村（第一组）"),
        VillageRef::Name("东关村（第一组）".into())
    );
}

#[test]
fn an_unknown_line_with_money_is_an_error_and_one_without_is_not() {
    let mut g = layout_2023("50,000.00");
    g[12][0] = "其它支出".into(); // a typo of 其他支出, empty: passed over
    assert!(read_sheet(&g).is_ok());
    g[12][2] = "5.00".into();
    let e = read_sheet(&g).unwrap_err();
    assert!(e
        .iter()
        .any(|e| e.row == 13 && e.message == "不认识的项目“其它支出”（金额不为 0，不能略过）"));
}

#[test]
fn names_lose_their_numbering_and_kind() {
    assert_eq!(line_name("一、经营收入"), ("经营收入".into(), false));
    assert_eq!(line_name("（3）投资收益"), ("投资收益".into(), false));
    assert_eq!(line_name("  减： 经营支出"), ("经营支出".into(), false));
    assert_eq!(line_name("其中：运转支出"), ("运转支出".into(), true));
    assert_eq!(line_name("12.其他"), ("其他".into(), false));
    assert_eq!(village_key("东关村民委员会"), "东关");
    assert_eq!(village_key("东关村股份经济合作社"), "东关");
    assert_eq!(village_key("大尹村村民委员会"), "大尹");
    assert_eq!(village_key("城关居民委员会"), "城关");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// A 2023-layout sheet of these amounts (fen) with its sum lines computed, in 元 or in 万元.
    fn sheet(
        income: [i64; 4],
        expense: [i64; 5],
        parts: [i64; 3],
        wan: bool,
        off: i64,
    ) -> Vec<Vec<String>> {
        let show = |f: i64| {
            if wan {
                // 1 fen = 0.000001 万元.
                let sign = if f < 0 { "-" } else { "" };
                format!("{sign}{}.{:06}", f.abs() / 1_000_000, f.abs() % 1_000_000)
            } else {
                Fen::from_fen(f).to_string()
            }
        };
        let year: i64 = income.iter().sum::<i64>() - expense[..4].iter().sum::<i64>();
        let net = year - expense[4];
        let distributable = net + parts[0];
        let closing = distributable - parts[1] - parts[2] + off;
        let names = ["经营收入", "投资收益", "补助收入", "其他收入"];
        let costs = [
            "经营支出",
            "税金及附加",
            "管理费用",
            "公益支出",
            "所得税费用",
        ];
        let mut rows = vec![
            vec![
                "编制单位：某村股份经济合作社".to_string(),
                "2024年".into(),
                if wan {
                    "单位：万元"
                } else {
                    "单位：元"
                }
                .into(),
            ],
            vec!["项目".into(), "行次".into(), "本年金额".into()],
        ];
        for (n, v) in names.iter().zip(income) {
            rows.push(vec![n.to_string(), String::new(), show(v)]);
        }
        for (n, v) in costs.iter().zip(expense).take(4) {
            rows.push(vec![n.to_string(), String::new(), show(v)]);
        }
        rows.push(vec!["本年收益".into(), String::new(), show(year)]);
        rows.push(vec![costs[4].into(), String::new(), show(expense[4])]);
        for (n, v) in [
            ("净收益", net),
            ("年初未分配收益", parts[0]),
            ("可分配收益", distributable),
            ("提取公积公益金", parts[1]),
            ("成员分配", parts[2]),
            ("年末未分配收益", closing),
        ] {
            rows.push(vec![n.to_string(), String::new(), show(v)]);
        }
        rows
    }

    proptest! {
        #[test]
        fn a_consistent_sheet_reads_back_exactly_and_one_fen_off_is_refused(
            income in proptest::array::uniform4(0i64..10_000_000_000),
            expense in proptest::array::uniform5(0i64..5_000_000_000),
            parts in proptest::array::uniform3(0i64..1_000_000_000),
            wan in any::<bool>(),
            off in prop_oneof![Just(1i64), Just(-1i64)],
        ) {
            let s = read_sheet(&sheet(income, expense, parts, wan, 0)).unwrap();
            let total: i64 = s.accounts.iter().map(|(_, v)| v.fen()).sum();
            prop_assert_eq!(total, income.iter().sum::<i64>() + expense.iter().sum::<i64>());
            prop_assert_eq!(s.distribution.members.fen(), parts[2]);
            let e = read_sheet(&sheet(income, expense, parts, wan, off)).unwrap_err();
            prop_assert_eq!(e.len(), 1);
            prop_assert!(e[0].message.starts_with("“年末未分配收益”写的是"), "{:?}", e);
        }
    }
}
