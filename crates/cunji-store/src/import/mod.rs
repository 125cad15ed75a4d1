//! The import pipeline: file → rows → validated records (against the file and the stored state) →
//! one transaction. All or nothing: any bad row and nothing is stored; every bad row is reported.
//! A file whose content was imported before (same kind, same SHA-256) is a no-op.

mod cadres;
mod cells;
mod contracts;
pub(crate) mod entries;
mod grants;
mod regions;
pub mod statement_book;
mod statements;
mod stats;

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{Store, StoreError};
use crate::table::{RowError, RowErrors};

pub use cunji_core::columns::ImportKind;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// Stored: how many records were written (rows already stored identically are not counted).
    Stored { rows: u64, unchanged: u64 },
    /// The same content was imported before; nothing was stored again.
    AlreadyImported { file_name: String, at: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The rows in error: the first `ERRORS_LISTED` of them and the count of all (SPEC §9).
    #[error("{} 处错误，未导入任何数据", .0.len())]
    Rows(RowErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Store(StoreError::from(e))
    }
}

impl From<Vec<RowError>> for ImportError {
    fn from(e: Vec<RowError>) -> Self {
        ImportError::Rows(e.into())
    }
}

impl From<RowErrors> for ImportError {
    fn from(e: RowErrors) -> Self {
        ImportError::Rows(e)
    }
}

/// Told how far an import has come: a phase name, then rows done of a total.
pub trait Progress: Sync {
    fn phase(&self, _name: &str, _total: u64) {}
    fn advance(&self, _rows: u64) {}
}

/// No progress shown.
pub struct Quiet;
impl Progress for Quiet {}

/// What one file brought one village (the summary after an import).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VillageImported {
    pub village: String,
    pub entries: i64,
    /// The first and last year of its entries.
    pub years: (i32, i32),
}

/// The import's own row in `imports`, written in the same transaction as its records.
pub(crate) struct ImportMeta<'a> {
    pub kind: ImportKind,
    pub file_name: &'a str,
    pub sha256: String,
    pub actor: &'a str,
    /// Rows must name villages within this region (a township officer's or accountant's import).
    pub scope: Option<&'a cunji_core::region::RegionCode>,
}

/// One import under way: where it goes, what it is, and who watches it.
#[derive(Clone, Copy)]
pub(crate) struct Job<'a> {
    pub store: &'a Store,
    pub meta: &'a ImportMeta<'a>,
    pub progress: &'a dyn Progress,
}

impl Job<'_> {
    /// The whole file read and its header checked against `columns` (and `extra` for columns that
    /// are not fixed); the check phase begins.
    pub fn sheet(
        &self,
        bytes: &[u8],
        columns: &[crate::table::Column],
        extra: Option<crate::table::ExtraColumns<'_>>,
    ) -> Result<crate::table::Sheet, ImportError> {
        let sheet = crate::table::read_table(self.meta.file_name, bytes, columns, extra)?;
        self.progress.phase("检查", sheet.rows.len() as u64);
        Ok(sheet)
    }
}

impl Store {
    /// Imports one file of `kind`. `file_name` names the file in errors.
    pub async fn import(
        &self,
        kind: ImportKind,
        file_name: &str,
        bytes: &[u8],
        actor: &str,
        progress: &dyn Progress,
    ) -> Result<ImportOutcome, ImportError> {
        self.import_within(kind, file_name, bytes, actor, None, progress)
            .await
    }

    /// What an entries file (by its content) brought each village: entries and the years they fall
    /// in, in code order, at most `limit` villages (a county's file names a few hundred). Other kinds
    /// keep no link from their rows to their import: empty.
    pub async fn import_by_village(
        &self,
        kind: ImportKind,
        bytes: &[u8],
        limit: i64,
    ) -> Result<Vec<VillageImported>, StoreError> {
        if kind != ImportKind::Entries {
            return Ok(Vec::new());
        }
        let sha256 = crate::hex(&Sha256::digest(bytes));
        let rows = sqlx::query(
            "SELECT e.village, COUNT(*), MIN(e.year), MAX(e.year) FROM entries e \
             JOIN entry_writes w ON w.id = e.write_id \
             JOIN imports i ON i.id = w.import_id \
             WHERE i.kind = $1 AND i.sha256 = $2 GROUP BY e.village ORDER BY e.village LIMIT $3",
        )
        .bind(kind.key())
        .bind(&sha256)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (from, to): (i64, i64) = (r.try_get(2)?, r.try_get(3)?);
                Ok(VillageImported {
                    village: r.try_get(0)?,
                    entries: r.try_get(1)?,
                    years: (from as i32, to as i32),
                })
            })
            .collect()
    }

    /// Whether every village an earlier import of this content brought entries to lies within
    /// `scope` (only entries keep that link; any other kind is not known to, so `false`).
    async fn import_within_scope(
        &self,
        kind: ImportKind,
        bytes: &[u8],
        scope: &cunji_core::region::RegionCode,
    ) -> Result<bool, StoreError> {
        if kind != ImportKind::Entries {
            return Ok(false);
        }
        let villages = self.import_by_village(kind, bytes, i64::MAX).await?;
        Ok(villages.iter().all(|v| {
            cunji_core::region::RegionCode::parse(&v.village).is_ok_and(|c| scope.contains(&c))
        }))
    }

    /// Imports a file whose rows must all name villages within `scope`.
    pub async fn import_within(
        &self,
        kind: ImportKind,
        file_name: &str,
        bytes: &[u8],
        actor: &str,
        scope: Option<&cunji_core::region::RegionCode>,
        progress: &dyn Progress,
    ) -> Result<ImportOutcome, ImportError> {
        check_file_name(file_name)?;
        let sha256 =
            crate::timing::timed("file hash", async { crate::hex(&Sha256::digest(bytes)) }).await;
        if let Some(row) =
            sqlx::query("SELECT file_name, at, actor FROM imports WHERE kind = $1 AND sha256 = $2")
                .bind(kind.key())
                .bind(&sha256)
                .fetch_optional(&self.pool)
                .await?
        {
            let (name, at, by): (String, i64, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            // A user of a township or village learns of an earlier import only what lies in their own
            // scope (issue #32: the answer told an officer another township's file name and village).
            let shown = match scope {
                Some(scope)
                    if by != actor && !self.import_within_scope(kind, bytes, scope).await? =>
                {
                    "其他用户导入的文件".to_string()
                }
                _ => name,
            };
            return Ok(ImportOutcome::AlreadyImported {
                file_name: shown,
                at,
            });
        }
        let meta = ImportMeta {
            kind,
            file_name,
            sha256,
            actor,
            scope,
        };
        let job = Job {
            store: self,
            meta: &meta,
            progress,
        };
        match kind {
            ImportKind::Regions => regions::import(&job, bytes).await,
            ImportKind::Entries => entries::import(&job, bytes).await,
            ImportKind::Statements => statements::import(&job, bytes).await,
            ImportKind::Cadres => cadres::import(&job, bytes).await,
            ImportKind::Grants => grants::import(&job, bytes).await,
            ImportKind::Stats => stats::import(&job, bytes).await,
            ImportKind::Assets => contracts::import_assets(&job, bytes).await,
            ImportKind::Contracts => contracts::import_contracts(&job, bytes).await,
            ImportKind::Installments => contracts::import_installments(&job, bytes).await,
        }
    }
}

/// A file's name is kept in the audit log and exported with it: it may not start like a spreadsheet
/// formula (an upload named `=HYPERLINK(…)`), hold control characters, or run past 255 characters.
fn check_file_name(file_name: &str) -> Result<(), ImportError> {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let problem = if file_name.chars().count() > 255 {
        Some("文件名过长（最多 255 个字符）".to_string())
    } else if file_name.chars().any(|c| c.is_control()) {
        Some("文件名含有换行等控制字符".to_string())
    } else {
        // The whole name (an upload's, as the browser sent it) and the file's own name (a path's
        // last part, as a spreadsheet shows it).
        crate::table::check_text(file_name)
            .and_then(|_| crate::table::check_text(base))
            .err()
    };
    match problem {
        None => Ok(()),
        Some(message) => Err(ImportError::from(vec![crate::table::RowError {
            file: file_name
                .chars()
                .filter(|c| !c.is_control())
                .take(80)
                .collect(),
            line: 1,
            column: "文件名".into(),
            message: format!("{message}，请改名后再导入"),
        }])),
    }
}

/// Records the import and its audit row inside the import's transaction; returns the import's id and
/// its audit row's id. `record_hash` is the hash of the records written (entries, grants), or `None`
/// where the detail itself is the record.
pub(crate) async fn record_import(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    meta: &ImportMeta<'_>,
    rows: u64,
    detail: &str,
    record_hash: Option<&str>,
) -> Result<(i64, i64), sqlx::Error> {
    let at = crate::now();
    let id: i64 = sqlx::query(
        "INSERT INTO imports (kind, file_name, sha256, rows, actor, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(meta.kind.key())
    .bind(meta.file_name)
    .bind(&meta.sha256)
    .bind(rows as i64)
    .bind(meta.actor)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    let text = import_detail(meta, rows, detail);
    let record = record_hash
        .map(|h| h.to_string())
        .unwrap_or_else(|| crate::audit::sha256_hex(&text));
    let audit_id = crate::audit::write_with_record(
        tx,
        meta.actor,
        &format!("import_{}", meta.kind.key()),
        meta.file_name,
        &text,
        &record,
    )
    .await?;
    Ok((id, audit_id))
}

/// Completes an import recorded before its rows were counted: its row count, and its audit row's
/// detail and record hash.
pub(crate) async fn amend_import(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    meta: &ImportMeta<'_>,
    (import_id, audit_id): (i64, i64),
    rows: u64,
    detail: &str,
    record_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE imports SET rows = $1 WHERE id = $2")
        .bind(rows as i64)
        .bind(import_id)
        .execute(&mut **tx)
        .await?;
    let text = import_detail(meta, rows, detail);
    crate::audit::amend_last(tx, audit_id, &text, record_hash).await
}

/// The audit detail of an import.
fn import_detail(meta: &ImportMeta<'_>, rows: u64, detail: &str) -> String {
    format!(
        "导入{} {rows} 行（校验值 {}）{detail}",
        meta.kind.name_zh(),
        meta.sha256
    )
}
