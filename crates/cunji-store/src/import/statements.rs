//! Importing annual statements (SPEC §3): one row per village and year, one column per account. Each
//! becomes one entry per non-zero account dated `YYYY-12-31`, marked as coming from a statement.

use std::collections::HashMap;

use cunji_core::account::Account;
use cunji_core::date::Date;
use cunji_core::money::Fen;
use sqlx::{AssertSqlSafe, Row};

use super::cells::Cells;
use super::entries::{placeholders, write_entries, Context, NewEntry};
use super::{record_import, ImportError, ImportOutcome, Job};
use crate::db::Store;
use cunji_core::columns::STATEMENTS;

fn account_column(name: &str) -> Option<String> {
    Account::from_key_or_name(name).map(|a| a.key().to_string())
}

pub(super) async fn import(job: &Job<'_>, bytes: &[u8]) -> Result<ImportOutcome, ImportError> {
    let (store, meta, progress) = (job.store, job.meta, job.progress);
    let sheet = job.sheet(bytes, &STATEMENTS, Some(&account_column))?;
    let villages: Vec<String> = sheet
        .rows
        .iter()
        .map(|r| sheet.get(r, "village").to_string())
        .collect();
    let ctx = Context::load(store, villages.iter().map(|s| s.as_str()))
        .await?
        .within(meta.scope);
    let with_entries = years_with_entries(store, &villages).await?;
    let mut errors = crate::table::RowErrors::new();
    let mut seen: HashMap<(String, i32), u64> = HashMap::new();
    let mut out = Vec::new();
    let mut checked = 0u64;
    for row in &sheet.rows {
        progress.advance(1);
        let mut c = Cells::new(&sheet, row, &mut errors);
        let village = c.get("village").to_string();
        let Some(year) = c.year("year") else {
            continue;
        };
        let (sheet, line) = (c.sheet(), c.line);
        if !ctx.check_village(sheet, line, &village, year, c.errors()) {
            continue;
        }
        if let Some(prev) = seen.insert((village.clone(), year), line) {
            c.fail(
                "year",
                format!("村 {village} 的 {year} 年报表与第 {prev} 行重复"),
            );
            continue;
        }
        if with_entries.contains_key(&(village.clone(), year)) {
            // A year already in the books takes its statement as a check (SPEC §3).
            check_against_books(&mut c, &ctx, &village, year);
            checked += 1;
            continue;
        }
        read_accounts(&mut c, &village, year, &mut out);
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
        rows: n - checked,
        unchanged: checked,
    })
}

/// A statement row of a year that already has entries: each account column must equal the
/// entries' total for that account (an empty cell is 0); a difference names the account, the
/// books' total and the statement's figure. Nothing is added.
fn check_against_books(c: &mut Cells<'_, '_>, ctx: &Context, village: &str, year: i32) {
    for account in Account::ALL {
        if !c.sheet().has(account.key()) {
            continue;
        }
        let written = if c.get(account.key()).is_empty() {
            Fen::ZERO
        } else {
            match c.parse(account.key(), Fen::parse_yuan) {
                Some(f) => f,
                None => continue,
            }
        };
        let books = Fen::from_fen(ctx.stored_total(village, year, account));
        if books != written {
            c.fail(
                account.key(),
                format!(
                    "村 {village} 的 {year} 年已有账目，报表作为核对：“{}”账上合计 {books} 元，报表写的是 {written} 元",
                    account.name_zh()
                ),
            );
        }
    }
}

/// One entry dated the year's end for each non-zero account of a statement row.
fn read_accounts(c: &mut Cells<'_, '_>, village: &str, year: i32, out: &mut Vec<NewEntry>) {
    for account in Account::ALL {
        if !c.sheet().has(account.key()) || c.get(account.key()).is_empty() {
            continue;
        }
        // `parse_yuan` bounds each amount (SPEC §1).
        match c.parse(account.key(), Fen::parse_yuan) {
            Some(f) if f.fen() == 0 => {}
            Some(f) => out.push(NewEntry {
                line: c.line,
                village: village.into(),
                date: Date::year_end(year),
                account,
                amount: f.fen(),
                voucher: None,
                memo: format!("{year} 年度报表导入"),
                project: None,
                reverses: None,
            }),
            None => {}
        }
    }
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
