//! Report renderers: JSON (SPEC §11, byte-for-byte stable), a zh-CN terminal table, and CSV.

pub mod csv;
pub mod table;

use cunji_core::report::Report;

/// The JSON report, pretty-printed with a final newline. Field order is fixed by the report types and
/// maps are ordered, so the same database and arguments give the same bytes.
pub fn json(report: &Report) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(report).unwrap_or_default();
    out.push(b'\n');
    out
}
