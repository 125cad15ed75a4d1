//! The list of a region's villages for a year, as the county asks it: "which villages are still under
//! 5万? which grew, which fell, by how much?" Every count on the dashboard links here with its filter;
//! the list filters by band, township, growth and whether the village has reported, sorts by any
//! column, and exports what it shows (`/villages.csv`, the same query). Growth is the core's
//! (`cunji_core::growth`): the prior year compared as SPEC §2 says.

use askama::Template;
use axum::extract::Query;
use axum::response::Response;
use cunji_core::growth::{Direction, Growth};
use cunji_core::Fen;

use super::sorting::{headers, Column, Header};
use crate::html::{render, Layout, Shown, WebError};

/// The list's own query: filters and order (the region, year and policy come with `Ask`).
#[derive(serde::Deserialize, Default, Clone)]
pub struct ListQuery {
    pub band: Option<String>,
    pub township: Option<String>,
    /// `up`, `down`, `flat` or `unknown` (`cunji_core::growth::Direction`).
    pub growth: Option<String>,
    /// `yes` (has books for the year) or `no` (未报账).
    pub reported: Option<String>,
    pub sort: Option<String>,
    pub desc: Option<String>,
}

/// A village of the list with the figures it sorts by.
struct Item {
    code: String,
    name: String,
    township_code: String,
    township: String,
    income: Option<Fen>,
    growth: Growth,
    band: Option<String>,
    pool: Option<Fen>,
    reason: String,
}

pub struct Row {
    pub code: String,
    pub name: String,
    pub township: String,
    pub income: String,
    pub before: String,
    pub change: String,
    pub percent: String,
    pub band: String,
    pub pool: String,
    pub reason: String,
}

/// The columns of the list (the last: whether it holds amounts).
const COLUMNS: [Column; 9] = [
    ("code", "代码", false),
    ("name", "村", false),
    ("township", "乡镇", false),
    ("income", "经营性收入（元）", true),
    ("before", "上年（元）", true),
    ("change", "增减（元）", true),
    ("percent", "增幅", true),
    ("band", "分档", false),
    ("pool", "奖励总额上限（元）", true),
];

#[derive(Template)]
#[template(path = "villages.html")]
struct Page {
    layout: Layout,
    region_name: String,
    region_code: String,
    year: i32,
    headers: Vec<Header>,
    rows: Vec<Row>,
    total: usize,
    /// The filters as chosen, for the form and the export link.
    bands: Vec<(String, bool)>,
    townships: Vec<(String, String, bool)>,
    growths: Vec<(String, String, bool)>,
    reported: String,
    /// What the list shows, in words (`5万以下的村，增长的`).
    filter_zh: String,
    csv_href: String,
}

/// The list's villages: every listed village of the report, filtered and sorted as asked.
async fn items(
    view: &super::RegionView,
    q: &ListQuery,
) -> Result<(Vec<Item>, Vec<(String, String)>), WebError> {
    let measure = cunji_core::measure::Measure::standard_shared()
        .iter()
        .find(|m| m.key == "operating_income")
        .ok_or_else(|| WebError::internal("villages", &"no operating_income measure"))?;
    let mut townships: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    for v in &view.report.villages {
        let t = v.code.ancestors().last().cloned();
        let (tc, tn) = match t
            .as_ref()
            .and_then(|t| view.data.regions.get(t).map(|r| (t, r)))
        {
            Some((t, r)) => (t.to_string(), r.name.clone()),
            None => (String::new(), String::new()),
        };
        if !tc.is_empty() && !townships.iter().any(|(c, _)| c == &tc) {
            townships.push((tc.clone(), tn.clone()));
        }
        let growth = cunji_core::growth::of_village(
            &view.data.books,
            &view.data.regions,
            &v.code,
            measure,
            view.year,
        );
        out.push(Item {
            code: v.code.to_string(),
            name: v.name.clone(),
            township_code: tc,
            township: tn,
            income: v.measure("operating_income"),
            growth,
            band: v.band.clone(),
            pool: v.incentive.as_ref().map(|i| i.pool),
            reason: v
                .incentive
                .as_ref()
                .and_then(|i| i.reason)
                .map(|r| r.name_zh().to_string())
                .unwrap_or_default(),
        });
    }
    out.retain(|i| wanted(i, q));
    sort(&mut out, q);
    Ok((out, townships))
}

fn wanted(i: &Item, q: &ListQuery) -> bool {
    let band = q.band.as_deref().filter(|b| !b.is_empty());
    let township = q.township.as_deref().filter(|t| !t.is_empty());
    let growth = q.growth.as_deref().and_then(Direction::parse);
    band.is_none_or(|b| i.band.as_deref() == Some(b))
        && township.is_none_or(|t| i.township_code == t)
        && growth.is_none_or(|g| i.growth.direction() == g)
        && match q.reported.as_deref() {
            Some("yes") => i.income.is_some(),
            Some("no") => i.income.is_none(),
            _ => true,
        }
}

/// A sort column's figure: an amount, or a growth in hundredths of a percent (one kind a column).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum SortKey {
    Money(cunji_core::Fen),
    Share(i128),
}

/// Sorts by the asked column (code order by default); villages without the figure sort last either
/// way, and ties keep code order.
fn sort(items: &mut [Item], q: &ListQuery) {
    let desc = q.desc.as_deref() == Some("1");
    let key = q.sort.as_deref().unwrap_or("code");
    let amount = |i: &Item| -> Option<SortKey> {
        match key {
            "income" => i.income.map(SortKey::Money),
            "before" => i.growth.before.map(SortKey::Money),
            "change" => i.growth.change().map(SortKey::Money),
            "percent" => i.growth.basis_points().map(SortKey::Share),
            "pool" => i.pool.map(SortKey::Money),
            _ => None,
        }
    };
    items.sort_by(|a, b| {
        use std::cmp::Ordering;
        let text = |i: &Item| -> String {
            match key {
                "name" => i.name.clone(),
                "township" => i.township.clone(),
                "band" => i.band.clone().unwrap_or_default(),
                _ => i.code.clone(),
            }
        };
        let by = if COLUMNS.iter().any(|c| c.0 == key && c.2) {
            match (amount(a), amount(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => return Ordering::Less,
                (None, Some(_)) => return Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        } else {
            text(a).cmp(&text(b))
        };
        let by = if desc { by.reverse() } else { by };
        by.then_with(|| a.code.cmp(&b.code))
    });
}

fn row(i: &Item) -> Row {
    Row {
        code: i.code.clone(),
        name: i.name.clone(),
        township: i.township.clone(),
        income: i.income.map_or_else(|| "未报账".into(), |f| f.display()),
        before: i.growth.before.display_or_dash(),
        change: i.growth.change().display_or_dash(),
        percent: i.growth.percent().unwrap_or_else(|| "—".into()),
        band: i.band.clone().unwrap_or_default(),
        pool: i.pool.display_or_dash(),
        reason: i.reason.clone(),
    }
}

/// The query string of the list with `sort`/`desc` replaced (`None` keeps them).
fn query(view: &super::RegionView, q: &ListQuery, sort: Option<(&str, bool)>) -> String {
    let mut parts = vec![
        format!("region={}", view.region),
        format!("year={}", view.year),
    ];
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", super::pct(v)));
        }
    };
    put("band", &q.band);
    put("township", &q.township);
    put("growth", &q.growth);
    put("reported", &q.reported);
    match sort {
        Some((key, desc)) => {
            parts.push(format!("sort={key}"));
            if desc {
                parts.push("desc=1".into());
            }
        }
        None => {
            put("sort", &q.sort);
            put("desc", &q.desc);
        }
    }
    parts.join("&")
}

fn filter_zh(q: &ListQuery, townships: &[(String, String)]) -> String {
    let mut words = Vec::new();
    if let Some(t) = q.township.as_deref().filter(|t| !t.is_empty()) {
        let name = townships.iter().find(|(c, _)| c == t).map_or(t, |(_, n)| n);
        words.push(name.to_string());
    }
    if let Some(b) = q.band.as_deref().filter(|b| !b.is_empty()) {
        words.push(format!("分档为“{b}”"));
    }
    if let Some(d) = q.growth.as_deref().and_then(Direction::parse) {
        words.push(format!("经营性收入比上年{}", d.name_zh()));
    }
    match q.reported.as_deref() {
        Some("yes") => words.push("已报账".into()),
        Some("no") => words.push("未报账".into()),
        _ => {}
    }
    if words.is_empty() {
        "全部村".into()
    } else {
        format!("{}的村", words.join("、"))
    }
}

pub async fn list(ask: super::Ask, Query(q): Query<ListQuery>) -> Result<Response, WebError> {
    let view = super::RegionView::of(ask).await?;
    let (items, townships) = items(&view, &q).await?;
    let (sort_key, desc) = (
        q.sort.clone().unwrap_or_else(|| "code".into()),
        q.desc.as_deref() == Some("1"),
    );
    let headers = headers(&COLUMNS, &sort_key, desc, |key, reversed| {
        format!("/villages?{}", query(&view, &q, Some((key, reversed))))
    });
    let band_names: Vec<String> = view
        .report
        .regions
        .iter()
        .find(|r| r.code == view.region)
        .map(|r| r.bands.0.iter().map(|(k, _)| k.clone()).collect())
        .unwrap_or_default();
    let chosen = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
    let region_name = view.region_name();
    let page = Page {
        layout: Layout::new(
            format!("{region_name} {} 年村级台账", view.year),
            Some(&view.user),
        ),
        region_code: view.region.to_string(),
        year: view.year,
        headers,
        total: items.len(),
        rows: items.iter().map(row).collect(),
        bands: band_names
            .iter()
            .map(|b| (b.clone(), chosen(&q.band, b)))
            .collect(),
        growths: [
            Direction::Up,
            Direction::Down,
            Direction::Flat,
            Direction::Unknown,
        ]
        .iter()
        .map(|d| {
            (
                d.key().to_string(),
                d.name_zh().to_string(),
                chosen(&q.growth, d.key()),
            )
        })
        .collect(),
        reported: q.reported.clone().unwrap_or_default(),
        filter_zh: filter_zh(&q, &townships),
        csv_href: format!("/villages.csv?{}", query(&view, &q, None)),
        townships: townships
            .into_iter()
            .map(|(c, n)| {
                let on = chosen(&q.township, &c);
                (c, n, on)
            })
            .collect(),
        region_name,
    };
    Ok(render(&page))
}

/// `/villages.csv`: what the list shows, in its order, as Excel and WPS open it (UTF-8 with a BOM,
/// CRLF line endings).
pub async fn export(ask: super::Ask, Query(q): Query<ListQuery>) -> Result<Response, WebError> {
    let view = super::RegionView::of(ask).await?;
    let (items, townships) = items(&view, &q).await?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let bad = |e: csv::Error| WebError::internal("villages export", &e);
    let headers = COLUMNS.iter().map(|c| c.1).chain(["说明"]);
    w.write_record(headers).map_err(bad)?;
    for r in items.iter().map(row) {
        w.write_record([
            &r.code,
            &r.name,
            &r.township,
            &r.income,
            &r.before,
            &r.change,
            &r.percent,
            &r.band,
            &r.pool,
            &r.reason,
        ])
        .map_err(bad)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| WebError::internal("villages export", &e.into_error()))?;
    let region_name = view.region_name();
    let name = format!(
        "{region_name}{}年村级台账（{}）.csv",
        view.year,
        filter_zh(&q, &townships)
    );
    Ok(super::downloads::download(
        bytes,
        "text/csv; charset=utf-8",
        (&name, "cunji-villages.csv"),
    ))
}
