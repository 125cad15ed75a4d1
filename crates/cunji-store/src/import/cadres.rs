//! Importing cadres (SPEC §8): one row per person, village and year. A row already stored for the same
//! person, village and year is replaced (appraisals are often entered late); the audit log keeps it.

use std::collections::HashMap;

use cunji_core::cadre::{parse_bool, Role};
use cunji_core::date::parse_year;
use cunji_core::money::Fen;

use super::entries::Context;
use super::{record_import, ImportError, ImportMeta, ImportOutcome, Progress};
use crate::db::Store;
use crate::table::{col, read_table, Column};

const COLUMNS: [Column; 9] = [
    col("village", "村代码", true),
    col("year", "年度", true),
    col("person", "人员编号", true),
    col("name", "姓名", true),
    col("role", "职务", true),
    col("months_in_post", "任职月数", false),
    col("sanctioned", "受处分", false),
    col("base_pay", "基本报酬", false),
    col("appraisal", "考核等次", false),
];

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

pub(super) async fn import(
    store: &Store,
    meta: &ImportMeta<'_>,
    bytes: &[u8],
    progress: &dyn Progress,
) -> Result<ImportOutcome, ImportError> {
    let sheet = read_table(meta.file_name, bytes, &COLUMNS, None)?;
    progress.phase("检查", sheet.rows.len() as u64);
    let villages: Vec<String> = sheet
        .rows
        .iter()
        .map(|r| sheet.get(r, "village").to_string())
        .collect();
    let ctx = Context::load(store, std::iter::empty())
        .await?
        .within(meta.scope);
    let mut errors = Vec::new();
    let mut seen: HashMap<(String, i32, String), u64> = HashMap::new();
    let mut out = Vec::new();
    for (row, village) in sheet.rows.iter().zip(villages) {
        let line = row.line;
        progress.advance(1);
        let before = errors.len();
        let year = parse_year(sheet.get(row, "year"))
            .map_err(|e| errors.push(sheet.error(line, "year", e)))
            .ok();
        if let Some(y) = year {
            check_village_only(&ctx, &sheet, line, &village, y, &mut errors);
        }
        let person = sheet.get(row, "person").to_string();
        if person.is_empty() {
            errors.push(sheet.error(line, "person", "人员编号不能为空"));
        }
        let name = sheet.get(row, "name").to_string();
        if name.is_empty() {
            errors.push(sheet.error(line, "name", "姓名不能为空"));
        }
        let role_text = sheet.get(row, "role");
        let role = Role::parse(role_text);
        if role.is_none() {
            errors.push(sheet.error(
                line,
                "role",
                format!("未知职务 `{role_text}`（可填 secretary/书记、director/主任、secretary_director/书记兼主任、member/两委成员、first_secretary/第一书记、other/其他）"),
            ));
        }
        let months_text = sheet.get(row, "months_in_post");
        let months = if months_text.is_empty() {
            12
        } else {
            match months_text.parse::<i64>() {
                Ok(m) if (0..=12).contains(&m) => m,
                _ => {
                    errors.push(sheet.error(
                        line,
                        "months_in_post",
                        format!("任职月数应为 0–12 的整数，不是 `{months_text}`"),
                    ));
                    0
                }
            }
        };
        let sanctioned_text = sheet.get(row, "sanctioned");
        let sanctioned = if sanctioned_text.is_empty() {
            false
        } else {
            parse_bool(sanctioned_text).unwrap_or_else(|| {
                errors.push(sheet.error(
                    line,
                    "sanctioned",
                    format!("应为 true/false、是/否 或 1/0，不是 `{sanctioned_text}`"),
                ));
                false
            })
        };
        let pay_text = sheet.get(row, "base_pay");
        let base_pay = if pay_text.is_empty() {
            None
        } else {
            match Fen::parse_yuan(pay_text) {
                Ok(f) if f.fen() >= 0 => Some(f.fen()),
                Ok(_) => {
                    errors.push(sheet.error(line, "base_pay", "基本报酬不能为负"));
                    None
                }
                Err(e) => {
                    errors.push(sheet.error(line, "base_pay", e.to_string()));
                    None
                }
            }
        };
        let appraisal = Some(sheet.get(row, "appraisal").to_string()).filter(|s| !s.is_empty());
        for key in ["name", "person", "appraisal"] {
            if let Err(m) = crate::table::check_text(sheet.get(row, key)) {
                errors.push(sheet.error(line, key, m));
            }
        }
        if errors.len() > before {
            continue;
        }
        let (Some(year), Some(role)) = (year, role) else {
            continue;
        };
        if let Some(prev) = seen.insert((village.clone(), year, person.clone()), line) {
            errors.push(sheet.error(
                line,
                "person",
                format!(
                    "{person} 在村 {village} 的 {year} 年已在第 {prev} 行出现（每人每村每年一行）"
                ),
            ));
            continue;
        }
        out.push(NewCadre {
            village,
            year,
            person,
            name,
            role,
            months,
            sanctioned,
            base_pay,
            appraisal,
        });
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let mut tx = store.begin_write().await?;
    progress.phase("写入", out.len() as u64);
    for c in &out {
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
    tx.commit().await?;
    Ok(ImportOutcome::Stored {
        rows: out.len() as u64,
        unchanged: 0,
    })
}

/// Cadre rows need a registered village; closed years do not apply to them.
fn check_village_only(
    ctx: &Context,
    sheet: &crate::table::Sheet,
    line: u64,
    village: &str,
    _year: i32,
    errors: &mut Vec<crate::table::RowError>,
) {
    use cunji_core::region::{Level, RegionCode};
    match RegionCode::parse(village) {
        Err(e) => errors.push(sheet.error(line, "village", e.to_string())),
        Ok(c) if !ctx.regions.contains(&c) => errors.push(sheet.error(
            line,
            "village",
            format!("村 {village} 未登记（请先导入区划）"),
        )),
        Ok(c) if c.level() != Level::Village => {
            errors.push(sheet.error(line, "village", format!("{village} 不是村级区划")))
        }
        Ok(c) => {
            ctx.check_scope(sheet, line, &c, errors);
        }
    }
}
