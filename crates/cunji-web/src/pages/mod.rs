//! The pages, one module per area.

pub mod audit;
pub mod dashboard;
pub mod downloads;
pub mod entry;
pub mod login;
pub mod payfloor;
pub mod policy;
pub mod public;
pub mod village;
pub mod workflow;

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};

pub async fn home(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    headers: axum::http::HeaderMap,
) -> Redirect {
    if crate::auth::session_user(&state, &headers).await.is_some() {
        Redirect::to("/dashboard")
    } else {
        Redirect::to("/public/")
    }
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

pub async fn healthz(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
) -> Response {
    match state.store.latest_year().await {
        Ok(_) => axum::Json(serde_json::json!({ "status": "ok" })).into_response(),
        Err(e) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                serde_json::json!({ "status": "error", "error": crate::html::store_message(&e) }),
            ),
        )
            .into_response(),
    }
}

/// Query parameters most pages take.
#[derive(serde::Deserialize, Default)]
pub struct ViewQuery {
    pub region: Option<String>,
    pub year: Option<i32>,
    pub policy: Option<i64>,
    pub msg: Option<String>,
    pub err: Option<String>,
}

/// A redirect back to a page with a message to show.
pub fn back_with(path: &str, ok: Result<String, String>) -> Redirect {
    let (k, v) = match ok {
        Ok(m) => ("msg", m),
        Err(e) => ("err", e),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}{k}={}", pct(&v)))
}

/// Percent-encodes a query value.
pub fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
