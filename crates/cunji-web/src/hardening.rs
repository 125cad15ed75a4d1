//! What every request and response passes through (issue #18): a time limit, security headers, no
//! caching of signed-in pages, `Secure` cookies and HSTS behind https, and one log line per request
//! (method, path, status, latency, user — never the query, a body, a cookie or a token).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// A page, a report or a form: a minute is far past the slowest measured (a province's first report
/// of a data version, 3 s).
pub const REQUEST_TIME_LIMIT: Duration = Duration::from_secs(60);
/// An upload of up to 64 MB over a slow county line, then its check (10M rows: 17 s).
pub const UPLOAD_TIME_LIMIT: Duration = Duration::from_secs(15 * 60);
/// The body of a form or a JSON request (the largest, a resolution with its awards, is a few KB).
pub const FORM_BODY_LIMIT: usize = 256 * 1024;

/// Scripts and styles from this server only, no frames, no plugins; images may be inline data
/// (the QR code's PNG is served, the charts are inline SVG).
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The signed-in user of a request, filled in by the extractor that reads the session, for the
/// request's log line.
#[derive(Clone, Default)]
pub struct LogUser(Arc<OnceLock<String>>);

impl LogUser {
    pub fn set(&self, username: &str) {
        let _ = self.0.set(username.to_string());
    }
}

fn is_upload(path: &str) -> bool {
    path == "/import" || path.ends_with("/attachments") || path.starts_with("/api/imports")
}

/// Runs the request within its time limit, then sets the headers and writes the log line.
pub async fn harden(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    // The path alone: a query may carry a token (`/import?_csrf=…` is refused, but would be logged).
    let path = req.uri().path().to_string();
    let user = LogUser::default();
    req.extensions_mut().insert(user.clone());
    let limit = if is_upload(&path) {
        UPLOAD_TIME_LIMIT
    } else {
        REQUEST_TIME_LIMIT
    };
    // A request past its limit is dropped: an import's transaction then rolls back (nothing stored).
    let mut res = match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(%method, %path, limit_s = limit.as_secs(), "request timed out");
            crate::html::WebError::Unavailable("处理超时，未保存任何改动，请稍后重试".into())
                .into_response()
        }
    };
    let https = state
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    set_headers(&mut res, &path, https);
    let status = res.status().as_u16();
    let latency_ms = started.elapsed().as_millis() as u64;
    let who = user.0.get().map_or("-", |u| u.as_str());
    tracing::info!(target: "cunji::request", %method, %path, status, latency_ms, user = who, "request");
    res
}

fn set_headers(res: &mut Response, path: &str, https: bool) {
    let h = res.headers_mut();
    let fixed = |v: &'static str| HeaderValue::from_static(v);
    h.insert(header::CONTENT_SECURITY_POLICY, fixed(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, fixed("nosniff"));
    h.insert(header::REFERRER_POLICY, fixed("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, fixed("DENY"));
    // Signed-in pages and downloads are never kept by a browser or a proxy; the stylesheet, the
    // script and the public pages may be.
    let shared = path.starts_with("/static/") || path.starts_with("/public");
    if !shared && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, fixed("no-store"));
    }
    if https {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            fixed("max-age=31536000; includeSubDomains"),
        );
        let cookies: Vec<HeaderValue> = h
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|c| c.to_str().ok())
            .filter_map(|c| HeaderValue::from_str(&format!("{c}; Secure")).ok())
            .collect();
        if !cookies.is_empty() {
            h.remove(header::SET_COOKIE);
            for c in cookies {
                h.append(header::SET_COOKIE, c);
            }
        }
    }
}
