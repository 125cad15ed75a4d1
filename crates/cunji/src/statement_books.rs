//! `cunji import statement-book FILE… [--region CODE]` (SPEC §14): the workbooks of one import are
//! stored together or not at all; the warnings (上年 figures that differ from the stored year) are
//! listed after a successful import. `cunji template statement-book --region CODE [--year Y]` writes
//! the empty workbook that imports as is.

use std::path::PathBuf;

use cunji_core::region::RegionCode;
use cunji_store::import::ImportError;
use cunji_store::{BookFile, Store};

use crate::support::Failure;

pub async fn import(
    db: &str,
    files: &[PathBuf],
    region: Option<&str>,
    who: &str,
) -> Result<(), Failure> {
    let region = region
        .map(|r| RegionCode::parse(r).map_err(|e| Failure::input(format!("错误：--region {e}"))))
        .transpose()?;
    let mut read = Vec::new();
    for f in files {
        let bytes = std::fs::read(f)
            .map_err(|e| Failure::input(format!("错误：无法读取 {}：{e}", f.display())))?;
        read.push((f.display().to_string(), bytes));
    }
    let books: Vec<BookFile<'_>> = read
        .iter()
        .map(|(name, bytes)| BookFile { name, bytes })
        .collect();
    let store = Store::open(db, false).await?;
    let result = store
        .import_statement_books(&books, region.as_ref(), None, who)
        .await;
    store.close().await;
    match result {
        Ok(outcome) => {
            println!(
                "已导入收益及收益分配表 {} 张（{} 个文件），生成 {} 笔年末分录。",
                outcome.sheets,
                files.len(),
                outcome.entries
            );
            if outcome.checked > 0 {
                println!(
                    "其中 {} 张所属村、年度已有账目：已与账目核对一致，未重复记账，只存入收益分配。",
                    outcome.checked
                );
            }
            if !outcome.skipped.is_empty() {
                println!(
                    "已跳过未填写金额的工作表 {} 张（未存入任何数据）：",
                    outcome.skipped.len()
                );
                for place in &outcome.skipped {
                    println!("  {place}");
                }
            }
            if !outcome.warnings.is_empty() {
                println!("请核对（上年金额与库中不同，未影响导入）：");
                for w in &outcome.warnings {
                    println!("  {w}");
                }
            }
            Ok(())
        }
        Err(ImportError::Rows(rows)) => Err(Failure::input(format!(
            "{rows}共 {} 处错误，本次 {} 个文件均未导入任何数据。",
            rows.len(),
            files.len()
        ))),
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}

/// The empty statement book of every village of `region` for `year` (default: last year).
pub async fn template(
    out: &std::path::Path,
    (db, region): (&str, Option<&str>),
    year: Option<i32>,
) -> Result<(), Failure> {
    let text = region.ok_or_else(|| {
        Failure::input(
            "错误：收益及收益分配表模板每村一张表，须用 --region 指定地区（乡镇或县的代码）",
        )
    })?;
    let code =
        RegionCode::parse(text).map_err(|e| Failure::input(format!("错误：--region {e}")))?;
    let year = match year {
        Some(y) if (1900..=2999).contains(&y) => y,
        Some(y) => return Err(Failure::input(format!("错误：--year {y} 不是有效年度"))),
        None => crate::today()[..4].parse::<i32>().map_or(2024, |y| y - 1),
    };
    let store = Store::open(db, false).await?;
    let regions = store.load_regions().await?;
    store.close().await;
    if !regions.contains(&code) {
        return Err(Failure::input(format!("错误：区划中没有 {code}")));
    }
    let villages = cunji_sheets::village_rows(&regions, Some(&code));
    if villages.is_empty() {
        return Err(Failure::input(format!("错误：{code} 下没有登记的村")));
    }
    let bytes = cunji_sheets::statement_book_template(&villages, year)
        .map_err(|e| Failure::other(format!("错误：无法生成模板：{e}")))?;
    crate::support::write_file(out, bytes)?;
    println!(
        "已生成 {year} 年度收益及收益分配表模板：{}（{} 个村，每村一张表）",
        out.display(),
        villages.len()
    );
    if villages.len() == cunji_sheets::TEMPLATE_VILLAGES_AT_MOST {
        println!(
            "只列出前 {} 个村，请用 --region 指定更小的地区。",
            cunji_sheets::TEMPLATE_VILLAGES_AT_MOST
        );
    }
    Ok(())
}
