//! The entry facts: for each village and year, what the alerts read of its entries (date, account,
//! amount, voucher, reverses), in date order, as one JSON array. Kept in the transaction that writes
//! the entries, so a province's report reads one row per village instead of every entry of the year.

use std::collections::BTreeMap;

use cunji_core::account::Account;
use cunji_core::alerts::EntryFact;
use cunji_core::date::Date;
use cunji_core::money::Fen;
use sqlx::Row;

use crate::db::StoreError;
use crate::import::entries::NewEntry;

/// `[date, account, amount, voucher, reverses]`, as stored.
type FactRow = (String, String, i64, Option<String>, Option<String>);
/// The same, borrowing the date and account from the stored text.
type FactRef<'a> = (&'a str, &'a str, i64, Option<String>, Option<String>);

/// Villages a statement looks up or writes at once.
const VILLAGES_PER_STATEMENT: usize = 5_000;

/// Parses one stored facts array.
pub(crate) fn parse(text: &str) -> Result<Vec<EntryFact>, StoreError> {
    let rows: Vec<FactRef<'_>> = serde_json::from_str(text)
        .map_err(|e| StoreError::Invalid(format!("数据库中的分录摘要有误：{e}")))?;
    rows.into_iter()
        .map(|(date, account, amount, voucher, reverses)| {
            Ok(EntryFact {
                date: Date::parse(date).map_err(StoreError::Invalid)?,
                account: Account::from_key_or_name(account)
                    .ok_or_else(|| StoreError::Invalid(format!("数据库中有未知科目 {account}")))?,
                amount: Fen(amount),
                voucher,
                reverses,
            })
        })
        .collect()
}

/// Adds newly written entries (in the order they were inserted) to the facts of their village-years.
pub(crate) async fn add(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    entries: &[NewEntry],
) -> Result<(), sqlx::Error> {
    let mut fresh: BTreeMap<(i32, &str), Vec<FactRow>> = BTreeMap::new();
    for e in entries {
        fresh
            .entry((e.date.year, e.village.as_str()))
            .or_default()
            .push((
                e.date.iso(),
                e.account.key().to_string(),
                e.amount,
                e.voucher.clone(),
                e.reverses.clone(),
            ));
    }
    let sqlite = tx.backend_name() == "SQLite";
    let select = if sqlite {
        "SELECT village, facts FROM entry_facts WHERE year = $1 AND village IN (SELECT value FROM json_each($2))"
    } else {
        "SELECT village, facts FROM entry_facts WHERE year = $1 AND village IN (SELECT json_array_elements_text($2::json))"
    };
    let upsert = if sqlite {
        "INSERT INTO entry_facts (year, village, facts) SELECT value->>0, value->>1, value->2 FROM json_each($1) WHERE true \
         ON CONFLICT (year, village) DO UPDATE SET facts = excluded.facts"
    } else {
        "INSERT INTO entry_facts (year, village, facts) SELECT (r->>0)::bigint, r->>1, (r->2)::text FROM json_array_elements($1::json) AS t(r) \
         ON CONFLICT (year, village) DO UPDATE SET facts = excluded.facts"
    };
    let keys: Vec<(i32, &str)> = fresh.keys().copied().collect();
    for chunk in keys.chunk_by(|a, b| a.0 == b.0) {
        for part in chunk.chunks(VILLAGES_PER_STATEMENT) {
            let year = part[0].0;
            let villages: Vec<&str> = part.iter().map(|k| k.1).collect();
            let names = serde_json::to_string(&villages).expect("plain strings");
            let mut stored: BTreeMap<String, Vec<FactRow>> = BTreeMap::new();
            for r in sqlx::query(select)
                .bind(year)
                .bind(names)
                .fetch_all(&mut **tx)
                .await?
            {
                let text: String = r.try_get(1)?;
                let rows: Vec<FactRow> =
                    serde_json::from_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                stored.insert(r.try_get(0)?, rows);
            }
            let mut out = Vec::with_capacity(part.len());
            for key in part {
                let mut new = fresh.remove(key).unwrap_or_default();
                // Stored facts are in (date, id) order and the new entries' ids are larger, so a
                // stable sort by date keeps the order the entries table gives.
                let mut rows = stored.remove(key.1).unwrap_or_default();
                rows.append(&mut new);
                rows.sort_by(|a, b| a.0.cmp(&b.0));
                out.push((year, key.1, rows));
            }
            let json = serde_json::to_string(&out).expect("plain values");
            sqlx::query(upsert).bind(json).execute(&mut **tx).await?;
        }
    }
    Ok(())
}
