//! The contracts and the asset register through the JSON API (SPEC §16): a village's contracts and
//! assets with what fell due, was received and is owed at a date, and a region's contracts in
//! arrears, oldest unpaid first. The same roles and scope as the rest of `/api/`; an id number is
//! only ever given masked (its last four characters).

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::Json;
use cunji_core::contracts::{report_date, standing};
use cunji_core::date::Date;
use cunji_core::money::Fen;
use cunji_core::region::{Level, RegionCode};
use cunji_store::ContractLine;
use serde_json::{json, Value};

use super::{ApiError, ApiResult};
use crate::auth::Viewer;
use crate::html::{bad_request, WebError};
use crate::scope::InVillage;
use crate::state::AppState;

/// `?year=2024&at=2024-12-31`: the year whose dues and receipts are summed, and the date of the
/// standing (by default the year's report date: 31 December, or today in the current year).
#[derive(serde::Deserialize)]
pub struct AtQuery {
    year: Option<i32>,
    at: Option<String>,
}

/// The year and the date a request asks for; `year` by default `default_year`, the date by
/// default that year's report date.
fn year_and_date(q: &AtQuery, default_year: i32) -> Result<(i32, Date), WebError> {
    let at =
        q.at.as_deref()
            .map(Date::parse)
            .transpose()
            .map_err(bad_request)?;
    let year = q.year.or(at.map(|d| d.year())).unwrap_or(default_year);
    if !crate::state::YEARS.contains(&year) {
        return Err(bad_request(format!(
            "年度 {year} 应为 1900–2999 的四位年份"
        )));
    }
    let at = at.unwrap_or_else(|| report_date(year, Some(Date::today_beijing())));
    Ok((year, at))
}

/// The name of a region of the register (a village when `village`), or 404.
async fn registered(
    state: &AppState,
    code: &RegionCode,
    village: bool,
) -> Result<String, ApiError> {
    let regions = state.regions().await?;
    match regions.get(code) {
        Some(r) if !village || r.level() == Level::Village => Ok(r.name.clone()),
        Some(r) => Err(WebError::NotFound(format!("{code}（{}）不是村", r.name)).into()),
        None => Err(WebError::NotFound(format!("区划名册中没有 {code}")).into()),
    }
}

/// What a read of this module is asked: the region's code and name (a village's when `village`),
/// then the year (by default `default_year`, awaited only once the region is found) and the date.
async fn asked<'v>(
    state: &AppState,
    v: &'v InVillage<Viewer>,
    q: &AtQuery,
    village: bool,
    default_year: impl std::future::Future<Output = i32>,
) -> Result<(&'v RegionCode, String, i32, Date), ApiError> {
    let code = v.code();
    let name = registered(state, code, village).await?;
    let (year, at) = year_and_date(q, default_year.await)?;
    Ok((code, name, year, at))
}

/// A contract as the API gives it: never the whole id number.
fn contract_json(l: &ContractLine, year: i32) -> Value {
    let c = &l.contract;
    let s = &l.standing;
    json!({
        "id": c.id(), "counterparty": c.counterparty(), "counterparty_id": c.counterparty_id_masked(),
        "asset": c.asset(), "asset_name": l.asset_name, "kind": c.kind().key(), "kind_name": c.kind().name_zh(),
        "signed": c.signed().iso(), "start": c.start().iso(), "end": c.end().iso(),
        "resolution": c.resolution().map(|d| d.iso()), "account": c.account().key(),
        "in_force": c.in_force_in(year),
        "due_in_year": l.due_in_year, "received_in_year": l.received_in_year,
        "due": s.due, "received": s.received, "arrears": s.arrears,
        "oldest_unpaid": s.oldest_unpaid.map(|d| d.iso()), "days_overdue": s.days_overdue,
        "trace": l.trace,
    })
}

fn total(values: impl Iterator<Item = Fen>) -> Result<Fen, WebError> {
    let t: i128 = values.map(|f| i128::from(f.fen())).sum();
    i64::try_from(t)
        .map(Fen::from_fen)
        .map_err(|_| WebError::Invalid("合同金额合计超出可计算的范围".into()))
}

/// `GET /api/villages/{code}/contracts`: the village's contracts with the year's dues and receipts
/// and where each stands at the date, with the totals.
pub async fn village_contracts(
    State(state): State<AppState>,
    v: InVillage<Viewer>,
    Query(q): Query<AtQuery>,
) -> ApiResult {
    let (code, name, year, at) = asked(&state, &v, &q, true, state.latest_year()).await?;
    let lines = v
        .user()
        .store(&state)
        .village_contracts(code, year, at)
        .await?;
    Ok(Json(json!({
        "village": code.as_str(), "name": name, "year": year, "at": at.iso(),
        "due_in_year": total(lines.iter().map(|l| l.due_in_year))?,
        "received_in_year": total(lines.iter().map(|l| l.received_in_year))?,
        "arrears": total(lines.iter().map(|l| l.standing.arrears))?,
        "contracts": lines.iter().map(|l| contract_json(l, year)).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// `GET /api/villages/{code}/assets`: the village's asset register, each asset with the contracts on
/// it and what they owed in the year, brought in the year, and owe at the date.
pub async fn village_assets(
    State(state): State<AppState>,
    v: InVillage<Viewer>,
    Query(q): Query<AtQuery>,
) -> ApiResult {
    let (code, name, year, at) = asked(&state, &v, &q, true, state.latest_year()).await?;
    let book = v
        .user()
        .store(&state)
        .load_contracts_within(code.as_str())
        .await?;
    let mut assets = Vec::new();
    if let Some(data) = book.of(code) {
        for a in &data.assets {
            let on: Vec<_> = data
                .contracts
                .iter()
                .filter(|c| c.asset() == Some(a.id()))
                .collect();
            let mut standings = Vec::new();
            let (mut due_y, mut got_y) = (Vec::new(), Vec::new());
            for c in &on {
                let receipts = data.receipts_of(c.id());
                standings.push(
                    standing(c, receipts, at)
                        .map_err(|e| WebError::Invalid(format!("{}超出可计算的范围", e.0)))?,
                );
                due_y.extend(c.dues_in(year).map(|d| d.amount));
                got_y.extend(
                    receipts
                        .iter()
                        .filter(|r| r.date.year() == year)
                        .map(|r| r.amount),
                );
            }
            assets.push(json!({
                "id": a.id(), "kind": a.kind().key(), "kind_name": a.kind().name_zh(), "name": a.name(),
                "quantity": a.quantity().display(), "unit": a.unit(), "original_value": a.original_value(),
                "acquired": a.acquired().iso(), "grant": a.grant(),
                "status": a.status().key(), "status_name": a.status().name_zh(),
                "contracts": on.iter().map(|c| c.id()).collect::<Vec<_>>(),
                "in_force": on.iter().filter(|c| c.in_force_in(year)).map(|c| c.id()).collect::<Vec<_>>(),
                "due_in_year": total(due_y.into_iter())?, "received_in_year": total(got_y.into_iter())?,
                "due": total(standings.iter().map(|s| s.due))?,
                "received": total(standings.iter().map(|s| s.received))?,
                "arrears": total(standings.iter().map(|s| s.arrears))?,
            }));
        }
    }
    Ok(Json(json!({ "village": code.as_str(), "name": name, "year": year, "at": at.iso(), "assets": assets }))
        .into_response())
}

/// `GET /api/regions/{code}/arrears`: the contracts in arrears at the date (by default today) of
/// the villages within the region, the oldest unpaid first: whom to call.
pub async fn region_arrears(
    State(state): State<AppState>,
    v: InVillage<Viewer>,
    Query(q): Query<AtQuery>,
) -> ApiResult {
    let today = std::future::ready(Date::today_beijing().year());
    let (code, name, _, at) = asked(&state, &v, &q, false, today).await?;
    let lines = v.user().store(&state).arrears_within(code, at).await?;
    let regions = state.regions().await?;
    Ok(Json(json!({
        "region": code.as_str(), "name": name, "at": at.iso(), "count": lines.len(),
        "arrears": total(lines.iter().map(|l| l.standing.arrears))?,
        "contracts": lines.iter().map(|l| {
            let mut j = contract_json(l, at.year());
            j["village"] = json!(l.contract.village().as_str());
            j["village_name"] = json!(regions.get(l.contract.village()).map(|r| r.name.clone()));
            j
        }).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// The OpenAPI paths of these reads.
pub fn paths(err: &Value) -> Vec<(&'static str, Value)> {
    let code = json!({ "name": "code", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[0-9]{12}$" } });
    let year = json!({ "name": "year", "in": "query", "schema": { "type": "integer", "minimum": 1900, "maximum": 2999 }, "description": "汇总应收、已收的年度；默认最近有数据的年度（或 at 所在年度）" });
    let at = json!({ "name": "at", "in": "query", "schema": { "type": "string", "format": "date" }, "description": "计算累计应收、已收、欠收的日期；默认该年度的报告日（12 月 31 日，当年为今天）" });
    let responses = |what: &str| {
        json!({ "200": { "description": what },
            "400": { "description": "区划代码、年度或日期格式不对", "content": { "application/json": { "schema": err } } },
            "403": { "description": "不在本人管辖范围内", "content": { "application/json": { "schema": err } } },
            "404": { "description": "区划名册中没有这个代码（或按村查询的不是村）", "content": { "application/json": { "schema": err } } } })
    };
    vec![
        (
            "/api/villages/{code}/contracts",
            json!({ "get": {
            "summary": "一个村的合同：本年应收（due_in_year）、已收（received_in_year），截至 at 的累计应收（due）、已收（received）、欠收（arrears）与逾期天数；对方证件号只给后四位",
            "parameters": [code, year, at], "responses": responses("合同及合计，金额为元的字符串") } }),
        ),
        (
            "/api/villages/{code}/assets",
            json!({ "get": {
            "summary": "一个村的资产资源台账：每项资产的状态、扶持资金编号（grant）、其上的合同，以及这些合同本年应收、已收和截至 at 的欠收",
            "parameters": [code, year, at], "responses": responses("资产") } }),
        ),
        (
            "/api/regions/{code}/arrears",
            json!({ "get": {
            "summary": "一个地区（乡镇、县……）截至 at（默认今天）欠收的合同，最早未收清的在前",
            "parameters": [code, at], "responses": responses("欠收合同及合计") } }),
        ),
    ]
}
