//! `cunji import statement-book FILE… [--region CODE]` (SPEC §14): the workbooks of one import are
//! stored together or not at all; the warnings (上年 figures that differ from the stored year) are
//! listed after a successful import.

use std::path::PathBuf;

use cunji_core::region::RegionCode;
use cunji_store::import::ImportError;
use cunji_store::{BookFile, Store};

use crate::cli::Failure;

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
            if !outcome.warnings.is_empty() {
                println!("请核对（上年金额与库中不同，未影响导入）：");
                for w in &outcome.warnings {
                    println!("  {w}");
                }
            }
            Ok(())
        }
        Err(ImportError::Rows(rows)) => {
            let mut msg: String = rows.iter().map(|r| format!("{r}\n")).collect();
            msg.push_str(&format!(
                "共 {} 处错误，本次 {} 个文件均未导入任何数据。",
                rows.len(),
                files.len()
            ));
            Err(Failure::input(msg))
        }
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}
