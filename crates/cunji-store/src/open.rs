//! Opening the database from a URL, and the embedded migrations (some of which rebuild the kept sums
//! and seal the rows stored before them, so this sits above those modules and `db.rs` below).

use std::path::PathBuf;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor, Row};

use crate::db::{Backend, Store, StoreError};

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
        crate::backend::sqlite_bulk::register();
        let connect_url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            // No ping before each use: a connection to a file this process opened has no network
            // to lose, and the ping was a round trip to SQLite's thread per query (12% of the
            // server's time under 64 clients on the demo's dashboard).
            .test_before_acquire(false)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    // Before WAL, which fixes it; only a new, empty file takes it. 16 KiB pages
                    // store an import's million entries about a fifth faster than 4 KiB ones.
                    conn.execute("PRAGMA page_size = 16384").await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute(crate::backend::sqlite::BUSY_TIMEOUT_PRAGMA)
                        .await?;
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
        /// The migration that seals the receipts on contracts, stored before it.
        const RECEIPT_SEALS_VERSION: i64 = 19;
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
            if version == RECEIPT_SEALS_VERSION {
                crate::audit::seals::baseline(&mut tx, &[&crate::audit::seals::RECEIPTS]).await?;
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
}
