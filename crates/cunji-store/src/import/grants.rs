//! Importing subsidy grants (SPEC §7). A grant id already stored with the same content is skipped; with
//! different content it is an error (money records are not silently rewritten). One grant per project.

use std::collections::HashMap;

use cunji_core::date::parse_year;
use cunji_core::money::Fen;
use cunji_core::rate::Ppm;
use cunji_core::subsidy::SourceLevel;
use sqlx::Row;

use super::entries::Context;
use super::{record_import, ImportError, ImportMeta, ImportOutcome, Progress};
use crate::db::Store;
use crate::table::{col, read_table, Column};

const COLUMNS: [Column; 8] = [
    col("grant", "资金编号", true),
    col("village", "村代码", true),
    col("year", "年度", true),
    col("level", "资金来源", true),
    col("program", "项目名称", true),
    col("amount", "金额", true),
    col("project", "项目", true),
    col("expected_rate", "预期收益率", false),
];

#[derive(Clone, PartialEq, Eq)]
struct NewGrant {
    grant: String,
    village: String,
    year: i64,
    level: String,
    program: String,
    amount: i64,
    project: String,
    expected_rate: Option<i64>,
}

pub(super) async fn import(
    store: &Store,
    meta: &ImportMeta<'_>,
    bytes: &[u8],
    progress: &dyn Progress,
) -> Result<ImportOutcome, ImportError> {
    let sheet = read_table(meta.file_name, bytes, &COLUMNS, None)?;
    progress.phase("检查", sheet.rows.len() as u64);
    let ctx = Context::load(store, std::iter::empty())
        .await?
        .within(meta.scope);
    let mut stored: HashMap<String, NewGrant> = HashMap::new();
    for r in sqlx::query("SELECT grant_id, village, year, level, program, amount, project, expected_rate FROM grants")
        .fetch_all(&store.pool)
        .await?
    {
        let g = NewGrant {
            grant: r.try_get(0)?,
            village: r.try_get(1)?,
            year: r.try_get(2)?,
            level: r.try_get(3)?,
            program: r.try_get(4)?,
            amount: r.try_get(5)?,
            project: r.try_get(6)?,
            expected_rate: r.try_get(7)?,
        };
        stored.insert(g.grant.clone(), g);
    }
    let stored_projects: HashMap<String, String> = stored
        .values()
        .map(|g| (g.project.clone(), g.grant.clone()))
        .collect();
    let mut errors = Vec::new();
    let mut seen_ids: HashMap<String, u64> = HashMap::new();
    let mut seen_projects: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::new();
    let mut unchanged = 0u64;
    for row in &sheet.rows {
        let line = row.line;
        progress.advance(1);
        let before = errors.len();
        let grant = sheet.get(row, "grant").to_string();
        if grant.is_empty() {
            errors.push(sheet.error(line, "grant", "资金编号不能为空"));
        }
        let village = sheet.get(row, "village").to_string();
        let year = parse_year(sheet.get(row, "year"))
            .map_err(|e| errors.push(sheet.error(line, "year", e)))
            .ok();
        let merged = cunji_core::region::RegionCode::parse(&village)
            .ok()
            .and_then(|c| ctx.regions.successor_of(&c).map(|(s, m)| (s.clone(), m)));
        match (year, merged) {
            // A predecessor no longer exists from its merge on: the grant belongs to its successor
            // (SPEC §7), which would otherwise be counted as unsupported.
            (Some(y), Some((succ, merged_in))) if y >= merged_in => errors.push(sheet.error(
                line,
                "village",
                format!(
                    "村 {village} 已于 {merged_in} 年并入 {succ}，{y} 年的扶持资金应拨给 {succ}"
                ),
            )),
            _ => {}
        }
        if let Some(y) = year.filter(|_| {
            errors.len() == before || !errors[before..].iter().any(|e| e.column == "village")
        }) {
            // A grant is booked to a village that exists that year; closed books do not stop a grant.
            let mut v_errors = Vec::new();
            if !ctx.check_village(&sheet, line, &village, y, &mut v_errors) {
                errors.extend(v_errors.into_iter().filter(|e| e.column == "village"));
            }
        }
        let level_text = sheet.get(row, "level");
        let level = SourceLevel::parse(level_text);
        if level.is_none() {
            errors.push(sheet.error(
                line,
                "level",
                format!("未知资金来源 `{level_text}`（可填 central/中央、provincial/省级、municipal/市级、county/县级、township/乡镇、other/其他）"),
            ));
        }
        let program = sheet.get(row, "program").to_string();
        for key in ["program", "grant", "project"] {
            if let Err(m) = crate::table::check_text(sheet.get(row, key)) {
                errors.push(sheet.error(line, key, m));
            }
        }
        if program.is_empty() {
            errors.push(sheet.error(line, "program", "项目名称不能为空"));
        }
        let amount = match Fen::parse_yuan(sheet.get(row, "amount")) {
            Ok(f) if f.fen() > 0 => Some(f.fen()),
            Ok(_) => {
                errors.push(sheet.error(line, "amount", "扶持资金金额应大于 0"));
                None
            }
            Err(e) => {
                errors.push(sheet.error(line, "amount", e.to_string()));
                None
            }
        };
        let project = sheet.get(row, "project").to_string();
        if project.is_empty() {
            errors.push(sheet.error(line, "project", "项目编号不能为空"));
        }
        let rate_text = sheet.get(row, "expected_rate");
        let expected_rate = if rate_text.is_empty() {
            None
        } else {
            match Ppm::parse_within(rate_text, Ppm::ONE) {
                Ok(p) => Some(p.ppm()),
                Err(e) => {
                    errors.push(sheet.error(line, "expected_rate", e.to_string()));
                    None
                }
            }
        };
        if errors.len() > before {
            continue;
        }
        let (Some(year), Some(level), Some(amount)) = (year, level, amount) else {
            continue;
        };
        let g = NewGrant {
            grant: grant.clone(),
            village: village.clone(),
            year: year as i64,
            level: level.key().to_string(),
            program,
            amount,
            project: project.clone(),
            expected_rate,
        };
        if let Some(prev) = seen_ids.insert(grant.clone(), line) {
            errors.push(sheet.error(
                line,
                "grant",
                format!("资金编号 {grant} 与第 {prev} 行重复"),
            ));
            continue;
        }
        if let Some(prev) = seen_projects.insert(project.clone(), line) {
            errors.push(sheet.error(
                line,
                "project",
                format!("项目 {project} 与第 {prev} 行重复（一个项目只对应一笔资金）"),
            ));
            continue;
        }
        match stored.get(&grant) {
            Some(old) if *old == g => {
                unchanged += 1;
                continue;
            }
            Some(_) => {
                errors.push(sheet.error(
                    line,
                    "grant",
                    format!("资金编号 {grant} 已登记且内容不同；已登记的资金不能改写"),
                ));
                continue;
            }
            None => {}
        }
        if let Some(other) = stored_projects.get(&project) {
            errors.push(sheet.error(
                line,
                "project",
                format!("项目 {project} 已对应资金 {other}（一个项目只对应一笔资金）"),
            ));
            continue;
        }
        // Entries may name the project before the grant arrives; they must be the grant village's own.
        for r in sqlx::query("SELECT DISTINCT village FROM entries WHERE project = $1")
            .bind(&project)
            .fetch_all(&store.pool)
            .await?
        {
            let v: String = r.try_get(0)?;
            if !ctx.belongs_to_grant(&village, &v) {
                errors.push(sheet.error(
                    line,
                    "project",
                    format!("村 {v} 已有账目记在项目 {project} 名下，但资金拨给村 {village}"),
                ));
            }
        }
        out.push(g);
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let mut tx = store.begin_write().await?;
    let mut lines: Vec<String> = out
        .iter()
        .map(|g| {
            crate::audit::grant_line(
                &g.grant,
                &g.village,
                g.year,
                &g.level,
                &g.program,
                g.amount,
                &g.project,
                g.expected_rate,
            )
        })
        .collect();
    lines.sort();
    let record = crate::audit::sha256_hex(&lines.concat());
    let (_, audit_id) = record_import(
        &mut tx,
        meta,
        out.len() as u64,
        &format!("，未变 {unchanged} 笔"),
        Some(&record),
    )
    .await?;
    for g in &out {
        sqlx::query(
            "INSERT INTO grants (grant_id, village, year, level, program, amount, project, expected_rate, audit_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&g.grant)
        .bind(&g.village)
        .bind(g.year)
        .bind(&g.level)
        .bind(&g.program)
        .bind(g.amount)
        .bind(&g.project)
        .bind(g.expected_rate)
        .bind(audit_id)
        .execute(&mut *tx)
        .await?;
    }
    crate::audit::touch(&mut tx, audit_id, out.iter().map(|g| g.village.as_str())).await?;
    tx.commit().await?;
    Ok(ImportOutcome::Stored {
        rows: out.len() as u64,
        unchanged,
    })
}
