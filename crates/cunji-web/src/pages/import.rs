//! The import page: a file of one kind through the same importers as the command line, or several
//! statement books (SPEC §14) at once; all or nothing, every bad row listed (up to a bound).

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use cunji_core::region::RegionCode;
use cunji_store::import::ImportError;
use cunji_store::{BookFile, ImportKind, ImportOutcome};

use super::ViewQuery;
use crate::auth::Writer;
use crate::html::{render, Layout, WebError};
use crate::state::AppState;

pub struct ErrorRow {
    /// The file and sheet, for statement books (a single file's errors leave it empty).
    pub place: String,
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
    /// Whether the errors name their file and sheet (statement books).
    places: bool,
    /// What an import of statement books asks the user to check (SPEC §14's 上年 differences).
    warnings: Vec<String>,
    /// The kind chosen for the last upload, chosen again (one usually imports several files of a kind).
    chosen: String,
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
    store: &cunji_store::Store,
    kind: ImportKind,
    bytes: &[u8],
) -> Result<Vec<(String, String, i64, String)>, WebError> {
    let found = store
        .import_by_village(kind, bytes, SUMMARY_VILLAGES)
        .await?;
    let rows = found
        .into_iter()
        .map(|v| (v.village, v.entries, v.years))
        .collect();
    named(state, rows).await
}

/// Summary rows (village code, entries, first and last year) with the villages' registered names.
async fn named(
    state: &AppState,
    rows: Vec<(String, i64, (i32, i32))>,
) -> Result<Vec<(String, String, i64, String)>, WebError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let regions = state.regions().await?;
    Ok(rows
        .into_iter()
        .map(|(village, entries, years)| {
            let name = RegionCode::parse(&village)
                .ok()
                .and_then(|c| regions.get(&c).map(|r| r.name.clone()))
                .unwrap_or_default();
            let years = match years {
                (a, b) if a == b => format!("{a} 年"),
                (a, b) => format!("{a}–{b} 年"),
            };
            (village, name, entries, years)
        })
        .collect())
}

/// Row errors an import page lists at most (SPEC §9; the store keeps no more than these and the
/// count of the rest): a file of 4.1 million bad rows once made an error page of 1.2 GB.
pub const ERRORS_LISTED: usize = cunji_store::ERRORS_LISTED;

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
    .flat_map(|k| {
        // Statement books bring what annual statements bring, so whoever may import one may import the other.
        let books = (k == ImportKind::Statements)
            .then_some((BOOKS, "收益及收益分配表（官方格式，可多选）"));
        std::iter::once((k.key(), k.name_zh())).chain(books)
    })
    .collect()
}

/// The form's key for statement books (SPEC §14), which are not one of the single-file kinds.
const BOOKS: &str = "statement-book";

/// Files one upload of statement books may carry (a county's villages, one workbook each, with room);
/// their bytes together stay within `UPLOAD_LIMIT`.
const FILES_AT_MOST: usize = 1_000;

pub async fn form(Writer(user): Writer, Query(q): Query<ViewQuery>) -> Response {
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
            errors: Default::default(),
            errors_total: 0,
            file: String::new(),
            summary: Vec::new(),
            places: false,
            warnings: Vec::new(),
            chosen: String::new(),
        }
    }
}

/// Why an upload could not be read: its status and message.
type Refused = (axum::http::StatusCode, String);

/// An upload form's kind (as the form sent it) and its files.
struct Upload {
    kind: String,
    files: Vec<(String, Vec<u8>)>,
}

/// The import kind and the files of an upload form (its token already checked).
async fn read_upload(form: &mut Multipart) -> Result<Upload, Refused> {
    use axum::http::StatusCode;
    let mut kind = None;
    let mut files = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("kind") => kind = field.text().await.ok().map(|k| k.trim().to_string()),
            Some("file") => {
                let name = field.file_name().unwrap_or("上传文件").to_string();
                let bytes = field.bytes().await.map_err(|_| {
                    (StatusCode::PAYLOAD_TOO_LARGE, "上传的文件不完整或超过 64 MB 的上传上限，未导入任何数据（更大的文件请用命令行导入）".to_string())
                })?;
                // A browser sends an empty part when no file was chosen.
                if !(name.is_empty() && bytes.is_empty()) {
                    files.push((name, bytes.to_vec()));
                }
                if files.len() > FILES_AT_MOST {
                    let m = format!("一次最多上传 {FILES_AT_MOST} 个文件，未导入任何数据");
                    return Err((StatusCode::PAYLOAD_TOO_LARGE, m));
                }
            }
            _ => {}
        }
    }
    let kind = kind
        .filter(|k| k == BOOKS || ImportKind::parse(k).is_some())
        .ok_or((StatusCode::BAD_REQUEST, "请选择导入类型".to_string()))?;
    if files.is_empty() {
        return Err((StatusCode::BAD_REQUEST, "请选择要导入的文件".to_string()));
    }
    if kind != BOOKS && files.len() > 1 {
        let m = "此类型一次只导入一个文件（收益及收益分配表可一次选多个），未导入任何数据";
        return Err((StatusCode::BAD_REQUEST, m.to_string()));
    }
    Ok(Upload { kind, files })
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

/// What an import came to: the message on top (stored, or why not), the rows in error (the first
/// `ERRORS_LISTED` and the count of all), what each village received and what to check.
struct Answer {
    flash: Result<String, String>,
    errors: cunji_store::RowErrors,
    summary: Vec<(String, String, i64, String)>,
    warnings: Vec<String>,
    /// Whether the errors come from several files and sheets, and so name them.
    places: bool,
}

/// A file upload, or several statement books: all or nothing; the bad rows are shown in a table.
pub async fn submit(
    State(state): State<AppState>,
    Writer(user): Writer,
    csrf: crate::csrf::UploadCsrf,
    mut form: Multipart,
) -> Result<Response, WebError> {
    if let Err(refused) = csrf.check(&mut form).await {
        return Ok(refused);
    }
    // A file too large or cut off is refused on the import page itself, signed in, in Chinese.
    let mut upload = match read_upload(&mut form).await {
        Ok(upload) => upload,
        Err((status, m)) => {
            let layout = Layout::new("导入文件", Some(&user)).with_flash("error", Some(m));
            let mut response = render(&ImportPage::of(&user, layout));
            *response.status_mut() = status;
            return Ok(response);
        }
    };
    let kind = ImportKind::parse(&upload.kind);
    allowed_kind(&user, kind.unwrap_or(ImportKind::Statements))?;
    // Reading, checking and hashing a file of a million rows is seconds of CPU: on a blocking thread,
    // one of the bounded `work` turns, so that every other request keeps its async workers.
    let (s, u) = (state.clone(), user.clone());
    let chosen = upload.kind.clone();
    let (file, answer) = state
        .off_workers(async move {
            match kind {
                Some(kind) => {
                    let (name, bytes) = upload.files.swap_remove(0);
                    let answer = one_file(&s, &u, kind, &name, &bytes).await?;
                    Ok::<_, WebError>((name, answer))
                }
                None => {
                    let names: Vec<&str> = upload.files.iter().map(|(n, _)| n.as_str()).collect();
                    let names = names.join("、");
                    Ok((names, books(&s, &u, &upload.files).await?))
                }
            }
        })
        .await??;
    let mut page = answer.page(&user, file);
    page.chosen = chosen;
    Ok(render(&page))
}

impl Answer {
    fn page(self, user: &crate::auth::User, file: String) -> ImportPage {
        let (info, err) = match self.flash {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(e)),
        };
        let layout = Layout::new("导入文件", Some(user))
            .with_flash("info", info)
            .with_flash("error", err);
        ImportPage {
            errors_total: self.errors.len() as usize,
            errors: self
                .errors
                .into_iter()
                .take(ERRORS_LISTED)
                .map(|r| ErrorRow {
                    place: r.file,
                    line: r.line,
                    column: r.column,
                    message: r.message,
                })
                .collect(),
            places: self.places,
            file,
            summary: self.summary,
            warnings: self.warnings,
            ..ImportPage::of(user, layout)
        }
    }
}

fn log_result<T>(
    file: &str,
    user: &crate::auth::User,
    kind: &str,
    result: &Result<T, ImportError>,
) {
    match result {
        Ok(_) => tracing::info!(file, user = %user.username, kind, "import stored"),
        Err(e) => tracing::info!(file, user = %user.username, error = %e, "import refused"),
    }
}

/// One file of one kind through the command line's importer.
async fn one_file(
    state: &AppState,
    user: &crate::auth::User,
    kind: ImportKind,
    name: &str,
    bytes: &[u8],
) -> Result<Answer, WebError> {
    let progress = LogProgress {
        file: name,
        user: &user.username,
        rows: Default::default(),
    };
    let result = user
        .store(state)
        .import_within(
            kind,
            name,
            bytes,
            &user.username,
            user.scope.as_ref(),
            &progress,
        )
        .await;
    log_result(name, user, kind.key(), &result);
    let flash = match result {
        Ok(ImportOutcome::Stored { rows, unchanged }) => Ok(format!(
            "已导入{} {rows} 行{}",
            kind.name_zh(),
            if unchanged > 0 {
                format!("（{unchanged} 行与库中相同）")
            } else {
                String::new()
            }
        )),
        Ok(ImportOutcome::AlreadyImported { file_name, .. }) => {
            Ok(format!("该文件内容已导入过（{file_name}），未重复存储"))
        }
        Err(e) => return Ok(refusal(e, "本文件未导入任何数据", false)),
    };
    Ok(Answer {
        flash,
        errors: Default::default(),
        summary: summary_of(state, user.store(state), kind, bytes)
            .await?
            .into_iter()
            // What an earlier import brought villages outside the user's scope is not theirs to see.
            .filter(|(code, ..)| {
                let code = RegionCode::parse(code);
                user.scope
                    .as_ref()
                    .is_none_or(|s| code.is_ok_and(|c| s.contains(&c)))
            })
            .collect(),
        warnings: Vec::new(),
        places: false,
    })
}

/// A refused import: its rows in error (`places` when they name their file and sheet), or the store's
/// failure.
fn refusal(e: ImportError, nothing: &str, places: bool) -> Answer {
    let (flash, errors) = match e {
        ImportError::Rows(rows) => (format!("{} 处错误，{nothing}", rows.len()), rows),
        ImportError::Store(e) => (crate::html::store_message(&e), Default::default()),
    };
    Answer {
        flash: Err(flash),
        errors,
        summary: Vec::new(),
        warnings: Vec::new(),
        places,
    }
}

/// Statement books (SPEC §14): every sheet of every file, villages found within the user's scope,
/// stored together or not at all.
async fn books(
    state: &AppState,
    user: &crate::auth::User,
    files: &[(String, Vec<u8>)],
) -> Result<Answer, WebError> {
    let books: Vec<BookFile<'_>> = files
        .iter()
        .map(|(name, bytes)| BookFile { name, bytes })
        .collect();
    let result = user
        .store(state)
        .import_statement_books(&books, None, user.scope.as_ref(), &user.username)
        .await;
    let file = format!("{} 个收益及收益分配表文件", files.len());
    log_result(&file, user, BOOKS, &result);
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            let nothing = format!("本次 {} 个文件均未导入任何数据", files.len());
            return Ok(refusal(e, &nothing, true));
        }
    };
    let rows = outcome
        .villages
        .iter()
        .map(|(village, year, n)| (village.clone(), *n as i64, (*year, *year)))
        .collect();
    Ok(Answer {
        flash: Ok(format!(
            "已导入收益及收益分配表 {} 张（{} 个文件），生成 {} 笔年末分录{}",
            outcome.sheets,
            files.len(),
            outcome.entries,
            if outcome.checked > 0 {
                format!(
                    "；其中 {} 张所属村、年度已有账目，已与账目核对一致，只存入收益分配",
                    outcome.checked
                )
            } else {
                String::new()
            }
        )),
        errors: Default::default(),
        summary: named(state, rows).await?,
        // Sheets skipped as not filled in come first: nothing of them was stored.
        warnings: outcome
            .skipped
            .iter()
            .map(|place| format!("{place}：未填写金额，已跳过（未存入任何数据）"))
            .chain(outcome.warnings)
            .collect(),
        places: false,
    })
}
