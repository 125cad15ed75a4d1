//! A village's ledger: accounts by year, band history, the year's reward statement with its trace,
//! cadres and awards, grants and their returns, and the entries with their vouchers.

use crate::html::Shown;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use cunji_core::account::Account;
use cunji_core::money::Fen;
use cunji_core::region::{Level, RegionCode};

use super::ViewQuery;
use crate::auth::{Role, Viewer};
use crate::charts;
use crate::html::{not_found, render, Layout, WebError};
use crate::state::AppState;

pub struct AccountRow {
    pub name: String,
    pub key: String,
    pub cells: Vec<String>,
}

pub struct EntryView {
    pub id: i64,
    /// Where a reversal lands by default: today in the current year, else the entry's year-end.
    pub reverse_date: String,
    /// As a voucher book lists an entry: number, date, account, amount, then the memo and project.
    pub voucher: String,
    pub date: String,
    pub account: String,
    pub amount: String,
    pub memo: String,
    pub project: String,
    pub note: String,
    pub reversible: bool,
    /// A reversal (红字冲销): shown in red, with a link to the voucher it reverses.
    pub reversal: bool,
    /// Where the voucher this entry reverses, or that reversed it, is listed (empty: nowhere).
    pub link: String,
    /// The anchor of this entry's own voucher (`v-2024-记-12`), for such links.
    pub anchor: String,
}

/// `v-2024-记-12`: the anchor of a voucher of a year on the village page.
fn anchor(year_voucher: &str) -> String {
    format!("v-{}", year_voucher.replacen(':', "-", 1))
}

/// The link to `YEAR:VOUCHER` of the village: on this page when of the year shown.
fn voucher_link(code: &RegionCode, shown: i32, year_voucher: &str) -> String {
    let year = year_voucher.split(':').next().unwrap_or_default();
    let fragment = super::pct(&anchor(year_voucher));
    if year == shown.to_string() {
        format!("#{fragment}")
    } else {
        format!("/village/{code}?year={year}#{fragment}")
    }
}

pub struct AwardView {
    pub person: String,
    pub name: String,
    pub role: String,
    pub months: u8,
    pub appraisal: String,
    pub share: String,
    pub amount: String,
}

pub struct GrantView {
    pub grant: String,
    pub program: String,
    pub level: String,
    pub year: i32,
    pub amount: String,
    pub expected: String,
    pub actual: String,
    pub status: String,
    /// The assets the grant bought or built, each with the rent it earns in the year shown.
    pub assets: Vec<String>,
}

#[derive(Template)]
#[template(path = "village.html")]
struct VillagePage {
    layout: Layout,
    code: String,
    name: String,
    township: String,
    year: i32,
    today: String,
    years: Vec<i32>,
    accounts: Vec<AccountRow>,
    measures: Vec<AccountRow>,
    bands: Vec<String>,
    chart: String,
    has_incentive: bool,
    pool: String,
    base: String,
    reason: String,
    unallocated: String,
    trace: Vec<String>,
    awards: Vec<AwardView>,
    grants: Vec<GrantView>,
    /// Shared with the memo it was kept in.
    entries: std::sync::Arc<Vec<EntryView>>,
    entries_total: i64,
    entries_hidden: i64,
    can_write: bool,
    is_admin: bool,
    closed: bool,
    csrf: String,
    account_choices: Vec<(String, String)>,
    alerts: Vec<super::regions::AlertRow>,
    /// The distribution of each year a statement book gave (SPEC §14): a line a row, a year a column.
    distribution: std::sync::Arc<(Vec<i32>, Vec<AccountRow>)>,
}

/// Entries listed on a village page: the latest ones. A year of a village rarely has more than a few
/// hundred; one that imported a million would otherwise make a page of a million rows.
const ENTRIES_SHOWN: usize = 1_000;

pub async fn page(
    State(state): State<AppState>,
    at: crate::scope::InVillage<Viewer>,
    Query(q): Query<ViewQuery>,
) -> Result<Response, WebError> {
    let (user, code) = (at.user(), at.code().clone());
    let year = q.year.unwrap_or(state.latest_year().await);
    let (_, policy) = state.policy(q.policy).await?;
    let data = state.data(year).await?;
    let region = data
        .regions
        .get(&code)
        .filter(|r| r.level() == Level::Village)
        .ok_or_else(|| not_found(&format!("村 {code}")))?;
    let township = code
        .township()
        .and_then(|t| data.regions.get(&t))
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let years = state.years().await?;

    let books = books_view(&policy, &data, &code, &years);
    let report = state.report(&policy, &data, year, Some(&code)).await.ok();
    let vr = report
        .as_ref()
        .and_then(|r| r.villages.iter().find(|v| v.code == code));
    let inc = vr.and_then(|v| v.incentive.as_ref());
    let awards = award_views(&data, &code, year, inc);
    let grants = report
        .as_ref()
        .map(|r| grant_views(r, &data, &code, year))
        .unwrap_or_default();
    let can_write = user.can_write_entries(&code);
    // What the page reads of the store is kept until the next write (`AppState::memo`).
    let (entries, entries_total) = state
        // The day too: a reversal's default date is today's in the current year.
        .memo(
            format!("village entries|{code}|{year}|{can_write}|{}", today()),
            async {
                let (views, total) =
                    entry_views(at.user().store(&state), &code, year, can_write).await?;
                Ok((std::sync::Arc::new(views), total))
            },
        )
        .await?;
    let entries_hidden = entries_total - entries.len() as i64;
    let distribution = state
        .memo(format!("village distribution|{code}"), async {
            Ok(std::sync::Arc::new(distribution_rows(&state, &code).await?))
        })
        .await?;
    let closed = state
        .memo(format!("village closed|{code}|{year}"), async {
            Ok(at
                .user()
                .store(&state)
                .is_closed(code.as_str(), year)
                .await?)
        })
        .await?;
    let page = VillagePage {
        layout: Layout::new(format!("{} {year} 年", region.name), Some(user)).with_flashes(&q),
        code: code.to_string(),
        name: region.name.clone(),
        township,
        year,
        today: default_date(year),
        years: years.clone(),
        accounts: books.accounts,
        measures: books.measures,
        bands: books.bands,
        chart: books.chart,
        has_incentive: inc.is_some(),
        pool: inc.map(|i| i.pool.display()).unwrap_or_default(),
        base: inc.and_then(|i| i.base).display_or_dash(),
        reason: inc
            .and_then(|i| i.reason)
            .map(|r| r.name_zh().to_string())
            .unwrap_or_default(),
        unallocated: inc.map(|i| i.unallocated.display()).unwrap_or_default(),
        trace: inc
            .map(|i| cunji_core::incentive::public::staff_trace(&i.trace))
            .unwrap_or_default(),
        awards,
        grants,
        entries,
        entries_total,
        entries_hidden,
        can_write,
        is_admin: user.role == Role::CountyAdmin,
        closed,
        csrf: user.csrf.clone(),
        alerts: report
            .as_ref()
            .map(|r| super::regions::alert_rows(r))
            .unwrap_or_default(),
        account_choices: Account::ALL
            .iter()
            .map(|a| (a.key().to_string(), a.name_zh().to_string()))
            .collect(),
        distribution,
    };
    Ok(render(&page))
}

/// The village's distributions from statement books: the years that have one, and each line's row.
async fn distribution_rows(
    state: &AppState,
    code: &RegionCode,
) -> Result<(Vec<i32>, Vec<AccountRow>), WebError> {
    let stored = state
        .public_reads()
        .distributions(&[code.to_string()])
        .await?;
    let years: Vec<i32> = stored.keys().map(|(_, y)| *y).collect();
    let names = cunji_core::statement_book::Distribution::default().lines();
    let rows = names
        .iter()
        .enumerate()
        .map(|(i, (name, _))| AccountRow {
            name: name.to_string(),
            key: String::new(),
            cells: stored.values().map(|d| d.lines()[i].1.display()).collect(),
        })
        .collect();
    Ok((years, rows))
}

/// The village's books over the years: accounts, the policy's measures, a chart and the bands.
struct BooksView {
    accounts: Vec<AccountRow>,
    measures: Vec<AccountRow>,
    chart: String,
    bands: Vec<String>,
}

fn books_view(
    policy: &cunji_core::policy::Policy,
    data: &cunji_store::LoadedData,
    code: &RegionCode,
    years: &[i32],
) -> BooksView {
    let mut accounts = Vec::new();
    for a in Account::ALL {
        let cells: Vec<Option<Fen>> = years
            .iter()
            .map(|y| data.books.own(code, *y).map(|b| b.totals[a.index()]))
            .collect();
        if cells.iter().all(|c| c.is_none_or(|f| f.fen() == 0)) {
            continue;
        }
        accounts.push(AccountRow {
            name: a.name_zh().into(),
            key: a.key().into(),
            cells: cells
                .iter()
                .map(|c| c.map(|f| f.display()).unwrap_or_default())
                .collect(),
        });
    }
    let measures: Vec<AccountRow> = policy
        .measures()
        .iter()
        .map(|m| AccountRow {
            name: m.name.clone(),
            key: m.key.clone(),
            cells: years
                .iter()
                .map(|y| {
                    data.books
                        .own(code, *y)
                        .filter(|b| b.has_data())
                        .map(|b| m.value(&b.totals).display())
                        .unwrap_or_default()
                })
                .collect(),
        })
        .collect();
    let standard = cunji_core::measure::Measure::standard();
    let series: Vec<(&str, Vec<Option<Fen>>)> = [(0usize, "总收入"), (1, "经营性收入")]
        .iter()
        .map(|(i, name)| {
            (
                *name,
                years
                    .iter()
                    .map(|y| {
                        data.books
                            .own(code, *y)
                            .filter(|b| b.has_data())
                            .map(|b| standard[*i].value(&b.totals))
                    })
                    .collect(),
            )
        })
        .collect();
    let chart = charts::money_bars(
        &years.iter().map(|y| y.to_string()).collect::<Vec<_>>(),
        &series,
    );
    let bands: Vec<String> = match (
        &policy.bands,
        policy
            .bands
            .as_ref()
            .and_then(|b| policy.measure(&b.measure)),
    ) {
        (Some(scheme), Some(m)) => years
            .iter()
            .map(|y| {
                data.books
                    .own(code, *y)
                    .filter(|b| b.has_data())
                    .map(|b| {
                        scheme.bands[scheme.band_of(m.value(&b.totals))]
                            .name
                            .clone()
                    })
                    .unwrap_or_else(|| "—".into())
            })
            .collect(),
        _ => years.iter().map(|_| "—".to_string()).collect(),
    };

    BooksView {
        accounts,
        measures,
        chart,
        bands,
    }
}

/// The year's cadres with their shares and amounts.
fn award_views(
    data: &cunji_store::LoadedData,
    code: &RegionCode,
    year: i32,
    inc: Option<&cunji_core::incentive::IncentiveResult>,
) -> Vec<AwardView> {
    // The year's cadres come sorted by village: look the village up, not through the country.
    let first = data.cadres.partition_point(|c| c.village < *code);
    let cadres: Vec<&cunji_core::cadre::Cadre> = data.cadres[first..]
        .iter()
        .take_while(|c| c.village == *code)
        .filter(|c| c.year == year)
        .collect();
    cadres
        .iter()
        .map(|c| {
            let a = inc.and_then(|i| i.awards.iter().find(|a| a.person == c.person));
            AwardView {
                person: c.person.clone(),
                name: c.name.clone(),
                role: c.role.name_zh().into(),
                months: c.months_in_post,
                appraisal: c.appraisal.clone().unwrap_or_else(|| "—".into()),
                share: a.map(|a| a.share.display()).unwrap_or_else(|| "—".into()),
                amount: a.map(|a| a.amount.display()).unwrap_or_else(|| "—".into()),
            }
        })
        .collect()
}

/// The report's grants of the village and of the villages merged into it.
fn grant_views(
    r: &cunji_core::report::Report,
    data: &cunji_store::LoadedData,
    code: &RegionCode,
    year: i32,
) -> Vec<GrantView> {
    r.grants_of(&data.regions, code)
        .map(|g| {
            let mut v = GrantView::of(g);
            v.assets = super::contracts::grant_assets(data.contracts.of(code), &g.grant, year);
            v
        })
        .collect()
}

impl GrantView {
    /// A grant's standing in a year, as a page shows it.
    pub fn of(g: &cunji_core::subsidy::GrantReturn) -> GrantView {
        GrantView {
            grant: g.grant.clone(),
            program: g.program.clone(),
            level: g.level.name_zh().into(),
            year: g.year,
            amount: g.amount.display(),
            expected: g.expected.display_or_dash(),
            actual: g.actual.display(),
            status: g.status.name_zh().into(),
            assets: Vec::new(),
        }
    }
}

/// The latest entries of the year (at most [`ENTRIES_SHOWN`]) and how many the year has.
async fn entry_views(
    store: &cunji_store::Store,
    code: &RegionCode,
    year: i32,
    can_write: bool,
) -> Result<(Vec<EntryView>, i64), WebError> {
    let (entries, entries_total) = store
        .latest_entries_of(code.as_str(), year, ENTRIES_SHOWN)
        .await?;
    let entries: Vec<EntryView> = entries
        .into_iter()
        .map(|e| EntryView {
            id: e.id,
            reverse_date: default_date(year),
            date: e.date.clone(),
            account: e.account.name_zh().into(),
            amount: e.amount.display(),
            voucher: e.voucher.clone().unwrap_or_default(),
            memo: e.memo.clone(),
            project: e.project.clone().unwrap_or_default(),
            note: match (&e.reverses, &e.reversed_by) {
                (Some(r), _) => format!("冲销 {r}"),
                (None, Some(by)) => format!("已被 {by} 冲销"),
                _ => String::new(),
            },
            reversal: e.reverses.is_some(),
            link: e
                .reverses
                .as_ref()
                .or(e.reversed_by.as_ref())
                .map(|r| voucher_link(code, year, r))
                .unwrap_or_default(),
            anchor: e
                .voucher
                .as_ref()
                .map(|v| anchor(&format!("{}:{v}", e.date.get(..4).unwrap_or_default())))
                .unwrap_or_default(),
            reversible: can_write
                && e.voucher.is_some()
                && e.reverses.is_none()
                && e.reversed_by.is_none(),
        })
        .collect();
    Ok((entries, entries_total))
}

/// The default date of a new entry or reversal shown for `year`: today in the current year, else the
/// year's last day, so that a correction lands in the year being corrected.
pub fn default_date(year: i32) -> String {
    let t = today();
    if t.starts_with(&year.to_string()) {
        t
    } else {
        format!("{year}-12-31")
    }
}

/// Today's date in Beijing time as `YYYY-MM-DD`, the default date of a new entry.
pub fn today() -> String {
    cunji_core::date::Date::today_beijing().iso()
}

/// The date `days` days after 1970-01-01.
pub fn today_from_days(days: i64) -> String {
    cunji_core::date::Date::from_day_number(days).iso()
}
