//! Every state-changing request must carry the CSRF token of its session: a `_csrf` form field, the
//! `_csrf` query parameter for file uploads, or the `X-CSRF-Token` header for the JSON API. The login
//! form, which has no session yet, uses a double-submit cookie.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{cookie_value, session_user, LOGIN_CSRF_COOKIE};
use crate::state::AppState;

const MAX_FORM_BYTES: usize = 1 << 20;

fn field<'a>(form: &'a str, name: &str) -> Option<&'a str> {
    form.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn refuse(api: bool) -> Response {
    let msg = "请求缺少有效的 CSRF 令牌（页面可能已过期，请刷新后重试）";
    if api {
        (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({ "error": msg })),
        )
            .into_response()
    } else {
        crate::html::error_page(StatusCode::FORBIDDEN, msg)
    }
}

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    let api = path.starts_with("/api/");
    let headers = req.headers().clone();
    let expected = if path == "/login" {
        cookie_value(&headers, LOGIN_CSRF_COOKIE)
    } else {
        session_user(&state, &headers).await.map(|u| u.csrf)
    };
    let Some(expected) = expected else {
        return refuse(api);
    };

    if api {
        let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
        return if given == Some(expected.as_str()) {
            next.run(req).await
        } else {
            refuse(true)
        };
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        let query = req.uri().query().unwrap_or("");
        return if field(query, "_csrf") == Some(expected.as_str()) {
            next.run(req).await
        } else {
            refuse(false)
        };
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return crate::html::error_page(StatusCode::PAYLOAD_TOO_LARGE, "表单过大");
    };
    let ok = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|f| field(f, "_csrf"))
        == Some(expected.as_str());
    if !ok {
        return refuse(false);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
