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
    let res = match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(%method, %path, limit_s = limit.as_secs(), "request timed out");
            crate::html::WebError::Unavailable("处理超时，未保存任何改动，请稍后重试".into())
                .into_response()
        }
    };
    let mut res = in_chinese(res, &method, &path).await;
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

/// axum's own refusals, made before a handler runs (a path or query that does not parse —
/// `Cannot parse "abc" to a i64` —, a body that is not JSON, a wrong content type, an unknown address
/// or method), are English `text/plain` or empty. They are answered in Chinese here, as
/// `{ "error": … }` under `/api/` and as an error page elsewhere; the English detail goes to the log.
/// No handler of cunji answers `text/plain`, so nothing of its own is rewritten.
async fn in_chinese(res: Response, method: &axum::http::Method, path: &str) -> Response {
    let status = res.status();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let framework = status.is_client_error()
        && (content_type.starts_with("text/plain")
            || (content_type.is_empty() && matches!(status.as_u16(), 404 | 405)));
    if !framework {
        return res;
    }
    let (parts, body) = res.into_parts();
    // A rejection's text is a line or two; anything longer is not one of axum's.
    let detail = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    tracing::info!(%method, path, status = status.as_u16(), %detail, "request refused before its handler");
    let message = rejection_zh(status, method, &detail);
    let mut zh = if path.starts_with("/api/") {
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    } else {
        crate::html::error_page(status, &message)
    };
    // Keep what the refusal told the client besides its text (`Allow` of a 405).
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        zh.headers_mut().insert(header::ALLOW, allow.clone());
    }
    zh
}

/// The Chinese for an axum rejection of `status` whose English text is `detail`.
fn rejection_zh(
    status: axum::http::StatusCode,
    method: &axum::http::Method,
    detail: &str,
) -> String {
    // `missing field `amount`` and `unknown field `x`` name the field; that much is kept.
    let field = detail
        .split_once("field `")
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name.chars().take(40).collect::<String>());
    let field_note = field.map_or(String::new(), |f| format!("（字段 {f}）"));
    match status.as_u16() {
        400 if detail.contains("query string") => {
            "网址中的查询参数格式不对（例如年度应为数字），请检查网址".to_string()
        }
        400 if detail.contains("Cannot parse") || detail.contains("Invalid URL") => {
            "网址中的参数格式不对（例如编号应为数字），请检查网址".to_string()
        }
        400 if detail.contains("JSON") => {
            format!("请求内容不是有效的 JSON{field_note}")
        }
        400 if detail.contains("buffer") => {
            "请求内容没有传完（网络中断或过慢），未做任何改动，请重试".to_string()
        }
        400 => "请求格式不对，请检查后重试".to_string(),
        404 => "未找到这个页面，请检查网址".to_string(),
        405 => format!("这个网址不接受 {method} 请求"),
        413 => "请求内容过大".to_string(),
        415 => "请求的内容类型不对：JSON 接口须用 Content-Type: application/json，表单须用 \
                application/x-www-form-urlencoded"
            .to_string(),
        422 => format!("请求内容的字段缺少、多余或类型不对{field_note}"),
        _ => "请求无法处理，请检查后重试".to_string(),
    }
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
