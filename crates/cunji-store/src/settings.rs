//! The county's settings: a value a key, each change in the audit log.

use sqlx::Row;

use crate::db::{Store, StoreError};

/// The 监督电话 printed on public pages and notices (SPEC §15).
pub const SUPERVISION_PHONE: &str = crate::audit::seals::SETTING_NAMES[0].0;

impl Store {
    /// The value of setting `key`, if set.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(stored(&self.pool, key).await?)
    }

    /// Sets `key` to `value`, with the change in the audit log.
    pub async fn set_setting(&self, key: &str, value: &str, actor: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        use crate::audit::seals::{refuse_unsealed, seal, Arg, SETTINGS};
        refuse_unsealed(&mut tx, &SETTINGS, Some(&[Arg::Text(key.into())])).await?;
        let before = stored(&mut *tx, key).await?;
        sqlx::query(
            "INSERT INTO settings (key, value, actor, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, actor = excluded.actor, at = excluded.at",
        )
        .bind(key)
        .bind(value)
        .bind(actor)
        .bind(crate::now())
        .execute(&mut *tx)
        .await?;
        let detail = format!("“{}” → “{value}”", before.unwrap_or_default());
        let audit_id = crate::audit::write(&mut tx, actor, "setting", key, &detail).await?;
        seal(&mut tx, audit_id, &SETTINGS, Some(&[Arg::Text(key.into())])).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn stored<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    key: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(db)
        .await?;
    row.map(|r| r.try_get(0)).transpose()
}
