//! The JSON API: the same reads and writes as the pages, under the same roles. A session cookie signs
//! in (POST /login); writes carry the session's CSRF token in `X-CSRF-Token` (from GET /api/session).
//! Described by the OpenAPI document at /api/openapi.json.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cunji_core::region::RegionCode;
use serde_json::{json, Value};

use crate::auth::{Viewer, Writer};
use crate::html::WebError;
use crate::pages::{RegionView, ViewQuery};
use crate::scope::{InVillage, InVillageYear};
use crate::state::AppState;

mod contracts;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/session", get(session))
        .route("/api/report", get(report))
        .route("/api/villages/{code}", get(village))
        .route(
            "/api/villages/{code}/contracts",
            get(contracts::village_contracts),
        )
        .route(
            "/api/villages/{code}/assets",
            get(contracts::village_assets),
        )
        .route(
            "/api/regions/{code}/arrears",
            get(contracts::region_arrears),
        )
        .route("/api/entries", post(add_entry))
        .route("/api/entries/{id}/reverse", post(reverse_entry))
        .route("/api/proposals/{code}/{year}", get(proposal))
        .route("/api/proposals/{code}/{year}/{step}", post(proposal_step))
}

pub use crate::api_error::ApiError;

type ApiResult = Result<Response, ApiError>;

async fn session(Viewer(user): Viewer) -> Json<Value> {
    Json(json!({
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.key(),
        "scope": user.scope.as_ref().map(|s| s.to_string()),
        "csrf": user.csrf,
    }))
}

/// The report of SPEC §11 for a year and region, limited to what the user may read.
async fn report(ask: crate::pages::Ask) -> ApiResult {
    let view = RegionView::of(ask).await?;
    Ok(Json(serde_json::to_value(&*view.report).unwrap_or(Value::Null)).into_response())
}

/// Entries a village read lists at most (the latest ones); `entries_total` says how many there are.
const API_ENTRIES_LISTED: usize = 10_000;

async fn village(
    State(state): State<AppState>,
    v: InVillage<Viewer>,
    Query(q): Query<ViewQuery>,
) -> ApiResult {
    let (c, store) = (v.code(), v.user().store(&state));
    let year = q.year.unwrap_or(state.latest_year().await);
    let (_, policy) = state.policy(q.policy).await?;
    let data = state.data(year).await?;
    let report = state.report(&policy, &data, year, Some(c)).await?;
    let Some(v) = report.villages.iter().find(|v| &v.code == c) else {
        return Err(WebError::NotFound(format!("{year} 年没有村 {c}")).into());
    };
    let (entries, entries_total) = store
        .latest_entries_of(c.as_str(), year, API_ENTRIES_LISTED)
        .await?;
    Ok(Json(json!({
        "year": year,
        "village": v,
        "entries_total": entries_total,
        "entries": entries.iter().map(|e| json!({
            "id": e.id, "date": e.date, "account": e.account.key(), "amount": e.amount, "voucher": e.voucher,
            "memo": e.memo, "project": e.project, "reverses": e.reverses, "reversed_by": e.reversed_by, "source": e.source,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

#[derive(serde::Deserialize)]
struct NewEntry {
    village: String,
    #[serde(flatten)]
    entry: crate::pages::entry::AddForm,
}

async fn add_entry(
    State(state): State<AppState>,
    Writer(user): Writer,
    Json(e): Json<NewEntry>,
) -> ApiResult {
    let c = crate::html::strict_code(&e.village)?;
    user.require_read(&c).map_err(WebError::from)?;
    let form = e.entry.of_village(c.to_string());
    let voucher = user
        .store(&state)
        .add_entry(&form, None, &user.username)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "voucher": voucher }))).into_response())
}

#[derive(serde::Deserialize)]
struct Reverse {
    date: String,
    reason: String,
}

async fn reverse_entry(
    State(state): State<AppState>,
    Writer(user): Writer,
    Path(id): Path<i64>,
    Json(r): Json<Reverse>,
) -> ApiResult {
    let Some((village, _)) = user.store(&state).entry_owner(id).await? else {
        return Err(WebError::NotFound(format!("没有编号为 {id} 的分录")).into());
    };
    RegionCode::parse(&village)
        .map_err(|e| crate::auth::Denied::forbidden(e.to_string()))
        .and_then(|c| user.require_read(&c))
        .map_err(WebError::from)?;
    let voucher = user
        .store(&state)
        .reverse_entry(id, &r.date, &r.reason, &user.username)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "voucher": voucher }))).into_response())
}

/// A proposal as SPEC §13's API gives it: status, pool, awards, the village's alerts for the year,
/// steps with their data, the resolution, and the overpayment when there is one.
async fn proposal(State(state): State<AppState>, v: InVillageYear<Viewer>) -> ApiResult {
    let now = crate::steps::Now::read(&state, v.code(), v.year()).await?;
    let Some(p) = &now.proposal else {
        return Err(WebError::NotFound("尚未生成奖励方案".into()).into());
    };
    let outstanding = now.outstanding();
    let documents = v.user().store(&state).attachments(p.id).await?;
    // An unpaid proposal whose amounts differ under the current policy or books: both, side by side.
    let current = (!p.status.is_settled())
        .then(|| cunji_core::workflow::Repricing::of(p.pool, &p.awards, now.incentive.as_ref()))
        .flatten()
        .map(|c| json!({ "policy_id": now.policy_id, "pool": c.pool_after,
            "awards": c.people.iter().filter_map(|(person, _, _, after)| Some((person.clone(), (*after)?.json())))
                .collect::<std::collections::BTreeMap<_, _>>() }));
    Ok(Json(json!({
        "village": p.village, "year": p.year, "policy_id": p.policy_id, "status": p.status.key(),
        "pool": p.pool, "trace": p.trace,
        "awards": p.awards.iter().map(|a| json!({ "person": a.person, "name": a.name, "role": a.role,
            "computed": a.computed, "decided": a.decided, "paid": a.paid, "recovered": a.recovered })).collect::<Vec<_>>(),
        "alerts": now.alerts,
        "resolution": p.resolution.as_ref().map(resolution_json),
        "attachments": documents.iter().map(|d| json!({ "id": d.id, "file_name": d.file_name, "content_type": d.content_type,
            "size": d.size, "sha256": d.sha256, "actor": d.actor, "at": d.at,
            "url": format!("/workflow/{}/{}/attachments/{}", p.village, p.year, d.id) })).collect::<Vec<_>>(),
        "steps": p.steps.iter().map(|s| json!({ "step": s.step, "actor": s.actor, "at": s.at, "detail": s.detail,
            "data": serde_json::from_str::<Value>(&s.data).unwrap_or(Value::Null) })).collect::<Vec<_>>(),
        "payment_date": p.payment_date().map(|d| d.iso()),
        "notice": p.notice_period().map(|(f, t)| json!({ "from": f.iso(), "to": t.iso() })),
        "current": current,
        "overpayment": (!outstanding.is_empty()).then(|| outstanding.iter().map(|(p, f)| (p.clone(), f.json())).collect::<std::collections::BTreeMap<_, _>>()),
    }))
    .into_response())
}

/// A resolution as SPEC §13's `resolve` body writes it.
pub fn resolution_json(r: &cunji_core::workflow::Resolution) -> Value {
    let m = &r.meetings;
    json!({
        "meetings": { "proposed": m.proposed.iso(), "discussed": m.discussed.iso(), "reviewed": m.reviewed.iso(), "decided": m.decided.iso() },
        "body": r.body.key(), "count_by": r.body.count_by_key(), "members": r.members, "present": r.present,
        "for": r.votes_for, "against": r.votes_against, "abstain": r.votes_abstain,
        "resolution_published": r.published.iso(),
        "awards": r.awards.iter().map(|(p, f)| (p.clone(), f.json())).collect::<std::collections::BTreeMap<_, _>>(),
    })
}

/// `POST /api/proposals/{code}/{year}/{step}`: runs a step from its JSON body (SPEC §13); refused
/// input or an out-of-order step answers 422, a step not the user's 403.
async fn proposal_step(
    State(state): State<AppState>,
    v: InVillageYear<Writer>,
    Path(params): Path<std::collections::HashMap<String, String>>,
    body: axum::body::Bytes,
) -> ApiResult {
    let key = params.get("step").map(String::as_str).unwrap_or_default();
    let action = cunji_core::workflow::Action::parse(key)
        .ok_or_else(|| WebError::NotFound(format!("没有“{key}”这一步")))?;
    let fields = crate::steps::Fields::from_json(if body.is_empty() { b"{}" } else { &body })
        .map_err(WebError::Invalid)?;
    let input = crate::steps::StepInput::read(action, &fields).map_err(WebError::Invalid)?;
    let message = crate::steps::run(&state, v.user(), (v.code(), v.year()), action, input).await?;
    let p = v
        .user()
        .store(&state)
        .proposal(v.code().as_str(), v.year())
        .await?;
    Ok(Json(json!({ "message": message, "status": p.map(|p| p.status.key()) })).into_response())
}

/// The OpenAPI 3.1 description of this API.
async fn openapi() -> Json<Value> {
    let err = json!({ "$ref": "#/components/schemas/Error" });
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": { "title": "村集 cunji API", "version": env!("CARGO_PKG_VERSION"),
                  "description": "村级集体经济台账的读写接口。登录：POST /login（表单 username、password，附登录页的 _csrf）后凭会话 Cookie 访问；写操作须带请求头 X-CSRF-Token（取自 GET /api/session）。金额为元的字符串，两位小数。" },
        "components": {
            "securitySchemes": { "session": { "type": "apiKey", "in": "cookie", "name": "cunji_session" },
                                 "csrf": { "type": "apiKey", "in": "header", "name": "X-CSRF-Token" } },
            "schemas": {
                "Error": { "type": "object", "properties": { "error": { "type": "string" }, "rows": { "type": "array", "items": { "type": "object" } } } },
                "Money": { "type": "string", "pattern": "^-?\\d+\\.\\d{2}$" },
                "Resolve": { "type": "object", "title": "resolve", "required": ["meetings", "body", "members", "present", "for", "against", "abstain", "resolution_published", "awards"], "properties": {
                    "meetings": { "type": "object", "required": ["proposed", "discussed", "reviewed", "decided"], "properties": {
                        "proposed": { "type": "string", "format": "date", "description": "党组织提议" }, "discussed": { "type": "string", "format": "date", "description": "两委会议商议" },
                        "reviewed": { "type": "string", "format": "date", "description": "党员大会审议" }, "decided": { "type": "string", "format": "date", "description": "村民会议或村民代表会议决议" } } },
                    "body": { "type": "string", "enum": ["representatives", "villagers"] }, "count_by": { "type": "string", "enum": ["adults", "households"] },
                    "members": { "type": "integer" }, "present": { "type": "integer" }, "for": { "type": "integer" }, "against": { "type": "integer" }, "abstain": { "type": "integer" },
                    "resolution_published": { "type": "string", "format": "date" },
                    "awards": { "type": "object", "description": "每人决定金额，不超过计算所得", "additionalProperties": { "$ref": "#/components/schemas/Money" } },
                    "attachments": { "type": "array" } } },
                "NewEntry": { "type": "object", "required": ["village", "date", "account", "amount"], "properties": {
                    "village": { "type": "string", "pattern": "^\\d{12}$" }, "date": { "type": "string", "format": "date" },
                    "account": { "type": "string", "description": "科目键或中文名，如 operating_revenue / 经营收入" },
                    "amount": { "type": "string", "description": "元，如 12,345.67；负数为红字冲销" },
                    "voucher": { "type": "string" }, "memo": { "type": "string" }, "project": { "type": "string" } } },
                "Reverse": { "type": "object", "required": ["date", "reason"], "properties": { "date": { "type": "string", "format": "date" }, "reason": { "type": "string" } } }
            }
        },
        "security": [{ "session": [] }],
        "paths": {
            "/healthz": { "get": { "summary": "健康检查", "security": [], "responses": { "200": { "description": "ok" } } } },
            "/api/session": { "get": { "summary": "当前用户与 CSRF 令牌", "responses": { "200": { "description": "用户" }, "401": { "description": "未登录", "content": { "application/json": { "schema": err } } } } } },
            "/api/report": { "get": { "summary": "年度报告（SPEC §11 的 JSON），限于本人可见范围",
                "parameters": [ { "name": "year", "in": "query", "schema": { "type": "integer" } }, { "name": "region", "in": "query", "schema": { "type": "string" } }, { "name": "policy", "in": "query", "schema": { "type": "integer" } } ],
                "responses": { "200": { "description": "报告" }, "403": { "description": "无权查看", "content": { "application/json": { "schema": err } } } } } },
            "/api/villages/{code}": { "get": { "summary": "一个村某年的报告与分录（最近的 10,000 笔；entries_total 为全年笔数）",
                "parameters": [ { "name": "code", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[0-9]{12}$" } }, { "name": "year", "in": "query", "schema": { "type": "integer", "minimum": 1900, "maximum": 2999 } } ],
                "responses": { "200": { "description": "村" }, "400": { "description": "区划代码不是 12 位数字" }, "403": { "description": "无权查看" }, "404": { "description": "没有这个村或这一年" }, "422": { "description": "报告无法生成（如考核等次不在政策中、合计溢出）" } } } },
            "/api/entries": { "post": { "summary": "记一笔账（与导入同样的校验）", "security": [{ "session": [], "csrf": [] }],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NewEntry" } } } },
                "responses": { "201": { "description": "已记账，返回凭证号" }, "403": { "description": "无权或缺少 CSRF 令牌" }, "422": { "description": "输入有误，未存储", "content": { "application/json": { "schema": err } } } } } },
            "/api/entries/{id}/reverse": { "post": { "summary": "冲销一笔分录（红字冲销，须写理由）", "security": [{ "session": [], "csrf": [] }],
                "parameters": [ { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } } ],
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Reverse" } } } },
                "responses": { "201": { "description": "已冲销，返回冲销凭证号" }, "403": { "description": "无权" }, "404": { "description": "没有这笔分录" }, "422": { "description": "输入有误" } } } },
            "/api/proposals/{code}/{year}": { "get": { "summary": "奖励方案：状态、奖励总额、人员金额、本年度预警、村级决议、流程记录（含各步数据）及应追回金额",
                "parameters": [ { "name": "code", "in": "path", "required": true, "schema": { "type": "string" } }, { "name": "year", "in": "path", "required": true, "schema": { "type": "integer" } } ],
                "responses": { "200": { "description": "方案" }, "404": { "description": "尚未生成" } } } },
            "/api/proposals/{code}/{year}/{step}": { "post": { "summary": "进行流程的一步（计算、村级决议、乡镇审核、县级备案、发放、公示、退回、追回）",
                "security": [ { "session": [], "csrf": [] } ],
                "parameters": [ { "name": "code", "in": "path", "required": true, "schema": { "type": "string" } }, { "name": "year", "in": "path", "required": true, "schema": { "type": "integer" } },
                    { "name": "step", "in": "path", "required": true, "schema": { "type": "string", "enum": ["compute", "resolve", "approve", "file", "pay", "publish", "send_back", "recover"] } } ],
                "requestBody": { "content": { "application/json": { "schema": { "oneOf": [
                    { "$ref": "#/components/schemas/Resolve" },
                    { "type": "object", "title": "approve", "properties": { "note": { "type": "string" }, "checks": { "type": "object", "description": "每类预警（按 kind）一条核实说明", "additionalProperties": { "type": "string" } } } },
                    { "type": "object", "title": "file", "properties": { "note": { "type": "string" } } },
                    { "type": "object", "title": "pay", "required": ["date"], "properties": { "date": { "type": "string", "format": "date" }, "paid": { "type": "object", "description": "每人发放金额；省略时按决定金额", "additionalProperties": { "$ref": "#/components/schemas/Money" } } } },
                    { "type": "object", "title": "publish", "required": ["from", "to"], "properties": { "from": { "type": "string", "format": "date" }, "to": { "type": "string", "format": "date" } } },
                    { "type": "object", "title": "send_back", "required": ["reason"], "properties": { "reason": { "type": "string" } } },
                    { "type": "object", "title": "recover", "required": ["date", "recovered"], "properties": { "date": { "type": "string", "format": "date" }, "recovered": { "type": "object", "additionalProperties": { "$ref": "#/components/schemas/Money" } } } } ] } } } },
                "responses": { "200": { "description": "已完成：message 与新的 status" }, "403": { "description": "这一步不属于您的角色或管辖范围", "content": { "application/json": { "schema": err } } },
                    "422": { "description": "不符合规则（如决议未过半数、会议顺序不对、金额超出），未作任何改动", "content": { "application/json": { "schema": err } } } } } }
        }
    });
    for (path, item) in contracts::paths(&err) {
        doc["paths"][path] = item;
    }
    Json(doc)
}
