//! Importing the region register (SPEC §2, §9): codes, names and merges. A region already stored
//! is updated (name, merges), and the change is in the audit log.

use std::collections::BTreeMap;

use cunji_core::columns::REGIONS;
use cunji_core::date::parse_year;
use cunji_core::region::{Region, RegionCode, RegionSet};
use sqlx::Row;

use super::cells::Cells;
use super::{record_import, ImportError, ImportMeta, ImportOutcome, Job, Progress};
use crate::db::Store;
use crate::table::{RowErrors, Sheet};

pub(super) async fn import(job: &Job<'_>, bytes: &[u8]) -> Result<ImportOutcome, ImportError> {
    let (store, meta, progress) = (job.store, job.meta, job.progress);
    let sheet = job.sheet(bytes, &REGIONS, None)?;
    if let Some(s) = meta.scope {
        return Err(ImportError::from(vec![sheet.error(
            1,
            "文件",
            format!("区划由县级管理员导入；您的范围限于 {s}"),
        )]));
    }
    let mut errors = RowErrors::new();
    let mut set = store.load_regions().await?;
    let before = set.clone();
    let mut line_of: BTreeMap<RegionCode, u64> = BTreeMap::new();
    let mut file_regions = Vec::new();
    for row in &sheet.rows {
        let mut c = Cells::new(&sheet, row, &mut errors);
        let Some((code, region)) = read_region(&mut c) else {
            continue;
        };
        if let Some(prev) = line_of.insert(code.clone(), c.line) {
            c.fail("code", format!("代码 {code} 在第 {prev} 行已出现"));
            continue;
        }
        if let Some(region) = region {
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
    if errors.is_empty() {
        check_new_merges(store, &sheet, &before, &file_regions, &line_of, &mut errors).await?;
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    write(store, meta, &before, &file_regions, progress).await
}

/// One row: its code when it has one (to find repeats), and the region when the whole row is good.
fn read_region(c: &mut Cells<'_, '_>) -> Option<(RegionCode, Option<Region>)> {
    let code = c.parse("code", RegionCode::parse);
    let name = c.get("name").to_string();
    c.free_text(&["name"]);
    if name.is_empty() {
        c.fail("name", "名称不能为空");
    }
    let mut predecessors = Vec::new();
    let listed = c.get("predecessors");
    for p in listed
        .split([';', '；'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if let Some(code) = c.parse("predecessors", |_| RegionCode::parse(p)) {
            predecessors.push(code);
        }
    }
    let merged_in = c.optional("merged_in", parse_year);
    let code = code?;
    // The other cells' problems keep the row out, while its code still counts for repeats.
    let region = match merged_in {
        Some(merged_in) if !c.failed() => Some(Region {
            code: code.clone(),
            name,
            predecessors,
            merged_in,
        }),
        _ => None,
    };
    Some((code, region))
}

/// A new merge may not leave stored entries of a predecessor dated in or after its year.
async fn check_new_merges(
    store: &Store,
    sheet: &Sheet,
    before: &RegionSet,
    file_regions: &[Region],
    line_of: &BTreeMap<RegionCode, u64>,
    errors: &mut RowErrors,
) -> Result<(), ImportError> {
    for r in file_regions {
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
    Ok(())
}

/// Stores new and changed regions, one JSON array a statement (see entries::BatchWriter for why not
/// one parameter a value), with the import's audit row.
async fn write(
    store: &Store,
    meta: &ImportMeta<'_>,
    before: &RegionSet,
    file_regions: &[Region],
    progress: &dyn Progress,
) -> Result<ImportOutcome, ImportError> {
    let mut tx = store.begin_write().await?;
    progress.phase("写入", file_regions.len() as u64);
    let write: Vec<&Region> = file_regions
        .iter()
        .filter(|r| before.get(&r.code) != Some(*r))
        .collect();
    let unchanged = (file_regions.len() - write.len()) as u64;
    let changed = write.iter().filter(|r| before.contains(&r.code)).count();
    let dialect = store.backend.dialect();
    for chunk in write.chunks(20_000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|r| (r.code.as_str(), &r.name, r.level().key(), r.merged_in))
            .collect();
        let json = serde_json::to_string(&rows).expect("plain values");
        sqlx::query(dialect.upsert_regions)
            .bind(json)
            .execute(&mut *tx)
            .await?;
        relink_predecessors(&mut tx, dialect, before, chunk).await?;
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

/// The merges of regions that have or had predecessors are written anew.
async fn relink_predecessors(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    dialect: &crate::backend::Dialect,
    before: &RegionSet,
    chunk: &[&Region],
) -> Result<(), ImportError> {
    let merged: Vec<_> = chunk
        .iter()
        .filter(|r| {
            !r.predecessors.is_empty()
                || before
                    .get(&r.code)
                    .is_some_and(|b| !b.predecessors.is_empty())
        })
        .collect();
    if merged.is_empty() {
        return Ok(());
    }
    let codes: Vec<(&str,)> = merged.iter().map(|r| (r.code.as_str(),)).collect();
    let json = serde_json::to_string(&codes).expect("plain values");
    sqlx::query(dialect.unlink_predecessors)
        .bind(json)
        .execute(&mut **tx)
        .await?;
    let pairs: Vec<(&str, &str)> = merged
        .iter()
        .flat_map(|r| r.predecessors.iter().map(|p| (p.as_str(), r.code.as_str())))
        .collect();
    if !pairs.is_empty() {
        let json = serde_json::to_string(&pairs).expect("plain values");
        sqlx::query(dialect.link_predecessors)
            .bind(json)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
