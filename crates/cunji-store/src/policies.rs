//! Stored policies: every version kept, one active.

use sqlx::Row;

use crate::db::{Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPolicy {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub active: bool,
    pub actor: String,
    pub at: i64,
}

pub use crate::workflow::Repriced;

/// What saving a policy did: its version number, and the proposals it sent back to be recomputed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedPolicy {
    pub id: i64,
    pub stale: Vec<Repriced>,
}

impl SavedPolicy {
    /// What a county administrator is told after saving: which unpaid proposals went back to be
    /// computed again, with their pools under both versions (nothing paid or published moves).
    pub fn stale_zh(&self) -> String {
        if self.stale.is_empty() {
            return "未发放的奖励方案按新政策计算金额不变，均保持原状；已发放、已公示的奖励不受影响。".into();
        }
        let each: Vec<String> = self
            .stale
            .iter()
            .map(|r| {
                format!(
                    "村 {} {} 年（奖励总额上限 {} 元 → {} 元）",
                    r.village,
                    r.year,
                    r.change.pool_before.display(),
                    r.change.pool_after.display()
                )
            })
            .collect();
        format!(
            "{} 个未发放的奖励方案按新政策计算金额有变，已退回待重新计算：{}。已发放、已公示的奖励不受影响。",
            self.stale.len(),
            each.join("；")
        )
    }
}

impl Store {
    /// Stores a policy's text as a new version (earlier versions are never edited); with `activate`
    /// it becomes the one the web application uses, and every unpaid proposal whose amounts it
    /// changes goes back to `stale` in the same transaction, its step keeping both computations.
    /// Paid and published proposals keep the version they were decided under.
    pub async fn save_policy(
        &self,
        name: &str,
        source: &str,
        activate: bool,
        actor: &str,
    ) -> Result<SavedPolicy, StoreError> {
        let repriced = if activate {
            let policy = cunji_core::policy::Policy::parse(source)
                .map_err(|e| StoreError::Invalid(format!("政策有误：{e}")))?;
            if policy.is_empty() {
                return Err(StoreError::Invalid(
                    cunji_core::policy::Policy::EMPTY_ZH.to_string(),
                ));
            }
            self.repricings(&policy).await?
        } else {
            Vec::new()
        };
        let mut tx = self.begin_write().await?;
        // Saving seals every version (their `active` changes): an edited older version would be
        // sealed as if saved so.
        crate::audit::seals::refuse_unsealed(&mut tx, &crate::audit::seals::POLICIES, Some(&[]))
            .await?;
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
        let audit_id = crate::audit::write(&mut tx, actor, "policy_save", name, &detail).await?;
        // Every version is sealed: saving one as current clears the others' `active`.
        crate::audit::seals::seal(&mut tx, audit_id, &crate::audit::seals::POLICIES, Some(&[]))
            .await?;
        let mut stale = Vec::new();
        for r in repriced {
            if crate::workflow::send_back_repriced(&mut tx, &r, id, actor).await? {
                stale.push(r);
            }
        }
        tx.commit().await?;
        Ok(SavedPolicy { id, stale })
    }

    /// The unpaid proposals (computed … county filed) whose pool or amounts `policy` changes, each
    /// computed from the current books under it. A year the policy is not in force for keeps its
    /// proposals as they are (they cannot be computed under it).
    pub async fn repricings(
        &self,
        policy: &cunji_core::policy::Policy,
    ) -> Result<Vec<Repriced>, StoreError> {
        let open = crate::workflow::unpaid_proposals(self).await?;
        let mut out = Vec::new();
        let years: std::collections::BTreeSet<i32> = open.iter().map(|p| p.year).collect();
        let today = cunji_core::date::Date::today_beijing();
        for year in years {
            let first = policy.first_year_read(year);
            let data = self
                .load_for_report_from(year, first, Some(&policy.alerts))
                .await?;
            for p in open.iter().filter(|p| p.year == year) {
                let input = data.input(year, Some(&p.village), Some(today));
                let report = match cunji_core::report::build_report(policy, &input) {
                    Ok(r) => r,
                    Err(cunji_core::report::ReportError::NotInForce { .. }) => continue,
                    Err(e) => {
                        return Err(StoreError::Invalid(format!(
                            "按这份政策算不出村 {} {} 年的奖励方案：{e}",
                            p.village, p.year
                        )))
                    }
                };
                let now = report
                    .villages
                    .iter()
                    .find(|v| v.code == p.village)
                    .and_then(|v| v.incentive.as_ref());
                if let Some(change) = cunji_core::workflow::Repricing::of(p.pool, &p.awards, now) {
                    out.push(Repriced {
                        proposal: p.id,
                        village: p.village.to_string(),
                        year,
                        policy_id: p.policy_id,
                        status: p.status,
                        change,
                    });
                }
            }
        }
        Ok(out)
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
}
