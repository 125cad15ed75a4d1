//! Contracts and the asset register in the database (SPEC §16): the current version of each asset and
//! contract, each contract's current set of installments, and the receipts entries made; read into
//! the core's types, and the reads pages list (a village's contracts with what is due and received, a
//! region's arrears oldest first).

use crate::fast_hash::{FastMap, FastSet};
use std::collections::hash_map::Entry;

use cunji_core::account::Account;
use cunji_core::contracts::{
    Asset, AssetDraft, AssetKind, AssetStatus, Contract, ContractBook, ContractDraft, ContractKind,
    DueDay, FieldError, Installment, Quantity, Receipt, Standing, VillageContractData,
};
use cunji_core::date::Date;
use cunji_core::money::Fen;
use cunji_core::rate::Ppm;
use cunji_core::region::RegionCode;
use sqlx::Row;

use crate::backend::sqlite_read::Cell;
use crate::db::{Store, StoreError};

/// An asset as stored (and as a row of an assets file reads, once checked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AssetRow {
    pub village: String,
    pub asset: String,
    pub kind: String,
    pub name: String,
    pub quantity: i64,
    pub unit: String,
    pub original_value: Option<i64>,
    pub acquired: String,
    pub grant: Option<String>,
    pub status: String,
}

/// A contract as stored (and as a row of a contracts file reads, once checked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ContractRow {
    pub village: String,
    pub contract: String,
    pub counterparty: String,
    pub counterparty_id: Option<String>,
    pub asset: Option<String>,
    pub kind: String,
    pub signed: String,
    pub start: String,
    pub end: String,
    pub resolution: Option<String>,
    pub annual_rent: Option<i64>,
    pub due_day: Option<String>,
    pub step_years: Option<i64>,
    pub step_rate: Option<i64>,
    pub account: String,
}

fn bad(what: &str) -> StoreError {
    StoreError::Corrupt(format!("数据库中的{what}有误"))
}

fn code(s: &str) -> Result<RegionCode, StoreError> {
    RegionCode::parse(s).map_err(|_| bad("区划代码"))
}

fn date(s: &str) -> Result<Date, StoreError> {
    Date::parse(s).map_err(|_| bad("日期"))
}

fn field_errors(what: &str, id: &str, e: Vec<FieldError>) -> StoreError {
    let first = e.first().map(|e| e.message.clone()).unwrap_or_default();
    StoreError::Corrupt(format!("数据库中的{what} {id} 有误：{first}"))
}

impl AssetRow {
    fn of(r: &sqlx::any::AnyRow) -> Result<AssetRow, sqlx::Error> {
        Ok(AssetRow {
            village: r.try_get(0)?,
            asset: r.try_get(1)?,
            kind: r.try_get(2)?,
            name: r.try_get(3)?,
            quantity: r.try_get(4)?,
            unit: r.try_get(5)?,
            original_value: r.try_get(6)?,
            acquired: r.try_get(7)?,
            grant: r.try_get(8)?,
            status: r.try_get(9)?,
        })
    }

    /// The core's asset of a stored row.
    pub fn asset(&self) -> Result<Asset, StoreError> {
        Asset::new(AssetDraft {
            id: self.asset.clone(),
            village: code(&self.village)?,
            kind: AssetKind::parse(&self.kind).ok_or_else(|| bad("资产类别"))?,
            name: self.name.clone(),
            quantity: Quantity::from_hundredths(self.quantity).ok_or_else(|| bad("资产数量"))?,
            unit: self.unit.clone(),
            original_value: self.original_value.map(Fen::from_fen),
            acquired: date(&self.acquired)?,
            grant: self.grant.clone(),
            status: AssetStatus::parse(&self.status).ok_or_else(|| bad("资产状态"))?,
        })
        .map_err(|e| field_errors("资产", &self.asset, e))
    }
}

impl ContractRow {
    fn of(r: &sqlx::any::AnyRow) -> Result<ContractRow, sqlx::Error> {
        Ok(ContractRow {
            village: r.try_get(0)?,
            contract: r.try_get(1)?,
            counterparty: r.try_get(2)?,
            counterparty_id: r.try_get(3)?,
            asset: r.try_get(4)?,
            kind: r.try_get(5)?,
            signed: r.try_get(6)?,
            start: r.try_get(7)?,
            end: r.try_get(8)?,
            resolution: r.try_get(9)?,
            annual_rent: r.try_get(10)?,
            due_day: r.try_get(11)?,
            step_years: r.try_get(12)?,
            step_rate: r.try_get(13)?,
            account: r.try_get(14)?,
        })
    }

    /// The core's contract of a stored row with its current installments, less those due after its
    /// end: an early end before the first installment stores no new set (a set has no empty
    /// version), and the installments of the longer term it replaced are no longer owed.
    pub fn contract(&self, mut installments: Vec<Installment>) -> Result<Contract, StoreError> {
        let end = date(&self.end)?;
        installments.retain(|i| i.date <= end);
        Contract::new(ContractDraft {
            id: self.contract.clone(),
            village: code(&self.village)?,
            counterparty: self.counterparty.clone(),
            counterparty_id: self.counterparty_id.clone(),
            asset: self.asset.clone(),
            kind: ContractKind::parse(&self.kind).ok_or_else(|| bad("合同类别"))?,
            signed: date(&self.signed)?,
            start: date(&self.start)?,
            end,
            resolution: self.resolution.as_deref().map(date).transpose()?,
            annual_rent: self.annual_rent.map(Fen::from_fen),
            due_day: self
                .due_day
                .as_deref()
                .map(|d| DueDay::parse(d).map_err(|_| bad("收款日")))
                .transpose()?,
            step_years: self.step_years.map(|y| y as u32),
            step_rate: self.step_rate.map(Ppm::from_ppm),
            account: Some(Account::from_key_or_name(&self.account).ok_or_else(|| bad("入账科目"))?),
            installments,
        })
        .map_err(|e| field_errors("合同", &self.contract, e))
    }
}

/// The current rows of a table with versions: the highest version of each key, within `like`.
const ASSETS_CURRENT: &str = "SELECT village, asset_id, kind, name, quantity, unit, original_value, acquired, grant_id, status, version \
     FROM assets a WHERE village LIKE $1 AND version = (SELECT MAX(version) FROM assets b WHERE b.village = a.village AND b.asset_id = a.asset_id) \
     ORDER BY village, asset_id";
const ASSET_KEYS: &str = "SELECT DISTINCT village, asset_id FROM assets WHERE village LIKE $1";
const CONTRACTS_CURRENT: &str = "SELECT village, contract_id, counterparty, counterparty_id, asset_id, kind, signed, start_date, end_date, resolution, \
     annual_rent, due_day, step_years, step_rate, account, version \
     FROM contracts a WHERE village LIKE $1 AND version = (SELECT MAX(version) FROM contracts b WHERE b.village = a.village AND b.contract_id = a.contract_id) \
     ORDER BY village, contract_id";
const INSTALLMENTS_CURRENT: &str = "SELECT village, contract_id, due_date, amount, version FROM installments a \
     WHERE village LIKE $1 AND version = (SELECT MAX(version) FROM installments b WHERE b.village = a.village AND b.contract_id = a.contract_id) \
     ORDER BY village, contract_id, seq";
const RECEIPTS: &str = "SELECT village, contract_id, entry_date, amount FROM contract_receipts \
     WHERE village LIKE $1 ORDER BY village, contract_id, entry_date";

/// `LIKE` pattern of a code prefix (digits only, so nothing to escape).
fn like(prefix: &str) -> String {
    format!("{prefix}%")
}

/// A contract's current installments set: its version and (date, amount) in date order.
pub(crate) type InstallmentSet = (i64, Vec<(String, i64)>);

/// The stored state the importers compare with: current versions by key.
pub(crate) struct Stored {
    /// Each asset's current row (empty when only the keys were read: `AssetRead::Keys`).
    pub assets: FastMap<(String, String), (i64, AssetRow)>,
    /// Every stored asset's (village, id), whichever way the assets were read.
    pub asset_keys: FastSet<(String, String)>,
    pub contracts: FastMap<(String, String), (i64, ContractRow)>,
    /// Each contract's current installments set: its version and (date, amount) in order.
    pub installments: FastMap<(String, String), InstallmentSet>,
}

/// How much of the assets a reader of the stored contract tables needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AssetRead {
    /// Each asset's current row (a report, an import of assets).
    Rows,
    /// Only which assets exist: a contract import checks that a contract's asset is its
    /// village's, and reading the 255,874 assets of a province whole was 0.3 s of its 3.4 s.
    Keys,
}

/// The values of a row read natively, taken in column order.
pub(crate) struct Values(pub(crate) std::vec::IntoIter<Cell>);

impl Values {
    pub(crate) fn opt_text(&mut self) -> Result<Option<String>, StoreError> {
        match self.0.next() {
            Some(Cell::Text(t)) => Ok(Some(t)),
            Some(Cell::Null) => Ok(None),
            _ => Err(bad("资产合同")),
        }
    }
    pub(crate) fn text(&mut self) -> Result<String, StoreError> {
        self.opt_text()?.ok_or_else(|| bad("资产合同"))
    }
    pub(crate) fn opt_int(&mut self) -> Result<Option<i64>, StoreError> {
        match self.0.next() {
            Some(Cell::Int(n)) => Ok(Some(n)),
            Some(Cell::Null) => Ok(None),
            _ => Err(bad("资产合同")),
        }
    }
    pub(crate) fn int(&mut self) -> Result<i64, StoreError> {
        self.opt_int()?.ok_or_else(|| bad("资产合同"))
    }
}

/// An installment row's `seq`, date and amount.
type SeqInstallment = (i64, String, i64);

/// Keeps `row` of `version` under `key` when it is the highest version seen.
fn keep_latest<T>(
    map: &mut FastMap<(String, String), (i64, T)>,
    version: i64,
    row: T,
    key: (String, String),
) {
    match map.entry(key) {
        Entry::Occupied(mut e) => {
            if version > e.get().0 {
                e.insert((version, row));
            }
        }
        Entry::Vacant(e) => {
            e.insert((version, row));
        }
    }
}

impl Store {
    /// Every village's current assets, contracts and installment sets, read natively (SQLite; `None`
    /// on PostgreSQL): every version is read and the highest kept here, the three tables at once.
    async fn stored_natively(&self, read: AssetRead) -> Result<Option<Stored>, StoreError> {
        use crate::backend::sqlite_read::RowRead;
        let rows = |which| crate::backend::reads::contract_rows(&self.pool, self.backend, which);
        let (assets, contracts, installments) = tokio::try_join!(
            rows(match read {
                AssetRead::Rows => RowRead::Assets,
                AssetRead::Keys => RowRead::AssetKeys,
            }),
            rows(RowRead::Contracts),
            rows(RowRead::Installments)
        )?;
        let (Some(asset_rows), Some(contract_rows), Some(installment_rows)) =
            (assets, contracts, installments)
        else {
            return Ok(None);
        };
        let mut assets = FastMap::default();
        let mut asset_keys = FastSet::default();
        for row in asset_rows {
            let mut v = Values(row.into_iter());
            if read == AssetRead::Keys {
                asset_keys.insert((v.text()?, v.text()?));
                continue;
            }
            let a = AssetRow {
                village: v.text()?,
                asset: v.text()?,
                kind: v.text()?,
                name: v.text()?,
                quantity: v.int()?,
                unit: v.text()?,
                original_value: v.opt_int()?,
                acquired: v.text()?,
                grant: v.opt_text()?,
                status: v.text()?,
            };
            let key = (a.village.clone(), a.asset.clone());
            asset_keys.insert(key.clone());
            keep_latest(&mut assets, v.int()?, a, key);
        }
        let mut contracts =
            FastMap::with_capacity_and_hasher(contract_rows.len(), Default::default());
        for row in contract_rows {
            let mut v = Values(row.into_iter());
            let c = ContractRow {
                village: v.text()?,
                contract: v.text()?,
                counterparty: v.text()?,
                counterparty_id: v.opt_text()?,
                asset: v.opt_text()?,
                kind: v.text()?,
                signed: v.text()?,
                start: v.text()?,
                end: v.text()?,
                resolution: v.opt_text()?,
                annual_rent: v.opt_int()?,
                due_day: v.opt_text()?,
                step_years: v.opt_int()?,
                step_rate: v.opt_int()?,
                account: v.text()?,
            };
            let key = (c.village.clone(), c.contract.clone());
            keep_latest(&mut contracts, v.int()?, c, key);
        }
        // Each contract's rows of its highest version, then put in `seq` order.
        let mut sets: FastMap<(String, String), (i64, Vec<SeqInstallment>)> = FastMap::default();
        for row in installment_rows {
            let mut v = Values(row.into_iter());
            let key = (v.text()?, v.text()?);
            let (date, amount, version, seq) = (v.text()?, v.int()?, v.int()?, v.int()?);
            let set = sets.entry(key).or_insert_with(|| (version, Vec::new()));
            if version > set.0 {
                *set = (version, Vec::new());
            }
            if version == set.0 {
                set.1.push((seq, date, amount));
            }
        }
        let installments = sets
            .into_iter()
            .map(|(key, (version, mut list))| {
                list.sort_by_key(|(seq, _, _)| *seq);
                let list = list.into_iter().map(|(_, d, a)| (d, a)).collect();
                (key, (version, list))
            })
            .collect();
        Ok(Some(Stored {
            assets,
            asset_keys,
            contracts,
            installments,
        }))
    }

    /// Every receipt of the villages under `prefix` as (village, contract, date, amount), ordered
    /// by village, contract and date.
    async fn receipt_rows(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String, String, i64)>, StoreError> {
        if prefix.is_empty() {
            let which = crate::backend::sqlite_read::RowRead::Receipts;
            if let Some(rows) =
                crate::backend::reads::contract_rows(&self.pool, self.backend, which).await?
            {
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let mut v = Values(row.into_iter());
                    out.push((v.text()?, v.text()?, v.text()?, v.int()?));
                }
                // Stable, as the statement's ORDER BY (ties in it had no order either).
                out.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
                return Ok(out);
            }
        }
        let mut out = Vec::new();
        for r in sqlx::query(RECEIPTS)
            .bind(like(prefix))
            .fetch_all(&self.pool)
            .await?
        {
            out.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
        }
        Ok(out)
    }

    /// Current assets, contracts and installment sets of the villages under `prefix`.
    pub(crate) async fn stored_contracts(
        &self,
        prefix: &str,
        read: AssetRead,
    ) -> Result<Stored, StoreError> {
        if prefix.is_empty() {
            if let Some(stored) = self.stored_natively(read).await? {
                return Ok(stored);
            }
        }
        let pattern = like(prefix);
        let (mut assets, mut asset_keys) = (FastMap::default(), FastSet::default());
        let sql = match read {
            AssetRead::Rows => ASSETS_CURRENT,
            AssetRead::Keys => ASSET_KEYS,
        };
        for r in sqlx::query(sql)
            .bind(&pattern)
            .fetch_all(&self.pool)
            .await?
        {
            if read == AssetRead::Keys {
                asset_keys.insert((r.try_get(0)?, r.try_get(1)?));
                continue;
            }
            let a = AssetRow::of(&r)?;
            let v: i64 = r.try_get(10)?;
            asset_keys.insert((a.village.clone(), a.asset.clone()));
            assets.insert((a.village.clone(), a.asset.clone()), (v, a));
        }
        let mut contracts = FastMap::default();
        for r in sqlx::query(CONTRACTS_CURRENT)
            .bind(&pattern)
            .fetch_all(&self.pool)
            .await?
        {
            let c = ContractRow::of(&r)?;
            let v: i64 = r.try_get(15)?;
            contracts.insert((c.village.clone(), c.contract.clone()), (v, c));
        }
        let mut installments: FastMap<(String, String), InstallmentSet> = FastMap::default();
        for r in sqlx::query(INSTALLMENTS_CURRENT)
            .bind(&pattern)
            .fetch_all(&self.pool)
            .await?
        {
            let key = (r.try_get(0)?, r.try_get(1)?);
            let v: i64 = r.try_get(4)?;
            installments
                .entry(key)
                .or_insert_with(|| (v, Vec::new()))
                .1
                .push((r.try_get(2)?, r.try_get(3)?));
        }
        Ok(Stored {
            assets,
            asset_keys,
            contracts,
            installments,
        })
    }

    /// Every village's contract data (what a report reads).
    pub async fn load_contracts(&self) -> Result<ContractBook, StoreError> {
        self.load_contracts_within("").await
    }

    /// The contract data of the villages whose codes start with `prefix` (a village, a township…).
    pub async fn load_contracts_within(&self, prefix: &str) -> Result<ContractBook, StoreError> {
        let t = crate::timing::Timer::start();
        // The receipts are read beside the other three tables (four connections, two cores).
        let (stored, receipts) = tokio::try_join!(
            self.stored_contracts(prefix, AssetRead::Rows),
            self.receipt_rows(prefix)
        )?;
        t.lap("contracts: rows read");
        // The assets and the contracts (each contract's dues computed) made on two threads: a
        // province's 255,874 assets and 150,163 contracts, each checked as it is made.
        let (assets, contracts) = std::thread::scope(|s| {
            let assets = s.spawn(|| {
                stored
                    .assets
                    .values()
                    .map(|(_, row)| row.asset())
                    .collect::<Result<Vec<Asset>, StoreError>>()
            });
            let contracts = stored
                .contracts
                .iter()
                .map(|(key, (_, row))| {
                    let list = match stored.installments.get(key) {
                        Some((_, l)) => l
                            .iter()
                            .map(|(d, a)| {
                                Ok(Installment {
                                    date: date(d)?,
                                    amount: Fen::from_fen(*a),
                                })
                            })
                            .collect::<Result<Vec<_>, StoreError>>()?,
                        None => Vec::new(),
                    };
                    row.contract(list)
                })
                .collect::<Result<Vec<Contract>, StoreError>>();
            let assets = assets
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (assets, contracts)
        });
        t.lap("contracts: made");
        let mut book = ContractBook::default();
        for a in assets? {
            book.villages
                .entry(a.village().clone())
                .or_default()
                .assets
                .push(a);
        }
        for c in contracts? {
            book.villages
                .entry(c.village().clone())
                .or_default()
                .contracts
                .push(c);
        }
        for (village, contract, day, amount) in receipts {
            let receipt = Receipt {
                date: date(&day)?,
                amount: Fen::from_fen(amount),
            };
            let data = book.villages.entry(code(&village)?).or_default();
            let key = (village, contract);
            if stored.contracts.contains_key(&key) {
                data.receipts.entry(key.1).or_default().push(receipt);
            } else {
                data.unknown.push((key.1, receipt));
            }
        }
        t.lap("contracts: receipts");
        // Hash maps gave them in any order: ids in code-point order, receipts by date.
        for data in book.villages.values_mut() {
            data.assets.sort_by(|a, b| a.id().cmp(b.id()));
            data.contracts.sort_by(|a, b| a.id().cmp(b.id()));
            for r in data.receipts.values_mut() {
                r.sort();
            }
        }
        Ok(book)
    }

    /// A village's contracts as a page lists them: each with its asset's name, where it stands at
    /// `at`, and what fell due and was received in `year`; in contract-id order.
    pub async fn village_contracts(
        &self,
        village: &RegionCode,
        year: i32,
        at: Date,
    ) -> Result<Vec<ContractLine>, StoreError> {
        let book = self.load_contracts_within(village.as_str()).await?;
        let Some(data) = book.of(village) else {
            return Ok(Vec::new());
        };
        data.contracts
            .iter()
            .map(|c| ContractLine::of(data, c, year, at))
            .collect()
    }

    /// The contracts in arrears at `at` of the villages within `region`, the oldest unpaid first
    /// (then by village and contract id): a township's list of whom to call.
    pub async fn arrears_within(
        &self,
        region: &RegionCode,
        at: Date,
    ) -> Result<Vec<ContractLine>, StoreError> {
        let book = self.load_contracts_within(region.prefix()).await?;
        arrears_in(&book, region, at)
    }
}

/// The contracts of `book`'s villages within `region` in arrears at `at`, oldest unpaid first (see
/// `Store::arrears_within`): for a page that holds the year's data already, which then reads
/// nothing (a county's dashboard read every contract table of the county on each request, most of
/// its time under 64 clients).
pub fn arrears_in(
    book: &ContractBook,
    region: &RegionCode,
    at: Date,
) -> Result<Vec<ContractLine>, StoreError> {
    let mut out = Vec::new();
    // Codes below a region sort from its own code (its digits then zeros) on.
    let within = book
        .villages
        .range(region.clone()..)
        .take_while(|(code, _)| region.contains(code));
    for (_, data) in within {
        for c in &data.contracts {
            let line = ContractLine::of(data, c, at.year(), at)?;
            if line.standing.arrears.fen() > 0 {
                out.push(line);
            }
        }
    }
    out.sort_by(|a, b| {
        (
            a.standing.oldest_unpaid,
            a.contract.village(),
            a.contract.id(),
        )
            .cmp(&(
                b.standing.oldest_unpaid,
                b.contract.village(),
                b.contract.id(),
            ))
    });
    Ok(out)
}

/// One contract as a page lists it. The counterparty's id number is only ever shown through
/// `contract.counterparty_id_masked()`.
#[derive(Clone, Debug)]
pub struct ContractLine {
    pub contract: Contract,
    /// The asset's name, when the contract names a registered asset.
    pub asset_name: Option<String>,
    pub standing: Standing,
    pub due_in_year: Fen,
    pub received_in_year: Fen,
    /// How the year's figures were made.
    pub trace: Vec<String>,
}

impl ContractLine {
    fn of(
        data: &VillageContractData,
        c: &Contract,
        year: i32,
        at: Date,
    ) -> Result<ContractLine, StoreError> {
        let receipts = data.receipts_of(c.id());
        let standing = cunji_core::contracts::standing(c, receipts, at)
            .map_err(|e| StoreError::Invalid(format!("{}超出可计算的范围", e.0)))?;
        Ok(ContractLine {
            asset_name: c
                .asset()
                .and_then(|a| data.asset(a))
                .map(|a| a.name().to_string()),
            standing,
            due_in_year: cunji_core::money::FenSum::of(c.dues_in(year).map(|d| d.amount))
                .saturated(),
            received_in_year: Fen::from_fen(
                receipts
                    .iter()
                    .filter(|r| r.date.year() == year)
                    .map(|r| r.amount.fen())
                    .sum(),
            ),
            trace: cunji_core::contracts::contract_trace(c, receipts, year, at)
                .map_err(|e| StoreError::Invalid(format!("{}超出可计算的范围", e.0)))?,
            contract: c.clone(),
        })
    }
}

/// A contract version's columns, as every writer inserts them (the import, many rows a statement;
/// a change from the web, one): 17 values a row, bound by [`bind_contract_row`].
pub(crate) const INSERT_CONTRACTS: &str = "INSERT INTO contracts (village, contract_id, version, counterparty, counterparty_id, asset_id, kind, signed, start_date, end_date, resolution, annual_rent, due_day, step_years, step_rate, account, audit_id)";

/// The 17 values of [`INSERT_CONTRACTS`] for version `version` of `r`, recorded by audit row `audit`.
pub(crate) fn bind_contract_row<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    r: &'q ContractRow,
    version: i64,
    audit: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(&r.village)
        .bind(&r.contract)
        .bind(version)
        .bind(&r.counterparty)
        .bind(&r.counterparty_id)
        .bind(&r.asset)
        .bind(&r.kind)
        .bind(&r.signed)
        .bind(&r.start)
        .bind(&r.end)
        .bind(&r.resolution)
        .bind(r.annual_rent)
        .bind(&r.due_day)
        .bind(r.step_years)
        .bind(r.step_rate)
        .bind(&r.account)
        .bind(audit)
}

/// [`INSERT_CONTRACTS`] for one row, as SQLite's bulk write prepares it once.
pub(crate) const INSERT_CONTRACT_NATIVE: &std::ffi::CStr = c"INSERT INTO contracts (village, contract_id, version, counterparty, counterparty_id, asset_id, kind, signed, start_date, end_date, resolution, annual_rent, due_day, step_years, step_rate, account, audit_id) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

/// The values of [`INSERT_CONTRACT_NATIVE`], as [`bind_contract_row`] binds them.
pub(crate) fn contract_values(
    r: &ContractRow,
    version: i64,
    audit: i64,
) -> Vec<crate::backend::sqlite_bulk::Value> {
    use crate::backend::sqlite_bulk::Value;
    let text = |t: &str| Value::Text(t.to_string());
    let opt_text = |t: &Option<String>| t.as_deref().map_or(Value::Null, text);
    let opt_int = |n: Option<i64>| n.map_or(Value::Null, Value::Int);
    vec![
        text(&r.village),
        text(&r.contract),
        Value::Int(version),
        text(&r.counterparty),
        opt_text(&r.counterparty_id),
        opt_text(&r.asset),
        text(&r.kind),
        text(&r.signed),
        text(&r.start),
        text(&r.end),
        opt_text(&r.resolution),
        opt_int(r.annual_rent),
        opt_text(&r.due_day),
        opt_int(r.step_years),
        opt_int(r.step_rate),
        text(&r.account),
        Value::Int(audit),
    ]
}

/// The stored row of a contract version, as the import and the web's changes write it.
pub(crate) fn row_of(c: &cunji_core::contracts::Contract) -> ContractRow {
    let (step_years, step_rate, annual_rent, due_day) = match c.schedule() {
        cunji_core::contracts::Schedule::Annual {
            rent,
            due_day,
            step,
        } => (
            step.map(|s| s.years as i64),
            step.map(|s| s.rate.ppm()),
            Some(rent.fen()),
            Some(due_day.text()),
        ),
        cunji_core::contracts::Schedule::Installments(_) => (None, None, None, None),
    };
    ContractRow {
        village: c.village().to_string(),
        contract: c.id().to_string(),
        counterparty: c.counterparty().to_string(),
        counterparty_id: c.counterparty_id().map(str::to_string),
        asset: c.asset().map(str::to_string),
        kind: c.kind().key().to_string(),
        signed: c.signed().iso(),
        start: c.start().iso(),
        end: c.end().iso(),
        resolution: c.resolution().map(|d| d.iso()),
        annual_rent,
        due_day,
        step_years,
        step_rate,
        account: c.account().key().to_string(),
    }
}
