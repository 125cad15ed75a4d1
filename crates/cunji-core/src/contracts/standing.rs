//! Where a contract stands on a date (due, received, arrears, days overdue), and a village's
//! contracts in a year (SPEC §16).

use super::{Contract, Receipt, VillageContractData};
use crate::date::Date;
use crate::money::{Fen, FenSum};

/// A contract on a date D.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    /// Rents or installments due on or before D.
    pub due: Fen,
    /// Entries naming the contract dated on or before D (red-ink corrections included).
    pub received: Fen,
    /// due − received when positive (欠收); a credit is not carried to another contract.
    pub arrears: Fen,
    /// The due date of the oldest amount not fully covered, receipts covering the oldest first.
    pub oldest_unpaid: Option<Date>,
    /// D minus that date; `None` when everything due is covered.
    pub days_overdue: Option<i64>,
}

/// A sum beyond 64-bit fen (thousands of receipts near the largest amount): reported, never wrapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overflow(pub String);

fn fit(v: FenSum, what: impl FnOnce() -> String) -> Result<Fen, Overflow> {
    v.fen().map_err(|_| Overflow(what()))
}

/// Where `contract` stands on `d`, given its `receipts` (any order, any dates).
pub fn standing(contract: &Contract, receipts: &[Receipt], d: Date) -> Result<Standing, Overflow> {
    let received: FenSum = receipts
        .iter()
        .filter(|r| r.date <= d)
        .map(|r| r.amount)
        .sum();
    // Dues are in date order and their total fits (checked when the contract was made).
    let mut due = FenSum::ZERO;
    let mut oldest_unpaid = None;
    for x in contract.dues().iter().take_while(|x| x.date <= d) {
        due += x.amount;
        if oldest_unpaid.is_none() && due > received {
            oldest_unpaid = Some(x.date);
        }
    }
    let arrears = (due - received).max(FenSum::ZERO);
    Ok(Standing {
        due: due.saturated(),
        received: fit(received, || format!("合同 {} 的收款合计", contract.id()))?,
        arrears: arrears.saturated(),
        oldest_unpaid,
        days_overdue: oldest_unpaid.map(|o| d.day_number() - o.day_number()),
    })
}

/// The report date of year `year` (SPEC §16): 31 December, or today while the year is running.
pub fn report_date(year: i32, today: Option<Date>) -> Date {
    match today {
        Some(t) if t.year() == year => t,
        _ => Date::year_end(year),
    }
}

/// A contract's lines of `year` at report date `at`: each due of the year and how it was made, the
/// year's receipts, and its arrears with the oldest amount unpaid: how a village's contracts page
/// tells each contract's figures.
pub fn contract_trace(
    c: &Contract,
    receipts: &[Receipt],
    year: i32,
    at: Date,
) -> Result<Vec<String>, Overflow> {
    let mut trace = c.year_trace(year);
    let of_year = || receipts.iter().filter(|r| r.date.year() == year);
    let got: FenSum = of_year().map(|r| r.amount).sum();
    if !got.is_zero() {
        trace.push(format!(
            "合同 {}（{}）{year}年收款 {} 元（{} 笔）",
            c.id(),
            c.counterparty(),
            fit(got, || format!("合同 {} 的收款", c.id()))?,
            of_year().count()
        ));
    }
    let s = standing(c, receipts, at)?;
    if s.arrears.is_positive() {
        let oldest = s
            .oldest_unpaid
            .map(|o| {
                format!(
                    "，最早未收清的一笔 {} 到期，已逾期 {} 天",
                    o.iso(),
                    s.days_overdue.unwrap_or(0)
                )
            })
            .unwrap_or_default();
        trace.push(format!(
            "合同 {}（{}）截至 {} 应收 {} 元，已收 {} 元，欠收 {} 元{oldest}",
            c.id(),
            c.counterparty(),
            at.iso(),
            s.due,
            s.received,
            s.arrears,
        ));
    }
    Ok(trace)
}

/// A village's contracts in a year: the report's `contracts` object.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct VillageContracts {
    /// Contracts in force on some day of the year.
    pub count: u64,
    /// Rents and installments due in the year, over all the village's contracts.
    pub contracted: Fen,
    /// Entries naming one of its contracts dated in the year.
    pub received: Fen,
    /// The sum of its contracts' arrears at the report date.
    pub arrears: Fen,
    /// How the figures were made: the village's sum. Each contract's own lines (its dues of the
    /// year, its receipts, its arrears) are on the village's contracts page: in a province's report
    /// they were 72 of its 98 MB (150,163 contracts), for figures a county reads village by village.
    pub trace: Vec<String>,
}

impl VillageContracts {
    /// The figures of `year` at report date `at`, with the line that tells them.
    pub fn new(
        count: u64,
        contracted: Fen,
        received: Fen,
        arrears: Fen,
        year: i32,
        at: Date,
    ) -> VillageContracts {
        let line = format!(
            "{year}年在履行的合同 {count} 份，应收合计 {contracted} 元，收款合计 {received} 元；截至 {} 欠收合计 {arrears} 元（各合同分别计算，多收的不抵其他合同；各合同的应收、收款和欠收见本村合同页）",
            at.iso()
        );
        VillageContracts {
            count,
            contracted,
            received,
            arrears,
            trace: vec![line],
        }
    }
}

/// The village's contracts in `year` with the report date `at`; `None` for a village without any
/// contract at all.
pub fn village_year(
    data: &VillageContractData,
    year: i32,
    at: Date,
) -> Result<Option<VillageContracts>, Overflow> {
    if data.contracts.is_empty() {
        return Ok(None);
    }
    let mut count = 0u64;
    let (mut contracted, mut received, mut arrears) = (FenSum::ZERO, FenSum::ZERO, FenSum::ZERO);
    for c in &data.contracts {
        if c.in_force_in(year) {
            count += 1;
        }
        contracted += c.dues_in(year).map(|d| d.amount).sum::<FenSum>();
        let recs = data.receipts_of(c.id());
        received += recs
            .iter()
            .filter(|r| r.date.year() == year)
            .map(|r| r.amount)
            .sum::<FenSum>();
        arrears += standing(c, recs, at)?.arrears;
    }
    // Entries naming a contract the village does not have still count as received in the year.
    let stray: FenSum = data
        .unknown
        .iter()
        .filter(|(_, r)| r.date.year() == year)
        .map(|(_, r)| r.amount)
        .sum();
    received += stray;
    Ok(Some(VillageContracts::new(
        count,
        fit(contracted, || "合同应收合计".into())?,
        fit(received, || "合同收款合计".into())?,
        fit(arrears, || "合同欠收合计".into())?,
        year,
        at,
    )))
}
