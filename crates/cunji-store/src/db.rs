//! The database handle (`Store`) and its errors, and the write transactions every change runs in.
//! Opening it and running the migrations is `open.rs`, above the modules the migrations call.

use std::path::PathBuf;

use sqlx::AnyPool;

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

/// Refuses a code that is not a village of the register: another level is `Invalid`; a code not
/// registered at all is `unknown`'s error, as its caller shows it (a page's 404, a form's 422).
pub(crate) async fn check_village<'e, E>(
    db: E,
    village: &str,
    unknown: fn(String) -> StoreError,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    use sqlx::Row;
    let level: Option<String> = sqlx::query("SELECT level FROM regions WHERE code = $1")
        .bind(village)
        .fetch_optional(db)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    match level.as_deref() {
        Some("village") => Ok(()),
        Some(_) => Err(StoreError::Invalid(format!("{village} 不是村级区划"))),
        None => Err(unknown(format!("村 {village} 未登记"))),
    }
}

/// A connection readied for one large write (`Store::bulk_connection`).
pub(crate) struct BulkConnection {
    pub conn: sqlx::pool::PoolConnection<sqlx::Any>,
    _flusher: Option<crate::backend::wal_flush::WalFlusher>,
}

/// The database: a pool and which backend it is.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub backend: Backend,
    /// The SQLite file (its disk's free space is reported by `/healthz`).
    pub(crate) sqlite_file: Option<PathBuf>,
}

impl Store {
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
        if self.backend.is_file() {
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
    use sqlx::any::AnyPoolOptions;
    use sqlx::{Executor, Row};

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

    /// `old_database` with `rows` written into it, closed: what a newer cunji then opens.
    async fn old_database_with(name: &str, version: usize, rows: &str) -> (PathBuf, String) {
        let (dir, url, pool) = old_database(name, version).await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(rows.to_string()))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        (dir, url)
    }

    /// The first column of the one row `sql` reads, as a whole number.
    async fn number(pool: &AnyPool, sql: &'static str) -> i64 {
        sqlx::query(sql).fetch_one(pool).await.unwrap().get(0)
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
        let rows = format!(
            "INSERT INTO entries (village, year, date, account, amount, voucher, memo, source, import_id, actor, at, audit_id) VALUES
               ('110101001001', 2023, '2023-03-01', 'admin_expense', -100, 'A1', '旧账', 'entry', NULL, '老会计', 100, NULL),
               ('110101001001', 2024, '2024-03-01', 'operating_revenue', 500, 'V1', '', 'entry', 7, '会计甲', 200, 3),
               ('110101001002', 2024, '2024-03-02', 'investment_income', 800, 'V2', '', 'entry', 7, '会计甲', 200, 3),
               ('110101001001', 2024, '2024-05-01', 'income_tax', 20, NULL, '网上录入', 'web', NULL, '会计乙', 300, 4)
               {extra};"
        );
        old_database_with(name, 5, &rows).await
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
        let writes = number(&store.pool, "SELECT COUNT(*) FROM entry_writes").await;
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
        let n = number(
            &pool,
            "SELECT COUNT(*) FROM entries WHERE source IS NOT NULL",
        )
        .await;
        assert_eq!(n, 5);
        pool.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Migration 9 (the workflow as data, SPEC §13) keeps every proposal stored before it readable:
    /// status, amounts and steps as they were, no resolution data (its resolution is its step's text),
    /// nothing paid or recovered recorded.
    #[tokio::test]
    async fn migration_nine_keeps_older_proposals_readable() {
        let (dir, url) = old_database_with(
            "migrate-nine",
            8,
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
        .await;
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
        baseline_then_edit(
            ("migrate-sixteen", 15),
            "INSERT INTO regions (code, name, level, merged_in) VALUES ('110101001001', '甲村', 'village', NULL);
             INSERT INTO users (username, display_name, password_hash, role, scope, created_at)
                 VALUES ('wang', '王', 'h', 'township_officer', '110101001000', 0);
             INSERT INTO policies (id, name, source, active, actor, at) VALUES (1, 'p', 'rate = 1', 1, 't', 0);
             INSERT INTO cadres (village, year, person, name, role, months_in_post, sanctioned, appraisal)
                 VALUES ('110101001001', 2024, 'P1', '张三', 'secretary', 12, 0, '合格');",
            "用户1 行",
            ("UPDATE users SET role = 'county_admin'", ["wang", "由“乡镇农经站”改为“县级管理员”"]),
        )
        .await;
    }

    /// Migration 18 seals the contract tables' rows stored before it (one audit row), so that a rent
    /// changed after the upgrade is found.
    #[tokio::test]
    async fn migration_eighteen_seals_the_contracts_stored_before_it() {
        baseline_then_edit(
            ("migrate-eighteen", 17),
            "INSERT INTO contracts (village, contract_id, version, counterparty, kind, signed, start_date, end_date, annual_rent, due_day, account, audit_id)
                 VALUES ('110101001001', 'C1', 1, '张三', 'lease', '2022-01-01', '2022-01-01', '2026-12-31', 1000000, '10-03', 'operating_revenue', 0);",
            "合同1 行",
            ("UPDATE contracts SET annual_rent = 2000000", ["合同编号 C1", "由“10,000.00 元”改为“20,000.00 元”"]),
        )
        .await;
    }

    /// A database at `version` with `rows`, upgraded: the upgrade writes one `seal_baseline` audit
    /// row naming `baseline` and the log verifies; then `edit` made directly is found by `check`,
    /// named with both of its words.
    async fn baseline_then_edit(
        (name, version): (&str, usize),
        rows: &str,
        baseline: &str,
        (edit, words): (&'static str, [&str; 2]),
    ) {
        let (dir, url) = old_database_with(name, version, rows).await;
        let store = Store::open(&url, false).await.unwrap();
        assert_eq!(store.verify_audit().await.unwrap(), Vec::<String>::new());
        let rows = store.audit_all().await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].action, "seal_baseline");
        assert!(rows[0].detail.contains(baseline), "{}", rows[0].detail);
        sqlx::query(edit).execute(&store.pool).await.unwrap();
        let problems = store.verify_audit().await.unwrap();
        assert!(
            problems
                .iter()
                .any(|p| p.contains(words[0]) && p.contains(words[1])),
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
            assert_eq!(number(&store.pool, "PRAGMA synchronous").await, 2);
        }
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
