//! Every state-changing request must carry the CSRF token of its session: a `_csrf` form field (for a
//! file upload, the first field of the multipart body, checked by [`UploadCsrf::check`] before the file
//! is read), or the `X-CSRF-Token` header for the JSON API. The login
//! form, which has no session yet, uses a double-submit cookie.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{cookie_value, session_user, LOGIN_CSRF_COOKIE};
use crate::state::AppState;

/// A form's body is read here for its token, so the form limit applies here first.
const MAX_FORM_BYTES: usize = crate::hardening::FORM_BODY_LIMIT;

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
        cookie_value(&headers, LOGIN_CSRF_COOKIE).and_then(|c| state.login_key.verify(&c))
    } else {
        match session_user(&state, &headers).await {
            Ok(u) => u.map(|u| u.csrf),
            Err(e) if api => {
                return (
                    e.status(),
                    axum::Json(serde_json::json!({ "error": e.message() })),
                )
                    .into_response()
            }
            Err(e) => return e.into_response(),
        }
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
        // A file upload carries its token as the form's first field (read by the handler before the
        // file, through `UploadCsrf`); only the import and a proposal's documents take uploads. The
        // token once travelled in the address, where it is logged and kept in the browser's history.
        if !takes_uploads(&path) {
            return refuse(false);
        }
        let mut req = req;
        req.extensions_mut().insert(PendingUpload(expected));
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) if crate::server::body_timed_out(&e) => return crate::server::body_too_slow(),
        Err(_) => return crate::html::error_page(StatusCode::PAYLOAD_TOO_LARGE, "表单过大"),
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

/// The paths that take a file: the import, and a proposal's documents (`/workflow/{code}/{year}/attachments`).
fn takes_uploads(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    path == "/import" || matches!(parts.as_slice(), ["", "workflow", _, _, "attachments"])
}

/// The session's token for an upload whose body is still to be read.
#[derive(Clone)]
pub struct PendingUpload(String);

/// What an upload handler must hold: it can only be had on a request that passed the guard above,
/// and the body's token must still be checked with [`UploadCsrf::check`].
pub struct UploadCsrf(String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for UploadCsrf {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<PendingUpload>() {
            Some(p) => Ok(UploadCsrf(p.0.clone())),
            None => Err(refuse(false)),
        }
    }
}

impl UploadCsrf {
    /// Reads the body's first field, which must be `_csrf` with the session's token.
    pub async fn check(&self, form: &mut axum::extract::Multipart) -> Result<(), Response> {
        let Ok(Some(field)) = form.next_field().await else {
            return Err(refuse(false));
        };
        if field.name() != Some("_csrf") {
            return Err(refuse(false));
        }
        match field.text().await {
            Ok(t) if t == self.0 => Ok(()),
            _ => Err(refuse(false)),
        }
    }
}
