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
    /// How each figure was made.
    pub trace: Vec<String>,
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
    let mut trace = Vec::new();
    for c in &data.contracts {
        if c.in_force_in(year) {
            count += 1;
        }
        let due_y: FenSum = c.dues_in(year).map(|d| d.amount).sum();
        contracted += due_y;
        trace.extend(c.year_trace(year));
        let recs = data.receipts_of(c.id());
        let got_y: FenSum = recs
            .iter()
            .filter(|r| r.date.year() == year)
            .map(|r| r.amount)
            .sum();
        received += got_y;
        if !got_y.is_zero() {
            trace.push(format!(
                "合同 {}（{}）{year}年收款 {} 元（{} 笔）",
                c.id(),
                c.counterparty(),
                fit(got_y, || "收款".into())?,
                recs.iter().filter(|r| r.date.year() == year).count()
            ));
        }
        let s = standing(c, recs, at)?;
        arrears += s.arrears;
        if s.arrears.is_positive() {
            trace.push(format!(
                "合同 {}（{}）截至 {} 应收 {} 元，已收 {} 元，欠收 {} 元{}",
                c.id(),
                c.counterparty(),
                at.iso(),
                s.due,
                s.received,
                s.arrears,
                s.oldest_unpaid
                    .map(|o| format!(
                        "，最早未收清的一笔 {} 到期，已逾期 {} 天",
                        o.iso(),
                        s.days_overdue.unwrap_or(0)
                    ))
                    .unwrap_or_default()
            ));
        }
    }
    // Entries naming a contract the village does not have still count as received in the year.
    let stray: FenSum = data
        .unknown
        .iter()
        .filter(|(_, r)| r.date.year() == year)
        .map(|(_, r)| r.amount)
        .sum();
    received += stray;
    let contracted = fit(contracted, || "合同应收合计".into())?;
    let received = fit(received, || "合同收款合计".into())?;
    let arrears = fit(arrears, || "合同欠收合计".into())?;
    trace.insert(
        0,
        format!(
            "{year}年在履行的合同 {count} 份，应收合计 {contracted} 元，收款合计 {received} 元；截至 {} 欠收合计 {arrears} 元（各合同分别计算，多收的不抵其他合同）",
            at.iso()
        ),
    );
    Ok(Some(VillageContracts {
        count,
        contracted,
        received,
        arrears,
        trace,
    }))
}
