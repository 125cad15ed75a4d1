//! Backups of a SQLite database while it is in use (issue #18), the checks a copy must pass, and the
//! stamp that says how far a database has come (so a restore never puts an older copy over a newer
//! database by mistake). PostgreSQL is backed up with its own `pg_dump` (docs/deploy.md).

use std::path::Path;

use sqlx::Row;

use crate::db::{Store, StoreError};

const DAMAGED: &str =
    "数据库文件已损坏（文件的部分页面读不出或前后矛盾，多由断电、磁盘故障或复制中断造成）";
const RECOVER: &str =
    "请停止网页服务，用最近一次检查通过的备份恢复（cunji restore 备份文件），并检查磁盘。";

/// A database error that means the file is damaged, said in plain Chinese (`None` for others).
pub(crate) fn corrupt_zh(e: &sqlx::Error) -> Option<String> {
    let text = e.to_string();
    let damaged = ["malformed", "corrupt", "not a database", "disk I/O error"]
        .iter()
        .any(|w| text.contains(w));
    damaged.then(|| format!("{DAMAGED}。{RECOVER}SQLite 的原始报告：{text}"))
}

/// Free bytes for an unprivileged writer on the file system holding `dir`.
fn free_bytes_at(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs is a C struct of integers only, for which all-zero bytes are a valid value.
    // (No safe call in std reports free space; this and the call below are the only unsafe code
    // outside sqlite_native, see docs/benchmarks.md "unsafe".)
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a writable statvfs the call fills in.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}

/// How far a database has come: its newest audit row (every change writes one) and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp {
    pub audit_rows: i64,
    pub at: i64,
}

/// What `check` found: each problem in Chinese; none means the database passed.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub problems: Vec<String>,
    pub audit_rows: usize,
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `out` (`VACUUM INTO`: one read
    /// transaction, so writers carry on and the copy is the database as of one moment). `out` must
    /// not exist.
    pub async fn backup_to(&self, out: &Path) -> Result<(), StoreError> {
        if !self.backend.is_file() {
            return Err(StoreError::Invalid(
                "PostgreSQL 数据库请用 pg_dump 备份（见 docs/deploy.md）".into(),
            ));
        }
        if out.exists() {
            return Err(StoreError::Conflict(format!(
                "{} 已存在：备份不覆盖已有文件",
                out.display()
            )));
        }
        // A damaged page in an index is not read by `VACUUM INTO`, which rebuilds the indexes: the
        // copy would pass its check while the file it came from is damaged. The source is checked
        // first (SQLite's quick_check), so a damaged file is never backed up as if it were whole.
        let damage = self.sqlite_damage("quick_check").await?;
        if let Some(first) = damage.first() {
            return Err(StoreError::Invalid(format!(
                "备份失败，未写出 {}：{first}",
                out.display()
            )));
        }
        // Written under another name and renamed when whole: a backup that fails (a full disk, a
        // damaged page) leaves nothing at `out`, not a 0-byte file that makes the next backup refuse
        // to overwrite it (#32).
        let partial = std::path::PathBuf::from(format!("{}.partial", out.display()));
        let _ = std::fs::remove_file(&partial);
        let path = partial
            .to_str()
            .ok_or_else(|| StoreError::Invalid("备份文件路径须为 UTF-8".into()))?;
        let written = sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&self.pool)
            .await;
        if let Err(e) = written {
            let _ = std::fs::remove_file(&partial);
            return Err(StoreError::Invalid(format!(
                "备份失败，未写出 {}：{}",
                out.display(),
                corrupt_zh(&e).unwrap_or_else(|| e.to_string())
            )));
        }
        std::fs::rename(&partial, out).map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            StoreError::Invalid(format!("备份失败，未写出 {}：{e}", out.display()))
        })?;
        Ok(())
    }

    /// The newest audit row and its time (0, 0 for a database never written to).
    pub async fn stamp(&self) -> Result<Stamp, StoreError> {
        let r = sqlx::query("SELECT COALESCE(MAX(id), 0), COALESCE(MAX(at), 0) FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(Stamp {
            audit_rows: r.try_get(0)?,
            at: r.try_get(1)?,
        })
    }

    /// Everything a copy must pass: SQLite's own `integrity_check`, then the audit chain, each stored
    /// record against its audit row, and the kept totals and facts against the entries.
    pub async fn check(&self) -> Result<CheckReport, StoreError> {
        self.check_with_head(None).await
    }

    /// `check`, and the audit chain against a head kept outside the database (`audit_head`): a tail of
    /// audit rows deleted with the head rewritten inside the database is found only this way.
    pub async fn check_with_head(
        &self,
        head: Option<(i64, &str)>,
    ) -> Result<CheckReport, StoreError> {
        let mut report = CheckReport::default();
        if self.backend.is_file() {
            report
                .problems
                .extend(self.sqlite_damage("integrity_check").await?);
            if !report.problems.is_empty() {
                // The rest reads the damaged pages: what it would say adds nothing but SQLite's
                // English errors.
                return Ok(report);
            }
        }
        // The audit check includes the kept totals and entry facts against the entries.
        let audit = self.verify_audit().await;
        match audit {
            Ok(problems) => report.problems.extend(problems),
            Err(StoreError::Db(e)) if corrupt_zh(&e).is_some() => {
                report.problems.extend(corrupt_zh(&e));
                return Ok(report);
            }
            Err(e) => return Err(e),
        }
        report
            .problems
            .extend(self.kept_contract_differences().await?);
        if let Some((id, hash)) = head {
            report.problems.extend(self.verify_head(id, hash).await?);
        }
        report.audit_rows = self.audit_all().await?.len();
        Ok(report)
    }

    /// SQLite's own check of the file (`integrity_check`, every page; `quick_check`, faster, what the
    /// server runs when it starts), each problem in plain Chinese. Empty when the file is whole, and
    /// always empty on PostgreSQL, which keeps its own files.
    pub async fn sqlite_damage(&self, pragma: &str) -> Result<Vec<String>, StoreError> {
        if !self.backend.is_file() {
            return Ok(Vec::new());
        }
        let sql = match pragma {
            "quick_check" => "PRAGMA quick_check",
            _ => "PRAGMA integrity_check",
        };
        let rows = match sqlx::query(sql).fetch_all(&self.pool).await {
            Ok(rows) => rows,
            Err(e) => match corrupt_zh(&e) {
                Some(m) => return Ok(vec![m]),
                None => return Err(e.into()),
            },
        };
        let mut lines = Vec::new();
        for r in rows {
            let line: String = r.try_get(0)?;
            if line != "ok" {
                lines.push(line);
            }
        }
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        let pages: std::collections::BTreeSet<String> = lines
            .iter()
            .filter_map(|l| {
                let rest = l
                    .split("Page ")
                    .nth(1)
                    .or_else(|| l.split("page ").nth(1))?;
                let n: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                (!n.is_empty()).then_some(n)
            })
            .collect();
        let where_ = if pages.is_empty() {
            String::new()
        } else {
            format!(
                "，损坏的页：第 {} 页",
                pages.into_iter().collect::<Vec<_>>().join("、")
            )
        };
        Ok(vec![format!(
            "{DAMAGED}（SQLite 发现 {} 处问题{where_}）。{RECOVER}SQLite 的原始报告：{}",
            lines.len(),
            lines.iter().take(5).cloned().collect::<Vec<_>>().join("；")
        )])
    }

    /// Free space on the disk holding the SQLite file, in bytes (`None` on PostgreSQL or when it
    /// cannot be read).
    pub fn free_bytes(&self) -> Option<u64> {
        if !self.backend.is_file() {
            return None;
        }
        let file = self.sqlite_file.as_ref()?;
        let dir = file.parent().filter(|d| !d.as_os_str().is_empty())?;
        free_bytes_at(dir)
    }
}
