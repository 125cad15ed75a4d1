//! The dashboard of a region: villages per band by year, targets, income, rewards and subsidies, with
//! drill-down to the regions and villages beneath.

use crate::html::Shown;
use askama::Template;
use axum::response::{IntoResponse, Response};
use cunji_core::money::Fen;
use cunji_core::region::{Level, RegionCode, RegionSet};
use cunji_core::report::{RegionReport, Report};

use crate::auth::User;
use crate::charts;
use crate::html::{render, Layout, WebError};
use crate::state::AppState;

pub struct TargetRow {
    pub name: String,
    pub due: i32,
    pub value: String,
    pub complete: bool,
    pub met: bool,
}

pub struct SubRow {
    pub code: String,
    pub name: String,
    pub is_village: bool,
    pub villages: u64,
    pub with_data: u64,
    pub bands: Vec<u64>,
    pub operating_income: String,
    pub pool: String,
    pub band: String,
}

/// The alerts of one kind, folded into a count that opens their list.
pub struct AlertGroup {
    pub kind: &'static str,
    pub rows: Vec<super::regions::AlertRow>,
}

/// Alerts grouped by kind, in the order each kind first appears.
fn alert_groups(rows: Vec<super::regions::AlertRow>) -> Vec<AlertGroup> {
    let mut groups: Vec<AlertGroup> = Vec::new();
    for r in rows {
        match groups.iter_mut().find(|g| g.kind == r.kind) {
            Some(g) => g.rows.push(r),
            None => groups.push(AlertGroup {
                kind: r.kind,
                rows: vec![r],
            }),
        }
    }
    groups
}

/// A region one step down, ranked by its villages' average operating income.
pub struct RankRow {
    pub rank: usize,
    pub code: String,
    pub name: String,
    pub with_data: u64,
    pub avg: String,
    /// Villages in the first (lowest) band: the weak villages of the usual policies.
    pub lowest_band: u64,
}

/// The regions beneath, best average first; a region without books comes last.
fn ranking(report: &Report, region: &RegionCode) -> Vec<RankRow> {
    let mut rows: Vec<&RegionReport> = children(report, region);
    rows.sort_by(|a, b| {
        b.avg_operating_income
            .cmp(&a.avg_operating_income)
            .then(a.code.cmp(&b.code))
    });
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| RankRow {
            rank: i + 1,
            code: r.code.to_string(),
            name: r.name.clone(),
            with_data: r.with_data,
            avg: r.avg_operating_income.display_or_dash(),
            lowest_band: r.bands.0.first().map_or(0, |(_, n)| *n),
        })
        .collect()
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    region_name: String,
    region_code: String,
    year: i32,
    /// A later year with books that fewer than half the villages have reported: (year, reported,
    /// villages). The dashboard opens on the year most have reported and says so.
    later: Option<(i32, usize, usize)>,
    policy_name: String,
    regions: Vec<Choice>,
    years: Vec<Choice>,
    policies: Vec<Choice>,
    villages: u64,
    with_data: u64,
    total_income: String,
    operating_income: String,
    avg_operating_income: String,
    incentive_total: String,
    awards_total: String,
    subsidies_total: String,
    band_names: Vec<String>,
    band_counts: Vec<u64>,
    band_chart: String,
    subsidy_chart: String,
    targets: Vec<TargetRow>,
    children: Vec<SubRow>,
    ranking: Vec<RankRow>,
    lowest_band: String,
    alerts: Vec<AlertGroup>,
    alert_count: usize,
    /// The year's proposals by status (the to-do lists of `/workflow`).
    todo: Vec<super::workflow::todo::Count>,
    /// Paid rewards the books no longer support.
    overpaid: Vec<super::workflow::todo::Overpaid>,
    /// Contracts in arrears at the year's report date: how many, and how much.
    arrears_count: usize,
    arrears_total: String,
    /// The §16 alerts: (kind key, name, count).
    contract_alerts: Vec<(&'static str, &'static str, usize)>,
    /// The forecast (预计) of the current year.
    forecast_year: i32,
    /// Shared with the memo it was kept in (`AppState::memo`): (year, groups).
    forecast: std::sync::Arc<(i32, Vec<super::contracts::ForecastGroup>)>,
}

/// The regions one step beneath `scope` in a report (its drill-down), and their rows.
fn children<'a>(report: &'a Report, scope: &RegionCode) -> Vec<&'a RegionReport> {
    let codes: std::collections::BTreeSet<&RegionCode> =
        report.regions.iter().map(|r| &r.code).collect();
    report
        .regions
        .iter()
        .filter(|r| &r.code != scope)
        .filter(|r| r.code.ancestors().iter().rev().find(|a| codes.contains(a)) == Some(scope))
        .collect()
}

pub async fn page(ask: super::Ask) -> Result<Response, WebError> {
    let super::Ask { state, user, q } = ask;
    let years = state.years().await?;
    let (year, later) = match q.year {
        Some(y) => (y, None),
        None => state.opening_year().await?,
    };
    let (stored, policy) = state.policy(q.policy).await?;
    let data = state.data(year).await?;
    let landing = q
        .region
        .clone()
        .filter(|r| !r.is_empty())
        .or_else(|| landing(&user, &policy, &data.regions));
    let region = super::regions::chosen_region(&user, &data.regions, landing.as_deref())?;
    if region.level() == Level::Village {
        return Ok(
            axum::response::Redirect::to(&format!("/village/{region}?year={year}")).into_response(),
        );
    }
    let report = state.report(&policy, &data, year, Some(&region)).await?;
    let Some(me) = report.regions.iter().find(|r| r.code == region) else {
        return Err(crate::html::not_found(&format!(
            "{year} 年 {region} 下有账的村"
        )));
    };
    let band_names: Vec<String> = me.bands.0.iter().map(|(k, _)| k.clone()).collect();
    let band_names_first = band_names.first().cloned().unwrap_or_default();

    // One day for every part of the page (a view across midnight must not mix two).
    let today = cunji_core::date::Date::today_beijing();
    // Every year's bands, drawn once per write (a report per year, then the chart's SVG).
    let band_chart = state
        .memo(
            format!(
                "dashboard bands|{region}|{year}|{}|{}",
                stored.id,
                today.iso()
            ),
            async {
                let (chart_years, counts) =
                    band_history(&state, &policy, &data, &years, &region, &band_names).await;
                Ok(charts::stacked_bands(&chart_years, &band_names, &counts))
            },
        )
        .await?;
    // Source levels in their order (中央, 省级, 市级, 县级, 乡镇), each in its fixed colour.
    let by_level: Vec<(String, Fen, &str)> = cunji_core::subsidy::SourceLevel::ALL
        .iter()
        .filter_map(|l| {
            let amount = report.subsidy_summary.by_level.get(l.key())?;
            Some((l.name_zh().to_string(), *amount, charts::level_colour(*l)))
        })
        .collect();
    let subsidies_total = report.subsidy_summary.total_granted();

    let child_rows = child_rows(&report, &region, &band_names);
    let proposals = state
        .memo(format!("proposals|{year}"), async {
            Ok(user.store(&state).proposals_of_year(year).await?)
        })
        .await?;
    let todo = super::workflow::todo::counts(&report, &proposals, "");
    let overpaid = state
        .memo(
            format!(
                "dashboard overpaid|{region}|{year}|{}|{}",
                stored.id,
                today.iso()
            ),
            super::workflow::todo::overpaid(&state, &user, &data, (&report, &region), &proposals),
        )
        .await?;
    let all_regions = region_choices(&user, &report, &data.regions, &region);
    let at = cunji_core::contracts::report_date(year, Some(today));
    // From the year's data the page already holds (the store is read once per write, not per view).
    let arrears = cunji_store::arrears_in(&data.contracts, &region, at)?;
    let forecast = state
        .memo(
            format!(
                "dashboard forecast|{region}|{year}|{}|{}",
                stored.id,
                today.iso()
            ),
            async {
                let villages: Vec<(RegionCode, String)> = report
                    .villages
                    .iter()
                    .map(|v| (v.code.clone(), v.name.clone()))
                    .collect();
                let made = super::contracts::forecast_groups(&state, &policy, &villages).await?;
                Ok(std::sync::Arc::new(made))
            },
        )
        .await?;
    let forecast_year = forecast.0;
    let page = DashboardPage {
        layout: Layout::new(format!("{} {year} 年总览", me.name), Some(&user)).with_flashes(&q),
        region_name: me.name.clone(),
        region_code: region.to_string(),
        year,
        later,
        policy_name: stored.name.clone(),
        regions: all_regions,
        years: year_choices(&years, year),
        policies: policy_choices(&state, stored.id).await?,
        villages: me.villages,
        with_data: me.with_data,
        total_income: me.total_income.wan_number(),
        operating_income: me.operating_income.wan_number(),
        avg_operating_income: me.avg_operating_income.wan_number_or_dash(),
        incentive_total: me.incentive_total.display(),
        awards_total: me.awards_total.display(),
        subsidies_total: subsidies_total.wan_number(),
        band_counts: band_names
            .iter()
            .map(|b| me.bands.get(b).copied().unwrap_or(0))
            .collect(),
        band_chart,
        subsidy_chart: if by_level.is_empty() {
            String::new()
        } else {
            charts::money_hbars(&by_level)
        },
        band_names,
        targets: me
            .targets
            .iter()
            .map(|t| TargetRow {
                name: t.name.clone(),
                due: t.due,
                value: t.value.clone().unwrap_or_else(|| "—".into()),
                complete: t.complete,
                met: t.met,
            })
            .collect(),
        children: child_rows,
        ranking: ranking(&report, &region),
        lowest_band: band_names_first.clone(),
        alert_count: report.alerts.len(),
        alerts: alert_groups(super::regions::alert_rows(&report)),
        todo,
        overpaid,
        arrears_count: arrears.len(),
        arrears_total: format!(
            "{} 元",
            Fen::from_fen(arrears.iter().map(|l| l.standing.arrears.fen()).sum()).display()
        ),
        contract_alerts: super::contracts::alert_counts(&report),
        forecast_year,
        forecast,
    };
    Ok(render(&page))
}

/// Villages per band by year: the core's report of each year for this region. Bands need neither the
/// incentive nor the year's cadres, so the policy's bands alone are evaluated on the same books.
async fn band_history(
    state: &AppState,
    policy: &cunji_core::policy::Policy,
    data: &std::sync::Arc<cunji_store::LoadedData>,
    years: &[i32],
    region: &RegionCode,
    band_names: &[String],
) -> (Vec<i32>, Vec<Vec<u64>>) {
    let bands_only = cunji_core::policy::Policy {
        incentive: None,
        ..policy.clone()
    };
    let mut counts = Vec::new();
    let mut chart_years = Vec::new();
    for y in years {
        if let Ok(r) = state.report(&bands_only, data, *y, Some(region)).await {
            if let Some(rr) = r.regions.iter().find(|x| x.code == *region) {
                chart_years.push(*y);
                counts.push(
                    band_names
                        .iter()
                        .map(|b| rr.bands.get(b).copied().unwrap_or(0))
                        .collect(),
                );
            }
        }
    }
    (chart_years, counts)
}

/// The regions one step down, or for a township its villages.
fn child_rows(report: &Report, region: &RegionCode, band_names: &[String]) -> Vec<SubRow> {
    let child_rows: Vec<SubRow> = children(report, region)
        .into_iter()
        .map(|c| SubRow {
            code: c.code.to_string(),
            name: c.name.clone(),
            is_village: false,
            villages: c.villages,
            with_data: c.with_data,
            bands: band_names
                .iter()
                .map(|b| c.bands.get(b).copied().unwrap_or(0))
                .collect(),
            operating_income: c.operating_income.display(),
            pool: c.incentive_total.display(),
            band: String::new(),
        })
        .collect();
    if !child_rows.is_empty() {
        return child_rows;
    }
    // A township: its villages.
    report
        .villages
        .iter()
        .map(|v| SubRow {
            code: v.code.to_string(),
            name: v.name.clone(),
            is_village: true,
            villages: 1,
            with_data: v.has_data as u64,
            bands: Vec::new(),
            operating_income: v
                .measure("operating_income")
                .map(|f| f.display())
                .unwrap_or_else(|| "未报账".into()),
            pool: v
                .incentive
                .as_ref()
                .map(|i| i.pool.display())
                .unwrap_or_default(),
            band: v.band.clone().unwrap_or_default(),
        })
        .collect()
}

/// The way up and one step down: a province has thousands of regions, too many for one list.
fn region_choices(
    user: &crate::auth::User,
    report: &Report,
    regions: &cunji_core::region::RegionSet,
    region: &RegionCode,
) -> Vec<Choice> {
    let path = region
        .ancestors()
        .into_iter()
        .chain(std::iter::once(region.clone()))
        .chain(
            children(report, region)
                .into_iter()
                .map(|c| c.code.clone())
                .filter(|c| c.level() != Level::Village),
        );
    path.filter(|c| user.can_read(c))
        .filter_map(|c| regions.get(&c).map(|r| (c, r)))
        .map(|(c, r)| Choice {
            value: c.to_string(),
            label: format!("{}{}", "　".repeat(c.level() as usize), r.name),
            selected: c == *region,
        })
        .collect()
}

/// The years with books, the shown one selected.
pub fn year_choices(years: &[i32], year: i32) -> Vec<Choice> {
    years
        .iter()
        .map(|y| Choice {
            value: y.to_string(),
            label: format!("{y} 年"),
            selected: *y == year,
        })
        .collect()
}

/// The stored policies, the one in use selected.
/// The stored policies to choose from, from the server's list kept per data version.
async fn policy_choices(state: &AppState, chosen: i64) -> Result<Vec<Choice>, WebError> {
    Ok(state
        .stored_policies()
        .await?
        .into_iter()
        .map(|p| Choice {
            value: p.id.to_string(),
            label: format!(
                "#{} {}{}",
                p.id,
                p.name,
                if p.active { "（当前）" } else { "" }
            ),
            selected: p.id == chosen,
        })
        .collect())
}

/// Without a region asked for or a scope of their own, a user lands on the first county, or on the
/// policy's region when that county is outside it (a province's policy on a national database would
/// otherwise open on a county it does not cover).
fn landing(
    user: &User,
    policy: &cunji_core::policy::Policy,
    regions: &RegionSet,
) -> Option<String> {
    let r = policy.region.as_ref().filter(|_| user.scope.is_none())?;
    let c = RegionCode::parse(&format!("{r:0<12}")).ok()?;
    let first = super::regions::default_region(user, regions)?;
    (!c.contains(&first) && regions.contains(&c)).then(|| c.to_string())
}
