//! The one seam between SQLite and PostgreSQL. A store's backend is chosen once, when it is opened
//! from its URL; everything the two do differently lives behind [`Backend`]: the migrations, the SQL
//! that builds or expands JSON arrays (how a province's rows cross the driver as one value instead of
//! millions), and the bulk writes of an import (SQLite binds rows natively through `sqlite_bulk`,
//! PostgreSQL parses one `jsonb` array a batch). The rest of the store writes portable SQL and asks
//! the backend for these pieces, so that no query decides by itself which database it is on.

pub(crate) mod insert;
pub(crate) mod pg_read;
pub(crate) mod postgres;
pub(crate) mod reads;
pub(crate) mod sqlite;
pub(crate) mod sqlite_bulk;
pub(crate) mod sqlite_native;
pub(crate) mod sqlite_read;
pub(crate) mod wal_flush;

use crate::entry_rows::NewEntry;
use crate::entry_rows::TotalRow;

/// The migrations both backends run as written (`migrations/shared/`), each named once for both
/// backends' lists (`sqlite::MIGRATIONS`, `postgres::MIGRATIONS`).
mod shared {
    pub(crate) const WORKFLOW_RULES: (i64, &str) = (
        9,
        include_str!("../../migrations/shared/0009_workflow_rules.sql"),
    );
    pub(crate) const PUBLISHED_FIGURES: (i64, &str) = (
        11,
        include_str!("../../migrations/shared/0011_published_figures.sql"),
    );
    pub(crate) const SETTINGS: (i64, &str) = (
        12,
        include_str!("../../migrations/shared/0012_settings.sql"),
    );
    pub(crate) const STORY: (i64, &str) =
        (13, include_str!("../../migrations/shared/0013_story.sql"));
    pub(crate) const DISTRIBUTIONS: (i64, &str) = (
        14,
        include_str!("../../migrations/shared/0014_distributions.sql"),
    );
    pub(crate) const CONTRACTS: (i64, &str) = (
        17,
        include_str!("../../migrations/shared/0017_contracts.sql"),
    );
    pub(crate) const CONTRACT_SEALS: (i64, &str) = (
        18,
        include_str!("../../migrations/shared/0018_contract_seals.sql"),
    );
    pub(crate) const KEPT_CONTRACT_YEARS: (i64, &str) = (
        20,
        include_str!("../../migrations/shared/0020_kept_contract_years.sql"),
    );
}

/// Every village-year account total from year `$1` on as one text, in portable SQL: both
/// backends read it the same way (`Dialect::totals_text`).
const TOTALS_TEXT: &str = "SELECT COALESCE(string_agg(village || ',' || year || ',' || account || ',' || amount || ',' || entries, ';'), '') FROM totals WHERE year >= $1";

/// A village's kept text (entry facts or sums), by its code, as a backend writes it.
pub(crate) type VillageFacts = (String, Vec<u8>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The SQL that differs between the backends.
pub(crate) struct Dialect {
    /// The migrations, by version.
    pub migrations: &'static [(i64, &'static str)],
    /// Entries an import checks and writes a batch at a time.
    pub entry_batch_rows: usize,
    /// The `entry_facts.facts` column as bytes (SQLite may hold the JSON text of older versions).
    pub facts_column: &'static str,
    /// The texts of a JSON array bound as `$2`, as a subquery.
    pub texts_of_param_2: &'static str,
    /// Regions written from a JSON array bound as `$1` of `[code, name, level, merged_in]`.
    pub upsert_regions: &'static str,
    /// Predecessor links removed for the successors of a JSON array `$1` of `[code]`.
    pub unlink_predecessors: &'static str,
    /// Predecessor links written from a JSON array `$1` of `[predecessor, successor]`.
    pub link_predecessors: &'static str,
    /// Every region as one JSON array of `[code, name, merged_in]`.
    pub regions_array: &'static str,
    /// Every kept total as one text, `village,year,account,amount,entries` joined by `;` (one row
    /// through the driver instead of one a village; PostgreSQL builds it in a third of the time of
    /// the JSON arrays it built a village at a time).
    pub totals_text: &'static str,
    /// The cadres of year `$1` as one JSON array, in no order (the reader sorts them in byte order).
    pub cadres_array: &'static str,
    /// Every kept sum as `village, year, sums` bytes (SQLite casts: a value changed by hand may
    /// have become text).
    pub all_sums: &'static str,
    /// Around a query of entries (`… FROM (` + query + `) …`): one JSON array ordered by date and id.
    pub entries_array: (&'static str, &'static str),
}

impl Backend {
    /// The backend `conn` runs on, for code that holds a transaction and no store: the one place
    /// that reads the driver's name.
    pub(crate) fn of(conn: &sqlx::AnyConnection) -> Backend {
        if conn.backend_name() == "SQLite" {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// Is the database one file this process opens (SQLite), which cunji backs up, checks for
    /// damaged pages and checkpoints itself? PostgreSQL keeps its own files (`pg_dump`).
    pub fn is_file(self) -> bool {
        matches!(self, Backend::Sqlite)
    }

    pub(crate) fn dialect(self) -> &'static Dialect {
        match self {
            Backend::Sqlite => &sqlite::DIALECT,
            Backend::Postgres => &postgres::DIALECT,
        }
    }

    /// Stores a batch of checked entries as rows of write `write_id`.
    pub(crate) async fn write_entries(
        self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        write_id: i64,
        entries: Vec<NewEntry>,
    ) -> Result<(), sqlx::Error> {
        match self {
            Backend::Sqlite => sqlite::write_entries(tx, write_id, entries).await,
            Backend::Postgres => postgres::write_entries(tx, write_id, &entries).await,
        }
    }

    /// Adds rows to the kept totals.
    pub(crate) async fn write_totals(
        self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        totals: Vec<TotalRow>,
    ) -> Result<(), sqlx::Error> {
        match self {
            Backend::Sqlite => sqlite::write_totals(tx, totals).await,
            Backend::Postgres => postgres::write_totals(tx, &totals).await,
        }
    }

    /// Writes (replaces) what is kept of villages of one year: their entry facts or sums.
    pub(crate) async fn write_kept(
        self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        kept: Kept,
        year: i32,
        rows: Vec<VillageFacts>,
    ) -> Result<(), sqlx::Error> {
        match self {
            Backend::Sqlite => sqlite::write_kept(tx, kept, year, rows).await,
            Backend::Postgres => postgres::write_kept(tx, kept, year, &rows).await,
        }
    }

    /// Adds (project, year, amount) rows to the kept income of projects.
    pub(crate) async fn write_project_totals(
        self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        projects: Vec<(String, i32, i64)>,
    ) -> Result<(), sqlx::Error> {
        match self {
            Backend::Sqlite => sqlite::write_project_totals(tx, projects).await,
            Backend::Postgres => postgres::write_project_totals(tx, &projects).await,
        }
    }

    /// Whether writes on `conn` wait for another writer's lock (`true`, as every connection does
    /// when opened) or give up at once (`false`: a write that may be skipped, such as keeping a
    /// report's contract figures, must not hold a report for the length of someone's import). On
    /// PostgreSQL such writes take no lock an import holds: nothing to change.
    pub(crate) async fn set_waiting(
        self,
        conn: &mut sqlx::AnyConnection,
        wait: bool,
    ) -> Result<(), sqlx::Error> {
        match self {
            Backend::Sqlite => sqlite::set_waiting(conn, wait).await,
            Backend::Postgres => Ok(()),
        }
    }

    /// Readies a connection for one large write; on SQLite, its log is then synced as it is written
    /// until the flusher returned is dropped.
    pub(crate) async fn before_bulk(
        self,
        conn: &mut sqlx::pool::PoolConnection<sqlx::Any>,
    ) -> Result<Option<crate::backend::wal_flush::WalFlusher>, sqlx::Error> {
        match self {
            Backend::Sqlite => sqlite::before_bulk(conn).await,
            Backend::Postgres => Ok(None),
        }
    }

    /// Restores a connection after a large write; `false` when it could not be (close it).
    pub(crate) async fn after_bulk(self, conn: &mut sqlx::pool::PoolConnection<sqlx::Any>) -> bool {
        match self {
            Backend::Sqlite => sqlite::after_bulk(conn).await,
            Backend::Postgres => true,
        }
    }
}

/// What is kept of each village-year beside its entries, one value a village: the entry facts
/// (`facts`), or their sums (`entry_sums`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kept {
    Facts,
    Sums,
}

impl Kept {
    /// The table and its value's column.
    pub(crate) fn table(self) -> (&'static str, &'static str) {
        match self {
            Kept::Facts => ("entry_facts", "facts"),
            Kept::Sums => ("entry_sums", "sums"),
        }
    }
}

/// Links an audit row to the villages it concerns, so that the log can be read within a user's
/// scope (`audit_log_within`).
pub(crate) async fn touch<'v>(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    villages: impl IntoIterator<Item = &'v str>,
) -> Result<(), sqlx::Error> {
    use insert::{Insert, Kind};
    use sqlite_bulk::Value;
    const INSERT: Insert = Insert {
        native: sqlite_bulk::TOUCH_VILLAGE,
        head: "INSERT INTO audit_villages (audit_id, village) VALUES",
        tail: "ON CONFLICT DO NOTHING",
        columns: &[Kind::Int, Kind::Text],
    };
    let mut villages: Vec<&str> = villages.into_iter().collect();
    villages.sort_unstable();
    villages.dedup();
    let rows = villages
        .into_iter()
        .map(|v| vec![Value::Text(v.to_string())])
        .collect();
    let backend = Backend::of(tx);
    backend
        .insert_rows(tx, &INSERT, Value::Int(audit_id), rows)
        .await
}
