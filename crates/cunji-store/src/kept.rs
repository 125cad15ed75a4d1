//! What is kept beside the entries of each village and year (its totals' facts and sums), read on
//! either backend, and a village's code as the kept rows number it. Below the loads and the kept
//! sums that read it.

use cunji_core::region::RegionCode;

use crate::db::StoreError;

/// What is kept of each village of `year` (`Kept`): on SQLite stepped natively, on PostgreSQL as
/// one value the database joins.
pub(crate) async fn read_kept(
    conn: &mut sqlx::AnyConnection,
    backend: crate::Backend,
    kept: crate::backend::Kept,
    year: i32,
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    Ok(match backend {
        crate::Backend::Sqlite => crate::sqlite_read::read_kept(conn, kept, year).await?,
        crate::Backend::Postgres => crate::pg_read::kept_joined(conn, kept, year).await?,
    })
}

/// A 12-digit code read as its number.
pub(crate) fn code_of_number(village: u64) -> Result<RegionCode, StoreError> {
    code(&format!("{village:012}"))
}

/// A region code read from the database.
pub(crate) fn code(s: &str) -> Result<RegionCode, StoreError> {
    RegionCode::parse(s).map_err(|e| StoreError::Corrupt(format!("数据库中的区划代码有误：{e}")))
}
