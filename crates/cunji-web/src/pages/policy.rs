//! The active policy as readable rules; stored versions; a county admin installing a new one (the
//! what-if page, `whatif.rs`, saves through here under a new name).

use askama::Template;
use axum::extract::State;
use axum::response::{Redirect, Response};
use axum::Form;
use cunji_core::policy::Policy;

use super::back_with;
use crate::auth::{CountyAdmin, Role};
use crate::html::{render, Layout, WebError};
use crate::state::AppState;

pub struct Version {
    pub id: i64,
    pub name: String,
    pub active: bool,
    pub actor: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    layout: Layout,
    name: String,
    rules: Vec<String>,
    source: String,
    versions: Vec<Version>,
    is_admin: bool,
    csrf: String,
    /// The 监督电话 public pages and notices print.
    phone: String,
}

pub async fn page(ask: super::Ask) -> Result<Response, WebError> {
    let super::Ask { state, user, q } = ask;
    let (stored, policy) = match state.policy(q.policy).await {
        Ok(p) => (Some(p.0), Some(p.1)),
        Err(_) => (None, None),
    };
    let versions = state
        .store
        .policies()
        .await?
        .into_iter()
        .rev()
        .map(|p| Version {
            id: p.id,
            name: p.name,
            active: p.active,
            actor: p.actor,
            at: super::workflow::when(p.at),
        })
        .collect();
    let page = PolicyPage {
        layout: Layout::new("政策", Some(&user)).with_flashes(&q),
        name: policy
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "尚未设置政策".into()),
        rules: policy.as_ref().map(|p| p.describe_zh()).unwrap_or_default(),
        source: stored.map(|s| s.source).unwrap_or_default(),
        versions,
        is_admin: user.role == Role::CountyAdmin,
        csrf: user.csrf.clone(),
        phone: state
            .store
            .setting(cunji_store::settings::SUPERVISION_PHONE)
            .await?
            .unwrap_or_default(),
    };
    Ok(render(&page))
}

#[derive(serde::Deserialize)]
pub struct SaveForm {
    source: String,
    /// A what-if saved as a new policy names it: the name replaces the text's own.
    name: Option<String>,
}

/// Installs a policy (TOML text) as the active one, after checking it.
pub async fn save(
    State(state): State<AppState>,
    CountyAdmin(user): CountyAdmin,
    Form(f): Form<SaveForm>,
) -> Result<Redirect, WebError> {
    let mut source = f.source.replace("\r\n", "\n");
    if let Some(name) = f.name.as_deref() {
        source = match super::whatif::renamed(&state, &source, name).await? {
            Ok(s) => s,
            Err(e) => return Ok(back_with("/policy", Err(e))),
        };
    }
    let policy = match Policy::parse(&source) {
        Ok(p) => p,
        Err(e) => return Ok(back_with("/policy", Err(format!("政策有误：{e}")))),
    };
    if policy.is_empty() {
        return Ok(back_with("/policy", Err(Policy::EMPTY_ZH.to_string())));
    }
    let saved = state
        .store
        .save_policy(&policy.name, &source, true, &user.username)
        .await?;
    Ok(back_with(
        "/policy",
        Ok(format!(
            "已保存为政策 #{}，并设为当前政策。{}",
            saved.id,
            saved.stale_zh()
        )),
    ))
}
