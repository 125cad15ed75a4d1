//! The reward workflow per village and year: computed → village resolution (四议两公开) → township
//! approval → county filing (备案) → payment → public notice. Each step is its own route, taking the
//! role that may do it, so no one can do a step that is not theirs; the store refuses skipped steps.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Redirect, Response};
use axum::Form;
use cunji_core::money::Fen;
use cunji_core::region::RegionCode;
use cunji_store::{Computation, ProposalAward, Status};

use super::{back_with, ViewQuery};
use crate::auth::{Role, TownshipOfficer, Viewer, Writer};
use crate::html::{render, Layout, WebError};
use crate::scope::InVillageYear;
use crate::state::AppState;

pub struct Row {
    pub code: String,
    pub name: String,
    pub pool: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "workflow_list.html")]
struct ListPage {
    layout: Layout,
    year: i32,
    rows: Vec<Row>,
}

pub async fn list(ask: super::Ask) -> Result<Response, WebError> {
    let state = ask.state.clone();
    let view = super::RegionView::of(ask).await?;
    let (user, year, report) = (view.user, view.year, view.report);
    let proposals = state.store.proposals_of_year(year).await?;
    let rows = report
        .villages
        .iter()
        .filter(|v| v.incentive.as_ref().is_some_and(|i| i.pool.fen() > 0))
        .map(|v| Row {
            code: v.code.to_string(),
            name: v.name.clone(),
            pool: v
                .incentive
                .as_ref()
                .map(|i| i.pool.display())
                .unwrap_or_default(),
            status: proposals
                .iter()
                .find(|p| p.0 == v.code.as_str())
                .map(|p| p.1.name_zh().to_string())
                .unwrap_or_else(|| "未生成方案".into()),
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(format!("{year} 年奖励审批"), Some(&user)),
        year,
        rows,
    }))
}

pub struct AwardRow {
    pub person: String,
    pub name: String,
    pub role: String,
    pub computed: String,
    pub computed_yuan: String,
    pub decided: String,
}

pub struct StepRow {
    pub step: String,
    pub actor: String,
    pub at: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "workflow.html")]
struct DetailPage {
    layout: Layout,
    code: String,
    name: String,
    year: i32,
    csrf: String,
    current_pool: String,
    trace: Vec<String>,
    has_proposal: bool,
    status: String,
    status_key: String,
    pool: String,
    awards: Vec<AwardRow>,
    steps: Vec<StepRow>,
    figures_changed: bool,
    can_compute: bool,
    is_officer: bool,
    is_admin: bool,
}

pub fn when(at: i64) -> String {
    let d = at.div_euclid(86_400);
    let secs = at.rem_euclid(86_400);
    // Shown in Beijing time (UTC+8), the time of every user of this application.
    let secs8 = secs + 8 * 3600;
    let (d, secs8) = if secs8 >= 86_400 {
        (d + 1, secs8 - 86_400)
    } else {
        (d, secs8)
    };
    let date = super::village::today_from_days(d);
    format!("{date} {:02}:{:02}", secs8 / 3600, secs8 % 3600 / 60)
}

pub async fn page(
    State(state): State<AppState>,
    at: InVillageYear<Viewer>,
    Query(q): Query<ViewQuery>,
) -> Result<Response, WebError> {
    let (user, village, year) = (at.user(), at.code().clone(), at.year());
    let code = village.to_string();
    let (_, policy) = state.policy(None).await?;
    let data = state.data(year).await?;
    let name = data
        .regions
        .get(&village)
        .map(|r| r.name.clone())
        .ok_or_else(|| crate::html::not_found(&format!("村 {code}")))?;
    let report = state
        .report(&policy, &data, year, Some(&village))
        .await
        .ok();
    let inc = report
        .as_ref()
        .and_then(|r| r.villages.iter().find(|v| v.code == village))
        .and_then(|v| v.incentive.clone());
    let proposal = state.store.proposal(&code, year).await?;
    let figures_changed = match &proposal {
        Some(p) => p.figures != fingerprint(&state, &data.regions, &village).await?,
        None => false,
    };
    let page = DetailPage {
        layout: Layout::new(format!("{name} {year} 年奖励审批"), Some(user))
            .with_flash("error", q.err)
            .with_flash("info", q.msg),
        code: code.clone(),
        name,
        year,
        csrf: user.csrf.clone(),
        current_pool: inc
            .as_ref()
            .map(|i| i.pool.display())
            .unwrap_or_else(|| "—".into()),
        trace: inc.as_ref().map(|i| i.trace.clone()).unwrap_or_default(),
        has_proposal: proposal.is_some(),
        status: proposal
            .as_ref()
            .map(|p| p.status.name_zh().to_string())
            .unwrap_or_else(|| "未生成方案".into()),
        status_key: proposal
            .as_ref()
            .map(|p| p.status.key().to_string())
            .unwrap_or_default(),
        pool: proposal
            .as_ref()
            .map(|p| p.pool.display())
            .unwrap_or_default(),
        awards: proposal
            .as_ref()
            .map(|p| {
                p.awards
                    .iter()
                    .map(|a| AwardRow {
                        person: a.person.clone(),
                        name: a.name.clone(),
                        role: a.role.name_zh().to_string(),
                        computed: a.computed.display(),
                        computed_yuan: a.computed.json(),
                        decided: a.decided.map(|d| d.display()).unwrap_or_else(|| "—".into()),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        steps: proposal
            .as_ref()
            .map(|p| {
                p.steps
                    .iter()
                    .map(|s| StepRow {
                        step: Status::parse(&s.step)
                            .map(|x| x.name_zh().to_string())
                            .unwrap_or_else(|| s.step.clone()),
                        actor: s.actor.clone(),
                        at: when(s.at),
                        detail: s.detail.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        figures_changed,
        can_compute: matches!(user.role, Role::CountyAdmin | Role::TownshipOfficer)
            && proposal
                .as_ref()
                .is_none_or(|p| p.status <= Status::Computed),
        is_officer: user.role == Role::TownshipOfficer,
        is_admin: user.role == Role::CountyAdmin,
    };
    Ok(render(&page))
}

async fn fingerprint(
    state: &AppState,
    regions: &cunji_core::region::RegionSet,
    village: &RegionCode,
) -> Result<String, WebError> {
    let mut all: Vec<String> = vec![village.to_string()];
    all.extend(
        regions
            .all_predecessors(village)
            .iter()
            .map(|c| c.to_string()),
    );
    Ok(state.store.figures_fingerprint(&all).await?)
}

fn back(code: &str, year: i32, r: Result<String, String>) -> Redirect {
    back_with(&format!("/workflow/{code}/{year}"), r)
}

#[derive(serde::Deserialize)]
pub struct Note {
    #[serde(default)]
    note: String,
}

pub async fn compute(
    State(state): State<AppState>,
    at: InVillageYear<Writer>,
) -> Result<Redirect, WebError> {
    let (user, village, year) = (at.user(), at.code().clone(), at.year());
    let code = village.to_string();
    if !matches!(user.role, Role::CountyAdmin | Role::TownshipOfficer) {
        return Err(crate::auth::Denied::forbidden("奖励方案由乡镇农经站或县级管理员计算").into());
    }
    let (stored, policy) = state.policy(None).await?;
    let data = state.data(year).await?;
    let report = state.report(&policy, &data, year, Some(&village)).await?;
    let Some(inc) = report
        .villages
        .iter()
        .find(|v| v.code == village)
        .and_then(|v| v.incentive.clone())
    else {
        return Ok(back(
            &code,
            year,
            Err("当前政策未设激励办法，或该村当年不在报告中".into()),
        ));
    };
    let awards: Vec<ProposalAward> = inc.awards.iter().map(ProposalAward::from).collect();
    let figures = fingerprint(&state, &data.regions, &village).await?;
    let r = state
        .store
        .record_computation(
            &Computation {
                village: &code,
                year,
                policy_id: stored.id,
                pool: inc.pool.fen(),
                figures: &figures,
                awards: &awards,
                trace: &inc.trace,
            },
            &user.username,
        )
        .await;
    Ok(back(
        &code,
        year,
        r.map(|_| format!("已按现行政策计算：奖励总额上限 {} 元", inc.pool.display()))
            .map_err(|e| crate::html::store_message(&e)),
    ))
}

/// The village resolution: the four meetings, the vote, the documents, and each person's amount.
pub async fn resolve(
    State(state): State<AppState>,
    at: InVillageYear<TownshipOfficer>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Redirect, WebError> {
    let (user, year) = (at.user(), at.year());
    let code = at.code().to_string();
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let Some(p) = state.store.proposal(&code, year).await? else {
        return Ok(back(&code, year, Err("尚未生成奖励方案".into())));
    };
    let meetings = [
        ("proposed", "党组织提议"),
        ("discussed", "两委会商议"),
        ("reviewed", "党员大会审议"),
        ("decided", "村民（代表）会议决议"),
    ];
    let mut parts = Vec::new();
    for (k, label) in meetings {
        let d = get(k);
        if cunji_core::date::Date::parse(&d).is_err() {
            return Ok(back(
                &code,
                year,
                Err(format!("请填写{label}的日期（YYYY-MM-DD）")),
            ));
        }
        parts.push(format!("{label} {d}"));
    }
    let votes = format!(
        "表决：赞成 {}、反对 {}、弃权 {}",
        get("votes_for"),
        get("votes_against"),
        get("votes_abstain")
    );
    let docs = get("documents");
    if docs.is_empty() {
        return Ok(back(
            &code,
            year,
            Err("请列出附件（会议记录、决议、公示照片等）".into()),
        ));
    }
    let mut decided = Vec::new();
    for a in &p.awards {
        let text = get(&format!("decided_{}", a.person));
        match Fen::parse_yuan(&text) {
            Ok(f) => decided.push((a.person.clone(), f.fen())),
            Err(e) => {
                return Ok(back(
                    &code,
                    year,
                    Err(format!("{} 的决定金额：{e}", a.person)),
                ))
            }
        }
    }
    let detail = format!("{}；{votes}；附件：{docs}", parts.join("，"));
    let r = state
        .store
        .record_resolution(p.id, &decided, &detail, &user.username)
        .await;
    Ok(back(
        &code,
        year,
        r.map(|_| "已录入村级决议".to_string())
            .map_err(|e| crate::html::store_message(&e)),
    ))
}

/// A review step after the village's resolution: who takes it, from which status, and how it is
/// named in the history. One handler serves them all.
struct ReviewStep {
    key: &'static str,
    role: Role,
    from: Status,
    done: &'static str,
}

const REVIEW_STEPS: [ReviewStep; 4] = [
    ReviewStep {
        key: "approve",
        role: Role::TownshipOfficer,
        from: Status::Resolved,
        done: "乡镇审核通过",
    },
    ReviewStep {
        key: "file",
        role: Role::CountyAdmin,
        from: Status::TownshipApproved,
        done: "县级备案",
    },
    ReviewStep {
        key: "pay",
        role: Role::TownshipOfficer,
        from: Status::CountyFiled,
        done: "已发放",
    },
    ReviewStep {
        key: "publish",
        role: Role::TownshipOfficer,
        from: Status::Paid,
        done: "已公示",
    },
];

/// `POST /workflow/{code}/{year}/{step}` for the steps of [`REVIEW_STEPS`].
pub async fn review(
    State(state): State<AppState>,
    at: InVillageYear<Writer>,
    Path(params): Path<std::collections::HashMap<String, String>>,
    Form(n): Form<Note>,
) -> Result<Redirect, WebError> {
    let key = params.get("step").map(String::as_str).unwrap_or_default();
    let step = REVIEW_STEPS
        .iter()
        .find(|s| s.key == key)
        .ok_or_else(|| crate::html::not_found(&format!("“{key}”这一步")))?;
    let user = at.user();
    if user.role != step.role {
        return Err(WebError::Denied(match step.role {
            Role::CountyAdmin => format!(
                "这一操作只有县级管理员可以进行（您是{}）",
                user.role.name_zh()
            ),
            _ => format!("这一操作由乡镇农经站进行（您是{}）", user.role.name_zh()),
        }));
    }
    let (code, year) = (at.code().as_str(), at.year());
    let Some(p) = state.store.proposal(code, year).await? else {
        return Ok(back(code, year, Err("尚未生成奖励方案".into())));
    };
    let note = n.note.trim();
    let detail = if note.is_empty() {
        step.done.to_string()
    } else {
        format!("{}：{note}", step.done)
    };
    let r = state
        .store
        .advance_proposal(p.id, step.from, &detail, &user.username)
        .await;
    Ok(back(
        code,
        year,
        r.map(|s| format!("当前：{}", s.name_zh()))
            .map_err(|e| crate::html::store_message(&e)),
    ))
}
