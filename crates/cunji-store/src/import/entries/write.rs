//! Storing checked entries: batches bound natively on SQLite (or as one JSON text on PostgreSQL),
//! and what they add to the kept figures (totals, project income, entry facts), the proposals they
//! send back, and the hash their audit row holds.

use std::collections::BTreeMap;

use cunji_core::account::Account;
use sqlx::Row;

use super::{NewEntry, BATCH_ROWS};
use crate::backend::Backend;
use crate::fast_hash::FastMap;
use crate::import::Progress;

/// The hash of entries as they will be stored, which their audit row holds.
pub(crate) fn entries_hash(entries: &[NewEntry], source: &str) -> String {
    let mut h = EntryHasher::new(source);
    for e in entries {
        h.add(e);
    }
    h.finish()
}

/// The SHA-256 of entries' canonical lines, fed a row at a time.
pub(crate) struct EntryHasher {
    sha: sha2::Sha256,
    line: String,
    source: String,
}

impl EntryHasher {
    pub fn new(source: &str) -> EntryHasher {
        use sha2::Digest;
        EntryHasher {
            sha: sha2::Sha256::new(),
            line: String::new(),
            source: source.to_string(),
        }
    }

    pub fn add(&mut self, e: &NewEntry) {
        use sha2::Digest;
        self.line.clear();
        let bytes = e.date.iso_bytes();
        let owned;
        let iso = match &bytes {
            Some(b) => std::str::from_utf8(b).unwrap_or_default(),
            None => {
                owned = e.date.iso();
                &owned
            }
        };
        crate::audit::push_entry_line(
            &mut self.line,
            &e.village,
            e.date.year() as i64,
            iso,
            e.account.key(),
            e.amount,
            e.voucher.as_deref(),
            &e.memo,
            e.project.as_deref(),
            e.reverses.as_deref(),
            &self.source,
        );
        self.sha.update(self.line.as_bytes());
    }

    pub fn finish(self) -> String {
        use sha2::Digest;
        crate::hex(&self.sha.finalize())
    }
}

/// What entries add to the kept figures, gathered row by row and written after the last: totals by
/// village, year and account; income by project; the entry facts; the villages touched (for
/// proposals to recompute); and the hash of the rows for their audit row.
pub(crate) struct EntryTally {
    hasher: EntryHasher,
    rows: u64,
    /// Villages numbered as first met, and the last one met (files come sorted by village).
    numbers: FastMap<String, u32>,
    names: Vec<String>,
    last: Option<u32>,
    /// What the rows add to each kept total (exact: the checker holds the file's totals to `i64`
    /// only as a whole, at the end), and how many rows.
    totals: FastMap<(u32, i32, Account), (i128, i64)>,
    projects: BTreeMap<(String, i32), i128>,
    facts: crate::facts::FactsBuilder,
    /// The earliest year touched, by village number.
    first_year: Vec<i32>,
}

impl EntryTally {
    pub fn new(source: &str) -> EntryTally {
        EntryTally {
            hasher: EntryHasher::new(source),
            rows: 0,
            numbers: FastMap::default(),
            names: Vec::new(),
            last: None,
            totals: FastMap::default(),
            projects: BTreeMap::new(),
            facts: Default::default(),
            first_year: Vec::new(),
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn add(&mut self, e: &NewEntry) {
        self.rows += 1;
        self.hasher.add(e);
        let v = match self.last {
            Some(n) if self.names[n as usize] == e.village => n,
            _ => {
                let next = self.names.len() as u32;
                let n = *self.numbers.entry(e.village.to_string()).or_insert(next);
                if n == next {
                    self.names.push(e.village.to_string());
                    self.first_year.push(e.date.year());
                }
                self.last = Some(n);
                n
            }
        };
        let first = &mut self.first_year[v as usize];
        *first = (*first).min(e.date.year());
        let t = self
            .totals
            .entry((v, e.date.year(), e.account))
            .or_default();
        t.0 += e.amount as i128;
        t.1 += 1;
        if let (Some(p), true) = (&e.project, e.account.is_income()) {
            *self.projects.entry((p.clone(), e.date.year())).or_default() += e.amount as i128;
        }
        self.facts.add(v, e);
    }

    /// Takes what the rows of every village but the last one met add to the kept figures: files
    /// come sorted by village, so these are written while later rows are still being read. A
    /// village whose rows come back later is simply settled again (totals add up; facts merge
    /// with what was written).
    ///
    /// `stored` tells whether the database held entries of a village-year before this import.
    ///
    /// `totals_fit` says whether every running total of the file fits `i64` now: when one does not
    /// (a file may pass above the bound and come back), no totals are settled until they all do
    /// again, so that the database never holds a total beyond its BIGINT.
    pub fn settle(&mut self, stored: &dyn Fn(&str, i32) -> bool, totals_fit: bool) -> Settled {
        self.settle_except(self.last, stored, totals_fit)
    }

    fn settle_except(
        &mut self,
        open: Option<u32>,
        stored: &dyn Fn(&str, i32) -> bool,
        totals_fit: bool,
    ) -> Settled {
        let names = &self.names;
        let mut totals: Vec<TotalRow> = Vec::new();
        let mut second: Vec<TotalRow> = Vec::new();
        if totals_fit {
            for ((v, y, a), (amount, n)) in self.totals.extract_if(|(v, _, _), _| Some(*v) != open)
            {
                let name = names[v as usize].clone();
                // What is added lies between two totals that fit `i64`, so it fits in two halves:
                // after the first the kept total is between them, and fits too.
                match i64::try_from(amount) {
                    Ok(amount) => totals.push((name, y, a, amount, n)),
                    Err(_) => {
                        let half = amount / 2;
                        totals.push((name.clone(), y, a, half as i64, n));
                        second.push((name, y, a, (amount - half) as i64, 0));
                    }
                }
            }
        }
        let order =
            |x: &TotalRow, y: &TotalRow| (&x.0, x.1, x.2.key()).cmp(&(&y.0, y.1, y.2.key()));
        totals.sort_unstable_by(order);
        second.sort_unstable_by(order);
        Settled {
            totals,
            second,
            facts: self.facts.take_settled(open, names, stored),
        }
    }

    /// Writes what is not written yet of the totals, facts and project income, and sends back the
    /// proposals of the villages touched; returns the hash of the rows.
    pub async fn write(
        mut self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        backend: Backend,
        actor: &str,
        audit_id: i64,
    ) -> Result<String, sqlx::Error> {
        use crate::timing::timed;
        // The checker refused the file unless every total fits by now.
        let last = self.settle_except(None, &|_, _| true, true);
        timed("last village", last.write(tx, backend)).await?;
        let villages = self.names.iter().map(String::as_str);
        timed(
            "audit villages",
            crate::backend::touch(tx, audit_id, villages),
        )
        .await?;
        let touched: Vec<(String, i32)> = self
            .names
            .iter()
            .cloned()
            .zip(self.first_year.iter().copied())
            .collect();
        timed("send back", send_back_touched(tx, touched, actor)).await?;
        let projects: Vec<(String, i32, i64)> = self
            .projects
            .into_iter()
            // A project's income of a year is a sum of income entries of one village's totals,
            // each within `i64` once checked; a sum beyond it is clamped rather than wrapped.
            .map(|((p, y), amount)| {
                (
                    p,
                    y,
                    amount.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
                )
            })
            .collect();
        if !projects.is_empty() {
            timed("projects", backend.write_project_totals(tx, projects)).await?;
        }
        Ok(self.hasher.finish())
    }
}

pub(crate) use crate::entry_rows::TotalRow;

/// What settled villages' rows add to the kept totals and entry facts.
pub(crate) struct Settled {
    totals: Vec<TotalRow>,
    /// The second halves of additions too large for one `i64` (written after `totals`).
    second: Vec<TotalRow>,
    facts: Vec<crate::facts::NewFacts>,
}

impl Settled {
    pub async fn write(
        self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        backend: Backend,
    ) -> Result<(), sqlx::Error> {
        if !self.totals.is_empty() {
            backend.write_totals(tx, self.totals).await?;
        }
        if !self.second.is_empty() {
            backend.write_totals(tx, self.second).await?;
        }
        crate::facts::write_facts(tx, backend, self.facts).await
    }
}

/// Stores batches of entries in the caller's transaction, as rows of one write (`entry_writes`:
/// what they share is kept once there).
pub(crate) struct BatchWriter {
    write_id: i64,
    backend: Backend,
}

impl BatchWriter {
    /// Records the write: the audit row and import it belongs to, its source, actor and time.
    pub async fn start(
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        backend: Backend,
        import_id: Option<i64>,
        audit_id: i64,
        source: &str,
        actor: &str,
    ) -> Result<BatchWriter, sqlx::Error> {
        let write_id: i64 = sqlx::query(
            "INSERT INTO entry_writes (audit_id, source, import_id, actor, at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(audit_id)
        .bind(source)
        .bind(import_id)
        .bind(actor)
        .bind(crate::now())
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
        Ok(BatchWriter { write_id, backend })
    }

    pub async fn write(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        entries: Vec<NewEntry>,
    ) -> Result<(), sqlx::Error> {
        self.backend.write_entries(tx, self.write_id, entries).await
    }
}

/// Stores entries (already checked) and updates the kept figures, inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn write_entries(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    import_id: Option<i64>,
    audit_id: i64,
    entries: &[NewEntry],
    source: &str,
    actor: &str,
    progress: &dyn Progress,
) -> Result<(), sqlx::Error> {
    progress.phase("写入", entries.len() as u64);
    let writer = BatchWriter::start(tx, backend, import_id, audit_id, source, actor).await?;
    let mut tally = EntryTally::new(source);
    for chunk in entries.chunks(BATCH_ROWS) {
        for e in chunk {
            tally.add(e);
        }
        writer.write(tx, chunk.to_vec()).await?;
        progress.advance(chunk.len() as u64);
    }
    progress.phase("合计", 0);
    tally.write(tx, backend, actor, audit_id).await?;
    Ok(())
}

/// New figures send unsettled reward proposals of the villages touched (and the villages they were
/// merged into) back to be recomputed.
async fn send_back_touched(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    touched: Vec<(String, i32)>,
    actor: &str,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "SELECT COUNT(*) FROM proposals WHERE {}",
        crate::workflow::open_status_sql()
    );
    let open: i64 = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    if open == 0 {
        return Ok(());
    }
    let mut touched: BTreeMap<String, i32> = touched.into_iter().collect();
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
    crate::workflow::mark_stale(tx, &list, actor).await
}
