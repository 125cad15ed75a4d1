//! Data entry: one entry, a reversal with its reason, closing and reopening a year, and file imports
//! through the same importers as the command line.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{Redirect, Response};
use axum::Form;
use cunji_core::region::RegionCode;
use cunji_store::import::ImportError;
use cunji_store::{EntryForm, ImportKind, ImportOutcome};

use super::{back_with, ViewQuery};
use crate::auth::{CountyAdmin, Writer};
use crate::html::{render, Layout, WebError};
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
    let result = state.store.add_entry(&form, None, &user.username).await;
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
    let Some((village, year)) = state.store.entry_owner(id).await? else {
        return Err(crate::html::not_found(&format!("编号为 {id} 的分录")));
    };
    user.require_read(&village_code(&village)?)?;
    let result = state
        .store
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
    let (user, code) = (at.user(), at.code().as_str());
    if f.confirm != "yes" {
        return Ok(back_with(
            &format!("/village/{code}?year={}", f.year),
            Err("请先勾选“我已核对全部账目”再结账".to_string()),
        ));
    }
    let r = state.store.close_year(code, f.year, &user.username).await;
    Ok(back_with(
        &format!("/village/{code}?year={}", f.year),
        r.map(|_| format!("{} 年已结账", f.year))
            .map_err(|e| crate::html::store_message(&e)),
    ))
}

pub async fn reopen(
    State(state): State<AppState>,
    at: InVillage<CountyAdmin>,
    Form(f): Form<YearForm>,
) -> Result<Redirect, WebError> {
    let (user, code) = (at.user(), at.code().as_str());
    let r = state
        .store
        .reopen_year(code, f.year, &user.username, &f.reason)
        .await;
    Ok(back_with(
        &format!("/village/{code}?year={}", f.year),
        r.map(|_| format!("{} 年已重新开账", f.year))
            .map_err(|e| crate::html::store_message(&e)),
    ))
}

pub struct ErrorRow {
    pub line: u64,
    pub column: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    layout: Layout,
    csrf: String,
    /// The kinds this user may import: key, Chinese name (a township or village user is not offered
    /// the county's regions, grants and statistics).
    kinds: Vec<(&'static str, &'static str)>,
    errors: Vec<ErrorRow>,
    errors_total: usize,
    file: String,
    /// What the file brought each village: code, name, entries, years.
    summary: Vec<(String, String, i64, String)>,
}

/// An import's progress in the log: each phase, and every 500,000 rows checked (a county's year of
/// entries is about a million; a 64 MB file about two).
struct LogProgress<'a> {
    file: &'a str,
    user: &'a str,
    rows: std::sync::atomic::AtomicU64,
}

const ROWS_A_LOG_LINE: u64 = 500_000;

impl cunji_store::Progress for LogProgress<'_> {
    fn phase(&self, name: &str, total: u64) {
        tracing::info!(
            file = self.file,
            user = self.user,
            phase = name,
            total,
            "import"
        );
    }
    fn advance(&self, rows: u64) {
        use std::sync::atomic::Ordering;
        let before = self.rows.fetch_add(rows, Ordering::Relaxed);
        let after = before + rows;
        if after / ROWS_A_LOG_LINE > before / ROWS_A_LOG_LINE {
            tracing::info!(
                file = self.file,
                user = self.user,
                rows = after,
                "import progress"
            );
        }
    }
}

/// Villages an import summary lists at most (a county's file names a few hundred).
const SUMMARY_VILLAGES: i64 = 2_000;

/// What `bytes` (imported as `kind`) brought each village, named from the register.
async fn summary_of(
    state: &AppState,
    kind: ImportKind,
    bytes: &[u8],
) -> Result<Vec<(String, String, i64, String)>, WebError> {
    let found = state
        .store
        .import_by_village(kind, bytes, SUMMARY_VILLAGES)
        .await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let regions = state.regions().await?;
    Ok(found
        .into_iter()
        .map(|v| {
            let name = RegionCode::parse(&v.village)
                .ok()
                .and_then(|c| regions.get(&c).map(|r| r.name.clone()))
                .unwrap_or_default();
            let years = match v.years {
                (a, b) if a == b => format!("{a} 年"),
                (a, b) => format!("{a}–{b} 年"),
            };
            (v.village, name, v.entries, years)
        })
        .collect())
}

/// Row errors an import page lists at most (the command line lists all, SPEC §9): a file of 4.1
/// million bad rows once made an error page of 1.2 GB.
pub const ERRORS_LISTED: usize = 1_000;

/// The largest file an upload may bring (a county's year of entries as CSV is about 30 MB).
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

/// The kinds `user` may import, in the form's order.
fn kinds_for(user: &crate::auth::User) -> Vec<(&'static str, &'static str)> {
    [
        ImportKind::Entries,
        ImportKind::Statements,
        ImportKind::Cadres,
        ImportKind::Grants,
        ImportKind::Regions,
        ImportKind::Stats,
    ]
    .into_iter()
    .filter(|k| allowed_kind(user, *k).is_ok())
    .map(|k| (k.key(), k.name_zh()))
    .collect()
}

pub async fn import_form(Writer(user): Writer, Query(q): Query<ViewQuery>) -> Response {
    render(&ImportPage::of(
        &user,
        Layout::new("导入文件", Some(&user)).with_flashes(&q),
    ))
}

impl ImportPage {
    /// The form for `user`, with nothing imported yet.
    fn of(user: &crate::auth::User, layout: Layout) -> ImportPage {
        ImportPage {
            layout,
            csrf: user.csrf.clone(),
            kinds: kinds_for(user),
            errors: Vec::new(),
            errors_total: 0,
            file: String::new(),
            summary: Vec::new(),
        }
    }
}

/// Why an upload could not be read: its status and message.
type Refused = (axum::http::StatusCode, String);

/// The import kind and the file of an upload form (its token already checked).
async fn read_upload(form: &mut Multipart) -> Result<(ImportKind, String, Vec<u8>), Refused> {
    use axum::http::StatusCode;
    let mut kind = None;
    let mut file_name = String::from("上传文件");
    let mut bytes = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("kind") => {
                kind = field
                    .text()
                    .await
                    .ok()
                    .and_then(|k| ImportKind::parse(k.trim()))
            }
            Some("file") => {
                file_name = field.file_name().unwrap_or("上传文件").to_string();
                bytes = field
                    .bytes()
                    .await
                    .map_err(|_| {
                        (StatusCode::PAYLOAD_TOO_LARGE, "上传的文件不完整或超过 64 MB 的上传上限，未导入任何数据（更大的文件请用命令行导入）".to_string())
                    })?
                    .to_vec();
            }
            _ => {}
        }
    }
    let kind = kind.ok_or((StatusCode::BAD_REQUEST, "请选择导入类型".to_string()))?;
    Ok((kind, file_name, bytes))
}

/// A village accountant records books only; officers and accountants may only touch their own
/// scope, and regions and grants are county business.
fn allowed_kind(user: &crate::auth::User, kind: ImportKind) -> Result<(), WebError> {
    if user.role == crate::auth::Role::VillageAccountant
        && !matches!(kind, ImportKind::Entries | ImportKind::Statements)
    {
        return Err(crate::auth::Denied::forbidden("村报账员只能导入账目和年度报表").into());
    }
    if user.scope.is_some()
        && matches!(
            kind,
            ImportKind::Regions | ImportKind::Grants | ImportKind::Stats
        )
    {
        return Err(
            crate::auth::Denied::forbidden("区划、扶持资金和县级统计由县级管理员导入").into(),
        );
    }
    Ok(())
}

/// A file upload: all or nothing; every bad row is shown in a table.
pub async fn import_submit(
    State(state): State<AppState>,
    Writer(user): Writer,
    csrf: crate::csrf::UploadCsrf,
    mut form: Multipart,
) -> Result<Response, WebError> {
    if let Err(refused) = csrf.check(&mut form).await {
        return Ok(refused);
    }
    // A file too large or cut off is refused on the import page itself, signed in, in Chinese.
    let (kind, file_name, bytes) = match read_upload(&mut form).await {
        Ok(upload) => upload,
        Err((status, m)) => {
            let layout = Layout::new("导入文件", Some(&user)).with_flash("error", Some(m));
            let mut response = render(&ImportPage::of(&user, layout));
            *response.status_mut() = status;
            return Ok(response);
        }
    };
    allowed_kind(&user, kind)?;
    let result = state
        .store
        .import_within(
            kind,
            &file_name,
            &bytes,
            &user.username,
            user.scope.as_ref(),
            &LogProgress {
                file: &file_name,
                user: &user.username,
                rows: Default::default(),
            },
        )
        .await;
    match &result {
        Ok(_) => {
            tracing::info!(file = %file_name, user = %user.username, kind = kind.key(), "import stored")
        }
        Err(e) => {
            tracing::info!(file = %file_name, user = %user.username, error = %e, "import refused")
        }
    }
    let errors_total = match &result {
        Err(ImportError::Rows(rows)) => rows.len(),
        _ => 0,
    };
    let summary = match &result {
        Ok(_) => summary_of(&state, kind, &bytes).await?,
        Err(_) => Vec::new(),
    };
    let (errors, flash): (Vec<ErrorRow>, Result<String, String>) = match result {
        Ok(ImportOutcome::Stored { rows, unchanged }) => (
            Vec::new(),
            Ok(format!(
                "已导入{} {rows} 行{}",
                kind.name_zh(),
                if unchanged > 0 {
                    format!("（{unchanged} 行与库中相同）")
                } else {
                    String::new()
                }
            )),
        ),
        Ok(ImportOutcome::AlreadyImported { file_name, .. }) => (
            Vec::new(),
            Ok(format!("该文件内容已导入过（{file_name}），未重复存储")),
        ),
        Err(ImportError::Rows(rows)) => {
            let n = rows.len();
            (
                rows.into_iter()
                    .take(ERRORS_LISTED)
                    .map(|r| ErrorRow {
                        line: r.line,
                        column: r.column,
                        message: r.message,
                    })
                    .collect(),
                Err(format!("{n} 处错误，本文件未导入任何数据")),
            )
        }
        Err(ImportError::Store(e)) => (Vec::new(), Err(crate::html::store_message(&e))),
    };
    let (info, err) = match flash {
        Ok(m) => (Some(m), None),
        Err(e) => (None, Some(e)),
    };
    let layout = Layout::new("导入文件", Some(&user))
        .with_flash("info", info)
        .with_flash("error", err);
    Ok(render(&ImportPage {
        errors,
        errors_total,
        file: file_name,
        summary,
        ..ImportPage::of(&user, layout)
    }))
}
