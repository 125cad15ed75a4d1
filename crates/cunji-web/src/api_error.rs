//! The API's refusals as JSON (`{ "error": … }`, with `rows` for rows of bad input): below the API
//! and the extractors (`scope.rs`) that refuse a request before any handler runs.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use cunji_store::import::ImportError;
use serde_json::json;

use crate::html::WebError;

pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// A refused or failed API call: its status and `{ "error": … }` (with `rows` for rows of bad input).
pub struct ApiError(Response);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0
    }
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> Self {
        ApiError(error(e.status(), e.message()))
    }
}

impl From<cunji_store::StoreError> for ApiError {
    fn from(e: cunji_store::StoreError) -> Self {
        WebError::from(e).into()
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Rows(rows) => ApiError((
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "error": "输入有误，未存储", "rows": rows.iter().map(|r| json!({ "column": r.column, "message": r.message })).collect::<Vec<_>>() })),
            )
                .into_response()),
            ImportError::Store(e) => e.into(),
        }
    }
}
