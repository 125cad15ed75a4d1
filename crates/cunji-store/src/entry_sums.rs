//! The kept sums of each village-year's entries (`EntrySums`), written in the transaction that
//! writes its entry facts, and read by a province's report in their stead (`load_entry_facts_for`).
//!
//! Stored as a version byte, then varints: December's operating income and the positive income
//! (zigzag), each power of ten's sum (zigzag) and count, and 1 when some income is answered, else 0.

use cunji_core::alerts::{AlertSettings, EntrySums};
use cunji_core::money::Fen;
use cunji_core::region::RegionCode;
use sqlx::Row;

use crate::db::StoreError;
use crate::fact_rows::{push_varint, Reader};
use crate::fast_hash::FastMap;

const VERSION: u8 = 1;

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

pub(crate) fn encode(s: &EntrySums) -> Vec<u8> {
    let mut out = Vec::with_capacity(48);
    out.push(VERSION);
    push_varint(&mut out, zigzag(s.december_operating.fen()));
    push_varint(&mut out, zigzag(s.income.fen()));
    for (sum, n) in s.round {
        push_varint(&mut out, zigzag(sum.fen()));
        push_varint(&mut out, n);
    }
    push_varint(&mut out, s.answered as u64);
    out
}

pub(crate) fn decode(bytes: &[u8]) -> Result<EntrySums, String> {
    let mut r = Reader { bytes, at: 0 };
    if r.byte()? != VERSION {
        return Err("未知的格式".into());
    }
    let mut s = EntrySums {
        december_operating: Fen::from_fen(unzigzag(r.varint()?)),
        income: Fen::from_fen(unzigzag(r.varint()?)),
        ..EntrySums::default()
    };
    for (sum, n) in s.round.iter_mut() {
        *sum = Fen::from_fen(unzigzag(r.varint()?));
        *n = r.varint()?;
    }
    s.answered = match r.varint()? {
        0 => false,
        1 => true,
        _ => return Err("标记有误".into()),
    };
    match r.at == bytes.len() {
        true => Ok(s),
        false => Err("内容多余".into()),
    }
}

/// The sums of a village-year's stored facts, encoded; summed from the stored rows (an import of
/// a province's year sums 4.6 million entries, and building each entry first took a second).
pub(crate) fn of_facts(facts: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut b = cunji_core::alerts::SumsBuilder::default();
    crate::fact_rows::each_row(facts, |(md, account, amount, _, reverses)| {
        let account = crate::account_numbers::account(account as i64)
            .ok_or_else(|| format!("科目 {account}"))?;
        b.add(
            (md / 100) as u8,
            account,
            Fen::from_fen(amount),
            reverses.is_some(),
        );
        Ok(())
    })
    .map_err(|what| StoreError::Corrupt(format!("数据库中的分录摘要有误：{what}")))?;
    Ok(encode(&b.finish()))
}

/// Fills the sums of every village-year that has facts (migration 15), a year at a time.
pub(crate) async fn fill(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: crate::backend::Backend,
) -> Result<(), StoreError> {
    let years: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT year FROM entry_facts")
        .fetch_all(&mut **tx)
        .await?;
    let select = format!(
        "SELECT village, {} FROM entry_facts WHERE year = $1",
        backend.dialect().facts_column
    );
    for year in years {
        let rows = sqlx::query(sqlx::AssertSqlSafe(select.as_str()))
            .bind(year)
            .fetch_all(&mut **tx)
            .await?;
        let mut sums = Vec::with_capacity(rows.len());
        for r in rows {
            let facts: Vec<u8> = r.try_get(1)?;
            sums.push((r.try_get(0)?, of_facts(&facts)?));
        }
        backend
            .write_kept(tx, crate::backend::Kept::Sums, year as i32, sums)
            .await?;
    }
    Ok(())
}

/// A year's kept sums by village, read natively on SQLite and as one joined value on PostgreSQL;
/// and the villages with entry facts but no sums kept (which the write never leaves; read whole
/// rather than misjudged).
pub(crate) async fn read(
    conn: &mut sqlx::AnyConnection,
    backend: crate::backend::Backend,
    year: i32,
) -> Result<(FastMap<RegionCode, EntrySums>, Vec<RegionCode>), StoreError> {
    let rows = crate::backend::reads::kept(conn, backend, crate::backend::Kept::Sums, year).await?;
    let mut out = FastMap::with_capacity_and_hasher(rows.len(), Default::default());
    let mut missing = Vec::new();
    for (village, bytes) in rows {
        let code = crate::kept::code_of_number(village)?;
        if bytes.is_empty() {
            missing.push(code);
            continue;
        }
        let sums = decode(&bytes)
            .map_err(|e| StoreError::Corrupt(format!("数据库中的分录合计有误：{e}")))?;
        out.insert(code, sums);
    }
    Ok((out, missing))
}

/// Every kept sum, by village and year (for the audit's check against the entries); a sum that
/// cannot be read is left out, so that its village-year is listed as differing.
pub(crate) async fn all(
    pool: &sqlx::AnyPool,
    backend: crate::backend::Backend,
) -> Result<std::collections::BTreeMap<(String, i32), EntrySums>, StoreError> {
    // As bytes whatever SQLite holds (a value changed by hand may have become text).
    let sql = backend.dialect().all_sums;
    let rows = sqlx::query(sql).fetch_all(pool).await?;
    let mut out = std::collections::BTreeMap::new();
    for r in rows {
        let key = (r.try_get(0)?, r.try_get::<i64, _>(1)? as i32);
        if let Ok(sums) = decode(&r.try_get::<Vec<u8>, _>(2)?) {
            out.insert(key, sums);
        }
    }
    Ok(out)
}

/// The villages whose facts the alerts under `settings` read: those whose sums say so, and those
/// without sums, in code order.
pub(crate) fn villages_to_read(
    sums: &FastMap<RegionCode, EntrySums>,
    missing: Vec<RegionCode>,
    settings: &AlertSettings,
) -> Vec<String> {
    let needed = sums.iter().filter(|(_, s)| s.needs_entries(settings));
    let mut out: Vec<String> = missing
        .iter()
        .chain(needed.map(|(v, _)| v))
        .map(|v| v.to_string())
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sums_read_back_as_written(
            december in any::<i64>(),
            income in any::<i64>(),
            round in proptest::array::uniform9((any::<i64>(), any::<u64>())),
            answered in any::<bool>(),
        ) {
            let f = Fen::from_fen;
            let round = round.map(|(sum, n)| (f(sum), n));
            let s = EntrySums { december_operating: f(december), income: f(income), round, answered };
            prop_assert_eq!(decode(&encode(&s)), Ok(s));
        }

        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&bytes);
        }
    }

    #[test]
    fn damaged_sums_are_refused() {
        let good = encode(&EntrySums::default());
        assert_eq!(good.len(), 1 + 2 + 18 + 1);
        assert!(decode(&good[..good.len() - 1]).is_err());
        assert!(decode(&[good.as_slice(), &[0]].concat()).is_err());
        assert!(decode(&[[2].as_slice(), &good[1..]].concat()).is_err());
    }
}
