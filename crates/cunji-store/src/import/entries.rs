//! Importing entries (SPEC §3, §9): append-only, with red-ink corrections, reversals of a specific
//! voucher, closed years, merged villages and subsidy projects checked against the stored state.
//! The kept totals are updated in the same transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cunji_core::account::{Account, Chart};
use cunji_core::date::Date;
use cunji_core::money::{Fen, MAX_FEN};
use cunji_core::region::RegionSet;
use sqlx::{AssertSqlSafe, Row};

use super::{record_import, ImportError, ImportMeta, ImportOutcome, Progress};
use crate::db::Store;
use crate::fast_hash::{FastMap, FastSet};
use crate::table::{col, each_table_row, Column, RowError, Sheet};

const COLUMNS: [Column; 9] = [
    col("village", "村代码", true),
    col("date", "日期", true),
    col("account", "科目", true),
    col("amount", "金额", true),
    col("voucher", "凭证号", false),
    col("memo", "摘要", false),
    col("project", "项目", false),
    col("reverses", "冲销", false),
    col("chart", "科目体系", false),
];

/// An entry ready to store.
#[derive(Clone, Debug)]
pub(crate) struct NewEntry {
    pub line: u64,
    pub village: String,
    pub date: Date,
    pub account: Account,
    pub amount: i64,
    pub voucher: Option<String>,
    pub memo: String,
    pub project: Option<String>,
    pub reverses: Option<String>,
}

pub(super) async fn import(
    store: &Store,
    meta: &ImportMeta<'_>,
    bytes: &[u8],
    progress: &dyn Progress,
) -> Result<ImportOutcome, ImportError> {
    progress.phase("读取", 0);
    let mut errors = Vec::new();
    // One row a line, reserved at once: growing by doubling would briefly hold three times the rows.
    let mut parsed = Vec::with_capacity(bytes.iter().filter(|b| **b == b'\n').count());
    let sheet = each_table_row(
        meta.file_name,
        bytes,
        &COLUMNS,
        None,
        |sheet, row| match parse_row(sheet, row) {
            Ok(e) => parsed.push(e),
            Err(mut e) => errors.append(&mut e),
        },
    )?;
    let years: BTreeSet<i32> = parsed.iter().map(|e| e.date.year).collect();
    let ctx = Context::load_years(
        store,
        parsed.iter().map(|e| e.village.as_str()),
        Some(&years),
    )
    .await?
    .within(meta.scope);
    progress.phase("检查", parsed.len() as u64);
    let mut state = FileState::default();
    for e in &parsed {
        ctx.check(&sheet, e, &mut state, &mut errors).await?;
        progress.advance(1);
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(ImportError::Rows(errors));
    }
    progress.phase("哈希", 0);
    let record = entries_hash(&parsed, "entry");
    let mut tx = store.begin_write().await?;
    let n = parsed.len() as u64;
    let (import_id, audit_id) = record_import(&mut tx, meta, n, "", Some(&record)).await?;
    write_entries(
        &mut tx,
        Some(import_id),
        audit_id,
        &parsed,
        "entry",
        meta.actor,
        progress,
    )
    .await?;
    progress.phase("提交", 0);
    tx.commit().await?;
    Ok(ImportOutcome::Stored {
        rows: n,
        unchanged: 0,
    })
}

pub(crate) fn parse_row(sheet: &Sheet, row: &crate::table::Row) -> Result<NewEntry, Vec<RowError>> {
    let line = row.line;
    let mut errors = Vec::new();
    let village = sheet.get(row, "village").to_string();
    if village.is_empty() {
        errors.push(sheet.error(line, "village", "村代码不能为空"));
    }
    let date = Date::parse(sheet.get(row, "date"))
        .map_err(|e| errors.push(sheet.error(line, "date", e)))
        .ok();
    let chart_text = sheet.get(row, "chart");
    let chart = if chart_text.is_empty() {
        None
    } else {
        let c = Chart::parse(chart_text);
        if c.is_none() {
            errors.push(sheet.error(
                line,
                "chart",
                format!("科目体系应为 2004 或 2023，不是 `{chart_text}`"),
            ));
        }
        c
    };
    let account = Account::parse(sheet.get(row, "account"), chart)
        .map_err(|e| errors.push(sheet.error(line, "account", e)))
        .ok();
    let amount = Fen::parse_yuan(sheet.get(row, "amount"))
        .map_err(|e| errors.push(sheet.error(line, "amount", e.to_string())))
        .ok();
    let opt = |k: &str| Some(sheet.get(row, k).to_string()).filter(|s| !s.is_empty());
    for key in ["memo", "project", "voucher"] {
        if let Err(m) = crate::table::check_text(sheet.get(row, key)) {
            errors.push(sheet.error(line, key, m));
        }
    }
    let reverses = opt("reverses");
    if let Some(r) = &reverses {
        let ok = r
            .split_once(':')
            .is_some_and(|(y, v)| y.len() == 4 && y.parse::<i32>().is_ok() && !v.trim().is_empty());
        if !ok {
            errors.push(sheet.error(
                line,
                "reverses",
                format!("冲销应写作 年度:凭证号，如 2023:记-015，不是 `{r}`"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let (Some(date), Some(account), Some(amount)) = (date, account, amount) else {
        return Err(errors);
    };
    Ok(NewEntry {
        line,
        village,
        date,
        account,
        amount: amount.0,
        voucher: opt("voucher"),
        memo: sheet.get(row, "memo").to_string(),
        project: opt("project"),
        reverses,
    })
}

/// The stored state an entries file is checked against.
pub(crate) struct Context {
    /// Reversals are rare: their targets are looked up when met.
    pool: sqlx::AnyPool,
    pub regions: RegionSet,
    closed: BTreeSet<(String, i32)>,
    /// project → the grant's village
    grant_village: HashMap<String, String>,
    vouchers: FastSet<(String, i32, String)>,
    totals: FastMap<(String, i32, Account), i64>,
    scope: Option<cunji_core::region::RegionCode>,
}

/// What earlier rows of the same file have claimed.
#[derive(Default)]
pub(crate) struct FileState {
    /// Vouchers by a 128-bit digest of (village, year, voucher): a tenth of the memory of the keys
    /// themselves at ten million rows.
    vouchers: FastMap<u128, (u64, Account, i64)>,
    reversed: HashMap<(String, String), u64>,
    /// Running totals by (village number, year, account); villages are numbered as first met.
    totals: FastMap<(u32, i32, Account), i64>,
    village_numbers: FastMap<String, u32>,
    /// The last village and year found acceptable, with the village's number: files come sorted by
    /// village, so most rows repeat it and need not be checked or looked up again.
    last_ok: Option<(String, i32, u32)>,
}

impl Context {
    pub async fn load<'a>(
        store: &Store,
        villages: impl Iterator<Item = &'a str>,
    ) -> Result<Context, ImportError> {
        Self::load_years(store, villages, None).await
    }

    /// The context of rows naming `villages`, dated in `years` (every year when `None`): stored
    /// vouchers of other years cannot clash with them and are not read.
    pub async fn load_years<'a>(
        store: &Store,
        villages: impl Iterator<Item = &'a str>,
        years: Option<&BTreeSet<i32>>,
    ) -> Result<Context, ImportError> {
        let villages: BTreeSet<&str> = villages.collect();
        let year_filter = match years {
            Some(ys) if !ys.is_empty() => format!(
                " AND year IN ({})",
                ys.iter()
                    .map(|y| y.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => String::new(),
        };
        let regions = store.load_regions().await?;
        let closed = store.load_closed_years().await?;
        let mut grant_village = HashMap::new();
        for r in sqlx::query("SELECT project, village FROM grants")
            .fetch_all(&store.pool)
            .await?
        {
            grant_village.insert(r.try_get(0)?, r.try_get(1)?);
        }
        let mut vouchers = FastSet::default();
        let mut totals = FastMap::default();
        let list: Vec<&str> = villages.into_iter().collect();
        for chunk in list.chunks(500) {
            let ph = placeholders(1, chunk.len());
            let sql = format!("SELECT village, year, voucher FROM entries WHERE voucher IS NOT NULL AND village IN ({ph}){year_filter}");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in chunk {
                q = q.bind(*v);
            }
            for r in q.fetch_all(&store.pool).await? {
                vouchers.insert((r.try_get(0)?, r.try_get::<i64, _>(1)? as i32, r.try_get(2)?));
            }
            let sql = format!(
                "SELECT village, year, account, amount FROM totals WHERE village IN ({ph})"
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in chunk {
                q = q.bind(*v);
            }
            for r in q.fetch_all(&store.pool).await? {
                let account: String = r.try_get(2)?;
                if let Some(a) = Account::from_key_or_name(&account) {
                    totals.insert(
                        (r.try_get(0)?, r.try_get::<i64, _>(1)? as i32, a),
                        r.try_get(3)?,
                    );
                }
            }
        }
        Ok(Context {
            pool: store.pool.clone(),
            regions,
            closed,
            grant_village,
            vouchers,
            totals,
            scope: None,
        })
    }

    /// Limits the rows to villages within a region.
    pub fn within(mut self, scope: Option<&cunji_core::region::RegionCode>) -> Self {
        self.scope = scope.cloned();
        self
    }

    /// A row's village outside the importer's scope is an error.
    pub fn check_scope(
        &self,
        sheet: &Sheet,
        line: u64,
        code: &cunji_core::region::RegionCode,
        errors: &mut Vec<RowError>,
    ) -> bool {
        match &self.scope {
            Some(s) if !s.contains(code) => {
                errors.push(sheet.error(
                    line,
                    "village",
                    format!("村 {code} 不在您的管辖范围（{s}）内"),
                ));
                false
            }
            _ => true,
        }
    }

    /// Checks the village of a row: registered, a village, not merged away by `year`, year not closed.
    pub fn check_village(
        &self,
        sheet: &Sheet,
        line: u64,
        village: &str,
        year: i32,
        errors: &mut Vec<RowError>,
    ) -> bool {
        let code = match cunji_core::region::RegionCode::parse(village) {
            Ok(c) => c,
            Err(e) => {
                errors.push(sheet.error(line, "village", e.to_string()));
                return false;
            }
        };
        if !self.regions.contains(&code) {
            errors.push(sheet.error(
                line,
                "village",
                format!("村 {village} 未登记（请先导入区划）"),
            ));
            return false;
        }
        if !self.check_scope(sheet, line, &code, errors) {
            return false;
        }
        if code.level() != cunji_core::region::Level::Village {
            errors.push(sheet.error(
                line,
                "village",
                format!("{village} 是{}级区划，不是村", code.level().name_zh()),
            ));
            return false;
        }
        if let Some((succ, merged_in)) = self.regions.successor_of(&code) {
            if year >= merged_in {
                errors.push(sheet.error(
                    line,
                    "village",
                    format!("该村已于 {merged_in} 年并入 {succ}（merged into {succ} in {merged_in}），{year} 年的账应记在 {succ}"),
                ));
                return false;
            }
        }
        if self.closed.contains(&(village.to_string(), year)) {
            errors.push(sheet.error(
                line,
                "date",
                format!(
                    "村 {village} 的 {year} 年已结账，不能再记账（须县级管理员写明理由后重新开账）"
                ),
            ));
            return false;
        }
        true
    }

    pub(crate) async fn check(
        &self,
        sheet: &Sheet,
        e: &NewEntry,
        state: &mut FileState,
        errors: &mut Vec<RowError>,
    ) -> Result<(), ImportError> {
        let year = e.date.year;
        let line = e.line;
        let number = match &state.last_ok {
            Some((v, y, n)) if *v == e.village && *y == year => *n,
            _ => {
                if !self.check_village(sheet, line, &e.village, year, errors) {
                    return Ok(());
                }
                let next = state.village_numbers.len() as u32;
                let n = *state
                    .village_numbers
                    .entry(e.village.clone())
                    .or_insert(next);
                state.last_ok = Some((e.village.clone(), year, n));
                n
            }
        };
        if let Some(v) = &e.voucher {
            let key = (e.village.clone(), year, v.clone());
            let digest = voucher_digest(&e.village, year, v);
            if self.vouchers.contains(&key) {
                errors.push(sheet.error(
                    line,
                    "voucher",
                    format!("凭证号 {v} 在村 {} 的 {year} 年已存在", e.village),
                ));
            } else if let Some((prev, _, _)) = state.vouchers.get(&digest) {
                errors.push(sheet.error(line, "voucher", format!("凭证号 {v} 与第 {prev} 行重复")));
            } else {
                state.vouchers.insert(digest, (line, e.account, e.amount));
            }
        }
        if let Some(r) = &e.reverses {
            self.check_reversal(sheet, e, r, state, errors).await?;
        }
        if let Some(p) = &e.project {
            if let Some(gv) = self.grant_village.get(p) {
                if !self.belongs_to_grant(gv, &e.village) {
                    errors.push(sheet.error(
                        line,
                        "project",
                        format!(
                            "项目 {p} 的扶持资金拨给村 {gv}，本村 {} 不能记其收益",
                            e.village
                        ),
                    ));
                }
            }
        }
        let running = state
            .totals
            .entry((number, year, e.account))
            .or_insert_with(|| {
                self.totals
                    .get(&(e.village.clone(), year, e.account))
                    .copied()
                    .unwrap_or(0)
            });
        match running.checked_add(e.amount).filter(|t| t.abs() <= MAX_FEN) {
            Some(t) => *running = t,
            None => errors.push(sheet.error(
                line,
                "amount",
                "累计金额超出范围（单科目年合计不能超过 10 万亿元）",
            )),
        }
        Ok(())
    }

    /// Entries naming a project must belong to the grant's village or a village it was merged into.
    pub fn belongs_to_grant(&self, grant_village: &str, village: &str) -> bool {
        match cunji_core::region::RegionCode::parse(grant_village) {
            Ok(c) => self
                .regions
                .successor_chain(&c)
                .iter()
                .any(|s| s.as_str() == village),
            Err(_) => grant_village == village,
        }
    }

    async fn check_reversal(
        &self,
        sheet: &Sheet,
        e: &NewEntry,
        reverses: &str,
        state: &mut FileState,
        errors: &mut Vec<RowError>,
    ) -> Result<(), ImportError> {
        let line = e.line;
        let Some((y, v)) = reverses.split_once(':') else {
            return Ok(());
        };
        let (Ok(ry), v) = (y.parse::<i32>(), v.trim().to_string()) else {
            return Ok(());
        };
        let target = match state.vouchers.get(&voucher_digest(&e.village, ry, &v)) {
            Some((_, a, amt)) => Some((*a, *amt)),
            None => {
                let row = sqlx::query("SELECT account, amount FROM entries WHERE village = $1 AND year = $2 AND voucher = $3")
                    .bind(&e.village)
                    .bind(ry)
                    .bind(&v)
                    .fetch_optional(&self.pool)
                    .await;
                match row {
                    Ok(Some(r)) => {
                        let a: String = r.try_get(0)?;
                        Account::from_key_or_name(&a)
                            .map(|a| (a, r.try_get::<i64, _>(1).unwrap_or(0)))
                    }
                    Ok(None) => None,
                    Err(err) => return Err(err.into()),
                }
            }
        };
        let Some((account, amount)) = target else {
            errors.push(sheet.error(
                line,
                "reverses",
                format!("要冲销的凭证 {reverses} 在村 {} 中不存在", e.village),
            ));
            return Ok(());
        };
        if account != e.account {
            errors.push(sheet.error(
                line,
                "account",
                format!(
                    "冲销分录的科目应与原凭证相同（{}），不是 {}",
                    account.name_zh(),
                    e.account.name_zh()
                ),
            ));
        }
        if amount != -e.amount {
            errors.push(sheet.error(
                line,
                "amount",
                format!(
                    "冲销金额应为原凭证的相反数 {}，不是 {}",
                    Fen(-amount).json(),
                    Fen(e.amount).json()
                ),
            ));
        }
        let key = (e.village.clone(), reverses.to_string());
        if let Some(prev) = state.reversed.get(&key) {
            errors.push(sheet.error(
                line,
                "reverses",
                format!("凭证 {reverses} 已在第 {prev} 行冲销过，一笔账只能冲销一次"),
            ));
            return Ok(());
        }
        let done: Option<i64> =
            sqlx::query("SELECT id FROM entries WHERE village = $1 AND reverses = $2")
                .bind(&e.village)
                .bind(reverses)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        if done.is_some() {
            errors.push(sheet.error(
                line,
                "reverses",
                format!("凭证 {reverses} 已经冲销过，一笔账只能冲销一次"),
            ));
        }
        state.reversed.insert(key, line);
        Ok(())
    }
}

/// Two independently keyed SipHash digests of a voucher's key: a chance collision among ten million
/// vouchers is about 10⁻²⁵.
fn voucher_digest(village: &str, year: i32, voucher: &str) -> u128 {
    use std::hash::BuildHasher;
    static KEYS: std::sync::OnceLock<[std::hash::RandomState; 2]> = std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(|| [std::hash::RandomState::new(), std::hash::RandomState::new()]);
    let half = |k: &std::hash::RandomState| k.hash_one((village, year, voucher));
    ((half(&keys[0]) as u128) << 64) | half(&keys[1]) as u128
}

/// `$start, $start+1, …` — n placeholders, portable across SQLite and PostgreSQL.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows a statement carries. Each statement binds one JSON text for all its rows: the SQLite driver
/// looks every parameter up by name, so a statement's cost grows with the square of its parameters,
/// while the database parses one JSON array in a single pass.
const ROWS_PER_INSERT: usize = 20_000;

/// Inserts entries and updates the kept totals, inside the caller's transaction.
/// The hash of entries as they will be stored, which their audit row holds.
pub(crate) fn entries_hash(entries: &[NewEntry], source: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut line = String::new();
    for e in entries {
        line.clear();
        crate::audit::push_entry_line(
            &mut line,
            &e.village,
            e.date.year as i64,
            &e.date.iso(),
            e.account.key(),
            e.amount,
            e.voucher.as_deref(),
            &e.memo,
            e.project.as_deref(),
            e.reverses.as_deref(),
            source,
        );
        hasher.update(line.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_entries(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    import_id: Option<i64>,
    audit_id: i64,
    entries: &[NewEntry],
    source: &str,
    actor: &str,
    progress: &dyn Progress,
) -> Result<(), sqlx::Error> {
    progress.phase("写入", entries.len() as u64);
    let at = crate::now();
    let sqlite = tx.backend_name() == "SQLite";
    let sql = if sqlite {
        "INSERT INTO entries (village, year, date, account, amount, voucher, memo, project, reverses, source, import_id, actor, at, audit_id) \
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, $2, $3, $4, $5, $6 \
         FROM json_each(jsonb($1)) ORDER BY key"
    } else {
        "INSERT INTO entries (village, year, date, account, amount, voucher, memo, project, reverses, source, import_id, actor, at, audit_id) \
         SELECT r->>0, (r->>1)::bigint, r->>2, r->>3, (r->>4)::bigint, r->>5, r->>6, r->>7, r->>8, $2, $3, $4, $5, $6 \
         FROM json_array_elements($1::json) WITH ORDINALITY AS t(r, i) ORDER BY i"
    };
    // The next chunk's JSON is written while the database stores this one (two cores, two jobs).
    let chunks: Vec<&[NewEntry]> = entries.chunks(ROWS_PER_INSERT).collect();
    let mut json = chunks.first().map(|c| entries_json(c));
    for (i, chunk) in chunks.iter().enumerate() {
        let Some(this) = json.take() else { break };
        let insert = sqlx::query(sql)
            .bind(this)
            .bind(source)
            .bind(import_id)
            .bind(actor)
            .bind(at)
            .bind(audit_id)
            .execute(&mut **tx);
        let (done, next) =
            tokio::join!(insert, async { chunks.get(i + 1).map(|c| entries_json(c)) });
        done?;
        json = next;
        progress.advance(chunk.len() as u64);
    }
    progress.phase("合计", 0);
    let mut totals: BTreeMap<(&str, i32, &str), (i64, i64)> = BTreeMap::new();
    let mut projects: BTreeMap<(&str, i32), i64> = BTreeMap::new();
    for e in entries {
        let t = totals
            .entry((&e.village, e.date.year, e.account.key()))
            .or_default();
        t.0 += e.amount;
        t.1 += 1;
        if let (Some(p), true) = (&e.project, e.account.is_income()) {
            *projects.entry((p, e.date.year)).or_default() += e.amount;
        }
    }
    let list: Vec<_> = totals.into_iter().collect();
    let sql = if sqlite {
        "INSERT INTO totals (village, year, account, amount, entries) \
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each($1) WHERE true \
         ON CONFLICT (village, year, account) DO UPDATE SET amount = totals.amount + excluded.amount, entries = totals.entries + excluded.entries"
    } else {
        "INSERT INTO totals (village, year, account, amount, entries) \
         SELECT r->>0, (r->>1)::bigint, r->>2, (r->>3)::bigint, (r->>4)::bigint FROM json_array_elements($1::json) AS t(r) \
         ON CONFLICT (village, year, account) DO UPDATE SET amount = totals.amount + excluded.amount, entries = totals.entries + excluded.entries"
    };
    for chunk in list.chunks(ROWS_PER_INSERT) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|((v, y, a), (amount, n))| (v, y, a, amount, n))
            .collect();
        let json = serde_json::to_string(&rows).expect("totals are plain values");
        sqlx::query(sql).bind(json).execute(&mut **tx).await?;
    }
    progress.phase("摘要", 0);
    crate::facts::add(tx, entries).await?;
    send_back_touched(tx, entries, actor).await?;
    for ((p, y), amount) in projects {
        sqlx::query(
            "INSERT INTO project_totals (project, year, amount) VALUES ($1, $2, $3) \
             ON CONFLICT (project, year) DO UPDATE SET amount = project_totals.amount + excluded.amount",
        )
        .bind(p.to_string())
        .bind(y)
        .bind(amount)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// `[[village, year, date, account, amount, voucher, memo, project, reverses], …]`
fn entries_json(entries: &[NewEntry]) -> String {
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            (
                &e.village,
                e.date.year,
                e.date.iso(),
                e.account.key(),
                e.amount,
                &e.voucher,
                &e.memo,
                &e.project,
                &e.reverses,
            )
        })
        .collect();
    serde_json::to_string(&rows).expect("entries are plain values")
}

/// New figures send unsettled reward proposals of the villages touched (and the villages they were
/// merged into) back to be recomputed.
async fn send_back_touched(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    entries: &[NewEntry],
    actor: &str,
) -> Result<(), sqlx::Error> {
    let open: i64 = sqlx::query(
        "SELECT COUNT(*) FROM proposals WHERE status NOT IN ('stale', 'paid', 'published')",
    )
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    if open == 0 {
        return Ok(());
    }
    let mut touched: BTreeMap<String, i32> = BTreeMap::new();
    for e in entries {
        let y = touched.entry(e.village.clone()).or_insert(e.date.year);
        *y = (*y).min(e.date.year);
    }
    for (v, y) in touched.clone() {
        let mut cur = v;
        for _ in 0..64 {
            let next: Option<String> =
                sqlx::query("SELECT successor FROM region_predecessors WHERE predecessor = $1")
                    .bind(&cur)
                    .fetch_optional(&mut **tx)
                    .await?
                    .map(|r| r.try_get(0))
                    .transpose()?;
            let Some(next) = next else { break };
            let e = touched.entry(next.clone()).or_insert(y);
            *e = (*e).min(y);
            cur = next;
        }
    }
    let list: Vec<(String, i32)> = touched.into_iter().collect();
    crate::workflow::send_back(tx, &list, actor).await
}
