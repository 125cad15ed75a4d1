//! Importing county statistics (SPEC §12): rural per-capita disposable income per county and year. A
//! figure already stored is replaced by a revised one (statistics bureaus revise), and the import is in
//! the audit log with what changed.

use std::collections::HashMap;

use cunji_core::columns::STATS;
use cunji_core::money::Fen;
use cunji_core::region::{Level, RegionCode, RegionSet};
use sqlx::Row;

use super::cells::Cells;
use super::{record_import, ImportError, ImportMeta, ImportOutcome, Job};
use crate::db::Store;

type Stored = HashMap<(String, i64), i64>;

pub(super) async fn import(job: &Job<'_>, bytes: &[u8]) -> Result<ImportOutcome, ImportError> {
    let (store, meta, progress) = (job.store, job.meta, job.progress);
    let sheet = job.sheet(bytes, &STATS, None)?;
    let regions = store.load_regions().await?;
    let mut stored: Stored = HashMap::new();
    for r in sqlx::query("SELECT region, year, rural_income FROM stats")
        .fetch_all(&store.pool)
        .await?
    {
        stored.insert((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?);
    }
    let mut errors = crate::table::RowErrors::new();
    let mut seen: HashMap<(String, i32), u64> = HashMap::new();
    let mut out = Vec::new();
    let mut unchanged = 0u64;
    for row in &sheet.rows {
        progress.advance(1);
        let mut c = Cells::new(&sheet, row, &mut errors);
        let region = county(&mut c, &regions, meta.scope);
        let year = c.year("year");
        let income = c.amount("rural_income", 1, "农村居民人均可支配收入应大于 0");
        let (Some(region), Some(year), Some(income)) = (region, year, income) else {
            continue;
        };
        if let Some(prev) = seen.insert((region.to_string(), year), c.line) {
            c.fail(
                "year",
                format!("县 {region} 的 {year} 年数据与第 {prev} 行重复"),
            );
            continue;
        }
        if stored.get(&(region.to_string(), year as i64)) == Some(&income.fen()) {
            unchanged += 1;
            continue;
        }
        out.push((region, year, income));
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    write(store, meta, &out, &stored).await?;
    Ok(ImportOutcome::Stored {
        rows: out.len() as u64,
        unchanged,
    })
}

/// The row's county: registered, a county, and within the importer's scope.
fn county(
    c: &mut Cells<'_, '_>,
    regions: &RegionSet,
    scope: Option<&RegionCode>,
) -> Option<RegionCode> {
    let code = c.parse("region", RegionCode::parse)?;
    let problem = if code.level() != Level::County {
        format!(
            "{code} 是{}级代码，统计数据按县填报",
            code.level().name_zh()
        )
    } else if !regions.contains(&code) {
        format!("县 {code} 未登记（请先导入区划）")
    } else {
        match scope {
            Some(s) if !s.contains(&code) => format!("县 {code} 不在您的管辖范围（{s}）内"),
            _ => return Some(code),
        }
    };
    c.fail("region", problem);
    None
}

/// Stores the figures; a revised one replaces the stored one and the audit detail says what changed.
async fn write(
    store: &Store,
    meta: &ImportMeta<'_>,
    out: &[(RegionCode, i32, Fen)],
    stored: &Stored,
) -> Result<(), ImportError> {
    let mut tx = store.begin_write().await?;
    use crate::audit::seals::{refuse_unsealed_each, seal_each, Arg, STATS};
    let scopes: Vec<Vec<Arg>> = out
        .iter()
        .map(|(region, year, _)| vec![Arg::Text(region.to_string()), Arg::Int((*year).into())])
        .collect();
    refuse_unsealed_each(&mut tx, &STATS, &scopes).await?;
    let mut revised = Vec::new();
    for (region, year, income) in out {
        if let Some(old) = stored.get(&(region.to_string(), *year as i64)) {
            revised.push(format!(
                "{region} {year} 年 {} → {}",
                Fen::from_fen(*old).display(),
                income.display()
            ));
        }
        sqlx::query(
            "INSERT INTO stats (region, year, rural_income) VALUES ($1, $2, $3) \
             ON CONFLICT (region, year) DO UPDATE SET rural_income = excluded.rural_income",
        )
        .bind(region.as_str())
        .bind(*year)
        .bind(income.fen())
        .execute(&mut *tx)
        .await?;
    }
    let detail = if revised.is_empty() {
        String::new()
    } else {
        format!("，修订：{}", revised.join("；"))
    };
    let (_, audit_id) = record_import(&mut tx, meta, out.len() as u64, &detail, None).await?;
    seal_each(&mut tx, audit_id, &STATS, &scopes).await?;
    tx.commit().await?;
    Ok(())
}
