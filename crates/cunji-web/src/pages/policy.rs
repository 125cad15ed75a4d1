//! The active policy as readable rules; stored versions; a county admin installing a new one; and the
//! what-if page: change a plan's rate, tiers, caps or gates and compare every village's pool under
//! both plans before saving.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Redirect, Response};
use axum::Form;
use cunji_core::money::Fen;
use cunji_core::policy::Policy;

use super::back_with;
use crate::auth::{CountyAdmin, Role, Viewer};
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
}

/// Installs a policy (TOML text) as the active one, after checking it.
pub async fn save(
    State(state): State<AppState>,
    CountyAdmin(user): CountyAdmin,
    Form(f): Form<SaveForm>,
) -> Result<Redirect, WebError> {
    let source = f.source.replace("\r\n", "\n");
    let policy = match Policy::parse(&source) {
        Ok(p) => p,
        Err(e) => return Ok(back_with("/policy", Err(format!("政策有误：{e}")))),
    };
    let id = state
        .store
        .save_policy(&policy.name, &source, true, &user.username)
        .await?;
    Ok(back_with(
        "/policy",
        Ok(format!("已保存为政策 #{id}，并设为当前政策")),
    ))
}

#[derive(serde::Deserialize, Default)]
pub struct WhatIf {
    year: Option<i32>,
    region: Option<String>,
    rate: Option<String>,
    tiers: Option<String>,
    cap: Option<String>,
    min_level: Option<String>,
    min_base: Option<String>,
}

pub struct Compare {
    pub code: String,
    pub name: String,
    pub before: String,
    pub after: String,
    pub change: String,
}

#[derive(Template)]
#[template(path = "whatif.html")]
struct WhatIfPage {
    layout: Layout,
    year: i32,
    region: String,
    schedule: String,
    rate: String,
    tiers: String,
    cap: String,
    min_level: String,
    min_base: String,
    total_before: String,
    total_after: String,
    rows: Vec<Compare>,
    new_source: String,
    is_admin: bool,
    csrf: String,
}

/// The [incentive] keys a what-if may change, applied to the policy's TOML text.
fn changed_source(source: &str, w: &WhatIf) -> Result<String, String> {
    let mut table: toml::Table = source
        .parse()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    let Some(toml::Value::Table(inc)) = table.get_mut("incentive") else {
        return Err("当前政策没有激励办法（[incentive]）".into());
    };
    let money = |s: &str| toml::Value::String(s.trim().to_string());
    if let Some(r) = w.rate.as_deref().filter(|s| !s.trim().is_empty()) {
        if inc.contains_key("rate") || !inc.contains_key("tiers") {
            inc.insert("rate".into(), toml::Value::String(r.trim().into()));
        }
    }
    if let Some(t) = w.tiers.as_deref().filter(|s| !s.trim().is_empty()) {
        let mut tiers = Vec::new();
        for part in t
            .split([',', '，', ';', '；'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (from, rate) = part
                .split_once([':', '：'])
                .ok_or_else(|| format!("档位“{part}”应写作 起点:比例，如 30000:8%"))?;
            let mut tier = toml::Table::new();
            tier.insert("from".into(), money(from));
            tier.insert("rate".into(), toml::Value::String(rate.trim().into()));
            tiers.push(toml::Value::Table(tier));
        }
        inc.insert("tiers".into(), toml::Value::Array(tiers));
    }
    for (key, value) in [
        ("cap", &w.cap),
        ("min_level", &w.min_level),
        ("min_base", &w.min_base),
    ] {
        match value.as_deref().map(str::trim) {
            None => {}
            Some("") => {
                inc.remove(key);
            }
            Some(v) => {
                inc.insert(key.into(), money(v));
            }
        }
    }
    toml::to_string(&table).map_err(|e| format!("无法写出调整后的政策：{e}"))
}

pub async fn whatif(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Query(w): Query<WhatIf>,
) -> Result<Response, WebError> {
    let year = w.year.unwrap_or(state.latest_year().await);
    let (stored, before) = state.policy(None).await?;
    let data = state.data(year).await?;
    let region = super::dashboard::chosen_region(&user, &data.regions, w.region.as_deref())?;
    let Some(plan) = &before.incentive else {
        return Err(crate::html::bad_request(
            "当前政策没有激励办法（[incentive]）",
        ));
    };
    let (schedule, rate, tiers) = schedule_fields(&plan.schedule);
    let fen_text = |f: Option<Fen>| f.map(|f| f.json()).unwrap_or_default();
    let asked = w.rate.is_some()
        || w.tiers.is_some()
        || w.cap.is_some()
        || w.min_level.is_some()
        || w.min_base.is_some();
    let (after, new_source, err) = if asked {
        match changed_source(&stored.source, &w).and_then(|s| {
            Policy::parse(&s)
                .map(|p| (p, s))
                .map_err(|e| format!("调整后的政策有误：{e}"))
        }) {
            Ok((p, s)) => (p, s, None),
            Err(e) => (before.clone(), String::new(), Some(e)),
        }
    } else {
        (before.clone(), String::new(), None)
    };
    let r_before = state.report(&before, &data, year, Some(&region)).await?;
    let r_after = state.report(&after, &data, year, Some(&region)).await?;
    let total = |r: &cunji_core::report::Report| {
        r.regions
            .iter()
            .find(|x| x.code == region)
            .map(|x| x.incentive_total)
            .unwrap_or_default()
    };
    let rows = compare_rows(&r_before, &r_after);
    let page = WhatIfPage {
        layout: Layout::new("调整测算", Some(&user)).with_flash("error", err),
        year,
        region: region.to_string(),
        schedule: schedule.into(),
        rate: w.rate.clone().unwrap_or(rate),
        tiers: w.tiers.clone().unwrap_or(tiers),
        cap: w.cap.clone().unwrap_or_else(|| fen_text(plan.cap)),
        min_level: w
            .min_level
            .clone()
            .unwrap_or_else(|| fen_text(plan.min_level)),
        min_base: w
            .min_base
            .clone()
            .unwrap_or_else(|| fen_text(plan.min_base)),
        total_before: total(&r_before).display(),
        total_after: total(&r_after).display(),
        rows,
        new_source,
        is_admin: user.role == Role::CountyAdmin,
        csrf: user.csrf.clone(),
    };
    Ok(render(&page))
}

/// The schedule's kind, flat rate and tiers as the what-if form shows them.
fn schedule_fields(schedule: &cunji_core::incentive::Schedule) -> (&'static str, String, String) {
    use cunji_core::incentive::Schedule;
    let tiers_text = |tiers: &[cunji_core::incentive::Tier]| {
        tiers
            .iter()
            .map(|t| format!("{}:{}", t.from.json(), t.rate.percent()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match schedule {
        Schedule::Flat { rate } => ("flat", rate.percent(), String::new()),
        Schedule::Whole { tiers, .. } => ("whole", String::new(), tiers_text(tiers)),
        Schedule::Marginal { tiers } => ("marginal", String::new(), tiers_text(tiers)),
    }
}

/// Each village's pool under both plans, and the change.
fn compare_rows(
    before: &cunji_core::report::Report,
    after: &cunji_core::report::Report,
) -> Vec<Compare> {
    let pool = |r: &cunji_core::report::Report, code: &cunji_core::region::RegionCode| {
        r.villages
            .iter()
            .find(|v| &v.code == code)
            .and_then(|v| v.incentive.as_ref())
            .map(|i| i.pool)
            .unwrap_or_default()
    };
    before
        .villages
        .iter()
        .map(|v| {
            let (b, a) = (pool(before, &v.code), pool(after, &v.code));
            Compare {
                code: v.code.to_string(),
                name: v.name.clone(),
                before: b.display(),
                after: a.display(),
                change: if a == b {
                    String::new()
                } else {
                    Fen::from_fen(a.fen() - b.fen()).display()
                },
            }
        })
        .collect()
}
