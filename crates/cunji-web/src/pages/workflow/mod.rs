//! The reward workflow per village and year (SPEC §13): computed → village resolution (四议两公开) →
//! township approval → county filing (备案) → payment → public notice, with send-back and recovery.
//! Every step is one route, `POST /workflow/{code}/{year}/{step}`, run by `crate::steps` as the API
//! runs it; the page shows what the user may do next.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Redirect, Response};
use axum::Form;
use cunji_core::workflow::Action;

use super::back_with;
use crate::auth::Writer;
use crate::html::{render, Layout, WebError};
use crate::scope::InVillageYear;
use crate::state::AppState;
use crate::steps::{Fields, StepInput};

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

mod detail;

pub use detail::{page, when};

/// `POST /workflow/{code}/{year}/{step}`: a step from its form; done or refused for bad input, the
/// user is sent back to the page with the message; a step not theirs is a 403 page.
pub async fn step(
    State(state): State<AppState>,
    at: InVillageYear<Writer>,
    Path(params): Path<std::collections::HashMap<String, String>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Redirect, WebError> {
    let key = params.get("step").map(String::as_str).unwrap_or_default();
    let action =
        Action::parse(key).ok_or_else(|| crate::html::not_found(&format!("“{key}”这一步")))?;
    let (code, year) = (at.code(), at.year());
    let back = format!("/workflow/{code}/{year}");
    let fields = Fields::from_form(&form, &StepInput::FORM_MAPS);
    let input = match StepInput::read(action, &fields) {
        Ok(i) => i,
        Err(m) => return Ok(back_with(&back, Err(m))),
    };
    match crate::steps::run(&state, at.user(), (code, year), action, input).await {
        Ok(m) => Ok(back_with(&back, Ok(m))),
        Err(WebError::Invalid(m) | WebError::BadInput(m)) => Ok(back_with(&back, Err(m))),
        Err(e) => Err(e),
    }
}
