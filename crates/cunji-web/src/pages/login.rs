//! Signing in and out.

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use crate::auth::{
    hash_password_in, random_token, session_user, token_hash, verify_password_in,
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_TTL_SECS,
};
use crate::html::{error_page, render, Layout};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    csrf: String,
}

pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if matches!(session_user(&state, &headers).await, Ok(Some(_))) {
        return Redirect::to("/dashboard").into_response();
    }
    login_page(&state, None, StatusCode::OK)
}

fn login_page(state: &AppState, error: Option<String>, status: StatusCode) -> Response {
    let (csrf, signed) = state.login_key.issue();
    let page = LoginPage {
        layout: Layout::new("登录", None).with_flash("error", error),
        csrf: csrf.clone(),
    };
    let cookie = format!("{LOGIN_CSRF_COOKIE}={signed}; Path=/login; HttpOnly; SameSite=Strict");
    (status, [(header::SET_COOKIE, cookie)], render(&page)).into_response()
}

/// Characters of a password that are hashed: longer ones are cut (a password is typed by a person).
const MAX_PASSWORD_CHARS: usize = 1_024;

#[derive(serde::Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    Form(f): Form<LoginForm>,
) -> Response {
    let name = f.username.trim();
    let blocked = || {
        error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "这个用户名在这台电脑上登录失败次数过多，请 15 分钟后再试",
        )
    };
    if state.limiter.is_blocked(name, addr.ip()) {
        return blocked();
    }
    // A password is hashed only with a permit: hashing takes 19 MiB and tens of milliseconds, and
    // 250 concurrent logins once took the server to 6.9 GB.
    let Some(mut permit) = state.hashing.permit().await else {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "现在登录的人较多，请稍等片刻再试",
        );
    };
    // Counted when it starts, before hashing: concurrent guesses cannot slip past the count.
    if !state.limiter.begin(name, addr.ip()) {
        return blocked();
    }
    let user = if name.chars().count() > crate::auth::KEY_CHARS {
        None
    } else {
        state
            .session_store()
            .user_by_name(name)
            .await
            .ok()
            .flatten()
    };
    let password: String = f.password.chars().take(MAX_PASSWORD_CHARS).collect();
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let ok = permit
        .run(move |memory| match stored {
            Some(stored) => verify_password_in(&password, &stored, memory),
            None => {
                // Spend the same time on an unknown user name, so timing does not tell which
                // names exist.
                let _ = hash_password_in(&password, memory);
                false
            }
        })
        .await
        .unwrap_or(false);
    drop(permit);
    let Some(user) = user.filter(|_| ok) else {
        return login_page(
            &state,
            Some("用户名或密码不对".into()),
            StatusCode::UNAUTHORIZED,
        );
    };
    state.limiter.succeed(name, addr.ip());
    let token = random_token();
    let csrf = random_token();
    if let Err(e) = state
        .session_store()
        .create_session(&token_hash(&token), user.id, &csrf, SESSION_TTL_SECS)
        .await
    {
        return error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            &crate::html::store_message(&e),
        );
    }
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_TTL_SECS}"
    );
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/dashboard".to_string()),
        ],
    )
        .into_response()
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = crate::auth::cookie_value(&headers, SESSION_COOKIE) {
        let _ = state.session_store().end_session(&token_hash(&token)).await;
    }
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/login".to_string()),
        ],
    )
        .into_response()
}
