//! Downloads for Excel and WPS: the import templates and the report workbook of a region.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::auth::Viewer;
use crate::html::{not_found, WebError};
use crate::state::AppState;

/// A workbook as a download named `name` (Chinese, as the user saves it), with `fallback` (ASCII) for
/// programs that do not read RFC 5987 names.
fn xlsx(bytes: Vec<u8>, names: (&str, &str)) -> Response {
    let kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    download(bytes, kind, names)
}

/// A download of `kind` named `name`, with `fallback` (ASCII) for older programs.
pub fn download(bytes: Vec<u8>, kind: &str, (name, fallback): (&str, &str)) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
                    super::pct(name)
                ),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn template(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(file): Path<String>,
    Query(q): Query<YearQuery>,
) -> Result<Response, WebError> {
    let kind = file.strip_suffix(".xlsx").unwrap_or(&file);
    let regions = state.regions().await?;
    if kind == "statement-book" {
        return statement_book(&state, &regions, &user, q.year).await;
    }
    let villages = if kind == "regions" {
        Vec::new()
    } else {
        cunji_sheets::village_rows(&regions, user.scope.as_ref())
    };
    let kind_owned = kind.to_string();
    let bytes = state
        .blocking(move || cunji_sheets::template(&kind_owned, &villages))
        .await?
        .map_err(|e| WebError::internal("workbook", &e))?;
    let bytes = bytes.ok_or_else(|| not_found(&format!("“{kind}”模板")))?;
    let name = cunji_store::ImportKind::parse(kind).map_or(kind, |k| k.name_zh());
    Ok(xlsx(
        bytes,
        (
            &format!("{name}导入模板.xlsx"),
            &format!("cunji-{kind}.xlsx"),
        ),
    ))
}

#[derive(serde::Deserialize)]
pub struct YearQuery {
    year: Option<i32>,
}

/// The empty statement books (SPEC §14) of the user's villages for `year` (default: last year).
async fn statement_book(
    state: &AppState,
    regions: &cunji_core::region::RegionSet,
    user: &crate::auth::User,
    year: Option<i32>,
) -> Result<Response, WebError> {
    let last_year = crate::today()[..4].parse::<i32>().map_or(2024, |y| y - 1);
    let year = year
        .filter(|y| (1900..=2999).contains(y))
        .unwrap_or(last_year);
    let villages = cunji_sheets::village_rows(regions, user.scope.as_ref());
    // A county's villages, one sheet each: written on a blocking thread like every workbook.
    let bytes = state
        .blocking(move || cunji_sheets::statement_book_template(&villages, year))
        .await?
        .map_err(|e| WebError::internal("workbook", &e))?;
    Ok(xlsx(
        bytes,
        (
            &format!("{year}年度收益及收益分配表.xlsx"),
            &format!("cunji-statement-book-{year}.xlsx"),
        ),
    ))
}

pub async fn report(ask: super::Ask) -> Result<Response, WebError> {
    let state = ask.state.clone();
    let view = super::RegionView::of(ask).await?;
    let (year, region, report) = (view.year, &view.region, view.report.clone());
    let place = view
        .data
        .regions
        .get(region)
        .map_or(region.as_str(), |r| r.name.as_str())
        .to_string();
    // A province's workbook (tens of thousands of villages' rows) is seconds of CPU.
    let named = place.clone();
    let bytes = state
        .blocking(move || cunji_sheets::report_workbook(&report, &named))
        .await?
        .map_err(|e| WebError::internal("workbook", &e))?;
    let name = format!("{place}{year}年村集体经济报告.xlsx");
    Ok(xlsx(bytes, (&name, &format!("cunji-{region}-{year}.xlsx"))))
}
