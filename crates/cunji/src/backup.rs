//! `cunji backup`, `cunji check` and `cunji restore` (issue #18): a consistent copy of a SQLite
//! database while the server runs, the checks a copy must pass, and putting a copy back without ever
//! replacing a newer database by mistake.

use std::path::{Path, PathBuf};

use cunji_store::Store;

use crate::support::Failure;

/// `cunji backup --out FILE`: the database as of one moment, then checked, and the audit head
/// beside it (`FILE.head`).
pub async fn backup(db: &str, out: &Path) -> Result<(), Failure> {
    let store = Store::open(db, false).await?;
    // Read before the copy is taken: the copy holds this row or later ones (the chain only grows),
    // so the copy's check against it finds a copy of a database whose tail was cut.
    let head = store.audit_head().await;
    let result = store.backup_to(out).await;
    store.close().await;
    let head = head?;
    result?;
    let copy = Store::open(&url_of(out), false).await?;
    let report = copy.check_with_head(Some((head.0, &head.1))).await;
    let copy_head = copy.audit_head().await;
    copy.close().await;
    let copy_head = copy_head?;
    write_head(&head_file(out), copy_head)?;
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

/// `cunji check [FILE] [--head HEAD]`: every problem listed, exit status 1 when there is one. The
/// audit chain is also checked against the head kept outside the database: `--head`, or the
/// `.head` file beside the SQLite file when there is one.
pub async fn check(db: &str, file: Option<&Path>, head: Option<&Path>) -> Result<(), Failure> {
    let url = file.map_or_else(|| db.to_string(), url_of);
    let head_path = head.map(Path::to_path_buf).or_else(|| {
        cunji_store::db_path(&url)
            .map(|p| head_file(&p))
            .filter(|p| p.exists())
    });
    let kept = match &head_path {
        Some(p) => Some(read_head(p)?),
        None => None,
    };
    let store = Store::open(&url, false).await?;
    let report = store
        .check_with_head(kept.as_ref().map(|(id, h)| (*id, h.as_str())))
        .await;
    let postgres = !store.backend.is_file();
    store.close().await;
    let report = report?;
    if report.problems.is_empty() {
        // PostgreSQL keeps its own files: cunji has not checked them and does not say so.
        let file = if postgres { "" } else { "文件完整，" };
        let against = match (&head_path, &kept) {
            (Some(p), Some((id, _))) if *id > 0 => {
                format!("，与库外保存的末端（{}，审计记录 #{id}）相符", p.display())
            }
            _ => String::new(),
        };
        println!(
            "检查通过：{file}{} 条审计记录首尾相接{against}，每笔记录与审计记录相符，合计与分录一致。",
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
    // Held until the copy is in place: no server may have the file open meanwhile (#32: a restore
    // under a running server lost the writes it acknowledged afterwards, into the replaced file).
    let _lock = exclusive_lock(&target)?;
    // A copy made by `backup` carries its head beside it: a copy whose tail was cut is refused.
    let kept = match head_file(file) {
        p if p.exists() => Some(read_head(&p)?),
        _ => None,
    };
    let copy = Store::open(&url_of(file), false).await?;
    let report = copy
        .check_with_head(kept.as_ref().map(|(id, h)| (*id, h.as_str())))
        .await;
    let copy_stamp = copy.stamp().await;
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
    // The restored database's own head: the one kept for the replaced file no longer applies.
    let copy_head = {
        let copy = Store::open(&url_of(&target), false).await?;
        let h = copy.audit_head().await;
        copy.close().await;
        h?
    };
    write_head(&head_file(&target), copy_head)?;
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

/// The file beside a SQLite database or backup that keeps its audit head: `FILE.head`.
pub fn head_file(db_file: &Path) -> PathBuf {
    PathBuf::from(format!("{}.head", db_file.display()))
}

/// The text of a kept head: `ID HASH` and a newline (what `cunji audit head` prints).
pub fn head_line(id: i64, hash: &str) -> String {
    format!("{id} {hash}\n")
}

/// A kept head read back (`ID HASH`; a leading `#` is allowed).
fn read_head(path: &Path) -> Result<(i64, String), Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::input(format!(
            "错误：无法读取审计链末端文件 {}：{e}",
            path.display()
        ))
    })?;
    let mut words = text.split_whitespace();
    let id = words
        .next()
        .map(|w| w.trim_start_matches('#'))
        .and_then(|w| w.parse::<i64>().ok());
    match (id, words.next()) {
        (Some(id), Some(hash)) if hash.len() == 64 => Ok((id, hash.to_string())),
        (Some(0), None) => Ok((0, String::new())),
        _ => Err(Failure::input(format!(
            "错误：{} 不是审计链末端文件（应为一行“编号 哈希”，即 cunji audit head 的输出）",
            path.display()
        ))),
    }
}

/// The head kept beside the SQLite file of `db` (`<db>.head`), when there is one.
pub fn kept_head_of(db: &str) -> Result<Option<(i64, String)>, Failure> {
    match cunji_store::db_path(db).map(|p| head_file(&p)) {
        Some(p) if p.exists() => Ok(Some(read_head(&p)?)),
        _ => Ok(None),
    }
}

/// Writes a kept head (to a temporary name first, so a crash never leaves half a line).
fn write_head(path: &Path, (id, hash): (i64, String)) -> Result<(), Failure> {
    let io = |e: std::io::Error| {
        Failure::other(format!("错误：无法写出审计链末端 {}：{e}", path.display()))
    };
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    std::fs::write(&tmp, head_line(id, &hash)).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// After a command that wrote to a SQLite database: its head moves forward in `<db>.head`, but only
/// when the head kept there is still in the chain. A kept head the database no longer holds (its
/// tail was cut) is left as it is, for `check` to report, and said on standard error.
pub async fn keep_head(db: &str) {
    let Some(file) = cunji_store::db_path(db) else {
        return;
    };
    let path = head_file(&file);
    let Ok(store) = Store::open(db, false).await else {
        return;
    };
    let kept = if path.exists() {
        read_head(&path).ok()
    } else {
        None
    };
    let problem = match &kept {
        Some((id, hash)) => store.verify_head(*id, hash).await.ok().flatten(),
        None => None,
    };
    let head = store.audit_head().await;
    store.close().await;
    match (problem, head) {
        (Some(p), _) => eprintln!(
            "警告：{p}。{} 未更新，请运行 cunji check 查明。",
            path.display()
        ),
        (None, Ok(head)) => {
            if let Err(e) = write_head(&path, head) {
                eprintln!("警告：{}", e.message);
            }
        }
        (None, Err(_)) => {}
    }
}

/// The lock file of a SQLite database: `<db>.lock`.
fn lock_file(db_file: &Path) -> Result<std::fs::File, Failure> {
    let path = PathBuf::from(format!("{}.lock", db_file.display()));
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Failure::other(format!("错误：无法打开锁文件 {}：{e}", path.display())))
}

/// The lock a server holds on its SQLite file while it serves (shared: several servers may read one
/// file; `restore` needs it alone). `None` for PostgreSQL.
pub fn serving_lock(db: &str) -> Result<Option<std::fs::File>, Failure> {
    let Some(file) = cunji_store::db_path(db) else {
        return Ok(None);
    };
    let lock = lock_file(&file)?;
    match lock.try_lock_shared() {
        Ok(()) => Ok(Some(lock)),
        Err(_) => Err(Failure::other(format!(
            "错误：{} 正在被恢复（cunji restore），请等恢复完成后再启动服务",
            file.display()
        ))),
    }
}

/// The lock `restore` takes: refused while a server has the file open.
fn exclusive_lock(target: &Path) -> Result<std::fs::File, Failure> {
    let lock = lock_file(target)?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(_) => Err(Failure::other(format!(
            "错误：{} 正由 cunji serve 使用，未恢复：请先停止网页服务（运行中的服务会继续写入被替换的旧文件，写入会丢失），再运行 cunji restore",
            target.display()
        ))),
    }
}
