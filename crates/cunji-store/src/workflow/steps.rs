//! The steps that change a proposal: computing, the village resolution, reviews, payment, public
//! notice, sending back and recovering an overpayment. Each re-reads the proposal's status inside its
//! transaction and asks `cunji_core::workflow::Action::next` whether the step may follow it.

use std::collections::BTreeMap;

use cunji_core::date::Date;
use cunji_core::workflow::{
    check_payment, check_recovery, Action, Body, Meetings, Resolution, StepDates,
};
use cunji_core::Fen;
use sqlx::Row;

use super::{current_status, set_status, step, step_with, touch_proposal, Computation, Status};
use crate::db::{Store, StoreError};

/// What a review step records: a line for the history and the audit log, and its data (JSON).
#[derive(Clone, Debug, Default)]
pub struct StepRecord {
    pub detail: String,
    pub data: serde_json::Value,
}

impl Store {
    /// Records a computation: a new proposal, or a recomputation of a stale or computed one. A proposal
    /// past its village resolution cannot be recomputed unless new figures sent it back.
    pub async fn record_computation(
        &self,
        c: &Computation<'_>,
        actor: &str,
    ) -> Result<i64, StoreError> {
        let Computation {
            village,
            year,
            policy_id,
            pool,
            figures,
            awards,
            trace,
            ..
        } = *c;
        let mut tx = self.begin_write().await?;
        // The trace names the policy version it was computed under (SPEC §13): a decided reward keeps
        // that version for good, whatever policy is current later.
        let policy_name: String = sqlx::query("SELECT name FROM policies WHERE id = $1")
            .bind(policy_id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("没有第 {policy_id} 版政策")))?;
        let trace_text = std::iter::once(format!("按政策第 {policy_id} 版《{policy_name}》计算。"))
            .chain(trace.iter().cloned())
            .collect::<Vec<_>>()
            .join("\n");
        let existing =
            sqlx::query("SELECT id, status FROM proposals WHERE village = $1 AND year = $2")
                .bind(village)
                .bind(year)
                .fetch_optional(&mut *tx)
                .await?;
        let now = crate::now();
        let id = match existing {
            Some(r) => {
                let id: i64 = r.try_get(0)?;
                refuse_unsealed(&mut tx, id).await?;
                let status: String = r.try_get(1)?;
                let status = Status::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("未知流程状态 {status}")))?;
                // Past its village resolution a proposal is recomputed only once new figures sent
                // it back (SPEC §13): the core says which statuses computing may follow.
                let next = Action::Compute.next(Some(status)).map_err(StoreError::Invalid)?;
                sqlx::query("UPDATE proposals SET status = $7, policy_id = $1, pool = $2, figures = $3, computed_at = $4, trace = $6 WHERE id = $5")
                    .bind(policy_id)
                    .bind(pool)
                    .bind(figures)
                    .bind(now)
                    .bind(id)
                    .bind(&trace_text)
                    .bind(next.key())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM proposal_awards WHERE proposal_id = $1").bind(id).execute(&mut *tx).await?;
                id
            }
            None => sqlx::query(
                "INSERT INTO proposals (village, year, policy_id, status, pool, figures, computed_at, trace) VALUES ($1, $2, $3, $8, $4, $5, $6, $7) RETURNING id",
            )
            .bind(village)
            .bind(year)
            .bind(policy_id)
            .bind(pool)
            .bind(figures)
            .bind(now)
            .bind(&trace_text)
            .bind(Action::Compute.next(None).map_err(StoreError::Invalid)?.key())
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?,
        };
        sqlx::query("UPDATE proposals SET measure = $1, base = $2, story = $3 WHERE id = $4")
            .bind(c.measure.map(|f| f.fen()))
            .bind(c.base.map(|f| f.fen()))
            .bind(c.story.join("\n"))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for a in awards {
            sqlx::query("INSERT INTO proposal_awards (proposal_id, person, name, role, computed, decided) VALUES ($1, $2, $3, $4, $5, NULL)")
                .bind(id)
                .bind(&a.person)
                .bind(&a.name)
                .bind(a.role.key())
                .bind(a.computed.fen())
                .execute(&mut *tx)
                .await?;
        }
        let detail = format!(
            "按政策第 {policy_id} 版计算，奖励总额上限 {}",
            cunji_core::Fen::from_fen(pool).display()
        );
        step(&mut tx, id, Action::Compute.history_key(), actor, &detail).await?;
        let audit_id = crate::audit::write(
            &mut tx,
            actor,
            "workflow_computed",
            &format!("{village}/{year}"),
            &detail,
        )
        .await?;
        crate::audit::touch(&mut tx, audit_id, [village]).await?;
        crate::audit::seals::seal_proposal(&mut tx, audit_id, id).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records the village resolution (四议两公开) after checking it against SPEC §13's rules with the
    /// computed awards (`today` is the day it is entered): refused with the rule broken, nothing stored.
    pub async fn record_resolution(
        &self,
        id: i64,
        res: &Resolution,
        today: Date,
        actor: &str,
    ) -> Result<(), StoreError> {
        let (mut tx, next) = self.begin_step(id, Action::Resolve).await?;
        let year: i64 = sqlx::query("SELECT year FROM proposals WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let computed = amounts(&mut tx, id, "computed").await?;
        res.check(year as i32, today, &computed)
            .map_err(StoreError::Invalid)?;
        let detail = res.summary_zh();
        let data = serde_json::json!({
            "awards": res.awards.iter().map(|(p, f)| (p.clone(), f.json())).collect::<BTreeMap<_, _>>(),
        });
        let name = Action::Resolve.history_key();
        let step_id = append(&mut tx, id, name, (&detail, &data), actor).await?;
        insert_resolution(&mut tx, step_id, id, res).await?;
        set_each(&mut tx, id, "decided = $1", &res.awards).await?;
        set_status(&mut tx, id, next).await?;
        finish(tx, id).await?;
        Ok(())
    }

    /// Takes a review step (approve, file, send back) from the proposal's status; a send-back clears
    /// the decided amounts (the resolution stays in the history).
    pub async fn take_step(
        &self,
        id: i64,
        action: Action,
        record: &StepRecord,
        actor: &str,
    ) -> Result<Status, StoreError> {
        let (mut tx, next) = self.begin_step(id, action).await?;
        if !action.is_review() {
            return Err(StoreError::Invalid(format!(
                "“{}”另有录入表",
                action.name_zh()
            )));
        }
        if action == Action::SendBack {
            sqlx::query("UPDATE proposal_awards SET decided = NULL WHERE proposal_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        set_status(&mut tx, id, next).await?;
        let name = action.history_key();
        append(&mut tx, id, name, (&record.detail, &record.data), actor).await?;
        finish(tx, id).await?;
        Ok(next)
    }

    /// Records the payment: its date (checked against the decision and today, SPEC §13) and the
    /// amount paid to each person, none above the decided one.
    pub async fn record_payment(
        &self,
        id: i64,
        date: Date,
        paid: &BTreeMap<String, Fen>,
        today: Date,
        actor: &str,
    ) -> Result<(), StoreError> {
        let (mut tx, next) = self.begin_step(id, Action::Pay).await?;
        let mut errors = step_dates(&mut tx, id, today)
            .await?
            .check_payment(date)
            .err()
            .unwrap_or_default();
        let decided = amounts(&mut tx, id, "decided").await?;
        errors.extend(check_payment(paid, &decided).err());
        refuse(errors)?;
        set_each(&mut tx, id, "paid = $1", paid).await?;
        let detail = format!("{} 发放，合计 {} 元", date.iso(), total(paid).display());
        let data = serde_json::json!({ "date": date.iso(), "paid": money_map(paid) });
        set_status(&mut tx, id, next).await?;
        append(
            &mut tx,
            id,
            Action::Pay.history_key(),
            (&detail, &data),
            actor,
        )
        .await?;
        finish(tx, id).await?;
        Ok(())
    }

    /// Records the public notice (公示) with its period, checked against the decision and today.
    pub async fn record_notice(
        &self,
        id: i64,
        (from, to): (Date, Date),
        today: Date,
        actor: &str,
    ) -> Result<(), StoreError> {
        let (mut tx, next) = self.begin_step(id, Action::Publish).await?;
        let dates = step_dates(&mut tx, id, today).await?;
        refuse(dates.check_notice(from, to).err().unwrap_or_default())?;
        sqlx::query("UPDATE proposals SET published_at = $1 WHERE id = $2")
            .bind(crate::now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        set_status(&mut tx, id, next).await?;
        let detail = format!("公示 {} 至 {}", from.iso(), to.iso());
        let data = serde_json::json!({ "from": from.iso(), "to": to.iso() });
        append(
            &mut tx,
            id,
            Action::Publish.history_key(),
            (&detail, &data),
            actor,
        )
        .await?;
        finish(tx, id).await?;
        Ok(())
    }

    /// Records what was given back of an overpayment (`outstanding`, per person, from
    /// `cunji_core::workflow::Standing`); none above what is outstanding, dated on or after the
    /// payment.
    pub async fn record_recovery(
        &self,
        id: i64,
        date: Date,
        amounts: &BTreeMap<String, Fen>,
        outstanding: &BTreeMap<String, Fen>,
        today: Date,
        actor: &str,
    ) -> Result<(), StoreError> {
        let (mut tx, _) = self.begin_step(id, Action::Recover).await?;
        let mut errors = step_dates(&mut tx, id, today)
            .await?
            .check_recovery(date)
            .err()
            .unwrap_or_default();
        errors.extend(check_recovery(amounts, outstanding).err());
        refuse(errors)?;
        set_each(&mut tx, id, "recovered = recovered + $1", amounts).await?;
        let detail = format!(
            "{} 追回多发金额 {} 元",
            date.iso(),
            total(amounts).display()
        );
        let data = serde_json::json!({ "date": date.iso(), "recovered": money_map(amounts) });
        let name = Action::Recover.history_key();
        append(&mut tx, id, name, (&detail, &data), actor).await?;
        finish(tx, id).await?;
        Ok(())
    }
}

/// Every rule a step broke, as one refusal (the form lists them all), or nothing.
fn refuse(errors: Vec<String>) -> Result<(), StoreError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errors.join("；")))
    }
}

/// What a step's dates are checked against, read inside its transaction: the reward's year, the
/// latest resolution's decision date and the payment date recorded.
async fn step_dates(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    today: Date,
) -> Result<StepDates, StoreError> {
    let year: i64 = sqlx::query("SELECT year FROM proposals WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
    let decided: Option<String> = sqlx::query(
        "SELECT decided FROM proposal_resolutions WHERE proposal_id = $1 ORDER BY step_id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get(0))
    .transpose()?;
    let paid: Option<String> = sqlx::query(
        "SELECT data FROM proposal_steps WHERE proposal_id = $1 AND step = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(id)
    .bind(Action::Pay.history_key())
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get(0))
    .transpose()?;
    let paid = paid
        .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
        .and_then(|v| Date::parse(v["date"].as_str()?).ok());
    Ok(StepDates {
        year: year as i32,
        decided: decided.and_then(|d| Date::parse(&d).ok()),
        paid,
        today,
    })
}

impl Store {
    /// Opens a step's transaction, with the status the step leads to from the proposal's status as it
    /// is read inside the transaction (two officials may click at once).
    async fn begin_step(
        &self,
        id: i64,
        action: Action,
    ) -> Result<(sqlx::Transaction<'static, sqlx::Any>, Status), StoreError> {
        let mut tx = self.begin_write().await?;
        let status = current_status(&mut tx, id).await?;
        // SPEC §13: a step its status does not allow is a refused step, answered 422 like any rule.
        let next = action.next(Some(status)).map_err(StoreError::Invalid)?;
        refuse_unsealed(&mut tx, id).await?;
        Ok((tx, next))
    }
}

/// Refuses a step on a proposal whose rows were changed behind the log's back: the step would seal
/// them as they stand, vouching for the edit (a decided amount raised tenfold, then paid).
async fn refuse_unsealed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
) -> Result<(), StoreError> {
    let changed = crate::audit::seals::unsealed_proposal(tx, id).await?;
    if changed.is_empty() {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "奖励方案 #{id} 的记录被直接改过，不能继续办理（请县级管理员运行 cunji check 查明）：{}",
        changed.join("；")
    )))
}

/// Seals the proposal's rows as the step left them into the step's audit row (the newest: every
/// step writes one), then commits.
async fn finish(mut tx: sqlx::Transaction<'static, sqlx::Any>, id: i64) -> Result<(), StoreError> {
    let audit_id = crate::audit::seals::newest(&mut tx).await?;
    crate::audit::seals::seal_proposal(&mut tx, audit_id, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets `assignment` (of `$1`, the person's amount) on each person's award.
async fn set_each(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    assignment: &'static str,
    amounts: &BTreeMap<String, Fen>,
) -> Result<(), sqlx::Error> {
    let sql =
        format!("UPDATE proposal_awards SET {assignment} WHERE proposal_id = $2 AND person = $3");
    for (person, amount) in amounts {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(amount.fen())
            .bind(id)
            .bind(person)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn total(amounts: &BTreeMap<String, Fen>) -> Fen {
    cunji_core::money::FenSum::of(amounts.values().copied()).saturated()
}

fn money_map(amounts: &BTreeMap<String, Fen>) -> BTreeMap<String, String> {
    amounts.iter().map(|(p, f)| (p.clone(), f.json())).collect()
}

/// Appends step `name` with its history line and data, and its audit row (`workflow_NAME`, linked to
/// the proposal's village); the step's id.
async fn append(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    name: &str,
    (detail, data): (&str, &serde_json::Value),
    actor: &str,
) -> Result<i64, sqlx::Error> {
    let step_id = step_with(tx, id, name, actor, detail, &data.to_string()).await?;
    let action = format!("workflow_{name}");
    let audit_id = crate::audit::write(tx, actor, &action, &id.to_string(), detail).await?;
    touch_proposal(tx, audit_id, id).await?;
    Ok(step_id)
}

/// Each person's amount of column `column` (computed, decided), where it is set.
async fn amounts(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    column: &str,
) -> Result<BTreeMap<String, Fen>, StoreError> {
    let sql = format!("SELECT person, {column} FROM proposal_awards WHERE proposal_id = $1");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_all(&mut **tx)
        .await?;
    let mut out = BTreeMap::new();
    for r in rows {
        if let Some(f) = r.try_get::<Option<i64>, _>(1)? {
            out.insert(r.try_get(0)?, Fen::from_fen(f));
        }
    }
    Ok(out)
}

async fn insert_resolution(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    step_id: i64,
    id: i64,
    r: &Resolution,
) -> Result<(), sqlx::Error> {
    let m = &r.meetings;
    sqlx::query(
        "INSERT INTO proposal_resolutions (step_id, proposal_id, proposed, discussed, reviewed, decided, body, count_by, \
         members, present, votes_for, votes_against, votes_abstain, published) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(step_id)
    .bind(id)
    .bind(m.proposed.iso())
    .bind(m.discussed.iso())
    .bind(m.reviewed.iso())
    .bind(m.decided.iso())
    .bind(r.body.key())
    .bind(r.body.count_by_key())
    .bind(r.members as i64)
    .bind(r.present as i64)
    .bind(r.votes_for as i64)
    .bind(r.votes_against as i64)
    .bind(r.votes_abstain as i64)
    .bind(r.published.iso())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The proposal's latest resolution, with the decided amounts as they stand.
pub(super) async fn latest_resolution(
    pool: &sqlx::AnyPool,
    id: i64,
    awards: &[super::ProposalAward],
) -> Result<Option<Resolution>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT proposed, discussed, reviewed, decided, body, count_by, members, present, votes_for, votes_against, \
         votes_abstain, published FROM proposal_resolutions WHERE proposal_id = $1 ORDER BY step_id DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let bad = |e: String| StoreError::Corrupt(format!("数据库中的村级决议有误：{e}"));
    let date = |i: usize| -> Result<Date, StoreError> {
        Date::parse(&r.try_get::<String, _>(i)?).map_err(bad)
    };
    let count = |i: usize| -> Result<u32, StoreError> {
        u32::try_from(r.try_get::<i64, _>(i)?).map_err(|e| bad(e.to_string()))
    };
    let body =
        Body::parse(&r.try_get::<String, _>(4)?, &r.try_get::<String, _>(5)?).map_err(bad)?;
    let (proposed, discussed, reviewed, decided) = (date(0)?, date(1)?, date(2)?, date(3)?);
    let meetings = Meetings {
        proposed,
        discussed,
        reviewed,
        decided,
    };
    let (members, present, votes_for) = (count(6)?, count(7)?, count(8)?);
    let (votes_against, votes_abstain, published) = (count(9)?, count(10)?, date(11)?);
    let awards = awards
        .iter()
        .filter_map(|a| a.decided.map(|d| (a.person.clone(), d)))
        .collect();
    Ok(Some(Resolution {
        meetings,
        body,
        members,
        present,
        votes_for,
        votes_against,
        votes_abstain,
        published,
        awards,
    }))
}
