//! Downloads for Excel and WPS: the import templates and the report workbook of a region.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::auth::Viewer;
use crate::html::{not_found, WebError};

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

pub async fn report(ask: super::Ask) -> Result<Response, WebError> {
    let view = super::RegionView::of(ask).await?;
    let (year, region, report) = (view.year, &view.region, &view.report);
    let bytes =
        cunji_sheets::report_workbook(report).map_err(|e| WebError::internal("workbook", &e))?;
    Ok(xlsx(bytes, &format!("cunji-{region}-{year}.xlsx")))
}
