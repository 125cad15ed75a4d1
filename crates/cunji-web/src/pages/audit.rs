//! The audit log, newest first: who changed what and when.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::auth::Viewer;
use crate::html::{render, Layout, PageError};
use crate::state::AppState;

pub struct Row {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<Row>,
}

pub async fn page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
) -> Result<Response, PageError> {
    let rows = state
        .store
        .audit_log(500)
        .await?
        .into_iter()
        .map(|r| Row {
            id: r.id,
            at: super::workflow::when(r.at),
            actor: r.actor,
            action: r.action,
            subject: r.subject,
            detail: r.detail,
        })
        .collect();
    Ok(render(&AuditPage {
        layout: Layout::new("审计日志", Some(&user)),
        rows,
    }))
}
