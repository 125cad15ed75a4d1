//! What villagers see of their village's contracts and subsidy assets (SPEC §15, §16): each contract
//! in force in the year shown (and any earlier one still owing), by the counterparty's name — never
//! an id number, not even its last four characters, nor the contract's number — with its asset, its
//! term, what fell due and was received in the year and what is still owed at the year's report
//! date; and each asset bought with a subsidy, with its grant, its status and the rent it earned.

use cunji_core::contracts::{report_date, standing, Contract, ContractKind, VillageContractData};
use cunji_core::date::Date;
use cunji_core::money::Fen;

use crate::html::WebError;

/// A contract as villagers read it.
pub struct PublicContract {
    pub counterparty: String,
    /// What the counterparty does with what: `承包 村南耕地（10 亩）`.
    pub what: String,
    /// `2023-03-01 至 2028-02-29`.
    pub term: String,
    pub due: String,
    pub received: String,
    pub arrears: String,
    pub owing: bool,
    /// The village merged into this one that made the contract, by name (`None`: its own).
    pub from: Option<String>,
}

/// An asset bought or built with a subsidy, as villagers read it.
pub struct PublicAsset {
    /// `扶贫车间设备（1 套）`.
    pub name: String,
    /// The grant: `扶贫车间项目（中央，2022 年，50,000.00 元）`.
    pub grant: String,
    pub status: String,
    /// Rent received in the year on contracts on it.
    pub earned: String,
    /// Who rents it in the year, by name.
    pub let_to: Vec<String>,
    /// The village merged into this one whose asset it is, by name (`None`: its own).
    pub from: Option<String>,
}

/// A village's contracts and subsidy assets in one year, at its report date.
pub struct PublicContracts {
    pub year: i32,
    /// Whether the village reported its books of the year: without them, what was received and is
    /// owed is `尚未报送`.
    pub reported: bool,
    pub at: String,
    pub contracts: Vec<PublicContract>,
    pub due: String,
    pub received: String,
    pub arrears: String,
    pub assets: Vec<PublicAsset>,
    /// Contracts the printed notice leaves out to keep to one A4 page (its totals count them).
    pub left_out: usize,
}

/// Contract rows a printed notice holds at most: the notice is one A4 page (SPEC §15).
pub const NOTICE_ROWS: usize = 10;

impl PublicContracts {
    /// The same for the printed notice: at most [`NOTICE_ROWS`] contracts, those still owing kept
    /// first (in their order), the totals over all of them.
    pub fn for_notice(mut self) -> PublicContracts {
        let n = self.contracts.len();
        if n > NOTICE_ROWS {
            let owing = self.contracts.iter().filter(|c| c.owing).count();
            let mut paid_kept = NOTICE_ROWS.saturating_sub(owing);
            let mut owing_kept = NOTICE_ROWS;
            self.contracts.retain(|c| {
                let slot = if c.owing {
                    &mut owing_kept
                } else {
                    &mut paid_kept
                };
                let keep = *slot > 0;
                *slot = slot.saturating_sub(1);
                keep
            });
            self.left_out = n - self.contracts.len();
        }
        self
    }
}

/// The verb of a contract's kind, from the counterparty's side.
fn verb(kind: ContractKind) -> &'static str {
    match kind {
        ContractKind::Contracting => "承包",
        ContractKind::Lease => "租用",
        ContractKind::Cooperation => "合作经营",
        ContractKind::Other => "使用",
    }
}

fn sum(values: impl Iterator<Item = i64>) -> Result<Fen, WebError> {
    let total: i128 = values.map(i128::from).sum();
    i64::try_from(total)
        .map(Fen::from_fen)
        .map_err(|_| WebError::Invalid("合同金额合计超出可计算的范围".into()))
}

fn received_in(data: &VillageContractData, c: &Contract, year: i32) -> Result<Fen, WebError> {
    sum(data
        .receipts_of(c.id())
        .iter()
        .filter(|r| r.date.year() == year)
        .map(|r| r.amount.fen()))
}

/// The village's contracts and subsidy assets in the latest year of the books; `None` when it has
/// neither a contract to show nor a subsidy asset.
pub(super) fn public_contracts(
    code: &cunji_core::region::RegionCode,
    years: &[i32],
    books: &cunji_store::LoadedData,
) -> Result<Option<PublicContracts>, WebError> {
    // The village's own contracts and assets, then those of each village merged into it (SPEC §2,
    // §15: its grants are shown there the same way), labelled with the old village's name.
    let lineage: Vec<(&VillageContractData, Option<String>)> = books
        .regions
        .lineage(code)
        .iter()
        .filter_map(|c| {
            let data = books.contracts.of(c)?;
            let from = (c != code).then(|| {
                books
                    .regions
                    .get(c)
                    .map_or_else(|| "已撤并的村".to_string(), |r| r.name.clone())
            });
            Some((data, from))
        })
        .collect();
    if lineage.is_empty() {
        return Ok(None);
    }
    // The latest year the village reported, as the accounts show it; a village that reported none
    // shows what fell due, and `尚未报送` for what was received (never 0.00, SPEC §15).
    let latest_reported = years
        .iter()
        .rev()
        .copied()
        .find(|y| books.books.has_own_data(code, *y));
    let reported = latest_reported.is_some();
    let year = latest_reported
        .or(years.last().copied())
        .unwrap_or_else(|| Date::today_beijing().year());
    let at = report_date(year, Some(Date::today_beijing()));
    let mut contracts = Vec::new();
    let (mut due_all, mut received_all, mut arrears_all) = (Vec::new(), Vec::new(), Vec::new());
    for (data, from) in &lineage {
        let data = *data;
        for c in &data.contracts {
            let s = standing(c, data.receipts_of(c.id()), at)
                .map_err(|e| WebError::Invalid(format!("{}超出可计算的范围", e.0)))?;
            if !c.in_force_in(year) && s.arrears == Fen::ZERO {
                continue;
            }
            let due = sum(c.dues_in(year).map(|d| d.amount.fen()))?;
            let received = received_in(data, c, year)?;
            let asset = c.asset().and_then(|a| data.asset(a));
            let what = match asset {
                Some(a) => format!(
                    "{}{}（{} {}）",
                    verb(c.kind()),
                    a.name(),
                    a.quantity().display(),
                    a.unit()
                ),
                None => format!("{}集体资产", verb(c.kind())),
            };
            due_all.push(due.fen());
            received_all.push(received.fen());
            arrears_all.push(s.arrears.fen());
            contracts.push(PublicContract {
                counterparty: c.counterparty().to_string(),
                what,
                term: format!("{} 至 {}", c.start().iso(), c.end().iso()),
                due: due.display(),
                received: received.display(),
                arrears: s.arrears.display(),
                owing: s.arrears != Fen::ZERO,
                from: from.clone(),
            });
        }
    }
    let mut assets = Vec::new();
    for (data, from) in &lineage {
        let data = *data;
        for a in data.assets.iter().filter(|a| a.grant().is_some()) {
            let grant = a.grant().unwrap_or_default();
            let grant = match books.grants.iter().find(|g| g.grant == grant) {
                Some(g) => format!(
                    "{}（{}，{} 年，{} 元）",
                    g.program,
                    g.level.name_zh(),
                    g.year,
                    g.amount.display()
                ),
                None => "财政扶持资金".to_string(),
            };
            let on_it: Vec<&Contract> = data
                .contracts
                .iter()
                .filter(|c| c.asset() == Some(a.id()))
                .collect();
            let mut earned = Vec::new();
            for c in &on_it {
                earned.push(received_in(data, c, year)?.fen());
            }
            assets.push(PublicAsset {
                name: format!("{}（{} {}）", a.name(), a.quantity().display(), a.unit()),
                grant,
                status: a.status().name_zh().to_string(),
                earned: sum(earned.into_iter())?.display(),
                let_to: on_it
                    .iter()
                    .filter(|c| c.in_force_in(year))
                    .map(|c| c.counterparty().to_string())
                    .collect(),
                from: from.clone(),
            });
        }
    }
    if contracts.is_empty() && assets.is_empty() {
        return Ok(None);
    }
    Ok(Some(PublicContracts {
        year,
        reported,
        at: at.iso(),
        contracts,
        due: sum(due_all.into_iter())?.display(),
        received: sum(received_all.into_iter())?.display(),
        arrears: sum(arrears_all.into_iter())?.display(),
        assets,
        left_out: 0,
    }))
}
