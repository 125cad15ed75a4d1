//! Users and their sessions. Passwords arrive already hashed (argon2, in the web crate); session tokens
//! are stored only as hashes.

use sqlx::Row;

use crate::db::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: cunji_core::access::Role,
    pub scope: Option<cunji_core::region::RegionCode>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub user: UserRow,
    pub csrf: String,
    pub expires_at: i64,
}

/// A user row as domain values: a role or scope the database holds but cunji does not know is an
/// error here, at the edge, not a string for every reader to parse.
fn user_of(r: &sqlx::any::AnyRow) -> Result<UserRow, StoreError> {
    let role: String = r.try_get("role")?;
    let scope: Option<String> = r.try_get("scope")?;
    Ok(UserRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        password_hash: r.try_get("password_hash")?,
        role: cunji_core::access::Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("数据库中有未知角色 {role}")))?,
        scope: scope
            .map(|s| {
                cunji_core::region::RegionCode::parse(&s)
                    .map_err(|e| StoreError::Corrupt(format!("数据库中用户的范围有误：{e}")))
            })
            .transpose()?,
    })
}

/// Binds a user's row (role, scope, password) to the audit row that wrote it (`audit::seals`).
async fn seal_user(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    username: &str,
) -> Result<(), sqlx::Error> {
    use crate::audit::seals::{seal, Arg, USERS};
    seal(tx, audit_id, &USERS, Some(&[Arg::Text(username.into())])).await
}

const USER_COLS: &str = "u.id AS id, u.username AS username, u.display_name AS display_name, \
                         u.password_hash AS password_hash, u.role AS role, u.scope AS scope";

impl Store {
    pub async fn add_user(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
        role: &str,
        scope: Option<&str>,
        actor: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        use crate::audit::seals::{refuse_unsealed, Arg, USERS};
        refuse_unsealed(&mut tx, &USERS, Some(&[Arg::Text(username.into())])).await?;
        let exists = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!("用户名 {username} 已存在")));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role, scope, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(username)
        .bind(display_name)
        .bind(password_hash)
        .bind(role)
        .bind(scope)
        .bind(crate::now())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        // The role in Chinese: the audit log is read by people (issue #33).
        let role_zh = cunji_core::access::Role::parse(role).map_or(role, |r| r.name_zh());
        let detail = format!(
            "新增用户 {username}（{display_name}），角色 {role_zh}，范围 {}",
            scope.unwrap_or("全部")
        );
        let audit_id = crate::audit::write(&mut tx, actor, "user_add", username, &detail).await?;
        seal_user(&mut tx, audit_id, username).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        use crate::audit::seals::{refuse_unsealed, Arg, USERS};
        refuse_unsealed(&mut tx, &USERS, Some(&[Arg::Text(username.into())])).await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
            .bind(password_hash)
            .bind(username)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("没有用户 {username}")));
        }
        // A new password ends every session of the user.
        sqlx::query(
            "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)",
        )
        .bind(username)
        .execute(&mut *tx)
        .await?;
        let audit_id =
            crate::audit::write(&mut tx, actor, "user_password", username, "修改密码").await?;
        seal_user(&mut tx, audit_id, username).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users u ORDER BY u.username");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_of).collect::<Result<_, _>>()
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.username = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_of).transpose()
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        ttl_secs: i64,
    ) -> Result<(), StoreError> {
        let now = crate::now();
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash)
            .bind(user_id)
            .bind(csrf)
            .bind(now)
            .bind(now + ttl_secs)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLS}, s.csrf AS csrf, s.expires_at AS expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at >= $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .bind(crate::now())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(SessionRow {
                user: user_of(&r)?,
                csrf: r.try_get("csrf")?,
                expires_at: r.try_get("expires_at")?,
            })),
        }
    }

    pub async fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
