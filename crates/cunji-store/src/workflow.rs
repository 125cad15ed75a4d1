//! Stored policies and the reward workflow (四议两公开 → township review → county filing → payment →
//! public notice). Each proposal moves one step at a time; every step is appended with who and when.

use sqlx::Row;

use crate::db::{Store, StoreError};

/// The steps of a proposal, in order. `Stale` is where an unpaid proposal goes when new entries change
/// the figures it was computed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Stale,
    Computed,
    Resolved,
    TownshipApproved,
    CountyFiled,
    Paid,
    Published,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Stale,
        Status::Computed,
        Status::Resolved,
        Status::TownshipApproved,
        Status::CountyFiled,
        Status::Paid,
        Status::Published,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Status::Stale => "stale",
            Status::Computed => "computed",
            Status::Resolved => "resolved",
            Status::TownshipApproved => "township_approved",
            Status::CountyFiled => "county_filed",
            Status::Paid => "paid",
            Status::Published => "published",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Status::Stale => "账目已变动，待重新计算",
            Status::Computed => "已计算",
            Status::Resolved => "村级决议已通过（四议两公开）",
            Status::TownshipApproved => "乡镇已审核",
            Status::CountyFiled => "县级已备案",
            Status::Paid => "已发放",
            Status::Published => "已公示",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.key() == s)
    }
    /// The step that must come right after this one.
    pub fn next(self) -> Option<Status> {
        match self {
            Status::Stale => Some(Status::Computed),
            Status::Computed => Some(Status::Resolved),
            Status::Resolved => Some(Status::TownshipApproved),
            Status::TownshipApproved => Some(Status::CountyFiled),
            Status::CountyFiled => Some(Status::Paid),
            Status::Paid => Some(Status::Published),
            Status::Published => None,
        }
    }
    /// Paid and published proposals are history: new figures no longer send them back.
    pub fn is_settled(self) -> bool {
        self >= Status::Paid
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposalAward {
    pub person: String,
    pub name: String,
    pub role: cunji_core::cadre::Role,
    pub computed: cunji_core::Fen,
    pub decided: Option<cunji_core::Fen>,
}

impl From<&cunji_core::incentive::Award> for ProposalAward {
    /// A computed award as a proposal records it: the amount computed, nothing decided yet.
    fn from(a: &cunji_core::incentive::Award) -> Self {
        ProposalAward {
            person: a.person.clone(),
            name: a.name.clone(),
            role: a.role,
            computed: a.amount,
            decided: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub step: String,
    pub actor: String,
    pub at: i64,
    pub detail: String,
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
    pub awards: Vec<ProposalAward>,
    pub steps: Vec<Step>,
}

/// What a computation of a village's reward found, to be recorded as a proposal.
#[derive(Clone, Copy, Debug)]
pub struct Computation<'a> {
    pub village: &'a str,
    pub year: i32,
    pub policy_id: i64,
    pub pool: i64,
    pub figures: &'a str,
    pub awards: &'a [ProposalAward],
    pub trace: &'a [String],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPolicy {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub active: bool,
    pub actor: String,
    pub at: i64,
}

impl Store {
    /// Stores a policy's text; with `activate` it becomes the one the web application uses.
    pub async fn save_policy(
        &self,
        name: &str,
        source: &str,
        activate: bool,
        actor: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        if activate {
            sqlx::query("UPDATE policies SET active = 0")
                .execute(&mut *tx)
                .await?;
        }
        let id: i64 = sqlx::query("INSERT INTO policies (name, source, active, actor, at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(name)
            .bind(source)
            .bind(activate as i64)
            .bind(actor)
            .bind(crate::now())
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let and_active = if activate {
            "，并设为当前政策"
        } else {
            ""
        };
        let detail = format!("保存政策 #{id}《{name}》{and_active}");
        crate::audit::write(&mut tx, actor, "policy_save", name, &detail).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn policies(&self) -> Result<Vec<StoredPolicy>, StoreError> {
        let rows =
            sqlx::query("SELECT id, name, source, active, actor, at FROM policies ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredPolicy {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    source: r.try_get(2)?,
                    active: r.try_get::<i64, _>(3)? != 0,
                    actor: r.try_get(4)?,
                    at: r.try_get(5)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    pub async fn active_policy(&self) -> Result<Option<StoredPolicy>, StoreError> {
        Ok(self.policies().await?.into_iter().rev().find(|p| p.active))
    }

    pub async fn proposal(&self, village: &str, year: i32) -> Result<Option<Proposal>, StoreError> {
        let Some(r) = sqlx::query(
            "SELECT id, village, year, policy_id, status, pool, figures, computed_at, published_at, trace FROM proposals WHERE village = $1 AND year = $2",
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
        let awards = sqlx::query("SELECT person, name, role, computed, decided FROM proposal_awards WHERE proposal_id = $1 ORDER BY person")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(award_of)
            .collect::<Result<Vec<_>, StoreError>>()?;
        let steps = sqlx::query(
            "SELECT step, actor, at, detail FROM proposal_steps WHERE proposal_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|s| {
            Ok(Step {
                step: s.try_get(0)?,
                actor: s.try_get(1)?,
                at: s.try_get(2)?,
                detail: s.try_get(3)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let village: String = r.try_get(1)?;
        Ok(Some(Proposal {
            id,
            village: cunji_core::region::RegionCode::parse(&village)
                .map_err(|e| StoreError::Invalid(format!("数据库中的奖励方案有误：{e}")))?,
            year: r.try_get::<i64, _>(2)? as i32,
            policy_id: r.try_get(3)?,
            status: Status::parse(&status)
                .ok_or_else(|| StoreError::Invalid(format!("未知流程状态 {status}")))?,
            pool: cunji_core::Fen::from_fen(r.try_get(5)?),
            figures: r.try_get(6)?,
            computed_at: r.try_get(7)?,
            published_at: r.try_get(8)?,
            trace: r
                .try_get::<String, _>(9)?
                .lines()
                .map(|l| l.to_string())
                .collect(),
            awards,
            steps,
        }))
    }

    /// Proposals of the given villages (all when empty) for a year.
    pub async fn proposals_of_year(
        &self,
        year: i32,
    ) -> Result<Vec<(String, Status, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT village, status, pool FROM proposals WHERE year = $1 ORDER BY village",
        )
        .bind(year)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let s: String = r.try_get(1)?;
                Ok((
                    r.try_get(0)?,
                    Status::parse(&s).unwrap_or(Status::Stale),
                    r.try_get(2)?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

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
        } = *c;
        let trace_text = trace.join("\n");
        let mut tx = self.begin_write().await?;
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
                let status: String = r.try_get(1)?;
                let status = Status::parse(&status).unwrap_or(Status::Stale);
                if status > Status::Computed {
                    return Err(StoreError::Invalid(format!(
                        "该奖励方案已到“{}”一步，不能重新计算",
                        status.name_zh()
                    )));
                }
                sqlx::query("UPDATE proposals SET status = 'computed', policy_id = $1, pool = $2, figures = $3, computed_at = $4, trace = $6 WHERE id = $5")
                    .bind(policy_id)
                    .bind(pool)
                    .bind(figures)
                    .bind(now)
                    .bind(id)
                    .bind(&trace_text)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM proposal_awards WHERE proposal_id = $1").bind(id).execute(&mut *tx).await?;
                id
            }
            None => sqlx::query(
                "INSERT INTO proposals (village, year, policy_id, status, pool, figures, computed_at, trace) VALUES ($1, $2, $3, 'computed', $4, $5, $6, $7) RETURNING id",
            )
            .bind(village)
            .bind(year)
            .bind(policy_id)
            .bind(pool)
            .bind(figures)
            .bind(now)
            .bind(&trace_text)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?,
        };
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
            "按政策 #{policy_id} 计算，奖励总额上限 {}",
            cunji_core::Fen::from_fen(pool).display()
        );
        step(&mut tx, id, "computed", actor, &detail).await?;
        let audit_id = crate::audit::write(
            &mut tx,
            actor,
            "workflow_computed",
            &format!("{village}/{year}"),
            &detail,
        )
        .await?;
        crate::audit::touch(&mut tx, audit_id, [village]).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records the village resolution (四议两公开) with the amount decided for each person; a decided
    /// amount may be lower than the computed award, never higher.
    pub async fn record_resolution(
        &self,
        id: i64,
        decided: &[(String, i64)],
        detail: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let status = current_status(&mut tx, id).await?;
        if status != Status::Computed {
            return Err(StoreError::Invalid(format!(
                "当前是“{}”，只有“已计算”的方案才能录入村级决议",
                status.name_zh()
            )));
        }
        let awards =
            sqlx::query("SELECT person, computed FROM proposal_awards WHERE proposal_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        for r in &awards {
            let person: String = r.try_get(0)?;
            let computed: i64 = r.try_get(1)?;
            let Some((_, amount)) = decided.iter().find(|(p, _)| *p == person) else {
                return Err(StoreError::Invalid(format!("缺少 {person} 的决定金额")));
            };
            if *amount < 0 || *amount > computed {
                return Err(StoreError::Invalid(format!(
                    "{person} 的决定金额 {} 超出计算所得 {}（只能更少，不能更多）",
                    cunji_core::Fen::from_fen(*amount).display(),
                    cunji_core::Fen::from_fen(computed).display()
                )));
            }
            sqlx::query(
                "UPDATE proposal_awards SET decided = $1 WHERE proposal_id = $2 AND person = $3",
            )
            .bind(*amount)
            .bind(id)
            .bind(&person)
            .execute(&mut *tx)
            .await?;
        }
        set_status(&mut tx, id, Status::Resolved).await?;
        step(&mut tx, id, "resolved", actor, detail).await?;
        let audit_id =
            crate::audit::write(&mut tx, actor, "workflow_resolved", &id.to_string(), detail)
                .await?;
        touch_proposal(&mut tx, audit_id, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves a proposal from `from` to the step right after it; no step can be skipped.
    pub async fn advance_proposal(
        &self,
        id: i64,
        from: Status,
        detail: &str,
        actor: &str,
    ) -> Result<Status, StoreError> {
        let mut tx = self.begin_write().await?;
        let status = current_status(&mut tx, id).await?;
        let Some(next) = status.next().filter(|_| status == from) else {
            return Err(StoreError::Invalid(format!(
                "当前是“{}”，不能进行这一步",
                status.name_zh()
            )));
        };
        if matches!(next, Status::Computed | Status::Resolved) {
            return Err(StoreError::Invalid("这一步须重新计算或录入村级决议".into()));
        }
        set_status(&mut tx, id, next).await?;
        if next == Status::Published {
            sqlx::query("UPDATE proposals SET published_at = $1 WHERE id = $2")
                .bind(crate::now())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        step(&mut tx, id, next.key(), actor, detail).await?;
        let audit_id = crate::audit::write(
            &mut tx,
            actor,
            &format!("workflow_{}", next.key()),
            &id.to_string(),
            detail,
        )
        .await?;
        touch_proposal(&mut tx, audit_id, id).await?;
        tx.commit().await?;
        Ok(next)
    }
}

async fn current_status(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
) -> Result<Status, StoreError> {
    let s: String = sqlx::query("SELECT status FROM proposals WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::Invalid(format!("没有编号为 {id} 的奖励方案")))?
        .try_get(0)?;
    Status::parse(&s).ok_or_else(|| StoreError::Invalid(format!("未知流程状态 {s}")))
}

async fn set_status(
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

async fn step(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    name: &str,
    actor: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO proposal_steps (proposal_id, step, actor, at, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(name)
        .bind(actor)
        .bind(crate::now())
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sends unsettled proposals of these villages back to be recomputed, for every year from the one given
/// on (a year's base compares it with earlier years), inside the writing transaction.
pub(crate) async fn send_back(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    touched: &[(String, i32)],
    actor: &str,
) -> Result<(), sqlx::Error> {
    for (village, year) in touched {
        let rows = sqlx::query(
            "SELECT id, year FROM proposals WHERE village = $1 AND year >= $2 AND status NOT IN ('stale', 'paid', 'published')",
        )
        .bind(village)
        .bind(*year)
        .fetch_all(&mut **tx)
        .await?;
        for r in rows {
            let id: i64 = r.try_get(0)?;
            let y: i64 = r.try_get(1)?;
            set_status(tx, id, Status::Stale).await?;
            let detail = format!("{year} 年账目有新记录，{y} 年奖励方案退回重新计算");
            step(tx, id, "stale", actor, &detail).await?;
        }
    }
    Ok(())
}

impl Store {
    /// The published proposals of a village, newest year first.
    pub async fn published_years(&self, village: &str) -> Result<Vec<i32>, StoreError> {
        let rows = sqlx::query("SELECT year FROM proposals WHERE village = $1 AND status = 'published' ORDER BY year DESC")
            .bind(village)
            .fetch_all(&self.pool)
            .await?;
        crate::load::years_of(&rows)
    }
}

/// Links a workflow step's audit row to the proposal's village.
async fn touch_proposal(
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

/// A proposal's award row as domain values (the role parsed at the edge).
fn award_of(a: &sqlx::any::AnyRow) -> Result<ProposalAward, StoreError> {
    let role: String = a.try_get(2)?;
    Ok(ProposalAward {
        person: a.try_get(0)?,
        name: a.try_get(1)?,
        role: cunji_core::cadre::Role::parse(&role)
            .ok_or_else(|| StoreError::Invalid(format!("数据库中有未知职务 {role}")))?,
        computed: cunji_core::Fen::from_fen(a.try_get(3)?),
        decided: a
            .try_get::<Option<i64>, _>(4)?
            .map(cunji_core::Fen::from_fen),
    })
}
