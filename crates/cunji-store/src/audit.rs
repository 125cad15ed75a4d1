//! The audit log: one row for every change, with who, when and what; and closing and reopening years.

use sqlx::Row;

use crate::db::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

pub(crate) async fn write(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(crate::now())
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The newest `limit` audit rows, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    subject: r.try_get(4)?,
                    detail: r.try_get(5)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Closes a village's books for a year (结账): no new entries for that year until reopened.
    pub async fn close_year(
        &self,
        village: &str,
        year: i32,
        actor: &str,
    ) -> Result<(), StoreError> {
        self.check_village(village).await?;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "INSERT INTO closed_years (village, year, actor, at) VALUES ($1, $2, $3, $4) ON CONFLICT (village, year) DO NOTHING",
        )
        .bind(village)
        .bind(year)
        .bind(actor)
        .bind(crate::now())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Invalid(format!(
                "村 {village} 的 {year} 年已经结账"
            )));
        }
        write(
            &mut tx,
            actor,
            "close_year",
            village,
            &format!("{year} 年结账"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reopens a closed year; only with a written reason, which is kept in the audit log.
    pub async fn reopen_year(
        &self,
        village: &str,
        year: i32,
        actor: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        if reason.trim().chars().count() < 4 {
            return Err(StoreError::Invalid(
                "重新开账须写明理由（至少 4 个字）".into(),
            ));
        }
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM closed_years WHERE village = $1 AND year = $2")
            .bind(village)
            .bind(year)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Invalid(format!(
                "村 {village} 的 {year} 年并未结账"
            )));
        }
        write(
            &mut tx,
            actor,
            "reopen_year",
            village,
            &format!("{year} 年重新开账，理由：{}", reason.trim()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn check_village(&self, village: &str) -> Result<(), StoreError> {
        let level: Option<String> = sqlx::query("SELECT level FROM regions WHERE code = $1")
            .bind(village)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        match level.as_deref() {
            Some("village") => Ok(()),
            Some(_) => Err(StoreError::Invalid(format!("{village} 不是村级区划"))),
            None => Err(StoreError::Invalid(format!("村 {village} 未登记"))),
        }
    }
}

/// A kept total that differs from the sum of its entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotalsMismatch {
    pub village: String,
    pub year: i64,
    pub account: String,
    pub kept: (i64, i64),
    pub summed: (i64, i64),
}

impl Store {
    /// Recomputes every village-year account total from the entries and lists the kept totals that
    /// differ (amount, count). Empty when the books are consistent.
    pub async fn totals_mismatches(&self) -> Result<Vec<TotalsMismatch>, StoreError> {
        let rows = sqlx::query(
            "SELECT COALESCE(t.village, e.village), COALESCE(t.year, e.year), COALESCE(t.account, e.account), \
                    COALESCE(t.amount, 0), COALESCE(t.entries, 0), COALESCE(e.amount, 0), COALESCE(e.n, 0) \
             FROM totals t FULL OUTER JOIN \
                  (SELECT village, year, account, SUM(amount) AS amount, COUNT(*) AS n FROM entries GROUP BY village, year, account) e \
               ON t.village = e.village AND t.year = e.year AND t.account = e.account \
             WHERE COALESCE(t.amount, 0) <> COALESCE(e.amount, 0) OR COALESCE(t.entries, 0) <> COALESCE(e.n, 0)",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TotalsMismatch {
                    village: r.try_get(0)?,
                    year: r.try_get(1)?,
                    account: r.try_get(2)?,
                    kept: (r.try_get(3)?, r.try_get(4)?),
                    summed: (r.try_get(5)?, r.try_get(6)?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}

impl Store {
    /// A number that changes whenever anything is written: every change writes an audit row. Readers
    /// use it to know whether what they loaded is still current.
    pub async fn data_version(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }
}
