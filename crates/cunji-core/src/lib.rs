//! cunji-core: every calculation of cunji (SPEC.md), as pure functions over plain data.
//!
//! Money is integer fen ([`money::Fen`]), rates are parts per million ([`rate::Ppm`]); nothing here
//! does I/O, so a calculation is tested without a database.

pub mod access;
pub mod account;
pub mod alerts;
pub mod bands;
pub mod books;
pub mod cadre;
pub mod columns;
pub mod contracts;
pub mod date;
mod decimal;
pub mod growth;
pub mod incentive;
pub mod measure;
pub mod money;
pub mod parallel;
pub mod pay_floor;
pub mod policy;
pub mod rate;
pub mod region;
pub mod report;
pub mod statement_book;
pub mod subsidy;
pub mod workflow;

pub use money::Fen;
pub use rate::Ppm;
