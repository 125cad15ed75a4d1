//! One village's reward for a year: what is computed now, the proposal with its resolution, the
//! village's alerts with their evidence, the history, any overpayment, and the forms of the steps the
//! user may take next.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use cunji_core::workflow::{Action, Resolution, Status};

use super::super::ViewQuery;
use crate::auth::{User, Viewer};
use crate::html::{render, Layout, Shown, WebError};
use crate::scope::InVillageYear;
use crate::state::AppState;
use crate::steps::Now;

pub struct AwardRow {
    pub person: String,
    pub name: String,
    pub role: String,
    pub computed: String,
    pub computed_yuan: String,
    pub decided: String,
    pub decided_yuan: String,
    pub paid: String,
}

pub struct StepRow {
    pub step: String,
    pub actor: String,
    pub at: String,
    pub detail: String,
}

pub struct AlertRow {
    pub key: String,
    pub kind: String,
    pub message: String,
    pub evidence: Vec<String>,
}

pub struct ResolutionView {
    pub meetings: Vec<(String, String)>,
    pub body: String,
    pub members: u32,
    pub present: u32,
    pub votes_for: u32,
    pub votes_against: u32,
    pub votes_abstain: u32,
    pub published: String,
}

pub struct DocRow {
    pub id: i64,
    pub name: String,
    pub size: String,
    pub sha256: String,
    pub by: String,
}

pub struct OwedRow {
    pub person: String,
    pub name: String,
    pub amount: String,
    pub amount_yuan: String,
}

/// The steps the user may take now, each one form on the page.
#[derive(Default)]
pub struct Can {
    pub compute: bool,
    pub resolve: bool,
    pub approve: bool,
    pub file: bool,
    pub pay: bool,
    pub publish: bool,
    pub send_back: bool,
    pub recover: bool,
}

#[derive(Template)]
#[template(path = "workflow.html")]
struct DetailPage {
    layout: Layout,
    code: String,
    name: String,
    year: i32,
    today: String,
    csrf: String,
    current_pool: String,
    trace: Vec<String>,
    has_proposal: bool,
    status: String,
    status_key: String,
    pool: String,
    awards: Vec<AwardRow>,
    resolution: Option<ResolutionView>,
    alerts: Vec<AlertRow>,
    /// One 核实说明 per alert kind: (key, Chinese name).
    check_kinds: Vec<(String, String)>,
    /// The township's checks of the latest approval (alert name, text), for the county to read.
    checks_made: Vec<(String, String)>,
    steps: Vec<StepRow>,
    figures_changed: bool,
    /// Which policy version the proposal was computed under, against the current one.
    policy_note: String,
    /// An unpaid proposal whose amounts differ under the current policy or books: (person's name,
    /// amount in the proposal, amount computed now), the pools first (SPEC §13: both side by side).
    compare: Vec<(String, String, String)>,
    /// The payment date typed at `pay` and the 公示期, as recorded.
    payment_date: String,
    notice_period: String,
    owed: Vec<OwedRow>,
    documents: Vec<DocRow>,
    can_upload: bool,
    can: Can,
    /// A form the user sent that was refused: shown again with what was typed and every rule broken.
    refused: Option<Refused>,
    /// The refused form's errors, each with the fields it belongs beside.
    placed: Vec<super::placed::Placed>,
}

/// A refused step's form (SPEC §13): which form, what was typed in it, and every rule it broke.
pub struct Refused {
    pub form: &'static str,
    pub typed: std::collections::BTreeMap<String, String>,
    pub errors: Vec<String>,
}

impl DetailPage {
    /// What the user typed into `key` of `form` when that form was refused, else `default`.
    fn value<'a>(&'a self, form: &str, key: &str, default: &'a str) -> &'a str {
        self.refused
            .as_ref()
            .filter(|r| r.form == form)
            .and_then(|r| r.typed.get(key))
            .map_or(default, String::as_str)
    }

    /// The rules `form` broke when it was last sent (empty unless it was refused).
    fn errors_of(&self, form: &str) -> Vec<&str> {
        match &self.refused {
            Some(r) if r.form == form => self.placed.iter().map(|p| p.text.as_str()).collect(),
            _ => Vec::new(),
        }
    }

    /// The errors of `form` that belong beside its field `field`.
    fn field_errors(&self, form: &str, field: &str) -> Vec<&str> {
        match &self.refused {
            Some(r) if r.form == form => self
                .placed
                .iter()
                .filter(|p| p.fields.iter().any(|f| f == field))
                .map(|p| p.text.as_str())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// A time (seconds since the epoch) in Beijing time.
pub fn when(at: i64) -> String {
    let d = at.div_euclid(86_400);
    let secs = at.rem_euclid(86_400);
    // Shown in Beijing time (UTC+8), the time of every user of this application.
    let secs8 = secs + 8 * 3600;
    let (d, secs8) = if secs8 >= 86_400 {
        (d + 1, secs8 - 86_400)
    } else {
        (d, secs8)
    };
    let date = super::super::village::today_from_days(d);
    format!("{date} {:02}:{:02}", secs8 / 3600, secs8 % 3600 / 60)
}

pub async fn page(
    State(state): State<AppState>,
    at: InVillageYear<Viewer>,
    Query(q): Query<ViewQuery>,
) -> Result<Response, WebError> {
    let (user, village, year) = (at.user(), at.code().clone(), at.year());
    let layout =
        |name: &str| Layout::new(format!("{name} {year} 年奖励审批"), Some(user)).with_flashes(&q);
    shown(&state, user, (&village, year), layout, None).await
}

/// The page again after a refused form: what was typed kept, every rule broken listed beside the
/// form, answered 422 (nothing changed).
pub async fn refused(
    state: &AppState,
    user: &User,
    (village, year): (&cunji_core::region::RegionCode, i32),
    refused: Refused,
) -> Result<Response, WebError> {
    let layout = |name: &str| Layout::new(format!("{name} {year} 年奖励审批"), Some(user));
    let mut r = shown(state, user, (village, year), layout, Some(refused)).await?;
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}

async fn shown(
    state: &AppState,
    user: &User,
    (village, year): (&cunji_core::region::RegionCode, i32),
    layout: impl Fn(&str) -> Layout,
    refused: Option<Refused>,
) -> Result<Response, WebError> {
    let village = village.clone();
    let now = Now::read(state, &village, year).await?;
    let p = now.proposal.as_ref();
    let placed = refused.as_ref().map_or_else(Vec::new, |r| {
        let people: Vec<(String, String)> = p
            .map(|p| {
                p.awards
                    .iter()
                    .map(|a| (a.person.clone(), a.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        super::placed::place(r.form, &r.errors, &people, &check_kinds(&now))
    });
    let page = DetailPage {
        layout: layout(&now.name),
        refused,
        placed,
        code: village.to_string(),
        name: now.name.clone(),
        year,
        today: cunji_core::date::Date::today_beijing().iso(),
        csrf: user.csrf.clone(),
        current_pool: now.incentive.as_ref().map(|i| i.pool).display_or_dash(),
        trace: now
            .incentive
            .as_ref()
            .map(|i| cunji_core::incentive::public::staff_trace(&i.trace))
            .unwrap_or_default(),
        has_proposal: p.is_some(),
        status: p.map_or("未生成方案", |p| p.status.name_zh()).to_string(),
        status_key: p.map(|p| p.status.key().to_string()).unwrap_or_default(),
        pool: p.map(|p| p.pool.display()).unwrap_or_default(),
        awards: p.map(award_rows).unwrap_or_default(),
        resolution: p.and_then(|p| p.resolution.as_ref()).map(resolution_view),
        alerts: alert_rows(&now),
        check_kinds: check_kinds(&now),
        checks_made: p.map(|p| checks_made(p, &now)).unwrap_or_default(),
        steps: p.map(step_rows).unwrap_or_default(),
        figures_changed: p.is_some_and(|p| p.figures != now.figures),
        policy_note: p.map(|p| policy_note(p, &now)).unwrap_or_default(),
        compare: compare_rows(&now),
        payment_date: p
            .and_then(|p| p.payment_date())
            .map(|d| d.iso())
            .unwrap_or_default(),
        notice_period: p
            .and_then(|p| p.notice_period())
            .map(|(f, t)| format!("{} 至 {}", f.iso(), t.iso()))
            .unwrap_or_default(),
        owed: owed_rows(&now),
        documents: match p {
            Some(p) => doc_rows(&user.store(state).attachments(p.id).await?),
            None => Vec::new(),
        },
        can_upload: p.is_some_and(|p| !p.status.is_settled())
            && matches!(
                user.role,
                crate::auth::Role::TownshipOfficer | crate::auth::Role::CountyAdmin
            ),
        can: can(user, &now),
    };
    Ok(render(&page))
}

/// Which version a proposal was computed under: a decided reward keeps its own for good.
fn policy_note(p: &cunji_store::Proposal, now: &Now) -> String {
    if p.policy_id == now.policy_id {
        return format!("本方案按现行政策（第 {} 版）计算。", p.policy_id);
    }
    if p.status.is_settled() {
        format!(
            "本方案按政策第 {} 版计算并已发放；现行政策为第 {} 版。已发放、已公示的奖励始终按计算时的政策版本核对，政策更换不改变已发放的金额。",
            p.policy_id, now.policy_id
        )
    } else {
        format!(
            "本方案按政策第 {} 版计算；现行政策为第 {} 版。",
            p.policy_id, now.policy_id
        )
    }
}

/// The unpaid proposal's amounts beside those computed now under the current policy, when they
/// differ (the pools first).
fn compare_rows(now: &Now) -> Vec<(String, String, String)> {
    let Some(p) = now.proposal.as_ref().filter(|p| !p.status.is_settled()) else {
        return Vec::new();
    };
    let Some(change) =
        cunji_core::workflow::Repricing::of(p.pool, &p.awards, now.incentive.as_ref())
    else {
        return Vec::new();
    };
    let mut rows = vec![(
        "奖励总额上限".to_string(),
        change.pool_before.display(),
        change.pool_after.display(),
    )];
    for (_, name, before, after) in &change.people {
        rows.push((
            name.clone(),
            before.display_or_dash(),
            after.display_or_dash(),
        ));
    }
    rows
}

fn award_rows(p: &cunji_store::Proposal) -> Vec<AwardRow> {
    p.awards
        .iter()
        .map(|a| AwardRow {
            person: a.person.clone(),
            name: a.name.clone(),
            role: a.role.name_zh().to_string(),
            computed: a.computed.display(),
            computed_yuan: a.computed.json(),
            decided: a.decided.display_or_dash(),
            decided_yuan: a.decided.map(|d| d.json()).unwrap_or_default(),
            paid: a.paid.display_or_dash(),
        })
        .collect()
}

fn resolution_view(r: &Resolution) -> ResolutionView {
    ResolutionView {
        meetings: r
            .meetings
            .named()
            .iter()
            .map(|(n, d)| (n.to_string(), d.iso()))
            .collect(),
        body: r.body.name_zh().to_string(),
        members: r.members,
        present: r.present,
        votes_for: r.votes_for,
        votes_against: r.votes_against,
        votes_abstain: r.votes_abstain,
        published: r.published.iso(),
    }
}

fn alert_rows(now: &Now) -> Vec<AlertRow> {
    now.alerts
        .iter()
        .map(|a| AlertRow {
            key: a.kind.key().to_string(),
            kind: a.kind.name_zh().to_string(),
            message: a.message.clone(),
            evidence: a.evidence.clone(),
        })
        .collect()
}

fn check_kinds(now: &Now) -> Vec<(String, String)> {
    now.alert_kinds()
        .into_iter()
        .filter_map(|k| {
            let a = now.alerts.iter().find(|a| a.kind.key() == k)?;
            Some((k.to_string(), a.kind.name_zh().to_string()))
        })
        .collect()
}

/// The 核实说明 of the proposal's latest approval, by the alert's Chinese name.
fn checks_made(p: &cunji_store::Proposal, now: &Now) -> Vec<(String, String)> {
    let Some(step) = p
        .steps
        .iter()
        .rev()
        .find(|s| s.step == Status::TownshipApproved.key())
    else {
        return Vec::new();
    };
    let data: serde_json::Value = serde_json::from_str(&step.data).unwrap_or_default();
    let Some(checks) = data["checks"].as_object() else {
        return Vec::new();
    };
    checks
        .iter()
        .map(|(key, text)| {
            let name = now.alerts.iter().find(|a| a.kind.key() == key);
            let name = name.map_or(key.as_str(), |a| a.kind.name_zh());
            (
                name.to_string(),
                text.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn step_rows(p: &cunji_store::Proposal) -> Vec<StepRow> {
    p.steps
        .iter()
        .map(|s| StepRow {
            step: cunji_core::workflow::history_name_zh(&s.step).to_string(),
            actor: s.actor.clone(),
            at: when(s.at),
            detail: s.detail.clone(),
        })
        .collect()
}

fn doc_rows(docs: &[cunji_store::workflow::attachments::Attachment]) -> Vec<DocRow> {
    docs.iter()
        .map(|d| DocRow {
            id: d.id,
            name: d.file_name.clone(),
            size: size_text(d.size),
            sha256: d.sha256.clone(),
            by: format!("{} {}", d.actor, when(d.at)),
        })
        .collect()
}

/// A file's size as people read it: KB below a megabyte, MB above.
fn size_text(bytes: i64) -> String {
    if bytes < 1024 * 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

fn owed_rows(now: &Now) -> Vec<OwedRow> {
    let Some(p) = &now.proposal else {
        return Vec::new();
    };
    now.outstanding()
        .into_iter()
        .map(|(person, amount)| OwedRow {
            name: p
                .awards
                .iter()
                .find(|a| a.person == person)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            person,
            amount: amount.display(),
            amount_yuan: amount.json(),
        })
        .collect()
}

fn can(user: &User, now: &Now) -> Can {
    let status = now.proposal.as_ref().map(|p| p.status);
    let may = |a: Action| a.check(status, user.role).is_ok();
    Can {
        compute: may(Action::Compute),
        resolve: may(Action::Resolve),
        approve: may(Action::Approve),
        file: may(Action::File),
        pay: may(Action::Pay),
        publish: may(Action::Publish),
        send_back: may(Action::SendBack),
        recover: may(Action::Recover) && !now.outstanding().is_empty(),
    }
}
