//! Who may do what. Passwords are hashed with argon2id; sessions live in the database (only a hash of
//! the token is stored); every state-changing request carries the session's CSRF token; failed logins
//! are rate limited. Access is in the types: a handler that takes [`CountyAdmin`] cannot run for anyone
//! else, one that takes [`Writer`] never runs for an auditor, and scope checks name the region asked for.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::state::AppState;

pub const SESSION_COOKIE: &str = "cunji_session";
pub const LOGIN_CSRF_COOKIE: &str = "cunji_login_csrf";
pub const SESSION_TTL_SECS: i64 = 12 * 3600;

use crate::identity::cookie;
pub use crate::identity::{
    cookie_value, hash_password, hash_password_in, random_token, token_hash, verify_password,
    verify_password_in, Checked, Denied, HashMemory, LoginKey, RateLimiter, User, KEY_CHARS,
    LIMITER_KEYS,
};
pub use cunji_core::access::Role;

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        crate::html::error_page(self.status, &self.message)
    }
}

/// Any signed-in user (pages that only read).
pub struct Viewer(pub User);
/// A user who may change data: everyone but the auditor.
pub struct Writer(pub User);
/// A county administrator: closes and reopens years, files proposals, changes the policy, manages users.
pub struct CountyAdmin(pub User);
/// A township officer: records resolutions, approves, pays and publishes for the villages of a township.
pub struct TownshipOfficer(pub User);

/// The user of the request's session, if any; a database that cannot answer is an error (503 or
/// 500), not "not signed in" (it once sent every user to the login page while the database was down).
pub async fn session_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<User>, crate::html::WebError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let row = state.session_store().session(&token_hash(&token)).await?;
    Ok(row.map(User::signed_in))
}

/// Not signed in: pages redirect to the login page, the API answers 401.
pub struct NotSignedIn {
    api: bool,
}

impl IntoResponse for NotSignedIn {
    fn into_response(self) -> Response {
        if self.api {
            (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({ "error": "请先登录" })),
            )
                .into_response()
        } else {
            Redirect::to("/login").into_response()
        }
    }
}

pub enum AuthRejection {
    NotSignedIn(NotSignedIn),
    Denied(Denied),
    /// The session could not be looked up: the failure's own status, as JSON on /api/.
    Failed {
        error: crate::html::WebError,
        api: bool,
    },
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::NotSignedIn(n) => n.into_response(),
            AuthRejection::Denied(d) => d.into_response(),
            AuthRejection::Failed { error, api: true } => (
                error.status(),
                axum::Json(serde_json::json!({ "error": error.message() })),
            )
                .into_response(),
            AuthRejection::Failed { error, api: false } => error.into_response(),
        }
    }
}

async fn user_from_parts(parts: &Parts, state: &AppState) -> Result<User, AuthRejection> {
    let api = parts.uri.path().starts_with("/api/");
    let user = session_user(state, &parts.headers)
        .await
        .map_err(|error| AuthRejection::Failed { error, api })?
        .ok_or(AuthRejection::NotSignedIn(NotSignedIn { api }))?;
    if let Some(slot) = parts.extensions.get::<crate::hardening::LogUser>() {
        slot.set(&user.username);
    }
    Ok(user)
}

/// The signed-in user, if their role is one `allowed`; else refused with `refusal(role)`.
async fn user_whose_role(
    parts: &Parts,
    state: &AppState,
    allowed: impl Fn(Role) -> bool,
    refusal: impl Fn(Role) -> String,
) -> Result<User, AuthRejection> {
    let u = user_from_parts(parts, state).await?;
    if allowed(u.role) {
        Ok(u)
    } else {
        Err(AuthRejection::Denied(Denied::forbidden(refusal(u.role))))
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AuthRejection;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Viewer(user_from_parts(parts, state).await?))
    }
}

/// An extractor for users of some roles: `allowed` says which, `refusal` what a refused user reads.
macro_rules! role_extractor {
    ($name:ident, $allowed:expr, $refusal:expr) => {
        impl FromRequestParts<AppState> for $name {
            type Rejection = AuthRejection;
            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, Self::Rejection> {
                user_whose_role(parts, state, $allowed, $refusal)
                    .await
                    .map($name)
            }
        }
    };
}

role_extractor!(Writer, |r| r != Role::Auditor, |_| {
    "审计人员只能查看，不能修改数据".into()
});
role_extractor!(CountyAdmin, |r| r == Role::CountyAdmin, |r| {
    format!("这一操作只有县级管理员可以进行（您是{}）", r.name_zh())
});
role_extractor!(TownshipOfficer, |r| r == Role::TownshipOfficer, |r| {
    format!("这一操作由乡镇农经站进行（您是{}）", r.name_zh())
});
