//! The year's proposals as to-do lists (SPEC §13): `/workflow` opens on the user's own work (a
//! township officer's villages awaiting a resolution, a review, payment or notice; the county's
//! awaiting filing), filters by status and by township (the region chooser), and counts each status.
//! The dashboard shows the same counts and the overpayments awaiting recovery.

use askama::Template;
use axum::response::Response;
use cunji_core::report::Report;
use cunji_core::workflow::{awaits, Status};
use cunji_core::Fen;
use cunji_store::ProposalSummary;

use crate::auth::User;
use crate::html::{render, Layout, WebError};

pub struct Row {
    pub code: String,
    pub name: String,
    pub pool: String,
    pub status: String,
}

/// One status and how many proposals wait there; `key` is the filter's value.
pub struct Count {
    pub key: String,
    pub label: String,
    pub n: usize,
    pub chosen: bool,
}

/// A village whose pool computed now is below what was paid (SPEC §13 应追回); its page shows what each
/// person owes.
#[derive(Clone)]
pub struct Overpaid {
    pub code: String,
    pub name: String,
    pub paid: String,
    pub now: String,
    pub recovered: String,
}

#[derive(Template)]
#[template(path = "workflow_list.html")]
struct ListPage {
    layout: Layout,
    year: i32,
    region: String,
    filter_name: String,
    counts: Vec<Count>,
    rows: Vec<Row>,
}

/// A village of the report with a reward now or a proposal already, and where it stands.
struct Item<'a> {
    code: &'a cunji_core::region::RegionCode,
    name: &'a str,
    pool: Fen,
    status: Option<Status>,
}

fn items<'a>(report: &'a Report, proposals: &'a [ProposalSummary]) -> Vec<Item<'a>> {
    report
        .villages
        .iter()
        .filter_map(|v| {
            let stored = proposals.iter().find(|p| p.village == v.code);
            let pool = v.incentive.as_ref().map_or(Fen::ZERO, |i| i.pool);
            (pool.fen() > 0 || stored.is_some()).then(|| Item {
                code: &v.code,
                name: &v.name,
                pool,
                status: stored.map(|p| p.status),
            })
        })
        .collect()
}

/// The buckets of the list, in the order of the workflow.
fn buckets() -> Vec<(String, String, Option<Status>)> {
    let mut out = vec![("none".to_string(), "未生成方案".to_string(), None)];
    for s in Status::ALL {
        out.push((s.key().to_string(), s.waiting_zh().to_string(), Some(s)));
    }
    out
}

/// How many proposals wait at each status (with `chosen` marking the filter's own bucket).
pub fn counts(report: &Report, proposals: &[ProposalSummary], chosen: &str) -> Vec<Count> {
    let all = items(report, proposals);
    buckets()
        .into_iter()
        .map(|(key, label, status)| Count {
            n: all.iter().filter(|i| i.status == status).count(),
            chosen: key == chosen,
            key,
            label,
        })
        .collect()
}

/// Whether an item is in the list the filter asks for: the user's own work by default (everything for
/// a role that has none), `all`, `none` (not computed yet), or one status.
fn wanted(filter: &str, user: &User, status: Option<Status>) -> bool {
    match filter {
        "all" => true,
        "none" => status.is_none(),
        "" | "mine" => {
            let has_work = buckets().iter().any(|(_, _, s)| awaits(user.role, *s));
            !has_work || awaits(user.role, status)
        }
        key => status.is_some_and(|s| s.key() == key),
    }
}

fn filter_name(filter: &str) -> String {
    match filter {
        "all" => "全部".into(),
        "" | "mine" => "待我办理".into(),
        key => buckets()
            .into_iter()
            .find(|(k, _, _)| k == key)
            .map_or_else(|| key.to_string(), |(_, label, _)| label),
    }
}

pub async fn list(ask: super::super::Ask) -> Result<Response, WebError> {
    let state = ask.state.clone();
    let filter = ask.q.status.clone().unwrap_or_default();
    let view = super::super::RegionView::of(ask).await?;
    let (user, year, report) = (&view.user, view.year, &view.report);
    let proposals = user.store(&state).proposals_of_year(year).await?;
    let rows = items(report, &proposals)
        .into_iter()
        .filter(|i| wanted(&filter, user, i.status))
        .map(|i| Row {
            code: i.code.to_string(),
            name: i.name.to_string(),
            pool: i.pool.display(),
            status: i.status.map_or("未生成方案", |s| s.name_zh()).to_string(),
        })
        .collect();
    Ok(render(&ListPage {
        layout: Layout::new(format!("{year} 年奖励审批"), Some(user)),
        year,
        region: view.region.to_string(),
        filter_name: filter_name(&filter),
        counts: counts(report, &proposals, &filter),
        rows,
    }))
}

/// The paid proposals whose books now allow less than was paid and that are not recovered in full
/// (SPEC §13 应追回). Each is judged under the policy version it was computed with (a policy saved
/// later never creates an overpayment), by `cunji_core::workflow::Standing`, the one home of the rule.
pub async fn overpaid(
    state: &crate::state::AppState,
    user: &crate::auth::User,
    data: &std::sync::Arc<cunji_store::LoadedData>,
    (report, scope): (&Report, &cunji_core::region::RegionCode),
    proposals: &[ProposalSummary],
) -> Result<Vec<Overpaid>, WebError> {
    let mut out = Vec::new();
    let mut reports: std::collections::BTreeMap<i64, std::sync::Arc<Report>> =
        std::collections::BTreeMap::new();
    for s in proposals.iter().filter(|p| p.status.is_settled()) {
        let Some(v) = report.villages.iter().find(|v| v.code == s.village) else {
            continue;
        };
        let own = match reports.get(&s.policy_id) {
            Some(r) => r.clone(),
            None => {
                let (_, policy) = state.policy(Some(s.policy_id)).await?;
                let r = state
                    .report(&policy, data, report.year, Some(scope))
                    .await?;
                reports.insert(s.policy_id, r.clone());
                r
            }
        };
        let now = own
            .villages
            .iter()
            .find(|x| x.code == s.village)
            .and_then(|x| x.incentive.as_ref());
        let Some(p) = user
            .store(state)
            .proposal(s.village.as_str(), report.year)
            .await?
        else {
            continue;
        };
        let standing = p.standing(now);
        if standing.outstanding.is_empty() {
            continue;
        }
        out.push(Overpaid {
            code: v.code.to_string(),
            name: v.name.clone(),
            paid: standing.paid.unwrap_or(Fen::ZERO).display(),
            now: standing.pool_now.display(),
            recovered: standing.recovered.display(),
        });
    }
    Ok(out)
}
