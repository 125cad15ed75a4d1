//! The kept totals and entry facts read from SQLite natively, for reports:
//! `cunji_read_totals(token, from_year)` and `cunji_read_facts(token, year)` (registered beside
//! `cunji_bulk_write`, see `sqlite_bulk`) step one statement on their own connection and park the
//! rows, decoded, under the token.
//!
//! Why: through sqlx, a province's 883,000 totals rows cost 1.0–1.4 s in the report process, even as
//! one JSON array a village built by SQLite (0.36 s of that in the sqlite3 shell; the rest is the
//! driver's row hand-over and the JSON parse while the other reads compete for the two cores). The
//! same rows stepped natively take 0.13 s in the shell. The year's entry facts (48,379 blobs, 74 MB
//! for Hebei 2024) cost 0.41–0.55 s through sqlx beside the totals; natively 0.22–0.28 s (its load, beside the totals).
//!
//! No `unsafe` here: the statements are stepped through `sqlite_native`'s safe wrappers. The rows
//! are handed over through a process-wide map under a token, as `cunji_bulk_write`'s are (the
//! README's design note: an `AnyPool` gives no connection handle, so the function finds its
//! connection from inside SQLite and its caller cannot pass it a pointer); the caller takes its
//! rows out, whether the call succeeded or not.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use crate::backend::sqlite_native::{Call, Db, Error, SQLITE_ERROR, SQLITE_OK};
use cunji_core::account::Account;

/// A village's stored entry facts of a year, the village code as its number.
/// One kept total as a report reads it; the village code as its number (12 digits).
pub(crate) struct KeptTotal {
    pub village: u64,
    pub year: i32,
    pub account: Account,
    pub amount: i64,
    pub entries: i64,
}

pub(crate) type VillageFacts = (u64, Vec<u8>);

/// What a read parks under its token.
enum Parked {
    Totals(Vec<KeptTotal>),
    /// Each village's stored facts of the year, the village code as its number.
    Facts(Vec<VillageFacts>),
    /// The rows of one of `ROW_READS`.
    Rows(Vec<Vec<Cell>>),
}

/// One value of a row read by `cunji_read_rows`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Cell {
    Null,
    Int(i64),
    Text(String),
}

/// The whole tables `cunji_read_rows(token, which)` reads, by `which`, each with its columns'
/// types (`I` integer, `T` text): every version of every row of the contract tables (SPEC §16),
/// in no order. Through sqlx a province's 830,000 rows of them took 4.7–14 s of a report (each
/// row's hand-over between threads and its values' decoding), stepped here they take well under
/// one.
const ROW_READS: [(&CStr, &[u8]); 5] = [
    (
        c"SELECT village, asset_id, kind, name, quantity, unit, original_value, acquired, grant_id, status, version FROM assets",
        b"TTTTITITTTI",
    ),
    (
        c"SELECT village, contract_id, counterparty, counterparty_id, asset_id, kind, signed, start_date, end_date, resolution, \
          annual_rent, due_day, step_years, step_rate, account, version FROM contracts",
        b"TTTTTTTTTTITIITI",
    ),
    (
        c"SELECT village, contract_id, due_date, amount, version, seq FROM installments",
        b"TTTIII",
    ),
    (
        c"SELECT village, contract_id, entry_date, amount FROM contract_receipts",
        b"TTTI",
    ),
    (c"SELECT DISTINCT village, asset_id FROM assets", b"TT"),
];

/// What `cunji_read_rows` reads: an index into `ROW_READS`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RowRead {
    Assets = 0,
    Contracts = 1,
    Installments = 2,
    Receipts = 3,
    /// Each asset's (village, id) once.
    AssetKeys = 4,
}

/// Every row of `which`, each value as its column's type says (NULL as `Cell::Null`).
pub(crate) async fn read_table(
    pool: &sqlx::AnyPool,
    which: RowRead,
) -> Result<Vec<Vec<Cell>>, sqlx::Error> {
    match parked(pool, "SELECT cunji_read_rows($1, $2)", Some(which as i32)).await? {
        Parked::Rows(rows) => Ok(rows),
        _ => Err(sqlx::Error::Protocol("读取资产合同：结果有误".into())),
    }
}

/// `cunji_read_rows(token, which)`.
pub(crate) fn read_rows_fn(call: &Call<'_>) -> Result<i64, Error> {
    park_read(call, "cunji_read_rows", |db, which| {
        let Some((sql, types)) = usize::try_from(which).ok().and_then(|i| ROW_READS.get(i)) else {
            return Err((
                SQLITE_ERROR,
                format!("cunji_read_rows 没有第 {which} 种读取"),
            ));
        };
        Ok(Parked::Rows(scan_rows(db.prepare(sql)?, types)?))
    })
}

/// `cunji_read_kept_contracts(token, year)`: the kept contract figures of a year (village, count,
/// contracted, received, arrears, alerts). Through sqlx a province's 50,000 rows (10 MB of alerts)
/// took 0.26 s of a 0.85 s report.
pub(crate) fn read_kept_contracts_fn(call: &Call<'_>) -> Result<i64, Error> {
    park_read(call, "cunji_read_kept_contracts", |db, year| {
        let mut stmt = db.prepare(
            c"SELECT village, count, contracted, received, arrears, alerts FROM kept_contract_years WHERE year = ?1",
        )?;
        if stmt.bind_int64(1, year) != SQLITE_OK {
            return Err(stmt.error());
        }
        Ok(Parked::Rows(scan_rows(stmt, b"TIIIIT")?))
    })
}

/// Every row of `stmt`, each value as `types` says (`I` integer, `T` text; NULL as `Cell::Null`).
fn scan_rows(
    mut stmt: crate::backend::sqlite_native::Stmt<'_>,
    types: &[u8],
) -> Result<Vec<Vec<Cell>>, Error> {
    let mut out = Vec::new();
    while let Some(row) = stmt.next_row()? {
        let mut cells = Vec::with_capacity(types.len());
        for (i, t) in types.iter().enumerate() {
            let i = i as std::ffi::c_int;
            cells.push(if row.is_null(i) {
                Cell::Null
            } else if *t == b'I' {
                Cell::Int(row.int64(i))
            } else {
                let text = std::str::from_utf8(row.bytes(i))
                    .map_err(|_| (SQLITE_ERROR, "数据库中的资产合同有误：文字编码".to_string()))?;
                Cell::Text(text.to_string())
            });
        }
        out.push(cells);
    }
    Ok(out)
}

/// The kept contract figures of `year`, each row as `cunji_read_kept_contracts` gives it.
pub(crate) async fn read_kept_contracts(
    pool: &sqlx::AnyPool,
    year: i32,
) -> Result<Vec<Vec<Cell>>, sqlx::Error> {
    match parked(pool, "SELECT cunji_read_kept_contracts($1, $2)", Some(year)).await? {
        Parked::Rows(rows) => Ok(rows),
        _ => Err(sqlx::Error::Protocol("读取合同汇总：结果有误".into())),
    }
}

static READ: Mutex<BTreeMap<i64, Parked>> = Mutex::new(BTreeMap::new());
static NEXT_TOKEN: AtomicI64 = AtomicI64::new(1);

fn read_rows() -> std::sync::MutexGuard<'static, BTreeMap<i64, Parked>> {
    // A poisoned map still holds whole row lists: nothing panics while holding it.
    READ.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `call` (which parks its rows under the token bound as its first parameter) and takes
/// what it parked.
async fn parked<'c>(
    on: impl sqlx::Executor<'c, Database = sqlx::Any>,
    call: &'static str,
    year: Option<i32>,
) -> Result<Parked, sqlx::Error> {
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    let mut query = sqlx::query_scalar::<_, i64>(call).bind(token);
    if let Some(y) = year {
        query = query.bind(y);
    }
    let done = query.fetch_one(on).await;
    let rows = read_rows().remove(&token);
    done?;
    rows.ok_or_else(|| sqlx::Error::Protocol("读取：没有取到结果".into()))
}

/// Every kept total of `from_year` and after, in the table's order.
pub(crate) async fn read_totals(
    pool: &sqlx::AnyPool,
    from_year: i32,
) -> Result<Vec<KeptTotal>, sqlx::Error> {
    match parked(pool, "SELECT cunji_read_totals($1, $2)", Some(from_year)).await? {
        Parked::Totals(rows) => Ok(rows),
        _ => Err(sqlx::Error::Protocol("读取合计：结果有误".into())),
    }
}

/// What is kept of each village of `year` (`Kept`), the village code as its number.
pub(crate) async fn read_kept(
    conn: &mut sqlx::AnyConnection,
    kept: crate::backend::Kept,
    year: i32,
) -> Result<Vec<VillageFacts>, sqlx::Error> {
    let call = match kept {
        crate::backend::Kept::Facts => "SELECT cunji_read_facts($1, $2)",
        crate::backend::Kept::Sums => "SELECT cunji_read_sums($1, $2)",
    };
    match parked(conn, call, Some(year)).await? {
        Parked::Facts(rows) => Ok(rows),
        _ => Err(sqlx::Error::Protocol("读取分录摘要：结果有误".into())),
    }
}

/// `cunji_read_totals(token, from_year)`.
pub(crate) fn read_totals_fn(call: &Call<'_>) -> Result<i64, Error> {
    park_read(call, "cunji_read_totals", |db, from_year| {
        Ok(Parked::Totals(scan(db, from_year)?))
    })
}

/// `cunji_read_facts(token, year)`: each village's entry facts of the year.
pub(crate) fn read_facts_fn(call: &Call<'_>) -> Result<i64, Error> {
    park_read(call, "cunji_read_facts", |db, year| {
        let sql = c"SELECT village, facts FROM entry_facts WHERE year = ?1";
        Ok(Parked::Facts(scan_blobs(db, sql, year)?))
    })
}

/// `cunji_read_sums(token, year)`: each village's entry sums of the year.
pub(crate) fn read_sums_fn(call: &Call<'_>) -> Result<i64, Error> {
    park_read(call, "cunji_read_sums", |db, year| {
        Ok(Parked::Facts(scan_sums(db, year)?))
    })
}

/// Each village with entry facts of the year and its kept sums, none (empty) where none are kept;
/// both lists come in village order (their tables' keys) and are merged here. The database
/// could join them, but its index seeks took 0.15 s in the report process for 20 ms of work.
fn scan_sums(db: Db<'_>, year: i64) -> Result<Vec<VillageFacts>, Error> {
    let sums = scan_blobs(
        db,
        c"SELECT village, sums FROM entry_sums WHERE year = ?1",
        year,
    )?;
    let with_facts = scan_blobs(
        db,
        c"SELECT village, NULL FROM entry_facts WHERE year = ?1",
        year,
    )?;
    let mut out = Vec::with_capacity(with_facts.len());
    let mut kept = sums.into_iter().peekable();
    for (village, _) in with_facts {
        while kept.next_if(|(v, _)| *v < village).is_some() {}
        match kept.next_if(|(v, _)| *v == village) {
            Some(row) => out.push(row),
            None => out.push((village, Vec::new())),
        }
    }
    Ok(out)
}

/// The body of the reads: `(token, year)` in, what `read` reads parked under the token, its row
/// count out. `name` is the SQL function's.
fn park_read(
    call: &Call<'_>,
    name: &str,
    read: impl FnOnce(Db<'_>, i64) -> Result<Parked, Error>,
) -> Result<i64, Error> {
    if call.args() != 2 {
        return Err((SQLITE_ERROR, format!("{name} 需要两个参数")));
    }
    let token = call.int64(0);
    let year = call.int64(1);
    let parked = read(call.db(), year)?;
    let n = match &parked {
        Parked::Totals(rows) => rows.len(),
        Parked::Facts(rows) => rows.len(),
        Parked::Rows(rows) => rows.len(),
    };
    read_rows().insert(token, parked);
    Ok(n as i64)
}

/// The (village, bytes) rows of `sql`, which takes the year.
fn scan_blobs(db: Db<'_>, sql: &CStr, year: i64) -> Result<Vec<VillageFacts>, Error> {
    let mut stmt = db.prepare(sql)?;
    if stmt.bind_int64(1, year) != SQLITE_OK {
        return Err(stmt.error());
    }
    let mut out = Vec::new();
    while let Some(row) = stmt.next_row()? {
        let village = digits(row.bytes(0))
            .ok_or((SQLITE_ERROR, "数据库中的分录摘要有误：村代码".to_string()))?;
        out.push((village, row.bytes(1).to_vec()));
    }
    Ok(out)
}

fn scan(db: Db<'_>, from_year: i64) -> Result<Vec<KeptTotal>, Error> {
    let mut stmt =
        db.prepare(c"SELECT village, year, account, amount, entries FROM totals WHERE year >= ?1")?;
    if stmt.bind_int64(1, from_year) != SQLITE_OK {
        return Err(stmt.error());
    }
    let mut accounts: Vec<(Vec<u8>, Account)> = Vec::new();
    let mut out = Vec::new();
    while let Some(row) = stmt.next_row()? {
        let village =
            digits(row.bytes(0)).ok_or((SQLITE_ERROR, "数据库中的合计有误：村代码".to_string()))?;
        let key = row.bytes(2);
        let account = match accounts.iter().find(|(k, _)| k == key) {
            Some((_, a)) => *a,
            None => {
                let name = String::from_utf8_lossy(key);
                let a = Account::from_key_or_name(&name)
                    .ok_or_else(|| (SQLITE_ERROR, format!("数据库中有未知科目 {name}")))?;
                accounts.push((key.to_vec(), a));
                a
            }
        };
        out.push(KeptTotal {
            village,
            year: row.int64(1) as i32,
            account,
            amount: row.int64(3),
            entries: row.int64(4),
        });
    }
    Ok(out)
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
