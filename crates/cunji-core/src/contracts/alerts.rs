//! The six contract alerts of SPEC §16, for a village and year at the year's report date. Each kind
//! is one alert per village (an approval checks alerts by kind), with one evidence line per
//! contract or asset behind it.

use std::collections::BTreeMap;

use super::standing::{standing, Overflow};
use super::{AssetKind, AssetStatus, ContractBook, ContractSettings, VillageContractData};
use crate::alerts::{Alert, AlertKind};
use crate::date::Date;
use crate::money::{round_div, Fen};
use crate::region::RegionCode;
use crate::subsidy::Grant;

/// Days overdue from which arrears are an alert.
pub const ARREARS_DAYS: i64 = 90;
/// Days ahead of the report date in which an ending contract without successor is an alert.
pub const EXPIRING_DAYS: i64 = 90;
/// Peers a `below_peers` comparison needs at least.
pub const MIN_PEERS: usize = 5;

/// A yearly land rent signed in the year or the year before: what `below_peers` compares.
#[derive(Clone, Debug)]
struct PeerRent {
    village: RegionCode,
    contract: String,
    /// First-year rent, fen.
    rent: i64,
    /// The asset's quantity, hundredths.
    quantity: i64,
}

/// Yearly land rents by county and unit, of contracts signed in `year − 1` or `year`.
#[derive(Clone, Debug, Default)]
pub struct Peers {
    by: BTreeMap<(String, String), Vec<PeerRent>>,
}

impl Peers {
    /// The peers of the contracts signed in `year`, from every village of `book`.
    pub fn of(book: &ContractBook, year: i32) -> Peers {
        let mut by: BTreeMap<(String, String), Vec<PeerRent>> = BTreeMap::new();
        for (code, data) in &book.villages {
            for c in &data.contracts {
                let signed = c.signed().year();
                if signed != year && signed != year - 1 {
                    continue;
                }
                if let Some((rent, asset)) = land_rent(data, c) {
                    by.entry((code.as_str()[..6].to_string(), asset.unit().to_string()))
                        .or_default()
                        .push(PeerRent {
                            village: code.clone(),
                            contract: c.id().to_string(),
                            rent: rent.fen(),
                            quantity: asset.quantity().hundredths(),
                        });
                }
            }
        }
        // Each list sorted once by rent per unit (stably, so equal rents keep the villages'
        // order): a contract's peers are its list without itself, which keeps that order. Sorting
        // the list again for each contract signed in the year took a province's report 28,000
        // sorts of some 220 peers each.
        for list in by.values_mut() {
            list.sort_by(by_rent_per_unit);
        }
        Peers { by }
    }
}

/// Ordered by rent per unit, exactly: a/b < c/d ⇔ a·d < c·b.
fn by_rent_per_unit(a: &PeerRent, b: &PeerRent) -> std::cmp::Ordering {
    (a.rent as i128 * b.quantity as i128).cmp(&(b.rent as i128 * a.quantity as i128))
}

/// A contract's first-year yearly rent and the land asset it is on, if it is such a contract.
fn land_rent<'d>(
    data: &'d VillageContractData,
    c: &super::Contract,
) -> Option<(Fen, &'d super::Asset)> {
    let rent = c.first_rent()?;
    let asset = data.asset(c.asset()?)?;
    (asset.kind() == AssetKind::Land).then_some((rent, asset))
}

/// Rent per unit as people read it: yuan to four decimals (rounded), trailing zeros after the
/// second dropped, so that 474.9995 is not shown as a 475.00 it is below.
fn per_unit(rent: i64, quantity: i64) -> String {
    // rent fen × 100 / hundredths = fen per unit; × 100 more for four decimals of yuan.
    let v = round_div(rent as i128 * 10_000, quantity as i128);
    per_unit_text(v)
}

/// `v` ten-thousandths of a yuan as `1,000.00` or `474.9995`.
fn per_unit_text(v: i128) -> String {
    let fen = Fen::from_fen((v / 100) as i64);
    match (v % 100).unsigned_abs() {
        0 => fen.to_string(),
        r => format!("{fen}{:02}", r).trim_end_matches('0').to_string(),
    }
}

/// What the alerts of a village's contracts read besides its own data.
pub struct ContractContext<'a> {
    pub settings: &'a ContractSettings,
    pub peers: &'a Peers,
    /// Grants by id (for subsidy assets).
    pub grants: &'a BTreeMap<&'a str, &'a Grant>,
    /// Income tagged with each project in the year.
    pub project_actuals: &'a BTreeMap<String, Fen>,
}

/// The contract alerts of `village` in `year` at the report date `at`, in a fixed order of kinds.
pub fn contract_alerts(
    cx: &ContractContext<'_>,
    village: &RegionCode,
    data: &VillageContractData,
    year: i32,
    at: Date,
) -> Result<Vec<Alert>, Overflow> {
    let mut out = Vec::new();
    let mut push = |kind: AlertKind, message: String, evidence: Vec<String>| {
        if !evidence.is_empty() {
            out.push(Alert {
                village: village.to_string(),
                kind,
                message,
                evidence,
            });
        }
    };

    // arrears: some contract's days overdue at the report date ≥ 90.
    let mut lines = Vec::new();
    for c in &data.contracts {
        let s = standing(c, data.receipts_of(c.id()), at)?;
        if let (Some(days), Some(oldest)) = (s.days_overdue, s.oldest_unpaid) {
            if days >= ARREARS_DAYS {
                lines.push(format!(
                    "合同 {}（{}）截至 {} 应收 {} 元，已收 {} 元，欠收 {} 元；最早未收清的一笔 {} 到期，已逾期 {days} 天",
                    c.id(), c.counterparty(), at.iso(), s.due, s.received, s.arrears, oldest.iso()
                ));
            }
        }
    }
    let n = lines.len();
    push(
        AlertKind::Arrears,
        format!("{n} 份合同欠收逾期 {ARREARS_DAYS} 天以上"),
        lines,
    );

    // expiring: the end from the report date to 90 days after it, with no successor.
    let horizon = Date::from_day_number(at.day_number() + EXPIRING_DAYS);
    let mut lines = Vec::new();
    for c in &data.contracts {
        if c.end() < at || c.end() > horizon {
            continue;
        }
        let successor = c.asset().and_then(|asset| {
            data.contracts
                .iter()
                .find(|o| o.id() != c.id() && o.asset() == Some(asset) && o.start() > c.end())
        });
        if successor.is_none() {
            lines.push(format!(
                "合同 {}（{}）{} 到期（距 {} 还有 {} 天），{}",
                c.id(),
                c.counterparty(),
                c.end().iso(),
                at.iso(),
                c.end().day_number() - at.day_number(),
                match c.asset() {
                    Some(a) => format!("资产 {a} 没有接续的合同"),
                    None => "未登记资产，也没有接续的合同".to_string(),
                }
            ));
        }
    }
    let n = lines.len();
    push(
        AlertKind::Expiring,
        format!("{n} 份合同 {EXPIRING_DAYS} 天内到期且没有续签"),
        lines,
    );

    // expired_receipts: an entry dated in the year after the end of the contract it names.
    let mut lines = Vec::new();
    for c in &data.contracts {
        for r in data.receipts_of(c.id()) {
            if r.date.year() == year && r.date > c.end() {
                lines.push(format!(
                    "{} 收款 {} 元记在合同 {}（{}）名下，该合同已于 {} 终止",
                    r.date.iso(),
                    r.amount,
                    c.id(),
                    c.counterparty(),
                    c.end().iso()
                ));
            }
        }
    }
    let n = lines.len();
    push(
        AlertKind::ExpiredReceipts,
        format!("{n} 笔收款记在已终止的合同名下"),
        lines,
    );

    // below_peers: a land rent signed in the year below half the median of its county's peers.
    let mut lines = Vec::new();
    for c in &data.contracts {
        if c.signed().year() != year {
            continue;
        }
        let Some((rent, asset)) = land_rent(data, c) else {
            continue;
        };
        let key = (village.as_str()[..6].to_string(), asset.unit().to_string());
        let all = cx.peers.by.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        // The county's list, already ordered by rent per unit, without this contract.
        let me = all
            .iter()
            .position(|p| p.village == *village && p.contract == c.id());
        let k = all.len() - usize::from(me.is_some());
        if k < MIN_PEERS {
            continue;
        }
        let others = |i: usize| match me {
            Some(m) if i >= m => &all[i + 1],
            _ => &all[i],
        };
        let (x, y) = (rent.fen() as i128, asset.quantity().hundredths() as i128);
        let (below, median_text) = if k % 2 == 1 {
            let m = others(k / 2);
            let (a, b) = (m.rent as i128, m.quantity as i128);
            (
                2 * x * b < a * y,
                format!("{} 元", per_unit(m.rent, m.quantity)),
            )
        } else {
            let (m1, m2) = (others(k / 2 - 1), others(k / 2));
            let (a, b, cc, d) = (
                m1.rent as i128,
                m1.quantity as i128,
                m2.rent as i128,
                m2.quantity as i128,
            );
            let median = round_div(a * 10_000 * d + cc * 10_000 * b, 2 * b * d);
            (
                4 * x * b * d < (a * d + cc * b) * y,
                format!(
                    "{} 元（{} 元与 {} 元的平均）",
                    per_unit_text(median),
                    per_unit(m1.rent, m1.quantity),
                    per_unit(m2.rent, m2.quantity)
                ),
            )
        };
        if below {
            lines.push(format!(
                "合同 {}（{}）首年租金 {} 元，{} {} {}，每{} {} 元，低于本县 {} 份同类合同（{}–{} 年签订）每{}租金中位数 {}的一半",
                c.id(),
                c.counterparty(),
                rent,
                asset.name(),
                asset.quantity().display(),
                asset.unit(),
                asset.unit(),
                per_unit(rent.fen(), asset.quantity().hundredths()),
                k,
                year - 1,
                year,
                asset.unit(),
                median_text
            ));
        }
    }
    let n = lines.len();
    push(
        AlertKind::BelowPeers,
        format!("{n} 份土地合同租金低于同类合同中位数的一半"),
        lines,
    );

    // long_term: signed in the year, over 30 years, or large without a resolution.
    let mut lines = Vec::new();
    let threshold = cx.settings.resolution_threshold;
    for c in &data.contracts {
        if c.signed().year() != year {
            continue;
        }
        if c.over_thirty_years() {
            lines.push(format!(
                "合同 {}（{}）期限 {} 至 {}，超过 30 年",
                c.id(),
                c.counterparty(),
                c.start().iso(),
                c.end().iso()
            ));
        } else if c.total() >= threshold && c.resolution().is_none() {
            lines.push(format!(
                "合同 {}（{}）全期应收 {} 元，达到 {} 元，但没有决议日期（四议两公开）",
                c.id(),
                c.counterparty(),
                c.total(),
                threshold
            ));
        }
    }
    let n = lines.len();
    push(
        AlertKind::LongTerm,
        format!("{n} 份合同期限超过 30 年或金额较大而无决议"),
        lines,
    );

    // idle_asset: idle since before the year, or a subsidy asset that earned nothing in the year.
    let mut lines = Vec::new();
    let jan1 = Date::from_ymd(year, 1, 1).expect("1 January");
    for a in &data.assets {
        if a.status() == AssetStatus::Idle && a.acquired() <= jan1 {
            lines.push(format!(
                "资产 {}（{}）登记为闲置，{} 取得",
                a.id(),
                a.name(),
                a.acquired().iso()
            ));
            continue;
        }
        let Some(grant) = a.grant().and_then(|g| cx.grants.get(g)) else {
            continue;
        };
        if a.status() == AssetStatus::Disposed || year <= grant.year {
            continue;
        }
        let on_it: Vec<&super::Contract> = data
            .contracts
            .iter()
            .filter(|c| c.asset() == Some(a.id()))
            .collect();
        let in_force = on_it.iter().any(|c| c.in_force_in(year));
        let received = on_it.iter().any(|c| {
            data.receipts_of(c.id())
                .iter()
                .any(|r| r.date.year() == year && r.amount.fen() != 0)
        });
        let tagged = cx
            .project_actuals
            .get(&grant.project)
            .is_some_and(|f| f.fen() != 0);
        if !in_force && !received && !tagged {
            lines.push(format!(
                "扶持资产 {}（{}，资金 {}，{} 年）{year}年没有在履行的合同，也没有收入",
                a.id(),
                a.name(),
                grant.grant,
                grant.year
            ));
        }
    }
    let n = lines.len();
    push(AlertKind::IdleAsset, format!("{n} 项资产闲置"), lines);
    Ok(out)
}
