//! The reads whose fast path differs by backend, each chosen here by the store's backend: SQLite
//! steps its statements natively (`sqlite_read`), PostgreSQL builds one value the driver carries
//! (`pg_read`); the callers (`kept.rs`, `load.rs`) name neither. Kept apart from `backend/mod.rs`,
//! whose writes the readers' own imports sit above.

use super::pg_read::CadreRow;
use super::sqlite_read::KeptTotal;
use super::sqlite_read::VillageFacts;
use super::{Backend, Kept};
use crate::db::StoreError;

/// What is kept of each village of `year`.
pub(crate) async fn kept(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    kept: Kept,
    year: i32,
) -> Result<Vec<VillageFacts>, StoreError> {
    Ok(match backend {
        Backend::Sqlite => super::sqlite_read::read_kept(conn, kept, year).await?,
        Backend::Postgres => super::pg_read::kept_joined(conn, kept, year).await?,
    })
}

/// Every kept total of `from_year` and after.
pub(crate) async fn totals(
    pool: &sqlx::AnyPool,
    backend: Backend,
    from_year: i32,
) -> Result<Vec<KeptTotal>, StoreError> {
    match backend {
        Backend::Sqlite => Ok(super::sqlite_read::read_totals(pool, from_year).await?),
        Backend::Postgres => {
            super::pg_read::totals_text(pool, backend.dialect().totals_text, from_year).await
        }
    }
}

/// Every region as the database joins them (PostgreSQL), or `None`: read the portable way.
pub(crate) async fn regions_joined(
    pool: &sqlx::AnyPool,
    backend: Backend,
) -> Result<Option<Vec<(String, String, Option<i64>)>>, StoreError> {
    match backend {
        Backend::Sqlite => Ok(None),
        Backend::Postgres => super::pg_read::regions_joined(pool).await,
    }
}

/// The cadres of `year` as the database joins them (PostgreSQL), or `None`.
pub(crate) async fn cadres_joined(
    pool: &sqlx::AnyPool,
    backend: Backend,
    year: i32,
) -> Result<Option<Vec<CadreRow>>, StoreError> {
    match backend {
        Backend::Sqlite => Ok(None),
        Backend::Postgres => super::pg_read::cadres_joined(pool, year).await,
    }
}

/// The kept contract figures of `year`, read natively (SQLite), or `None`: read the portable way.
pub(crate) async fn kept_contract_rows(
    pool: &sqlx::AnyPool,
    backend: Backend,
    year: i32,
) -> Result<Option<Vec<Vec<super::sqlite_read::Cell>>>, StoreError> {
    match backend {
        Backend::Sqlite => Ok(Some(
            super::sqlite_read::read_kept_contracts(pool, year).await?,
        )),
        Backend::Postgres => Ok(None),
    }
}

/// Every row of one of the contract tables, read natively (SQLite), or `None`: read the portable
/// way.
pub(crate) async fn contract_rows(
    pool: &sqlx::AnyPool,
    backend: Backend,
    which: super::sqlite_read::RowRead,
) -> Result<Option<Vec<Vec<super::sqlite_read::Cell>>>, StoreError> {
    match backend {
        Backend::Sqlite => Ok(Some(super::sqlite_read::read_table(pool, which).await?)),
        Backend::Postgres => Ok(None),
    }
}
