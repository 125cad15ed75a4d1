//! Opening the database from a URL, and the embedded migrations.

use std::path::PathBuf;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor, Row};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("数据库文件 {0} 不存在（地址写错了？要新建请先导入区划：cunji import regions FILE）")]
    Missing(String),
    #[error("不支持的数据库地址 `{0}`（应为 sqlite://文件 或 postgres://…）")]
    BadUrl(String),
    #[error("数据库错误：{0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Invalid(String),
}

/// The database: a pool and which backend it is.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub backend: Backend,
}

const SQLITE_MIGRATIONS: [(i64, &str); 5] = [
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_web.sql")),
    (3, include_str!("../migrations/sqlite/0003_stats.sql")),
    (4, include_str!("../migrations/sqlite/0004_audit_chain.sql")),
    (5, include_str!("../migrations/sqlite/0005_scale.sql")),
];

const POSTGRES_MIGRATIONS: [(i64, &str); 5] = [
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_web.sql")),
    (3, include_str!("../migrations/postgres/0003_stats.sql")),
    (
        4,
        include_str!("../migrations/postgres/0004_audit_chain.sql"),
    ),
    (5, include_str!("../migrations/postgres/0005_scale.sql")),
];

/// The file a `sqlite:` URL names.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

impl Store {
    /// Opens the database at `url`. A missing SQLite file is created only with `create`; otherwise it is an
    /// error, so that a mistyped path never silently opens an empty database.
    pub async fn open(url: &str, create: bool) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // A mistyped server database is an error from the server; it is never created here.
            let pool = AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            let store = Store {
                pool,
                backend: Backend::Postgres,
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
        let connect_url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    Ok(())
                })
            })
            .connect(&connect_url)
            .await?;
        let store = Store {
            pool,
            backend: Backend::Sqlite,
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.pool
            .execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, at BIGINT NOT NULL)")
            .await?;
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_version")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()?;
        let migrations = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        for (version, sql) in migrations.iter().copied() {
            if applied.contains(&version) {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
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

    pub async fn close(self) {
        self.pool.close().await;
    }
}
