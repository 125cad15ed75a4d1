//! The kept totals read from SQLite natively, for reports: `cunji_read_totals(token)` (registered
//! beside `cunji_bulk_write`, see `sqlite_bulk`) steps one statement on its own connection and parks
//! the rows, decoded, under the token.
//!
//! Why: through sqlx, a province's 883,000 totals rows cost 1.0–1.4 s in the report process, even as
//! one JSON array a village built by SQLite (0.36 s of that in the sqlite3 shell; the rest is the
//! driver's row hand-over and the JSON parse while the other reads compete for the two cores). The
//! same rows stepped natively take 0.13 s in the shell.
//!
//! Safety: as for `cunji_bulk_write`: the function is `SQLITE_DIRECTONLY`, never unwinds into C,
//! and hands its rows over through a map the caller empties.

use std::collections::BTreeMap;
use std::ffi::c_int;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use cunji_core::account::Account;
use libsqlite3_sys as ffi;

use crate::load::KeptTotal;
use crate::sqlite_bulk::{error_of, finish, prepare};

static READ: Mutex<BTreeMap<i64, Vec<KeptTotal>>> = Mutex::new(BTreeMap::new());
static NEXT_TOKEN: AtomicI64 = AtomicI64::new(1);

fn read_rows() -> std::sync::MutexGuard<'static, BTreeMap<i64, Vec<KeptTotal>>> {
    // A poisoned map still holds whole row lists: nothing panics while holding it.
    READ.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every kept total, in the table's order.
pub(crate) async fn read_totals(pool: &sqlx::AnyPool) -> Result<Vec<KeptTotal>, sqlx::Error> {
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    let done = sqlx::query_scalar::<_, i64>("SELECT cunji_read_totals($1)")
        .bind(token)
        .fetch_one(pool)
        .await;
    let rows = read_rows().remove(&token);
    done?;
    rows.ok_or_else(|| sqlx::Error::Protocol("读取合计：没有取到结果".into()))
}

pub(crate) unsafe extern "C" fn read_totals_fn(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    let outcome = std::panic::catch_unwind(|| {
        if argc != 1 {
            return Err((
                ffi::SQLITE_ERROR,
                "cunji_read_totals 需要一个参数".to_string(),
            ));
        }
        let token = ffi::sqlite3_value_int64(*argv);
        let rows = scan(ffi::sqlite3_context_db_handle(ctx))?;
        let n = rows.len() as i64;
        read_rows().insert(token, rows);
        Ok(n)
    });
    finish(ctx, outcome, "读取合计时出现内部错误");
}

unsafe fn scan(db: *mut ffi::sqlite3) -> Result<Vec<KeptTotal>, (c_int, String)> {
    let stmt = prepare(
        db,
        c"SELECT village, year, account, amount, entries FROM totals",
    )?;
    let s = stmt.0;
    let mut accounts: Vec<(Vec<u8>, Account)> = Vec::new();
    let mut out = Vec::new();
    loop {
        match ffi::sqlite3_step(s) {
            ffi::SQLITE_ROW => {}
            ffi::SQLITE_DONE => return Ok(out),
            _ => return Err(error_of(db)),
        }
        let village = digits(text(s, 0))
            .ok_or((ffi::SQLITE_ERROR, "数据库中的合计有误：村代码".to_string()))?;
        let key = text(s, 2);
        let account = match accounts.iter().find(|(k, _)| k == key) {
            Some((_, a)) => *a,
            None => {
                let name = String::from_utf8_lossy(key);
                let a = Account::from_key_or_name(&name)
                    .ok_or_else(|| (ffi::SQLITE_ERROR, format!("数据库中有未知科目 {name}")))?;
                accounts.push((key.to_vec(), a));
                a
            }
        };
        out.push(KeptTotal {
            village,
            year: ffi::sqlite3_column_int64(s, 1) as i32,
            account,
            amount: ffi::sqlite3_column_int64(s, 3),
            entries: ffi::sqlite3_column_int64(s, 4),
        });
    }
}

/// Column `i` of the current row as bytes (empty for NULL), valid until the next step.
unsafe fn text<'a>(s: *mut ffi::sqlite3_stmt, i: c_int) -> &'a [u8] {
    let p = ffi::sqlite3_column_text(s, i);
    if p.is_null() {
        return &[];
    }
    let n = ffi::sqlite3_column_bytes(s, i) as usize;
    std::slice::from_raw_parts(p, n)
}

/// A 12-digit code as its number.
pub(crate) fn digits(code: &[u8]) -> Option<u64> {
    (code.len() == 12 && code.iter().all(u8::is_ascii_digit))
        .then(|| code.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_twelve_digits() {
        assert_eq!(super::digits(b"131124100200"), Some(131_124_100_200));
        assert_eq!(super::digits(b"000000000001"), Some(1));
        assert_eq!(super::digits(b"13112410020"), None);
        assert_eq!(super::digits(b"13112410020x"), None);
    }
}
