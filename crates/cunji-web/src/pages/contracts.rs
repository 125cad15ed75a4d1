//! Contracts (合同) and the asset register (资产资源台账) on staff pages (SPEC §16, issue #35): a
//! village's contracts with where each stands and how its year's due was made, its assets with the
//! grant each was built from and the rent it earns; a region's arrears list (oldest unpaid first,
//! sortable, exported to a workbook); the contract alerts of a kind; and the forms that add a
//! contract, end one early and renew one. Nothing is edited in place (`cunji_store::contract_changes`).
//! A counterparty's id number is only ever shown masked.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use cunji_core::contracts::{
    report_date, AssetStatus, Contract, ContractDraft, ContractKind, DueDay, Installment, Schedule,
    VillageContractData,
};
use cunji_core::date::Date;
use cunji_core::money::Fen;
use cunji_core::rate::Ppm;
use cunji_core::region::{Level, RegionCode};
use cunji_store::ContractLine;

use crate::auth::{Role, Viewer, Writer};
use crate::html::{not_found, render, Layout, WebError};
use crate::scope::InVillage;
use crate::state::AppState;

use super::sorting::{headers, Column, Header};

/// The routes of this module (merged into the application in one line).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/village/{code}/contracts", get(page).post(add))
        .route("/village/{code}/contracts/{id}/end", post(end))
        .route("/village/{code}/contracts/{id}/renew", post(renew))
        .route("/arrears", get(arrears))
        .route("/arrears.xlsx", get(arrears_xlsx))
        .route("/contract-alerts", get(alerts))
}

/// The date figures are read at: the chosen year's end, or today in the current year.
/// The year asked for, else `default` (the year the dashboard opens on: the latest most villages
/// have reported, so that a January page does not list every rent of the new year as unpaid while
/// its receipts are not yet booked), and the date standings are taken at: the year's end, or today
/// within the current year.
fn at_of(year: Option<i32>, default: i32) -> (i32, Date) {
    let today = Date::today_beijing();
    let year = year
        .filter(|y| crate::state::YEARS.contains(y))
        .unwrap_or(default);
    (year, report_date(year, Some(today)))
}

fn yuan(f: Fen) -> String {
    format!("{} 元", f.display())
}

fn days_text(d: Option<i64>) -> String {
    d.map_or_else(|| "—".to_string(), |d| format!("{d} 天"))
}

/// The yearly rent of a contract as a page shows it (with its step-up), or its installments.
fn schedule_text(c: &Contract) -> String {
    match c.schedule() {
        Schedule::Annual {
            rent,
            due_day,
            step,
        } => {
            let step = step
                .map(|s| {
                    let every = if s.years == 1 {
                        "每年".to_string()
                    } else {
                        format!("每 {} 年", s.years)
                    };
                    format!("，{every}递增 {}", s.rate.percent())
                })
                .unwrap_or_default();
            format!(
                "年租金 {}，每年 {} 月 {} 日收{step}",
                yuan(*rent),
                due_day.month(),
                due_day.day()
            )
        }
        Schedule::Installments(list) => {
            format!("分期应收 {} 笔，合计 {}", list.len(), yuan(c.total()))
        }
    }
}

pub struct ContractView {
    pub id: String,
    /// The id percent-encoded, for addresses.
    pub href_id: String,
    pub counterparty: String,
    pub id_masked: String,
    pub asset: String,
    pub kind: &'static str,
    pub term: String,
    pub schedule: String,
    pub due_in_year: String,
    pub received_in_year: String,
    pub due: String,
    pub received: String,
    pub arrears: String,
    pub in_arrears: bool,
    pub oldest: String,
    pub days: String,
    pub trace: Vec<String>,
    /// Not yet over today (in force or yet to start), whatever year the page shows: it may be
    /// ended early or renewed.
    pub running: bool,
    /// How it was changed: its version when more than one is stored, and its successor on the same
    /// asset (a renewal), in words; empty when neither.
    pub history: String,
    /// A successor on the same asset exists (the renewal form is not offered again).
    pub renewed: bool,
    /// Default dates of its renewal: the day after its end, and as many years on.
    pub renew_start: String,
    pub renew_end: String,
    pub rent_yuan: String,
    /// Each installment, `2025-06-30 应收 5,000.00 元` (none for a yearly rent).
    pub installments: Vec<String>,
}

impl ContractView {
    fn of(l: &ContractLine) -> ContractView {
        let c = &l.contract;
        let renew_start = Date::from_day_number(c.end().day_number() + 1);
        let years = (c.end().year() - c.start().year()).max(1);
        let renew_end = Date::from_day_number(
            cunji_core::contracts::anniversary(renew_start, years).day_number() - 1,
        );
        ContractView {
            id: c.id().to_string(),
            href_id: super::pct(c.id()),
            counterparty: c.counterparty().to_string(),
            id_masked: c.counterparty_id_masked().unwrap_or_else(|| "—".into()),
            asset: match (&l.asset_name, c.asset()) {
                (Some(n), Some(a)) => format!("{n}（{a}）"),
                (None, Some(a)) => a.to_string(),
                _ => "—".into(),
            },
            kind: c.kind().name_zh(),
            term: format!("{} 至 {}", c.start().iso(), c.end().iso()),
            schedule: schedule_text(c),
            due_in_year: yuan(l.due_in_year),
            received_in_year: yuan(l.received_in_year),
            due: yuan(l.standing.due),
            received: yuan(l.standing.received),
            arrears: yuan(l.standing.arrears),
            in_arrears: l.standing.arrears.fen() > 0,
            oldest: l
                .standing
                .oldest_unpaid
                .map_or_else(|| "—".into(), |d| d.iso()),
            days: days_text(l.standing.days_overdue),
            trace: l.trace.clone(),
            running: Date::today_beijing() <= c.end(),
            history: String::new(),
            renewed: false,
            renew_start: renew_start.iso(),
            renew_end: renew_end.iso(),
            rent_yuan: c.first_rent().map(|r| r.json()).unwrap_or_default(),
            installments: match c.schedule() {
                Schedule::Installments(list) => list
                    .iter()
                    .map(|i| format!("{} 应收 {}", i.date.iso(), yuan(i.amount)))
                    .collect(),
                Schedule::Annual { .. } => Vec::new(),
            },
        }
    }
}

pub struct AssetView {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub quantity: String,
    pub original_value: String,
    pub acquired: String,
    pub grant: String,
    pub status: &'static str,
    pub idle: bool,
    /// Contracts on it in the year, and what they owed and paid in the year.
    pub contracts: String,
    pub due_in_year: String,
    pub received_in_year: String,
}

/// What a village's assets earn in `year`: per asset id, its contracts' ids, due and received.
pub(crate) fn asset_rents(
    data: &VillageContractData,
    year: i32,
) -> HashMap<String, (Vec<String>, Fen, Fen)> {
    let mut out: HashMap<String, (Vec<String>, Fen, Fen)> = HashMap::new();
    for c in &data.contracts {
        let Some(a) = c.asset() else { continue };
        let due: i64 = c.dues_in(year).map(|d| d.amount.fen()).sum();
        let got: i64 = data
            .receipts_of(c.id())
            .iter()
            .filter(|r| r.date.year() == year)
            .map(|r| r.amount.fen())
            .sum();
        let e = out.entry(a.to_string()).or_default();
        if c.in_force_in(year) || due != 0 || got != 0 {
            e.0.push(c.id().to_string());
        }
        e.1 = Fen::from_fen(e.1.fen() + due);
        e.2 = Fen::from_fen(e.2.fen() + got);
    }
    out
}

/// What each asset bought or built with grant `grant` earns in `year`, as a line of the subsidy table.
pub fn grant_assets(data: Option<&VillageContractData>, grant: &str, year: i32) -> Vec<String> {
    let Some(data) = data else {
        return Vec::new();
    };
    let rents = asset_rents(data, year);
    data.assets
        .iter()
        .filter(|a| a.grant() == Some(grant))
        .map(|a| {
            let r = rents.get(a.id());
            let contracts = r
                .filter(|r| !r.0.is_empty())
                .map_or_else(|| "无合同".into(), |r| format!("合同 {}", r.0.join("、")));
            format!(
                "{}（{}，{} {}，{}）：{year} 年{contracts}，应收租金 {}，已收 {}",
                a.name(),
                a.id(),
                a.quantity().display(),
                a.unit(),
                a.status().name_zh(),
                yuan(r.map_or(Fen::ZERO, |r| r.1)),
                yuan(r.map_or(Fen::ZERO, |r| r.2)),
            )
        })
        .collect()
}

/// The assets of a village with the grant each was built from and the rent it earns in `year`.
pub fn asset_views(
    data: Option<&VillageContractData>,
    grants: &[cunji_core::subsidy::Grant],
    year: i32,
) -> Vec<AssetView> {
    let Some(data) = data else {
        return Vec::new();
    };
    let rents = asset_rents(data, year);
    data.assets
        .iter()
        .map(|a| {
            let r = rents.get(a.id());
            AssetView {
                id: a.id().to_string(),
                name: a.name().to_string(),
                kind: a.kind().name_zh(),
                quantity: format!("{} {}", a.quantity().display(), a.unit()),
                original_value: a.original_value().map_or_else(|| "—".into(), yuan),
                acquired: a.acquired().iso(),
                grant: a.grant().map_or_else(
                    || "—".into(),
                    |g| match grants.iter().find(|x| x.grant == g) {
                        Some(x) => {
                            format!("{}（{g}，{} 年，{}）", x.program, x.year, yuan(x.amount))
                        }
                        None => g.to_string(),
                    },
                ),
                status: a.status().name_zh(),
                idle: a.status() == AssetStatus::Idle,
                contracts: r
                    .filter(|r| !r.0.is_empty())
                    .map_or_else(|| "无".into(), |r| r.0.join("、")),
                due_in_year: yuan(r.map_or(Fen::ZERO, |r| r.1)),
                received_in_year: yuan(r.map_or(Fen::ZERO, |r| r.2)),
            }
        })
        .collect()
}

/// A refused form: which form, what was typed, and each error with the field it belongs beside.
#[derive(Default)]
pub struct Refused {
    pub form: String,
    pub values: HashMap<String, String>,
    pub errors: Vec<(Option<String>, String)>,
}

#[derive(Template)]
#[template(path = "contracts.html")]
struct Page {
    layout: Layout,
    code: String,
    name: String,
    township: String,
    year: i32,
    at: String,
    years: Vec<i32>,
    contracts: Vec<ContractView>,
    assets: Vec<AssetView>,
    total_due: String,
    total_received: String,
    total_arrears: String,
    can_change: bool,
    csrf: String,
    kinds: Vec<(&'static str, &'static str)>,
    asset_choices: Vec<(String, String)>,
    today: String,
    max_installments: usize,
    refused: Refused,
}

impl Page {
    /// What the user typed in `form`'s `field`, or `default`.
    fn value<'a>(&'a self, form: &str, field: &str, default: &'a str) -> &'a str {
        if self.refused.form == form {
            if let Some(v) = self.refused.values.get(field) {
                return v;
            }
        }
        default
    }
    /// The errors of `form` beside `field`.
    fn field_errors(&self, form: &str, field: &str) -> Vec<&str> {
        if self.refused.form != form {
            return Vec::new();
        }
        self.refused
            .errors
            .iter()
            .filter(|(f, _)| f.as_deref() == Some(field))
            .map(|(_, m)| m.as_str())
            .collect()
    }
    /// Every error of `form`, for the list at its head.
    fn errors_of(&self, form: &str) -> Vec<&str> {
        if self.refused.form != form {
            return Vec::new();
        }
        self.refused
            .errors
            .iter()
            .map(|(_, m)| m.as_str())
            .collect()
    }
    fn selected(&self, form: &str, field: &str, key: &str) -> bool {
        self.value(form, field, "") == key
    }
}

/// Whether a user may add, end or renew contracts of a village: a township officer or a county
/// administrator whose scope holds it.
fn may_change(user: &crate::auth::User, village: &RegionCode) -> bool {
    matches!(user.role, Role::TownshipOfficer | Role::CountyAdmin) && user.can_read(village)
}

#[derive(serde::Deserialize, Default)]
pub struct YearQuery {
    pub year: Option<i32>,
    pub msg: Option<String>,
    pub err: Option<String>,
}

pub async fn page(
    State(state): State<AppState>,
    at: InVillage<Viewer>,
    Query(q): Query<YearQuery>,
) -> Result<Response, WebError> {
    let (user, code) = (at.user().clone(), at.code().clone());
    render_page(&state, &user, &code, q, Refused::default()).await
}

async fn render_page(
    state: &AppState,
    user: &crate::auth::User,
    code: &RegionCode,
    q: YearQuery,
    refused: Refused,
) -> Result<Response, WebError> {
    let (year, at) = at_of(q.year, state.opening_year().await?.0);
    let regions = state.regions().await?;
    let region = regions
        .get(code)
        .filter(|r| r.level() == Level::Village)
        .ok_or_else(|| not_found(&format!("村 {code}")))?;
    let township = code
        .township()
        .and_then(|t| regions.get(&t))
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let lines = user.store(state).village_contracts(code, year, at).await?;
    let book = user
        .store(state)
        .load_contracts_within(code.as_str())
        .await?;
    let data = state.data(year).await?;
    let grants: Vec<cunji_core::subsidy::Grant> = data
        .grants
        .iter()
        .filter(|g| &g.village == code)
        .cloned()
        .collect();
    let assets = asset_views(book.of(code), &grants, year);
    let sum = |f: &dyn Fn(&ContractLine) -> Fen| {
        yuan(Fen::from_fen(lines.iter().map(|l| f(l).fen()).sum()))
    };
    let mut years: Vec<i32> = state.years().await?;
    let this_year = Date::today_beijing().year();
    if !years.contains(&this_year) {
        years.push(this_year);
    }
    if !years.contains(&year) {
        years.push(year);
    }
    years.sort_unstable();
    let mut contracts: Vec<ContractView> = Vec::new();
    for l in &lines {
        let mut v = ContractView::of(l);
        let versions = user
            .store(state)
            .contract_versions(code, l.contract.id())
            .await?;
        let mut notes = Vec::new();
        if versions.len() > 1 {
            let first = &versions[0];
            notes.push(format!(
                "第 {} 版（第 1 版期限 {} 至 {}；各版本均保留，见审计日志）",
                versions.len(),
                first.start,
                first.end
            ));
        }
        let successors: Vec<&str> = lines
            .iter()
            .map(|o| &o.contract)
            .filter(|o| {
                o.asset().is_some()
                    && o.asset() == l.contract.asset()
                    && o.start() > l.contract.end()
            })
            .map(|o| o.id())
            .collect();
        if !successors.is_empty() {
            v.renewed = true;
            notes.push(format!("已续签：{}", successors.join("、")));
        }
        v.history = notes.join("；");
        contracts.push(v);
    }
    let status = if refused.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = Page {
        layout: Layout::new(format!("{} 合同和资产", region.name), Some(user))
            .with_flash("info", q.msg.clone())
            .with_flash("error", q.err.clone()),
        code: code.to_string(),
        name: region.name.clone(),
        township,
        year,
        at: at.iso(),
        years,
        total_due: sum(&|l| l.standing.due),
        total_received: sum(&|l| l.standing.received),
        total_arrears: sum(&|l| l.standing.arrears),
        contracts,
        asset_choices: book
            .of(code)
            .map(|d| {
                d.assets
                    .iter()
                    .map(|a| (a.id().to_string(), format!("{}（{}）", a.name(), a.id())))
                    .collect()
            })
            .unwrap_or_default(),
        assets,
        can_change: may_change(user, code),
        csrf: user.csrf.clone(),
        kinds: ContractKind::ALL
            .iter()
            .map(|k| (k.key(), k.name_zh()))
            .collect(),
        today: Date::today_beijing().iso(),
        max_installments: MAX_INSTALLMENTS,
        refused,
    };
    Ok((status, render(&page)).into_response())
}

/// The form's fields of a new contract, by name.
type Fields = HashMap<String, String>;

fn typed<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).map(|s| s.trim()).unwrap_or_default()
}

/// Reads the fields of a contract form into a draft; every problem beside its field.
fn read_draft(
    f: &Fields,
    village: &RegionCode,
    errors: &mut Vec<(Option<String>, String)>,
) -> Option<ContractDraft> {
    let mut fail = |field: &str, m: String| errors.push((Some(field.to_string()), m));
    let date = |field: &str, label: &str, fail: &mut dyn FnMut(&str, String)| -> Option<Date> {
        let t = typed(f, field);
        if t.is_empty() {
            fail(field, format!("{label}不能为空"));
            return None;
        }
        Date::parse(t)
            .map_err(|e| fail(field, format!("{label}：{e}")))
            .ok()
    };
    let signed = date("signed", "签订日期", &mut fail);
    let start = date("start", "起始日期", &mut fail);
    let end = date("end", "终止日期", &mut fail);
    let resolution = match typed(f, "resolution") {
        "" => Some(None),
        t => Date::parse(t)
            .map(Some)
            .map_err(|e| fail("resolution", format!("决议日期：{e}")))
            .ok(),
    };
    let kind = match ContractKind::parse(typed(f, "kind")) {
        Some(k) => Some(k),
        None => {
            fail("kind", "请选择合同类别".into());
            None
        }
    };
    let installments = read_installments(typed(f, "installments"), &mut fail);
    let none_typed = typed(f, "installments").is_empty();
    // A yearly rent or installments, one of the two (SPEC §16); `None` when the rent could not be read.
    let rent = match typed(f, "annual_rent") {
        "" if none_typed => {
            fail(
                "annual_rent",
                "年租金和分期收款须填一项（按年收租填年租金，分期收款填分期收款）".into(),
            );
            None
        }
        "" => Some(None),
        _ if !none_typed => {
            fail(
                "installments",
                "填了分期收款就不能再填年租金（二者只能选一）".into(),
            );
            None
        }
        t => Fen::parse_yuan(t)
            .map(Some)
            .map_err(|e| fail("annual_rent", format!("年租金：{e}")))
            .ok(),
    };
    let due_day = match typed(f, "due_day") {
        "" => Some(None),
        t => DueDay::parse(t)
            .map(Some)
            .map_err(|e| fail("due_day", e))
            .ok(),
    };
    let step_years = match typed(f, "step_years") {
        "" => Some(None),
        t => t
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .map(Some)
            .or_else(|| {
                fail(
                    "step_years",
                    format!("递增年限应为 1–100 的整数，不是“{t}”"),
                );
                None
            }),
    };
    let step_rate = match typed(f, "step_rate") {
        "" => Some(None),
        t => Ppm::parse_within(t, Ppm::ONE)
            .map(Some)
            .map_err(|e| fail("step_rate", format!("递增比例：{e}")))
            .ok(),
    };
    for (k, label) in [
        ("contract", "合同编号"),
        ("counterparty", "对方名称"),
        ("counterparty_id", "对方证件号"),
    ] {
        if let Err(m) = cunji_store::table::check_text(typed(f, k)) {
            fail(k, format!("{label}：{m}"));
        }
    }
    let asset = Some(typed(f, "asset").to_string()).filter(|s| !s.is_empty());
    // A field that could not be read stands in by a harmless value, so that the rules tying fields
    // together are still checked on the others (a refused form lists every rule broken); errors on
    // the stand-ins are dropped by `contract_of`.
    let fallback = Date::from_ymd(2000, 1, 1).expect("a date");
    let term_read = start.is_some() && end.is_some();
    let (start, end) = match (start, end) {
        (Some(s), Some(e)) => (s, e),
        (Some(s), None) => (s, s),
        (None, Some(e)) => (e, e),
        (None, None) => (fallback, fallback),
    };
    // Each installment within the term (the importer's rule for a contract's dues, told by line).
    if term_read && start <= end {
        for (n, i) in &installments {
            if i.date < start || i.date > end {
                fail(
                    "installments",
                    format!(
                        "分期收款第 {n} 行：日期 {} 不在合同期限 {} 至 {} 内",
                        i.date.iso(),
                        start.iso(),
                        end.iso()
                    ),
                );
            }
        }
    }
    let installments: Vec<Installment> = installments.into_iter().map(|(_, i)| i).collect();
    let annual_rent = match rent {
        Some(r) => r,
        // Unreadable: a stand-in of the kind typed, so that the rules on the others are checked.
        None if none_typed => Some(Fen::from_fen(100)),
        None => None,
    };
    Some(ContractDraft {
        id: typed(f, "contract").to_string(),
        village: village.clone(),
        counterparty: typed(f, "counterparty").to_string(),
        counterparty_id: Some(typed(f, "counterparty_id").to_string()).filter(|s| !s.is_empty()),
        asset,
        kind: kind.unwrap_or(ContractKind::Other),
        signed: signed.unwrap_or(start),
        start,
        end,
        resolution: resolution.flatten(),
        annual_rent,
        due_day: due_day.flatten(),
        step_years: step_years.flatten(),
        step_rate: step_rate.flatten(),
        account: None,
        installments,
    })
}

/// Installment lines a form takes at most: ten years of monthly payments.
pub const MAX_INSTALLMENTS: usize = 120;

/// Reads the installments typed one a line, `日期 金额` (a date as SPEC §1 allows, an amount in 元,
/// positive and within §1's bound), each with its line number (blank lines are skipped but keep the
/// numbering, so a message names the line as the textarea shows it); each problem told by its line.
fn read_installments(text: &str, fail: &mut dyn FnMut(&str, String)) -> Vec<(usize, Installment)> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    if lines.len() > MAX_INSTALLMENTS {
        fail(
            "installments",
            format!(
                "分期收款最多 {MAX_INSTALLMENTS} 行，现有 {} 行（更多的请用导入）",
                lines.len()
            ),
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for (n, line) in lines {
        // The date is the first word; the amount the rest (`5,000.00 元` may hold a space).
        let mut words = line.split_whitespace();
        let date_text = words.next().unwrap_or_default();
        let amount_text: String = words.collect();
        if amount_text.is_empty() {
            fail(
                "installments",
                format!("分期收款第 {n} 行“{line}”：应写作“日期 金额”，如 2025-06-30 5000"),
            );
            continue;
        }
        let date = Date::parse_file(date_text)
            .map_err(|e| fail("installments", format!("分期收款第 {n} 行：{e}")))
            .ok();
        let amount = match Fen::parse_yuan(&amount_text) {
            Ok(a) if a.fen() > 0 => Some(a),
            Ok(_) => {
                fail(
                    "installments",
                    format!("分期收款第 {n} 行：金额应大于 0，不是“{amount_text}”"),
                );
                None
            }
            Err(e) => {
                fail("installments", format!("分期收款第 {n} 行：{e}"));
                None
            }
        };
        if let (Some(date), Some(amount)) = (date, amount) {
            out.push((n, Installment { date, amount }));
        }
    }
    out
}

/// A store's refusal beside the field it names first.
fn place_store_error(m: String) -> (Option<String>, String) {
    let words = [
        ("合同编号", "contract"),
        ("资产", "asset"),
        ("起始日期", "start"),
        ("终止日期", "end"),
        ("理由", "reason"),
    ];
    let field = words
        .iter()
        .filter_map(|(w, f)| m.find(w).map(|at| (at, *f)))
        .min_by_key(|(at, _)| *at)
        .map(|(_, f)| f.to_string());
    (field, m)
}

/// Reads a contract form: the contract, or every error.
fn contract_of(
    f: &Fields,
    village: &RegionCode,
) -> Result<Contract, Vec<(Option<String>, String)>> {
    let mut errors = Vec::new();
    let draft = read_draft(f, village, &mut errors);
    let failed: Vec<String> = errors.iter().filter_map(|(f, _)| f.clone()).collect();
    match draft.map(Contract::new) {
        Some(Ok(c)) if errors.is_empty() => Ok(c),
        Some(Err(more)) => {
            errors.extend(
                more.into_iter()
                    .filter(|e| !failed.iter().any(|f| f == e.column))
                    .map(|e| {
                        // A schedule's sum too large, or an amount refused, is the installments'.
                        let column = match e.column {
                            "step_rate" | "amount" if !typed(f, "installments").is_empty() => {
                                "installments"
                            }
                            c => c,
                        };
                        (Some(column.to_string()), e.message)
                    }),
            );
            Err(errors)
        }
        _ => Err(errors),
    }
}

/// The signed-in writer may change this village's contracts, or the refusal.
fn require_change(user: &crate::auth::User, code: &RegionCode) -> Result<(), WebError> {
    if may_change(user, code) {
        Ok(())
    } else {
        Err(WebError::Denied(format!(
            "合同由乡镇农经站或县级管理员登记（您是{}，范围 {}）",
            user.role.name_zh(),
            user.scope
                .as_ref()
                .map_or_else(|| "全部".to_string(), |s| s.to_string())
        )))
    }
}

async fn refuse(
    state: &AppState,
    user: &crate::auth::User,
    code: &RegionCode,
    form: &str,
    values: Fields,
    errors: Vec<(Option<String>, String)>,
) -> Result<Response, WebError> {
    let year = values.get("year").and_then(|y| y.parse().ok());
    let refused = Refused {
        form: form.to_string(),
        values,
        errors,
    };
    let q = YearQuery {
        year,
        ..Default::default()
    };
    render_page(state, user, code, q, refused).await
}

fn done(code: &RegionCode, message: String) -> Response {
    super::back_with(&format!("/village/{code}/contracts"), Ok(message)).into_response()
}

pub async fn add(
    State(state): State<AppState>,
    at: InVillage<Writer>,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    let (user, code) = (at.user().clone(), at.code().clone());
    require_change(&user, &code)?;
    let c = match contract_of(&f, &code) {
        Ok(c) => c,
        Err(errors) => return refuse(&state, &user, &code, "add", f, errors).await,
    };
    match user.store(&state).add_contract(&c, &user.username).await {
        Ok(_) => Ok(done(&code, format!("已新增合同 {}", c.id()))),
        Err(cunji_store::StoreError::Invalid(m)) => {
            refuse(&state, &user, &code, "add", f, vec![place_store_error(m)]).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The contract id of a `{id}` path.
fn path_id(p: &HashMap<String, String>) -> String {
    p.get("id").cloned().unwrap_or_default()
}

pub async fn end(
    State(state): State<AppState>,
    at: InVillage<Writer>,
    Path(p): Path<HashMap<String, String>>,
    Form(f): Form<Fields>,
) -> Result<Response, WebError> {
    let (user, code) = (at.user().clone(), at.code().clone());
    require_change(&user, &code)?;
    let id = path_id(&p);
    let form = format!("end-{id}");
    let mut errors = Vec::new();
    let date = match typed(&f, "end") {
        "" => {
            errors.push((Some("end".to_string()), "终止日期不能为空".to_string()));
            None
        }
        t => Date::parse(t)
            .map_err(|e| errors.push((Some("end".into()), format!("终止日期：{e}"))))
            .ok(),
    };
    if let Err(m) = cunji_store::table::check_text(typed(&f, "reason")) {
        errors.push((Some("reason".into()), format!("理由：{m}")));
    } else if typed(&f, "reason").chars().count() < 2 {
        errors.push((
            Some("reason".into()),
            "提前终止须写明理由（至少 2 个字）".into(),
        ));
    }
    let Some(date) = date.filter(|_| errors.is_empty()) else {
        return refuse(&state, &user, &code, &form, f, errors).await;
    };
    match at
        .user()
        .store(&state)
        .end_contract_early(&code, &id, date, typed(&f, "reason"), &user.username)
        .await
    {
        Ok(v) => Ok(done(
            &code,
            format!(
                "合同 {id} 已提前终止于 {}（第 {v} 版，原版本保留）",
                date.iso()
            ),
        )),
        Err(cunji_store::StoreError::Invalid(m)) => {
            refuse(&state, &user, &code, &form, f, vec![place_store_error(m)]).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn renew(
    State(state): State<AppState>,
    at: InVillage<Writer>,
    Path(p): Path<HashMap<String, String>>,
    Form(mut f): Form<Fields>,
) -> Result<Response, WebError> {
    let (user, code) = (at.user().clone(), at.code().clone());
    require_change(&user, &code)?;
    let id = path_id(&p);
    let form = format!("renew-{id}");
    let book = user
        .store(&state)
        .load_contracts_within(code.as_str())
        .await?;
    let old = book
        .of(&code)
        .and_then(|d| d.contract(&id))
        .cloned()
        .ok_or_else(|| not_found(&format!("合同 {id}")))?;
    // The renewal keeps the old contract's kind and asset; the id number stays when the
    // counterparty is the same (it is never on the page to be typed again).
    let as_typed = f.clone();
    f.insert("kind".into(), old.kind().key().into());
    f.insert("asset".into(), old.asset().unwrap_or_default().into());
    let same = typed(&f, "counterparty") == old.counterparty();
    f.insert(
        "counterparty_id".into(),
        if same {
            old.counterparty_id().unwrap_or_default().into()
        } else {
            String::new()
        },
    );
    let c = match contract_of(&f, &code) {
        Ok(c) => c,
        Err(errors) => return refuse(&state, &user, &code, &form, as_typed, errors).await,
    };
    match user
        .store(&state)
        .renew_contract(&id, &c, &user.username)
        .await
    {
        Ok(_) => Ok(done(
            &code,
            format!("合同 {id} 已续签为合同 {}（原合同保留）", c.id()),
        )),
        Err(cunji_store::StoreError::Invalid(m)) => {
            refuse(
                &state,
                &user,
                &code,
                &form,
                as_typed,
                vec![place_store_error(m)],
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- The arrears list ----

#[derive(serde::Deserialize, Default)]
pub struct ArrearsQuery {
    pub region: Option<String>,
    pub year: Option<i32>,
    pub sort: Option<String>,
    pub desc: Option<String>,
}

/// The columns of the arrears list.
const COLUMNS: [Column; 10] = [
    ("township", "乡镇", false),
    ("village", "村", false),
    ("contract", "合同编号", false),
    ("counterparty", "对方", false),
    ("asset", "资产", false),
    ("due", "应收（元）", true),
    ("received", "已收（元）", true),
    ("arrears", "欠收（元）", true),
    ("oldest", "最早未收清的到期日", false),
    ("days", "逾期天数", true),
];

pub struct ArrearsRow {
    pub township: String,
    pub village: String,
    pub village_code: String,
    pub contract: String,
    pub counterparty: String,
    pub asset: String,
    pub due: Fen,
    pub received: Fen,
    pub arrears: Fen,
    pub oldest: String,
    pub days: i64,
}

#[derive(Template)]
#[template(path = "arrears.html")]
struct ArrearsPage {
    layout: Layout,
    region_name: String,
    region_code: String,
    year: i32,
    at: String,
    headers: Vec<Header>,
    rows: Vec<ArrearsRow>,
    total: String,
    xlsx_href: String,
}

impl ArrearsPage {
    fn money(&self, f: &Fen) -> String {
        f.display()
    }
}

/// The rows of a region's arrears list at `at`, in the order asked (oldest unpaid first by default).
async fn arrears_rows(
    state: &AppState,
    user: &crate::auth::User,
    q: &ArrearsQuery,
) -> Result<(RegionCode, String, i32, Date, Vec<ArrearsRow>), WebError> {
    let regions = state.regions().await?;
    let region = super::regions::chosen_region(user, &regions, q.region.as_deref())?;
    let (year, at) = at_of(q.year, state.opening_year().await?.0);
    // From the year's data shared by every page (read once per write, not per view).
    let data = state.data(year).await?;
    let lines = cunji_store::arrears_in(&data.contracts, &region, at)?;
    let name = |c: &RegionCode| regions.get(c).map(|r| r.name.clone()).unwrap_or_default();
    let mut rows: Vec<ArrearsRow> = lines
        .iter()
        .map(|l| {
            let c = &l.contract;
            ArrearsRow {
                township: c.village().township().map(|t| name(&t)).unwrap_or_default(),
                village: name(c.village()),
                village_code: c.village().to_string(),
                contract: c.id().to_string(),
                counterparty: c.counterparty().to_string(),
                asset: l
                    .asset_name
                    .clone()
                    .or_else(|| c.asset().map(str::to_string))
                    .unwrap_or_default(),
                due: l.standing.due,
                received: l.standing.received,
                arrears: l.standing.arrears,
                oldest: l
                    .standing
                    .oldest_unpaid
                    .map(|d| d.iso())
                    .unwrap_or_default(),
                days: l.standing.days_overdue.unwrap_or(0),
            }
        })
        .collect();
    sort_rows(&mut rows, q);
    Ok((region.clone(), name(&region), year, at, rows))
}

/// Sorts by the asked column; ties keep the store's order (oldest unpaid first).
fn sort_rows(rows: &mut [ArrearsRow], q: &ArrearsQuery) {
    let key = q.sort.as_deref().unwrap_or("oldest");
    let desc = q.desc.as_deref() == Some("1");
    rows.sort_by(|a, b| {
        let by = match key {
            "township" => a.township.cmp(&b.township),
            "village" => a.village.cmp(&b.village),
            "contract" => a.contract.cmp(&b.contract),
            "counterparty" => a.counterparty.cmp(&b.counterparty),
            "asset" => a.asset.cmp(&b.asset),
            "due" => a.due.cmp(&b.due),
            "received" => a.received.cmp(&b.received),
            "arrears" => a.arrears.cmp(&b.arrears),
            "days" => a.days.cmp(&b.days),
            _ => a.oldest.cmp(&b.oldest),
        };
        if desc {
            by.reverse()
        } else {
            by
        }
    });
}

fn arrears_query(region: &RegionCode, year: i32, sort: Option<(&str, bool)>) -> String {
    let mut s = format!("region={region}&year={year}");
    if let Some((k, desc)) = sort {
        s.push_str(&format!("&sort={k}"));
        if desc {
            s.push_str("&desc=1");
        }
    }
    s
}

pub async fn arrears(
    Viewer(user): Viewer,
    State(state): State<AppState>,
    Query(q): Query<ArrearsQuery>,
) -> Result<Response, WebError> {
    let (region, region_name, year, at, rows) = arrears_rows(&state, &user, &q).await?;
    let sort_key = q.sort.clone().unwrap_or_else(|| "oldest".into());
    let desc = q.desc.as_deref() == Some("1");
    let headers = headers(&COLUMNS, &sort_key, desc, |key, reversed| {
        format!(
            "/arrears?{}",
            arrears_query(&region, year, Some((key, reversed)))
        )
    });
    let total = yuan(Fen::from_fen(rows.iter().map(|r| r.arrears.fen()).sum()));
    let sort = q.sort.as_deref().map(|k| (k, desc));
    let page = ArrearsPage {
        layout: Layout::new(format!("{region_name} 合同欠收"), Some(&user)),
        region_name,
        region_code: region.to_string(),
        year,
        at: at.iso(),
        headers,
        rows,
        total,
        xlsx_href: format!(
            "/arrears.xlsx?{}",
            arrears_query(
                &region,
                year,
                sort.filter(|(k, _)| COLUMNS.iter().any(|c| c.0 == *k))
            )
        ),
    };
    Ok(render(&page))
}

pub async fn arrears_xlsx(
    Viewer(user): Viewer,
    State(state): State<AppState>,
    Query(q): Query<ArrearsQuery>,
) -> Result<Response, WebError> {
    use cunji_sheets::ListCell;
    let (region, region_name, _, at, rows) = arrears_rows(&state, &user, &q).await?;
    let cells: Vec<Vec<ListCell>> = rows
        .iter()
        .map(|r| {
            vec![
                ListCell::Text(r.township.clone()),
                ListCell::Text(r.village.clone()),
                ListCell::Text(r.contract.clone()),
                ListCell::Text(r.counterparty.clone()),
                ListCell::Text(r.asset.clone()),
                ListCell::Money(r.due),
                ListCell::Money(r.received),
                ListCell::Money(r.arrears),
                ListCell::Text(r.oldest.clone()),
                ListCell::Count(r.days),
            ]
        })
        .collect();
    let headers: Vec<&str> = COLUMNS.iter().map(|c| c.1).collect();
    let bytes = state
        .blocking(move || cunji_sheets::list_workbook("合同欠收", &headers, &cells))
        .await?
        .map_err(|e| WebError::internal("workbook", &e))?;
    let name = format!("{region_name}合同欠收（截至{}）.xlsx", at.iso());
    Ok(super::downloads::download(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (&name, &format!("cunji-arrears-{region}.xlsx")),
    ))
}

// ---- The contract alerts of a kind ----

/// The §16 alert kinds, in the report's order.
pub const CONTRACT_ALERTS: [cunji_core::alerts::AlertKind; 6] = [
    cunji_core::alerts::AlertKind::Arrears,
    cunji_core::alerts::AlertKind::Expiring,
    cunji_core::alerts::AlertKind::ExpiredReceipts,
    cunji_core::alerts::AlertKind::BelowPeers,
    cunji_core::alerts::AlertKind::LongTerm,
    cunji_core::alerts::AlertKind::IdleAsset,
];

#[derive(serde::Deserialize, Default)]
pub struct KindQuery {
    pub kind: Option<String>,
}

#[derive(Template)]
#[template(path = "contract_alerts.html")]
struct AlertsPage {
    layout: Layout,
    region_name: String,
    year: i32,
    kind: &'static str,
    rows: Vec<super::regions::AlertRow>,
}

pub async fn alerts(ask: super::Ask, Query(k): Query<KindQuery>) -> Result<Response, WebError> {
    let view = super::RegionView::of(ask).await?;
    let kind = CONTRACT_ALERTS
        .iter()
        .find(|a| Some(a.key()) == k.kind.as_deref())
        .copied()
        .ok_or_else(|| crate::html::bad_request("未知的预警类别"))?;
    let rows: Vec<super::regions::AlertRow> = super::regions::alert_rows(&view.report)
        .into_iter()
        .filter(|r| r.kind == kind.name_zh())
        .collect();
    let region_name = view.region_name();
    let page = AlertsPage {
        layout: Layout::new(
            format!("{region_name} {} 年 {}", view.year, kind.name_zh()),
            Some(&view.user),
        ),
        region_name,
        year: view.year,
        kind: kind.name_zh(),
        rows,
    };
    Ok(render(&page))
}

// ---- The dashboard's part ----

/// A village of the forecast (预计) list: its figures at today for the current year.
pub struct ForecastRow {
    pub code: String,
    pub name: String,
    pub booked: String,
    pub to_fall_due: String,
    pub expected: String,
    pub short: String,
    pub trace: String,
}

/// The villages expected to stay in one band, below the next band's floor.
pub struct ForecastGroup {
    pub heading: String,
    pub count: usize,
    pub rows: Vec<ForecastRow>,
}

/// Rows a forecast group lists at most (a province has thousands of weak villages).
const FORECAST_SHOWN: usize = 200;

/// A band's floor as a heading says it: `5万元`, or in yuan below one 万.
fn floor_text(f: Fen) -> String {
    if f.fen() % 1_000_000 == 0 {
        format!("{}万元", f.fen() / 1_000_000)
    } else {
        yuan(f)
    }
}

/// The forecast of SPEC §16 for the villages of `villages` (codes and names), for the year of
/// today: those expected to stay below each band's floor, the weakest band first.
pub async fn forecast_groups(
    state: &AppState,
    policy: &cunji_core::policy::Policy,
    villages: &[(RegionCode, String)],
) -> Result<(i32, Vec<ForecastGroup>), WebError> {
    let today = Date::today_beijing();
    let year = today.year();
    let Some(scheme) = policy.bands.as_ref() else {
        return Ok((year, Vec::new()));
    };
    let Some(band_measure) = policy.measure(&scheme.measure) else {
        return Ok((year, Vec::new()));
    };
    let operating = policy
        .measure("operating_income")
        .or_else(|| {
            cunji_core::measure::Measure::standard_shared()
                .iter()
                .find(|m| m.key == "operating_income")
                .cloned()
        })
        .ok_or_else(|| WebError::internal("forecast", &"no operating_income measure"))?;
    let data = state.data(year).await?;
    let empty = [Fen::ZERO; cunji_core::account::ACCOUNT_COUNT];
    let mut by_band: Vec<Vec<(Fen, ForecastRow)>> = Vec::new();
    by_band.resize_with(scheme.bands.len(), Vec::new);
    for (code, name) in villages {
        let totals = data.books.own(code, year).map_or(&empty, |b| &b.totals);
        let f = cunji_core::contracts::forecast(
            totals,
            data.contracts.of(code),
            today,
            &operating,
            Some((scheme, &band_measure)),
        );
        let value = f.band_value.unwrap_or(f.expected);
        let band = scheme.band_of(value);
        let Some(next) = scheme.bands.get(band + 1).and_then(|b| b.min) else {
            continue;
        };
        by_band[band].push((
            value,
            ForecastRow {
                code: code.to_string(),
                name: name.clone(),
                booked: yuan(f.booked),
                to_fall_due: yuan(f.to_fall_due),
                expected: yuan(f.expected),
                short: yuan(Fen::from_fen(next.fen() - value.fen())),
                trace: f.trace.join("；"),
            },
        ));
    }
    let groups = by_band
        .into_iter()
        .enumerate()
        .filter(|(_, rows)| !rows.is_empty())
        .map(|(i, mut rows)| {
            rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
            let floor = scheme.bands[i + 1].min.unwrap_or(Fen::ZERO);
            ForecastGroup {
                heading: format!(
                    "预计今年仍低于{}的村（预计分档“{}”）",
                    floor_text(floor),
                    scheme.bands[i].name
                ),
                count: rows.len(),
                rows: rows
                    .into_iter()
                    .take(FORECAST_SHOWN)
                    .map(|(_, r)| r)
                    .collect(),
            }
        })
        .collect();
    Ok((year, groups))
}

/// The counts of the §16 alerts in a report: (kind key, name, count).
pub fn alert_counts(
    report: &cunji_core::report::Report,
) -> Vec<(&'static str, &'static str, usize)> {
    CONTRACT_ALERTS
        .iter()
        .map(|k| {
            (
                k.key(),
                k.name_zh(),
                report.alerts.iter().filter(|a| a.kind == *k).count(),
            )
        })
        .collect()
}
