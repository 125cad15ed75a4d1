//! Entries one at a time (a form on a web page) and reading a village's ledger. A single entry goes
//! through exactly the checks of an imported row.

use cunji_core::account::Account;
use cunji_core::money::Fen;
use sqlx::Row;

use crate::db::{Store, StoreError};
use crate::import::entries::{parse_row, write_entries, Context, FileState};
use crate::import::{ImportError, Quiet};
use crate::table::Sheet;

/// An entry as typed into a form (text, as in a file).
#[derive(Clone, Debug, Default)]
pub struct EntryForm {
    pub village: String,
    pub date: String,
    pub account: String,
    pub amount: String,
    pub voucher: String,
    pub memo: String,
    pub project: String,
}

/// An entry as stored; read from the database's JSON array of rows (each row an array, in field order).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct EntryRow {
    pub id: i64,
    pub date: String,
    #[serde(deserialize_with = "account_by_key")]
    pub account: Account,
    #[serde(deserialize_with = "fen_of_integer")]
    pub amount: Fen,
    pub voucher: Option<String>,
    pub memo: String,
    pub project: Option<String>,
    pub reverses: Option<String>,
    pub source: String,
    pub actor: String,
    /// The `YEAR:VOUCHER` of the entry that reverses this one, if any.
    pub reversed_by: Option<String>,
}

impl Store {
    /// Adds one entry with the checks of an import; returns its voucher number (assigned when empty).
    pub async fn add_entry(
        &self,
        form: &EntryForm,
        reverses: Option<&str>,
        actor: &str,
    ) -> Result<String, ImportError> {
        // A voucher left empty is numbered inside the write transaction below (after the write lock
        // is taken), never here: numbered before it, eight clients at once picked the same number
        // and most of their entries were refused naming a voucher nobody typed (#32). The checks
        // run with a placeholder that cannot clash with a stored voucher.
        let typed = form.voucher.trim().to_string();
        let voucher = if typed.is_empty() {
            AUTO_VOUCHER.to_string()
        } else {
            typed.clone()
        };
        let fields = [
            ("village", form.village.clone()),
            ("date", form.date.clone()),
            ("account", form.account.clone()),
            ("amount", form.amount.clone()),
            ("voucher", voucher.clone()),
            ("memo", form.memo.clone()),
            ("project", form.project.clone()),
            ("reverses", reverses.unwrap_or("").to_string()),
        ];
        let sheet = Sheet::from_fields("网页录入", &fields);
        let entry = parse_row(&sheet, &sheet.rows[0]).map_err(ImportError::from)?;
        let ctx = Context::load(self, std::iter::once(entry.village.as_str())).await?;
        let mut errors = crate::table::RowErrors::new();
        let mut state = FileState::default();
        ctx.check(&sheet, &entry, &mut state, &mut errors).await?;
        state.check_totals(&sheet, &mut errors);
        if !errors.is_empty() {
            return Err(ImportError::Rows(errors));
        }
        let mut tx = self.begin_write().await?;
        let mut entry = entry;
        // What was checked against the committed books may have changed while this writer waited
        // for the lock: the voucher is numbered or re-checked, and the reversal re-checked, now.
        let year = entry.date.year();
        let voucher = if typed.is_empty() {
            next_voucher(&mut tx, &entry.village, year).await?
        } else {
            if voucher_taken(&mut tx, &entry.village, year, &typed).await? {
                return Err(ImportError::from(vec![sheet.error(
                    entry.line,
                    "voucher",
                    format!("凭证号 {typed} 在村 {} 的 {year} 年已存在", entry.village),
                )]));
            }
            typed
        };
        entry.voucher = Some(voucher.as_str().into());
        let closed = sqlx::query("SELECT 1 FROM closed_years WHERE village = $1 AND year = $2")
            .bind(entry.village.to_string())
            .bind(year)
            .fetch_optional(&mut *tx)
            .await?;
        if closed.is_some() {
            return Err(ImportError::from(vec![sheet.error(
                entry.line,
                "date",
                format!(
                    "村 {} 的 {year} 年已结账，不能再记账（须县级管理员写明理由后重新开账）",
                    entry.village
                ),
            )]));
        }
        if let Some(r) = reverses {
            let again: Option<i64> =
                sqlx::query("SELECT id FROM entries WHERE village = $1 AND reverses = $2")
                    .bind(entry.village.to_string())
                    .bind(r)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|row| row.try_get(0))
                    .transpose()?;
            if again.is_some() {
                return Err(ImportError::from(vec![sheet.error(
                    entry.line,
                    "reverses",
                    format!("凭证 {r} 已经冲销过，一笔账只能冲销一次"),
                )]));
            }
        }
        let what = if reverses.is_some() {
            "entry_reverse"
        } else {
            "entry_add"
        };
        let record = crate::import::entries::entries_hash(std::slice::from_ref(&entry), "web");
        let audit_id = crate::audit::write_with_record(
            &mut tx,
            actor,
            what,
            &entry.village,
            &format!(
                "{} {} {} 元，凭证 {}，{}{}",
                entry.date.iso(),
                entry.account.name_zh(),
                Fen::from_fen(entry.amount).json(),
                voucher,
                entry.memo,
                reverses.map(|r| format!("，冲销 {r}")).unwrap_or_default()
            ),
            &record,
        )
        .await?;
        write_entries(
            &mut tx,
            self.backend,
            None,
            audit_id,
            std::slice::from_ref(&entry),
            "web",
            actor,
            &Quiet,
        )
        .await?;
        tx.commit().await?;
        Ok(voucher)
    }

    /// Reverses a stored entry (红字冲销) with a reason: a new entry of the same account with the negated
    /// amount, dated `date`, naming the original's voucher.
    pub async fn reverse_entry(
        &self,
        entry_id: i64,
        date: &str,
        reason: &str,
        actor: &str,
    ) -> Result<String, ImportError> {
        if reason.trim().chars().count() < 2 {
            return Err(ImportError::Store(StoreError::Invalid(
                "冲销须写明理由".into(),
            )));
        }
        let row = sqlx::query(
            "SELECT e.village, e.year, a.key, e.amount, e.voucher FROM entries e JOIN accounts a ON a.number = e.account WHERE e.id = $1",
        )
        .bind(entry_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| {
            ImportError::Store(StoreError::NotFound(format!("没有编号为 {entry_id} 的分录")))
        })?;
        let village: String = row.try_get(0)?;
        let year: i64 = row.try_get(1)?;
        let account: String = row.try_get(2)?;
        let amount: i64 = row.try_get(3)?;
        let Some(voucher) = row.try_get::<Option<String>, _>(4)? else {
            return Err(ImportError::Store(StoreError::Invalid(
                "这笔分录没有凭证号，无法按凭证冲销；请录入一笔红字分录更正".into(),
            )));
        };
        let form = EntryForm {
            village,
            date: date.to_string(),
            account,
            amount: Fen::from_fen(-amount).json(),
            voucher: String::new(),
            memo: format!("冲销：{}", reason.trim()),
            project: String::new(),
        };
        self.add_entry(&form, Some(&format!("{year}:{voucher}")), actor)
            .await
    }

    /// A village's entries of a year, oldest first, each with what reversed it. Read as one JSON
    /// array built by the database: a page's hundred rows would otherwise cross from the database
    /// thread one by one.
    pub async fn entries_of(&self, village: &str, year: i32) -> Result<Vec<EntryRow>, StoreError> {
        self.entries_up_to(village, year, i64::MAX).await
    }

    /// The latest `limit` entries of a village's year (oldest of them first) and how many the year
    /// has: a page lists a bounded number of rows however many a village imported (one village of
    /// 1,000,000 entries made a page of a million rows).
    pub async fn latest_entries_of(
        &self,
        village: &str,
        year: i32,
        limit: usize,
    ) -> Result<(Vec<EntryRow>, i64), StoreError> {
        let count: i64 =
            sqlx::query("SELECT COUNT(*) FROM entries WHERE village = $1 AND year = $2")
                .bind(village)
                .bind(year)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok((self.entries_up_to(village, year, limit).await?, count))
    }

    async fn entries_up_to(
        &self,
        village: &str,
        year: i32,
        limit: i64,
    ) -> Result<Vec<EntryRow>, StoreError> {
        const INNER: &str = "SELECT e.id, e.date, a.key AS account, e.amount, e.voucher, e.memo, e.project, e.reverses, w.source, w.actor, \
                    (SELECT r.year || ':' || r.voucher FROM entries r WHERE r.village = e.village AND r.reverses = e.year || ':' || e.voucher) AS reversed_by \
             FROM entries e JOIN accounts a ON a.number = e.account JOIN entry_writes w ON w.id = e.write_id \
             WHERE e.village = $1 AND e.year = $2 ORDER BY e.date DESC, e.id DESC LIMIT $3";
        let (before, after) = self.backend.dialect().entries_array;
        let sql = format!("{before}{INNER}{after}");
        let text: String = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(village)
            .bind(year)
            .bind(limit)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("数据库中的分录有误：{e}")))
    }

    /// Whether a village's year is closed.
    pub async fn is_closed(&self, village: &str, year: i32) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("SELECT 1 FROM closed_years WHERE village = $1 AND year = $2")
                .bind(village)
                .bind(year)
                .fetch_optional(&self.pool)
                .await?
                .is_some(),
        )
    }

    /// A fingerprint of the books a village's reward reads (every year's totals of the village and its
    /// predecessors), to tell whether figures changed since a computation.
    pub async fn figures_fingerprint(&self, villages: &[String]) -> Result<String, StoreError> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for v in villages {
            let rows = sqlx::query("SELECT year, account, amount, entries FROM totals WHERE village = $1 ORDER BY year, account")
                .bind(v)
                .fetch_all(&self.pool)
                .await?;
            for r in rows {
                let line = format!(
                    "{v}|{}|{}|{}|{}\n",
                    r.try_get::<i64, _>(0)?,
                    r.try_get::<String, _>(1)?,
                    r.try_get::<i64, _>(2)?,
                    r.try_get::<i64, _>(3)?
                );
                h.update(line.as_bytes());
            }
        }
        Ok(crate::hex(&h.finalize()))
    }
}

impl Store {
    /// The village and year of a stored entry.
    pub async fn entry_owner(&self, entry_id: i64) -> Result<Option<(String, i32)>, StoreError> {
        let row = sqlx::query("SELECT village, year FROM entries WHERE id = $1")
            .bind(entry_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some((r.try_get(0)?, r.try_get::<i64, _>(1)? as i32))),
        }
    }
}

/// The voucher the checks of an entry typed without one see: `网-` numbers are at most 8 digits.
const AUTO_VOUCHER: &str = "网-待编号";

/// The first free `网-NNNN` voucher of a village's year, read inside the writing transaction (which
/// holds the write lock, so no other writer can take it before this one commits).
async fn next_voucher(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    village: &str,
    year: i32,
) -> Result<String, StoreError> {
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM entries WHERE village = $1 AND year = $2")
        .bind(village)
        .bind(year)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    for k in n + 1..n + 1000 {
        let v = format!("网-{k:04}");
        if !voucher_taken(tx, village, year, &v).await? {
            return Ok(v);
        }
    }
    Err(StoreError::Conflict("无法分配凭证号".into()))
}

async fn voucher_taken(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    village: &str,
    year: i32,
    voucher: &str,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT id FROM entries WHERE village = $1 AND year = $2 AND voucher = $3")
            .bind(village)
            .bind(year)
            .bind(voucher)
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
    )
}

fn account_by_key<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Account, D::Error> {
    let key = <String as serde::Deserialize>::deserialize(d)?;
    Account::from_key_or_name(&key)
        .ok_or_else(|| serde::de::Error::custom(format!("数据库中有未知科目 {key}")))
}

fn fen_of_integer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Fen, D::Error> {
    <i64 as serde::Deserialize>::deserialize(d).map(Fen::from_fen)
}
