//! The only foreign calls of cunji-store: thin safe wrappers over `libsqlite3-sys` for the SQL
//! functions cunji registers on every SQLite connection (`cunji_bulk_write` in `sqlite_bulk`, the
//! report's reads in `sqlite_read`). Those modules hold no `unsafe`; every `unsafe` of the crate's
//! database access is here, each block with the invariant it relies on.
//!
//! Why native calls at all (each measured in paired runs, docs/benchmarks.md, "unsafe, and what
//! each one buys"): an import's rows bound natively instead of as JSON through sqlx, 1M entries
//! 6.2 s → 1.9 s; a province's kept totals stepped natively instead of through the driver, 1.3 s →
//! 0.3 s; its entry facts 0.41–0.55 s → 0.22–0.28 s; the audit links and project income of an
//! import 0.40 → 0.12 s after the last row.
//!
//! What makes the wrappers safe to call:
//! - a registered function is called by SQLite only, with the connection's context; its
//!   connection (`Db`) and arguments (`Call`) are lent to safe code for the length of the call;
//! - a statement (`Stmt<'s>`) cannot outlive the call's connection, is finalized when dropped, and
//!   binds only bytes that outlive it (`'s`), so SQLite can read them without copying
//!   (`SQLITE_STATIC`);
//! - a row's column bytes (`Row<'r>`) borrow the statement, so it cannot step or reset while
//!   they are held; they are read only as blobs in UTF-8, the one access that never converts a
//!   value in place (which would free bytes handed out before);
//! - a function never unwinds into C: a panic is caught and becomes an SQL error.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::OnceLock;

use libsqlite3_sys as ffi;

/// SQLite's generic error code, for errors of cunji's own functions.
pub(crate) const SQLITE_ERROR: c_int = ffi::SQLITE_ERROR;

/// SQLite's code of success, as the binds return it.
pub(crate) const SQLITE_OK: c_int = ffi::SQLITE_OK;

/// An error to hand back to SQLite: its (extended) result code and message.
pub(crate) type Error = (c_int, String);

/// An SQL function of cunji: its name, its number of arguments, the message of a panic inside it,
/// and its body, which returns the function's integer result.
pub(crate) struct Function {
    pub name: &'static CStr,
    pub args: c_int,
    pub internal: &'static str,
    pub run: fn(&Call<'_>) -> Result<i64, Error>,
}

/// The functions registered on every connection, set once by `register`.
static FUNCTIONS: OnceLock<&'static [Function]> = OnceLock::new();

/// Registers `functions` on every SQLite connection this process opens from now on (an
/// auto-extension, as SQLite's own extensions are loaded). Only the first call's list counts.
pub(crate) fn register(functions: &'static [Function]) {
    if FUNCTIONS.set(functions).is_ok() {
        // SAFETY: `init` has the entry-point signature SQLite expects of an auto-extension and
        // touches nothing but the connection it is given.
        unsafe {
            ffi::sqlite3_auto_extension(Some(init));
        }
    }
}

/// Registers the functions of `FUNCTIONS` on a new connection.
///
/// # Safety
///
/// Called by SQLite only, as an auto-extension, with a connection being opened.
unsafe extern "C" fn init(
    db: *mut ffi::sqlite3,
    _err: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    for f in FUNCTIONS.get().copied().unwrap_or(&[]) {
        // SAFETY: `db` is the connection SQLite is opening; the name is a C string; the user data
        // is a `&'static Function`, alive as long as the process, which `call` reads back; no
        // destructor is needed for it. `SQLITE_DIRECTONLY`: the function cannot be reached from a
        // trigger or a view, only from a statement the program itself runs.
        let rc = unsafe {
            ffi::sqlite3_create_function_v2(
                db,
                f.name.as_ptr(),
                f.args,
                ffi::SQLITE_UTF8 | ffi::SQLITE_DIRECTONLY,
                std::ptr::from_ref(f).cast_mut().cast::<c_void>(),
                Some(call),
                None,
                None,
                None,
            )
        };
        if rc != ffi::SQLITE_OK {
            return rc;
        }
    }
    ffi::SQLITE_OK
}

/// The body SQLite calls for each of cunji's functions: runs the `Function` registered as its
/// user data, catching any panic, and sets its result.
///
/// # Safety
///
/// Called by SQLite only, for a function registered by `init` (its user data a `&'static
/// Function`), with `argc` protected values at `argv`.
unsafe extern "C" fn call(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: `init` registered every function with a `&'static Function` as its user data.
    let f = unsafe { &*ffi::sqlite3_user_data(ctx).cast::<Function>() };
    let args = match usize::try_from(argc) {
        // SAFETY: SQLite passes `argc` valid value pointers at `argv`, alive for the call.
        Ok(n) if n > 0 && !argv.is_null() => unsafe { std::slice::from_raw_parts(argv, n) },
        _ => &[],
    };
    let call = Call {
        ctx,
        args,
        _call: PhantomData,
    };
    // Unwind safety: after a panic nothing of the call is used again; the maps of parked rows
    // are read through their poison.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (f.run)(&call)));
    let (ok, error) = match outcome {
        Ok(Ok(n)) => (Some(n), None),
        Ok(Err((code, message))) => (None, Some((Some(code), message))),
        Err(_) => (None, Some((None, f.internal.to_string()))),
    };
    if let Some(n) = ok {
        // SAFETY: `ctx` is the context of this call.
        unsafe { ffi::sqlite3_result_int64(ctx, n) };
    }
    if let Some((code, message)) = error {
        let len = c_int::try_from(message.len()).unwrap_or(c_int::MAX);
        // SAFETY: `ctx` is the context of this call; SQLite copies the message's first `len`
        // bytes (at most its length) before returning.
        unsafe { ffi::sqlite3_result_error(ctx, message.as_ptr().cast(), len) };
        if let Some(code) = code {
            // After the message: the code then keeps it. sqlx panics on SQLITE_MISUSE from a
            // step, so no such code goes back to it.
            let code = if code & 0xff == ffi::SQLITE_MISUSE {
                ffi::SQLITE_ERROR
            } else {
                code
            };
            // SAFETY: `ctx` is the context of this call.
            unsafe { ffi::sqlite3_result_error_code(ctx, code) };
        }
    }
}

/// One call of a registered function: its arguments and its connection, lent for the call.
pub(crate) struct Call<'a> {
    ctx: *mut ffi::sqlite3_context,
    args: &'a [*mut ffi::sqlite3_value],
    _call: PhantomData<&'a ffi::sqlite3_context>,
}

impl<'a> Call<'a> {
    /// The number of arguments.
    pub fn args(&self) -> usize {
        self.args.len()
    }

    /// Argument `i` as an integer (SQLite's conversion: 0 for text that is not a number).
    ///
    /// Panics when there is no argument `i` (the caller checks `args` first).
    pub fn int64(&self, i: usize) -> i64 {
        // SAFETY: each argument is a protected value SQLite passed to this call, alive for it.
        unsafe { ffi::sqlite3_value_int64(self.args[i]) }
    }

    /// The connection the function was called on.
    pub fn db(&self) -> Db<'a> {
        // SAFETY: `ctx` is the context of this call.
        let raw = unsafe { ffi::sqlite3_context_db_handle(self.ctx) };
        Db {
            raw: NonNull::new(raw).expect("a function's context has a connection"),
            _call: PhantomData,
        }
    }
}

/// The connection a function was called on, for the length of the call.
#[derive(Clone, Copy)]
pub(crate) struct Db<'a> {
    raw: NonNull<ffi::sqlite3>,
    _call: PhantomData<&'a ffi::sqlite3>,
}

impl<'a> Db<'a> {
    /// Whether a transaction is open (the connection is not in autocommit mode).
    pub fn in_transaction(&self) -> bool {
        // SAFETY: the connection is open for the length of the call (`Db`'s lifetime).
        unsafe { ffi::sqlite3_get_autocommit(self.raw.as_ptr()) == 0 }
    }

    /// The connection's last error: its extended code and message.
    pub fn error(&self) -> Error {
        error_of(self.raw)
    }

    /// Prepares `sql` on the connection. The statement lives at most as long as the call (`'a`)
    /// and as whatever is bound to it (`'s`).
    pub fn prepare<'s>(&self, sql: &CStr) -> Result<Stmt<'s>, Error>
    where
        'a: 's,
    {
        let mut raw = std::ptr::null_mut();
        // SAFETY: the connection is open; `sql` is a NUL-terminated string (-1: read to its NUL);
        // SQLite writes the new statement (or null) into `raw`.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                self.raw.as_ptr(),
                sql.as_ptr(),
                -1,
                0,
                &mut raw,
                std::ptr::null_mut(),
            )
        };
        match NonNull::new(raw) {
            Some(raw) if rc == ffi::SQLITE_OK => Ok(Stmt {
                raw,
                db: self.raw,
                _bound: PhantomData,
            }),
            // An empty statement (only a comment) prepares to null without an error.
            _ if rc == ffi::SQLITE_OK => Err((ffi::SQLITE_ERROR, "空的 SQL 语句".to_string())),
            _ => Err(self.error()),
        }
    }
}

/// The last error of the connection `db`.
fn error_of(db: NonNull<ffi::sqlite3>) -> Error {
    // SAFETY: the connection is open; `sqlite3_errmsg` returns a NUL-terminated string valid
    // until the next call on the connection, copied here before any.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: the connection is open.
    let code = unsafe { ffi::sqlite3_extended_errcode(db.as_ptr()) };
    (code, message)
}

/// A prepared statement, finalized when dropped. What is bound to it lives at least as long
/// (`'s`), so SQLite reads it in place.
pub(crate) struct Stmt<'s> {
    raw: NonNull<ffi::sqlite3_stmt>,
    db: NonNull<ffi::sqlite3>,
    _bound: PhantomData<&'s [u8]>,
}

impl Drop for Stmt<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement came from `sqlite3_prepare_v3` and is finalized once, here.
        unsafe {
            ffi::sqlite3_finalize(self.raw.as_ptr());
        }
    }
}

impl<'s> Stmt<'s> {
    /// Binds parameter `i` (from 1) to an integer; SQLite's result code.
    pub fn bind_int64(&mut self, i: c_int, value: i64) -> c_int {
        // SAFETY: a live statement; a parameter out of range is SQLITE_RANGE, not a fault.
        unsafe { ffi::sqlite3_bind_int64(self.raw.as_ptr(), i, value) }
    }

    /// Binds parameter `i` to NULL; SQLite's result code.
    pub fn bind_null(&mut self, i: c_int) -> c_int {
        // SAFETY: a live statement.
        unsafe { ffi::sqlite3_bind_null(self.raw.as_ptr(), i) }
    }

    /// Binds parameter `i` to UTF-8 text, read in place (not copied); SQLite's result code.
    pub fn bind_text(&mut self, i: c_int, text: &'s str) -> c_int {
        // SAFETY: a live statement; the text outlives the statement (`'s`), so it stays valid for
        // every step (`SQLITE_STATIC`); its length is passed whole (64 bits: never negative,
        // which would make SQLite read to a NUL); it is UTF-8, as declared.
        unsafe {
            ffi::sqlite3_bind_text64(
                self.raw.as_ptr(),
                i,
                text.as_ptr().cast(),
                text.len() as u64,
                ffi::SQLITE_STATIC(),
                ffi::SQLITE_UTF8 as u8,
            )
        }
    }

    /// Binds parameter `i` to UTF-8 text or NULL; SQLite's result code.
    pub fn bind_opt_text(&mut self, i: c_int, text: Option<&'s str>) -> c_int {
        match text {
            Some(t) => self.bind_text(i, t),
            None => self.bind_null(i),
        }
    }

    /// Binds parameter `i` to a blob, read in place (not copied); SQLite's result code.
    pub fn bind_blob(&mut self, i: c_int, bytes: &'s [u8]) -> c_int {
        // SAFETY: as `bind_text`: the bytes outlive the statement and their length is passed whole.
        unsafe {
            ffi::sqlite3_bind_blob64(
                self.raw.as_ptr(),
                i,
                bytes.as_ptr().cast(),
                bytes.len() as u64,
                ffi::SQLITE_STATIC(),
            )
        }
    }

    /// The connection's last error (after a bind or step failed).
    pub fn error(&self) -> Error {
        error_of(self.db)
    }

    /// Runs the bound statement to its end once (a write) and makes it ready for the next row.
    pub fn execute(&mut self) -> Result<(), Error> {
        // SAFETY: a live statement, its bound values alive (`'s`).
        let done = unsafe { ffi::sqlite3_step(self.raw.as_ptr()) } == ffi::SQLITE_DONE;
        let e = (!done).then(|| self.error());
        // SAFETY: a live statement; resetting keeps its bindings.
        unsafe { ffi::sqlite3_reset(self.raw.as_ptr()) };
        e.map_or(Ok(()), Err)
    }

    /// Steps to the next row of a query: the row, `None` at the end, or the error.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, Error> {
        // SAFETY: a live statement, its bound values alive (`'s`).
        match unsafe { ffi::sqlite3_step(self.raw.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(Some(Row {
                stmt: self.raw,
                _step: PhantomData,
            })),
            ffi::SQLITE_DONE => Ok(None),
            _ => Err(self.error()),
        }
    }
}

/// The current row of a statement; its column bytes stay valid while it lives, since the statement
/// cannot step, reset or finalize meanwhile (the row borrows it).
pub(crate) struct Row<'r> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    _step: PhantomData<&'r mut ffi::sqlite3_stmt>,
}

impl<'r> Row<'r> {
    /// Column `i` as an integer (SQLite's conversion; 0 for NULL or a column out of range).
    pub fn int64(&self, i: c_int) -> i64 {
        // SAFETY: a statement on a row; a column out of range reads as NULL, not a fault.
        unsafe { ffi::sqlite3_column_int64(self.stmt.as_ptr(), i) }
    }

    /// Whether column `i` is NULL (asked before its bytes or integer are read, while the type is
    /// still the stored one).
    pub fn is_null(&self, i: c_int) -> bool {
        // SAFETY: a statement on a row; a column out of range reads as NULL, not a fault.
        unsafe { ffi::sqlite3_column_type(self.stmt.as_ptr(), i) == ffi::SQLITE_NULL }
    }

    /// Column `i` as bytes, whatever its type (text, blob, a number as its text; empty for NULL
    /// or a column out of range), valid as long as the row.
    pub fn bytes(&self, i: c_int) -> &'r [u8] {
        let s = self.stmt.as_ptr();
        // SAFETY: a statement on a row. Only `sqlite3_column_blob` and `sqlite3_column_bytes`
        // (UTF-8) are ever called on a column here, never `sqlite3_column_text` or the UTF-16
        // forms: the first call gives the value's bytes (a number converted to its text once), and
        // no later call on the row converts the value again, which is what would free bytes handed
        // out before. The bytes then stay valid until the statement steps, resets or finalizes,
        // which the row's borrow of it rules out for `'r`. SQLite gives null for an empty value.
        unsafe {
            let p = ffi::sqlite3_column_blob(s, i).cast::<u8>();
            if p.is_null() {
                return &[];
            }
            let n = usize::try_from(ffi::sqlite3_column_bytes(s, i)).unwrap_or(0);
            std::slice::from_raw_parts(p, n)
        }
    }
}
