//! Stored policies: every version kept, one active.

use sqlx::Row;

use crate::db::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPolicy {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub active: bool,
    pub actor: String,
    pub at: i64,
}

impl Store {
    /// Stores a policy's text; with `activate` it becomes the one the web application uses.
    pub async fn save_policy(
        &self,
        name: &str,
        source: &str,
        activate: bool,
        actor: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        if activate {
            sqlx::query("UPDATE policies SET active = 0")
                .execute(&mut *tx)
                .await?;
        }
        let id: i64 = sqlx::query("INSERT INTO policies (name, source, active, actor, at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(name)
            .bind(source)
            .bind(activate as i64)
            .bind(actor)
            .bind(crate::now())
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let and_active = if activate {
            "，并设为当前政策"
        } else {
            ""
        };
        let detail = format!("保存政策 #{id}《{name}》{and_active}");
        crate::audit::write(&mut tx, actor, "policy_save", name, &detail).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn policies(&self) -> Result<Vec<StoredPolicy>, StoreError> {
        let rows =
            sqlx::query("SELECT id, name, source, active, actor, at FROM policies ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredPolicy {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    source: r.try_get(2)?,
                    active: r.try_get::<i64, _>(3)? != 0,
                    actor: r.try_get(4)?,
                    at: r.try_get(5)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    pub async fn active_policy(&self) -> Result<Option<StoredPolicy>, StoreError> {
        Ok(self.policies().await?.into_iter().rev().find(|p| p.active))
    }
}
