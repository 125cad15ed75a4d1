//! Downloads for Excel and WPS: the import templates and the report workbook of a region.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::ViewQuery;
use crate::auth::Viewer;
use crate::html::{not_found, WebError};
use crate::state::AppState;

fn xlsx(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub async fn template(
    Viewer(_user): Viewer,
    Path(file): Path<String>,
) -> Result<Response, WebError> {
    let kind = file.strip_suffix(".xlsx").unwrap_or(&file);
    let bytes = cunji_sheets::template(kind).map_err(|e| WebError::internal("workbook", &e))?;
    let bytes = bytes.ok_or_else(|| not_found(&format!("“{kind}”模板")))?;
    Ok(xlsx(bytes, &format!("cunji-{kind}.xlsx")))
}

pub async fn report(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Query(q): Query<ViewQuery>,
) -> Result<Response, WebError> {
    let year = q.year.unwrap_or(state.latest_year().await);
    let (_, policy) = state.policy(q.policy).await?;
    let data = state.data(year).await?;
    let region = super::dashboard::chosen_region(&user, &data.regions, q.region.as_deref())?;
    let report = state.report(&policy, &data, year, Some(&region)).await?;
    let bytes =
        cunji_sheets::report_workbook(&report).map_err(|e| WebError::internal("workbook", &e))?;
    Ok(xlsx(bytes, &format!("cunji-{region}-{year}.xlsx")))
}
