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
//! Safety: the rows are shared (`Arc`), never borrowed, so a caller that stops waiting cannot free
//! them under the function; the function refuses to run outside a transaction, cannot be called
//! from triggers or views (`SQLITE_DIRECTONLY`), and never unwinds into C.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, CStr};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Once};

use libsqlite3_sys as ffi;

use crate::import::entries::NewEntry;

/// Rows to insert and the write they belong to (`entry_writes`).
pub(crate) struct EntryBatch {
    pub entries: Vec<NewEntry>,
    pub write_id: i64,
}

/// A value of a generic row.
pub(crate) enum Value {
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

/// Registers cunji's SQL functions (the bulk write and the report's native reads) for every SQLite
/// connection opened from now on.
pub(crate) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `init` has the entry-point signature SQLite expects and registers our functions.
        unsafe {
            ffi::sqlite3_auto_extension(Some(init));
        }
    });
}

unsafe extern "C" fn init(
    db: *mut ffi::sqlite3,
    _err: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    type Function =
        unsafe extern "C" fn(*mut ffi::sqlite3_context, c_int, *mut *mut ffi::sqlite3_value);
    let functions: [(&std::ffi::CStr, c_int, Function); 4] = [
        (c"cunji_bulk_write", 1, bulk_write),
        (c"cunji_read_totals", 2, crate::sqlite_read::read_totals_fn),
        (c"cunji_read_facts", 2, crate::sqlite_read::read_facts_fn),
        (c"cunji_read_sums", 2, crate::sqlite_read::read_sums_fn),
    ];
    for (name, args, function) in functions {
        let rc = ffi::sqlite3_create_function_v2(
            db,
            name.as_ptr(),
            args,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DIRECTONLY,
            std::ptr::null_mut(),
            Some(function),
            None,
            None,
            None,
        );
        if rc != ffi::SQLITE_OK {
            return rc;
        }
    }
    ffi::SQLITE_OK
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

unsafe extern "C" fn bulk_write(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    let outcome = std::panic::catch_unwind(|| {
        if argc != 1 {
            return Err((
                ffi::SQLITE_ERROR,
                "cunji_bulk_write 需要一个参数".to_string(),
            ));
        }
        let db = ffi::sqlite3_context_db_handle(ctx);
        if ffi::sqlite3_get_autocommit(db) != 0 {
            return Err((ffi::SQLITE_ERROR, "只能在事务中批量写入".to_string()));
        }
        let token = ffi::sqlite3_value_int64(*argv);
        let Some(bulk) = take(token) else {
            return Err((ffi::SQLITE_ERROR, format!("没有编号为 {token} 的待写数据")));
        };
        match &*bulk {
            Bulk::Entries(batch) => insert_entries(db, batch),
            Bulk::Rows { sql, rows } => write_rows(db, sql, rows),
        }
    });
    finish(ctx, outcome, "批量写入时出现内部错误");
}

/// The parked write of `token`, unless it is not there or was taken already.
fn take(token: i64) -> Option<Arc<Bulk>> {
    let mut parked = park();
    let p = parked.get_mut(&token).filter(|p| !p.taken)?;
    p.taken = true;
    Some(p.bulk.clone())
}

/// Sets the function's result: the number of rows, or the error with its code.
pub(crate) unsafe fn finish(
    ctx: *mut ffi::sqlite3_context,
    outcome: std::thread::Result<Result<i64, (c_int, String)>>,
    internal: &str,
) {
    match outcome {
        Ok(Ok(n)) => ffi::sqlite3_result_int64(ctx, n),
        Ok(Err((code, message))) => {
            ffi::sqlite3_result_error(ctx, message.as_ptr().cast(), message.len() as c_int);
            // After the message: the code then keeps it. sqlx panics on SQLITE_MISUSE from a
            // step, so no such code goes back to it.
            let code = if code & 0xff == ffi::SQLITE_MISUSE {
                ffi::SQLITE_ERROR
            } else {
                code
            };
            ffi::sqlite3_result_error_code(ctx, code);
        }
        Err(_) => {
            ffi::sqlite3_result_error(ctx, internal.as_ptr().cast(), internal.len() as c_int);
        }
    }
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

/// A prepared statement, finalized however its use ends.
pub(crate) struct Statement(pub(crate) *mut ffi::sqlite3_stmt);

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the statement came from sqlite3_prepare_v3 and is finalized once.
        unsafe {
            ffi::sqlite3_finalize(self.0);
        }
    }
}

pub(crate) unsafe fn error_of(db: *mut ffi::sqlite3) -> (c_int, String) {
    let message = CStr::from_ptr(ffi::sqlite3_errmsg(db))
        .to_string_lossy()
        .into_owned();
    (ffi::sqlite3_extended_errcode(db), message)
}

/// Binds text that outlives the statement's use of it (`SQLITE_STATIC`: not copied).
unsafe fn bind_text(stmt: *mut ffi::sqlite3_stmt, i: c_int, text: &str) -> c_int {
    ffi::sqlite3_bind_text(
        stmt,
        i,
        text.as_ptr().cast(),
        text.len() as c_int,
        ffi::SQLITE_STATIC(),
    )
}

unsafe fn bind_opt_text(stmt: *mut ffi::sqlite3_stmt, i: c_int, text: Option<&str>) -> c_int {
    match text {
        Some(t) => bind_text(stmt, i, t),
        None => ffi::sqlite3_bind_null(stmt, i),
    }
}

pub(crate) unsafe fn prepare(
    db: *mut ffi::sqlite3,
    sql: &CStr,
) -> Result<Statement, (c_int, String)> {
    let mut raw = std::ptr::null_mut();
    let rc = ffi::sqlite3_prepare_v3(db, sql.as_ptr(), -1, 0, &mut raw, std::ptr::null_mut());
    if rc != ffi::SQLITE_OK {
        return Err(error_of(db));
    }
    Ok(Statement(raw))
}

/// Runs the bound statement once and makes it ready for the next row.
unsafe fn step(db: *mut ffi::sqlite3, s: *mut ffi::sqlite3_stmt) -> Result<(), (c_int, String)> {
    let done = ffi::sqlite3_step(s) == ffi::SQLITE_DONE;
    let e = (!done).then(|| error_of(db));
    ffi::sqlite3_reset(s);
    e.map_or(Ok(()), Err)
}

unsafe fn write_rows(
    db: *mut ffi::sqlite3,
    sql: &CStr,
    rows: &[Vec<Value>],
) -> Result<i64, (c_int, String)> {
    let stmt = prepare(db, sql)?;
    let s = stmt.0;
    for row in rows {
        let mut rc = ffi::SQLITE_OK;
        for (i, v) in row.iter().enumerate() {
            let i = i as c_int + 1;
            rc |= match v {
                Value::Int(n) => ffi::sqlite3_bind_int64(s, i, *n),
                Value::Text(t) => bind_text(s, i, t),
                Value::Blob(b) => ffi::sqlite3_bind_blob(
                    s,
                    i,
                    b.as_ptr().cast(),
                    b.len() as c_int,
                    ffi::SQLITE_STATIC(),
                ),
            };
        }
        if rc != ffi::SQLITE_OK {
            return Err(error_of(db));
        }
        step(db, s)?;
    }
    Ok(rows.len() as i64)
}

unsafe fn insert_entries(
    db: *mut ffi::sqlite3,
    batch: &EntryBatch,
) -> Result<i64, (c_int, String)> {
    static MANY: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();
    static ONE: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();
    let dates: Vec<[u8; 10]> = batch
        .entries
        .iter()
        .map(|e| e.date.iso_bytes())
        .collect::<Option<_>>()
        .ok_or((ffi::SQLITE_ERROR, "分录日期的年份超出范围".to_string()))?;
    let groups = batch.entries.len() / ROWS_PER_STATEMENT;
    let (head, tail) = batch.entries.split_at(groups * ROWS_PER_STATEMENT);
    if !head.is_empty() {
        let sql = MANY.get_or_init(|| insert_entries_sql(ROWS_PER_STATEMENT));
        let stmt = prepare(db, sql)?;
        bind_shared(db, stmt.0, ROWS_PER_STATEMENT, batch)?;
        for (i, group) in head.chunks(ROWS_PER_STATEMENT).enumerate() {
            let at = i * ROWS_PER_STATEMENT;
            for (r, e) in group.iter().enumerate() {
                bind_entry(db, stmt.0, r, e, &dates[at + r])?;
            }
            step(db, stmt.0)?;
        }
    }
    if !tail.is_empty() {
        let sql = ONE.get_or_init(|| insert_entries_sql(1));
        let stmt = prepare(db, sql)?;
        bind_shared(db, stmt.0, 1, batch)?;
        let at = head.len();
        for (r, e) in tail.iter().enumerate() {
            bind_entry(db, stmt.0, 0, e, &dates[at + r])?;
            step(db, stmt.0)?;
        }
    }
    Ok(batch.entries.len() as i64)
}

/// Binds the batch's write, after the `rows` rows' own values.
unsafe fn bind_shared(
    db: *mut ffi::sqlite3,
    s: *mut ffi::sqlite3_stmt,
    rows: usize,
    batch: &EntryBatch,
) -> Result<(), (c_int, String)> {
    let first = (rows * ROW_VALUES) as c_int + 1;
    if ffi::sqlite3_bind_int64(s, first, batch.write_id) != ffi::SQLITE_OK {
        return Err(error_of(db));
    }
    Ok(())
}

/// Binds entry `e` as row `r` of the statement. Every text bound lives in the batch, which outlives
/// the statement.
unsafe fn bind_entry(
    db: *mut ffi::sqlite3,
    s: *mut ffi::sqlite3_stmt,
    r: usize,
    e: &NewEntry,
    date: &[u8; 10],
) -> Result<(), (c_int, String)> {
    let p = (r * ROW_VALUES) as c_int;
    let mut rc = bind_text(s, p + 1, &e.village);
    rc |= ffi::sqlite3_bind_int64(s, p + 2, e.date.year() as i64);
    rc |= ffi::sqlite3_bind_text(
        s,
        p + 3,
        date.as_ptr().cast(),
        date.len() as c_int,
        ffi::SQLITE_STATIC(),
    );
    rc |= ffi::sqlite3_bind_int64(s, p + 4, crate::account_numbers::number(e.account) as i64);
    rc |= ffi::sqlite3_bind_int64(s, p + 5, e.amount);
    rc |= bind_opt_text(s, p + 6, e.voucher.as_deref());
    rc |= bind_text(s, p + 7, &e.memo);
    rc |= bind_opt_text(s, p + 8, e.project.as_deref());
    rc |= bind_opt_text(s, p + 9, e.reverses.as_deref());
    if rc != ffi::SQLITE_OK {
        return Err(error_of(db));
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
        let entry = crate::import::entries::NewEntry {
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
