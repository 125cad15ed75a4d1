//! `cunji audit verify`: the audit chain recomputed, and every stored entry and grant checked
//! against the audit row that wrote it, and the kept figures against the entries.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{grant_line, push_entry_line, row_hash, sha256_hex, AuditRow, AUDIT_COLS};
use crate::db::{Store, StoreError};

/// Record-writing actions whose audit rows vouch for entries.
const ENTRY_ACTIONS: [&str; 4] = [
    "import_entries",
    "import_statements",
    "entry_add",
    "entry_reverse",
];

impl Store {
    /// The whole audit log, oldest first.
    pub async fn audit_all(&self) -> Result<Vec<AuditRow>, StoreError> {
        let sql = format!("SELECT {AUDIT_COLS} FROM audit_log ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        super::audit_rows(&rows)
    }

    /// The audit chain's end: the newest row's id and hash (`0` and empty for a database never
    /// written to). Kept outside the database (beside every backup, in `<db>.head`, or by the county
    /// from `cunji audit head`), it shows a tail of rows deleted with the head rewritten.
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        let r = sqlx::query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(match r {
            Some(r) => (r.try_get(0)?, r.try_get(1)?),
            None => (0, String::new()),
        })
    }

    /// Checks a head kept outside the database: the chain only grows, so the row it names must still
    /// be there with the same hash, whatever was written after it. The problem in Chinese, if any.
    pub async fn verify_head(&self, id: i64, hash: &str) -> Result<Option<String>, StoreError> {
        if id == 0 {
            return Ok(None);
        }
        let kept: Option<String> = sqlx::query("SELECT hash FROM audit_log WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        let short = hash.get(..16).unwrap_or(hash);
        Ok(match kept {
            None => Some(format!(
                "审计日志被截断：库外保存的末端是审计记录 #{id}（哈希 {short}…），数据库中已没有这条记录（最后的审计记录被删除，末端被改写）"
            )),
            Some(h) if h != hash => Some(format!(
                "审计记录 #{id} 的哈希与库外保存的末端（{short}…）不符（审计日志从这里起被删除后重写）"
            )),
            Some(_) => None,
        })
    }

    /// Recomputes the audit chain and checks every stored entry and grant against the audit row that
    /// wrote it, and the kept totals against the entries. Returns every problem found, in zh-CN, each
    /// naming the row or record; empty when nothing was changed behind the log's back.
    pub async fn verify_audit(&self) -> Result<Vec<String>, StoreError> {
        let rows = self.audit_all().await?;
        let mut problems = Vec::new();
        self.verify_chain(&rows, &mut problems).await?;
        let audited: BTreeMap<i64, &AuditRow> = rows.iter().map(|r| (r.id, r)).collect();
        self.verify_entries(&rows, &audited, &mut problems).await?;
        self.verify_grants(&audited, &mut problems).await?;
        self.verify_attachments(&audited, &mut problems).await?;
        super::seals::verify(&self.pool, &audited, &mut problems).await?;
        self.verify_kept(&mut problems).await?;
        Ok(problems)
    }

    /// Each row holds the hash of the row before it and of its own content; the head the last.
    async fn verify_chain(
        &self,
        rows: &[AuditRow],
        problems: &mut Vec<String>,
    ) -> Result<(), StoreError> {
        let mut prev = String::new();
        for r in rows {
            if r.prev_hash != prev {
                problems.push(format!(
                    "审计记录 #{} 的前一条哈希与 #{} 不符（前面的记录被删改或插入）",
                    r.id,
                    r.id - 1
                ));
            }
            let h = row_hash(
                &r.prev_hash,
                r.at,
                &r.actor,
                &r.action,
                &r.subject,
                &r.detail,
                &r.record_hash,
                &r.seal_hash,
            );
            if h != r.hash {
                problems.push(format!(
                    "审计记录 #{}（{} {}）的内容与其哈希不符（记录被改过）",
                    r.id, r.action, r.subject
                ));
            }
            prev = r.hash.clone();
        }
        let head: String = sqlx::query("SELECT hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        if head != prev {
            problems.push("审计链的末端与最后一条审计记录不符（最后的记录被删除）".into());
        }
        Ok(())
    }

    /// Entries against the audit rows that wrote them: each row's record hash is the hash of its
    /// entries' canonical lines.
    async fn verify_entries(
        &self,
        rows: &[AuditRow],
        audited: &BTreeMap<i64, &AuditRow>,
        problems: &mut Vec<String>,
    ) -> Result<(), StoreError> {
        let by_audit = self.entry_lines_by_audit(problems).await?;
        for (a, text) in &by_audit {
            match audited.get(a) {
                Some(r) if ENTRY_ACTIONS.contains(&r.action.as_str()) => {
                    if sha256_hex(text) != r.record_hash {
                        problems.push(format!(
                            "审计记录 #{a}（{} {}）写入的分录已被改动、删除或增加",
                            r.action, r.subject
                        ));
                    }
                }
                _ => problems.push(format!("有分录指向不存在或不写分录的审计记录 #{a}")),
            }
        }
        for r in rows
            .iter()
            .filter(|r| ENTRY_ACTIONS.contains(&r.action.as_str()))
        {
            if !by_audit.contains_key(&r.id) && r.record_hash != sha256_hex("") {
                problems.push(format!(
                    "审计记录 #{}（{} {}）写入的分录已全部被删除",
                    r.id, r.action, r.subject
                ));
            }
        }
        Ok(())
    }

    /// Every entry's canonical line, joined per audit row that wrote it.
    async fn entry_lines_by_audit(
        &self,
        problems: &mut Vec<String>,
    ) -> Result<BTreeMap<i64, String>, StoreError> {
        let entries = sqlx::query(
            "SELECT e.id, e.village, e.year, e.date, a.key, e.amount, e.voucher, e.memo, e.project, e.reverses, w.source, w.audit_id \
             FROM entries e LEFT JOIN accounts a ON a.number = e.account LEFT JOIN entry_writes w ON w.id = e.write_id ORDER BY e.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_audit: BTreeMap<i64, String> = BTreeMap::new();
        for e in &entries {
            let id: i64 = e.try_get(0)?;
            let village: String = e.try_get(1)?;
            let date: String = e.try_get(3)?;
            let voucher: Option<String> = e.try_get(6)?;
            // A number outside the accounts, or a write row gone, is tampering too: the line
            // cannot be rebuilt, so the write's hash will not match.
            let account = e.try_get::<Option<String>, _>(4)?.unwrap_or_default();
            let source = e.try_get::<Option<String>, _>(10)?.unwrap_or_default();
            let mut line = String::new();
            push_entry_line(
                &mut line,
                &village,
                e.try_get(2)?,
                &date,
                &account,
                e.try_get(5)?,
                voucher.as_deref(),
                &e.try_get::<String, _>(7)?,
                e.try_get::<Option<String>, _>(8)?.as_deref(),
                e.try_get::<Option<String>, _>(9)?.as_deref(),
                &source,
            );
            match e.try_get::<Option<i64>, _>(11)? {
                Some(a) => by_audit.entry(a).or_default().push_str(&line),
                None => problems.push(format!(
                    "分录 #{id}（村 {village} {date} 凭证 {}）没有对应的审计记录（绕过程序写入）",
                    voucher.as_deref().unwrap_or("—")
                )),
            }
        }
        Ok(by_audit)
    }

    /// Each document against its own SHA-256 and the audit row that kept it; read one at a time, so
    /// that the check holds no more than one document (10 MB) in memory.
    async fn verify_attachments(
        &self,
        audited: &BTreeMap<i64, &AuditRow>,
        problems: &mut Vec<String>,
    ) -> Result<(), StoreError> {
        use sha2::{Digest, Sha256};
        let ids = sqlx::query(
            "SELECT id, proposal_id, sha256, audit_id FROM proposal_attachments ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        for r in &ids {
            let (id, proposal, kept, audit_id): (i64, i64, String, i64) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
            let bytes: Vec<u8> =
                sqlx::query("SELECT bytes FROM proposal_attachments WHERE id = $1")
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?
                    .try_get(0)?;
            let name = format!("奖励方案 #{proposal} 的附件 #{id}");
            if crate::hex(&Sha256::digest(&bytes)) != kept {
                problems.push(format!("{name} 的内容与其 sha256 不符（文件被替换或改动）"));
            }
            match audited.get(&audit_id) {
                Some(a) if a.action == "workflow_attachment" && a.record_hash == kept => {}
                _ => problems.push(format!("{name} 与保存它的审计记录 #{audit_id} 不符")),
            }
        }
        Ok(())
    }

    /// Grants against the import that wrote them.
    async fn verify_grants(
        &self,
        audited: &BTreeMap<i64, &AuditRow>,
        problems: &mut Vec<String>,
    ) -> Result<(), StoreError> {
        let grants = sqlx::query("SELECT grant_id, village, year, level, program, amount, project, expected_rate, audit_id FROM grants ORDER BY grant_id")
            .fetch_all(&self.pool)
            .await?;
        let mut grants_by_audit: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for g in &grants {
            let gid: String = g.try_get(0)?;
            let line = grant_line(
                &gid,
                &g.try_get::<String, _>(1)?,
                g.try_get(2)?,
                &g.try_get::<String, _>(3)?,
                &g.try_get::<String, _>(4)?,
                g.try_get(5)?,
                &g.try_get::<String, _>(6)?,
                g.try_get(7)?,
            );
            match g.try_get::<Option<i64>, _>(8)? {
                Some(a) => grants_by_audit.entry(a).or_default().push(line),
                None => problems.push(format!("扶持资金 {gid} 没有对应的审计记录（绕过程序写入）")),
            }
        }
        for (a, mut lines) in grants_by_audit {
            lines.sort();
            match audited.get(&a) {
                Some(r) if r.action == "import_grants" => {
                    if sha256_hex(&lines.concat()) != r.record_hash {
                        problems.push(format!(
                            "审计记录 #{a}（{}）写入的扶持资金已被改动、删除或增加",
                            r.subject
                        ));
                    }
                }
                _ => problems.push(format!("有扶持资金指向不存在或不写扶持资金的审计记录 #{a}")),
            }
        }
        Ok(())
    }

    /// The kept entry facts and totals against the entries.
    async fn verify_kept(&self, problems: &mut Vec<String>) -> Result<(), StoreError> {
        for (village, year) in self.facts_mismatches().await? {
            problems.push(format!(
                "村 {village} {year} 年的分录摘要或分录合计（预警读取的）与分录不符"
            ));
        }
        for m in self.totals_mismatches().await? {
            problems.push(format!(
                "村 {} {} 年 {} 的合计 {} 元与分录之和 {} 元不符",
                m.village,
                m.year,
                m.account,
                cunji_core::Fen::from_fen(m.kept.0).json(),
                cunji_core::Fen::from_fen(m.summed.0).json()
            ));
        }
        Ok(())
    }
}
