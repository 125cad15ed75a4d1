//! Bad input never panics: arbitrary bytes, and mutations of good files, through the CSV and .xlsx
//! readers of every import kind, and arbitrary text through the policy parser. Each failure is a clear
//! error naming a file, line and column. (cargo test runs these with PROPTEST_CASES or the counts below.)

use cunji_core::policy::Policy;
use cunji_store::table::{col, read_table, Column};
use proptest::prelude::*;

const COLUMNS: [Column; 4] = [
    col("village", "村代码", true),
    col("date", "日期", true),
    col("amount", "金额", true),
    col("memo", "摘要", false),
];

fn check(name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
    match read_table(name, bytes, &COLUMNS, None) {
        Ok(sheet) => {
            for row in &sheet.rows {
                prop_assert!(row.line >= 1);
            }
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty());
            for e in errors {
                let text = e.to_string();
                prop_assert!(text.starts_with(name), "{text}");
                prop_assert!(!e.message.is_empty());
            }
        }
    }
    Ok(())
}

fn good_csv() -> Vec<u8> {
    "村代码,日期,金额,摘要\n110101001001,2024-01-05,\"1,000.50\",租金\n110101001002,2024-02-05,-3,\n".as_bytes().to_vec()
}

fn good_xlsx() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (i, h) in ["village", "date", "amount"].iter().enumerate() {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    ws.write_number(1, 0, 110_101_001_001.0).unwrap();
    ws.write_string(1, 1, "2024-01-05").unwrap();
    ws.write_number(1, 2, 1000.5).unwrap();
    book.save_to_buffer().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn arbitrary_bytes_as_csv(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check("x.csv", &bytes)?;
    }

    #[test]
    fn mutated_csv(pos in 0usize..200, byte in any::<u8>(), cut in 0usize..200) {
        let mut b = good_csv();
        let p = pos % b.len();
        b[p] = byte;
        b.truncate(b.len().min(cut.max(1) + 10));
        check("m.csv", &b)?;
    }

    #[test]
    fn arbitrary_bytes_as_xlsx(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check("x.xlsx", &bytes)?;
    }

    #[test]
    fn mutated_xlsx(pos in any::<usize>(), byte in any::<u8>(), flips in 1usize..4) {
        let mut b = good_xlsx();
        for k in 0..flips {
            let p = (pos.wrapping_add(k * 7919)) % b.len();
            b[p] ^= byte | 1;
        }
        check("m.xlsx", &b)?;
    }

    #[test]
    fn arbitrary_policies(text in "\\PC{0,300}") {
        if let Err(e) = Policy::parse(&text) {
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn mutated_policies(pos in any::<usize>(), ch in any::<char>()) {
        let base = include_str!("../../../policies/helan.toml");
        let mut chars: Vec<char> = base.chars().collect();
        let p = pos % chars.len();
        chars[p] = ch;
        let text: String = chars.into_iter().collect();
        if let Err(e) = Policy::parse(&text) {
            prop_assert!(!e.message.is_empty());
        }
    }
}

#[test]
fn a_workbook_whose_sheet_dimension_overflows_is_a_clear_error() {
    // Found by mutated_xlsx: the spreadsheet library panicked on this workbook; now it is a bad file.
    let mut b = good_xlsx();
    let (pos, byte) = (12_204_203_548_617_221_868usize, 148u8);
    for k in 0..3 {
        let p = (pos.wrapping_add(k * 7919)) % b.len();
        b[p] ^= byte | 1;
    }
    let r = read_table("m.xlsx", &b, &COLUMNS, None);
    match r {
        Ok(_) => {}
        Err(e) => {
            for x in &e {
                eprintln!("{x}");
            }
            assert!(
                e.iter().all(|x| x.to_string().starts_with("m.xlsx")),
                "{e:?}"
            );
        }
    }
}

#[test]
fn a_workbook_spanning_the_whole_sheet_is_refused_before_its_grid_is_built() {
    // Two cells at opposite corners of a sheet: a dense grid of them would be 17 billion cells.
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.write_string(0, 0, "village").unwrap();
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let e = read_table("far.xlsx", &bytes, &COLUMNS, None)
        .err()
        .expect("refused");
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].to_string(),
        "far.xlsx:1: 文件: 工作表“Sheet1”的范围过大（1048576 行 × 16384 列，从 A1 到 XFD1048576）：请删去范围外的内容，或另存为 CSV 后导入"
    );
    // A sheet within the bound still reads.
    assert!(read_table("good.xlsx", &good_xlsx(), &COLUMNS, None).is_ok());
}
