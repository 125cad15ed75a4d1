//! The entry facts: for each village and year, what the alerts read of its entries, in date order
//! (date, account, amount, voucher, reversal; stored as `fact_rows` describes). Kept in the
//! transaction that writes the entries, so a province's report reads one row per village instead of
//! every entry of the year.

use std::borrow::Cow;
use std::collections::BTreeMap;

use cunji_core::alerts::{EntryFact, EntrySums};
use cunji_core::date::Date;
use cunji_core::money::Fen;
use cunji_core::region::RegionCode;
use cunji_core::report::VillageEntries;
use sqlx::Row;

use crate::db::StoreError;
use crate::entry_rows::NewEntry;
use crate::fast_hash::FastMap;

/// Villages a statement looks up or writes at once.
pub(crate) const VILLAGES_PER_STATEMENT: usize = 5_000;

/// A year's kept facts, as stored for each village, parsed when asked for: every village's, or
/// (for one policy's report) the kept sums of every village and the facts of those whose alerts
/// read them.
pub struct YearFacts {
    pub(crate) year: i32,
    pub(crate) villages: FastMap<RegionCode, Vec<u8>>,
    /// The kept sums of every village, when `villages` holds only those the alerts read.
    pub(crate) sums: Option<FastMap<RegionCode, EntrySums>>,
}

impl YearFacts {
    /// No village's facts, for a load that reads no entries.
    pub(crate) fn none(year: i32) -> YearFacts {
        YearFacts {
            year,
            villages: Default::default(),
            sums: None,
        }
    }
}

impl cunji_core::report::EntrySource for YearFacts {
    fn entries_of(&self, village: &RegionCode) -> Result<VillageEntries<'_>, String> {
        if let Some(text) = self.villages.get(village) {
            let facts = parse(text, self.year).map_err(|e| e.to_string())?;
            return Ok(VillageEntries::whole(Cow::Owned(facts)));
        }
        match self.sums.as_ref().and_then(|all| all.get(village)) {
            Some(sums) => Ok(VillageEntries {
                sums: *sums,
                entries: None,
            }),
            None => Ok(VillageEntries::whole(Cow::Borrowed(&[]))),
        }
    }
}

impl YearFacts {
    /// How many villages' entries were read whole (every village's, unless read for one policy).
    pub fn villages_read(&self) -> usize {
        self.villages.len()
    }

    /// Every village's facts, parsed (for checks and tests).
    pub fn parsed(&self) -> Result<BTreeMap<RegionCode, Vec<EntryFact<'static>>>, StoreError> {
        self.villages
            .iter()
            .map(|(v, text)| {
                let facts = parse(text, self.year)?;
                Ok((
                    v.clone(),
                    facts.into_iter().map(EntryFact::into_owned).collect(),
                ))
            })
            .collect()
    }
}

/// Parses the stored facts of a village's `year`, texts borrowed from `bytes`.
pub(crate) fn parse(bytes: &[u8], year: i32) -> Result<Vec<EntryFact<'_>>, StoreError> {
    let mut out = Vec::with_capacity(bytes.len() / 16);
    crate::fact_rows::each_row(bytes, |(md, account, amount, voucher, reverses)| {
        let (month, day) = ((md / 100) as u8, (md % 100) as u8);
        let date = Date::from_ymd(year, month, day).ok_or_else(|| format!("日期 {md}"))?;
        let account = crate::account_numbers::account(account as i64)
            .ok_or_else(|| format!("科目 {account}"))?;
        out.push(EntryFact {
            date,
            account,
            amount: Fen::from_fen(amount),
            voucher,
            reverses,
        });
        Ok(())
    })
    .map_err(|what| StoreError::Corrupt(format!("数据库中的分录摘要有误：{what}")))?;
    Ok(out)
}

/// The facts of an import's rows, by (year, village number), built as rows are checked: each
/// village-year's array is written out as its rows come, and taken (`take_settled`) to be merged
/// with what is stored and written once its village is done.
#[derive(Default)]
pub(crate) struct FactsBuilder {
    by: FastMap<(i32, u32), FactText>,
    /// Village-years this import has written facts of already.
    written: crate::fast_hash::FastSet<(i32, u32)>,
}

/// One village-year's new facts, as stored rows (without the version byte).
#[derive(Default)]
pub(crate) struct FactText {
    rows: Vec<u8>,
    /// Each row's date (month*100+day) and where its text ends, while rows come in date order
    /// they are not needed.
    spans: Vec<(u16, u32)>,
    last: u16,
    /// Rows came in date order (files usually do): the text is written as it is.
    sorted: bool,
}

impl FactsBuilder {
    pub fn add(&mut self, village: u32, e: &NewEntry) {
        let md = e.date.month() as u16 * 100 + e.date.day() as u16;
        let t = self.by.entry((e.date.year(), village)).or_insert(FactText {
            sorted: true,
            ..FactText::default()
        });
        crate::fact_rows::push_row(
            &mut t.rows,
            md,
            crate::account_numbers::number(e.account),
            e.amount,
            e.voucher.as_deref(),
            e.reverses.as_deref(),
        );
        t.spans.push((md, t.rows.len() as u32));
        t.sorted &= md >= t.last;
        t.last = md;
    }

    /// Takes the facts of every village but `open` (the village rows are still coming for), with
    /// the villages' names from `names` (by number). `stored` tells whether the database held
    /// entries of a village-year before this import: only those, and the ones this import has
    /// written already, have facts to merge with.
    pub fn take_settled(
        &mut self,
        open: Option<u32>,
        names: &[String],
        stored: &dyn Fn(&str, i32) -> bool,
    ) -> Vec<NewFacts> {
        let taken: Vec<_> = self.by.extract_if(|(_, v), _| Some(*v) != open).collect();
        taken
            .into_iter()
            .map(|((year, v), text)| {
                let village = names[v as usize].clone();
                let merge = !self.written.insert((year, v)) || stored(&village, year);
                NewFacts {
                    year,
                    village,
                    text,
                    merge,
                }
            })
            .collect()
    }
}

/// New facts of a village-year, to be merged with what is stored.
pub(crate) struct NewFacts {
    year: i32,
    village: String,
    text: FactText,
    /// Whether facts of the village-year may be stored already.
    merge: bool,
}

/// Writes new facts, each merged with what is stored of its village-year (which may hold facts
/// this transaction wrote earlier, when a village's rows come in more than one run).
pub(crate) async fn write_facts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: crate::backend::Backend,
    mut facts: Vec<NewFacts>,
) -> Result<(), sqlx::Error> {
    let select = facts_of_villages(backend);
    facts.sort_unstable_by(|a, b| (a.year, &a.village).cmp(&(b.year, &b.village)));
    let mut keys = facts.into_iter().peekable();
    // Each part's texts are merged (and summed) while the previous part is written.
    let mut merged: Option<(i32, Merged)> = None;
    while let Some(first) = keys.next() {
        let year = first.year;
        let mut part = vec![first];
        while part.len() < VILLAGES_PER_STATEMENT {
            match keys.next_if(|k| k.year == year) {
                Some(k) => part.push(k),
                None => break,
            }
        }
        let villages: Vec<&str> = part
            .iter()
            .filter(|k| k.merge)
            .map(|k| k.village.as_str())
            .collect();
        let mut stored: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        if !villages.is_empty() {
            let names = serde_json::to_string(&villages).expect("plain strings");
            for r in sqlx::query(sqlx::AssertSqlSafe(select.as_str()))
                .bind(year)
                .bind(names)
                .fetch_all(&mut **tx)
                .await?
            {
                stored.insert(r.try_get(0)?, r.try_get(1)?);
            }
        }
        let write = async {
            match merged.take() {
                Some((y, out)) => write_merged(tx, backend, y, out).await,
                None => Ok(()),
            }
        };
        let merge = async {
            let mut out = Merged::default();
            for new in part {
                let text = merge(stored.remove(&new.village), new.text)
                    .map_err(|e| sqlx::Error::Decode(e.into()))?;
                let sums = crate::entry_sums::of_facts(&text)
                    .map_err(|e| sqlx::Error::Decode(e.to_string().into()))?;
                out.sums.push((new.village.clone(), sums));
                out.facts.push((new.village, text));
            }
            Ok::<_, sqlx::Error>(out)
        };
        let (written, out) = tokio::join!(write, merge);
        written?;
        merged = Some((year, out?));
    }
    if let Some((y, out)) = merged {
        write_merged(tx, backend, y, out).await?;
    }
    Ok(())
}

/// A part's merged facts and their sums, by village.
#[derive(Default)]
struct Merged {
    facts: Vec<VillageFacts>,
    sums: Vec<VillageFacts>,
}

async fn write_merged(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: crate::backend::Backend,
    year: i32,
    out: Merged,
) -> Result<(), sqlx::Error> {
    use crate::backend::Kept;
    backend.write_kept(tx, Kept::Facts, year, out.facts).await?;
    backend.write_kept(tx, Kept::Sums, year, out.sums).await
}

/// The facts of a year (`$1`) of the villages named in a JSON array (`$2`).
pub(crate) fn facts_of_villages(backend: crate::backend::Backend) -> String {
    let dialect = backend.dialect();
    format!(
        "SELECT village, {} FROM entry_facts WHERE year = $1 AND village IN ({})",
        dialect.facts_column, dialect.texts_of_param_2
    )
}

/// A village-year's stored facts (in (date, id) order) followed by new ones, in date order.
fn merge(stored: Option<Vec<u8>>, new: FactText) -> Result<Vec<u8>, String> {
    // Rows by date; a stable sort keeps rows of one date in the order they were stored, and new
    // entries' ids are larger than stored ones', as in the entries table.
    let mut spans: Vec<(u16, usize, usize)> = Vec::with_capacity(new.spans.len());
    let mut start = 0;
    for (md, end) in &new.spans {
        spans.push((*md, start, *end as usize));
        start = *end as usize;
    }
    if !new.sorted {
        spans.sort_by_key(|s| s.0);
    }
    let mut bytes = Vec::with_capacity(new.rows.len() + 1);
    bytes.push(crate::fact_rows::VERSION);
    for (_, a, b) in &spans {
        bytes.extend_from_slice(&new.rows[*a..*b]);
    }
    let Some(stored) = stored else {
        return Ok(bytes);
    };
    let mut rows = crate::fact_rows::decode(&stored)?;
    rows.extend(crate::fact_rows::decode(&bytes)?);
    rows.sort_by_key(|a| a.0);
    Ok(crate::fact_rows::encode(&rows))
}

/// A village and its facts as stored.
pub(crate) use crate::backend::VillageFacts;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fact_rows::FactRow;
    use crate::short_text::ShortText;
    use cunji_core::account::Account;
    use proptest::prelude::*;

    fn entry(month: u8, day: u8, account: usize, amount: i64, voucher: Option<String>) -> NewEntry {
        NewEntry {
            line: 0,
            village: "110101001001".into(),
            date: Date::from_ymd(2024, month, day).expect("a real day"),
            account: Account::ALL[account % Account::ALL.len()],
            amount,
            voucher: voucher.map(ShortText::from),
            memo: String::new(),
            project: None,
            reverses: None,
        }
    }

    proptest! {
        /// Rows in any date order, added to any stored facts, come out as the stored rows and then
        /// the new ones, stably sorted by date: what the entries table gives in (date, id) order.
        #[test]
        fn merged_facts_are_stored_then_new_rows_stably_by_date(
            stored in proptest::collection::vec((1u8..=12, 1u8..=28, 0usize..12, -10_000i64..10_000), 0..20),
            new in proptest::collection::vec((1u8..=12, 1u8..=28, 0usize..12, -10_000i64..10_000, proptest::option::of("[a-z记\\-\"0-9]{1,6}")), 1..40),
            stored_as_json in any::<bool>(),
        ) {
            let stored_rows: Vec<FactRow> = {
                let mut rows: Vec<FactRow> = stored
                    .iter()
                    .map(|(m, d, a, amt)| (*m as u16 * 100 + *d as u16, (*a % 12) as u8, *amt, None, None))
                    .collect();
                rows.sort_by_key(|r| r.0);
                rows
            };
            // Stored by this version, or as the JSON of earlier ones.
            let stored_bytes = (!stored_rows.is_empty()).then(|| if stored_as_json {
                serde_json::to_vec(&stored_rows).unwrap()
            } else {
                crate::fact_rows::encode(&stored_rows)
            });
            let mut builder = FactsBuilder::default();
            for (m, d, a, amt, v) in &new {
                builder.add(0, &entry(*m, *d, *a, *amt, v.clone()));
            }
            let text = builder.by.into_values().next().unwrap();
            let merged = merge(stored_bytes, text).unwrap();
            prop_assert_eq!(merged[0], crate::fact_rows::VERSION);
            let got = crate::fact_rows::decode(&merged).unwrap();
            let mut want = stored_rows.clone();
            want.extend(new.iter().map(|(m, d, a, amt, v)| {
                let e = entry(*m, *d, *a, *amt, v.clone());
                (*m as u16 * 100 + *d as u16, crate::account_numbers::number(e.account), *amt, v.clone(), None)
            }));
            want.sort_by_key(|r| r.0);
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn facts_read_back() {
        let stored = crate::fact_rows::encode(&[
            (1231, 8, -1500, Some("记-9".into()), None),
            (101, 3, 7, None, Some("2023:记-1".into())),
        ]);
        let facts = parse(&stored, 2024).unwrap();
        assert_eq!(facts[0].date.iso(), "2024-12-31");
        assert_eq!(facts[0].account, Account::AdminExpense);
        assert_eq!(facts[0].amount, Fen::from_fen(-1500));
        assert_eq!(facts[1].account, Account::SubsidyIncome);
        assert_eq!(facts[1].reverses.as_deref(), Some("2023:记-1"));
        assert!(parse(b"[[1301,0,1,null,null]]", 2024).is_err());
        assert!(parse(b"[[101,12,1,null,null]]", 2024).is_err());
        assert!(parse(&crate::fact_rows::encode(&[(101, 12, 1, None, None)]), 2024).is_err());
    }
}
