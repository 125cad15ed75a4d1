//! The pages, one module per area.

pub mod audit;
pub mod compare;
pub mod contracts;
pub mod dashboard;
pub mod downloads;
pub mod entry;
pub mod formats;
pub mod import;
pub mod login;
pub mod payfloor;
pub mod policy;
pub mod public;
pub mod regions;
pub mod settings;
pub mod sorting;
pub mod village;
pub mod villages;
pub mod whatif;
pub mod workflow;

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};

pub async fn home(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    headers: axum::http::HeaderMap,
) -> Redirect {
    if matches!(
        crate::auth::session_user(&state, &headers).await,
        Ok(Some(_))
    ) {
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

/// The printed notice's stylesheet (A4, serif, room for the stamp).
pub async fn notice_stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/notice.css"),
    )
        .into_response()
}

/// The import form's progress script (no inline script: the pages' security policy allows scripts
/// from this server only).
pub async fn import_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/import.js"),
    )
        .into_response()
}

/// The free space `/healthz` asks for on the database's disk, in MiB: `CUNJI_MIN_FREE_MB`, default
/// 512 (an import of a province's year writes about that much to the log before it commits).
fn min_free_mib() -> u64 {
    std::env::var("CUNJI_MIN_FREE_MB")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(512)
}

/// Why the database's disk is too full to take writes, if it is (#32: a full disk was reported
/// healthy, and every write then failed).
fn disk_short(store: &cunji_store::Store) -> Option<String> {
    let free = store.free_bytes()?;
    let min = min_free_mib();
    (free < min.saturating_mul(1 << 20)).then(|| {
        format!(
            "磁盘空间不足：数据库所在磁盘只剩 {} MB（至少应有 {min} MB），写入可能失败，请清理磁盘",
            free >> 20
        )
    })
}

pub async fn healthz(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
) -> Response {
    let damage = state
        .damage
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if let Some(problem) = damage.or_else(|| disk_short(state.session_store())) {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "status": "error", "error": problem })),
        )
            .into_response();
    }
    match state.session_store().latest_year().await {
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

/// What an official's page starts from: the application, the signed-in user and the query (region,
/// year, policy, message).
pub struct Ask {
    pub state: crate::AppState,
    pub user: crate::auth::User,
    pub q: ViewQuery,
}

impl axum::extract::FromRequestParts<crate::AppState> for Ask {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::AppState,
    ) -> Result<Self, Response> {
        use axum::extract::Query;
        let crate::auth::Viewer(user) = crate::auth::Viewer::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Query(q) = Query::<ViewQuery>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Ask {
            state: state.clone(),
            user,
            q,
        })
    }
}

/// The report of the region a user asked for (or may see), in the year and under the policy asked for.
pub struct RegionView {
    pub user: crate::auth::User,
    pub year: i32,
    pub data: std::sync::Arc<cunji_store::LoadedData>,
    pub region: cunji_core::region::RegionCode,
    pub report: std::sync::Arc<cunji_core::report::Report>,
}

impl RegionView {
    /// The region, year and policy of the query, checked against what the user may read.
    pub async fn of(ask: Ask) -> Result<RegionView, crate::html::WebError> {
        let Ask { state, user, q } = ask;
        let state = &state;
        let year = match q.year {
            Some(y) => y,
            None => state.opening_year().await?.0,
        };
        let (_, policy) = state.policy(q.policy).await?;
        let data = state.data(year).await?;
        let region = regions::chosen_region(&user, &data.regions, q.region.as_deref())?;
        let report = state.report(&policy, &data, year, Some(&region)).await?;
        Ok(RegionView {
            user,
            year,
            data,
            region,
            report,
        })
    }

    /// The region's name, as the register gives it.
    pub fn region_name(&self) -> String {
        self.data
            .regions
            .get(&self.region)
            .map(|r| r.name.clone())
            .unwrap_or_default()
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
    /// A to-do list's filter (`/workflow`): a status key, `none`, `all`, or the user's own work.
    pub status: Option<String>,
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

pub use crate::html::pct;

impl crate::html::Layout {
    /// The message a redirect back carried in its query (`err` shown over `msg`).
    pub fn with_flashes(self, q: &ViewQuery) -> crate::html::Layout {
        self.with_flash("info", q.msg.clone())
            .with_flash("error", q.err.clone())
    }
}
