//! What is kept beside the entries of each village and year (its totals' facts and sums), read on
//! either backend, and a village's code as the kept rows number it. Below the loads and the kept
//! sums that read it.

use cunji_core::region::RegionCode;

use crate::db::StoreError;

/// A 12-digit code read as its number.
pub(crate) fn code_of_number(village: u64) -> Result<RegionCode, StoreError> {
    code(&format!("{village:012}"))
}

/// A region code read from the database.
pub(crate) fn code(s: &str) -> Result<RegionCode, StoreError> {
    RegionCode::parse(s).map_err(|e| StoreError::Corrupt(format!("数据库中的区划代码有误：{e}")))
}
