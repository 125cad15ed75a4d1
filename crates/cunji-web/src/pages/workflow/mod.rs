//! The reward workflow per village and year (SPEC §13): computed → village resolution (四议两公开) →
//! township approval → county filing (备案) → payment → public notice, with send-back and recovery.
//! Every step is one route, `POST /workflow/{code}/{year}/{step}`, run by `crate::steps` as the API
//! runs it; the page shows what the user may do next.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Form;
use cunji_core::workflow::Action;

use super::back_with;
use crate::auth::Writer;
use crate::html::WebError;
use crate::scope::InVillageYear;
use crate::state::AppState;
use crate::steps::{Fields, StepInput};

mod detail;
pub mod documents;
mod placed;
pub mod todo;

pub use todo::list;

pub use detail::{page, when};

/// `POST /workflow/{code}/{year}/{step}`: a step from its form. Done: back to the page with the
/// message. Refused for bad input or a rule: the page again with everything typed kept and every rule
/// broken listed at the form (SPEC §13), nothing changed. A step not the user's is a 403 page.
pub async fn step(
    State(state): State<AppState>,
    at: InVillageYear<Writer>,
    Path(params): Path<std::collections::HashMap<String, String>>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let key = params.get("step").map(String::as_str).unwrap_or_default();
    let action =
        Action::parse(key).ok_or_else(|| crate::html::not_found(&format!("“{key}”这一步")))?;
    let (code, year) = (at.code(), at.year());
    let back = format!("/workflow/{code}/{year}");
    let fields = Fields::from_form(&form, &StepInput::FORM_MAPS);
    let again = |errors: String| detail::Refused {
        form: action.key(),
        typed: form
            .iter()
            .filter(|(k, _)| k != "_csrf")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        errors: errors.split('；').map(str::to_string).collect(),
    };
    // 退回 discards the village's resolution: the form asks the reviewer to confirm it.
    if action == Action::SendBack && !form.iter().any(|(k, v)| k == "confirm" && !v.is_empty()) {
        let m = "退回后村级决议须重新录入：请勾选“确认退回”".to_string();
        return detail::refused(&state, at.user(), (code, year), again(m)).await;
    }
    let input = match StepInput::read(action, &fields) {
        Ok(i) => i,
        Err(m) => return detail::refused(&state, at.user(), (code, year), again(m)).await,
    };
    match crate::steps::run(&state, at.user(), (code, year), action, input).await {
        Ok(m) => Ok(back_with(&back, Ok(m)).into_response()),
        Err(WebError::Invalid(m) | WebError::BadInput(m)) => {
            detail::refused(&state, at.user(), (code, year), again(m)).await
        }
        Err(e) => Err(e),
    }
}
