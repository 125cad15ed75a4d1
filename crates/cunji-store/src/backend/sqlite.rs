//! SQLite: JSON through `json_each` / `json_group_array`, bulk rows bound natively by the function
//! `sqlite_bulk` registers on every connection.

use sqlx::Executor;

use super::Dialect;
use super::VillageFacts;
use crate::backend::sqlite_bulk::{self, Bulk, EntryBatch, Value};
use crate::backend::wal_flush::WalFlusher;
use crate::entry_rows::NewEntry;
use crate::entry_rows::TotalRow;

pub(crate) const MIGRATIONS: [(i64, &str); 19] = [
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../../migrations/sqlite/0002_web.sql")),
    (3, include_str!("../../migrations/sqlite/0003_stats.sql")),
    (
        4,
        include_str!("../../migrations/sqlite/0004_audit_chain.sql"),
    ),
    (5, include_str!("../../migrations/sqlite/0005_scale.sql")),
    (
        6,
        include_str!("../../migrations/sqlite/0006_lean_entries.sql"),
    ),
    // 7 is PostgreSQL's column type change alone; SQLite's facts column took bytes already.
    (
        8,
        include_str!("../../migrations/sqlite/0008_audit_scope.sql"),
    ),
    super::shared::WORKFLOW_RULES,
    (
        10,
        include_str!("../../migrations/sqlite/0010_attachments.sql"),
    ),
    super::shared::PUBLISHED_FIGURES,
    super::shared::SETTINGS,
    super::shared::STORY,
    super::shared::DISTRIBUTIONS,
    (
        15,
        include_str!("../../migrations/sqlite/0015_entry_sums.sql"),
    ),
    (16, include_str!("../../migrations/sqlite/0016_seals.sql")),
    super::shared::CONTRACTS,
    super::shared::CONTRACT_SEALS,
    (
        19,
        include_str!("../../migrations/sqlite/0019_receipt_seals.sql"),
    ),
    super::shared::KEPT_CONTRACT_YEARS,
];

/// Reads of a province's books map the file instead of copying it through read().
pub(crate) const MMAP_PRAGMA: &str = "PRAGMA mmap_size = 1073741824";

/// How long a writer waits for another's lock before SQLITE_BUSY (every connection, when opened).
pub(crate) const BUSY_TIMEOUT_PRAGMA: &str = "PRAGMA busy_timeout = 10000";

/// A write that may be skipped gives up at once instead (see `Backend::set_waiting`).
const NO_WAIT_PRAGMA: &str = "PRAGMA busy_timeout = 0";

pub(super) async fn set_waiting(
    conn: &mut sqlx::AnyConnection,
    wait: bool,
) -> Result<(), sqlx::Error> {
    let pragma = if wait {
        BUSY_TIMEOUT_PRAGMA
    } else {
        NO_WAIT_PRAGMA
    };
    conn.execute(pragma).await.map(|_| ())
}

pub(crate) static DIALECT: Dialect = Dialect {
    migrations: &MIGRATIONS,
    entry_batch_rows: crate::entry_rows::BATCH_ROWS,
    facts_column: "CAST(facts AS BLOB)",
    texts_of_param_2: "SELECT value FROM json_each($2)",
    upsert_regions: "INSERT INTO regions (code, name, level, merged_in) \
         SELECT value->>0, value->>1, value->>2, value->>3 FROM json_each($1) WHERE true \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, merged_in = excluded.merged_in",
    unlink_predecessors:
        "DELETE FROM region_predecessors WHERE successor IN (SELECT value->>0 FROM json_each($1))",
    link_predecessors: "INSERT INTO region_predecessors (predecessor, successor) \
         SELECT value->>0, value->>1 FROM json_each($1)",
    regions_array: "SELECT json_group_array(json_array(code, name, merged_in)) FROM regions",
    totals_text: super::TOTALS_TEXT,
    cadres_array: "SELECT json_group_array(json_array(village, year, person, name, role, months_in_post, sanctioned, base_pay, appraisal)) \
         FROM cadres WHERE year = $1",
    all_sums: "SELECT village, year, CAST(sums AS BLOB) FROM entry_sums",
    entries_array: (
        "SELECT json_group_array(json_array(id, date, account, amount, voucher, memo, project, reverses, source, actor, reversed_by)) \
         FROM (SELECT * FROM (",
        ") ORDER BY date, id)",
    ),
};

pub(super) async fn write_entries(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    write_id: i64,
    entries: Vec<NewEntry>,
) -> Result<(), sqlx::Error> {
    sqlite_bulk::write(tx, Bulk::Entries(EntryBatch { entries, write_id })).await
}

pub(super) async fn write_totals(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    totals: Vec<TotalRow>,
) -> Result<(), sqlx::Error> {
    let rows = totals
        .into_iter()
        .map(|(v, y, a, amount, n)| {
            vec![
                Value::Text(v),
                Value::Int(y as i64),
                Value::Text(a.key().to_string()),
                Value::Int(amount),
                Value::Int(n),
            ]
        })
        .collect();
    let sql = sqlite_bulk::UPSERT_TOTALS;
    sqlite_bulk::write(tx, Bulk::Rows { sql, rows }).await
}

pub(super) async fn write_project_totals(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    projects: Vec<(String, i32, i64)>,
) -> Result<(), sqlx::Error> {
    let rows = projects
        .into_iter()
        .map(|(p, y, amount)| vec![Value::Text(p), Value::Int(y as i64), Value::Int(amount)])
        .collect();
    let sql = sqlite_bulk::UPSERT_PROJECT_TOTALS;
    sqlite_bulk::write(tx, Bulk::Rows { sql, rows }).await
}

pub(super) async fn write_kept(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    kept: super::Kept,
    year: i32,
    rows: Vec<VillageFacts>,
) -> Result<(), sqlx::Error> {
    let rows = rows
        .into_iter()
        .map(|(v, bytes)| vec![Value::Int(year as i64), Value::Text(v), Value::Blob(bytes)])
        .collect();
    let sql = match kept {
        super::Kept::Facts => sqlite_bulk::UPSERT_FACTS,
        super::Kept::Sums => sqlite_bulk::UPSERT_SUMS,
    };
    sqlite_bulk::write(tx, Bulk::Rows { sql, rows }).await
}

/// The memory map is turned off while a connection writes in bulk: extending and checkpointing a
/// mapped file made the commit of a million entries twice as slow, while reads gain from the map.
pub(super) async fn before_bulk(
    conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
) -> Result<Option<WalFlusher>, sqlx::Error> {
    conn.execute("PRAGMA mmap_size = 0").await?;
    let file: Option<String> =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_optional(&mut **conn)
            .await?;
    // An in-memory database has no file, and no log to sync.
    Ok(file
        .filter(|f| !f.is_empty())
        .and_then(|f| WalFlusher::start(&f)))
}

pub(super) async fn after_bulk(conn: &mut sqlx::pool::PoolConnection<sqlx::Any>) -> bool {
    conn.execute(MMAP_PRAGMA).await.is_ok()
}
