//! The active policy as readable rules; stored versions; a county admin installing a new one (the
//! what-if page, `whatif.rs`, saves through here under a new name).

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
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
    let versions = user
        .store(&state)
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
        phone: user
            .store(&state)
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
    /// `1` once the administrator has seen what the policy changes and confirmed (issue #33).
    confirm: Option<String>,
}

/// What saving a policy would change, shown before it is saved: each village's pool under the
/// current and the new policy in the year views open on, and the unpaid proposals it sends back.
#[derive(Template)]
#[template(path = "policy_confirm.html")]
struct ConfirmPage {
    layout: Layout,
    csrf: String,
    name: String,
    source: String,
    year: i32,
    /// Villages whose pool changes: (name, before, after), the largest changes first, at most 50.
    changed: Vec<(String, String, String)>,
    changed_count: usize,
    villages: usize,
    total_before: String,
    total_after: String,
    /// Why the new policy gives no figures for the year (not in force, or no plan), if so.
    note: String,
    stale: Vec<String>,
    /// Villages whose band changes: (name, before, after), at most 50 listed.
    moved: Vec<(String, String, String)>,
    moved_count: usize,
}

/// Villages a confirmation lists by name: the rest are counted.
const CONFIRM_LISTED: usize = 50;

async fn confirm_page(
    state: &AppState,
    user: &crate::auth::User,
    policy: &Policy,
    source: String,
) -> Result<Response, WebError> {
    let (year, _) = state.opening_year().await?;
    let data = state.data(year).await?;
    let pools = |r: &cunji_core::report::Report| -> Pools {
        r.villages
            .iter()
            .map(|v| {
                let pool = v
                    .incentive
                    .as_ref()
                    .map_or(cunji_core::Fen::ZERO, |i| i.pool);
                (v.code.to_string(), (v.name.clone(), pool, v.band.clone()))
            })
            .collect()
    };
    let before = match state.policy(None).await {
        Ok((_, current)) => state
            .report(&current, &data, year, None)
            .await
            .map(|r| pools(&r))
            .unwrap_or_default(),
        Err(_) => Default::default(),
    };
    let (after, note) = match state.report(policy, &data, year, None).await {
        Ok(r) => (pools(&r), String::new()),
        Err(e) => (
            Default::default(),
            format!("按新政策算不出 {year} 年的数字：{}", e.message()),
        ),
    };
    let sum = |m: &Pools| {
        cunji_core::Fen::checked_sum(m.values().map(|(_, f, _)| *f))
            .unwrap_or(cunji_core::Fen::ZERO)
    };
    let moved = band_moves(&before, &after);
    let mut changed: Vec<(cunji_core::money::FenSum, String, String, String)> = after
        .iter()
        .filter_map(|(code, (name, a, _))| {
            let b = before.get(code).map_or(cunji_core::Fen::ZERO, |x| x.1);
            (a != &b).then(|| {
                let gap = (a.wide() - b.wide()).abs();
                (gap, name.clone(), b.display(), a.display())
            })
        })
        .collect();
    changed.sort_by_key(|x| std::cmp::Reverse(x.0));
    let stale = user
        .store(state)
        .repricings(policy)
        .await
        .map_err(WebError::from)?
        .iter()
        .map(|r| {
            let name = cunji_core::region::RegionCode::parse(&r.village)
                .ok()
                .and_then(|c| data.regions.get(&c).map(|x| x.name.clone()))
                .unwrap_or_else(|| r.village.clone());
            format!(
                "{name} {} 年：奖励总额上限 {} 元 → {} 元",
                r.year,
                r.change.pool_before.display(),
                r.change.pool_after.display()
            )
        })
        .collect();
    let page = ConfirmPage {
        layout: Layout::new("确认更换政策", Some(user)),
        csrf: user.csrf.clone(),
        name: policy.name.clone(),
        source,
        year,
        changed_count: changed.len(),
        villages: after.len().max(before.len()),
        total_before: sum(&before).display(),
        total_after: sum(&after).display(),
        changed: changed
            .into_iter()
            .take(CONFIRM_LISTED)
            .map(|(_, n, b, a)| (n, b, a))
            .collect(),
        note,
        stale,
        moved_count: moved.len(),
        moved: moved.into_iter().take(CONFIRM_LISTED).collect(),
    };
    Ok(render(&page))
}

/// Each village's (name, pool, band) in a report, by code.
type Pools = std::collections::BTreeMap<String, (String, cunji_core::Fen, Option<String>)>;

/// The villages whose band differs between the two plans, in code order: (name, before, after).
fn band_moves(before: &Pools, after: &Pools) -> Vec<(String, String, String)> {
    let shown = |b: &Option<String>| b.clone().unwrap_or_else(|| "不分档".to_string());
    after
        .iter()
        .filter_map(|(code, (name, _, a))| {
            let b = before.get(code).and_then(|x| x.2.clone());
            (before.contains_key(code) && &b != a).then(|| (name.clone(), shown(&b), shown(a)))
        })
        .collect()
}

/// Installs a policy (TOML text) as the active one, after checking it.
pub async fn save(
    State(state): State<AppState>,
    CountyAdmin(user): CountyAdmin,
    Form(f): Form<SaveForm>,
) -> Result<Response, WebError> {
    let mut source = f.source.replace("\r\n", "\n");
    if let Some(name) = f.name.as_deref() {
        source = match super::whatif::renamed(&state, &user, &source, name).await? {
            Ok(s) => s,
            Err(e) => return Ok(back_with("/policy", Err(e)).into_response()),
        };
    }
    let policy = match Policy::parse(&source) {
        Ok(p) => p,
        Err(e) => return Ok(back_with("/policy", Err(format!("政策有误：{e}"))).into_response()),
    };
    if policy.is_empty() {
        return Ok(back_with("/policy", Err(Policy::EMPTY_ZH.to_string())).into_response());
    }
    if f.confirm.as_deref() != Some("1") {
        return confirm_page(&state, &user, &policy, source).await;
    }
    let saved = user
        .store(&state)
        .save_policy(&policy.name, &source, true, &user.username)
        .await?;
    Ok(back_with(
        "/policy",
        Ok(format!(
            "已保存为政策 #{}，并设为当前政策。{}",
            saved.id,
            saved.stale_zh()
        )),
    )
    .into_response())
}
