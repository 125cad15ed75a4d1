//! Changes to contracts made on the web (SPEC §16, issue #35): adding one, ending one early, renewing
//! one. Nothing is edited in place: an added contract is version 1 of its id, an early end is the
//! next version of the contract with the earlier end (and, for installments, the next version of the
//! set without those after it), a renewal is a new contract on the same asset starting after the old
//! one's end. Each change is one transaction with one audit row naming who, when and what.

use cunji_core::contracts::{Contract, Schedule};
use cunji_core::date::Date;
use cunji_core::region::RegionCode;
use sqlx::Row;

use crate::contracts::{bind_contract_row, row_of, ContractRow, INSERT_CONTRACTS};
use crate::db::{Store, StoreError};

/// One stored version of a contract, as its history lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractVersion {
    pub version: i64,
    pub start: String,
    pub end: String,
    /// The audit row that wrote it.
    pub audit_id: i64,
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    r: &ContractRow,
    version: i64,
    audit: i64,
) -> Result<(), sqlx::Error> {
    // A constant head and placeholders only: no value reaches the text.
    let sql = format!(
        "{INSERT_CONTRACTS} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    );
    bind_contract_row(sqlx::query(sqlx::AssertSqlSafe(sql)), r, version, audit)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The newest stored version of a contract, if any.
async fn current_version(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    village: &str,
    id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query("SELECT MAX(version) FROM contracts WHERE village = $1 AND contract_id = $2")
        .bind(village)
        .bind(id)
        .fetch_one(&mut **tx)
        .await?
        .try_get::<Option<i64>, _>(0)
}

async fn asset_exists(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    village: &str,
    asset: &str,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 FROM assets WHERE village = $1 AND asset_id = $2 LIMIT 1")
            .bind(village)
            .bind(asset)
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
    )
}

/// Checks a new contract against what is stored: its village, a new id, a registered asset.
async fn check_new(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    c: &Contract,
) -> Result<(), StoreError> {
    let village = c.village().as_str();
    // An unregistered village is the contract's fault (422), not a missing page.
    crate::db::check_village(&mut **tx, village, StoreError::Invalid).await?;
    if current_version(tx, village, c.id()).await?.is_some() {
        return Err(StoreError::Invalid(format!(
            "合同编号 {} 在本村已有，请换一个编号（改动已有合同请用提前终止或续签）",
            c.id()
        )));
    }
    if let Some(a) = c.asset() {
        if !asset_exists(tx, village, a).await? {
            return Err(StoreError::Invalid(format!(
                "资产编号 {a} 不是本村已登记的资产"
            )));
        }
    }
    Ok(())
}

/// Stores `list` as the next installment set of contract `id` (version 1 for a new contract), the
/// rows the importer writes for an `installments` file, under audit row `audit`.
async fn insert_installments(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    village: &str,
    id: &str,
    list: &[cunji_core::contracts::Installment],
    audit: i64,
) -> Result<(), sqlx::Error> {
    let set: i64 = sqlx::query(
        "SELECT MAX(version) FROM installments WHERE village = $1 AND contract_id = $2",
    )
    .bind(village)
    .bind(id)
    .fetch_one(&mut **tx)
    .await?
    .try_get::<Option<i64>, _>(0)?
    .unwrap_or(0)
        + 1;
    for (seq, i) in list.iter().enumerate() {
        sqlx::query(
            "INSERT INTO installments (village, contract_id, version, seq, due_date, amount, audit_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(village)
        .bind(id)
        .bind(set)
        .bind(seq as i64)
        .bind(i.date.iso())
        .bind(i.amount.fen())
        .bind(audit)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A new contract's installments (none for a yearly rent), stored with it: a contract added on the
/// web carries its schedule whole, where an import brings the installments in a later file.
async fn insert_schedule(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    c: &Contract,
    audit: i64,
) -> Result<(), sqlx::Error> {
    match c.schedule() {
        Schedule::Installments(list) if !list.is_empty() => {
            insert_installments(tx, c.village().as_str(), c.id(), list, audit).await
        }
        _ => Ok(()),
    }
}

/// Refuses a change to contract `id` of `village` whose stored rows (its versions and installments)
/// were changed behind the log's back: its new version would vouch for them (issue #32).
async fn refuse_edited(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    village: &str,
    id: &str,
) -> Result<(), StoreError> {
    use crate::audit::seals::{refuse_unsealed_scopes, CONTRACTS, INSTALLMENTS};
    let scope = [(village.to_string(), id.to_string())].into();
    refuse_unsealed_scopes(tx, &CONTRACTS, &scope).await?;
    refuse_unsealed_scopes(tx, &INSTALLMENTS, &scope).await
}

/// Seals the contract and installment rows audit row `audit` wrote.
async fn seal(tx: &mut sqlx::Transaction<'_, sqlx::Any>, audit: i64) -> Result<(), sqlx::Error> {
    use crate::audit::seals::{seal_written, CONTRACTS, INSTALLMENTS};
    seal_written(tx, audit, &[&CONTRACTS, &INSTALLMENTS]).await
}

/// One line of an audit row's detail for a contract.
fn describe(c: &Contract) -> String {
    let rent = match c.schedule() {
        Schedule::Annual { rent, .. } => format!("，年租金 {rent} 元"),
        Schedule::Installments(list) if !list.is_empty() => {
            format!("，分期应收 {} 笔，合计 {} 元", list.len(), c.total())
        }
        Schedule::Installments(_) => String::new(),
    };
    format!(
        "合同 {}（{}），{} 至 {}{rent}",
        c.id(),
        c.counterparty(),
        c.start().iso(),
        c.end().iso()
    )
}

impl Store {
    /// Adds a contract (version 1 of its id) with its audit row; refused when the id is taken or the
    /// asset is not the village's.
    pub async fn add_contract(&self, c: &Contract, actor: &str) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        refuse_edited(&mut tx, c.village().as_str(), c.id()).await?;
        check_new(&mut tx, c).await?;
        let row = row_of(c);
        let detail = format!("新增{}", describe(c));
        let audit = crate::audit::write(
            &mut tx,
            actor,
            "contract_add",
            c.village().as_str(),
            &detail,
        )
        .await?;
        insert(&mut tx, &row, 1, audit).await?;
        insert_schedule(&mut tx, c, audit).await?;
        crate::audit::touch(&mut tx, audit, [c.village().as_str()]).await?;
        seal(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(audit)
    }

    /// Ends a contract early on `end` (its last day in force): the next version with that end, and for
    /// installments the next set without those due after it. Returns the new version.
    pub async fn end_contract_early(
        &self,
        village: &RegionCode,
        id: &str,
        end: Date,
        reason: &str,
        actor: &str,
    ) -> Result<i64, StoreError> {
        let reason = reason.trim();
        if reason.chars().count() < 2 {
            return Err(StoreError::Invalid(
                "提前终止须写明理由（至少 2 个字）".into(),
            ));
        }
        cunji_core::columns::check_length(reason)
            .map_err(|m| StoreError::Invalid(format!("提前终止理由{m}")))?;
        let book = self.load_contracts_within(village.as_str()).await?;
        let current = book
            .of(village)
            .and_then(|d| d.contract(id))
            .ok_or_else(|| StoreError::Invalid(format!("本村没有合同 {id}")))?;
        if end >= current.end() {
            return Err(StoreError::Invalid(format!(
                "终止日期 {} 应早于合同现在的终止日期 {}",
                end.iso(),
                current.end().iso()
            )));
        }
        if end < current.start() {
            return Err(StoreError::Invalid(format!(
                "终止日期 {} 早于合同的起始日期 {}",
                end.iso(),
                current.start().iso()
            )));
        }
        let mut row = row_of(current);
        row.end = end.iso();
        let mut tx = self.begin_write().await?;
        refuse_edited(&mut tx, village.as_str(), id).await?;
        let stored = current_version(&mut tx, village.as_str(), id)
            .await?
            .unwrap_or(0);
        // What was read before the transaction is still the current version (no one else ended or
        // re-imported it meanwhile): otherwise this version would silently undo theirs.
        let end_now: Option<String> = sqlx::query(
            "SELECT end_date FROM contracts WHERE village = $1 AND contract_id = $2 AND version = $3",
        )
        .bind(village.as_str())
        .bind(id)
        .bind(stored)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        if end_now.as_deref() != Some(current.end().iso().as_str()) {
            return Err(StoreError::Invalid(format!(
                "合同 {id} 刚被改动过，请刷新页面后再试"
            )));
        }
        let version = stored + 1;
        let detail = format!(
            "合同 {id}（{}）提前终止：终止日期由 {} 改为 {}，理由：{reason}",
            current.counterparty(),
            current.end().iso(),
            end.iso()
        );
        let audit =
            crate::audit::write(&mut tx, actor, "contract_end", village.as_str(), &detail).await?;
        insert(&mut tx, &row, version, audit).await?;
        if let Schedule::Installments(list) = current.schedule() {
            if list.iter().any(|i| i.date > end) {
                let kept: Vec<_> = list.iter().copied().filter(|i| i.date <= end).collect();
                insert_installments(&mut tx, village.as_str(), id, &kept, audit).await?;
            }
        }
        crate::audit::touch(&mut tx, audit, [village.as_str()]).await?;
        seal(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Renews contract `old` of the village by `new`: a new contract (its own id, version 1) on the
    /// same asset, starting after the old one's end, so the old one has a successor (SPEC §16,
    /// `expiring`). The old contract is kept as it was.
    pub async fn renew_contract(
        &self,
        old: &str,
        new: &Contract,
        actor: &str,
    ) -> Result<i64, StoreError> {
        let village = new.village();
        let book = self.load_contracts_within(village.as_str()).await?;
        let current = book
            .of(village)
            .and_then(|d| d.contract(old))
            .ok_or_else(|| StoreError::Invalid(format!("本村没有合同 {old}")))?;
        if new.start() <= current.end() {
            return Err(StoreError::Invalid(format!(
                "续签合同的起始日期 {} 应晚于原合同的终止日期 {}",
                new.start().iso(),
                current.end().iso()
            )));
        }
        if new.asset() != current.asset() {
            return Err(StoreError::Invalid(
                "续签合同应与原合同是同一资产".to_string(),
            ));
        }
        let mut tx = self.begin_write().await?;
        refuse_edited(&mut tx, village.as_str(), old).await?;
        refuse_edited(&mut tx, village.as_str(), new.id()).await?;
        check_new(&mut tx, new).await?;
        let detail = format!(
            "续签合同 {old}（{}）：{}",
            current.counterparty(),
            describe(new)
        );
        let audit =
            crate::audit::write(&mut tx, actor, "contract_renew", village.as_str(), &detail)
                .await?;
        insert(&mut tx, &row_of(new), 1, audit).await?;
        insert_schedule(&mut tx, new, audit).await?;
        crate::audit::touch(&mut tx, audit, [village.as_str()]).await?;
        seal(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(audit)
    }

    /// Every stored version of a contract, oldest first.
    pub async fn contract_versions(
        &self,
        village: &RegionCode,
        id: &str,
    ) -> Result<Vec<ContractVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, start_date, end_date, audit_id FROM contracts \
             WHERE village = $1 AND contract_id = $2 ORDER BY version",
        )
        .bind(village.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ContractVersion {
                    version: r.try_get(0)?,
                    start: r.try_get(1)?,
                    end: r.try_get(2)?,
                    audit_id: r.try_get(3)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
