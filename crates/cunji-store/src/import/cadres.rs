//! Importing cadres (SPEC §8): one row per person, village and year. A row already stored for the same
//! person, village and year is replaced (appraisals are often entered late); the audit log keeps it.

use std::collections::HashMap;

use cunji_core::cadre::{parse_bool, Role};
use cunji_core::columns::CADRES;

use super::cells::Cells;
use super::entries::Context;
use super::{record_import, ImportError, ImportMeta, ImportOutcome, Job, Progress};
use crate::db::Store;

struct NewCadre {
    village: String,
    year: i32,
    person: String,
    name: String,
    role: Role,
    months: i64,
    sanctioned: bool,
    base_pay: Option<i64>,
    appraisal: Option<String>,
}

pub(super) async fn import(job: &Job<'_>, bytes: &[u8]) -> Result<ImportOutcome, ImportError> {
    let (store, meta, progress) = (job.store, job.meta, job.progress);
    let sheet = job.sheet(bytes, &CADRES, None)?;
    let ctx = Context::load(store, std::iter::empty())
        .await?
        .within(meta.scope);
    let mut errors = crate::table::RowErrors::new();
    let mut seen: HashMap<(String, i32, String), u64> = HashMap::new();
    let mut out = Vec::new();
    for row in &sheet.rows {
        progress.advance(1);
        let mut cells = Cells::new(&sheet, row, &mut errors);
        let Some(c) = read_cadre(&mut cells, &ctx) else {
            continue;
        };
        let key = (c.village.clone(), c.year, c.person.clone());
        if let Some(prev) = seen.insert(key, cells.line) {
            let (person, village, year) = (&c.person, &c.village, c.year);
            cells.fail(
                "person",
                format!(
                    "{person} 在村 {village} 的 {year} 年已在第 {prev} 行出现（每人每村每年一行）"
                ),
            );
            continue;
        }
        out.push(c);
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    write(store, meta, &out, progress).await?;
    Ok(ImportOutcome::Stored {
        rows: out.len() as u64,
        unchanged: 0,
    })
}

/// One row read into a cadre, or `None` with its problems recorded.
fn read_cadre(c: &mut Cells<'_, '_>, ctx: &Context) -> Option<NewCadre> {
    let village = c.get("village").to_string();
    let year = c.year("year");
    if year.is_some() {
        check_village_only(ctx, c, &village);
    }
    let person = c.required("person", "人员编号不能为空");
    let name = c.required("name", "姓名不能为空");
    let role_text = c.get("role");
    let role = Role::parse(role_text);
    if role.is_none() {
        c.fail(
            "role",
            format!("未知职务 `{role_text}`（可填 secretary/书记、director/主任、secretary_director/书记兼主任、member/两委成员、first_secretary/第一书记、other/其他）"),
        );
    }
    let months = c.optional("months_in_post", |t| match t.parse::<i64>() {
        Ok(m) if (0..=12).contains(&m) => Ok(m),
        _ => Err(format!("任职月数应为 0–12 的整数，不是 `{t}`")),
    });
    let sanctioned = c.optional("sanctioned", |t| {
        parse_bool(t).ok_or_else(|| format!("应为 true/false、是/否 或 1/0，不是 `{t}`"))
    });
    let base_pay = c.optional("base_pay", cunji_core::money::Fen::parse_yuan);
    if base_pay.flatten().is_some_and(|f| f.fen() < 0) {
        c.fail("base_pay", "基本报酬不能为负");
    }
    let appraisal = Some(c.get("appraisal").to_string()).filter(|s| !s.is_empty());
    c.free_text(&["name", "person", "appraisal"]);
    if c.failed() {
        return None;
    }
    Some(NewCadre {
        village,
        year: year?,
        person,
        name,
        role: role?,
        months: months?.unwrap_or(12),
        sanctioned: sanctioned?.unwrap_or(false),
        base_pay: base_pay?.map(|f| f.fen()),
        appraisal,
    })
}

/// Stores the cadres: a row already stored for the same person, village and year is replaced.
async fn write(
    store: &Store,
    meta: &ImportMeta<'_>,
    out: &[NewCadre],
    progress: &dyn Progress,
) -> Result<(), ImportError> {
    let mut tx = store.begin_write().await?;
    use crate::audit::seals::{refuse_unsealed_each, seal_each, Arg, CADRES};
    // Roles and appraisals decide rewards: each village-year written is bound to this import's
    // audit row, and one changed behind the log's back is refused rather than sealed as it stands.
    let years: std::collections::BTreeSet<(&str, i32)> =
        out.iter().map(|c| (c.village.as_str(), c.year)).collect();
    let scopes: Vec<Vec<Arg>> = years
        .into_iter()
        .map(|(village, year)| vec![Arg::Text(village.into()), Arg::Int(year.into())])
        .collect();
    refuse_unsealed_each(&mut tx, &CADRES, &scopes).await?;
    progress.phase("写入", out.len() as u64);
    for c in out {
        sqlx::query(
            "INSERT INTO cadres (village, year, person, name, role, months_in_post, sanctioned, base_pay, appraisal) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (village, year, person) DO UPDATE SET name = excluded.name, role = excluded.role, \
             months_in_post = excluded.months_in_post, sanctioned = excluded.sanctioned, base_pay = excluded.base_pay, \
             appraisal = excluded.appraisal",
        )
        .bind(&c.village)
        .bind(c.year)
        .bind(&c.person)
        .bind(&c.name)
        .bind(c.role.key())
        .bind(c.months)
        .bind(c.sanctioned as i64)
        .bind(c.base_pay)
        .bind(c.appraisal.clone())
        .execute(&mut *tx)
        .await?;
        progress.advance(1);
    }
    let (_, audit_id) = record_import(&mut tx, meta, out.len() as u64, "", None).await?;
    crate::audit::touch(&mut tx, audit_id, out.iter().map(|c| c.village.as_str())).await?;
    seal_each(&mut tx, audit_id, &CADRES, &scopes).await?;
    tx.commit().await?;
    Ok(())
}

/// Cadre rows need a registered village; closed years do not apply to them.
fn check_village_only(ctx: &Context, c: &mut Cells<'_, '_>, village: &str) {
    use cunji_core::region::{Level, RegionCode};
    match RegionCode::parse(village) {
        Err(e) => c.fail("village", e.to_string()),
        Ok(code) if !ctx.regions.contains(&code) => {
            c.fail("village", format!("村 {village} 未登记（请先导入区划）"))
        }
        Ok(code) if code.level() != Level::Village => {
            c.fail("village", format!("{village} 不是村级区划"))
        }
        Ok(code) => {
            let (sheet, line) = (c.sheet(), c.line);
            ctx.check_scope(sheet, line, &code, c.errors());
        }
    }
}
