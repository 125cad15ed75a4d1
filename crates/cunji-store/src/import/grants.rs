//! Importing subsidy grants (SPEC §7). A grant id already stored with the same content is skipped; with
//! different content it is an error (money records are not silently rewritten). One grant per project.

use std::collections::HashMap;

use cunji_core::columns::GRANTS;
use cunji_core::rate::Ppm;
use cunji_core::region::RegionCode;
use cunji_core::subsidy::SourceLevel;
use sqlx::Row;

use super::cells::Cells;
use super::entries::Context;
use super::{record_import, ImportError, ImportMeta, ImportOutcome, Job};
use crate::db::Store;

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

pub(super) async fn import(job: &Job<'_>, bytes: &[u8]) -> Result<ImportOutcome, ImportError> {
    let (store, meta, progress) = (job.store, job.meta, job.progress);
    let sheet = job.sheet(bytes, &GRANTS, None)?;
    let ctx = Context::load(store, std::iter::empty())
        .await?
        .within(meta.scope);
    let mut file = FileGrants::load(store).await?;
    let mut errors = crate::table::RowErrors::new();
    for row in &sheet.rows {
        progress.advance(1);
        let mut cells = Cells::new(&sheet, row, &mut errors);
        let Some(g) = read_grant(&mut cells, &ctx) else {
            continue;
        };
        if file.admit(&mut cells, &g) {
            check_project_entries(store, &ctx, &mut cells, &g).await?;
            file.out.push(g);
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    write(store, meta, &file.out, file.unchanged).await?;
    Ok(ImportOutcome::Stored {
        rows: file.out.len() as u64,
        unchanged: file.unchanged,
    })
}

/// One row read into a grant, or `None` with its problems recorded.
fn read_grant(c: &mut Cells<'_, '_>, ctx: &Context) -> Option<NewGrant> {
    let grant = c.required("grant", "资金编号不能为空");
    let village = c.get("village").to_string();
    let year = c.year("year");
    check_grant_village(c, ctx, &village, year);
    let level_text = c.get("level");
    let level = SourceLevel::parse(level_text);
    if level.is_none() {
        c.fail(
            "level",
            format!("未知资金来源 `{level_text}`（可填 central/中央、provincial/省级、municipal/市级、county/县级、township/乡镇、other/其他）"),
        );
    }
    c.free_text(&["program", "grant", "project"]);
    let program = c.required("program", "项目名称不能为空");
    let amount = c.amount("amount", 1, "扶持资金金额应大于 0");
    let project = c.required("project", "项目编号不能为空");
    let expected_rate = c.optional("expected_rate", |t| Ppm::parse_within(t, Ppm::ONE));
    if c.failed() {
        return None;
    }
    Some(NewGrant {
        grant,
        village,
        year: year? as i64,
        level: level?.key().to_string(),
        program,
        amount: amount?.fen(),
        project,
        expected_rate: expected_rate?.map(|p| p.ppm()),
    })
}

/// A grant is booked to a village that exists that year (closed books do not stop a grant). A
/// predecessor no longer exists from its merge on: the grant belongs to its successor (SPEC §7),
/// which would otherwise be counted as unsupported.
fn check_grant_village(c: &mut Cells<'_, '_>, ctx: &Context, village: &str, year: Option<i32>) {
    let Some(y) = year else { return };
    let merged = RegionCode::parse(village)
        .ok()
        .and_then(|code| ctx.regions.successor_of(&code).map(|(s, m)| (s.clone(), m)));
    if let Some((succ, merged_in)) = merged.filter(|(_, m)| y >= *m) {
        c.fail(
            "village",
            format!("村 {village} 已于 {merged_in} 年并入 {succ}，{y} 年的扶持资金应拨给 {succ}"),
        );
        return;
    }
    let mut v_errors = crate::table::RowErrors::new();
    if !ctx.check_village(c.sheet(), c.line, village, y, &mut v_errors) {
        c.errors()
            .extend(v_errors.into_iter().filter(|e| e.column == "village"));
    }
}

/// The grants stored, and those of the file so far: a grant id or project stored or seen before is
/// refused (money records are not silently rewritten), one stored identically is skipped.
struct FileGrants {
    stored: HashMap<String, NewGrant>,
    stored_projects: HashMap<String, String>,
    seen_ids: HashMap<String, u64>,
    seen_projects: HashMap<String, u64>,
    out: Vec<NewGrant>,
    unchanged: u64,
}

impl FileGrants {
    async fn load(store: &Store) -> Result<FileGrants, ImportError> {
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
        let stored_projects = stored
            .values()
            .map(|g| (g.project.clone(), g.grant.clone()))
            .collect();
        Ok(FileGrants {
            stored,
            stored_projects,
            seen_ids: HashMap::new(),
            seen_projects: HashMap::new(),
            out: Vec::new(),
            unchanged: 0,
        })
    }

    /// Whether `g` is new and may be stored; a repeat or a conflict is recorded against its row.
    fn admit(&mut self, c: &mut Cells<'_, '_>, g: &NewGrant) -> bool {
        let (grant, project) = (&g.grant, &g.project);
        if let Some(prev) = self.seen_ids.insert(grant.clone(), c.line) {
            c.fail("grant", format!("资金编号 {grant} 与第 {prev} 行重复"));
            return false;
        }
        if let Some(prev) = self.seen_projects.insert(project.clone(), c.line) {
            c.fail(
                "project",
                format!("项目 {project} 与第 {prev} 行重复（一个项目只对应一笔资金）"),
            );
            return false;
        }
        match self.stored.get(grant) {
            Some(old) if old == g => {
                self.unchanged += 1;
                return false;
            }
            Some(_) => {
                c.fail(
                    "grant",
                    format!("资金编号 {grant} 已登记且内容不同；已登记的资金不能改写"),
                );
                return false;
            }
            None => {}
        }
        if let Some(other) = self.stored_projects.get(project) {
            c.fail(
                "project",
                format!("项目 {project} 已对应资金 {other}（一个项目只对应一笔资金）"),
            );
            return false;
        }
        true
    }
}

/// Entries may name the project before the grant arrives; they must be the grant village's own.
async fn check_project_entries(
    store: &Store,
    ctx: &Context,
    c: &mut Cells<'_, '_>,
    g: &NewGrant,
) -> Result<(), ImportError> {
    for r in sqlx::query("SELECT DISTINCT village FROM entries WHERE project = $1")
        .bind(&g.project)
        .fetch_all(&store.pool)
        .await?
    {
        let v: String = r.try_get(0)?;
        if !ctx.belongs_to_grant(&g.village, &v) {
            c.fail(
                "project",
                format!(
                    "村 {v} 已有账目记在项目 {} 名下，但资金拨给村 {}",
                    g.project, g.village
                ),
            );
        }
    }
    Ok(())
}

/// Stores the grants with the import's audit row, whose record hash covers every grant written.
async fn write(
    store: &Store,
    meta: &ImportMeta<'_>,
    out: &[NewGrant],
    unchanged: u64,
) -> Result<(), ImportError> {
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
    for g in out {
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
    Ok(())
}
