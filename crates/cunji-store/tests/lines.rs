//! Every bad row is named by the line a text editor shows, whatever the line endings the file was
//! saved with: LF, CRLF (Excel and WPS on Windows), or CR alone; in UTF-8 or GB18030.

mod common;

use common::store_with;
use cunji_store::import::{ImportError, Quiet};
use cunji_store::ImportKind;

const REGIONS: &str = "code,name\n110000000000,北京市\n110100000000,市辖区\n110101000000,东城区\n110101001000,某镇\n110101001001,甲村\n";

/// A header, a good row, a memo spanning two lines, a bad amount (line 5), an empty line, and a bad
/// date (line 7), joined by `eol`.
fn lines(eol: &str) -> String {
    [
        "village,date,account,amount,memo",
        "110101001001,2024-01-05,operating_revenue,10,租金",
        "110101001001,2024-01-06,operating_revenue,11,\"两行",
        "的摘要\"",
        "110101001001,2024-01-07,operating_revenue,abc,",
        "",
        "110101001001,2024-02-30,operating_revenue,12,",
        "",
    ]
    .join(eol)
}

fn error_lines(e: ImportError) -> Vec<(u64, String)> {
    match e {
        ImportError::Rows(rows) => rows.into_iter().map(|r| (r.line, r.column)).collect(),
        ImportError::Store(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn bad_rows_are_named_by_the_editors_line_for_every_line_ending() {
    let (store, _, dir) = store_with("lines", REGIONS).await;
    for (eol, gb) in [
        ("\n", false),
        ("\r\n", false),
        ("\r", false),
        ("\r\n", true),
    ] {
        let text = lines(eol);
        let bytes = if gb {
            encoding_rs::GB18030.encode(&text).0.into_owned()
        } else {
            text.into_bytes()
        };
        let e = store
            .import(ImportKind::Entries, "e.csv", &bytes, "test", &Quiet)
            .await
            .expect_err("bad rows");
        assert_eq!(
            error_lines(e),
            vec![(5, "amount".to_string()), (7, "date".to_string())],
            "line ending {eol:?}, GB18030 {gb}"
        );
    }
    // A short row is named by its own line too (the row check of the reader, not of a column).
    let short = "village,date,account,amount\r\n110101001001,2024-01-05,operating_revenue,10\r\n\r\n110101001001,2024-01-06\r\n";
    let e = store
        .import(
            ImportKind::Entries,
            "s.csv",
            short.as_bytes(),
            "test",
            &Quiet,
        )
        .await
        .expect_err("short row");
    assert_eq!(error_lines(e), vec![(4, "行".to_string())]);
    assert!(store
        .entries_of("110101001001", 2024)
        .await
        .unwrap()
        .is_empty());
    let _ = std::fs::remove_dir_all(dir);
}
