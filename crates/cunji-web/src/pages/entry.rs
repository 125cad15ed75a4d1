//! Data entry: one entry, a reversal with its reason, and closing and reopening a year.

use axum::extract::{Path, State};
use axum::response::Redirect;
use axum::Form;
use cunji_core::region::RegionCode;
use cunji_store::import::ImportError;
use cunji_store::EntryForm;

use super::back_with;
use crate::auth::{CountyAdmin, Writer};
use crate::html::WebError;
use crate::scope::InVillage;
use crate::state::AppState;

/// An import failure as one line per problem.
pub fn row_errors(e: ImportError) -> String {
    match e {
        ImportError::Rows(rows) => rows
            .iter()
            .map(|r| format!("{}: {}", r.column, r.message))
            .collect::<Vec<_>>()
            .join("；"),
        ImportError::Store(e) => crate::html::store_message(&e),
    }
}

/// A new entry as a form or the API sends it (the village comes from the path or the API's body).
#[derive(serde::Deserialize)]
pub struct AddForm {
    date: String,
    account: String,
    amount: String,
    #[serde(default)]
    voucher: String,
    #[serde(default)]
    memo: String,
    #[serde(default)]
    project: String,
}

impl AddForm {
    pub fn of_village(self, village: String) -> EntryForm {
        EntryForm {
            village,
            date: self.date,
            account: self.account,
            amount: self.amount,
            voucher: self.voucher,
            memo: self.memo,
            project: self.project,
        }
    }
}

fn village_code(code: &str) -> Result<RegionCode, WebError> {
    crate::html::strict_code(code)
}

pub async fn add(
    State(state): State<AppState>,
    at: InVillage<Writer>,
    Form(f): Form<AddForm>,
) -> Result<Redirect, WebError> {
    let (user, code) = (at.user(), at.code().to_string());
    let year = f.date.get(0..4).unwrap_or("").to_string();
    let form = f.of_village(code.clone());
    let result = user
        .store(&state)
        .add_entry(&form, None, &user.username)
        .await;
    let back = format!("/village/{code}?year={year}");
    Ok(back_with(
        &back,
        result
            .map(|v| format!("已记账，凭证号 {v}"))
            .map_err(row_errors),
    ))
}

#[derive(serde::Deserialize)]
pub struct ReverseForm {
    date: String,
    reason: String,
}

pub async fn reverse(
    State(state): State<AppState>,
    Writer(user): Writer,
    Path(id): Path<i64>,
    Form(f): Form<ReverseForm>,
) -> Result<Redirect, WebError> {
    let Some((village, year)) = user.store(&state).entry_owner(id).await? else {
        return Err(crate::html::not_found(&format!("编号为 {id} 的分录")));
    };
    user.require_read(&village_code(&village)?)?;
    let result = user
        .store(&state)
        .reverse_entry(id, &f.date, &f.reason, &user.username)
        .await;
    Ok(back_with(
        &format!("/village/{village}?year={year}"),
        result
            .map(|v| format!("已冲销，冲销凭证号 {v}"))
            .map_err(row_errors),
    ))
}

#[derive(serde::Deserialize)]
pub struct YearForm {
    year: i32,
    #[serde(default)]
    reason: String,
    /// 结账 asks for a tick that the year's books were checked.
    #[serde(default)]
    confirm: String,
}

pub async fn close(
    State(state): State<AppState>,
    at: InVillage<CountyAdmin>,
    Form(f): Form<YearForm>,
) -> Result<Redirect, WebError> {
    year_step(&state, &at, &f, YearStep::Close).await
}

pub async fn reopen(
    State(state): State<AppState>,
    at: InVillage<CountyAdmin>,
    Form(f): Form<YearForm>,
) -> Result<Redirect, WebError> {
    year_step(&state, &at, &f, YearStep::Reopen).await
}

/// The two steps of a village-year's books.
#[derive(Clone, Copy)]
enum YearStep {
    /// 结账.
    Close,
    /// 重新开账.
    Reopen,
}

/// 结账 or 重新开账 of a village-year: run only when the form's tick asks for it, and back to the
/// village page with what happened.
async fn year_step(
    state: &AppState,
    at: &InVillage<CountyAdmin>,
    f: &YearForm,
    step: YearStep,
) -> Result<Redirect, WebError> {
    let store = at.user().store(state);
    let (who, code) = (&at.user().username, at.code().as_str());
    let (untick, done) = match step {
        YearStep::Close => ("请先勾选“我已核对全部账目”再结账", "年已结账"),
        YearStep::Reopen => ("请先勾选“我确认重新开账”", "年已重新开账"),
    };
    let back = format!("/village/{code}?year={}", f.year);
    if f.confirm != "yes" {
        return Ok(back_with(&back, Err(untick.to_string())));
    }
    let r = match step {
        YearStep::Close => store.close_year(code, f.year, who).await,
        YearStep::Reopen => store.reopen_year(code, f.year, who, &f.reason).await,
    };
    Ok(back_with(
        &back,
        r.map(|_| format!("{} {done}", f.year))
            .map_err(|e| crate::html::store_message(&e)),
    ))
}
