//! A proposal's documents (SPEC §13): uploaded from the workflow page as a form with the CSRF token as
//! its first field, kept by the store with their SHA-256, and served only to users who may read the
//! village, as downloads (never shown inline, so a document cannot run as a page of this site).

use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use cunji_store::workflow::attachments::MAX_BYTES;

use super::super::back_with;
use crate::auth::{Viewer, Writer};
use crate::html::WebError;
use crate::scope::InVillageYear;
use crate::state::AppState;

/// The request body an upload may have: one document and the form's few fields.
pub const UPLOAD_LIMIT: usize = MAX_BYTES + 64 * 1024;

/// `POST /workflow/{code}/{year}/attachments`: keeps the uploaded document.
pub async fn upload(
    State(state): State<AppState>,
    at: InVillageYear<Writer>,
    csrf: crate::csrf::UploadCsrf,
    mut form: Multipart,
) -> Result<Response, WebError> {
    if let Err(refused) = csrf.check(&mut form).await {
        return Ok(refused);
    }
    let (code, year) = (at.code(), at.year());
    let back = format!("/workflow/{code}/{year}");
    // The documents are the township's record of the village's decision (SPEC §13: the township
    // enters the resolution); a village accountant keeps the books only.
    if at.user().role == crate::auth::Role::VillageAccountant {
        return Err(WebError::Denied(
            "附件由乡镇农经站或县级管理员上传（村报账员只记账）".into(),
        ));
    }
    let Some(p) = at
        .user()
        .store(&state)
        .proposal(code.as_str(), year)
        .await?
    else {
        return Ok(back_with(&back, Err("尚未生成奖励方案".into())).into_response());
    };
    let (name, bytes) = match read_document(&mut form).await {
        Ok(d) => d,
        Err(m) => return Ok(back_with(&back, Err(m)).into_response()),
    };
    let user = &at.user().username;
    let r = at
        .user()
        .store(&state)
        .add_attachment(p.id, &name, &bytes, user)
        .await;
    let r = r.map(|_| format!("已保存附件《{name}》"));
    Ok(back_with(&back, r.map_err(|e| crate::html::store_message(&e))).into_response())
}

async fn read_document(form: &mut Multipart) -> Result<(String, Vec<u8>), String> {
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("附件").to_string();
            let bytes = field
                .bytes()
                .await
                .map_err(|_| "上传的附件不完整或超过每个附件 10 MB 的上限，未保存".to_string())?;
            return Ok((name, bytes.to_vec()));
        }
    }
    Err("请选择要上传的文件".into())
}

/// `GET /workflow/{code}/{year}/attachments/{id}`: the document, to a user who may read the village.
pub async fn download(
    State(state): State<AppState>,
    at: InVillageYear<Viewer>,
    Path(params): Path<std::collections::HashMap<String, String>>,
) -> Result<Response, WebError> {
    let id: i64 = params
        .get("id")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| crate::html::not_found("这个附件"))?;
    let (code, year) = (at.code(), at.year());
    let p = at
        .user()
        .store(&state)
        .proposal(code.as_str(), year)
        .await?;
    let found = match p {
        Some(p) => at.user().store(&state).attachment(p.id, id).await?,
        None => None,
    };
    let (a, bytes) = found.ok_or_else(|| crate::html::not_found("这个附件"))?;
    let disposition = format!(
        "attachment; filename=\"document\"; filename*=UTF-8''{}",
        super::super::pct(&a.file_name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}
