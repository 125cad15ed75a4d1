//! Backups of a SQLite database while it is in use (issue #18), the checks a copy must pass, and the
//! stamp that says how far a database has come (so a restore never puts an older copy over a newer
//! database by mistake). PostgreSQL is backed up with its own `pg_dump` (docs/deploy.md).

use std::path::Path;

use sqlx::Row;

use crate::db::{Backend, Store, StoreError};

/// How far a database has come: its newest audit row (every change writes one) and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp {
    pub audit_rows: i64,
    pub at: i64,
}

/// What `check` found: each problem in Chinese; none means the database passed.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub problems: Vec<String>,
    pub audit_rows: usize,
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `out` (`VACUUM INTO`: one read
    /// transaction, so writers carry on and the copy is the database as of one moment). `out` must
    /// not exist.
    pub async fn backup_to(&self, out: &Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Invalid(
                "PostgreSQL 数据库请用 pg_dump 备份（见 docs/deploy.md）".into(),
            ));
        }
        if out.exists() {
            return Err(StoreError::Invalid(format!(
                "{} 已存在：备份不覆盖已有文件",
                out.display()
            )));
        }
        let path = out
            .to_str()
            .ok_or_else(|| StoreError::Invalid("备份文件路径须为 UTF-8".into()))?;
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest audit row and its time (0, 0 for a database never written to).
    pub async fn stamp(&self) -> Result<Stamp, StoreError> {
        let r = sqlx::query("SELECT COALESCE(MAX(id), 0), COALESCE(MAX(at), 0) FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(Stamp {
            audit_rows: r.try_get(0)?,
            at: r.try_get(1)?,
        })
    }

    /// Everything a copy must pass: SQLite's own `integrity_check`, then the audit chain, each stored
    /// record against its audit row, and the kept totals and facts against the entries.
    pub async fn check(&self) -> Result<CheckReport, StoreError> {
        self.check_with_head(None).await
    }

    /// `check`, and the audit chain against a head kept outside the database (`audit_head`): a tail of
    /// audit rows deleted with the head rewritten inside the database is found only this way.
    pub async fn check_with_head(
        &self,
        head: Option<(i64, &str)>,
    ) -> Result<CheckReport, StoreError> {
        let mut report = CheckReport::default();
        if self.backend == Backend::Sqlite {
            let rows = sqlx::query("PRAGMA integrity_check")
                .fetch_all(&self.pool)
                .await?;
            for r in rows {
                let line: String = r.try_get(0)?;
                if line != "ok" {
                    report.problems.push(format!("数据库文件损坏：{line}"));
                }
            }
        }
        // The audit check includes the kept totals and entry facts against the entries.
        report.problems.extend(self.verify_audit().await?);
        if let Some((id, hash)) = head {
            report.problems.extend(self.verify_head(id, hash).await?);
        }
        report.audit_rows = self.audit_all().await?.len();
        Ok(report)
    }
}
