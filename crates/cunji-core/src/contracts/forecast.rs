//! The forecast (预计) of SPEC §16: a running year's income at its end, from what is booked so far
//! and what contracts still have to fall due this year. Arrears count 0: money owed and not paid
//! is not income until it arrives.

use super::VillageContractData;
use crate::account::AccountTotals;
use crate::bands::BandScheme;
use crate::date::Date;
use crate::measure::Measure;
use crate::money::{Fen, FenSum};

/// A village's forecast for the year of `today`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Forecast {
    /// Operating income booked so far.
    pub booked: Fen,
    /// Rents and installments falling due after today and within the year, on operating accounts.
    pub to_fall_due: Fen,
    /// booked + to_fall_due.
    pub expected: Fen,
    /// The band expected at year end (the scheme's measure forecast the same way).
    pub band: Option<String>,
    /// The expected value of the band scheme's measure.
    pub band_value: Option<Fen>,
    pub trace: Vec<String>,
}

/// What `measure` gains from the dues of `data` after `today` and within its year.
fn still_due(
    measure: &Measure,
    data: Option<&VillageContractData>,
    today: Date,
) -> (FenSum, Vec<String>) {
    let mut sum = FenSum::ZERO;
    let mut lines = Vec::new();
    for c in data.map(|d| d.contracts.as_slice()).unwrap_or(&[]) {
        let coefficient = measure.coefficients[c.account().index()] as i64;
        if coefficient == 0 {
            continue;
        }
        for d in c.dues_in(today.year()).filter(|d| d.date > today) {
            sum.add_times(d.amount, coefficient);
            lines.push(format!(
                "合同 {}（{}）{} 到期 {} 元，计入{}",
                c.id(),
                c.counterparty(),
                d.date.iso(),
                d.amount,
                c.account().name_zh()
            ));
        }
    }
    (sum, lines)
}

/// The forecast at `today` of a village whose books so far are `totals`: `operating` is the
/// operating-income measure, `bands` the policy's scheme with its measure.
pub fn forecast(
    totals: &AccountTotals,
    data: Option<&VillageContractData>,
    today: Date,
    operating: &Measure,
    bands: Option<(&BandScheme, &Measure)>,
) -> Forecast {
    let booked = operating.value(totals);
    let (due, lines) = still_due(operating, data, today);
    let expected = (booked.wide() + due).saturated();
    let mut trace = vec![format!(
        "截至 {} 已入账{} {} 元，本年内尚未到期的合同应收 {} 元（欠收不计），预计全年 {} 元",
        today.iso(),
        operating.name,
        booked,
        due.saturated(),
        expected
    )];
    trace.extend(lines);
    let (band, band_value) = match bands {
        Some((scheme, m)) => {
            let (d, _) = still_due(m, data, today);
            let v = (m.value(totals).wide() + d).saturated();
            let name = scheme.bands[scheme.band_of(v)].name.clone();
            trace.push(format!("预计{} {} 元，分档为“{}”", m.name, v, name));
            (Some(name), Some(v))
        }
        None => (None, None),
    };
    Forecast {
        booked,
        to_fall_due: due.saturated(),
        expected,
        band,
        band_value,
        trace,
    }
}
