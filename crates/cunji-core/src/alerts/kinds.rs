//! Each alert of a village-year, one function a kind, each with its evidence.

use super::{over, share, Alert, AlertKind, AlertSettings, EntriesNotRead, VillageYear};
use crate::account::Account;
use crate::measure::Measure;
use crate::money::FenSum;
use crate::subsidy::ReturnStatus;

fn alert(v: &VillageYear<'_>, kind: AlertKind, message: String, evidence: Vec<String>) -> Alert {
    Alert {
        village: v.village.to_string(),
        kind,
        message,
        evidence,
    }
}

/// Year-end jump: December's operating income against the year's.
pub(super) fn year_end_jump(
    s: &AlertSettings,
    v: &VillageYear<'_>,
    operating: &Measure,
) -> Option<Alert> {
    let op = operating.value(v.totals);
    let december = v.sums.december_operating;
    over(december, op, s.year_end_share).then(|| {
        alert(
            v,
            AlertKind::YearEndJump,
            format!(
                "{} 年 12 月入账的经营性收入占全年的 {}，超过 {}",
                v.year,
                share(december, op),
                s.year_end_share
            ),
            vec![format!("12 月经营性收入 {} 元，全年 {} 元", december, op)],
        )
    })
}

/// Surge: operating income up more than `surge_rate` and more than `surge_min` on last year.
pub(super) fn surge(s: &AlertSettings, v: &VillageYear<'_>, operating: &Measure) -> Option<Alert> {
    let op = operating.value(v.totals);
    let p = operating.value(v.previous?);
    let growth = op.saturating_sub(p);
    let surged = p.is_positive() && growth > s.surge_min && growth.exceeds_share(p, s.surge_rate);
    surged.then(|| {
        alert(
            v,
            AlertKind::Surge,
            format!(
                "经营性收入比上年增长 {}，增加 {} 元",
                share(growth, p),
                growth
            ),
            vec![format!(
                "{} 年 {} 元，{} 年 {} 元",
                v.year - 1,
                p,
                v.year,
                op
            )],
        )
    })
}

/// Pass-through: income matched soon after by an expense or a negative entry of the same amount.
pub(super) fn pass_through(
    s: &AlertSettings,
    v: &VillageYear<'_>,
) -> Result<Option<Alert>, EntriesNotRead> {
    if !v.sums.answered {
        return Ok(None);
    }
    let entries = v.entries()?;
    let pairs: Vec<String> = super::pass_through::pass_through_pairs(entries, s.pass_through_days)
        .into_iter()
        .map(|(i, j)| {
            let (e, x) = (&entries[i], &entries[j]);
            format!(
                "{} {} {} 元（凭证 {}）↔ {} {} {} 元（凭证 {}）",
                e.date.iso(),
                e.account.name_zh(),
                e.amount,
                e.voucher.as_deref().unwrap_or("—"),
                x.date.iso(),
                x.account.name_zh(),
                x.amount,
                x.voucher.as_deref().unwrap_or("—")
            )
        })
        .collect();
    Ok((!pairs.is_empty()).then(|| {
        let message = format!(
            "{} 笔收入在 {} 天内被同额支出或红字冲回",
            pairs.len(),
            s.pass_through_days
        );
        alert(v, AlertKind::PassThrough, message, pairs)
    }))
}

/// Subsidy dependence: subsidy income's share of total income.
pub(super) fn subsidy_dependence(
    s: &AlertSettings,
    v: &VillageYear<'_>,
    total: &Measure,
) -> Option<Alert> {
    let t = total.value(v.totals);
    let subsidy = v.totals[Account::SubsidyIncome.index()];
    over(subsidy, t, s.subsidy_share).then(|| {
        alert(
            v,
            AlertKind::SubsidyDependence,
            format!(
                "补助收入占总收入的 {}，超过 {}",
                share(subsidy, t),
                s.subsidy_share
            ),
            vec![format!("补助收入 {} 元，总收入 {} 元", subsidy, t)],
        )
    })
}

/// Subsidised projects below their expected return, or without any.
pub(super) fn projects(v: &VillageYear<'_>) -> Vec<Alert> {
    v.grants
        .iter()
        .filter_map(|g| match g.status {
            ReturnStatus::BelowExpectation => Some(alert(
                v,
                AlertKind::ProjectBelowExpectation,
                format!("扶持资金 {}（{}）收益低于预期", g.grant, g.program),
                vec![format!(
                    "预期 {} 元，实际 {} 元",
                    g.expected.unwrap_or_default(),
                    g.actual
                )],
            )),
            ReturnStatus::NoReturn => Some(alert(
                v,
                AlertKind::ProjectNoReturn,
                format!(
                    "扶持资金 {}（{}）立项后 {} 年没有收益",
                    g.grant, g.program, v.year
                ),
                vec![format!("{} 年拨付 {} 元", g.year, g.amount)],
            )),
            _ => None,
        })
        .collect()
}

/// At risk: a year still running whose income so far is behind the pace of last year's band.
pub(super) fn at_risk(v: &VillageYear<'_>) -> Option<Alert> {
    let (today, (scheme, measure), prev) = (v.today?, v.bands?, v.previous?);
    if today.year() != v.year {
        return None;
    }
    let band = scheme.band_of(measure.value(prev));
    let min = scheme.bands[band].min.filter(|m| m.is_positive())?;
    let elapsed = (today.month() as i64 - 1).max(0);
    let pace = min.times_months(elapsed);
    let so_far = measure.value(v.totals);
    (elapsed > 0 && so_far < pace).then(|| {
        alert(
            v,
            AlertKind::AtRisk,
            format!(
                "前 {elapsed} 个月{}仅 {} 元，低于保持“{}”所需的进度",
                measure.name, so_far, scheme.bands[band].name
            ),
            vec![format!(
                "“{}”下限 {} 元 × {elapsed}/12 = {} 元",
                scheme.bands[band].name, min, pace
            )],
        )
    })
}

/// Round figures: most of the year's income booked in whole multiples of `round_unit`. The sums
/// settle whether it alerts when the unit is a power of ten (or when even the multiples of the
/// largest power dividing it are too few); the entries are read to list the figures, or to count
/// them under any other unit.
pub(super) fn round_figures(
    s: &AlertSettings,
    v: &VillageYear<'_>,
) -> Result<Option<Alert>, EntriesNotRead> {
    let all = v.sums.income;
    let (round_sum, count) = match v.sums.round_settled(s) {
        Some(settled) => settled,
        None => {
            let round = round_entries(s, v.entries()?);
            (
                FenSum::of(round.clone().map(|e| e.amount)).saturated(),
                round.count() as u64,
            )
        }
    };
    if !over(round_sum, all, s.round_share) {
        return Ok(None);
    }
    let evidence = match count {
        0 => Vec::new(),
        _ => round_entries(s, v.entries()?)
            .take(10)
            .map(|e| format!("{} {} {} 元", e.date.iso(), e.account.name_zh(), e.amount))
            .collect(),
    };
    Ok(Some(alert(
        v,
        AlertKind::RoundFigures,
        format!(
            "收入中 {} 是 {} 元的整倍数（{} 笔）",
            share(round_sum, all),
            s.round_unit,
            count
        ),
        evidence,
    )))
}

/// The positive income entries in whole multiples of the round unit, in entry order.
fn round_entries<'e>(
    s: &AlertSettings,
    entries: &'e [super::EntryFact<'e>],
) -> impl Iterator<Item = &'e super::EntryFact<'e>> + Clone {
    let unit = s.round_unit;
    entries.iter().filter(move |e| {
        e.account.is_income() && e.amount.is_positive() && e.amount.is_multiple_of(unit)
    })
}
