//! The entry facts: for each village and year, what the alerts read of its entries, in date order, as
//! one JSON array of `[month*100+day, account number, amount, voucher, reverses]`. Kept in the
//! transaction that writes the entries, so a province's report reads one row per village instead of
//! every entry of the year; compact, because a province's year of facts is a quarter of a gigabyte
//! written out in full.

use std::collections::BTreeMap;

use cunji_core::account::Account;
use cunji_core::alerts::EntryFact;
use cunji_core::date::Date;
use cunji_core::money::Fen;
use sqlx::Row;

use crate::db::StoreError;
use crate::import::entries::NewEntry;

/// `[month*100+day, account number, amount, voucher, reverses]`, as stored.
type FactRow = (u16, u8, i64, Option<String>, Option<String>);

/// Account numbers of the stored facts: positions in this list, which may only grow at its end
/// (migration 0005 writes the same numbers).
const FACT_ACCOUNTS: [&str; 12] = [
    "operating_revenue",
    "contracting_income",
    "investment_income",
    "subsidy_income",
    "other_income",
    "agri_tax_refund",
    "operating_cost",
    "taxes_and_surcharges",
    "admin_expense",
    "public_welfare_expense",
    "other_expense",
    "income_tax",
];

fn account_number(a: Account) -> u8 {
    FACT_ACCOUNTS
        .iter()
        .position(|k| *k == a.key())
        .expect("every account has a fact number") as u8
}

/// Villages a statement looks up or writes at once.
const VILLAGES_PER_STATEMENT: usize = 5_000;

/// A year's kept facts, one text a village, parsed when asked for.
pub struct YearFacts {
    pub year: i32,
    pub villages: std::collections::HashMap<cunji_core::region::RegionCode, String>,
}

impl cunji_core::report::EntrySource for YearFacts {
    fn entries_of(
        &self,
        village: &cunji_core::region::RegionCode,
    ) -> Result<cunji_core::report::EntryFacts<'_>, String> {
        match self.villages.get(village) {
            None => Ok(std::borrow::Cow::Borrowed(&[])),
            Some(text) => parse(text, self.year)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| e.to_string()),
        }
    }
}

impl YearFacts {
    /// Every village's facts, parsed (for checks and tests).
    pub fn parsed(
        &self,
    ) -> Result<BTreeMap<cunji_core::region::RegionCode, Vec<EntryFact>>, StoreError> {
        self.villages
            .iter()
            .map(|(v, text)| Ok((v.clone(), parse(text, self.year)?)))
            .collect()
    }
}

/// Parses one stored facts array of a village's `year`.
pub(crate) fn parse(text: &str, year: i32) -> Result<Vec<EntryFact>, StoreError> {
    let bad = |what: String| StoreError::Invalid(format!("数据库中的分录摘要有误：{what}"));
    let rows: Vec<FactRow> = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    rows.into_iter()
        .map(|(md, account, amount, voucher, reverses)| {
            let (month, day) = ((md / 100) as u8, (md % 100) as u8);
            if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
                return Err(bad(format!("日期 {md}")));
            }
            let account = FACT_ACCOUNTS
                .get(account as usize)
                .and_then(|k| Account::from_key_or_name(k))
                .ok_or_else(|| bad(format!("科目 {account}")))?;
            Ok(EntryFact {
                date: Date { year, month, day },
                account,
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
    let mut fresh: BTreeMap<(i32, &str), Vec<&NewEntry>> = BTreeMap::new();
    for e in entries {
        fresh
            .entry((e.date.year, e.village.as_str()))
            .or_default()
            .push(e);
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
                let new = fresh.remove(key).unwrap_or_default();
                let new = new.iter().map(|e| {
                    (
                        e.date.month as u16 * 100 + e.date.day as u16,
                        account_number(e.account),
                        e.amount,
                        e.voucher.clone(),
                        e.reverses.clone(),
                    )
                });
                // Stored facts are in (date, id) order and the new entries' ids are larger, so a
                // stable sort by date keeps the order the entries table gives.
                let mut rows = stored.remove(key.1).unwrap_or_default();
                rows.extend(new);
                rows.sort_by_key(|a| a.0);
                out.push((year, key.1, rows));
            }
            let json = serde_json::to_string(&out).expect("plain values");
            drop(out);
            sqlx::query(upsert).bind(json).execute(&mut **tx).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_account_has_a_fact_number_and_facts_read_back() {
        for a in Account::ALL {
            assert_eq!(FACT_ACCOUNTS[account_number(a) as usize], a.key());
        }
        let facts = parse(
            r#"[[1231,8,-1500,"记-9",null],[101,3,7,null,"2023:记-1"]]"#,
            2024,
        )
        .unwrap();
        assert_eq!(facts[0].date.iso(), "2024-12-31");
        assert_eq!(facts[0].account, Account::AdminExpense);
        assert_eq!(facts[0].amount, Fen(-1500));
        assert_eq!(facts[1].account, Account::SubsidyIncome);
        assert_eq!(facts[1].reverses.as_deref(), Some("2023:记-1"));
        assert!(parse("[[1301,0,1,null,null]]", 2024).is_err());
        assert!(parse("[[101,12,1,null,null]]", 2024).is_err());
    }
}
