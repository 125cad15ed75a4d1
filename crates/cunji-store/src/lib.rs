//! cunji-store: the database (SQLite by default), its migrations, the import pipeline and the audit
//! log. Calculations live in `cunji-core`; this crate stores, validates against stored state, and
//! loads what a report needs.
//!
//! Every `unsafe` block states the invariant it relies on (`// SAFETY:`) and every `unsafe fn` its
//! callers' duty (`# Safety`); the lints below make a missing one fail CI (`-D warnings`). The
//! foreign calls into SQLite are all in `sqlite_native`; docs/benchmarks.md ("unsafe, and what each
//! one buys") gives each its measurement.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

mod account_numbers;
mod audit;
mod backend;
mod backup;
mod contract_changes;
mod contracts;
mod db;
mod entry_rows;
mod entry_sums;
mod fact_rows;
mod facts;
mod fast_hash;
pub mod import;
mod kept;
mod kept_contracts;
mod ledger;
mod load;
mod open;
#[doc(hidden)]
mod policies;
mod rows;
pub mod settings;
mod short_text;
pub mod table;
pub mod testing;
pub mod timing;
mod users;
pub mod workflow;
mod xlsx;

pub use audit::{AuditFilter, AuditRow, AuditScope, TotalsMismatch};
pub use backup::{CheckReport, Stamp};
pub use contract_changes::ContractVersion;
pub use contracts::{arrears_in, ContractLine};
pub use db::{Backend, Store, StoreError};
pub use import::statement_book::{BookFile, BookOutcome};
pub use import::{ImportKind, ImportOutcome, Progress, VillageImported};
pub use ledger::{EntryForm, EntryRow};
pub use load::{LoadedData, TotalRow};
pub use open::sqlite_path as db_path;
pub use policies::{Repriced, SavedPolicy, StoredPolicy};
pub use table::{RowError, RowErrors, ERRORS_LISTED};
pub use users::{SessionRow, UserRow};
pub use workflow::{Computation, Proposal, ProposalAward, ProposalSummary, Status};

pub(crate) use cunji_core::columns::hex;

/// Seconds since the epoch, for `at` columns.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
