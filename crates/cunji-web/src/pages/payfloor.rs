//! Cadre pay floors for a region (SPEC §12): every covered cadre below the floor, and those whose
//! standing cannot be known, so that nobody silently passes.

use crate::html::Shown;
use askama::Template;
use axum::response::Response;
use cunji_core::policy::Policy;

use crate::html::{render, Layout, WebError};

pub struct Line {
    pub village: String,
    pub village_name: String,
    pub person: String,
    pub name: String,
    pub role: String,
    pub months: u8,
    pub base_pay: String,
    pub floor: String,
    pub shortfall: String,
    pub below: bool,
    pub explanation: String,
}

#[derive(Template)]
#[template(path = "payfloor.html")]
struct Page {
    layout: Layout,
    region_name: String,
    year: i32,
    policy_name: String,
    rules: Vec<String>,
    lines: Vec<Line>,
    below: usize,
    unknown: usize,
}

pub async fn page(ask: super::Ask) -> Result<Response, WebError> {
    let super::Ask { state, user, q } = ask;
    let year = q.year.unwrap_or(state.latest_year().await);
    // The policy asked for; else the active one if it has a pay floor; else the newest one that has.
    let (stored, policy) = match q.policy {
        Some(id) => state.policy(Some(id)).await?,
        None => {
            let active = state
                .policy(None)
                .await
                .ok()
                .filter(|(_, p)| p.pay_floor.is_some());
            match active {
                Some(a) => a,
                None => {
                    let all = state.store.policies().await?;
                    let found = all.into_iter().rev().find_map(|s| {
                        Policy::parse(&s.source)
                            .ok()
                            .filter(|p| p.pay_floor.is_some())
                            .map(|p| (s, p))
                    });
                    found.ok_or_else(|| crate::html::not_found("设有报酬保障（[pay_floor]）的政策：请在“政策”页保存一份，如 policies/guizhou.toml"))?
                }
            }
        }
    };
    let data = state.data(year).await?;
    let region = super::dashboard::chosen_region(&user, &data.regions, q.region.as_deref())?;
    // The region's villages under the floor's rule, whatever region prefix the policy was written for.
    let floor_only = Policy {
        region: None,
        years: None,
        incentive: None,
        ..policy.clone()
    };
    let report = state
        .report(&floor_only, &data, year, Some(&region))
        .await?;
    let lines: Vec<Line> = report
        .pay_floor
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|l| Line {
            village_name: data
                .regions
                .get(&l.village)
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            village: l.village.to_string(),
            person: l.person,
            name: l.name,
            role: l.role.name_zh().into(),
            months: l.months_in_post,
            base_pay: l.base_pay.display_or_dash(),
            floor: l.floor.display_or_dash(),
            shortfall: l.shortfall.display_or_dash(),
            below: l.status == cunji_core::pay_floor::FloorStatus::Below,
            explanation: l.explanation,
        })
        .collect();
    let page = Page {
        layout: Layout::new("村干部报酬保障", Some(&user)),
        region_name: data
            .regions
            .get(&region)
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        year,
        policy_name: stored.name.clone(),
        rules: policy
            .describe_zh()
            .into_iter()
            .filter(|r| r.starts_with("报酬保障"))
            .collect(),
        below: lines.iter().filter(|l| l.below).count(),
        unknown: lines.iter().filter(|l| !l.below).count(),
        lines,
    };
    Ok(render(&page))
}
