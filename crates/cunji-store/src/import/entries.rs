//! Importing entries (SPEC §3, §9): append-only, with red-ink corrections, reversals of a specific
//! voucher, closed years, merged villages and subsidy projects checked against the stored state.
//! The kept totals are updated in the same transaction.

mod check;
pub(crate) mod write;

use cunji_core::account::{Account, Chart};
use cunji_core::date::Date;
use cunji_core::money::Fen;

pub(crate) use check::{placeholders, Context, FileState};
pub(crate) use write::{entries_hash, write_entries, BatchWriter, EntryTally, Settled};

use super::{amend_import, record_import, ImportError, ImportOutcome, Job};
use crate::db::Store;
use crate::short_text::ShortText;
use crate::table::{RowError, RowErrors, Sheet, TableReader};
use cunji_core::columns::ENTRIES as COLUMNS;

pub(crate) use crate::entry_rows::{NewEntry, BATCH_ROWS};

/// Checked batches waiting for the writer at most: the memory of a few batches.
const BATCHES_AHEAD: usize = 3;

/// Rows checked between chances for the batch being written to take its next step.
const YIELD_EVERY: usize = 512;

pub(super) async fn import(job: &Job<'_>, bytes: &[u8]) -> Result<ImportOutcome, ImportError> {
    let (store, meta, progress) = (job.store, job.meta, job.progress);
    let mut reader = TableReader::open(meta.file_name, bytes, &COLUMNS, None)?;
    let columns = EntryColumns::of(reader.sheet());
    let lines = if bytes.starts_with(b"PK") {
        0
    } else {
        bytes.iter().filter(|b| **b == b'\n').count() as u64
    };
    let mut check = Checker {
        ctx: crate::timing::timed("stored state", Context::base(store))
            .await?
            .within(meta.scope),
        state: FileState::default(),
        errors: RowErrors::new(),
        tally: EntryTally::new("entry"),
        batch_rows: store.backend.dialect().entry_batch_rows,
        receipts: Receipts::load(store).await?,
    };
    let mut bulk = store.bulk_connection().await?;
    // Given back however the import ends: a refused file leaves the connection as it found it.
    let outcome: Result<ImportOutcome, ImportError> = async {
        let mut tx = Store::begin_write_on(&mut bulk.conn).await?;
        // The import's own rows come first, as its entries point at them; they are completed once the
        // last row is counted and hashed.
        let (import_id, audit_id) = record_import(&mut tx, meta, 0, "", Some("")).await?;
        let writer = BatchWriter::start(
            &mut tx,
            store.backend,
            Some(import_id),
            audit_id,
            "entry",
            meta.actor,
        )
        .await?;
        progress.phase("导入", lines);
        // The checker runs ahead of the writer by up to `BATCHES_AHEAD` batches: checking and storing
        // each take their own time per batch, and neither waits for the other's slow batch.
        let (send, receive) = tokio::sync::mpsc::channel(BATCHES_AHEAD);
        let (checked, written) = tokio::join!(
            check.run(&mut reader, &columns, progress, send),
            store_batches(&mut tx, store.backend, &writer, receive),
        );
        written?;
        checked?;
        check.state.check_totals(reader.sheet(), &mut check.errors);
        reader.finish()?;
        if !check.errors.is_empty() {
            let mut errors = check.errors;
            errors.sort_by_line();
            return Err(ImportError::Rows(errors));
        }
        progress.phase("合计", 0);
        check.receipts.write(&mut tx, import_id, audit_id).await?;
        let n = check.tally.rows();
        let record = check
            .tally
            .write(&mut tx, store.backend, meta.actor, audit_id)
            .await?;
        amend_import(&mut tx, meta, (import_id, audit_id), n, "", &record).await?;
        progress.phase("提交", 0);
        tx.commit().await?;
        Ok(ImportOutcome::Stored {
            rows: n,
            unchanged: 0,
        })
    }
    .await;
    store.release_bulk_connection(bulk).await;
    outcome
}

/// The checking side of an import: the stored state, what earlier rows claimed, the problems found
/// and what the accepted rows add up to.
struct Checker {
    ctx: Context,
    state: FileState,
    /// The first errors found and the count of all (a file of millions of bad rows keeps no more).
    errors: RowErrors,
    tally: EntryTally,
    batch_rows: usize,
    /// Receipts on contracts (the `contract` column, SPEC §16), checked against these.
    receipts: Receipts,
}

/// Stores the checked batches as they come, until the checker is done (or finds a bad row).
async fn store_batches(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: crate::backend::Backend,
    writer: &BatchWriter,
    mut checked: tokio::sync::mpsc::Receiver<(Vec<NewEntry>, Settled)>,
) -> Result<(), ImportError> {
    while let Some((batch, settled)) = checked.recv().await {
        writer.write(tx, batch).await?;
        settled.write(tx, backend).await?;
    }
    Ok(())
}

impl Checker {
    /// Checks every row, handing the batches to store to `send` until the first bad row: after it
    /// nothing more is stored, and the rest is still checked so that every problem is reported at
    /// once. Stops early only when the writer has stopped (its error is the import's).
    async fn run(
        &mut self,
        reader: &mut TableReader<'_>,
        columns: &EntryColumns,
        progress: &dyn super::Progress,
        send: tokio::sync::mpsc::Sender<(Vec<NewEntry>, Settled)>,
    ) -> Result<(), ImportError> {
        while let Some((batch, settled)) = self.next_batch(reader, columns).await? {
            progress.advance(batch.len() as u64);
            if self.errors.is_empty()
                && reader.is_sound()
                && send.send((batch, settled)).await.is_err()
            {
                break;
            }
        }
        Ok(())
    }

    /// Reads and checks the next batch of rows, with what the villages it finished add to the
    /// kept figures; `None` after the last.
    async fn next_batch(
        &mut self,
        reader: &mut TableReader<'_>,
        columns: &EntryColumns,
    ) -> Result<Option<(Vec<NewEntry>, Settled)>, ImportError> {
        let mut batch = Vec::with_capacity(self.batch_rows);
        // The contract each entry names, beside the batch (most entries name none).
        let mut named: Vec<(usize, String)> = Vec::new();
        while batch.len() < self.batch_rows {
            let Some((sheet, row)) = reader.next_row() else {
                break;
            };
            let contract = columns.get(row, CONTRACT);
            match parse_with(columns, sheet, row) {
                Ok(e) => {
                    if !contract.is_empty() || e.reverses.is_some() {
                        named.push((batch.len(), contract.to_string()));
                    }
                    batch.push(e)
                }
                Err(mut e) => self.errors.append(&mut e),
            }
        }
        if batch.is_empty() {
            return Ok(None);
        }
        self.ctx
            .load_stored_of(batch.iter().map(|e| (e.village.as_str(), e.date.year())))
            .await?;
        let sheet = reader.sheet();
        for (i, e) in batch.iter().enumerate() {
            if i % YIELD_EVERY == YIELD_EVERY - 1 {
                // The write of the previous batch is several statements; between them it needs
                // this thread for a moment, and would otherwise wait for the whole batch.
                tokio::task::yield_now().await;
            }
            self.ctx
                .check(sheet, e, &mut self.state, &mut self.errors)
                .await?;
            if self.errors.is_empty() {
                self.tally.add(e);
            }
        }
        for (i, contract) in named {
            if contract.is_empty() {
                // A reversal of a receipt takes back what that receipt gave its contract.
                self.receipts.inherit(&batch[i]);
            } else {
                self.receipts
                    .check(sheet, &batch[i], contract, &mut self.errors);
            }
        }
        let ctx = &self.ctx;
        let settled = self.tally.settle(
            &|village, year| ctx.has_stored(village, year),
            self.state.totals_fit(),
        );
        Ok(Some((batch, settled)))
    }
}

/// Positions of the entry columns in a sheet, found once a file.
pub(crate) struct EntryColumns([Option<usize>; 10]);

const VILLAGE: usize = 0;
const DATE: usize = 1;
const ACCOUNT: usize = 2;
const AMOUNT: usize = 3;
const VOUCHER: usize = 4;
const MEMO: usize = 5;
const PROJECT: usize = 6;
const REVERSES: usize = 7;
const CHART: usize = 8;
const CONTRACT: usize = 9;

impl EntryColumns {
    pub fn of(sheet: &Sheet) -> EntryColumns {
        EntryColumns(COLUMNS.map(|c| sheet.column(c.key)))
    }

    /// The trimmed cell, or "" when the file has no such column.
    fn get<'r>(&self, row: &'r crate::table::Row, column: usize) -> &'r str {
        self.0[column]
            .and_then(|i| row.cells.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    }
}

pub(crate) fn parse_row(sheet: &Sheet, row: &crate::table::Row) -> Result<NewEntry, Vec<RowError>> {
    parse_with(&EntryColumns::of(sheet), sheet, row)
}

fn parse_with(
    columns: &EntryColumns,
    sheet: &Sheet,
    row: &crate::table::Row,
) -> Result<NewEntry, Vec<RowError>> {
    let line = row.line;
    let get = |c: usize| columns.get(row, c);
    let mut errors = Vec::new();
    let village = ShortText::new(get(VILLAGE));
    if village.is_empty() {
        errors.push(sheet.error(line, "village", "村代码不能为空"));
    }
    let date = Date::parse_file(get(DATE))
        .map_err(|e| errors.push(sheet.error(line, "date", e)))
        .ok();
    let chart_text = get(CHART);
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
    let account = Account::parse(get(ACCOUNT), chart)
        .map_err(|e| errors.push(sheet.error(line, "account", e)))
        .ok();
    let amount = Fen::parse_yuan(get(AMOUNT))
        .map_err(|e| errors.push(sheet.error(line, "amount", e.to_string())))
        .ok();
    let opt = |c: usize| Some(get(c).to_string()).filter(|s| !s.is_empty());
    for (key, c) in [("memo", MEMO), ("project", PROJECT), ("voucher", VOUCHER)] {
        if let Err(m) = crate::table::check_text(get(c)) {
            errors.push(sheet.error(line, key, m));
        }
    }
    let reverses = opt(REVERSES);
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
        amount: amount.fen(),
        voucher: Some(get(VOUCHER))
            .filter(|s| !s.is_empty())
            .map(ShortText::new),
        memo: get(MEMO).to_string(),
        project: opt(PROJECT),
        reverses,
    })
}

/// The receipts an entries file makes on contracts (SPEC §16): each entry naming a contract of its
/// own village, on an income account, dated from the signing to a year after the end. They are
/// stored beside the entries, in the same transaction, under the same import.
struct Receipts {
    contracts: std::collections::HashMap<(String, String), cunji_core::contracts::Contract>,
    /// The contract of each receipt with a voucher (stored, or earlier in the file), by village,
    /// year and voucher: a reversal (`reverses = YEAR:VOUCHER`) of one counts against its contract.
    by_voucher: std::collections::HashMap<(String, String), String>,
    accepted: Vec<(NewEntry, String)>,
}

impl Receipts {
    async fn load(store: &Store) -> Result<Receipts, ImportError> {
        let book = store.load_contracts().await?;
        let contracts = book
            .villages
            .into_iter()
            .flat_map(|(v, data)| {
                data.contracts
                    .into_iter()
                    .map(move |c| ((v.as_str().to_string(), c.id().to_string()), c))
            })
            .collect();
        let mut by_voucher = std::collections::HashMap::new();
        for r in sqlx::query(
            "SELECT village, year, voucher, contract_id FROM contract_receipts WHERE voucher IS NOT NULL",
        )
        .fetch_all(&store.pool)
        .await?
        {
            use sqlx::Row;
            let (village, year, voucher): (String, i64, String) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            by_voucher.insert((village, format!("{year}:{voucher}")), r.try_get(3)?);
        }
        Ok(Receipts {
            contracts,
            by_voucher,
            accepted: Vec::new(),
        })
    }

    fn remember(&mut self, e: &NewEntry, contract: &str) {
        if let Some(v) = &e.voucher {
            self.by_voucher.insert(
                (
                    e.village.as_str().to_string(),
                    format!("{}:{}", e.date.year(), v.as_str()),
                ),
                contract.to_string(),
            );
        }
    }

    /// An entry reversing a receipt, without a contract of its own, is a receipt on that contract.
    fn inherit(&mut self, e: &NewEntry) {
        let Some(reverses) = &e.reverses else { return };
        let Some((year, voucher)) = reverses.split_once(':') else {
            return;
        };
        let key = (
            e.village.as_str().to_string(),
            format!("{}:{}", year.trim(), voucher.trim()),
        );
        if let Some(contract) = self.by_voucher.get(&key).cloned() {
            self.remember(e, &contract);
            self.accepted.push((e.clone(), contract));
        }
    }

    fn check(&mut self, sheet: &Sheet, e: &NewEntry, contract: String, errors: &mut RowErrors) {
        if let Err(m) = crate::table::check_text(&contract) {
            errors.push(sheet.error(e.line, "contract", m));
            return;
        }
        let village = e.village.as_str();
        let key = (village.to_string(), contract.clone());
        let found = self.contracts.get(&key);
        let problem = match found {
            Some(c) => match cunji_core::region::RegionCode::parse(village) {
                Ok(code) => c.check_receipt(&code, e.date, e.account).err(),
                Err(_) => None,
            },
            None => {
                let elsewhere: Vec<&str> = self
                    .contracts
                    .keys()
                    .filter(|(_, id)| *id == contract)
                    .map(|(v, _)| v.as_str())
                    .take(3)
                    .collect();
                Some(if elsewhere.is_empty() {
                    format!("村 {village} 没有合同 {contract}（须先导入合同）")
                } else {
                    format!(
                        "合同 {contract} 是村 {} 的合同，不能记在村 {village} 的账上",
                        elsewhere.join("、")
                    )
                })
            }
        };
        match problem {
            Some(m) => errors.push(sheet.error(e.line, "contract", m)),
            None => {
                self.remember(e, &contract);
                self.accepted.push((e.clone(), contract))
            }
        }
    }

    async fn write(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        import_id: i64,
        audit_id: i64,
    ) -> Result<(), sqlx::Error> {
        // `seq` numbers the receipts of this write: with the village and audit row, the key they
        // are sealed by (`check` then finds one edited, deleted or added).
        for (seq, (e, contract)) in self.accepted.iter().enumerate() {
            sqlx::query(
                "INSERT INTO contract_receipts (village, contract_id, entry_date, year, account, amount, voucher, import_id, audit_id, seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(e.village.as_str())
            .bind(contract)
            .bind(e.date.iso())
            .bind(e.date.year() as i64)
            .bind(e.account.key())
            .bind(e.amount)
            .bind(e.voucher.as_ref().map(|v| v.as_str().to_string()))
            .bind(import_id)
            .bind(audit_id)
            .bind(seq as i64)
            .execute(&mut **tx)
            .await?;
        }
        if !self.accepted.is_empty() {
            crate::audit::seals::seal_written(tx, audit_id, &[&crate::audit::seals::RECEIPTS])
                .await?;
        }
        Ok(())
    }
}
