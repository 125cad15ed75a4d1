//! The schedule of what a contract owes (SPEC §16): a yearly rent on each due day within the term,
//! stepped up per contract year, or installments; and each figure told in Chinese.

use super::{anniversary, Contract, Schedule, StepUp, MAX_OWED};
use crate::date::Date;
use crate::money::Fen;
use crate::rate::{Ppm, PPM};

/// One amount owed on one date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Due {
    pub date: Date,
    pub amount: Fen,
    /// Contract year j (0 for the first), for a yearly rent; 0 for an installment.
    pub contract_year: u32,
    /// Steps taken by a yearly rent (⌊j / n⌋); 0 for an installment or without a step-up.
    pub steps: u32,
}

/// The contract year (j = 0, 1, …) that `date` falls in: year j begins on the start's j-th
/// anniversary.
pub fn contract_year(start: Date, date: Date) -> u32 {
    let mut j = date.year() - start.year();
    if j > 0 && anniversary(start, j) > date {
        j -= 1;
    }
    j.max(0) as u32
}

/// The rent after one more step: × (1 + r), rounded to fen half away from zero.
pub fn step_once(rent: Fen, step: StepUp) -> Fen {
    rent.times(Ppm::from_ppm(PPM + step.rate.ppm()))
}

/// Every amount `schedule` owes within `start`–`end`, in date order; an error when a step-up would
/// take the rents, or their sum, past what a contract may owe.
pub(super) fn dues_of(schedule: &Schedule, start: Date, end: Date) -> Result<Vec<Due>, String> {
    let mut out = Vec::new();
    let mut total = Fen::ZERO;
    let too_much = || "应收合计超出范围（递增后的租金过大），请检查年租金和递增比例".to_string();
    match schedule {
        Schedule::Annual {
            rent,
            due_day,
            step,
        } => {
            // Rents by the number of steps taken, made one step at a time as the term needs them.
            let mut by_steps = vec![*rent];
            for year in start.year()..=end.year() {
                let date = due_day.in_year(year);
                if date < start || date > end {
                    continue;
                }
                let j = contract_year(start, date);
                let steps = step.map_or(0, |s| j / s.years);
                while by_steps.len() <= steps as usize {
                    let last = *by_steps.last().expect("the first rent");
                    let next = step_once(last, step.expect("steps only with a step-up"));
                    if next > MAX_OWED {
                        return Err(too_much());
                    }
                    by_steps.push(next);
                }
                let amount = by_steps[steps as usize];
                // Within MAX_FEN, which is what a contract may owe (MAX_OWED).
                total = total.checked_add(amount).ok_or_else(too_much)?;
                out.push(Due {
                    date,
                    amount,
                    contract_year: j,
                    steps,
                });
            }
        }
        Schedule::Installments(list) => {
            for i in list {
                total = total
                    .checked_add(i.amount)
                    .ok_or_else(|| "分期应收合计超出范围".to_string())?;
                out.push(Due {
                    date: i.date,
                    amount: i.amount,
                    contract_year: 0,
                    steps: 0,
                });
            }
        }
    }
    Ok(out)
}

/// How one due amount is made, in Chinese: “2025年应收 12,100.00 元：年租金 10,000.00 元，每年递增
/// 10%，第 3 年 = 11,000.00 × 1.1”.
pub(super) fn due_trace(c: &Contract, d: &Due) -> String {
    let head = format!(
        "合同 {}（{}）{}年应收 {} 元",
        c.id(),
        c.counterparty(),
        d.date.year(),
        d.amount
    );
    match c.schedule() {
        Schedule::Installments(_) => {
            format!("{head}：分期应收，{} 到期 {} 元", d.date.iso(), d.amount)
        }
        Schedule::Annual { rent, step, .. } => {
            let nth = d.contract_year + 1;
            let Some(s) = step else {
                return format!(
                    "{head}：年租金 {rent} 元，第 {nth} 年（{} 到期）",
                    d.date.iso()
                );
            };
            let every = if s.years == 1 {
                "每年".to_string()
            } else {
                format!("每 {} 年", s.years)
            };
            let factor = crate::rate::Ppm::from_ppm(PPM + s.rate.ppm()).decimal();
            if d.steps == 0 {
                return format!(
                    "{head}：年租金 {rent} 元，{every}递增 {}，第 {nth} 年尚未递增",
                    s.rate.percent()
                );
            }
            // The rent before the last step, made the same way again.
            let mut before = *rent;
            for _ in 1..d.steps {
                before = step_once(before, *s);
            }
            format!(
                "{head}：年租金 {rent} 元，{every}递增 {}，第 {nth} 年 = {before} × {factor}（第 {} 次递增，四舍五入到分）",
                s.rate.percent(),
                d.steps
            )
        }
    }
}
