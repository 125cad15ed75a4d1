//! Opening the database from a URL, and the embedded migrations.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor, Row};

pub use crate::backend::Backend;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库文件 {0} 不存在（地址写错了？要新建请先导入区划：cunji import regions FILE）")]
    Missing(String),
    #[error("不支持的数据库地址 `{0}`（应为 sqlite://文件 或 postgres://…）")]
    BadUrl(String),
    #[error("数据库错误：{0}")]
    Db(sqlx::Error),
    /// The user's input breaks a rule (a missing reason, a bad date, a file over its quota): theirs
    /// to fix, said in Chinese. Web: 422; CLI: exit 2.
    #[error("{0}")]
    Invalid(String),
    /// No such thing (an entry, a proposal, a user, a policy version, a village): web 404, CLI exit 2.
    #[error("{0}")]
    NotFound(String),
    /// The thing exists but its state forbids the step now (a year closed, a name taken, a step out
    /// of order, a record changed outside cunji): web 409, CLI exit 2.
    #[error("{0}")]
    Conflict(String),
    /// The database holds a value cunji cannot read (an unknown role, a malformed date): not the
    /// user's doing. Web: 500 with the cause logged; CLI: exit 1 with the message.
    #[error("{0}")]
    Corrupt(String),
    /// The database cannot be reached or read (a server down, a file that is not a database): not
    /// the user's input, said with the path or host.
    #[error("{0}")]
    Unavailable(String),
}

/// A pool that timed out or closed, or a connection that broke, is the database being unreachable
/// (`Unavailable`: web 503), not a failure of the request; everything else stays `Db` (500).
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(format!("数据库暂时无法访问：{e}"))
            }
            other => StoreError::Db(other),
        }
    }
}

/// A connection readied for one large write (`Store::bulk_connection`).
pub(crate) struct BulkConnection {
    pub conn: sqlx::pool::PoolConnection<sqlx::Any>,
    _flusher: Option<crate::wal_flush::WalFlusher>,
}

/// The database: a pool and which backend it is.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub backend: Backend,
    /// The SQLite file (its disk's free space is reported by `/healthz`).
    pub(crate) sqlite_file: Option<PathBuf>,
}

/// The connection options of `url`. A province's reads take one to two and a half seconds by design
/// (a country's register, its cadres, its kept totals): sqlx's warning about statements over one
/// second would print English SQL at every report, so only those over ten seconds are logged.
fn connect_options(url: &str) -> Result<sqlx::any::AnyConnectOptions, StoreError> {
    use sqlx::ConnectOptions;
    let options: sqlx::any::AnyConnectOptions = url.parse()?;
    Ok(options.log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(10)))
}

/// The server's notices ("relation … already exists, skipping") are not for the person running
/// cunji; warnings and errors still come through.
const QUIET_NOTICES: &str = "SET client_min_messages = warning";

/// A pool of PostgreSQL connections, each given `settings` when it opens.
async fn postgres_pool(
    url: &str,
    settings: &'static [&'static str],
) -> Result<AnyPool, StoreError> {
    let pool = AnyPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                for setting in settings {
                    conn.execute(*setting).await?;
                }
                Ok(())
            })
        })
        .connect_with(connect_options(url)?)
        .await?;
    Ok(pool)
}

/// The file a `sqlite:` URL names.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// How long opening a database may take before it is refused with its reason (#32: an unreachable
/// server used to fail after 30 s with sqlx's "pool timed out").
pub const CONNECT_WITHIN: Duration = Duration::from_secs(4);

/// One connection to the PostgreSQL server of `url`, within `CONNECT_WITHIN`, before the pool is
/// made: a server that is down, a wrong host or a refused login is said at once, naming the host.
async fn reach_postgres(url: &str) -> Result<(), StoreError> {
    use sqlx::Connection;
    let host = postgres_host(url);
    let options = connect_options(url)?;
    match tokio::time::timeout(CONNECT_WITHIN, sqlx::AnyConnection::connect_with(&options)).await
    {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(StoreError::Unavailable(format!(
            "无法连接 PostgreSQL 服务器 {host}：{}（{e}）",
            postgres_refusal_zh(&e.to_string())
        ))),
        Err(_) => Err(StoreError::Unavailable(format!(
            "无法连接 PostgreSQL 服务器 {host}：{} 秒内没有应答（服务器没有运行、地址写错或被防火墙挡住）",
            CONNECT_WITHIN.as_secs()
        ))),
    }
}

/// What a refused connection means, for the person who typed the address.
fn postgres_refusal_zh(e: &str) -> &'static str {
    if e.contains("Connection refused") {
        "连接被拒绝：服务器没有运行，或端口不对"
    } else if e.contains("password authentication") || e.contains("authentication failed") {
        "用户名或密码不对"
    } else if e.contains("does not exist") {
        "数据库或用户不存在（cunji 不会新建 PostgreSQL 数据库）"
    } else if e.contains("failed to lookup address") || e.contains("Name or service not known") {
        "找不到这个主机名"
    } else {
        "连接失败"
    }
}

/// `host:port` of a PostgreSQL URL (never its password).
fn postgres_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_string()
}

/// An existing SQLite file must be readable and be a SQLite database: said at once with its path,
/// rather than after the pool's 30 s of retries.
fn readable_sqlite(path: &std::path::Path) -> Result<(), StoreError> {
    use std::io::Read;
    let shown = path.display();
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::Unavailable(format!(
                "无法读取数据库文件 {shown}：{e}（请检查文件权限和所在磁盘）"
            )))
        }
    };
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(StoreError::Unavailable(format!(
            "数据库文件 {shown} 是一个目录，不是 SQLite 数据库"
        )));
    }
    let mut header = [0u8; 16];
    let n = file.read(&mut header).map_err(|e| {
        StoreError::Unavailable(format!(
            "无法读取数据库文件 {shown}：{e}（请检查文件权限和所在磁盘）"
        ))
    })?;
    if n > 0 && (n < 16 || &header != b"SQLite format 3\0") {
        return Err(StoreError::Unavailable(format!(
            "{shown} 不是 SQLite 数据库文件（文件头不对：可能已损坏，或不是 cunji 的数据库）"
        )));
    }
    Ok(())
}

impl Store {
    /// Opens the database at `url`. A missing SQLite file is created only with `create`; otherwise it is an
    /// error, so that a mistyped path never silently opens an empty database.
    pub async fn open(url: &str, create: bool) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // A mistyped server database is an error from the server; it is never created here.
            reach_postgres(url).await?;
            let pool = postgres_pool(url, &[QUIET_NOTICES]).await?;
            let store = Store {
                pool,
                backend: Backend::Postgres,
                sqlite_file: None,
            };
            store.migrate().await?;
            return Ok(store);
        }
        let Some(path) = sqlite_path(url) else {
            return Err(StoreError::BadUrl(url.into()));
        };
        if !create && !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        readable_sqlite(&path)?;
        crate::sqlite_bulk::register();
        let connect_url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    // Before WAL, which fixes it; only a new, empty file takes it. 16 KiB pages
                    // store an import's million entries about a fifth faster than 4 KiB ones.
                    conn.execute("PRAGMA page_size = 16384").await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    // FULL: a commit returns only once the log holding it is on disk, so a write
                    // acknowledged to a user survives a power cut, not only a crash (#32). The
                    // bulk writer's log syncs (`wal_flush`) leave an import's commit little to wait.
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute(crate::backend::sqlite::MMAP_PRAGMA).await?;
                    Ok(())
                })
            })
            .connect_with(connect_options(&connect_url)?)
            .await?;
        let store = Store {
            pool,
            backend: Backend::Sqlite,
            sqlite_file: Some(path),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Opens a PostgreSQL read-only replica (a hot standby streaming from the primary) for report
    /// reads: nothing is migrated there (a standby refuses every write), every connection is read-only
    /// so no write can go astray, and its schema must be the one this binary knows, all migrations of
    /// the primary having reached it.
    pub async fn open_replica(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Invalid(
                "只读副本须是 PostgreSQL 数据库（postgres://…）".into(),
            ));
        }
        let pool = postgres_pool(
            url,
            &[QUIET_NOTICES, "SET default_transaction_read_only = on"],
        )
        .await?;
        let store = Store {
            pool,
            backend: Backend::Postgres,
            sqlite_file: None,
        };
        let known = store
            .backend
            .dialect()
            .migrations
            .iter()
            .map(|(v, _)| *v)
            .max()
            .unwrap_or(0);
        let applied: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            .fetch_one(&store.pool)
            .await
            .map_err(|_| {
                StoreError::Invalid("只读副本上没有 cunji 的数据库（须是主库的流复制副本）".into())
            })?
            .try_get(0)?;
        if applied != known {
            return Err(StoreError::Invalid(format!(
                "只读副本的结构版本（{applied}）与本程序（{known}）不一致：请先用本程序打开主库完成升级，待副本同步后再启动"
            )));
        }
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        /// The migration that keeps the entry sums, filled here from the stored facts.
        const ENTRY_SUMS_VERSION: i64 = 15;
        /// The migration that seals the rows holding decisions and permissions, stored before it.
        const SEALS_VERSION: i64 = 16;
        /// The migration that seals the contract tables (migration 17), stored before it.
        const CONTRACT_SEALS_VERSION: i64 = 18;
        self.pool
            .execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, at BIGINT NOT NULL)")
            .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_version")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()?;
        let migrations = self.backend.dialect().migrations;
        // A database a newer cunji has migrated is left alone: this binary does not know its tables.
        let known = migrations.iter().map(|(v, _)| *v).max().unwrap_or(0);
        if let Some(newer) = applied.iter().copied().filter(|v| *v > known).max() {
            return Err(StoreError::Invalid(format!(
                "数据库已由较新版本的 cunji 升级（结构版本 {newer}，本程序只到 {known}），未做任何改动；请使用新版本"
            )));
        }
        for (version, sql) in migrations.iter().copied() {
            if applied.contains(&version) {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            // The entry sums are computed from the facts, which SQL alone cannot read.
            if version == ENTRY_SUMS_VERSION {
                crate::entry_sums::fill(&mut tx, self.backend).await?;
            }
            if version == SEALS_VERSION {
                crate::audit::seals::baseline(&mut tx, &crate::audit::seals::BEFORE_CONTRACTS)
                    .await?;
            }
            if version == CONTRACT_SEALS_VERSION {
                crate::audit::seals::baseline(&mut tx, &crate::audit::seals::CONTRACT_TABLES)
                    .await?;
            }
            sqlx::query("INSERT INTO schema_version (version, at) VALUES ($1, $2)")
                .bind(version)
                .bind(crate::now())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Begins a writing transaction holding the write lock from its first statement: every write chains
    /// onto the audit head anyway, and taking it first means a transaction that reads before it writes
    /// never finds, at its first write, that another writer changed what it read (SQLITE_BUSY_SNAPSHOT).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE audit_head SET n = n WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// Begins a writing transaction on a connection of the caller's (see `begin_write`).
    pub(crate) async fn begin_write_on(
        conn: &mut sqlx::AnyConnection,
    ) -> Result<sqlx::Transaction<'_, sqlx::Any>, sqlx::Error> {
        let mut tx = sqlx::Connection::begin(conn).await?;
        sqlx::query("UPDATE audit_head SET n = n WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// A connection for one large write. On SQLite its memory map is turned off until it is given
    /// back (`release_bulk_connection`): extending and checkpointing a mapped file made the commit
    /// of a million entries twice as slow, while reads of a province's books gain from the map.
    /// Its log is synced as it is written (`wal_flush`), until it is given back.
    pub(crate) async fn bulk_connection(&self) -> Result<BulkConnection, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let flusher = self.backend.before_bulk(&mut conn).await?;
        Ok(BulkConnection {
            conn,
            _flusher: flusher,
        })
    }

    /// Gives a bulk connection back to the pool as the others are; a connection that cannot be
    /// reset is closed instead.
    pub(crate) async fn release_bulk_connection(&self, bulk: BulkConnection) {
        let mut conn = bulk.conn;
        if !self.backend.after_bulk(&mut conn).await {
            conn.close_on_drop();
        }
    }

    /// Closes the pool. On SQLite the write-ahead log is first copied into the database and emptied
    /// (#32: `user add`, `policy set` and `close` left 65–230 KB there), so that the file alone is the
    /// database when a command ends; a server still reading keeps it as it is.
    pub async fn close(self) {
        if self.backend == Backend::Sqlite {
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await;
        }
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database written before the entry facts existed gets them, rebuilt from its entries, when
    /// it is opened by this version.
    #[tokio::test]
    async fn migration_five_rebuilds_the_entry_facts_of_an_older_database() {
        let (dir, url, pool) = old_database("migrate-five", 4).await;
        sqlx::raw_sql(
            "INSERT INTO regions (code, name, level) VALUES ('110101001001', '甲村', 'village');
             INSERT INTO entries (village, year, date, account, amount, voucher, source, actor, at) VALUES
               ('110101001001', 2024, '2024-03-01', 'operating_revenue', 500, 'V2', 'entry', 't', 0),
               ('110101001001', 2024, '2024-01-05', 'operating_revenue', 700, 'V1', 'entry', 't', 0),
               ('110101001001', 2023, '2023-12-31', 'admin_expense', 100, NULL, 'entry', 't', 0);",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = Store::open(&url, false).await.unwrap();
        assert_eq!(store.facts_mismatches().await.unwrap(), vec![]);
        let facts = crate::testing::facts_of(&store, 2024).await;
        let v = cunji_core::region::RegionCode::parse("110101001001").unwrap();
        let got: Vec<(String, i64, Option<String>)> = facts[&v]
            .iter()
            .map(|f| {
                (
                    f.date.iso(),
                    f.amount.fen(),
                    f.voucher.as_deref().map(str::to_string),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("2024-01-05".to_string(), 700, Some("V1".to_string())),
                ("2024-03-01".to_string(), 500, Some("V2".to_string())),
            ]
        );
        assert_eq!(crate::testing::facts_of(&store, 2023).await[&v].len(), 1);
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A database at `version`, with its address (to open again) and its directory: SQLite, or
    /// PostgreSQL with `CUNJI_TEST_PG`.
    async fn old_database(name: &str, version: usize) -> (PathBuf, String, AnyPool) {
        let dir = std::env::temp_dir().join(format!("cunji-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pg = crate::testing::postgres_server();
        let (url, migrations) = match &pg {
            Some(_) => (
                crate::testing::database_url(&dir, "m", name),
                &crate::backend::postgres::MIGRATIONS[..],
            ),
            None => (
                format!("sqlite://{}", dir.join("old.db").display()),
                &crate::backend::sqlite::MIGRATIONS[..],
            ),
        };
        sqlx::any::install_default_drivers();
        let create = if pg.is_some() {
            String::new()
        } else {
            "?mode=rwc".to_string()
        };
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&format!("{url}{create}"))
            .await
            .unwrap();
        pool.execute(
            "CREATE TABLE schema_version (version BIGINT PRIMARY KEY, at BIGINT NOT NULL)",
        )
        .await
        .unwrap();
        for (version, sql) in migrations.iter().filter(|(v, _)| *v <= version as i64) {
            sqlx::raw_sql(*sql).execute(&pool).await.unwrap();
            sqlx::query("INSERT INTO schema_version (version, at) VALUES ($1, 0)")
                .bind(*version)
                .execute(&pool)
                .await
                .unwrap();
        }
        (dir, url, pool)
    }

    /// A database a newer cunji migrated (a version this binary does not know) is refused, untouched.
    #[tokio::test]
    async fn a_database_of_a_newer_version_is_left_alone() {
        let (dir, url, pool) = old_database("newer", 999).await;
        sqlx::query("INSERT INTO schema_version (version, at) VALUES (999, 0)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let refused = Store::open(&url, false).await.err().expect("refused");
        assert!(refused.to_string().contains("结构版本 999"), "{refused}");
        crate::testing::drop_database(&url);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A database at version 5 written with entries of three writes (one from before the audit
    /// chain, without an audit row).
    async fn version_five(name: &str, extra: &str) -> (PathBuf, String) {
        let (dir, url, pool) = old_database(name, 5).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "INSERT INTO entries (village, year, date, account, amount, voucher, memo, source, import_id, actor, at, audit_id) VALUES
               ('110101001001', 2023, '2023-03-01', 'admin_expense', -100, 'A1', '旧账', 'entry', NULL, '老会计', 100, NULL),
               ('110101001001', 2024, '2024-03-01', 'operating_revenue', 500, 'V1', '', 'entry', 7, '会计甲', 200, 3),
               ('110101001002', 2024, '2024-03-02', 'investment_income', 800, 'V2', '', 'entry', 7, '会计甲', 200, 3),
               ('110101001001', 2024, '2024-05-01', 'income_tax', 20, NULL, '网上录入', 'web', NULL, '会计乙', 300, 4)
               {extra};"
        )))
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        (dir, url)
    }

    /// Migration 6 keeps every entry's own source, import, actor, time and audit row (through one
    /// write row for each distinct set) and its account (as a number).
    #[tokio::test]
    async fn migration_six_keeps_what_every_entry_held() {
        let (dir, url) = version_five("migrate-six", "").await;
        let store = Store::open(&url, false).await.unwrap();
        let rows = sqlx::query(
            "SELECT e.village, e.voucher, a.key, e.amount, e.memo, w.source, w.import_id, w.actor, w.at, w.audit_id \
             FROM entries e JOIN accounts a ON a.number = e.account JOIN entry_writes w ON w.id = e.write_id ORDER BY e.id",
        )
        .fetch_all(&store.pool)
        .await
        .unwrap();
        // Each kept row as `village|voucher|account|amount|memo|source|import|actor|at|audit`.
        let got: Vec<String> = rows
            .iter()
            .map(|r| {
                let text = |i: usize| r.get::<Option<String>, _>(i).unwrap_or_default();
                let number = |i: usize| r.get::<Option<i64>, _>(i).map(|n| n.to_string());
                let cells: Vec<String> = (0..10)
                    .map(|i| match i {
                        3 | 6 | 8 | 9 => number(i).unwrap_or_default(),
                        _ => text(i),
                    })
                    .collect();
                cells.join("|")
            })
            .collect();
        assert_eq!(
            got,
            [
                "110101001001|A1|admin_expense|-100|旧账|entry||老会计|100|",
                "110101001001|V1|operating_revenue|500||entry|7|会计甲|200|3",
                "110101001002|V2|investment_income|800||entry|7|会计甲|200|3",
                "110101001001||income_tax|20|网上录入|web||会计乙|300|4",
            ]
        );
        let writes: i64 = sqlx::query("SELECT COUNT(*) FROM entry_writes")
            .fetch_one(&store.pool)
            .await
            .unwrap()
            .get(0);
        assert_eq!(writes, 3);
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// An account the list does not know stops the migration; the entries stay as they were.
    #[tokio::test]
    async fn migration_six_stops_rather_than_drop_an_unknown_account() {
        let (dir, url) = version_five(
            "migrate-six-unknown",
            ", ('110101001001', 2024, '2024-06-01', 'mystery', 1, NULL, '', 'entry', NULL, 'x', 0, NULL)",
        )
        .await;
        let err = Store::open(&url, false).await.err().expect("refused");
        assert!(
            err.to_string().contains("NOT NULL") || err.to_string().contains("null values"),
            "{err}"
        );
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM entries WHERE source IS NOT NULL")
            .fetch_one(&pool)
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 5);
        pool.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Migration 9 (the workflow as data, SPEC §13) keeps every proposal stored before it readable:
    /// status, amounts and steps as they were, no resolution data (its resolution is its step's text),
    /// nothing paid or recovered recorded.
    #[tokio::test]
    async fn migration_nine_keeps_older_proposals_readable() {
        let (dir, url, pool) = old_database("migrate-nine", 8).await;
        sqlx::raw_sql(
            "INSERT INTO regions (code, name, level, merged_in) VALUES ('110101001001', '甲村', 'village', NULL);
             INSERT INTO policies (id, name, source, active, actor, at) VALUES (1, 'p', 'name = \"p\"', 1, 't', 0);
             INSERT INTO proposals (id, village, year, policy_id, status, pool, figures, trace, computed_at, published_at)
                 VALUES (1, '110101001001', 2024, 1, 'resolved', 500000, 'f', '第一步', 100, NULL);
             INSERT INTO proposal_awards (proposal_id, person, name, role, computed, decided)
                 VALUES (1, 'P1', '张三', 'secretary', 500000, 400000);
             INSERT INTO proposal_steps (id, proposal_id, step, actor, at, detail) VALUES
                 (1, 1, 'computed', 't', 100, '按政策 #1 计算'),
                 (2, 1, 'resolved', 't', 200, '表决：赞成 31、反对 0、弃权 2；附件：会议记录.pdf');",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let store = Store::open(&url, false).await.unwrap();
        let p = store.proposal("110101001001", 2024).await.unwrap().unwrap();
        assert_eq!((p.status, &p.resolution), (crate::Status::Resolved, &None));
        let a = &p.awards[0];
        let decided = Some(cunji_core::Fen::from_fen(400_000));
        assert_eq!(
            (a.decided, a.paid, a.recovered),
            (decided, None, cunji_core::Fen::ZERO)
        );
        let steps: Vec<(&str, &str)> = p
            .steps
            .iter()
            .map(|s| (s.step.as_str(), s.data.as_str()))
            .collect();
        assert_eq!(steps, [("computed", "{}"), ("resolved", "{}")]);
        assert!(p.steps[1].detail.ends_with("附件：会议记录.pdf"));
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Migration 16 seals the rows stored before it (one audit row), so that an edit made after the
    /// upgrade is found like any other.
    #[tokio::test]
    async fn migration_sixteen_seals_the_rows_stored_before_it() {
        let (dir, url, pool) = old_database("migrate-sixteen", 15).await;
        sqlx::raw_sql(
            "INSERT INTO regions (code, name, level, merged_in) VALUES ('110101001001', '甲村', 'village', NULL);
             INSERT INTO users (username, display_name, password_hash, role, scope, created_at)
                 VALUES ('wang', '王', 'h', 'township_officer', '110101001000', 0);
             INSERT INTO policies (id, name, source, active, actor, at) VALUES (1, 'p', 'rate = 1', 1, 't', 0);
             INSERT INTO cadres (village, year, person, name, role, months_in_post, sanctioned, appraisal)
                 VALUES ('110101001001', 2024, 'P1', '张三', 'secretary', 12, 0, '合格');",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let store = Store::open(&url, false).await.unwrap();
        assert_eq!(store.verify_audit().await.unwrap(), Vec::<String>::new());
        let rows = store.audit_all().await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].action, "seal_baseline");
        assert!(rows[0].detail.contains("用户1 行"), "{}", rows[0].detail);
        sqlx::query("UPDATE users SET role = 'county_admin'")
            .execute(&store.pool)
            .await
            .unwrap();
        let problems = store.verify_audit().await.unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("wang") && p.contains("county_admin")),
            "{problems:?}"
        );
        store.close().await;
        crate::testing::drop_database(&url);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Migration 18 seals the contract tables' rows stored before it (one audit row), so that a rent
    /// changed after the upgrade is found.
    #[tokio::test]
    async fn migration_eighteen_seals_the_contracts_stored_before_it() {
        let (dir, url, pool) = old_database("migrate-eighteen", 17).await;
        sqlx::raw_sql(
            "INSERT INTO contracts (village, contract_id, version, counterparty, kind, signed, start_date, end_date, annual_rent, due_day, account, audit_id)
                 VALUES ('110101001001', 'C1', 1, '张三', 'lease', '2022-01-01', '2022-01-01', '2026-12-31', 1000000, '10-03', 'operating_revenue', 0);",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let store = Store::open(&url, false).await.unwrap();
        assert_eq!(store.verify_audit().await.unwrap(), Vec::<String>::new());
        let rows = store.audit_all().await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].action, "seal_baseline");
        assert!(rows[0].detail.contains("合同1 行"), "{}", rows[0].detail);
        sqlx::query("UPDATE contracts SET annual_rent = 2000000")
            .execute(&store.pool)
            .await
            .unwrap();
        let problems = store.verify_audit().await.unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("合同编号 C1") && p.contains("2000000")),
            "{problems:?}"
        );
        store.close().await;
        crate::testing::drop_database(&url);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Every SQLite connection syncs the log at each commit (`synchronous = FULL`, 2): a write
    /// acknowledged to a user is on disk, not only in the kernel's memory (#32).
    #[tokio::test]
    async fn every_commit_is_in_the_log_on_disk() {
        if crate::testing::postgres_server().is_some() {
            return;
        }
        let dir = std::env::temp_dir().join(format!("cunji-sync-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("s.db").display());
        let store = Store::open(&url, true).await.unwrap();
        for _ in 0..4 {
            let level: i64 = sqlx::query("PRAGMA synchronous")
                .fetch_one(&store.pool)
                .await
                .unwrap()
                .get(0);
            assert_eq!(level, 2);
        }
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
