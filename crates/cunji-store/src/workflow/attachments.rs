//! A proposal's documents (SPEC §13): the scanned minutes, the resolution, photos of the notice. Each
//! is a PDF, JPEG or PNG (known by its first bytes, not its name), at most [`MAX_BYTES`], at most
//! [`MAX_PER_PROPOSAL`] to a proposal; stored with its SHA-256, which its audit row records.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::{Store, StoreError};

/// The largest document kept: a scanned page at 300 dpi is about 1 MB; ten of them fit.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// Documents a proposal keeps at most (minutes, resolution and notice photos of a few meetings).
pub const MAX_PER_PROPOSAL: i64 = 30;

/// What the documents of one township's proposals of one year may hold in all: 2 GiB. A township of
/// 30 villages whose every proposal keeps ten scanned pages of about 1 MB uses 300 MB; the quota
/// leaves six times that, and keeps one township's uploads from filling the county's disk.
pub const MAX_BYTES_PER_TOWNSHIP_YEAR: i64 = 2 * 1024 * 1024 * 1024;

/// A stored document, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub actor: String,
    pub at: i64,
}

/// The kind of a document by its first bytes: PDF, JPEG or PNG.
pub fn content_type_of(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

impl Store {
    /// Keeps a document of proposal `id`; its id. Refused (nothing stored) when it is not a PDF, JPEG
    /// or PNG, is empty or above [`MAX_BYTES`], has a name a spreadsheet would run, or the proposal
    /// has [`MAX_PER_PROPOSAL`] already.
    pub async fn add_attachment(
        &self,
        id: i64,
        file_name: &str,
        bytes: &[u8],
        actor: &str,
    ) -> Result<i64, StoreError> {
        let content_type = check_document(file_name, bytes)?;
        let sha256 = crate::hex(&Sha256::digest(bytes));
        let mut tx = self.begin_write().await?;
        let (village, count, status, year): (String, i64, String, i64) = {
            let r = sqlx::query("SELECT p.village, (SELECT COUNT(*) FROM proposal_attachments a WHERE a.proposal_id = p.id), p.status, p.year FROM proposals p WHERE p.id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("没有编号为 {id} 的奖励方案")))?;
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)
        };
        // A paid or published reward is history (SPEC §13): its documents are what it was decided on.
        if let Some(settled) = super::Status::parse(&status).filter(|s| s.is_settled()) {
            return Err(StoreError::Conflict(format!(
                "该奖励方案已“{}”，不能再添加附件",
                settled.name_zh()
            )));
        }
        if count >= MAX_PER_PROPOSAL {
            return Err(StoreError::Invalid(format!(
                "每个方案最多保存 {MAX_PER_PROPOSAL} 个附件"
            )));
        }
        // The township's villages are the codes that start with its significant digits.
        let township = cunji_core::region::RegionCode::parse(&village)
            .ok()
            .and_then(|v| v.township())
            .map_or_else(|| village.clone(), |t| format!("{}%", t.prefix()));
        let used: i64 = sqlx::query(
            "SELECT CAST(COALESCE(SUM(a.size), 0) AS BIGINT) FROM proposal_attachments a JOIN proposals p ON p.id = a.proposal_id \
             WHERE p.year = $1 AND p.village LIKE $2",
        )
        .bind(year)
        .bind(township)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        if used + bytes.len() as i64 > MAX_BYTES_PER_TOWNSHIP_YEAR {
            return Err(StoreError::Invalid(format!(
                "本乡镇 {year} 年奖励方案的附件已用 {} MB，再存这个文件将超过每个乡镇每年 {} MB 的上限",
                used / (1024 * 1024),
                MAX_BYTES_PER_TOWNSHIP_YEAR / (1024 * 1024)
            )));
        }
        let detail = format!("附件《{file_name}》{} 字节（校验值 {sha256}）", bytes.len());
        let audit_id = crate::audit::write_with_record(
            &mut tx,
            actor,
            "workflow_attachment",
            &id.to_string(),
            &detail,
            &sha256,
        )
        .await?;
        crate::audit::touch(&mut tx, audit_id, [village.as_str()]).await?;
        let attachment_id: i64 = sqlx::query(
            "INSERT INTO proposal_attachments (proposal_id, file_name, content_type, size, sha256, bytes, actor, at, audit_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(id)
        .bind(file_name)
        .bind(content_type)
        .bind(bytes.len() as i64)
        .bind(&sha256)
        .bind(bytes.to_vec())
        .bind(actor)
        .bind(crate::now())
        .bind(audit_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        tx.commit().await?;
        Ok(attachment_id)
    }

    /// The documents of proposal `id`, oldest first.
    pub async fn attachments(&self, id: i64) -> Result<Vec<Attachment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, file_name, content_type, size, sha256, actor, at FROM proposal_attachments WHERE proposal_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (id, file_name, content_type) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                let (size, sha256, actor, at) =
                    (r.try_get(3)?, r.try_get(4)?, r.try_get(5)?, r.try_get(6)?);
                Ok(Attachment {
                    id,
                    file_name,
                    content_type,
                    size,
                    sha256,
                    actor,
                    at,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// A document of proposal `id` with its bytes, if the proposal has one of that id.
    pub async fn attachment(
        &self,
        id: i64,
        attachment_id: i64,
    ) -> Result<Option<(Attachment, Vec<u8>)>, StoreError> {
        let all = self.attachments(id).await?;
        let Some(a) = all.into_iter().find(|a| a.id == attachment_id) else {
            return Ok(None);
        };
        let bytes: Vec<u8> = sqlx::query("SELECT bytes FROM proposal_attachments WHERE id = $1")
            .bind(attachment_id)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        Ok(Some((a, bytes)))
    }
}

/// The document's type, or why it is refused.
fn check_document(file_name: &str, bytes: &[u8]) -> Result<&'static str, StoreError> {
    let refuse = |m: String| Err(StoreError::Invalid(m));
    if file_name.trim().is_empty() || file_name.chars().count() > 255 {
        return refuse("附件须有文件名（最多 255 个字符）".into());
    }
    if file_name.chars().any(|c| c.is_control()) {
        return refuse("附件的文件名含有换行等控制字符".into());
    }
    if let Err(m) = crate::table::check_text(file_name) {
        return refuse(format!("附件的文件名：{m}"));
    }
    if bytes.is_empty() {
        return refuse(format!("附件《{file_name}》是空文件"));
    }
    if bytes.len() > MAX_BYTES {
        return refuse(format!(
            "附件《{file_name}》有 {} 字节，超过每个附件 10 MB 的上限",
            bytes.len()
        ));
    }
    match content_type_of(bytes) {
        Some(t) => Ok(t),
        None => refuse(format!(
            "附件《{file_name}》不是 PDF、JPEG 或 PNG 文件（按文件内容判断）"
        )),
    }
}
