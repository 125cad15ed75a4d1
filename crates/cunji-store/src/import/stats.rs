//! Importing county statistics (SPEC §12): rural per-capita disposable income per county and year. A
//! figure already stored is replaced by a revised one (statistics bureaus revise), and the import is in
//! the audit log with what changed.

use std::collections::HashMap;

use cunji_core::date::parse_year;
use cunji_core::money::Fen;
use cunji_core::region::{Level, RegionCode};
use sqlx::Row;

use super::{record_import, ImportError, ImportMeta, ImportOutcome, Progress};
use crate::db::Store;
use crate::table::{col, read_table, Column};

const COLUMNS: [Column; 3] = [
    col("region", "区划代码", true),
    col("year", "年度", true),
    col("rural_income", "农村居民人均可支配收入", true),
];

pub(super) async fn import(
    store: &Store,
    meta: &ImportMeta<'_>,
    bytes: &[u8],
    progress: &dyn Progress,
) -> Result<ImportOutcome, ImportError> {
    let sheet = read_table(meta.file_name, bytes, &COLUMNS, None)?;
    progress.phase("检查", sheet.rows.len() as u64);
    let regions = store.load_regions().await?;
    let mut stored: HashMap<(String, i64), i64> = HashMap::new();
    for r in sqlx::query("SELECT region, year, rural_income FROM stats")
        .fetch_all(&store.pool)
        .await?
    {
        stored.insert((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?);
    }
    let mut errors = Vec::new();
    let mut seen: HashMap<(String, i32), u64> = HashMap::new();
    let mut out = Vec::new();
    let mut unchanged = 0u64;
    for row in &sheet.rows {
        let line = row.line;
        progress.advance(1);
        let before = errors.len();
        let region = match RegionCode::parse(sheet.get(row, "region")) {
            Ok(c) if c.level() != Level::County => {
                errors.push(sheet.error(
                    line,
                    "region",
                    format!("{c} 是{}级代码，统计数据按县填报", c.level().name_zh()),
                ));
                None
            }
            Ok(c) if !regions.contains(&c) => {
                errors.push(sheet.error(line, "region", format!("县 {c} 未登记（请先导入区划）")));
                None
            }
            Ok(c) => match meta.scope {
                Some(s) if !s.contains(&c) => {
                    errors.push(sheet.error(
                        line,
                        "region",
                        format!("县 {c} 不在您的管辖范围（{s}）内"),
                    ));
                    None
                }
                _ => Some(c),
            },
            Err(e) => {
                errors.push(sheet.error(line, "region", e.to_string()));
                None
            }
        };
        let year = parse_year(sheet.get(row, "year"))
            .map_err(|e| errors.push(sheet.error(line, "year", e)))
            .ok();
        let income = match Fen::parse_yuan(sheet.get(row, "rural_income")) {
            Ok(f) if f.fen() > 0 => Some(f),
            Ok(_) => {
                errors.push(sheet.error(line, "rural_income", "农村居民人均可支配收入应大于 0"));
                None
            }
            Err(e) => {
                errors.push(sheet.error(line, "rural_income", e.to_string()));
                None
            }
        };
        if errors.len() > before {
            continue;
        }
        let (Some(region), Some(year), Some(income)) = (region, year, income) else {
            continue;
        };
        if let Some(prev) = seen.insert((region.to_string(), year), line) {
            errors.push(sheet.error(
                line,
                "year",
                format!("县 {region} 的 {year} 年数据与第 {prev} 行重复"),
            ));
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
    let mut tx = store.begin_write().await?;
    let mut revised = Vec::new();
    for (region, year, income) in &out {
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
    record_import(&mut tx, meta, out.len() as u64, &detail, None).await?;
    tx.commit().await?;
    Ok(ImportOutcome::Stored {
        rows: out.len() as u64,
        unchanged,
    })
}
