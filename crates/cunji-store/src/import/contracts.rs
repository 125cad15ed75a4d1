//! Importing the asset register, contracts and installments (SPEC §16), all or nothing, each row's
//! problems on its cells. A row the store already holds identically is skipped; a changed one is
//! stored as the next version (nothing is edited in place), and a contract's installments are
//! replaced as a whole set. Assets come before the contracts on them, contracts before their
//! installments and before the entries naming them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cunji_core::account::Account;
use cunji_core::columns::{ASSETS, CONTRACTS, INSTALLMENTS};
use cunji_core::contracts::{
    Asset, AssetDraft, AssetKind, AssetStatus, Contract, ContractDraft, ContractKind, DueDay,
    FieldError, Installment, Quantity,
};
use cunji_core::date::Date;
use cunji_core::money::Fen;
use cunji_core::rate::Ppm;
use cunji_core::region::{Level, RegionCode};
use sqlx::Row;

use super::cells::Cells;
use super::entries::Context;
use super::{record_import, ImportError, ImportOutcome, Job};
use crate::contracts::{AssetRead, AssetRow, ContractRow, Stored};
use crate::db::Store;

/// The row's village: a registered village within the importer's scope that was not merged away
/// (its assets and contracts belong to the village it was merged into).
fn village_of(c: &mut Cells<'_, '_>, ctx: &Context) -> Option<RegionCode> {
    let text = c.get("village");
    let code = match RegionCode::parse(text) {
        Ok(code) => code,
        Err(e) => {
            c.fail("village", e.to_string());
            return None;
        }
    };
    if !ctx.regions.contains(&code) {
        c.fail("village", format!("村 {text} 未登记（请先导入区划）"));
        return None;
    }
    if code.level() != Level::Village {
        c.fail(
            "village",
            format!("{text} 是{}级区划，不是村", code.level().name_zh()),
        );
        return None;
    }
    let mut scope_errors = crate::table::RowErrors::new();
    if !ctx.check_scope(c.sheet(), c.line, &code, &mut scope_errors) {
        c.errors().extend(scope_errors);
        return None;
    }
    if let Some((succ, merged_in)) = ctx.regions.successor_of(&code) {
        c.fail(
            "village",
            format!("村 {text} 已于 {merged_in} 年并入 {succ}，其资产和合同应登记在 {succ}"),
        );
        return None;
    }
    Some(code)
}

fn put_errors(c: &mut Cells<'_, '_>, errors: Vec<FieldError>) {
    for e in errors {
        c.fail(e.column, e.message);
    }
}

fn date_cell(c: &mut Cells<'_, '_>, key: &str) -> Option<Date> {
    c.parse(key, Date::parse_file)
}

fn optional_date(c: &mut Cells<'_, '_>, key: &str) -> Option<Option<Date>> {
    c.optional(key, Date::parse_file)
}

/// The ids of a file seen so far, by village: a second row for the same id is refused.
#[derive(Default)]
struct Seen(HashMap<(String, String), u64>);

impl Seen {
    fn first(&mut self, c: &mut Cells<'_, '_>, key: &str, village: &str, id: &str) -> bool {
        match self.0.insert((village.to_string(), id.to_string()), c.line) {
            Some(prev) => {
                c.fail(key, format!("编号 {id} 与第 {prev} 行重复（同一村内唯一）"));
                false
            }
            None => true,
        }
    }
}

/// A one-row INSERT for SQLite's bulk write and the values of a row (version and audit row last
/// but one and last), as `write_versions`' `bind` binds them.
type NativeInsert<T> = (
    &'static std::ffi::CStr,
    fn(&T, i64, i64) -> Vec<crate::backend::sqlite_bulk::Value>,
);

/// Stores the new versions of `versions` with the import's audit row, which seals them (table
/// `sealed`, issue #32); refused when a row of the assets or contracts of its scopes (village and id)
/// was changed behind the log's back, as a new version would vouch for it.
#[allow(clippy::too_many_arguments)]
async fn write_versions<T: std::fmt::Debug + Sync>(
    job: &Job<'_>,
    versions: &Versions<T>,
    sealed: &crate::audit::seals::Sealed,
    head: &str,
    columns: usize,
    bind: impl for<'q> Fn(
        sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        &'q T,
        i64,
        i64,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    native: Option<NativeInsert<T>>,
) -> Result<ImportOutcome, ImportError> {
    let Versions {
        rows,
        unchanged,
        scopes,
    } = versions;
    let t = crate::timing::Timer::start();
    let mut tx = job.store.begin_write().await?;
    let record = record_of(rows);
    let (_, audit_id) = record_import(
        &mut tx,
        job.meta,
        rows.len() as u64,
        &format!("，未变 {unchanged} 笔"),
        Some(&record),
    )
    .await?;
    t.lap("write: record");
    crate::audit::seals::refuse_unsealed_scopes(&mut tx, sealed, scopes).await?;
    t.lap("write: unsealed refused");
    // Many rows per INSERT (at most about 900 parameters): one statement a row made an import of
    // 150,000 contracts slower per row than entries.
    let per = (900 / columns).max(1);
    let statement = |n: usize| -> String {
        let each: Vec<String> = (0..n)
            .map(|i| {
                let ps: Vec<String> = (1..=columns)
                    .map(|c| format!("${}", i * columns + c))
                    .collect();
                format!("({})", ps.join(", "))
            })
            .collect();
        format!("{head} VALUES {}", each.join(", "))
    };
    let full = statement(per);
    // Rows with a native form are sealed from their values in memory; on SQLite they also go
    // through the bulk write: one prepared statement, each value bound directly (sqlx's binding of
    // 150,163 contracts' 17 values each was seconds).
    let sqlite = job.store.backend == crate::backend::Backend::Sqlite;
    let stored = rows.len() as u64;
    let values: Option<Vec<Vec<crate::backend::sqlite_bulk::Value>>> = native.map(|(_, of)| {
        rows.iter()
            .map(|(version, r)| of(r, *version, audit_id))
            .collect()
    });
    // Sealed first, so that the values can then be moved into the bulk write.
    let sealed_here = values.is_some();
    if let Some(v) = &values {
        crate::audit::seals::seal_new_rows(&mut tx, audit_id, sealed, v).await?;
    }
    t.lap("write: sealed");
    let by_sqlx: &[(i64, T)] = match (native, values) {
        (Some((sql, _)), Some(values)) if sqlite => {
            let bulk = crate::backend::sqlite_bulk::Bulk::Rows { sql, rows: values };
            crate::backend::sqlite_bulk::write(&mut tx, bulk).await?;
            &[]
        }
        _ => rows,
    };
    for chunk in by_sqlx.chunks(per) {
        let sql = if chunk.len() == per {
            full.clone()
        } else {
            statement(chunk.len())
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (version, r) in chunk {
            q = bind(q, r, *version, audit_id);
        }
        q.execute(&mut *tx).await?;
    }
    t.lap("write: rows");
    // The villages whose books changed: those of the scopes, each once (the scopes are in order).
    // On SQLite through the bulk write (50,000 villages a hundred a statement were 0.17 s).
    let mut villages: Vec<String> = scopes.iter().map(|(v, _)| v.clone()).collect();
    villages.dedup();
    crate::backend::touch(&mut tx, audit_id, villages.iter().map(String::as_str)).await?;
    t.lap("write: touched");
    if !sealed_here {
        crate::audit::seals::seal_written(&mut tx, audit_id, &[sealed]).await?;
    }
    tx.commit().await?;
    t.lap("write: committed");
    Ok(ImportOutcome::Stored {
        rows: stored,
        unchanged: *unchanged,
    })
}

/// The import's record: the SHA-256 of its rows' lines (version and the row's debug form), sorted.
/// The lines are made on every core (150,163 contracts' were 0.37 s on one).
fn record_of<T: std::fmt::Debug + Sync>(rows: &[(i64, T)]) -> String {
    let line = |(v, r): &(i64, T)| format!("{v}|{r:?}\n");
    let mut lines: Vec<String> = cunji_core::parallel::map_in_parts(rows, line)
        .into_iter()
        .flatten()
        .collect();
    // Equal lines are identical, so an unstable sort gives the same text.
    lines.sort_unstable();
    crate::audit::sha256_hex_of_lines(lines.iter().map(String::as_str))
}

/// The next version of a key: 1, or one more than the stored one; `None` when the stored current
/// version is the same.
fn next_version<T: PartialEq>(stored: Option<&(i64, T)>, row: &T) -> Option<i64> {
    match stored {
        Some((_, old)) if old == row => None,
        Some((v, _)) => Some(v + 1),
        None => Some(1),
    }
}

/// The sheet of an import of `columns`, the regions within the importer's scope, and what is stored
/// (of the assets, as much as `assets` says).
async fn opened(
    job: &Job<'_>,
    bytes: &[u8],
    columns: &[crate::table::Column],
    assets: crate::contracts::AssetRead,
) -> Result<(crate::table::Sheet, Context, Stored), ImportError> {
    let t = crate::timing::Timer::start();
    let sheet = job.sheet(bytes, columns, None)?;
    t.lap("opened: sheet");
    let ctx = Context::load(job.store, std::iter::empty())
        .await?
        .within(job.meta.scope);
    t.lap("opened: regions");
    let stored = job.store.stored_contracts("", assets).await?;
    t.lap("opened: stored");
    Ok((sheet, ctx, stored))
}

/// The rows an import stores, each with its next version; how many were as stored; and the keys
/// (village, id) of the rows stored.
struct Versions<R> {
    rows: Vec<(i64, R)>,
    unchanged: u64,
    scopes: BTreeSet<(String, String)>,
}

/// Reads each row of `sheet` with `read` into the row it stores (`None`: its errors are recorded),
/// refuses a second row of a key (`what`: the id's column), and gives each row that differs from the
/// key's current one in `stored` the next version. All or nothing: any error refuses the file.
fn versions<R: PartialEq + Send>(
    job: &Job<'_>,
    sheet: &crate::table::Sheet,
    what: &str,
    stored: &crate::fast_hash::FastMap<(String, String), (i64, R)>,
    read: impl Fn(&mut Cells<'_, '_>) -> Option<R> + Sync,
    key: impl Fn(&R) -> (String, String),
) -> Result<Versions<R>, ImportError> {
    let (read_rows, mut parts) = read_in_parts(job, sheet, &read);
    let mut errors = crate::table::RowErrors::new();
    let mut seen = Seen::default();
    let mut out = Versions {
        rows: Vec::new(),
        unchanged: 0,
        scopes: BTreeSet::new(),
    };
    for (row, read) in sheet.rows.iter().zip(read_rows) {
        let Some(read) = read else {
            continue;
        };
        let key = key(&read);
        let mut c = Cells::new(sheet, row, &mut errors);
        if !seen.first(&mut c, what, &key.0, &key.1) {
            continue;
        }
        match next_version(stored.get(&key), &read) {
            Some(v) => {
                out.rows.push((v, read));
                out.scopes.insert(key);
            }
            None => out.unchanged += 1,
        }
    }
    parts.push(errors);
    let errors = crate::table::RowErrors::merged(parts);
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    Ok(out)
}

/// Each row of `sheet` read with `read`, the file in two halves on two threads (150,163 contracts'
/// checks, each contract's dues computed, were 0.68 s on one core), with each half's errors.
fn read_in_parts<R: Send>(
    job: &Job<'_>,
    sheet: &crate::table::Sheet,
    read: &(impl Fn(&mut Cells<'_, '_>) -> Option<R> + Sync),
) -> (Vec<Option<R>>, Vec<crate::table::RowErrors>) {
    /// Below this many rows one thread does it all (a thread costs more than a few rows).
    const SPLIT_FROM: usize = 4_096;
    let half = if sheet.rows.len() < SPLIT_FROM {
        sheet.rows.len()
    } else {
        sheet.rows.len() / 2
    };
    let part = |rows: &[crate::table::Row]| {
        let mut errors = crate::table::RowErrors::new();
        let out: Vec<Option<R>> = rows
            .iter()
            .map(|row| {
                job.progress.advance(1);
                read(&mut Cells::new(sheet, row, &mut errors))
            })
            .collect();
        (out, errors)
    };
    let (first, second) = sheet.rows.split_at(half);
    let ((mut rows, e1), (more, e2)) = std::thread::scope(|s| {
        let later = s.spawn(|| part(second));
        let first = part(first);
        (
            first,
            later
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    });
    rows.extend(more);
    (rows, vec![e1, e2])
}

pub(super) async fn import_assets(
    job: &Job<'_>,
    bytes: &[u8],
) -> Result<ImportOutcome, ImportError> {
    let (sheet, ctx, stored) = opened(job, bytes, &ASSETS, AssetRead::Rows).await?;
    let grants = grant_villages(job.store).await?;
    let read = |c: &mut Cells<'_, '_>| {
        let asset = read_asset(c, &ctx, &grants)?;
        Some(AssetRow {
            village: asset.village().to_string(),
            asset: asset.id().to_string(),
            kind: asset.kind().key().to_string(),
            name: asset.name().to_string(),
            quantity: asset.quantity().hundredths(),
            unit: asset.unit().to_string(),
            original_value: asset.original_value().map(|f| f.fen()),
            acquired: asset.acquired().iso(),
            grant: asset.grant().map(str::to_string),
            status: asset.status().key().to_string(),
        })
    };
    let key = |r: &AssetRow| (r.village.clone(), r.asset.clone());
    let out = versions(job, &sheet, "asset", &stored.assets, read, key)?;
    write_versions(job, &out, &crate::audit::seals::ASSETS, "INSERT INTO assets (village, asset_id, version, kind, name, quantity, unit, original_value, acquired, grant_id, status, audit_id)",
        12,
        |q, r: &AssetRow, v, audit| {
        q.bind(&r.village)
        .bind(&r.asset)
        .bind(v)
        .bind(&r.kind)
        .bind(&r.name)
        .bind(r.quantity)
        .bind(&r.unit)
        .bind(r.original_value)
        .bind(&r.acquired)
        .bind(&r.grant)
        .bind(&r.status)
        .bind(audit)
    }, None)
    .await
}

/// Each stored grant's village, by grant id.
async fn grant_villages(store: &Store) -> Result<HashMap<String, String>, ImportError> {
    let mut out = HashMap::new();
    for r in sqlx::query("SELECT grant_id, village FROM grants")
        .fetch_all(&store.pool)
        .await?
    {
        out.insert(r.try_get(0)?, r.try_get(1)?);
    }
    Ok(out)
}

fn read_asset(
    c: &mut Cells<'_, '_>,
    ctx: &Context,
    grants: &HashMap<String, String>,
) -> Option<Asset> {
    let id = c.required("asset", "资产编号不能为空");
    let village = village_of(c, ctx);
    c.free_text(&["asset", "name", "unit", "grant"]);
    let kind = c.parse("kind", |t| {
        AssetKind::parse(t)
            .ok_or_else(|| format!("未知的资产类别 `{t}`（可填 {}）", AssetKind::choices()))
    });
    let name = c.required("name", "名称不能为空");
    let quantity = c.parse("quantity", Quantity::parse);
    let unit = c.required("unit", "单位不能为空");
    let original_value = c.optional("original_value", Fen::parse_yuan);
    let acquired = date_cell(c, "acquired");
    let grant = c.get("grant").to_string();
    let grant = (!grant.is_empty()).then_some(grant);
    if let (Some(g), Some(v)) = (&grant, &village) {
        match grants.get(g) {
            None => c.fail("grant", format!("资金编号 {g} 未登记（请先导入扶持资金）")),
            Some(gv) if !ctx.belongs_to_grant(gv, v.as_str()) => {
                c.fail("grant", format!("资金 {g} 拨给村 {gv}，不是村 {v}"))
            }
            Some(_) => {}
        }
    }
    let status = c.parse("status", |t| {
        AssetStatus::parse(t)
            .ok_or_else(|| format!("未知的资产状态 `{t}`（可填 {}）", AssetStatus::choices()))
    });
    if c.failed() {
        return None;
    }
    match Asset::new(AssetDraft {
        id,
        village: village?,
        kind: kind?,
        name,
        quantity: quantity?,
        unit,
        original_value: original_value?,
        acquired: acquired?,
        grant,
        status: status?,
    }) {
        Ok(a) => Some(a),
        Err(e) => {
            put_errors(c, e);
            None
        }
    }
}

pub(super) async fn import_contracts(
    job: &Job<'_>,
    bytes: &[u8],
) -> Result<ImportOutcome, ImportError> {
    let (sheet, ctx, stored) = opened(job, bytes, &CONTRACTS, AssetRead::Keys).await?;
    let read = |c: &mut Cells<'_, '_>| {
        let contract = read_contract(c, &ctx, &stored)?;
        Some(crate::contracts::row_of(&contract))
    };
    let key = |r: &ContractRow| (r.village.clone(), r.contract.clone());
    let t = crate::timing::Timer::start();
    let out = versions(job, &sheet, "contract", &stored.contracts, read, key)?;
    t.lap("contracts read");
    write_versions(
        job,
        &out,
        &crate::audit::seals::CONTRACTS,
        crate::contracts::INSERT_CONTRACTS,
        17,
        crate::contracts::bind_contract_row,
        Some((
            crate::contracts::INSERT_CONTRACT_NATIVE,
            crate::contracts::contract_values,
        )),
    )
    .await
}

fn read_contract(c: &mut Cells<'_, '_>, ctx: &Context, stored: &Stored) -> Option<Contract> {
    let id = c.required("contract", "合同编号不能为空");
    let village = village_of(c, ctx);
    c.free_text(&["contract", "counterparty", "counterparty_id", "asset"]);
    let counterparty = c.required("counterparty", "对方名称不能为空");
    let counterparty_id = Some(c.get("counterparty_id").to_string()).filter(|s| !s.is_empty());
    let asset = Some(c.get("asset").to_string()).filter(|s| !s.is_empty());
    if let (Some(a), Some(v)) = (&asset, &village) {
        if !stored
            .asset_keys
            .contains(&(v.as_str().to_string(), a.clone()))
        {
            c.fail(
                "asset",
                format!("资产 {a} 不是村 {v} 已登记的资产（须先导入资产台账；不能用其他村的资产）"),
            );
        }
    }
    let kind = c.parse("kind", |t| {
        ContractKind::parse(t)
            .ok_or_else(|| format!("未知的合同类别 `{t}`（可填 {}）", ContractKind::choices()))
    });
    let signed = date_cell(c, "signed");
    let start = date_cell(c, "start");
    let end = date_cell(c, "end");
    let resolution = optional_date(c, "resolution");
    let annual_rent = c.optional("annual_rent", Fen::parse_yuan);
    let due_day = c.optional("due_day", DueDay::parse);
    let step_years = c.optional("step_years", |t| {
        t.parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| format!("递增年限应为 1–100 的整数，不是 `{t}`"))
    });
    let step_rate = c.optional("step_rate", |t| Ppm::parse_within(t, Ppm::ONE));
    let account = c.optional("account", |t| {
        Account::from_key_or_name(t).ok_or_else(|| format!("未知科目 `{t}`"))
    });
    // A contract whose installments are stored cannot take a yearly rent in a new version.
    let has_installments = village.as_ref().is_some_and(|v| {
        stored
            .installments
            .get(&(v.as_str().to_string(), id.clone()))
            .is_some_and(|(_, l)| !l.is_empty())
    });
    if c.failed() {
        return None;
    }
    if has_installments && annual_rent.flatten().is_some() {
        c.fail(
            "annual_rent",
            format!("合同 {id} 已导入分期应收，不能再有年租金（二者只能选一）"),
        );
        return None;
    }
    let installments: Vec<Installment> = village
        .as_ref()
        .and_then(|v| {
            stored
                .installments
                .get(&(v.as_str().to_string(), id.clone()))
        })
        .map(|(_, l)| {
            l.iter()
                .filter_map(|(d, a)| {
                    Some(Installment {
                        date: Date::parse(d).ok()?,
                        amount: Fen::from_fen(*a),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    match Contract::new(ContractDraft {
        id,
        village: village?,
        counterparty,
        counterparty_id,
        asset,
        kind: kind?,
        signed: signed?,
        start: start?,
        end: end?,
        resolution: resolution?,
        annual_rent: annual_rent?,
        due_day: due_day?,
        step_years: step_years?,
        step_rate: step_rate?,
        account: account?,
        installments,
    }) {
        Ok(k) => Some(k),
        Err(e) => {
            put_errors(c, e);
            None
        }
    }
}

/// One installment row as stored.
#[derive(Debug)]
struct InstallmentRow {
    village: String,
    contract: String,
    seq: i64,
    date: String,
    amount: i64,
}

pub(super) async fn import_installments(
    job: &Job<'_>,
    bytes: &[u8],
) -> Result<ImportOutcome, ImportError> {
    let (sheet, ctx, stored) = opened(job, bytes, &INSTALLMENTS, AssetRead::Keys).await?;
    let mut errors = crate::table::RowErrors::new();
    // Each contract's installments in the file, in row order, with the first row naming it.
    let mut sets: BTreeMap<(String, String), (u64, Vec<Installment>)> = BTreeMap::new();
    for row in &sheet.rows {
        job.progress.advance(1);
        let mut c = Cells::new(&sheet, row, &mut errors);
        let id = c.required("contract", "合同编号不能为空");
        let village = village_of(&mut c, &ctx);
        c.free_text(&["contract"]);
        let date = date_cell(&mut c, "date");
        let amount = c.amount("amount", 1, "分期金额应大于 0");
        let Some(v) = village else { continue };
        let key = (v.as_str().to_string(), id.clone());
        match stored.contracts.get(&key) {
            None if !id.is_empty() => {
                c.fail("contract", format!("村 {v} 没有合同 {id}（须先导入合同）"))
            }
            Some((_, k)) if k.annual_rent.is_some() => c.fail(
                "contract",
                format!("合同 {id} 有年租金，不能再有分期应收（二者只能选一）"),
            ),
            _ => {}
        }
        if c.failed() {
            continue;
        }
        let (Some(date), Some(amount)) = (date, amount) else {
            continue;
        };
        sets.entry(key)
            .or_insert_with(|| (c.line, Vec::new()))
            .1
            .push(Installment { date, amount });
    }
    // Each contract with its new set must still be a valid contract (its sums within bounds).
    for ((village, id), (line, list)) in &sets {
        let (_, row) = &stored.contracts[&(village.clone(), id.clone())];
        let made = row
            .contract(Vec::new())
            .map_err(|e| e.to_string())
            .and_then(|k| k.with_installments(list.clone()));
        if let Err(m) = made {
            errors.push(sheet.error(*line, "contract", m));
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let mut out = Versions {
        rows: Vec::new(),
        unchanged: 0,
        scopes: BTreeSet::new(),
    };
    for ((village, id), (_, mut list)) in sets {
        list.sort();
        let as_stored: Vec<(String, i64)> = list
            .iter()
            .map(|i| (i.date.iso(), i.amount.fen()))
            .collect();
        let key = (village.clone(), id.clone());
        let Some(version) = next_version(stored.installments.get(&key), &as_stored) else {
            out.unchanged += list.len() as u64;
            continue;
        };
        out.scopes.insert(key);
        for (seq, (date, amount)) in as_stored.into_iter().enumerate() {
            out.rows.push((
                version,
                InstallmentRow {
                    village: village.clone(),
                    contract: id.clone(),
                    seq: seq as i64,
                    date,
                    amount,
                },
            ));
        }
    }
    write_versions(
        job,
        &out,
        &crate::audit::seals::INSTALLMENTS,
        "INSERT INTO installments (village, contract_id, version, seq, due_date, amount, audit_id)",
        7,
        |q, r: &InstallmentRow, v, audit| {
            q.bind(&r.village)
                .bind(&r.contract)
                .bind(v)
                .bind(r.seq)
                .bind(&r.date)
                .bind(r.amount)
                .bind(audit)
        },
        None,
    )
    .await
}
