//! The audit log, newest first, in Chinese: who (name and role) did what (the action's name) to which
//! object (always the village or user by name and code), filtered by who, kind of action, village and
//! date range, and exported as CSV. Each role reads what #8 lets it read (a township its villages'
//! rows and its own).

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use cunji_core::date::Date;
use cunji_core::region::{Level, RegionCode, RegionSet};
use cunji_store::{AuditFilter, AuditRow, AuditScope, ImportKind};

use crate::auth::{Role, User, Viewer};
use crate::html::{render, Layout, WebError};
use crate::state::AppState;

/// Rows a page shows, newest first.
const ROWS_SHOWN: i64 = 500;
/// Rows an export holds at most (a county's years of entries; narrow the filter for more).
const ROWS_EXPORTED: i64 = 50_000;

/// The kinds of action a filter offers: key, Chinese name, the actions of that kind.
const KINDS: [(&str, &str, &[&str]); 7] = [
    ("entry", "录入与冲销", &["entry_add", "entry_reverse"]),
    (
        "import",
        "导入",
        &[
            "import_regions",
            "import_entries",
            "import_statements",
            "import_cadres",
            "import_grants",
            "import_stats",
            "import_assets",
            "import_contracts",
            "import_installments",
        ],
    ),
    (
        "workflow",
        "奖励审批",
        &[
            "workflow_computed",
            "workflow_resolved",
            "workflow_township_approved",
            "workflow_county_filed",
            "workflow_paid",
            "workflow_published",
            "workflow_sent_back",
            "workflow_recovered",
            "workflow_attachment",
            "workflow_stale",
        ],
    ),
    ("books", "结账", &["close_year", "reopen_year"]),
    (
        "contracts",
        "合同",
        &["contract_add", "contract_end", "contract_renew"],
    ),
    ("policy", "政策与设置", &["policy_save", "setting"]),
    ("user", "用户", &["user_add", "user_password"]),
];

/// An action's name in Chinese.
fn action_zh(action: &str) -> String {
    let named = match action {
        "entry_add" => "录入凭证",
        "entry_reverse" => "冲销凭证",
        "workflow_computed" => "计算奖励",
        "workflow_resolved" => "录入村级决议",
        "workflow_township_approved" => "乡镇审核通过",
        "workflow_county_filed" => "县级备案",
        "workflow_paid" => "登记发放",
        "workflow_published" => "公示",
        "workflow_sent_back" => "退回",
        "workflow_recovered" => "追回多发金额",
        "workflow_attachment" => "上传附件",
        "workflow_stale" => "政策更换，方案退回重新计算",
        "close_year" => "结账",
        "reopen_year" => "重新开账",
        "contract_add" => "新增合同",
        "contract_end" => "提前终止合同",
        "contract_renew" => "续签合同",
        "policy_save" => "保存政策",
        "setting" => "修改设置",
        "user_add" => "添加用户",
        "user_password" => "修改密码",
        _ => "",
    };
    if !named.is_empty() {
        return named.to_string();
    }
    match action.strip_prefix("import_").and_then(ImportKind::parse) {
        Some(k) => format!("导入{}", k.name_zh()),
        None => "其他操作".to_string(),
    }
}

/// What names an audit row's object: the register, the users, and the proposals' villages.
struct Names<'a> {
    regions: &'a RegionSet,
    users: BTreeMap<String, (String, &'static str)>,
    proposals: BTreeMap<i64, (String, i32)>,
}

impl Names<'_> {
    /// `东关村（131124100200）`, or the code alone when the register has no such region.
    fn village(&self, code: &str) -> String {
        let name = RegionCode::parse(code)
            .ok()
            .and_then(|c| self.regions.get(&c).map(|r| r.name.clone()));
        match name {
            Some(n) => format!("{n}（{code}）"),
            None => code.to_string(),
        }
    }

    /// `张三（zhang，乡镇经管员）`.
    fn user(&self, username: &str) -> String {
        match self.users.get(username) {
            Some((display, role)) => format!("{display}（{username}，{role}）"),
            // Written from the command line, where no web user signs in: `cli` when no name was given.
            None if username == "cli" => "命令行".to_string(),
            None => format!("{username}（命令行）"),
        }
    }

    fn object(&self, r: &AuditRow) -> String {
        let s = r.subject.as_str();
        match r.action.as_str() {
            "entry_add" | "entry_reverse" | "close_year" | "reopen_year" | "contract_add"
            | "contract_end" | "contract_renew" => self.village(s),
            "workflow_computed" => match s.split_once('/') {
                Some((v, y)) => format!("{} {y} 年", self.village(v)),
                None => self.village(s),
            },
            a if a.starts_with("workflow_") => {
                let place = s.parse().ok().and_then(|id| self.proposals.get(&id));
                match place {
                    Some((v, y)) => format!("{} {y} 年", self.village(v)),
                    None => format!("奖励方案 {s}"),
                }
            }
            a if a.starts_with("import_") => format!("文件《{s}》"),
            "policy_save" => format!("政策《{s}》"),
            "setting" if s == cunji_store::settings::SUPERVISION_PHONE => "监督电话".into(),
            "user_add" | "user_password" => format!("用户 {}", self.user(s)),
            _ => s.to_string(),
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    who: Option<String>,
    kind: Option<String>,
    village: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl AuditQuery {
    /// The filter it asks for, or what is wrong with it.
    fn filter(&self, regions: &RegionSet) -> Result<AuditFilter, String> {
        let day = |v: &Option<String>, field: &str| -> Result<Option<i64>, String> {
            text(v)
                .map(|t| {
                    Date::parse(t)
                        // Midnight in Beijing (UTC+8), in Unix seconds.
                        .map(|d| d.day_number() * 86_400 - 8 * 3600)
                        .map_err(|e| format!("{field}：{e}"))
                })
                .transpose()
        };
        let actions = match text(&self.kind) {
            None => Vec::new(),
            Some(k) => KINDS
                .iter()
                .find(|(key, _, _)| *key == k)
                .map(|(_, _, list)| list.iter().map(|a| a.to_string()).collect())
                .ok_or("没有这种操作类型")?,
        };
        Ok(AuditFilter {
            actor: text(&self.who).map(String::from),
            actions,
            village_prefix: text(&self.village)
                .map(|v| village_prefix(regions, v))
                .transpose()?,
            from: day(&self.from, "起始日期")?,
            to: day(&self.to, "截止日期")?.map(|t| t + 86_400),
        })
    }
}

/// A field's text, trimmed; `None` when empty.
fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// A village or region typed as a code or a name: its code prefix.
fn village_prefix(regions: &RegionSet, text: &str) -> Result<String, String> {
    if let Ok(code) = RegionCode::parse(text) {
        return Ok(code.prefix().to_string());
    }
    let found: Vec<&cunji_core::region::Region> = regions
        .with_prefix("")
        .filter(|r| r.level() >= Level::Township && r.name == text)
        .take(2)
        .collect();
    match found.as_slice() {
        [one] => Ok(one.code.prefix().to_string()),
        [] => Err(format!("没有名为“{text}”的村或乡镇：请填名称或 12 位代码")),
        _ => Err(format!("名为“{text}”的村不止一个：请填 12 位代码")),
    }
}

pub struct Row {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    rows: Vec<Row>,
    users: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    q: AuditQuery,
    export: String,
    limit: i64,
}

/// Whose rows a user reads: all for the county and auditors; a township's or village's rows and
/// their own for the others (without a scope, only their own).
fn scope_of(user: &User) -> Option<AuditScope> {
    match user.role {
        Role::CountyAdmin | Role::Auditor => None,
        _ => Some(AuditScope {
            prefix: user
                .scope
                .as_ref()
                .map_or_else(|| "-".to_string(), |s| s.prefix().to_string()),
            actor: user.username.clone(),
        }),
    }
}

/// The rows of the query as the page and the export show them.
async fn rows(
    state: &AppState,
    user: &User,
    q: &AuditQuery,
    limit: i64,
) -> Result<(Vec<Row>, Vec<(String, String)>, Option<String>), WebError> {
    let regions = state.regions().await?;
    let (filter, err) = match q.filter(&regions) {
        Ok(f) => (f, None),
        Err(e) => (AuditFilter::default(), Some(e)),
    };
    let found = match &err {
        None => {
            user.store(state)
                .audit_search(&filter, scope_of(user).as_ref(), limit)
                .await?
        }
        Some(_) => Vec::new(),
    };
    let ids: BTreeSet<i64> = found
        .iter()
        .filter(|r| r.action.starts_with("workflow_"))
        .filter_map(|r| r.subject.parse().ok())
        .collect();
    let users = user.store(state).users().await?;
    let names = Names {
        regions: &regions,
        users: users
            .iter()
            .map(|u| {
                (
                    u.username.clone(),
                    (u.display_name.clone(), u.role.name_zh()),
                )
            })
            .collect(),
        proposals: user
            .store(state)
            .proposal_places(&ids.into_iter().collect::<Vec<_>>())
            .await?,
    };
    let shown = found
        .iter()
        .map(|r| Row {
            id: r.id,
            at: super::workflow::when(r.at),
            actor: names.user(&r.actor),
            action: action_zh(&r.action),
            object: names.object(r),
            detail: r.detail.clone(),
        })
        .collect();
    // The “who” list names only the users within the reader's scope (and the reader): a township's
    // officer is not shown every account of the county, nor another township's.
    let choices = users
        .into_iter()
        .filter(|u| match &user.scope {
            None => true,
            Some(mine) => {
                u.username == user.username || u.scope.as_ref().is_some_and(|s| mine.contains(s))
            }
        })
        .map(|u| {
            (
                u.username.clone(),
                format!("{}（{}）", u.display_name, u.username),
            )
        })
        .collect();
    Ok((shown, choices, err))
}

pub async fn page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let (rows, users, err) = rows(&state, &user, &q, ROWS_SHOWN).await?;
    let export = serde_urlencoded::to_string([
        ("who", q.who.as_deref().unwrap_or("")),
        ("kind", q.kind.as_deref().unwrap_or("")),
        ("village", q.village.as_deref().unwrap_or("")),
        ("from", q.from.as_deref().unwrap_or("")),
        ("to", q.to.as_deref().unwrap_or("")),
    ])
    .unwrap_or_default();
    Ok(render(&AuditPage {
        layout: Layout::new("审计日志", Some(&user)).with_flash("error", err),
        rows,
        users,
        kinds: KINDS.iter().map(|(k, n, _)| (*k, *n)).collect(),
        q,
        export,
        limit: ROWS_SHOWN,
    }))
}

/// `/audit.csv`: the same rows as the page (up to `ROWS_EXPORTED`), as CSV for Excel and WPS (UTF-8
/// with a byte-order mark, CRLF).
pub async fn export(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let (rows, _, err) = rows(&state, &user, &q, ROWS_EXPORTED).await?;
    if let Some(e) = err {
        return Err(WebError::Invalid(e));
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let bad = |e: csv::Error| WebError::internal("audit export", &e);
    w.write_record(["编号", "时间", "操作人", "操作", "对象", "内容"])
        .map_err(bad)?;
    for r in rows {
        let id = r.id.to_string();
        let cells = [&id, &r.at, &r.actor, &r.action, &r.object, &r.detail];
        w.write_record(cells.map(|c| cunji_core::columns::export_cell(c).into_owned()))
            .map_err(bad)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| WebError::internal("audit export", &e.into_error()))?;
    let kind = "text/csv; charset=utf-8";
    Ok(super::downloads::download(
        bytes,
        kind,
        ("审计日志.csv", "cunji-audit.csv"),
    ))
}
