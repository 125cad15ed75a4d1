//! Public pages, no login: what a village has published, behind a QR code on its notice board. These
//! URLs are printed on paper: `/public/`, `/public/village/{code}`, `…/qr.svg`, `…/qr.png`, `…/notice`
//! must never change.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use cunji_core::region::{Level, RegionCode};

use crate::html::{not_found, render, Layout, WebError};
use crate::state::AppState;

mod contracts;
mod village;

/// What a public page reads a request with: the application, and the headers (the host a QR code
/// names, the reader's text size).
pub struct Reader {
    state: AppState,
    headers: HeaderMap,
}

impl axum::extract::FromRequestParts<AppState> for Reader {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let headers = parts.headers.clone();
        Ok(Reader {
            state: state.clone(),
            headers,
        })
    }
}

pub use village::village;
use village::{page_url, qr_of, village_data, NoticePage, NO_PUBLIC_URL_ZH};

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
    /// `饶阳县村务公开`: the place every village listed belongs to, in the title and the heading.
    title: String,
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
/// The county (or the deepest region above it) that every listed village, or the scope, belongs to;
/// with the township when they share one. Empty for a register of several provinces.
fn shared_place(
    regions: &cunji_core::region::RegionSet,
    villages: &[&cunji_core::region::Region],
    scope: Option<&RegionCode>,
) -> String {
    let mut shared: Vec<RegionCode> = match (villages.first(), scope) {
        (Some(v), _) => v.code.ancestors(),
        (None, Some(s)) => s.ancestors().into_iter().chain([s.clone()]).collect(),
        (None, None) => Vec::new(),
    };
    for v in villages {
        let mine = v.code.ancestors();
        let same = shared.iter().zip(&mine).take_while(|(a, b)| a == b).count();
        shared.truncate(same);
    }
    let from = shared
        .iter()
        .position(|c| c.level() >= Level::County)
        .unwrap_or(shared.len().saturating_sub(1));
    shared[from.min(shared.len())..]
        .iter()
        .filter_map(|c| regions.get(c).map(|r| r.name.as_str()))
        .collect()
}

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
    let title = format!(
        "{}村务公开",
        shared_place(&regions, &villages, scope.as_ref())
    );
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
        layout: Layout::new(&title, None).for_reader(&headers, "/public/"),
        title,
        crumbs,
        children,
        townships,
        query,
        found,
        found_more,
    }))
}

pub async fn notice(r: Reader, Path(code): Path<String>) -> Result<Response, WebError> {
    let state = r.state;
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
        Some(b) => {
            let mut rows: Vec<(String, String)> = [&standard[0], &standard[1], &standard[3]]
                .iter()
                .map(|m| (m.name.clone(), m.value(&b.totals).display()))
                .collect();
            // Expenses in one line: what the income paid for, as the notice board shows it.
            let spent = cunji_core::money::FenSum::of(
                cunji_core::account::Account::ALL
                    .iter()
                    .filter(|a| !a.is_income())
                    .map(|a| b.totals[a.index()]),
            );
            rows.insert(1, ("总支出".into(), spent.saturated().display()));
            rows
        }
        None => Vec::new(),
    };
    let grants = village::public_grants(&state, &v).await?;
    let contracts =
        contracts::public_contracts(&v.code, &v.years, &v.data)?.map(|k| k.for_notice());
    let url = page_url(&state, v.code.as_str());
    let page = NoticePage {
        layout: Layout::new(format!("{} {} 村务公开栏", v.place, v.name), None),
        name: v.name,
        place: v.place,
        qr: qr_of(&url)?,
        url,
        no_url: NO_PUBLIC_URL_ZH,
        latest: v.rewards.into_iter().next(),
        income,
        year,
        grants,
        contracts,
        phone: v.phone,
    };
    Ok(render(&page))
}

async fn checked_url(state: &AppState, code: &str) -> Result<String, WebError> {
    let c = RegionCode::parse(code).map_err(|_| not_found("这个村"))?;
    let regions = state.regions().await?;
    if regions.get(&c).is_none_or(|r| r.level() != Level::Village) {
        return Err(not_found("这个村"));
    }
    page_url(state, code).ok_or_else(|| WebError::NotFound(NO_PUBLIC_URL_ZH.to_string()))
}

pub async fn qr_svg(r: Reader, Path(code): Path<String>) -> Result<Response, WebError> {
    let state = r.state;
    let url = checked_url(&state, &code).await?;
    let svg = crate::qr::svg(&url).map_err(|e| WebError::internal("qr svg", &e))?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response())
}

pub async fn qr_png(r: Reader, Path(code): Path<String>) -> Result<Response, WebError> {
    let state = r.state;
    let url = checked_url(&state, &code).await?;
    let png = crate::qr::png(&url, 8).map_err(|e| WebError::internal("qr png", &e))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}
