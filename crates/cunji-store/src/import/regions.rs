//! Importing the region register (SPEC §2, §9): codes, names and merges. A region already stored
//! is updated (name, merges), and the change is in the audit log.

use std::collections::BTreeMap;

use cunji_core::date::parse_year;
use cunji_core::region::{Region, RegionCode};
use sqlx::Row;

use super::{record_import, ImportError, ImportMeta, ImportOutcome, Progress};
use crate::db::Store;
use crate::table::{col, read_table, Column, RowError};

const COLUMNS: [Column; 4] = [
    col("code", "代码", true),
    col("name", "名称", true),
    col("predecessors", "合并前村", false),
    col("merged_in", "合并年份", false),
];

pub(super) async fn import(
    store: &Store,
    meta: &ImportMeta<'_>,
    bytes: &[u8],
    progress: &dyn Progress,
) -> Result<ImportOutcome, ImportError> {
    let sheet = read_table(meta.file_name, bytes, &COLUMNS, None)?;
    if let Some(s) = meta.scope {
        return Err(ImportError::Rows(vec![sheet.error(
            1,
            "文件",
            format!("区划由县级管理员导入；您的范围限于 {s}"),
        )]));
    }
    progress.phase("检查", sheet.rows.len() as u64);
    let mut errors: Vec<RowError> = Vec::new();
    let mut set = store.load_regions().await?;
    let before = set.clone();
    let mut line_of: BTreeMap<RegionCode, u64> = BTreeMap::new();
    let mut file_regions = Vec::new();
    for row in &sheet.rows {
        let line = row.line;
        let mut ok = true;
        let code = match RegionCode::parse(sheet.get(row, "code")) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(sheet.error(line, "code", e.to_string()));
                None
            }
        };
        let name = sheet.get(row, "name").to_string();
        if let Err(m) = crate::table::check_text(&name) {
            errors.push(sheet.error(line, "name", m));
            ok = false;
        }
        if name.is_empty() {
            errors.push(sheet.error(line, "name", "名称不能为空"));
            ok = false;
        }
        let mut predecessors = Vec::new();
        for p in sheet
            .get(row, "predecessors")
            .split([';', '；'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match RegionCode::parse(p) {
                Ok(c) => predecessors.push(c),
                Err(e) => {
                    errors.push(sheet.error(line, "predecessors", e.to_string()));
                    ok = false;
                }
            }
        }
        let merged_text = sheet.get(row, "merged_in");
        let merged_in = if merged_text.is_empty() {
            None
        } else {
            match parse_year(merged_text) {
                Ok(y) => Some(y),
                Err(e) => {
                    errors.push(sheet.error(line, "merged_in", e));
                    ok = false;
                    None
                }
            }
        };
        let Some(code) = code else { continue };
        if let Some(prev) = line_of.insert(code.clone(), line) {
            errors.push(sheet.error(line, "code", format!("代码 {code} 在第 {prev} 行已出现")));
            continue;
        }
        if ok {
            let region = Region {
                code,
                name,
                predecessors,
                merged_in,
            };
            set.insert(region.clone());
            file_regions.push(region);
        }
        progress.advance(1);
    }
    if errors.is_empty() {
        for (c, e) in set.check_merges() {
            let line = line_of.get(&c).copied().unwrap_or(1);
            errors.push(sheet.error(line, "predecessors", e.to_string()));
        }
    }
    // A new merge may not leave stored entries of a predecessor dated in or after its year.
    if errors.is_empty() {
        for r in &file_regions {
            let Some(year) = r.merged_in else { continue };
            for p in &r.predecessors {
                if before
                    .successor_of(p)
                    .is_some_and(|(s, y)| *s == r.code && y == year)
                {
                    continue;
                }
                let n: i64 =
                    sqlx::query("SELECT COUNT(*) FROM entries WHERE village = $1 AND year >= $2")
                        .bind(p.as_str())
                        .bind(year)
                        .fetch_one(&store.pool)
                        .await?
                        .try_get(0)?;
                if n > 0 {
                    errors.push(sheet.error(
                        line_of[&r.code],
                        "merged_in",
                        format!(
                            "村 {p} 在 {year} 年及以后已有 {n} 笔账目，不能定为 {year} 年并入 {}",
                            r.code
                        ),
                    ));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }

    let mut changed = 0u64;
    let mut unchanged = 0u64;
    let mut tx = store.begin_write().await?;
    progress.phase("写入", file_regions.len() as u64);
    let mut write = Vec::new();
    for r in &file_regions {
        if before.get(&r.code) == Some(r) {
            unchanged += 1;
            continue;
        }
        if before.contains(&r.code) {
            changed += 1;
        }
        write.push(r);
    }
    // One JSON array a statement (see entries::BatchWriter for why not one parameter a value).
    let dialect = store.backend.dialect();
    let (upsert, unlink, link) = (
        dialect.upsert_regions,
        dialect.unlink_predecessors,
        dialect.link_predecessors,
    );
    for chunk in write.chunks(20_000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|r| (r.code.as_str(), &r.name, r.level().key(), r.merged_in))
            .collect();
        let json = serde_json::to_string(&rows).expect("plain values");
        sqlx::query(upsert).bind(json).execute(&mut *tx).await?;
        let merged: Vec<_> = chunk
            .iter()
            .filter(|r| {
                !r.predecessors.is_empty()
                    || before
                        .get(&r.code)
                        .is_some_and(|b| !b.predecessors.is_empty())
            })
            .collect();
        if !merged.is_empty() {
            let codes: Vec<(&str,)> = merged.iter().map(|r| (r.code.as_str(),)).collect();
            let json = serde_json::to_string(&codes).expect("plain values");
            sqlx::query(unlink).bind(json).execute(&mut *tx).await?;
            let pairs: Vec<(&str, &str)> = merged
                .iter()
                .flat_map(|r| r.predecessors.iter().map(|p| (p.as_str(), r.code.as_str())))
                .collect();
            if !pairs.is_empty() {
                let json = serde_json::to_string(&pairs).expect("plain values");
                sqlx::query(link).bind(json).execute(&mut *tx).await?;
            }
        }
        progress.advance(chunk.len() as u64);
    }
    let stored = file_regions.len() as u64 - unchanged;
    record_import(
        &mut tx,
        meta,
        stored,
        &format!("，其中修改 {changed} 个，未变 {unchanged} 个"),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(ImportOutcome::Stored {
        rows: stored,
        unchanged,
    })
}
