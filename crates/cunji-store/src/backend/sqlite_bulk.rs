//! Rows written into SQLite with natively bound statements, on the connection that holds the
//! caller's transaction: an import's entries, and the totals and entry facts it updates.
//!
//! Why: sqlx's `Any` driver binds parameters through a name lookup per parameter and hides the
//! connection handle, so the fastest path through it (one JSON text per 20,000 rows, unpacked by
//! `json_each`) spends most of an import's time in SQLite's JSON code. Instead every SQLite
//! connection this process opens gets an SQL function, `cunji_bulk_write(token)`, registered by
//! an auto-extension. The caller parks a batch of rows under a token and runs
//! `SELECT cunji_bulk_write(token)` in its transaction; the function finds its own connection
//! with `sqlite3_context_db_handle` (as SQLite's `carray` does) and inserts the rows with one
//! prepared statement, binding each value directly.
//!
//! No `unsafe` here: the statements are prepared and bound through `sqlite_native`'s safe wrappers.
//! The rows are shared (`Arc`), never borrowed, so a caller that stops waiting cannot free them
//! under the function; the function refuses to run outside a transaction, cannot be called from
//! triggers or views (`SQLITE_DIRECTONLY`), and never unwinds into C. The process-wide map of
//! parked writes stays (the README's design note: an `AnyPool` gives no connection handle, so the
//! function finds its connection from inside SQLite and its rows under a token; a token is an
//! integer an SQL text can carry, a pointer would not be checked).

use std::collections::BTreeMap;
use std::ffi::{c_int, CStr};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use crate::backend::sqlite_native::{Call, Db, Error, Function, Stmt, SQLITE_ERROR, SQLITE_OK};
use crate::entry_rows::NewEntry;

/// Rows to insert and the write they belong to (`entry_writes`).
pub(crate) struct EntryBatch {
    pub entries: Vec<NewEntry>,
    pub write_id: i64,
}

/// A value of a generic row.
#[derive(Clone)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// What one call writes.
pub(crate) enum Bulk {
    Entries(EntryBatch),
    /// Rows of `sql`'s parameters, in order.
    Rows {
        sql: &'static CStr,
        rows: Vec<Vec<Value>>,
    },
}

/// Adds to the kept totals of (village, year, account): amount and number of entries.
pub(crate) const UPSERT_TOTALS: &CStr = c"INSERT INTO totals (village, year, account, amount, entries) VALUES (?1, ?2, ?3, ?4, ?5) \
    ON CONFLICT (village, year, account) DO UPDATE SET amount = totals.amount + excluded.amount, entries = totals.entries + excluded.entries";

/// Adds to the kept income of (project, year).
pub(crate) const UPSERT_PROJECT_TOTALS: &CStr =
    c"INSERT INTO project_totals (project, year, amount) VALUES (?1, ?2, ?3) \
    ON CONFLICT (project, year) DO UPDATE SET amount = project_totals.amount + excluded.amount";

/// Links an audit row to a village it concerns.
pub(crate) const TOUCH_VILLAGE: &CStr =
    c"INSERT INTO audit_villages (audit_id, village) VALUES (?1, ?2) ON CONFLICT DO NOTHING";

/// Replaces the entry facts of (year, village).
pub(crate) const UPSERT_FACTS: &CStr =
    c"INSERT INTO entry_facts (year, village, facts) VALUES (?1, ?2, ?3) \
    ON CONFLICT (year, village) DO UPDATE SET facts = excluded.facts";

/// Replaces the entry sums of (year, village).
pub(crate) const UPSERT_SUMS: &CStr =
    c"INSERT INTO entry_sums (year, village, sums) VALUES (?1, ?2, ?3) \
    ON CONFLICT (year, village) DO UPDATE SET sums = excluded.sums";

/// A write waiting for its statement, and whether the statement has taken it (it is written once).
struct Parked {
    bulk: Arc<Bulk>,
    taken: bool,
}

/// Writes waiting for their statement, by token.
static PARKED: Mutex<BTreeMap<i64, Parked>> = Mutex::new(BTreeMap::new());
static NEXT_TOKEN: AtomicI64 = AtomicI64::new(1);

/// cunji's SQL functions: the bulk write and the report's native reads.
static FUNCTIONS: [Function; 6] = [
    Function {
        name: c"cunji_bulk_write",
        args: 1,
        internal: "批量写入时出现内部错误",
        run: bulk_write,
    },
    Function {
        name: c"cunji_read_totals",
        args: 2,
        internal: "读取合计时出现内部错误",
        run: crate::backend::sqlite_read::read_totals_fn,
    },
    Function {
        name: c"cunji_read_facts",
        args: 2,
        internal: "读取分录摘要时出现内部错误",
        run: crate::backend::sqlite_read::read_facts_fn,
    },
    Function {
        name: c"cunji_read_rows",
        args: 2,
        internal: "读取资产合同时出现内部错误",
        run: crate::backend::sqlite_read::read_rows_fn,
    },
    Function {
        name: c"cunji_read_sums",
        args: 2,
        internal: "读取分录合计时出现内部错误",
        run: crate::backend::sqlite_read::read_sums_fn,
    },
    Function {
        name: c"cunji_read_kept_contracts",
        args: 2,
        internal: "读取合同汇总时出现内部错误",
        run: crate::backend::sqlite_read::read_kept_contracts_fn,
    },
];

/// Registers cunji's SQL functions (the bulk write and the report's native reads) for every SQLite
/// connection opened from now on.
pub(crate) fn register() {
    crate::backend::sqlite_native::register(&FUNCTIONS);
}

/// Writes `bulk` in the transaction `tx` holds (which must be on SQLite).
pub(crate) async fn write(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    bulk: Bulk,
) -> Result<(), sqlx::Error> {
    let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
    let n = match &bulk {
        Bulk::Entries(b) => b.entries.len(),
        Bulk::Rows { rows, .. } => rows.len(),
    } as i64;
    park().insert(
        token,
        Parked {
            bulk: Arc::new(bulk),
            taken: false,
        },
    );
    // The rows are freed here, on the thread that made them, once the function is done with them
    // (or never got to them): freed on SQLite's thread they went back to this thread's allocator
    // through its arena's lock, and the allocations of the next batch missed its cache (the
    // allocator's frees and refills were a seventh of an import's samples).
    let parked = Unpark(token);
    let done = sqlx::query_scalar::<_, i64>("SELECT cunji_bulk_write($1)")
        .bind(token)
        .fetch_one(&mut **tx)
        .await;
    drop(parked);
    match done? {
        stored if stored == n => Ok(()),
        stored => Err(sqlx::Error::Protocol(format!(
            "批量写入：应写 {n} 行，写入 {stored} 行"
        ))),
    }
}

/// Takes a parked write out of the map when dropped, however the caller's wait ends.
struct Unpark(i64);

impl Drop for Unpark {
    fn drop(&mut self) {
        let parked = park().remove(&self.0);
        drop(parked);
    }
}

fn park() -> std::sync::MutexGuard<'static, BTreeMap<i64, Parked>> {
    // A poisoned map still holds valid batches: nothing panics while holding it.
    PARKED.lock().unwrap_or_else(|p| p.into_inner())
}

/// `cunji_bulk_write(token)`: writes the rows parked under the token, in the open transaction.
fn bulk_write(call: &Call<'_>) -> Result<i64, Error> {
    if call.args() != 1 {
        return Err((SQLITE_ERROR, "cunji_bulk_write 需要一个参数".to_string()));
    }
    let db = call.db();
    if !db.in_transaction() {
        return Err((SQLITE_ERROR, "只能在事务中批量写入".to_string()));
    }
    let token = call.int64(0);
    let Some(bulk) = take(token) else {
        return Err((SQLITE_ERROR, format!("没有编号为 {token} 的待写数据")));
    };
    match &*bulk {
        Bulk::Entries(batch) => insert_entries(db, batch),
        Bulk::Rows { sql, rows } => write_rows(db, sql, rows),
    }
}

/// The parked write of `token`, unless it is not there or was taken already.
fn take(token: i64) -> Option<Arc<Bulk>> {
    let mut parked = park();
    let p = parked.get_mut(&token).filter(|p| !p.taken)?;
    p.taken = true;
    Some(p.bulk.clone())
}

/// Rows an entries statement inserts at once: the statement's fixed cost (cursors on the table and
/// its indexes, halting, resetting) is paid once for them.
const ROWS_PER_STATEMENT: usize = 64;

/// Values of one entry row; the batch's write follows as the last parameter, bound once.
const ROW_VALUES: usize = 9;

/// `INSERT INTO entries … VALUES (…), (…)` for `rows` rows.
fn insert_entries_sql(rows: usize) -> std::ffi::CString {
    let shared = rows * ROW_VALUES;
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let own: Vec<String> = (1..=ROW_VALUES)
                .map(|c| format!("?{}", r * ROW_VALUES + c))
                .collect();
            format!("({}, ?{})", own.join(", "), shared + 1)
        })
        .collect();
    let sql = format!(
        "INSERT OR FAIL INTO entries (village, year, date, account, amount, voucher, memo, project, reverses, write_id) VALUES {}",
        tuples.join(", ")
    );
    std::ffi::CString::new(sql).expect("no NUL in generated SQL")
}

fn write_rows(db: Db<'_>, sql: &CStr, rows: &[Vec<Value>]) -> Result<i64, Error> {
    let mut stmt = db.prepare(sql)?;
    for row in rows {
        let mut rc = SQLITE_OK;
        for (i, v) in row.iter().enumerate() {
            let i = i as c_int + 1;
            rc |= match v {
                Value::Null => stmt.bind_null(i),
                Value::Int(n) => stmt.bind_int64(i, *n),
                Value::Text(t) => stmt.bind_text(i, t),
                Value::Blob(b) => stmt.bind_blob(i, b),
            };
        }
        if rc != SQLITE_OK {
            return Err(stmt.error());
        }
        stmt.execute()?;
    }
    Ok(rows.len() as i64)
}

fn insert_entries(db: Db<'_>, batch: &EntryBatch) -> Result<i64, Error> {
    static MANY: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();
    static ONE: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();
    // The batch's dates as one text, checked as UTF-8 once (ten ASCII bytes each), so that each is
    // bound as a slice of it.
    let mut iso = Vec::with_capacity(batch.entries.len() * DATE_LEN);
    for e in &batch.entries {
        let date = e
            .date
            .iso_bytes()
            .ok_or((SQLITE_ERROR, "分录日期的年份超出范围".to_string()))?;
        iso.extend_from_slice(&date);
    }
    let dates = String::from_utf8(iso).map_err(|_| (SQLITE_ERROR, "分录日期有误".to_string()))?;
    let date = |k: usize| &dates[k * DATE_LEN..(k + 1) * DATE_LEN];
    let groups = batch.entries.len() / ROWS_PER_STATEMENT;
    let (head, tail) = batch.entries.split_at(groups * ROWS_PER_STATEMENT);
    if !head.is_empty() {
        let sql = MANY.get_or_init(|| insert_entries_sql(ROWS_PER_STATEMENT));
        let mut stmt = db.prepare(sql)?;
        bind_shared(&mut stmt, ROWS_PER_STATEMENT, batch)?;
        for (i, group) in head.chunks(ROWS_PER_STATEMENT).enumerate() {
            let at = i * ROWS_PER_STATEMENT;
            for (r, e) in group.iter().enumerate() {
                bind_entry(&mut stmt, r, e, date(at + r))?;
            }
            stmt.execute()?;
        }
    }
    if !tail.is_empty() {
        let sql = ONE.get_or_init(|| insert_entries_sql(1));
        let mut stmt = db.prepare(sql)?;
        bind_shared(&mut stmt, 1, batch)?;
        let at = head.len();
        for (r, e) in tail.iter().enumerate() {
            bind_entry(&mut stmt, 0, e, date(at + r))?;
            stmt.execute()?;
        }
    }
    Ok(batch.entries.len() as i64)
}

/// Bytes of an ISO date (2024-01-02).
const DATE_LEN: usize = 10;

/// Binds the batch's write, after the `rows` rows' own values.
fn bind_shared(stmt: &mut Stmt<'_>, rows: usize, batch: &EntryBatch) -> Result<(), Error> {
    let first = (rows * ROW_VALUES) as c_int + 1;
    if stmt.bind_int64(first, batch.write_id) != SQLITE_OK {
        return Err(stmt.error());
    }
    Ok(())
}

/// Binds entry `e` as row `r` of the statement. Every text bound lives in the batch (or beside it),
/// which outlives the statement.
fn bind_entry<'s>(
    stmt: &mut Stmt<'s>,
    r: usize,
    e: &'s NewEntry,
    date: &'s str,
) -> Result<(), Error> {
    let p = (r * ROW_VALUES) as c_int;
    let mut rc = stmt.bind_text(p + 1, &e.village);
    rc |= stmt.bind_int64(p + 2, e.date.year() as i64);
    rc |= stmt.bind_text(p + 3, date);
    rc |= stmt.bind_int64(p + 4, crate::account_numbers::number(e.account) as i64);
    rc |= stmt.bind_int64(p + 5, e.amount);
    rc |= stmt.bind_opt_text(p + 6, e.voucher.as_deref());
    rc |= stmt.bind_text(p + 7, &e.memo);
    rc |= stmt.bind_opt_text(p + 8, e.project.as_deref());
    rc |= stmt.bind_opt_text(p + 9, e.reverses.as_deref());
    if rc != SQLITE_OK {
        return Err(stmt.error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::db::Store;

    /// The function writes only inside a transaction and only rows parked for it.
    #[tokio::test]
    async fn bulk_writes_need_a_transaction_and_a_parked_batch() {
        let dir = std::env::temp_dir().join(format!("cunji-bulk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = Store::open(&url, true).await.unwrap();
        let outside = sqlx::query_scalar::<_, i64>("SELECT cunji_bulk_write(1)")
            .fetch_one(&store.pool)
            .await
            .unwrap_err();
        assert!(
            outside.to_string().contains("只能在事务中批量写入"),
            "{outside}"
        );
        let mut tx = store.begin_write().await.unwrap();
        let unknown = sqlx::query_scalar::<_, i64>("SELECT cunji_bulk_write(-7)")
            .fetch_one(&mut *tx)
            .await
            .unwrap_err();
        assert!(
            unknown.to_string().contains("没有编号为 -7 的待写数据"),
            "{unknown}"
        );
        // A row the unique index refuses fails the write with the database's own message.
        let entry = crate::entry_rows::NewEntry {
            line: 2,
            village: "110101001001".into(),
            date: cunji_core::date::Date::parse("2024-01-02").unwrap(),
            account: cunji_core::account::Account::OperatingRevenue,
            amount: 100,
            voucher: Some("记-1".into()),
            memo: String::new(),
            project: None,
            reverses: None,
        };
        let twice = super::EntryBatch {
            entries: vec![entry.clone(); 70],
            write_id: 1,
        };
        let refused = super::write(&mut tx, super::Bulk::Entries(twice))
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("UNIQUE constraint failed"),
            "{refused}"
        );
        drop(tx);
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
