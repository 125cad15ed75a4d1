//! Years side by side (the county's question "how did it go, year by year?"): a village's or a
//! region's operating and total income for every year with books, each with its growth on the year
//! before in 元 and %, and, for a region of at most [`MATRIX_VILLAGES`] villages, each village's
//! operating income in every year. Figures and growth are the core's (`cunji_core::growth`).

use askama::Template;
use axum::response::Response;
use cunji_core::growth::Growth;
use cunji_core::region::Level;

use crate::html::{render, Layout, Shown, WebError};

/// Villages a region's year-by-village table lists at most: a county (a few hundred villages) fits;
/// a province's tens of thousands would make a page of megabytes, so it shows its totals only.
pub const MATRIX_VILLAGES: usize = 1_000;

pub struct YearRow {
    pub year: i32,
    pub villages: String,
    pub operating: String,
    pub operating_change: String,
    pub operating_percent: String,
    pub total: String,
    pub total_change: String,
    pub total_percent: String,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct Page {
    layout: Layout,
    name: String,
    code: String,
    is_village: bool,
    rows: Vec<YearRow>,
    years: Vec<i32>,
    /// (code, name, operating income per year) for the villages of a region.
    matrix: Vec<(String, String, Vec<String>)>,
    matrix_left_out: usize,
}

fn year_row(year: i32, villages: String, operating: Growth, total: Growth) -> YearRow {
    YearRow {
        year,
        villages,
        operating: operating.now.display_or_dash(),
        operating_change: operating.change().display_or_dash(),
        operating_percent: operating.percent().unwrap_or_else(|| "—".into()),
        total: total.now.display_or_dash(),
        total_change: total.change().display_or_dash(),
        total_percent: total.percent().unwrap_or_else(|| "—".into()),
    }
}

pub async fn page(ask: super::Ask) -> Result<Response, WebError> {
    let super::Ask { state, user, q } = ask;
    let years = state.years().await?;
    let latest = years.last().copied().unwrap_or(2024);
    let data = state.data(latest).await?;
    let code = super::regions::chosen_region(&user, &data.regions, q.region.as_deref())?;
    let name = data
        .regions
        .get(&code)
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let standard = cunji_core::measure::Measure::standard_shared();
    let (total_m, operating_m) = (&standard[0], &standard[1]);
    let books = &data.books;
    let is_village = code.level() == Level::Village;
    let villages: Vec<&cunji_core::region::RegionCode> = if is_village {
        vec![&code]
    } else {
        data.regions
            .with_prefix(code.prefix())
            .filter(|r| r.level() == Level::Village)
            .map(|r| &r.code)
            .collect()
    };
    let mut rows = Vec::new();
    if is_village {
        for &y in years.iter().rev() {
            let g = |m| cunji_core::growth::of_village(books, &data.regions, &code, m, y);
            let (o, t) = (g(operating_m), g(total_m));
            if o.now.is_none() {
                rows.push(year_row(y, "尚未报送".into(), o, t));
            } else {
                rows.push(year_row(y, String::new(), o, t));
            }
        }
    } else {
        let by = |m| cunji_core::growth::of_region_by_year(books, &villages, m, &years);
        let (o, t) = (by(operating_m), by(total_m));
        for ((y, og, n), (_, tg, _)) in o.into_iter().zip(t).rev() {
            rows.push(year_row(y, format!("{n} / {}", villages.len()), og, tg));
        }
    }
    let shown: Vec<i32> = years.iter().rev().copied().collect();
    let matrix = if is_village || villages.len() > MATRIX_VILLAGES {
        Vec::new()
    } else {
        villages
            .iter()
            .map(|v| {
                let cells = shown
                    .iter()
                    .map(|y| {
                        books
                            .own(v, *y)
                            .filter(|b| b.has_data())
                            .map(|b| operating_m.value(&b.totals))
                            .display_or_dash()
                    })
                    .collect();
                let n = data
                    .regions
                    .get(v)
                    .map(|r| r.name.clone())
                    .unwrap_or_default();
                (v.to_string(), n, cells)
            })
            .collect()
    };
    let page = Page {
        layout: Layout::new(format!("{name} 历年对比"), Some(&user)),
        matrix_left_out: if is_village || villages.len() <= MATRIX_VILLAGES {
            0
        } else {
            villages.len()
        },
        name,
        code: code.to_string(),
        is_village,
        rows,
        years: shown,
        matrix,
    };
    Ok(render(&page))
}
