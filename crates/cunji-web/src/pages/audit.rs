//! The audit log, newest first: who changed what and when.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use cunji_store::AuditScope;

use crate::auth::{Role, Viewer};
use crate::html::{render, Layout, WebError};
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

/// Rows shown, newest first.
const ROWS_SHOWN: i64 = 500;

pub async fn page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
) -> Result<Response, WebError> {
    let scope = match user.role {
        Role::CountyAdmin | Role::Auditor => None,
        // A township officer reads its villages' rows and its own; a village accountant its
        // village's and its own. Without a scope (never made so), only its own.
        _ => Some(AuditScope {
            prefix: user
                .scope
                .as_ref()
                .map_or_else(|| "-".to_string(), |s| s.prefix().to_string()),
            actor: user.username.clone(),
        }),
    };
    let rows = state
        .store
        .audit_log_within(ROWS_SHOWN, scope.as_ref())
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
