//! The audit log: one row for every change, with who, when and what; and closing and reopening years.

pub(crate) mod seals;
mod search;
mod verify;

pub use search::AuditFilter;

use sqlx::Row;

use crate::db::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub record_hash: String,
    pub prev_hash: String,
    pub hash: String,
    /// The hash of the rows this write sealed (`seals`); empty when it sealed none.
    pub seal_hash: String,
}

/// Whose audit rows a scoped user reads: the villages under `prefix` (a township's or a village's
/// code prefix) and the user's own actions.
pub struct AuditScope {
    pub prefix: String,
    pub actor: String,
}

/// The range of codes that start with `prefix`, as `[from, to)`: `"131124100"` → `["131124100",
/// "131124101")`. An empty prefix, or one of nines, ends past every digit string.
fn prefix_range(prefix: &str) -> (String, String) {
    let mut to: Vec<u8> = prefix.as_bytes().to_vec();
    while let Some(last) = to.pop() {
        if last < b'9' {
            to.push(last + 1);
            return (
                prefix.to_string(),
                String::from_utf8(to).unwrap_or_default(),
            );
        }
    }
    (prefix.to_string(), ":".to_string())
}

/// Rows read from `audit_log` with [`AUDIT_COLS`].
fn audit_rows(rows: &[sqlx::any::AnyRow]) -> Result<Vec<AuditRow>, StoreError> {
    rows.iter()
        .map(audit_row)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

fn audit_row(r: &sqlx::any::AnyRow) -> Result<AuditRow, sqlx::Error> {
    Ok(AuditRow {
        id: r.try_get(0)?,
        at: r.try_get(1)?,
        actor: r.try_get(2)?,
        action: r.try_get(3)?,
        subject: r.try_get(4)?,
        detail: r.try_get(5)?,
        record_hash: r.try_get(6)?,
        prev_hash: r.try_get(7)?,
        hash: r.try_get(8)?,
        seal_hash: r.try_get(9)?,
    })
}

const AUDIT_COLS: &str =
    "id, at, actor, action, subject, detail, record_hash, prev_hash, hash, seal_hash";

/// SHA-256, hex.
pub(crate) fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::hex(&Sha256::digest(text.as_bytes()))
}

/// The SHA-256 of `lines` joined, as [`sha256_hex`] of their concatenation (without making it).
pub(crate) fn sha256_hex_of_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for l in lines {
        h.update(l.as_bytes());
    }
    crate::hex(&h.finalize())
}

/// The hash of an audit row: its fields and the hash of the row before it, and the hash of the rows
/// it sealed when it sealed any (rows written before seals keep the hash they were written with).
#[allow(clippy::too_many_arguments)]
fn row_hash(
    prev: &str,
    at: i64,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    record_hash: &str,
    seal_hash: &str,
) -> String {
    let sealed = if seal_hash.is_empty() {
        String::new()
    } else {
        format!("\n{seal_hash}")
    };
    sha256_hex(&format!(
        "{prev}\n{at}\n{actor}\n{action}\n{subject}\n{detail}\n{record_hash}{sealed}"
    ))
}

/// Writes an audit row whose record is its own detail.
pub(crate) async fn write(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<i64, sqlx::Error> {
    write_with_record(tx, actor, action, subject, detail, &sha256_hex(detail)).await
}

pub(crate) use crate::backend::touch;

/// Writes an audit row chained to the one before it, holding the hash of the records it wrote; returns
/// its id (records written point at it).
pub(crate) async fn write_with_record(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
    record_hash: &str,
) -> Result<i64, sqlx::Error> {
    // Updating the head first takes the write lock: no other writer can chain onto the same row.
    let prev: String = sqlx::query("UPDATE audit_head SET n = n + 1 WHERE id = 1 RETURNING hash")
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    let at = crate::now();
    let hash = row_hash(&prev, at, actor, action, subject, detail, record_hash, "");
    let id: i64 = sqlx::query(
        "INSERT INTO audit_log (at, actor, action, subject, detail, record_hash, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(detail)
    .bind(record_hash)
    .bind(&prev)
    .bind(&hash)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// Completes the newest audit row, written by this transaction before what it records was known (an
/// import's rows are counted and hashed as they are stored): its detail, record hash and chain hash,
/// and the head.
pub(crate) async fn amend_last(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    detail: &str,
    record_hash: &str,
) -> Result<(), sqlx::Error> {
    rewrite_newest(tx, id, Some(detail), Some(record_hash), None).await
}

/// Rewrites audit row `id` with `detail`, `record_hash` and `seal_hash` where given (`None`: as
/// stored), recomputes its chain hash and moves the head to it: the one place an audit row changes
/// after it is written (`amend_last`, and its seals added by `seals`). The row must be the head: a
/// row with rows chained after it cannot change.
pub(crate) async fn rewrite_newest(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    detail: Option<&str>,
    record_hash: Option<&str>,
    seal_hash: Option<&str>,
) -> Result<(), sqlx::Error> {
    let r = sqlx::query(
        "SELECT at, actor, action, subject, detail, record_hash, prev_hash, seal_hash, hash \
         FROM audit_log WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let text = |i: usize| r.try_get::<String, _>(i);
    let or_stored = |given: Option<&str>, i: usize| given.map_or_else(|| text(i), |g| Ok(g.into()));
    let (detail, record_hash, seal_hash) = (
        or_stored(detail, 4)?,
        or_stored(record_hash, 5)?,
        or_stored(seal_hash, 7)?,
    );
    let head: String = sqlx::query("SELECT hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    if head != text(8)? {
        return Err(sqlx::Error::Protocol(format!(
            "audit row {id} is not the newest: it cannot be completed or sealed"
        )));
    }
    let hash = row_hash(
        &text(6)?,
        r.try_get(0)?,
        &text(1)?,
        &text(2)?,
        &text(3)?,
        &detail,
        &record_hash,
        &seal_hash,
    );
    sqlx::query(
        "UPDATE audit_log SET detail = $1, record_hash = $2, seal_hash = $3, hash = $4 WHERE id = $5",
    )
    .bind(&detail)
    .bind(&record_hash)
    .bind(&seal_hash)
    .bind(&hash)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Appends the canonical text of an entry as stored, for record hashes, to `out` (one buffer serves
/// millions of entries).
#[allow(clippy::too_many_arguments)]
pub(crate) fn push_entry_line(
    out: &mut String,
    village: &str,
    year: i64,
    date: &str,
    account: &str,
    amount: i64,
    voucher: Option<&str>,
    memo: &str,
    project: Option<&str>,
    reverses: Option<&str>,
    source: &str,
) {
    // Pieces pushed in turn: this runs for every entry of an import.
    let mut n = [0u8; 20];
    for piece in [
        village,
        "|",
        fmt_int(&mut n, year),
        "|",
        date,
        "|",
        account,
        "|",
    ] {
        out.push_str(piece);
    }
    out.push_str(fmt_int(&mut n, amount));
    for piece in [
        "|",
        voucher.unwrap_or(""),
        "|",
        memo,
        "|",
        project.unwrap_or(""),
        "|",
        reverses.unwrap_or(""),
        "|",
        source,
        "\n",
    ] {
        out.push_str(piece);
    }
}

/// `n` in decimal, written into `buf`.
fn fmt_int(buf: &mut [u8; 20], n: i64) -> &str {
    let mut i = buf.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

impl Store {
    /// The newest `limit` audit rows, newest first.
    /// The newest `limit` audit rows a user may read: with a scope, those concerning a village under
    /// `scope.prefix`, those the user wrote, and policy changes (every user reads the policy);
    /// without one, all.
    pub async fn audit_log_within(
        &self,
        limit: i64,
        scope: Option<&AuditScope>,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let Some(scope) = scope else {
            return self.audit_log(limit).await;
        };
        let sql = format!(
            "SELECT {AUDIT_COLS} FROM audit_log a WHERE a.actor = $1 OR a.action = 'policy_save' \
             OR EXISTS (SELECT 1 FROM audit_villages v WHERE v.audit_id = a.id \
                        AND v.village >= $2 AND v.village < $3) \
             ORDER BY a.id DESC LIMIT $4"
        );
        // The codes under a prefix form one range: from the prefix to the prefix with its last digit
        // raised (a prefix of digits: `1311241` → [`1311241`, `1311242`)).
        let (from, to) = prefix_range(&scope.prefix);
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&scope.actor)
            .bind(from)
            .bind(to)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        audit_rows(&rows)
    }

    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
        let sql = format!("SELECT {AUDIT_COLS} FROM audit_log ORDER BY id DESC LIMIT $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        audit_rows(&rows)
    }

    /// Closes a village's books for a year (结账): no new entries for that year until reopened.
    pub async fn close_year(
        &self,
        village: &str,
        year: i32,
        actor: &str,
    ) -> Result<(), StoreError> {
        self.check_village(village).await?;
        let mut tx = self.begin_write().await?;
        closed_unsealed(&mut tx, village, year).await?;
        let done = sqlx::query(
            "INSERT INTO closed_years (village, year, actor, at) VALUES ($1, $2, $3, $4) ON CONFLICT (village, year) DO NOTHING",
        )
        .bind(village)
        .bind(year)
        .bind(actor)
        .bind(crate::now())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "村 {village} 的 {year} 年已经结账"
            )));
        }
        let id = write(
            &mut tx,
            actor,
            "close_year",
            village,
            &format!("{year} 年结账"),
        )
        .await?;
        touch(&mut tx, id, [village]).await?;
        seal_closed(&mut tx, id, village, year).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Reopens a closed year; only with a written reason, which is kept in the audit log.
    pub async fn reopen_year(
        &self,
        village: &str,
        year: i32,
        actor: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        if reason.trim().chars().count() < 4 {
            return Err(StoreError::Invalid(
                "重新开账须写明理由（至少 4 个字）".into(),
            ));
        }
        cunji_core::columns::check_length(reason)
            .map_err(|m| StoreError::Invalid(format!("重新开账理由{m}")))?;
        let mut tx = self.begin_write().await?;
        closed_unsealed(&mut tx, village, year).await?;
        let done = sqlx::query("DELETE FROM closed_years WHERE village = $1 AND year = $2")
            .bind(village)
            .bind(year)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "村 {village} 的 {year} 年并未结账"
            )));
        }
        let id = write(
            &mut tx,
            actor,
            "reopen_year",
            village,
            &format!("{year} 年重新开账，理由：{}", reason.trim()),
        )
        .await?;
        touch(&mut tx, id, [village]).await?;
        seal_closed(&mut tx, id, village, year).await?;
        tx.commit().await?;
        Ok(())
    }

    /// After a direct edit of sealed rows has been looked into (and not undone by a restore): the
    /// rows are sealed as they stand by one audit row that lists every difference and the reason, so
    /// the edit stays on record and writes on those rows are no longer refused. Returns the
    /// differences accepted (none: nothing was written).
    pub async fn accept_unsealed(
        &self,
        actor: &str,
        reason: &str,
    ) -> Result<Vec<String>, StoreError> {
        if reason.trim().chars().count() < 4 {
            return Err(StoreError::Invalid(
                "确认直接改库的现状须写明理由（至少 4 个字）".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let accepted = seals::accept(&mut tx, actor, reason.trim()).await?;
        tx.commit().await?;
        Ok(accepted)
    }

    async fn check_village(&self, village: &str) -> Result<(), StoreError> {
        crate::db::check_village(&self.pool, village, StoreError::NotFound).await
    }
}

/// Refuses to close or reopen a village-year whose closing was changed directly.
async fn closed_unsealed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    village: &str,
    year: i32,
) -> Result<(), StoreError> {
    use seals::{refuse_unsealed, Arg, CLOSED_YEARS};
    let args = [Arg::Text(village.into()), Arg::Int(year.into())];
    refuse_unsealed(tx, &CLOSED_YEARS, Some(&args)).await
}

/// Binds a village-year's closing (or its reopening, sealed as deleted) to its audit row.
async fn seal_closed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    village: &str,
    year: i32,
) -> Result<(), sqlx::Error> {
    use seals::{seal, Arg, CLOSED_YEARS};
    let args = [Arg::Text(village.into()), Arg::Int(year.into())];
    seal(tx, audit_id, &CLOSED_YEARS, Some(&args)).await
}

/// A kept total that differs from the sum of its entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotalsMismatch {
    pub village: String,
    pub year: i64,
    pub account: String,
    pub kept: (i64, i64),
    pub summed: (i64, i64),
}

impl Store {
    /// Recomputes every village-year account total from the entries and lists the kept totals that
    /// differ (amount, count). Empty when the books are consistent.
    pub async fn totals_mismatches(&self) -> Result<Vec<TotalsMismatch>, StoreError> {
        // The entries are summed in two parts, the billions of fen and the rest: SQLite's SUM fails
        // ("integer overflow") as soon as a partial sum leaves 64 bits, and a village-year's entries
        // may pass beyond on the way to a total that fits (SPEC §1 checks totals only as a whole).
        // Each part's sum fits; the total is `hi × 10^9 + lo`, compared without forming it.
        let rows = sqlx::query(
            "SELECT COALESCE(t.village, e.village), COALESCE(t.year, e.year), COALESCE(t.account, e.account), \
                    COALESCE(t.amount, 0), COALESCE(t.entries, 0), \
                    COALESCE((e.hi + e.lo / 1000000000) * 1000000000 + e.lo % 1000000000, 0), COALESCE(e.n, 0) \
             FROM totals t FULL OUTER JOIN \
                  (SELECT e.village, e.year, a.key AS account, \
                          CAST(SUM(e.amount / 1000000000) AS BIGINT) AS hi, \
                          CAST(SUM(e.amount % 1000000000) AS BIGINT) AS lo, COUNT(*) AS n \
                   FROM entries e JOIN accounts a ON a.number = e.account GROUP BY e.village, e.year, a.key) e \
               ON t.village = e.village AND t.year = e.year AND t.account = e.account \
             WHERE COALESCE(t.entries, 0) <> COALESCE(e.n, 0) \
                OR COALESCE(t.amount, 0) - COALESCE(e.lo % 1000000000, 0) \
                   <> COALESCE((e.hi + e.lo / 1000000000) * 1000000000, 0)",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TotalsMismatch {
                    village: r.try_get(0)?,
                    year: r.try_get(1)?,
                    account: r.try_get(2)?,
                    kept: (r.try_get(3)?, r.try_get(4)?),
                    summed: (r.try_get(5)?, r.try_get(6)?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}

impl Store {
    /// Rebuilds every village-year's entry facts from the entries and lists those whose kept facts
    /// or sums differ, or are kept without entries. Empty when consistent.
    pub async fn facts_mismatches(&self) -> Result<Vec<(String, i32)>, StoreError> {
        let sql = format!(
            "SELECT village, year, {} FROM entry_facts",
            self.backend.dialect().facts_column
        );
        let mut kept: std::collections::BTreeMap<(String, i32), Vec<u8>> =
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        (r.try_get(0)?, r.try_get::<i64, _>(1)? as i32),
                        r.try_get(2)?,
                    ))
                })
                .collect::<Result<_, sqlx::Error>>()?;
        let rows = sqlx::query(
            "SELECT village, year, date, account, amount, voucher, reverses FROM entries ORDER BY village, year, date, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut rebuilt: std::collections::BTreeMap<
            (String, i32),
            Vec<cunji_core::alerts::EntryFact>,
        > = std::collections::BTreeMap::new();
        for r in rows {
            let date: String = r.try_get(2)?;
            let account: i64 = r.try_get(3)?;
            let fact = cunji_core::alerts::EntryFact {
                date: cunji_core::date::Date::parse(&date).map_err(StoreError::Corrupt)?,
                account: crate::account_numbers::account(account)
                    .ok_or_else(|| StoreError::Corrupt(format!("数据库中有未知科目 {account}")))?,
                amount: cunji_core::Fen::from_fen(r.try_get(4)?),
                voucher: r.try_get(5)?,
                reverses: r.try_get(6)?,
            };
            rebuilt
                .entry((r.try_get(0)?, r.try_get::<i64, _>(1)? as i32))
                .or_default()
                .push(fact);
        }
        let mut sums = crate::entry_sums::all(&self.pool, self.backend).await?;
        let mut out = Vec::new();
        for (key, facts) in rebuilt {
            let kept_facts = kept.remove(&key);
            let kept_sums = sums.remove(&key);
            let same = kept_facts.is_some_and(|text| {
                crate::facts::parse(&text, key.1).ok().as_ref() == Some(&facts)
            }) && kept_sums == Some(cunji_core::alerts::EntrySums::of(&facts));
            if !same {
                out.push(key);
            }
        }
        out.extend(kept.into_keys());
        out.extend(sums.into_keys());
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// A number that changes whenever anything is written: every change writes an audit row. Readers
    /// use it to know whether what they loaded is still current.
    pub async fn data_version(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }
}

/// The canonical text of a grant, for record hashes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn grant_line(
    grant: &str,
    village: &str,
    year: i64,
    level: &str,
    program: &str,
    amount: i64,
    project: &str,
    expected_rate: Option<i64>,
) -> String {
    format!(
        "{grant}|{village}|{year}|{level}|{program}|{amount}|{project}|{}\n",
        expected_rate.map(|r| r.to_string()).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The canonical line is `village|year|date|account|amount|voucher|memo|project|reverses|source`:
        /// pieces pushed in turn must write what one format string writes, for any values.
        #[test]
        fn entry_lines_are_the_canonical_format(
            village in "\\PC{0,14}", year: i64, date in "\\PC{0,10}", amount: i64,
            voucher in proptest::option::of("\\PC{0,8}"), memo in "\\PC{0,12}",
            project in proptest::option::of("\\PC{0,6}"), reverses in proptest::option::of("\\PC{0,9}"),
        ) {
            let mut line = String::from("previous line\n");
            push_entry_line(&mut line, &village, year, &date, "admin_expense", amount,
                voucher.as_deref(), &memo, project.as_deref(), reverses.as_deref(), "entry");
            let want = format!(
                "previous line\n{village}|{year}|{date}|admin_expense|{amount}|{}|{memo}|{}|{}|entry\n",
                voucher.as_deref().unwrap_or(""),
                project.as_deref().unwrap_or(""),
                reverses.as_deref().unwrap_or("")
            );
            prop_assert_eq!(line, want);
        }
    }

    #[test]
    fn integers_at_the_ends_of_their_range() {
        let mut buf = [0u8; 20];
        for n in [i64::MIN, i64::MIN + 1, -10, -1, 0, 1, 9, 10, i64::MAX] {
            assert_eq!(fmt_int(&mut buf, n), n.to_string());
        }
    }
}
