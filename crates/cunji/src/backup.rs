//! `cunji backup`, `cunji check` and `cunji restore` (issue #18): a consistent copy of a SQLite
//! database while the server runs, the checks a copy must pass, and putting a copy back without ever
//! replacing a newer database by mistake.

use std::path::Path;

use cunji_store::Store;

use crate::cli::Failure;

/// `cunji backup --out FILE`: the database as of one moment, then checked.
pub async fn backup(db: &str, out: &Path) -> Result<(), Failure> {
    let store = Store::open(db, false).await?;
    let result = store.backup_to(out).await;
    store.close().await;
    result?;
    let copy = Store::open(&url_of(out), false).await?;
    let report = copy.check().await;
    copy.close().await;
    let report = report?;
    if !report.problems.is_empty() {
        return Err(Failure::other(format!(
            "备份已写出，但检查发现 {} 处问题：\n{}",
            report.problems.len(),
            report.problems.join("\n")
        )));
    }
    println!(
        "已备份到 {}，并检查通过（{} 条审计记录）。",
        out.display(),
        report.audit_rows
    );
    Ok(())
}

fn url_of(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// `cunji check [FILE]`: every problem listed, exit status 1 when there is one.
pub async fn check(db: &str, file: Option<&Path>) -> Result<(), Failure> {
    let url = file.map_or_else(|| db.to_string(), url_of);
    let store = Store::open(&url, false).await?;
    let report = store.check().await;
    store.close().await;
    let report = report?;
    if report.problems.is_empty() {
        println!(
            "检查通过：文件完整，{} 条审计记录首尾相接，每笔记录与审计记录相符，合计与分录一致。",
            report.audit_rows
        );
        Ok(())
    } else {
        Err(Failure::other(format!(
            "检查发现 {} 处问题：\n{}",
            report.problems.len(),
            report.problems.join("\n")
        )))
    }
}

/// `cunji restore FILE [--force]`: the copy is checked, and put in place of `--db` only when it is
/// not older than what is there (or with `--force`). The server must be stopped first: it keeps the
/// old file open.
pub async fn restore(db: &str, file: &Path, force: bool) -> Result<(), Failure> {
    let Some(target) = cunji_store::db_path(db) else {
        return Err(Failure::input(
            "错误：restore 只用于 SQLite 数据库；PostgreSQL 请用 pg_restore（见 docs/deploy.md）",
        ));
    };
    let copy = Store::open(&url_of(file), false).await?;
    let (report, copy_stamp) = (copy.check().await, copy.stamp().await);
    copy.close().await;
    let (report, copy_stamp) = (report?, copy_stamp?);
    if !report.problems.is_empty() {
        return Err(Failure::other(format!(
            "备份 {} 未通过检查，未恢复：\n{}",
            file.display(),
            report.problems.join("\n")
        )));
    }
    if target.exists() {
        let current = Store::open(db, false).await?;
        let stamp = current.stamp().await;
        current.close().await;
        let stamp = stamp?;
        if stamp > copy_stamp && !force {
            return Err(Failure::input(format!(
                "错误：现有数据库比备份新（{} 条审计记录，备份只有 {} 条），未恢复；确要用旧备份覆盖，请加 --force",
                stamp.audit_rows, copy_stamp.audit_rows
            )));
        }
    }
    put_in_place(file, &target)?;
    println!(
        "已用 {} 恢复 {}（{} 条审计记录）。",
        file.display(),
        target.display(),
        copy_stamp.audit_rows
    );
    Ok(())
}

/// Copies `file` next to `target`, removes the old database's write-ahead log (it belongs to the old
/// file: SQLite would replay it into the restored one), then renames the copy over `target`, so that
/// a crash leaves one database or the other, never half of each.
fn put_in_place(file: &Path, target: &Path) -> Result<(), Failure> {
    let io = |e: std::io::Error| Failure::other(format!("错误：无法恢复：{e}"));
    let staged = target.with_extension("restoring");
    std::fs::copy(file, &staged).map_err(io)?;
    for suffix in ["-wal", "-shm"] {
        let side = std::path::PathBuf::from(format!("{}{suffix}", target.display()));
        if side.exists() {
            std::fs::remove_file(&side).map_err(io)?;
        }
    }
    std::fs::rename(&staged, target).map_err(io)?;
    Ok(())
}
