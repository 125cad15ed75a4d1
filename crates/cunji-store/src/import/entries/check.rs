//! What an entries row is checked against: the stored state (register, closed years, grants,
//! stored vouchers and totals, loaded as rows need them) and what earlier rows of the same file
//! claimed.

use std::collections::{BTreeSet, HashMap};

use cunji_core::account::Account;
use cunji_core::money::Fen;
use cunji_core::region::RegionSet;
use sqlx::{AssertSqlSafe, Row};

use super::NewEntry;
use crate::db::Store;
use crate::fast_hash::{FastMap, FastSet};
use crate::import::ImportError;
use crate::short_text::ShortText;
use crate::table::{RowErrors, Sheet};

/// The stored state an entries file is checked against.
pub(crate) struct Context {
    /// Reversals are rare: their targets are looked up when met.
    pool: sqlx::AnyPool,
    pub regions: RegionSet,
    closed: BTreeSet<(String, i32)>,
    /// project → the grant's village
    grant_village: HashMap<String, String>,
    /// Stored vouchers of the village-years loaded, as digests (see `voucher_digest`).
    vouchers: FastSet<u128>,
    totals: FastMap<(String, i32, Account), i64>,
    /// The village-years loaded that hold entries.
    stored_years: FastSet<(String, i32)>,
    /// The village-years whose stored vouchers and totals are loaded.
    loaded: FastSet<(String, i32)>,
    scope: Option<cunji_core::region::RegionCode>,
}

/// What earlier rows of the same file have claimed.
#[derive(Default)]
pub(crate) struct FileState {
    vouchers: ClaimedVouchers,
    reversed: HashMap<(String, String), u64>,
    /// Running totals by (village number, year, account), the stored total included, summed
    /// exactly (`i128`), with the line of the last row adding to each; villages are numbered as
    /// first met. Checked against `i64` once, at the end (`check_totals`): each amount is bounded
    /// when read, so the order of the rows never decides whether a file passes (SPEC §1).
    totals: FastMap<(u32, i32, Account), (i128, u64)>,
    /// How many running totals are outside `i64` right now: while any is, the kept totals are not
    /// written part by part (`Settled` would not fit the database's BIGINT).
    outside: usize,
    village_numbers: FastMap<String, u32>,
    /// The last village and year found acceptable, with the village's number: files come sorted by
    /// village, so most rows repeat it and need not be checked or looked up again.
    last_ok: Option<(ShortText, i32, u32)>,
}

impl FileState {
    /// Whether every running total fits the database's `i64` right now.
    pub fn totals_fit(&self) -> bool {
        self.outside == 0
    }

    /// Each total of the file (the stored one included) that does not fit `i64` is an error on the
    /// last row adding to it, naming the village, year and account.
    pub fn check_totals(&self, sheet: &Sheet, errors: &mut RowErrors) {
        if self.outside == 0 {
            return;
        }
        let mut names: Vec<&str> = vec![""; self.village_numbers.len()];
        for (v, n) in &self.village_numbers {
            names[*n as usize] = v;
        }
        let mut over: Vec<_> = self
            .totals
            .iter()
            .filter(|(_, (t, _))| i64::try_from(*t).is_err())
            .collect();
        over.sort_by_key(|(_, (_, line))| *line);
        for ((v, year, account), (total, line)) in over {
            errors.push(sheet.error(
                *line,
                "amount",
                format!(
                    "累计金额超出范围：村 {} 的 {year} 年“{}”合计 {} 元，超过可记录的 {} 元",
                    names[*v as usize],
                    account.name_zh(),
                    yuan_text(*total),
                    Fen::from_fen(i64::MAX)
                ),
            ));
        }
    }
}

/// An exact sum of fen as yuan with two decimals, however large.
fn yuan_text(fen: i128) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Villages a lookup of stored state names at once.
const VILLAGES_PER_LOOKUP: usize = 500;

/// A voucher an earlier row claimed: its line, account and amount (what a reversal must mirror).
#[derive(Clone, Copy)]
struct Claim {
    line: u64,
    account: Account,
    amount: i64,
}

/// The vouchers earlier rows claimed, a table per village (by number) and year, keyed by the
/// voucher's text (inline, see `ShortText`: one hash a row where a 128-bit digest was two). The
/// tables use the standard keyed hash, not the Fx hash: vouchers are the file's own text, and a
/// file crafted to collide in one table would make its check quadratic. Files come sorted by
/// village, so the table in use stays small and in cache; one table for the whole file made every
/// row two random reads of a table of half a gigabyte (a third of the checking time at ten million
/// rows).
#[derive(Default)]
struct ClaimedVouchers {
    slots: FastMap<(u32, i32), usize>,
    tables: Vec<HashMap<ShortText, Claim>>,
    /// The village-year of the last row and its table.
    last: Option<((u32, i32), usize)>,
}

impl ClaimedVouchers {
    fn table(&mut self, village: u32, year: i32) -> &mut HashMap<ShortText, Claim> {
        let key = (village, year);
        let slot = match self.last {
            Some((k, slot)) if k == key => slot,
            _ => {
                let next = self.tables.len();
                let slot = *self.slots.entry(key).or_insert(next);
                if slot == next {
                    self.tables.push(HashMap::new());
                }
                self.last = Some((key, slot));
                slot
            }
        };
        &mut self.tables[slot]
    }

    /// Claims `voucher` for a row; the earlier claim when another row has it.
    fn claim(
        &mut self,
        village: u32,
        year: i32,
        voucher: &ShortText,
        claim: Claim,
    ) -> Result<(), Claim> {
        use std::collections::hash_map::Entry;
        match self.table(village, year).entry(voucher.clone()) {
            Entry::Occupied(earlier) => Err(*earlier.get()),
            Entry::Vacant(slot) => {
                slot.insert(claim);
                Ok(())
            }
        }
    }

    fn get(&self, village: u32, year: i32, voucher: &str) -> Option<Claim> {
        let slot = self.slots.get(&(village, year))?;
        self.tables[*slot].get(voucher).copied()
    }
}

impl Context {
    /// The context of rows naming `villages`, in any year.
    pub async fn load<'a>(
        store: &Store,
        villages: impl Iterator<Item = &'a str>,
    ) -> Result<Context, ImportError> {
        let mut ctx = Self::base(store).await?;
        let villages: BTreeSet<&str> = villages.collect();
        ctx.load_stored(villages.into_iter().collect(), None)
            .await?;
        Ok(ctx)
    }

    /// The register, closed years and grants; stored vouchers and totals are loaded as rows need
    /// them (`load_stored_of`).
    pub async fn base(store: &Store) -> Result<Context, ImportError> {
        let regions = store.load_regions().await?;
        let closed = store.load_closed_years().await?;
        let mut grant_village = HashMap::new();
        for r in sqlx::query("SELECT project, village FROM grants")
            .fetch_all(&store.pool)
            .await?
        {
            grant_village.insert(r.try_get(0)?, r.try_get(1)?);
        }
        Ok(Context {
            pool: store.pool.clone(),
            regions,
            closed,
            grant_village,
            vouchers: FastSet::default(),
            totals: FastMap::default(),
            stored_years: FastSet::default(),
            loaded: FastSet::default(),
            scope: None,
        })
    }

    /// Loads the stored vouchers and totals of the village-years among `pairs` not loaded yet.
    pub async fn load_stored_of<'a>(
        &mut self,
        pairs: impl Iterator<Item = (&'a str, i32)>,
    ) -> Result<(), ImportError> {
        let mut villages = BTreeSet::new();
        let mut years = BTreeSet::new();
        let mut last: Option<(&str, i32)> = None;
        for (v, y) in pairs {
            if last == Some((v, y)) {
                continue;
            }
            last = Some((v, y));
            if !self.loaded.contains(&(v.to_string(), y)) {
                villages.insert(v);
                years.insert(y);
            }
        }
        if villages.is_empty() {
            return Ok(());
        }
        for v in &villages {
            for y in &years {
                self.loaded.insert((v.to_string(), *y));
            }
        }
        self.load_stored(villages.into_iter().collect(), Some(&years))
            .await
    }

    /// Stored vouchers and totals of `villages` in `years` (every year when `None`): stored
    /// vouchers of other years cannot clash with the rows and are not read.
    async fn load_stored(
        &mut self,
        villages: Vec<&str>,
        years: Option<&BTreeSet<i32>>,
    ) -> Result<(), ImportError> {
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
        for chunk in villages.chunks(VILLAGES_PER_LOOKUP) {
            let ph = placeholders(1, chunk.len());
            let sql = format!("SELECT village, year, voucher FROM entries WHERE voucher IS NOT NULL AND village IN ({ph}){year_filter}");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in chunk {
                q = q.bind(*v);
            }
            for r in q.fetch_all(&self.pool).await? {
                let village: String = r.try_get(0)?;
                let voucher: String = r.try_get(2)?;
                self.vouchers.insert(voucher_digest(
                    &village,
                    r.try_get::<i64, _>(1)? as i32,
                    &voucher,
                ));
            }
            let sql = format!(
                "SELECT village, year, account, amount FROM totals WHERE village IN ({ph}){year_filter}"
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in chunk {
                q = q.bind(*v);
            }
            for r in q.fetch_all(&self.pool).await? {
                let account: String = r.try_get(2)?;
                let (village, year): (String, i32) =
                    (r.try_get(0)?, r.try_get::<i64, _>(1)? as i32);
                self.stored_years.insert((village.clone(), year));
                if let Some(a) = Account::from_key_or_name(&account) {
                    self.totals.insert((village, year, a), r.try_get(3)?);
                }
            }
        }
        Ok(())
    }

    /// The stored total of `village`'s `account` in `year` (0 when none is loaded).
    pub fn stored_total(&self, village: &str, year: i32, account: Account) -> i64 {
        self.totals
            .get(&(village.to_string(), year, account))
            .copied()
            .unwrap_or(0)
    }

    /// Whether the database held entries of `village` in `year` when they were loaded (every
    /// village-year of the rows checked so far is).
    pub fn has_stored(&self, village: &str, year: i32) -> bool {
        !self.stored_years.is_empty() && self.stored_years.contains(&(village.to_string(), year))
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
        errors: &mut RowErrors,
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
        errors: &mut RowErrors,
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
        errors: &mut RowErrors,
    ) -> Result<(), ImportError> {
        let year = e.date.year();
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
                    .entry(e.village.to_string())
                    .or_insert(next);
                state.last_ok = Some((e.village.clone(), year, n));
                n
            }
        };
        if let Some(v) = &e.voucher {
            let stored = !self.vouchers.is_empty()
                && self.vouchers.contains(&voucher_digest(&e.village, year, v));
            if stored {
                errors.push(sheet.error(
                    line,
                    "voucher",
                    format!("凭证号 {v} 在村 {} 的 {year} 年已存在", e.village),
                ));
            } else {
                let claim = Claim {
                    line,
                    account: e.account,
                    amount: e.amount,
                };
                if let Err(earlier) = state.vouchers.claim(number, year, v, claim) {
                    errors.push(sheet.error(
                        line,
                        "voucher",
                        format!("凭证号 {v} 与第 {} 行重复", earlier.line),
                    ));
                }
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
        let stored = || {
            self.totals
                .get(&(e.village.to_string(), year, e.account))
                .copied()
                .unwrap_or(0) as i128
        };
        let running = state
            .totals
            .entry((number, year, e.account))
            .or_insert_with(|| (stored(), line));
        let was_inside = i64::try_from(running.0).is_ok();
        // Cannot overflow: each amount is at most 10^15 in magnitude, and there are fewer than
        // 2^64 rows.
        running.0 += e.amount as i128;
        running.1 = line;
        match (was_inside, i64::try_from(running.0).is_ok()) {
            (true, false) => state.outside += 1,
            (false, true) => state.outside -= 1,
            _ => {}
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
        errors: &mut RowErrors,
    ) -> Result<(), ImportError> {
        let line = e.line;
        let Some((y, v)) = reverses.split_once(':') else {
            return Ok(());
        };
        let (Ok(ry), v) = (y.parse::<i32>(), v.trim().to_string()) else {
            return Ok(());
        };
        let claimed = state
            .village_numbers
            .get(e.village.as_str())
            .and_then(|n| state.vouchers.get(*n, ry, &v));
        let target = match claimed {
            Some(c) => Some((c.account, c.amount)),
            None => {
                let row = sqlx::query("SELECT account, amount FROM entries WHERE village = $1 AND year = $2 AND voucher = $3")
                    .bind(e.village.to_string())
                    .bind(ry)
                    .bind(&v)
                    .fetch_optional(&self.pool)
                    .await;
                match row {
                    Ok(Some(r)) => crate::account_numbers::account(r.try_get(0)?)
                        .map(|a| (a, r.try_get::<i64, _>(1).unwrap_or(0))),
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
                    Fen::from_fen(-amount).json(),
                    Fen::from_fen(e.amount).json()
                ),
            ));
        }
        let key = (e.village.to_string(), reverses.to_string());
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
                .bind(e.village.to_string())
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
    let [high, low] = digest_of(&(village, year, voucher));
    ((high as u128) << 64) | low as u128
}

fn digest_of(key: &impl std::hash::Hash) -> [u64; 2] {
    use std::hash::BuildHasher;
    static KEYS: std::sync::OnceLock<[std::hash::RandomState; 2]> = std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(|| [std::hash::RandomState::new(), std::hash::RandomState::new()]);
    [keys[0].hash_one(key), keys[1].hash_one(key)]
}

/// `$start, $start+1, …` — n placeholders, portable across SQLite and PostgreSQL.
pub(crate) fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
