//! Importing annual statements (SPEC §3): one row per village and year, one column per account. Each
//! becomes one entry per non-zero account dated `YYYY-12-31`, marked as coming from a statement.

use std::collections::HashMap;

use cunji_core::account::Account;
use cunji_core::date::{parse_year, Date};
use cunji_core::money::{Fen, MAX_FEN};
use sqlx::{AssertSqlSafe, Row};

use super::entries::{placeholders, write_entries, Context, NewEntry};
use super::{record_import, ImportError, ImportMeta, ImportOutcome, Progress};
use crate::db::Store;
use crate::table::{col, read_table, Column};

const COLUMNS: [Column; 2] = [col("village", "村代码", true), col("year", "年度", true)];

fn account_column(name: &str) -> Option<String> {
    Account::from_key_or_name(name).map(|a| a.key().to_string())
}

pub(super) async fn import(
    store: &Store,
    meta: &ImportMeta<'_>,
    bytes: &[u8],
    progress: &dyn Progress,
) -> Result<ImportOutcome, ImportError> {
    let sheet = read_table(meta.file_name, bytes, &COLUMNS, Some(&account_column))?;
    progress.phase("检查", sheet.rows.len() as u64);
    let villages: Vec<String> = sheet
        .rows
        .iter()
        .map(|r| sheet.get(r, "village").to_string())
        .collect();
    let ctx = Context::load(store, villages.iter().map(|s| s.as_str()))
        .await?
        .within(meta.scope);
    let with_entries = years_with_entries(store, &villages).await?;
    let mut errors = Vec::new();
    let mut seen: HashMap<(String, i32), u64> = HashMap::new();
    let mut out = Vec::new();
    for row in &sheet.rows {
        let line = row.line;
        progress.advance(1);
        let village = sheet.get(row, "village").to_string();
        let year = match parse_year(sheet.get(row, "year")) {
            Ok(y) => y,
            Err(e) => {
                errors.push(sheet.error(line, "year", e));
                continue;
            }
        };
        if !ctx.check_village(&sheet, line, &village, year, &mut errors) {
            continue;
        }
        if with_entries.contains_key(&(village.clone(), year)) {
            errors.push(sheet.error(
                line,
                "year",
                format!(
                    "村 {village} 的 {year} 年已有账目，不能再导入年度报表（更正请记账或冲销）"
                ),
            ));
            continue;
        }
        if let Some(prev) = seen.insert((village.clone(), year), line) {
            errors.push(sheet.error(
                line,
                "year",
                format!("村 {village} 的 {year} 年报表与第 {prev} 行重复"),
            ));
            continue;
        }
        for account in Account::ALL {
            if !sheet.has(account.key()) {
                continue;
            }
            let text = sheet.get(row, account.key());
            if text.is_empty() {
                continue;
            }
            match Fen::parse_yuan(text) {
                Ok(f) if f.fen() == 0 => {}
                Ok(f) if f.fen().abs() <= MAX_FEN => out.push(NewEntry {
                    line,
                    village: village.clone(),
                    date: Date::year_end(year),
                    account,
                    amount: f.fen(),
                    voucher: None,
                    memo: format!("{year} 年度报表导入"),
                    project: None,
                    reverses: None,
                }),
                Ok(_) => errors.push(sheet.error(line, account.key(), "金额超出范围")),
                Err(e) => errors.push(sheet.error(line, account.key(), e.to_string())),
            }
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let mut tx = store.begin_write().await?;
    let n = seen.len() as u64;
    let record = super::entries::entries_hash(&out, "statement");
    let (import_id, audit_id) = record_import(
        &mut tx,
        meta,
        n,
        &format!("，生成 {} 笔年末分录", out.len()),
        Some(&record),
    )
    .await?;
    write_entries(
        &mut tx,
        store.backend,
        Some(import_id),
        audit_id,
        &out,
        "statement",
        meta.actor,
        progress,
    )
    .await?;
    tx.commit().await?;
    Ok(ImportOutcome::Stored {
        rows: n,
        unchanged: 0,
    })
}

/// The (village, year) pairs of these villages that already hold entries.
async fn years_with_entries(
    store: &Store,
    villages: &[String],
) -> Result<HashMap<(String, i32), i64>, ImportError> {
    let mut out = HashMap::new();
    let mut list: Vec<&String> = villages.iter().collect();
    list.sort();
    list.dedup();
    for chunk in list.chunks(500) {
        let sql = format!(
            "SELECT village, year, CAST(SUM(entries) AS BIGINT) FROM totals WHERE village IN ({}) GROUP BY village, year",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for v in chunk {
            q = q.bind(v.as_str());
        }
        for r in q.fetch_all(&store.pool).await? {
            let n: i64 = r.try_get(2)?;
            if n > 0 {
                out.insert((r.try_get(0)?, r.try_get::<i64, _>(1)? as i32), n);
            }
        }
    }
    Ok(out)
}
