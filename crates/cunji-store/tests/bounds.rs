//! Files that would make the server spend without bound are refused while they are read, and names
//! that a spreadsheet would run as formulas are refused at import (issue #13).

mod common;

use common::{import, store_with};
use cunji_store::import::ImportError;
use cunji_store::table::{col, read_table, Column};
use cunji_store::ImportKind;

const COLUMNS: [Column; 4] = [
    col("village", "村代码", true),
    col("date", "日期", true),
    col("account", "科目", true),
    col("amount", "金额", true),
];

/// CRC-32 (IEEE), as a zip entry carries it.
fn crc32(bytes: &[u8]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    !bytes.iter().fold(!0u32, |c, b| {
        table[((c ^ *b as u32) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// A zip of stored (uncompressed) entries: enough of a workbook for a reader, written by hand
/// because no spreadsheet writer will write a sheet past Excel's limits.
fn zip(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            for v in [20u16, 0, 0, 0, 0] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            if central {
                for v in [0u16, 0, 0] {
                    h.extend_from_slice(&v.to_le_bytes());
                }
                h.extend_from_slice(&0u32.to_le_bytes());
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(data);
        central.extend(header(0x0201_4b50, true));
    }
    let (cd_offset, cd_size) = (out.len() as u32, central.len() as u32);
    out.extend(central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, files.len() as u16, files.len() as u16] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A workbook whose one sheet holds `sheet_data` (the inside of `<sheetData>`).
fn workbook(sheet_data: &str) -> Vec<u8> {
    let ns = "http://schemas.openxmlformats.org";
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
    );
    zip(&[
        ("[Content_Types].xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{ns}/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#).into_bytes()),
        ("_rels/.rels", format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).into_bytes()),
        ("xl/workbook.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#).into_bytes()),
        ("xl/_rels/workbook.xml.rels", format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#).into_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
    ])
}

fn header_row() -> String {
    r#"<row r="1"><c r="A1" t="inlineStr"><is><t>village</t></is></c><c r="B1" t="inlineStr"><is><t>date</t></is></c><c r="C1" t="inlineStr"><is><t>account</t></is></c><c r="D1" t="inlineStr"><is><t>amount</t></is></c></row>"#.to_string()
}

#[test]
fn the_hand_made_workbook_reads() {
    let data = header_row()
        + r#"<row r="2"><c r="A2"><v>110101001001</v></c><c r="B2" t="inlineStr"><is><t>2024-01-01</t></is></c><c r="C2" t="inlineStr"><is><t>operating_revenue</t></is></c><c r="D2"><v>5</v></c></row>"#;
    let sheet = read_table("ok.xlsx", &workbook(&data), &COLUMNS, None).unwrap();
    assert_eq!(sheet.rows.len(), 1);
}

#[test]
fn a_sheet_past_excels_last_row_is_refused_while_it_is_read() {
    // One cell on row 1,048,577: no Excel or WPS sheet has it (a 10 MB file of 2,000,000 one-cell
    // rows took 2 GB before it was refused).
    let data = header_row() + r#"<row r="1048577"><c r="A1048577"><v>1</v></c></row>"#;
    let e = read_table("rows.xlsx", &workbook(&data), &COLUMNS, None)
        .err()
        .expect("refused");
    assert_eq!(
        e[0].to_string(),
        "rows.xlsx:1: 文件: 工作表“Sheet1”超过 1048576 行（第 1048577 行有内容），不是 Excel 或 WPS 能保存的工作表；大文件请另存为 CSV 后导入"
    );
}

#[test]
fn a_sheet_of_more_than_two_million_filled_cells_is_refused_while_it_is_read() {
    // 100,001 rows of 20 filled cells: 2,000,020 cells.
    let mut data = header_row();
    for r in 2..=100_002u32 {
        data.push_str(&format!("<row r=\"{r}\">"));
        for c in [
            "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P", "Q",
            "R", "S", "T",
        ] {
            data.push_str(&format!("<c r=\"{c}{r}\"><v>1</v></c>"));
        }
        data.push_str("</row>");
    }
    let e = read_table("cells.xlsx", &workbook(&data), &COLUMNS, None)
        .err()
        .expect("refused");
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].to_string(),
        "cells.xlsx:1: 文件: 工作表“Sheet1”有内容的单元格超过 2000000 个：请分成几个文件，或另存为 CSV 后导入（CSV 不限大小）"
    );
}

const REGIONS: &str = "code,name,predecessors,merged_in\n110000000000,北京市,,\n110100000000,市辖区,,\n110101000000,东城区,,\n110101001000,某镇,,\n110101001001,甲村,,\n110101001003,新村,110101001001,2023\n";

fn messages(e: ImportError) -> Vec<String> {
    match e {
        ImportError::Rows(rows) => rows.iter().map(|r| r.to_string()).collect(),
        ImportError::Store(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn a_grant_to_a_merged_village_after_its_merge_names_the_successor() {
    let (store, _, dir) = store_with("grant-merged", REGIONS).await;
    let text = "grant,village,year,level,program,amount,project\nG1,110101001001,2022,central,大棚,500000,P1\nG2,110101001001,2023,central,冷库,500000,P2\n";
    let e = import(&store, ImportKind::Grants, "g.csv", text)
        .await
        .expect_err("refused");
    assert_eq!(
        messages(e),
        ["g.csv:3: village: 村 110101001001 已于 2023 年并入 110101001003，2023 年的扶持资金应拨给 110101001003"]
    );
    // Before the merge year the grant is the predecessor's own.
    import(
        &store,
        ImportKind::Grants,
        "g1.csv",
        "grant,village,year,level,program,amount,project\nG1,110101001001,2022,central,大棚,500000,P1\n",
    )
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn ids_and_file_names_that_would_run_as_formulas_are_refused() {
    let (store, _, dir) = store_with("formula-ids", REGIONS).await;
    let cadres =
        "village,year,person,name,role\n110101001001,2022,-1+cmd|' /C calc'!A0,张三,secretary\n";
    let e = import(&store, ImportKind::Cadres, "c.csv", cadres)
        .await
        .expect_err("refused");
    let m = messages(e);
    assert_eq!(m.len(), 1);
    assert!(
        m[0].starts_with("c.csv:2: person: 文本不能以“-”开头（防止表格公式注入）"),
        "{m:?}"
    );
    let entries =
        "village,date,account,amount,voucher\n110101001001,2022-01-01,operating_revenue,-5,-2+3\n";
    let m = messages(
        import(&store, ImportKind::Entries, "e.csv", entries)
            .await
            .expect_err("refused"),
    );
    assert_eq!(m.len(), 1, "a negative amount is still an amount: {m:?}");
    assert!(m[0].starts_with("e.csv:2: voucher:"), "{m:?}");
    let ok = "village,date,account,amount,memo\n110101001001,2022-01-01,operating_revenue,-5,-5\n";
    import(&store, ImportKind::Entries, "ok.csv", ok)
        .await
        .unwrap();
    for name in [
        "=HYPERLINK(\"http://x\",\"点我\").csv",
        "uploads/@SUM(A1).csv",
        "a\r\nb.csv",
    ] {
        let m = messages(
            import(
                &store,
                ImportKind::Entries,
                name,
                "village,date,account,amount\n",
            )
            .await
            .expect_err("refused"),
        );
        assert_eq!(m.len(), 1, "{name}");
        assert!(m[0].contains(": 文件名: "), "{m:?}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Free text is bounded at input (issue #32): a memo or a name of more than 500 characters is a row
/// error naming the column, and nothing is stored; 500 characters are accepted. A village page lists
/// at most 1,000 entries, so its memos stay within 1.5 MB.
#[tokio::test]
async fn free_text_of_more_than_500_characters_is_refused() {
    let (store, _, dir) = store_with("long-text", REGIONS).await;
    let row = |memo: &str| {
        format!("village,date,account,amount,memo\n110101001001,2022-01-01,operating_revenue,5,{memo}\n")
    };
    let e = import(
        &store,
        ImportKind::Entries,
        "e.csv",
        &row(&"租".repeat(501)),
    )
    .await
    .expect_err("refused");
    assert_eq!(
        messages(e),
        ["e.csv:2: memo: 文字过长：501 个字，最多 500 个字"]
    );
    import(
        &store,
        ImportKind::Entries,
        "ok.csv",
        &row(&"租".repeat(500)),
    )
    .await
    .unwrap();
    let cadres = format!(
        "village,year,person,name,role\n110101001001,2022,P1,{},secretary\n",
        "张".repeat(501)
    );
    let e = import(&store, ImportKind::Cadres, "c.csv", &cadres)
        .await
        .expect_err("refused");
    assert_eq!(
        messages(e),
        ["c.csv:2: name: 文字过长：501 个字，最多 500 个字"]
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A file imported before tells a user of another township nothing of it (issue #32): not its name,
/// nor (on the web) its villages. The county, and the user who imported it, are told its name.
#[tokio::test]
async fn an_earlier_import_of_another_township_is_not_named() {
    let regions = format!("{REGIONS}110101002000,另一镇,,\n110101002001,乙村,,\n");
    let (store, _, dir) = store_with("duplicate-scope", &regions).await;
    let text = b"village,date,account,amount\n110101001001,2022-01-01,operating_revenue,5\n";
    let mine = cunji_core::region::RegionCode::parse("110101001000").unwrap();
    let other = cunji_core::region::RegionCode::parse("110101002000").unwrap();
    let q = &cunji_store::import::Quiet;
    let kind = ImportKind::Entries;
    store
        .import_within(kind, "某镇一月账.csv", text, "zhang", Some(&mine), q)
        .await
        .unwrap();
    let named = |o: cunji_store::ImportOutcome| match o {
        cunji_store::ImportOutcome::AlreadyImported { file_name, .. } => file_name,
        other => panic!("{other:?}"),
    };
    let again = store
        .import_within(kind, "x.csv", text, "li", Some(&other), q)
        .await
        .unwrap();
    assert_eq!(named(again), "其他用户导入的文件");
    let own = store
        .import_within(kind, "x.csv", text, "zhang", Some(&mine), q)
        .await
        .unwrap();
    assert_eq!(named(own), "某镇一月账.csv");
    let county = store.import(kind, "x.csv", text, "admin", q).await.unwrap();
    assert_eq!(named(county), "某镇一月账.csv");
    let _ = std::fs::remove_dir_all(dir);
}
