//! Importing statement books (SPEC §14): workbooks of 收益及收益分配表, one village-year a sheet, any
//! number of files in one import that stores everything or nothing. Each sheet is read by
//! `cunji_core::statement_book`; here its village is found in the register, its year checked against
//! what is stored, its accounts become the year's entries (as an annual statement's do, §3) — or, for a
//! village-year that already has entries, are checked against them — and its distribution is kept. A
//! sheet not filled in (the template as handed out) is skipped and named; a workbook with no figure
//! at all is refused. The `上年` column is compared with the stored year before: a difference is a
//! warning listed after the import, not an error.

use std::collections::{BTreeMap, HashMap};

use cunji_core::account::Account;
use cunji_core::date::Date;
use cunji_core::money::{Fen, FenSum};
use cunji_core::region::{Level, RegionCode, RegionSet};
use cunji_core::statement_book::{
    read_rows, village_key, Distribution, SheetRead, SheetStatement, VillageRef,
};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::entries::{write_entries, NewEntry};
use super::{record_import, ImportError, ImportKind, ImportMeta, Quiet};
use crate::db::Store;
use crate::table::RowError;

/// One workbook of an import.
pub struct BookFile<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// What an import stored, and what it noticed.
#[derive(Debug, Default)]
pub struct BookOutcome {
    pub sheets: usize,
    pub entries: usize,
    /// `上年` figures that differ from the stored year before, one line each.
    pub warnings: Vec<String>,
    /// Sheets not filled in (every amount cell empty), skipped: `FILE［SHEET］` each.
    pub skipped: Vec<String>,
    /// Sheets of village-years that already had entries: checked against them, no entries added.
    pub checked: usize,
    /// Each sheet's village code, year and the entries it made, in the order read.
    pub villages: Vec<(String, i32, usize)>,
}

/// Sheets one import reads at most (a county's villages for a year, with room).
pub const SHEETS_AT_MOST: usize = 5_000;

/// A sheet read and placed: its village code and what it holds.
struct Placed {
    place: String,
    village: String,
    statement: SheetStatement,
    /// The village-year had entries before: the sheet was checked against them and adds none.
    checked: bool,
}

impl Store {
    /// Imports `files` as statement books, villages found within `region` (a user's scope narrows it
    /// further). All or nothing: one wrong sheet in any file stores nothing.
    pub async fn import_statement_books(
        &self,
        files: &[BookFile<'_>],
        region: Option<&RegionCode>,
        scope: Option<&RegionCode>,
        actor: &str,
    ) -> Result<BookOutcome, ImportError> {
        let regions = self.load_regions().await?;
        let within = narrower(region, scope);
        let mut errors = Vec::new();
        let mut placed = Vec::new();
        let mut skipped = Vec::new();
        let mut budget = crate::xlsx::BOOK_IMPORT_CELLS;
        for f in files {
            let sheets = crate::xlsx::book_sheets(f.name, f.bytes, &mut budget)
                .map_err(|e| ImportError::Rows(e.into()))?;
            for (sheet, rows) in sheets {
                // Excel and WPS save blank Sheet2 and Sheet3 beside the statement.
                if rows
                    .iter()
                    .flat_map(|r| &r.cells)
                    .all(|(_, c)| c.text().trim().is_empty())
                {
                    continue;
                }
                let place = format!("{}［{sheet}］", f.name);
                match read_rows(&rows) {
                    Ok(SheetRead::NotFilledIn) => skipped.push(place),
                    Ok(SheetRead::Statement(statement)) => {
                        match find_village(&regions, within, &statement.village) {
                            Ok(village) => placed.push(Placed {
                                place,
                                village,
                                statement,
                                checked: false,
                            }),
                            Err(message) => errors.push(error(&place, 1, message)),
                        }
                    }
                    Err(es) => errors.extend(
                        es.into_iter()
                            .map(|e| error(&place, e.row as u64, e.message)),
                    ),
                }
                if placed.len() + errors.len() + skipped.len() > SHEETS_AT_MOST {
                    return Err(ImportError::Rows(
                        vec![error(
                            f.name,
                            1,
                            format!("一次最多导入 {SHEETS_AT_MOST} 张工作表"),
                        )]
                        .into(),
                    ));
                }
            }
        }
        if placed.is_empty() && errors.is_empty() {
            let names: Vec<&str> = files.iter().map(|f| f.name).collect();
            let message = if skipped.is_empty() {
                "没有可导入的数字：工作簿中没有收益及收益分配表".to_string()
            } else {
                format!(
                    "没有可导入的数字：{} 张工作表都未填写金额（{}）",
                    skipped.len(),
                    skipped.join("、")
                )
            };
            return Err(ImportError::Rows(
                vec![RowError {
                    file: names.join("、"),
                    line: 1,
                    column: "文件".into(),
                    message,
                }]
                .into(),
            ));
        }
        self.check_years(&mut placed, &mut errors).await?;
        if !errors.is_empty() {
            return Err(ImportError::Rows(errors.into()));
        }
        let warnings = self.prior_year_differences(&placed).await?;
        let entries = self.store_books(files, &placed, actor).await?;
        let villages = placed
            .iter()
            .map(|p| {
                (
                    p.village.clone(),
                    p.statement.year,
                    year_end_entries(p).len(),
                )
            })
            .collect();
        Ok(BookOutcome {
            sheets: placed.len(),
            entries,
            warnings,
            skipped,
            checked: placed.iter().filter(|p| p.checked).count(),
            villages,
        })
    }

    /// Each village-year once across the import and once in the database (a second book for it is
    /// a row error naming the sheet, the village and the year); one that already holds entries takes
    /// its book as a check (SPEC §14): each account line must equal the entries' total.
    async fn check_years(
        &self,
        placed: &mut [Placed],
        errors: &mut Vec<RowError>,
    ) -> Result<(), ImportError> {
        let mut seen: HashMap<(String, i32), String> = HashMap::new();
        for p in placed.iter_mut() {
            let year = p.statement.year;
            if let Some(first) = seen.insert((p.village.clone(), year), p.place.clone()) {
                let message = format!(
                    "村 {} 的 {year} 年收益及收益分配表与 {first} 重复（一个村一年只导入一张）",
                    p.village
                );
                errors.push(error(&p.place, 1, message));
                continue;
            }
            let booked: Option<i64> =
                sqlx::query("SELECT audit_id FROM distributions WHERE village = $1 AND year = $2")
                    .bind(&p.village)
                    .bind(year as i64)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(|r| r.try_get(0))
                    .transpose()?;
            if booked.is_some() {
                let message = format!(
                    "村 {} 的 {year} 年已导入过收益及收益分配表，不能再导入一张（更正请记账或冲销）",
                    p.village
                );
                errors.push(error(&p.place, 1, message));
                continue;
            }
            let stored: BTreeMap<String, (i64, i64)> = sqlx::query(
                "SELECT account, amount, entries FROM totals WHERE village = $1 AND year = $2",
            )
            .bind(&p.village)
            .bind(year as i64)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
            .collect::<Result<_, sqlx::Error>>()?;
            if stored.values().all(|(_, n)| *n == 0) {
                continue;
            }
            p.checked = true;
            for (account, written) in statement_accounts(&p.statement) {
                let books =
                    Fen::from_fen(stored.get(account.key()).map_or(0, |(amount, _)| *amount));
                if books.wide() != written {
                    let message = format!(
                        "村 {} 的 {year} 年已有账目，报表作为核对：“{}”账上合计 {} 元，报表写的是 {} 元",
                        p.village,
                        account.name_zh(),
                        books,
                        written.shown()
                    );
                    errors.push(error(&p.place, 1, message));
                }
            }
        }
        Ok(())
    }

    /// `上年` figures against the stored totals of the year before (where there are any).
    async fn prior_year_differences(&self, placed: &[Placed]) -> Result<Vec<String>, ImportError> {
        let mut out = Vec::new();
        for p in placed.iter().filter(|p| !p.statement.prior.is_empty()) {
            let year = p.statement.year - 1;
            let stored: BTreeMap<String, i64> =
                sqlx::query("SELECT account, amount FROM totals WHERE village = $1 AND year = $2")
                    .bind(&p.village)
                    .bind(year as i64)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                    .collect::<Result<_, sqlx::Error>>()?;
            if stored.is_empty() {
                continue;
            }
            for (account, written) in &p.statement.prior {
                let kept = Fen::from_fen(stored.get(account.key()).copied().unwrap_or(0));
                if kept != *written {
                    out.push(format!(
                        "{}：“{}”上年金额写的是 {written} 元，已入账的 {year} 年为 {kept} 元（村 {}）",
                        p.place,
                        account.name_zh(),
                        p.village
                    ));
                }
            }
        }
        Ok(out)
    }

    /// One transaction: the import's record, the year-end entries, the distributions.
    async fn store_books(
        &self,
        files: &[BookFile<'_>],
        placed: &[Placed],
        actor: &str,
    ) -> Result<usize, ImportError> {
        let mut hash = Sha256::new();
        for f in files {
            hash.update(Sha256::digest(f.bytes));
        }
        let names: Vec<&str> = files.iter().map(|f| f.name).collect();
        let file_name = names.join("、");
        let meta = ImportMeta {
            kind: ImportKind::Statements,
            file_name: &file_name,
            sha256: crate::hex(&hash.finalize()),
            actor,
            scope: None,
        };
        let entries: Vec<NewEntry> = placed
            .iter()
            .filter(|p| !p.checked)
            .flat_map(year_end_entries)
            .collect();
        let mut tx = self.begin_write().await?;
        let record = super::entries::entries_hash(&entries, "statement");
        let detail = format!(
            "（收益及收益分配表 {} 张），生成 {} 笔年末分录",
            placed.len(),
            entries.len()
        );
        let (import_id, audit_id) =
            record_import(&mut tx, &meta, placed.len() as u64, &detail, Some(&record)).await?;
        write_entries(
            &mut tx,
            self.backend,
            Some(import_id),
            audit_id,
            &entries,
            "statement",
            actor,
            &Quiet,
        )
        .await?;
        for p in placed {
            let stored = insert_distribution(
                &mut tx,
                &p.village,
                p.statement.year,
                &p.statement.distribution,
                audit_id,
            )
            .await;
            match stored {
                // Another import stored this village-year since it was checked.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    let message = format!(
                        "村 {} 的 {} 年已导入过收益及收益分配表，不能再导入一张（更正请记账或冲销）",
                        p.village, p.statement.year
                    );
                    return Err(ImportError::Rows(vec![error(&p.place, 1, message)].into()));
                }
                other => other?,
            }
        }
        crate::audit::touch(&mut tx, audit_id, placed.iter().map(|p| p.village.as_str())).await?;
        tx.commit().await?;
        Ok(entries.len())
    }

    /// The stored distribution of each village in `year` (a few hundred rows a county).
    pub async fn distributions_of_year(
        &self,
        year: i32,
    ) -> Result<BTreeMap<RegionCode, Distribution>, crate::StoreError> {
        let rows = sqlx::query(
            "SELECT village, opening_undistributed, transfers_in, reserves, welfare, outside_investors, members, other, closing_undistributed FROM distributions WHERE year = $1",
        )
        .bind(year as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut out = BTreeMap::new();
        for r in rows {
            let f = |i: usize| -> Result<Fen, sqlx::Error> { Ok(Fen::from_fen(r.try_get(i)?)) };
            let code: String = r.try_get(0)?;
            let code = RegionCode::parse(&code)
                .map_err(|e| crate::StoreError::Corrupt(format!("数据库中的区划代码有误：{e}")))?;
            let d = Distribution {
                opening_undistributed: f(1)?,
                transfers_in: f(2)?,
                reserves: f(3)?,
                welfare: f(4)?,
                outside_investors: f(5)?,
                members: f(6)?,
                other: f(7)?,
                closing_undistributed: f(8)?,
            };
            out.insert(code, d);
        }
        Ok(out)
    }

    /// The stored distribution of each village-year among `villages` (for reports and pages).
    pub async fn distributions(
        &self,
        villages: &[String],
    ) -> Result<BTreeMap<(String, i32), Distribution>, crate::StoreError> {
        let mut out = BTreeMap::new();
        for chunk in villages.chunks(500) {
            let sql = format!(
                "SELECT village, year, opening_undistributed, transfers_in, reserves, welfare, outside_investors, members, other, closing_undistributed FROM distributions WHERE village IN ({})",
                super::entries::placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in chunk {
                q = q.bind(v.as_str());
            }
            for r in q.fetch_all(&self.pool).await? {
                let f = |i: usize| -> Result<Fen, sqlx::Error> { Ok(Fen::from_fen(r.try_get(i)?)) };
                let year: i64 = r.try_get(1)?;
                let d = Distribution {
                    opening_undistributed: f(2)?,
                    transfers_in: f(3)?,
                    reserves: f(4)?,
                    welfare: f(5)?,
                    outside_investors: f(6)?,
                    members: f(7)?,
                    other: f(8)?,
                    closing_undistributed: f(9)?,
                };
                out.insert((r.try_get(0)?, year as i32), d);
            }
        }
        Ok(out)
    }
}

/// The sheet's figure of each account it has a line for (an account printed twice, in two halves of
/// a sheet, is added up exactly).
fn statement_accounts(statement: &SheetStatement) -> BTreeMap<Account, FenSum> {
    let mut sums: BTreeMap<Account, FenSum> = BTreeMap::new();
    for (account, v) in &statement.accounts {
        *sums.entry(*account).or_default() += *v;
    }
    sums
}

fn error(place: &str, line: u64, message: String) -> RowError {
    RowError {
        file: place.to_string(),
        line,
        column: "项目".into(),
        message,
    }
}

/// The narrower of the region asked for and the user's scope (a scope is always honoured).
fn narrower<'r>(
    region: Option<&'r RegionCode>,
    scope: Option<&'r RegionCode>,
) -> Option<&'r RegionCode> {
    match (region, scope) {
        (Some(r), Some(s)) if s.contains(r) => Some(r),
        (_, Some(s)) => Some(s),
        (r, None) => r,
    }
}

/// The registered village a sheet names: by code, or by name within `within`; none or several is an
/// error naming the candidates.
fn find_village(
    regions: &RegionSet,
    within: Option<&RegionCode>,
    named: &VillageRef,
) -> Result<String, String> {
    let inside = |c: &RegionCode| within.is_none_or(|w| w.contains(c));
    match named {
        VillageRef::Code(code) => match RegionCode::parse(code) {
            Ok(c) if regions.get(&c).is_some_and(|r| r.level() == Level::Village) && inside(&c) => {
                Ok(c.to_string())
            }
            _ => Err(format!("编制单位中的村代码 {code} 未登记或不在导入范围内")),
        },
        VillageRef::Name(name) => {
            let key = village_key(name);
            let prefix = within.map_or("", |w| w.prefix());
            let found: Vec<&cunji_core::region::Region> = regions
                .with_prefix(prefix)
                .filter(|r| r.level() == Level::Village && village_key(&r.name) == key)
                .take(10)
                .collect();
            match found.as_slice() {
                [one] => Ok(one.code.to_string()),
                [] => Err(format!(
                    "找不到名为“{name}”的村（按“{key}”在区划中查找{}）",
                    scope_words(within)
                )),
                several => Err(format!(
                    "“{name}”对应多个村：{}；请用 --region 缩小范围，或在编制单位中写 12 位村代码",
                    several
                        .iter()
                        .map(|r| format!("{}（{}）", r.name, r.code))
                        .collect::<Vec<_>>()
                        .join("、")
                )),
            }
        }
    }
}

fn scope_words(within: Option<&RegionCode>) -> String {
    within.map_or_else(String::new, |w| format!("，范围 {w}"))
}

/// One entry dated the year's end for each non-zero account, as an annual statement's (§3); an account
/// printed twice (in two halves of a sheet) is added up.
fn year_end_entries(p: &Placed) -> Vec<NewEntry> {
    if p.checked {
        return Vec::new();
    }
    let year = p.statement.year;
    statement_accounts(&p.statement)
        .into_iter()
        .filter(|(_, v)| !v.is_zero())
        // Within the bound of one amount: the sheet's reader refuses a larger account total.
        .filter_map(|(account, v)| Some((account, v.fen().ok()?.fen())))
        .map(|(account, amount)| NewEntry {
            line: 1,
            village: p.village.as_str().into(),
            date: Date::year_end(year),
            account,
            amount,
            voucher: None,
            memo: format!("{year} 年度收益及收益分配表导入"),
            project: None,
            reverses: None,
        })
        .collect()
}

async fn insert_distribution(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    village: &str,
    year: i32,
    d: &Distribution,
    audit_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO distributions (village, year, opening_undistributed, transfers_in, reserves, welfare, outside_investors, members, other, closing_undistributed, audit_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(village)
    .bind(year as i64)
    .bind(d.opening_undistributed.fen())
    .bind(d.transfers_in.fen())
    .bind(d.reserves.fen())
    .bind(d.welfare.fen())
    .bind(d.outside_investors.fen())
    .bind(d.members.fen())
    .bind(d.other.fen())
    .bind(d.closing_undistributed.fen())
    .bind(audit_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
