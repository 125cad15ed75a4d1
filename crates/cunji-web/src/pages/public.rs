//! Public pages, no login: what a village has published, behind a QR code on its notice board. These
//! URLs are printed on paper: `/public/`, `/public/village/{code}`, `…/qr.svg`, `…/qr.png`, `…/notice`
//! must never change.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use cunji_core::account::Account;
use cunji_core::money::Fen;
use cunji_core::region::{Level, RegionCode};

use crate::html::Shown;
use crate::html::{not_found, render, Layout, WebError};
use crate::state::AppState;

pub struct Township {
    pub name: String,
    pub villages: Vec<(String, String)>,
}

/// A region one level down, to open: code, name, villages beneath it.
pub struct Child {
    pub code: String,
    pub name: String,
    pub villages: usize,
}

#[derive(Template)]
#[template(path = "public_index.html")]
struct IndexPage {
    layout: Layout,
    /// The way down to the region shown, each a link: code, name.
    crumbs: Vec<(String, String)>,
    children: Vec<Child>,
    townships: Vec<Township>,
    /// The name searched for, and the villages found: code, name, and where it is (county, township).
    query: String,
    found: Vec<(String, String, String)>,
    found_more: bool,
}

/// Villages a name search lists at most (a name shared by more is narrowed by typing more of it).
const FOUND_AT_MOST: usize = 200;

/// The open villages whose name holds `q`, with where each is, and whether there were more.
fn search(
    regions: &cunji_core::region::RegionSet,
    q: &str,
) -> (Vec<(String, String, String)>, bool) {
    let mut found = Vec::new();
    let hits = regions.with_prefix("").filter(|r| {
        r.level() == Level::Village && regions.successor_of(&r.code).is_none() && r.name.contains(q)
    });
    for r in hits {
        if found.len() == FOUND_AT_MOST {
            return (found, true);
        }
        let place: Vec<String> = r
            .code
            .ancestors()
            .iter()
            .skip(2)
            .filter_map(|a| regions.get(a).map(|x| x.name.clone()))
            .collect();
        found.push((r.code.to_string(), r.name.clone(), place.join(" ")));
    }
    (found, false)
}

/// A register with more villages than this under the region asked for is shown a level at a time
/// (a national register has 456,459 villages; one county has a few hundred).
const VILLAGES_ON_ONE_PAGE: usize = 1_000;

#[derive(serde::Deserialize)]
pub struct IndexQuery {
    region: Option<String>,
    /// A village's name, or part of it (at most 20 characters are used).
    q: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct TextSize {
    large: Option<String>,
    back: Option<String>,
}

/// `GET /public/text-size?large=1&back=/public/…`: larger text (适老化) on, or off with `large=0`,
/// remembered for a year in a cookie; back to the public page the reader came from.
pub async fn text_size(Query(t): Query<TextSize>) -> Response {
    let back = t
        .back
        .filter(|b| b.starts_with("/public/") && !b.contains("//") && !b.contains(['\r', '\n']))
        .unwrap_or_else(|| "/public/".into());
    let value = if t.large.as_deref() == Some("1") {
        "large"
    } else {
        "normal"
    };
    let cookie = format!(
        "{}={value}; Path=/public; Max-Age=31536000; SameSite=Lax; HttpOnly",
        crate::html::LARGE_TEXT_COOKIE
    );
    (
        [(axum::http::header::SET_COOKIE, cookie)],
        Redirect::to(&back),
    )
        .into_response()
}

pub async fn index_redirect() -> Redirect {
    Redirect::permanent("/public/")
}

/// The villages under `scope`, or, while they are more than a page holds, the regions one level down
/// with their numbers of villages; `scope` moves down past a level with a single region.
fn drill_down<'r>(
    regions: &'r cunji_core::region::RegionSet,
    scope: &mut Option<RegionCode>,
) -> (Vec<&'r cunji_core::region::Region>, Vec<Child>) {
    let open = |code: &RegionCode| regions.successor_of(code).is_none();
    let villages_under = |scope: &Option<RegionCode>| -> Vec<&cunji_core::region::Region> {
        regions
            .with_prefix(scope.as_ref().map(|c| c.prefix()).unwrap_or(""))
            .filter(|r| r.level() == Level::Village && open(&r.code))
            .collect()
    };
    let mut villages = villages_under(scope);
    let mut children: Vec<Child> = Vec::new();
    while villages.len() > VILLAGES_ON_ONE_PAGE {
        // The region one level beneath the scope holding each village.
        let depth = scope.as_ref().map(|c| c.ancestors().len() + 1).unwrap_or(0);
        let mut counts: Vec<(RegionCode, usize)> = Vec::new();
        // Villages come in code order, a township's together: its way up is worked out once.
        let mut township = "";
        let mut child: Option<RegionCode> = None;
        for v in &villages {
            let t = &v.code.as_str()[..Level::Township.prefix_len()];
            if t != township {
                township = t;
                child = v.code.ancestors().get(depth).cloned();
            }
            let Some(child) = &child else { continue };
            match counts.last_mut() {
                Some((c, n)) if c == child => *n += 1,
                _ => counts.push((child.clone(), 1)),
            }
        }
        if counts.len() == 1 {
            // A register of one province (or city …) opens on the level that divides it.
            *scope = Some(counts.remove(0).0);
            villages = villages_under(scope);
            continue;
        }
        children = counts
            .into_iter()
            .map(|(code, n)| Child {
                name: regions
                    .get(&code)
                    .map(|r| r.name.clone())
                    .unwrap_or_else(|| code.to_string()),
                code: code.to_string(),
                villages: n,
            })
            .collect();
        villages.clear();
    }
    (villages, children)
}

/// Every village open to the public, by township; on a large register, the regions beneath the one
/// asked for (`?region=CODE`), each with its number of villages, down to a list that fits a page.
pub async fn index(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<IndexQuery>,
) -> Result<Response, WebError> {
    let regions = state.regions().await?;
    let mut scope = match q.region.as_deref().filter(|r| !r.is_empty()) {
        None => None,
        Some(text) => {
            let code = RegionCode::parse(text).map_err(|_| not_found("这个地区"))?;
            if !regions.contains(&code) {
                return Err(not_found("这个地区"));
            }
            Some(code)
        }
    };
    let (villages, children) = drill_down(&regions, &mut scope);
    let mut townships: Vec<Township> = Vec::new();
    for r in villages {
        let t = r
            .code
            .ancestors()
            .last()
            .and_then(|t| regions.get(t))
            .map(|t| t.name.clone())
            .unwrap_or_default();
        match townships.last_mut() {
            Some(last) if last.name == t => {
                last.villages.push((r.code.to_string(), r.name.clone()))
            }
            _ => townships.push(Township {
                name: t,
                villages: vec![(r.code.to_string(), r.name.clone())],
            }),
        }
    }
    let crumbs = match &scope {
        None => Vec::new(),
        Some(code) => code
            .ancestors()
            .into_iter()
            .chain(std::iter::once(code.clone()))
            .filter_map(|c| regions.get(&c).map(|r| (c.to_string(), r.name.clone())))
            .collect(),
    };
    let query: String = q.q.unwrap_or_default().trim().chars().take(20).collect();
    let (found, found_more) = if query.is_empty() {
        (Vec::new(), false)
    } else {
        search(&regions, &query)
    };
    Ok(render(&IndexPage {
        layout: Layout::new("村务公开", None).for_reader(&headers, "/public/"),
        crumbs,
        children,
        townships,
        query,
        found,
        found_more,
    }))
}

/// A person of a published reward: by name and role (never an id), with the computed share, the
/// decided and the paid amount (SPEC §15).
pub struct AwardLine {
    pub name: String,
    pub role: String,
    pub computed: String,
    pub decided: String,
    pub amount: String,
}

pub struct Published {
    pub year: i32,
    pub pool: String,
    /// The fingerprint of the published figures (SPEC §15).
    pub fingerprint: String,
    /// 公示期 as the `publish` step recorded it (`from 至 to`), or empty for older proposals.
    pub period: String,
    /// When the books changed after publication: the pool computed now (SPEC §13).
    pub pool_now: Option<String>,
    pub paid: String,
    pub published: String,
    pub awards: Vec<AwardLine>,
    pub trace: Vec<String>,
}

#[derive(Template)]
#[template(path = "public_village.html")]
struct VillagePage {
    layout: Layout,
    code: String,
    name: String,
    place: String,
    years: Vec<i32>,
    accounts: Vec<(String, Vec<String>)>,
    totals: Vec<(String, Vec<String>)>,
    grants: Vec<PublicGrant>,
    rewards: Vec<Published>,
    qr: String,
    url: String,
}

#[derive(Template)]
#[template(path = "public_notice.html")]
struct NoticePage {
    layout: Layout,
    name: String,
    place: String,
    url: String,
    qr: String,
    latest: Option<Published>,
    income: Vec<(String, String)>,
    year: i32,
}

/// The absolute address of a village's public page, as printed in its QR code.
fn page_url(state: &AppState, headers: &HeaderMap, code: &str) -> String {
    let base = state.public_url.clone().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1:8080");
        format!("http://{host}")
    });
    format!("{base}/public/village/{code}")
}

struct VillageData {
    code: RegionCode,
    name: String,
    place: String,
    years: Vec<i32>,
    data: std::sync::Arc<cunji_store::LoadedData>,
    rewards: Vec<Published>,
}

async fn village_data(state: &AppState, code: &str) -> Result<VillageData, WebError> {
    let code = RegionCode::parse(code).map_err(|_| not_found("这个村"))?;
    let years = state.years().await?;
    let latest = years.last().copied().unwrap_or(2024);
    let data = state.data(latest).await?;
    let region = data
        .regions
        .get(&code)
        .filter(|r| r.level() == Level::Village)
        .ok_or_else(|| not_found("这个村"))?;
    let place = code
        .ancestors()
        .iter()
        .rev()
        .take(2)
        .rev()
        .filter_map(|a| data.regions.get(a))
        .map(|r| r.name.clone())
        .collect::<Vec<_>>()
        .join(" ");
    let mut rewards = Vec::new();
    for y in state.store.published_years(code.as_str()).await? {
        let Some(p) = state.store.proposal(code.as_str(), y).await? else {
            continue;
        };
        let step_at = |s: &str| {
            p.steps
                .iter()
                .rev()
                .find(|x| x.step == s)
                .map(|x| super::workflow::when(x.at))
                .unwrap_or_default()
        };
        let now = crate::steps::Now::read(state, &code, y).await?;
        let (fingerprint, now_print) = fingerprints(&p, &now);
        let pool_now = (now_print != fingerprint)
            .then(|| now.incentive.as_ref().map(|i| i.pool).display_or_dash());
        rewards.push(Published {
            year: y,
            pool: p.pool.display(),
            fingerprint,
            period: notice_period(&p),
            pool_now,
            paid: step_at("paid"),
            published: step_at("published"),
            awards: p
                .awards
                .iter()
                .map(|a| AwardLine {
                    name: a.name.clone(),
                    role: a.role.name_zh().to_string(),
                    computed: a.computed.display(),
                    decided: a.decided.display_or_dash(),
                    amount: a.paid.or(a.decided).unwrap_or(Fen::ZERO).display(),
                })
                .collect(),
            trace: cunji_core::incentive::public::public_trace(&p.trace),
        });
    }
    Ok(VillageData {
        name: region.name.clone(),
        code,
        place,
        years,
        data,
        rewards,
    })
}

pub async fn village(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let v = village_data(&state, &code).await?;
    // The latest year first (SPEC §15): on a phone the first column is the one read.
    let years: Vec<i32> = v
        .years
        .iter()
        .rev()
        .copied()
        .filter(|y| v.data.books.has_own_data(&v.code, *y))
        .collect();
    let mut accounts = Vec::new();
    for a in Account::ALL {
        let cells: Vec<Option<Fen>> = years
            .iter()
            .map(|y| v.data.books.own(&v.code, *y).map(|b| b.totals[a.index()]))
            .collect();
        if cells.iter().all(|c| c.unwrap_or(Fen::ZERO) == Fen::ZERO) {
            continue;
        }
        accounts.push((
            a.name_zh().to_string(),
            cells
                .iter()
                .map(|c| c.unwrap_or(Fen::ZERO).display())
                .collect(),
        ));
    }
    let standard = cunji_core::measure::Measure::standard();
    let totals = [&standard[0], &standard[1], &standard[3]]
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                years
                    .iter()
                    .map(|y| {
                        v.data
                            .books
                            .own(&v.code, *y)
                            .map(|b| m.value(&b.totals).display())
                            .unwrap_or_default()
                    })
                    .collect(),
            )
        })
        .collect();
    let grants = public_grants(&state, &v).await?;
    let url = page_url(&state, &headers, v.code.as_str());
    let page = VillagePage {
        layout: Layout::new(format!("{} {} 村务公开", v.place, v.name), None)
            .for_reader(&headers, &format!("/public/village/{}", v.code)),
        code: v.code.to_string(),
        name: v.name,
        place: v.place,
        years,
        accounts,
        totals,
        grants,
        rewards: v.rewards,
        qr: crate::qr::svg(&url).map_err(|e| WebError::internal("qr svg", &e))?,
        url,
    };
    Ok(render(&page))
}

/// The 公示期 the `publish` step recorded.
fn notice_period(p: &cunji_store::Proposal) -> String {
    let Some(step) = p.steps.iter().rev().find(|s| s.step == "published") else {
        return String::new();
    };
    let data: serde_json::Value = serde_json::from_str(&step.data).unwrap_or_default();
    match (data["from"].as_str(), data["to"].as_str()) {
        (Some(from), Some(to)) => format!("{from} 至 {to}"),
        _ => String::new(),
    }
}

/// The fingerprint of a published reward, and the one of the same reward on the books as they are
/// now. A proposal computed before the measure values were kept is compared by its pool alone.
fn fingerprints(p: &cunji_store::Proposal, now: &crate::steps::Now) -> (String, String) {
    use cunji_core::workflow::fingerprint::Figures;
    let people: Vec<_> = p
        .awards
        .iter()
        .map(|a| (a.name.as_str(), a.decided, a.paid))
        .collect();
    let kept = p.measure.is_some();
    let published = Figures {
        village: &p.village,
        year: p.year,
        pool: p.pool,
        measure: p.measure,
        base: p.base,
        people: people.clone(),
    };
    let inc = now.incentive.as_ref();
    let current = Figures {
        pool: inc.map_or(Fen::ZERO, |i| i.pool),
        measure: inc.and_then(|i| i.measure).filter(|_| kept),
        base: inc.and_then(|i| i.base).filter(|_| kept),
        ..published.clone()
    };
    (published.fingerprint(), current.fingerprint())
}

/// A grant on a public page: what it is, and the project's return in each year after it (SPEC §15).
pub struct PublicGrant {
    pub program: String,
    pub level: String,
    pub year: i32,
    pub amount: String,
    pub expected: String,
    /// (year, actual return, status) for each year after the grant's, latest first.
    pub returns: Vec<(i32, String, String)>,
}

/// Every grant of the village (and of the villages merged into it) up to the latest year, each with
/// its project's return in every later year.
async fn public_grants(state: &AppState, v: &VillageData) -> Result<Vec<PublicGrant>, WebError> {
    let latest = v.years.last().copied().unwrap_or(0);
    let lineage = v.data.regions.lineage(&v.code);
    let mine: Vec<&cunji_core::subsidy::Grant> = v
        .data
        .grants
        .iter()
        .filter(|g| lineage.contains(&g.village) && g.year <= latest)
        .collect();
    let mut out = Vec::new();
    for g in mine {
        let mut returns = Vec::new();
        for y in (g.year + 1..=latest).rev() {
            let data = state.data(y).await?;
            let actual = data
                .project_actuals
                .get(&g.project)
                .copied()
                .unwrap_or_default();
            let r = g.returns_in(y, actual);
            returns.push((y, r.actual.display(), r.status.name_zh().to_string()));
        }
        out.push(PublicGrant {
            program: g.program.clone(),
            level: g.level.name_zh().to_string(),
            year: g.year,
            amount: g.amount.display(),
            expected: g.expected().display_or_dash(),
            returns,
        });
    }
    Ok(out)
}

pub async fn notice(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let v = village_data(&state, &code).await?;
    let year = v
        .years
        .iter()
        .rev()
        .copied()
        .find(|y| v.data.books.has_own_data(&v.code, *y))
        .unwrap_or(0);
    let standard = cunji_core::measure::Measure::standard();
    let income = match v.data.books.own(&v.code, year) {
        Some(b) => [&standard[0], &standard[1], &standard[3]]
            .iter()
            .map(|m| (m.name.clone(), m.value(&b.totals).display()))
            .collect(),
        None => Vec::new(),
    };
    let url = page_url(&state, &headers, v.code.as_str());
    let page = NoticePage {
        layout: Layout::new(format!("{} {} 村务公开栏", v.place, v.name), None),
        name: v.name,
        place: v.place,
        qr: crate::qr::svg(&url).map_err(|e| WebError::internal("qr svg", &e))?,
        url,
        latest: v.rewards.into_iter().next(),
        income,
        year,
    };
    Ok(render(&page))
}

async fn checked_url(
    state: &AppState,
    headers: &HeaderMap,
    code: &str,
) -> Result<String, WebError> {
    let c = RegionCode::parse(code).map_err(|_| not_found("这个村"))?;
    let regions = state.regions().await?;
    if regions.get(&c).is_none_or(|r| r.level() != Level::Village) {
        return Err(not_found("这个村"));
    }
    Ok(page_url(state, headers, code))
}

pub async fn qr_svg(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let url = checked_url(&state, &headers, &code).await?;
    let svg = crate::qr::svg(&url).map_err(|e| WebError::internal("qr svg", &e))?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response())
}

pub async fn qr_png(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, WebError> {
    let url = checked_url(&state, &headers, &code).await?;
    let png = crate::qr::png(&url, 8).map_err(|e| WebError::internal("qr png", &e))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}
