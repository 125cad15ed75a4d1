//! The reward workflow's records (SPEC §13): proposals, their awards, and their steps, appended with
//! who and when and never rewritten. What may happen is decided by `cunji_core::workflow`; this module
//! re-checks a step's status inside its transaction (two officials may click at once) and stores it.

use sqlx::Row;

use crate::db::{Store, StoreError};

pub mod attachments;
mod steps;

pub use cunji_core::workflow::Status;
pub use steps::StepRecord;

/// A person's line of a proposal: the type lives with the rules that read it (`cunji_core::workflow`).
pub use cunji_core::workflow::AwardRecord as ProposalAward;

/// An unpaid proposal whose amounts a newly current policy changes (SPEC §13): it goes back to
/// `stale` in the transaction that saves the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repriced {
    pub proposal: i64,
    pub village: String,
    pub year: i32,
    /// The version it was computed under.
    pub policy_id: i64,
    /// Its status when read: the write re-checks that nothing moved it since.
    pub status: cunji_core::workflow::Status,
    pub change: cunji_core::workflow::Repricing,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub id: i64,
    pub step: String,
    pub actor: String,
    pub at: i64,
    pub detail: String,
    /// The step's own data as JSON text (`{}` for steps stored before it was kept): a send-back's
    /// reason, an approval's checks, a payment's date and amounts, a notice's period.
    pub data: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub id: i64,
    pub village: cunji_core::region::RegionCode,
    pub year: i32,
    pub policy_id: i64,
    pub status: Status,
    pub pool: cunji_core::Fen,
    pub figures: String,
    pub computed_at: i64,
    pub published_at: Option<i64>,
    pub trace: Vec<String>,
    /// The calculation told for villagers (SPEC §15); empty for proposals computed before it was
    /// kept (migration 13).
    pub story: Vec<String>,
    pub awards: Vec<ProposalAward>,
    pub steps: Vec<Step>,
    /// The latest village resolution, as data (none for proposals resolved before it was kept).
    pub resolution: Option<cunji_core::workflow::Resolution>,
    /// The measure's value and base the proposal was computed from (none before migration 11).
    pub measure: Option<cunji_core::Fen>,
    pub base: Option<cunji_core::Fen>,
}

impl Proposal {
    /// The amounts paid, per person (empty before the `pay` step).
    pub fn paid(&self) -> std::collections::BTreeMap<String, cunji_core::Fen> {
        self.awards
            .iter()
            .filter_map(|a| a.paid.map(|p| (a.person.clone(), p)))
            .collect()
    }

    /// The data of the latest step named `name`, as JSON (`Null` when there is none).
    fn step_data(&self, name: &str) -> serde_json::Value {
        self.steps
            .iter()
            .rev()
            .find(|s| s.step == name)
            .and_then(|s| serde_json::from_str(&s.data).ok())
            .unwrap_or_default()
    }

    /// The payment date the `pay` step recorded (the date typed, not the time it was recorded;
    /// `None` before payment).
    pub fn payment_date(&self) -> Option<cunji_core::date::Date> {
        let data = self.step_data("paid");
        cunji_core::date::Date::parse(data["date"].as_str()?).ok()
    }

    /// The 公示期 the `publish` step recorded.
    pub fn notice_period(&self) -> Option<(cunji_core::date::Date, cunji_core::date::Date)> {
        let data = self.step_data("published");
        let day = |k: &str| cunji_core::date::Date::parse(data[k].as_str()?).ok();
        Some((day("from")?, day("to")?))
    }

    /// Where the proposal stands against `now`, the village-year computed from the current books
    /// under this proposal's own policy version (SPEC §13).
    pub fn standing(
        &self,
        now: Option<&cunji_core::incentive::evaluate::IncentiveResult>,
    ) -> cunji_core::workflow::Standing {
        cunji_core::workflow::Standing::of(&self.awards, now)
    }
}

/// What a computation of a village's reward found, to be recorded as a proposal.
#[derive(Clone, Copy, Debug)]
pub struct Computation<'a> {
    pub village: &'a str,
    pub year: i32,
    pub policy_id: i64,
    pub pool: i64,
    /// The measure's value and the base it gave (SPEC §6), kept for the public fingerprint.
    pub measure: Option<cunji_core::Fen>,
    pub base: Option<cunji_core::Fen>,
    pub figures: &'a str,
    pub awards: &'a [ProposalAward],
    pub trace: &'a [String],
    pub story: &'a [String],
}

impl Store {
    pub async fn proposal(&self, village: &str, year: i32) -> Result<Option<Proposal>, StoreError> {
        let Some(r) = sqlx::query(
            "SELECT id, village, year, policy_id, status, pool, figures, computed_at, published_at, trace, measure, base, story FROM proposals WHERE village = $1 AND year = $2",
        )
        .bind(village)
        .bind(year)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = r.try_get(0)?;
        let status: String = r.try_get(4)?;
        let awards = sqlx::query("SELECT person, name, role, computed, decided, paid, recovered FROM proposal_awards WHERE proposal_id = $1 ORDER BY person")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(award_of)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let steps = sqlx::query(
            "SELECT id, step, actor, at, detail, data FROM proposal_steps WHERE proposal_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|s| {
            let (id, step, actor) = (s.try_get(0)?, s.try_get(1)?, s.try_get(2)?);
            let (at, detail, data) = (s.try_get(3)?, s.try_get(4)?, s.try_get(5)?);
            Ok(Step { id, step, actor, at, detail, data })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let resolution = steps::latest_resolution(&self.pool, id, &awards).await?;
        let village: String = r.try_get(1)?;
        Ok(Some(Proposal {
            id,
            village: cunji_core::region::RegionCode::parse(&village)
                .map_err(|e| StoreError::Corrupt(format!("数据库中的奖励方案有误：{e}")))?,
            year: r.try_get::<i64, _>(2)? as i32,
            policy_id: r.try_get(3)?,
            status: Status::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("未知流程状态 {status}")))?,
            pool: cunji_core::Fen::from_fen(r.try_get(5)?),
            figures: r.try_get(6)?,
            computed_at: r.try_get(7)?,
            published_at: r.try_get(8)?,
            trace: r
                .try_get::<String, _>(9)?
                .lines()
                .map(|l| l.to_string())
                .collect(),
            story: r
                .try_get::<Option<String>, _>(12)?
                .map(|s| s.lines().map(|l| l.to_string()).collect())
                .unwrap_or_default(),
            awards,
            steps,
            resolution,
            measure: money(&r, 10)?,
            base: money(&r, 11)?,
        }))
    }

    /// Every proposal of a year, by village: where it stands, its pool, and what was paid and
    /// recovered (for to-do lists and the overpayments a county follows up).
    pub async fn proposals_of_year(&self, year: i32) -> Result<Vec<ProposalSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.village, p.status, p.pool, CAST(SUM(a.paid) AS BIGINT), CAST(SUM(a.recovered) AS BIGINT), p.policy_id \
             FROM proposals p LEFT JOIN proposal_awards a ON a.proposal_id = p.id \
             WHERE p.year = $1 GROUP BY p.village, p.status, p.pool, p.policy_id ORDER BY p.village",
        )
        .bind(year)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(summary_of).collect()
    }
}

/// A proposal in a list of a year's proposals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposalSummary {
    pub village: cunji_core::region::RegionCode,
    pub status: Status,
    pub pool: cunji_core::Fen,
    /// The total paid, once the `pay` step recorded it.
    pub paid: Option<cunji_core::Fen>,
    pub recovered: cunji_core::Fen,
    /// The policy version the proposal was computed under.
    pub policy_id: i64,
}

fn summary_of(r: &sqlx::any::AnyRow) -> Result<ProposalSummary, StoreError> {
    let bad = |e: String| StoreError::Corrupt(format!("数据库中的奖励方案有误：{e}"));
    let village = cunji_core::region::RegionCode::parse(&r.try_get::<String, _>(0)?)
        .map_err(|e| bad(e.to_string()))?;
    let status: String = r.try_get(1)?;
    let status = Status::parse(&status).ok_or_else(|| bad(format!("未知流程状态 {status}")))?;
    let money = cunji_core::Fen::from_fen;
    Ok(ProposalSummary {
        village,
        status,
        pool: money(r.try_get(2)?),
        paid: r.try_get::<Option<i64>, _>(3)?.map(money),
        recovered: money(r.try_get::<Option<i64>, _>(4)?.unwrap_or(0)),
        policy_id: r.try_get(5)?,
    })
}

pub(super) async fn current_status(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
) -> Result<Status, StoreError> {
    let s: String = sqlx::query("SELECT status FROM proposals WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("没有编号为 {id} 的奖励方案")))?
        .try_get(0)?;
    Status::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("未知流程状态 {s}")))
}

pub(super) async fn set_status(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    s: Status,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE proposals SET status = $1 WHERE id = $2")
        .bind(s.key())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) async fn step(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    name: &str,
    actor: &str,
    detail: &str,
) -> Result<i64, sqlx::Error> {
    step_with(tx, id, name, actor, detail, "{}").await
}

/// Appends a step with its data (JSON text); returns the step's id.
pub(super) async fn step_with(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    name: &str,
    actor: &str,
    detail: &str,
    data: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query("INSERT INTO proposal_steps (proposal_id, step, actor, at, detail, data) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
        .bind(id)
        .bind(name)
        .bind(actor)
        .bind(crate::now())
        .bind(detail)
        .bind(data)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)
}

/// `status IN (…)` over the open statuses (`Status::open`: unpaid and not yet stale), the proposals
/// new figures or a new policy send back. The core decides which they are; the keys are its own
/// identifiers, never text from a user, so they are written into the SQL.
pub(crate) fn open_status_sql() -> String {
    let keys: Vec<String> = Status::open().map(|s| format!("'{}'", s.key())).collect();
    format!("status IN ({})", keys.join(", "))
}

/// Sends open proposals of these villages back to be recomputed, for every year from the one given
/// on (a year's base compares it with earlier years), inside the writing transaction.
pub(crate) async fn mark_stale(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    touched: &[(String, i32)],
    actor: &str,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "SELECT id, year FROM proposals WHERE village = $1 AND year >= $2 AND {}",
        open_status_sql()
    );
    let mut staled = Vec::new();
    for (village, year) in touched {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(village)
            .bind(*year)
            .fetch_all(&mut **tx)
            .await?;
        for r in rows {
            let id: i64 = r.try_get(0)?;
            let y: i64 = r.try_get(1)?;
            // Sent back, its rows are sealed again: one changed behind the log's back stops the
            // write rather than be vouched for.
            let changed = crate::audit::seals::unsealed_proposal(tx, id).await?;
            if let Some(m) = crate::audit::seals::refusal(&format!("奖励方案 #{id} "), &changed)
            {
                return Err(sqlx::Error::Protocol(m));
            }
            set_status(tx, id, Status::Stale).await?;
            let detail = format!("{year} 年账目有新记录，{y} 年奖励方案退回重新计算");
            step(tx, id, Status::Stale.key(), actor, &detail).await?;
            staled.push(id);
        }
    }
    if !staled.is_empty() {
        // Bound to the audit row of the write that brought the new figures (written before).
        let audit_id = crate::audit::seals::newest(tx).await?;
        crate::audit::seals::seal_proposals(tx, audit_id, &staled).await?;
    }
    Ok(())
}

/// Every unpaid proposal (computed … county filed), whole: the ones a new policy may reprice.
pub(crate) async fn unpaid_proposals(store: &Store) -> Result<Vec<Proposal>, StoreError> {
    let sql = format!(
        "SELECT village, year FROM proposals WHERE {} ORDER BY year, village",
        open_status_sql()
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&store.pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let village: String = r.try_get(0)?;
        let year = r.try_get::<i64, _>(1)? as i32;
        if let Some(p) = store.proposal(&village, year).await? {
            out.push(p);
        }
    }
    Ok(out)
}

/// Sends a proposal that policy `new_policy` reprices back to `stale`, its step keeping the amounts
/// under both versions; `false` (nothing written) when a step moved it since it was read.
pub(crate) async fn send_back_repriced(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    r: &Repriced,
    new_policy: i64,
    actor: &str,
) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT status, pool FROM proposals WHERE id = $1")
        .bind(r.proposal)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(false) };
    let (status, pool): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
    if status != r.status.key() || pool != r.change.pool_before.fen() {
        return Ok(false);
    }
    set_status(tx, r.proposal, Status::Stale).await?;
    let (before, after) = (
        format!("政策 #{}", r.policy_id),
        format!("政策 #{new_policy}"),
    );
    let detail = r.change.summary_zh(&before, &after);
    let money = |f: Option<cunji_core::Fen>| f.map(|f| f.json());
    let people: Vec<serde_json::Value> = r
        .change
        .people
        .iter()
        .map(|(person, name, b, a)| {
            serde_json::json!({ "person": person, "name": name, "before": money(*b), "after": money(*a) })
        })
        .collect();
    let data = serde_json::json!({
        "policy_before": r.policy_id, "policy_after": new_policy,
        "pool_before": r.change.pool_before.json(), "pool_after": r.change.pool_after.json(),
        "people": people,
    });
    let name = Status::Stale.key();
    step_with(tx, r.proposal, name, actor, &detail, &data.to_string()).await?;
    let audit_id = crate::audit::write(
        tx,
        actor,
        "workflow_stale",
        &r.proposal.to_string(),
        &detail,
    )
    .await?;
    crate::audit::touch(tx, audit_id, [r.village.as_str()]).await?;
    crate::audit::seals::seal_proposal(tx, audit_id, r.proposal).await?;
    Ok(true)
}

impl Store {
    /// The published proposals of a village, newest year first.
    pub async fn published_years(&self, village: &str) -> Result<Vec<i32>, StoreError> {
        let rows = sqlx::query(
            "SELECT year FROM proposals WHERE village = $1 AND status = $2 ORDER BY year DESC",
        )
        .bind(village)
        .bind(Status::Published.key())
        .fetch_all(&self.pool)
        .await?;
        crate::load::years_of(&rows)
    }
}

/// Links a workflow step's audit row to the proposal's village.
pub(super) async fn touch_proposal(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    proposal: i64,
) -> Result<(), sqlx::Error> {
    let village: String = sqlx::query("SELECT village FROM proposals WHERE id = $1")
        .bind(proposal)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    crate::audit::touch(tx, audit_id, [village.as_str()]).await
}

/// An amount in fen of column `i`, when set.
fn money(r: &sqlx::any::AnyRow, i: usize) -> Result<Option<cunji_core::Fen>, sqlx::Error> {
    Ok(r.try_get::<Option<i64>, _>(i)?
        .map(cunji_core::Fen::from_fen))
}

/// A proposal's award row as domain values (the role parsed at the edge).
fn award_of(a: &sqlx::any::AnyRow) -> Result<ProposalAward, StoreError> {
    let role: String = a.try_get(2)?;
    Ok(ProposalAward {
        person: a.try_get(0)?,
        name: a.try_get(1)?,
        role: cunji_core::cadre::Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("数据库中有未知职务 {role}")))?,
        computed: cunji_core::Fen::from_fen(a.try_get(3)?),
        decided: money(a, 4)?,
        paid: money(a, 5)?,
        recovered: cunji_core::Fen::from_fen(a.try_get(6)?),
    })
}
