//! Seals (issue #32): every row that holds a decision or a permission is bound to the audited write
//! that last changed it. That write records the row's content as it left it (`audit_seals`), and the
//! hash of everything it recorded is part of its audit row's chain hash (`seal_hash`). `cunji check`
//! then compares each row with its latest seal, so a role, a rate, a decided amount, a status, a step,
//! an appraisal or a setting changed, added or deleted directly in the database is named with what
//! changed, in Chinese.
//!
//! Rows change legitimately through later audited writes (a proposal's status moves with each step,
//! an award's decided and paid amounts are set by steps): each such write seals the rows it leaves,
//! so the latest seal is always the state the log vouches for. A workflow step also refuses to start
//! on a proposal whose rows differ from their seals, so that a later step never vouches for an edit
//! made before it (`unsealed`).

use std::collections::BTreeMap;

use sqlx::Row;

/// A table whose rows are sealed: how a row is named (its key), which rows one write seals together
/// (its scope: the condition `scope_where` on the arguments that the expression `scope` joins with
/// `|`), and its columns with their Chinese names (`true`: held as a SHA-256, for long texts and the
/// password hash).
pub(crate) struct Sealed {
    pub table: &'static str,
    pub zh: &'static str,
    key: &'static str,
    /// What each `|`-separated part of the key is, for people.
    key_names: &'static [&'static str],
    scope: &'static str,
    scope_where: &'static str,
    cols: &'static [(&'static str, &'static str, bool)],
}

pub(crate) const USERS: Sealed = Sealed {
    table: "users",
    zh: "用户",
    key: "username",
    key_names: &["用户名"],
    scope: "username",
    scope_where: "username = $1",
    cols: &[
        ("id", "编号", false),
        ("display_name", "姓名", false),
        ("password_hash", "密码", true),
        ("role", "角色", false),
        ("scope", "管辖范围", false),
    ],
};

pub(crate) const POLICIES: Sealed = Sealed {
    table: "policies",
    zh: "政策",
    key: "CAST(id AS TEXT)",
    key_names: &["版本"],
    scope: "''",
    scope_where: "1 = 1",
    cols: &[
        ("name", "名称", false),
        ("source", "政策条文（比例、档位等）", true),
        ("active", "是否当前政策", false),
        ("actor", "保存人", false),
        ("at", "保存时间", false),
    ],
};

pub(crate) const SETTINGS: Sealed = Sealed {
    table: "settings",
    zh: "县级设置",
    key: "key",
    key_names: &["设置项"],
    scope: "key",
    scope_where: "key = $1",
    cols: &[
        ("value", "值", false),
        ("actor", "经办人", false),
        ("at", "时间", false),
    ],
};

/// Each county setting's key and its Chinese name, for `check`'s messages (`settings.rs` takes its
/// keys from here, so a new setting cannot be named in English there).
pub(crate) const SETTING_NAMES: [(&str, &str); 1] = [("supervision_phone", "监督电话")];

pub(crate) const CLOSED_YEARS: Sealed = Sealed {
    table: "closed_years",
    zh: "结账",
    key: "village || '|' || CAST(year AS TEXT)",
    key_names: &["村", "年度"],
    scope: "village || '|' || CAST(year AS TEXT)",
    scope_where: "village = $1 AND year = $2",
    cols: &[("actor", "经办人", false), ("at", "时间", false)],
};

pub(crate) const CADRES: Sealed = Sealed {
    table: "cadres",
    zh: "村干部",
    key: "village || '|' || CAST(year AS TEXT) || '|' || person",
    key_names: &["村", "年度", "人员"],
    scope: "village || '|' || CAST(year AS TEXT)",
    scope_where: "village = $1 AND year = $2",
    cols: &[
        ("name", "姓名", false),
        ("role", "职务", false),
        ("months_in_post", "任职月数", false),
        ("sanctioned", "受处分", false),
        ("base_pay", "基本报酬（分）", false),
        ("appraisal", "考核等次", false),
    ],
};

pub(crate) const STATS: Sealed = Sealed {
    table: "stats",
    zh: "县级统计",
    key: "region || '|' || CAST(year AS TEXT)",
    key_names: &["地区", "年度"],
    scope: "region || '|' || CAST(year AS TEXT)",
    scope_where: "region = $1 AND year = $2",
    cols: &[("rural_income", "农村居民人均可支配收入（分）", false)],
};

pub(crate) const PROPOSALS: Sealed = Sealed {
    table: "proposals",
    zh: "奖励方案",
    key: "CAST(id AS TEXT)",
    key_names: &["编号"],
    scope: "CAST(id AS TEXT)",
    scope_where: "id = $1",
    cols: &[
        ("village", "村", false),
        ("year", "年度", false),
        ("policy_id", "政策版本", false),
        ("status", "状态", false),
        ("pool", "奖励总额上限（分）", false),
        ("figures", "账目指纹", false),
        ("trace", "计算说明", true),
        ("story", "公开的计算说明", true),
        ("computed_at", "计算时间", false),
        ("published_at", "公示时间", false),
        ("measure", "口径数值（分）", false),
        ("base", "基数（分）", false),
    ],
};

pub(crate) const AWARDS: Sealed = Sealed {
    table: "proposal_awards",
    zh: "奖励金额",
    key: "CAST(proposal_id AS TEXT) || '|' || person",
    key_names: &["奖励方案", "人员"],
    scope: "CAST(proposal_id AS TEXT)",
    scope_where: "proposal_id = $1",
    cols: &[
        ("name", "姓名", false),
        ("role", "职务", false),
        ("computed", "计算金额（分）", false),
        ("decided", "决定金额（分）", false),
        ("paid", "发放金额（分）", false),
        ("recovered", "追回金额（分）", false),
    ],
};

pub(crate) const STEPS: Sealed = Sealed {
    table: "proposal_steps",
    zh: "审批步骤",
    key: "CAST(id AS TEXT)",
    key_names: &["编号"],
    scope: "CAST(proposal_id AS TEXT)",
    scope_where: "proposal_id = $1",
    cols: &[
        ("proposal_id", "奖励方案", false),
        ("step", "步骤", false),
        ("actor", "经办人", false),
        ("at", "时间", false),
        ("detail", "说明", false),
        ("data", "数据", false),
    ],
};

pub(crate) const RESOLUTIONS: Sealed = Sealed {
    table: "proposal_resolutions",
    zh: "村级决议",
    key: "CAST(step_id AS TEXT)",
    key_names: &["步骤"],
    scope: "CAST(proposal_id AS TEXT)",
    scope_where: "proposal_id = $1",
    cols: &[
        ("proposal_id", "奖励方案", false),
        ("proposed", "提议日期", false),
        ("discussed", "商议日期", false),
        ("reviewed", "审议日期", false),
        ("decided", "决议日期", false),
        ("body", "决议机构", false),
        ("count_by", "计数方式", false),
        ("members", "应到", false),
        ("present", "实到", false),
        ("votes_for", "赞成", false),
        ("votes_against", "反对", false),
        ("votes_abstain", "弃权", false),
        ("published", "决议公开日期", false),
    ],
};

/// The asset register (SPEC §16): every version of every asset, scoped by the asset.
pub(crate) const ASSETS: Sealed = Sealed {
    table: "assets",
    zh: "资产台账",
    key: "village || '|' || asset_id || '|' || CAST(version AS TEXT)",
    key_names: &["村", "资产编号", "版本"],
    scope: "village || '|' || asset_id",
    scope_where: "village = $1 AND asset_id = $2",
    cols: &[
        ("kind", "类别", false),
        ("name", "名称", false),
        ("quantity", "数量（百分之一单位）", false),
        ("unit", "单位", false),
        ("original_value", "原值（分）", false),
        ("acquired", "取得日期", false),
        ("grant_id", "资金编号", false),
        ("status", "状态", false),
        ("audit_id", "写入的审计记录", false),
    ],
};

/// Contracts (SPEC §16): every version, scoped by the contract. The counterparty's id number is
/// held as a SHA-256, so that `check` never prints it.
pub(crate) const CONTRACTS: Sealed = Sealed {
    table: "contracts",
    zh: "合同",
    key: "village || '|' || contract_id || '|' || CAST(version AS TEXT)",
    key_names: &["村", "合同编号", "版本"],
    scope: "village || '|' || contract_id",
    scope_where: "village = $1 AND contract_id = $2",
    cols: &[
        ("counterparty", "对方", false),
        ("counterparty_id", "对方证件号码", true),
        ("asset_id", "资产编号", false),
        ("kind", "类别", false),
        ("signed", "签订日期", false),
        ("start_date", "起始日期", false),
        ("end_date", "终止日期", false),
        ("resolution", "决议日期", false),
        ("annual_rent", "年租金（分）", false),
        ("due_day", "每年应收日", false),
        ("step_years", "递增年限", false),
        ("step_rate", "递增比例（百万分之）", false),
        ("account", "科目", false),
        ("audit_id", "写入的审计记录", false),
    ],
};

/// A contract's installments (SPEC §16): every version of every set, scoped by the contract.
pub(crate) const INSTALLMENTS: Sealed = Sealed {
    table: "installments",
    zh: "分期应收",
    key:
        "village || '|' || contract_id || '|' || CAST(version AS TEXT) || '|' || CAST(seq AS TEXT)",
    key_names: &["村", "合同编号", "版本", "序号"],
    scope: "village || '|' || contract_id",
    scope_where: "village = $1 AND contract_id = $2",
    cols: &[
        ("due_date", "应收日期", false),
        ("amount", "金额（分）", false),
        ("audit_id", "写入的审计记录", false),
    ],
};

/// The receipts on contracts an entries import writes beside its entries (SPEC §16): they make a
/// contract's received and arrears. Keyed by the village, the audit row that wrote them and their
/// number in that write; a `seq` emptied directly still makes a key (the row is then found added).
pub(crate) const RECEIPTS: Sealed = Sealed {
    table: "contract_receipts",
    zh: "合同收款",
    key: "village || '|' || CAST(audit_id AS TEXT) || '|' || COALESCE(CAST(seq AS TEXT), '')",
    key_names: &["村", "审计记录", "序号"],
    scope: "village || '|' || contract_id",
    scope_where: "village = $1 AND contract_id = $2",
    cols: &[
        ("contract_id", "合同编号", false),
        ("entry_date", "日期", false),
        ("year", "年度", false),
        ("account", "科目", false),
        ("amount", "金额（分）", false),
        ("voucher", "凭证号", false),
        ("import_id", "导入批次", false),
    ],
};

/// Every sealed table, in the order `check` reports them: those of migration 16, then those of 18,
/// then 19's receipts, so that a table added to any of them is checked without a list to keep in step.
pub(crate) const ALL: [&Sealed; 14] = joined(&[&BEFORE_CONTRACTS, &CONTRACT_TABLES, &[&RECEIPTS]]);

/// The lists of `parts` one after the other; a wrong `N` fails the build (index out of bounds).
const fn joined<const N: usize>(parts: &[&[&'static Sealed]]) -> [&'static Sealed; N] {
    let mut out = [&USERS; N];
    let (mut i, mut part, mut at) = (0, 0, 0);
    while part < parts.len() {
        if at < parts[part].len() {
            out[i] = parts[part][at];
            i += 1;
            at += 1;
        } else {
            part += 1;
            at = 0;
        }
    }
    assert!(i == N, "ALL's length is the sum of its parts");
    out
}

/// The tables sealed from migration 16, which came before the contract tables (migration 17).
pub(crate) const BEFORE_CONTRACTS: [&Sealed; 10] = [
    &USERS,
    &POLICIES,
    &SETTINGS,
    &CLOSED_YEARS,
    &CADRES,
    &STATS,
    &PROPOSALS,
    &AWARDS,
    &STEPS,
    &RESOLUTIONS,
];

/// The tables of §16, sealed from migration 18.
pub(crate) const CONTRACT_TABLES: [&Sealed; 3] = [&ASSETS, &CONTRACTS, &INSTALLMENTS];

/// The tables of one reward proposal, all scoped by its id.
pub(crate) const PROPOSAL_TABLES: [&Sealed; 4] = [&PROPOSALS, &AWARDS, &STEPS, &RESOLUTIONS];

/// An argument of a scope's condition.
#[derive(Clone, Debug)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

impl Arg {
    fn text(&self) -> String {
        match self {
            Arg::Text(t) => t.clone(),
            Arg::Int(n) => n.to_string(),
        }
    }
}

/// A row as sealed: its scope and its content (canonical JSON of its columns).
struct Current {
    scope: String,
    content: String,
}

/// The latest seal of a row: the audit row that wrote it and the content (`None`: deleted).
struct Latest {
    audit_id: i64,
    scope: String,
    content: Option<String>,
}

fn select_sql(t: &Sealed, filter: Option<&str>) -> String {
    let cols: Vec<String> = t
        .cols
        .iter()
        .map(|(c, _, _)| format!("CAST({c} AS TEXT)"))
        .collect();
    let filter = filter.map(|f| format!(" WHERE {f}")).unwrap_or_default();
    format!(
        "SELECT {}, {}, {} FROM {}{filter}",
        t.key,
        t.scope,
        cols.join(", "),
        t.table
    )
}

/// A row's seal content: its sealed columns' text (`CAST … AS TEXT`), in `t.cols` order, as JSON
/// by column name; a hashed column held as its SHA-256.
fn content_of(t: &Sealed, values: impl Iterator<Item = Option<String>>) -> String {
    let content: BTreeMap<&str, Option<String>> = t
        .cols
        .iter()
        .zip(values)
        .map(|((col, _, hashed), v)| {
            let v = if *hashed {
                v.map(|v| super::sha256_hex(&v))
            } else {
                v
            };
            (*col, v)
        })
        .collect();
    serde_json::to_string(&content).expect("plain values")
}

/// The rows of `t` (those of one scope with `args`), by key.
async fn current<'e, E>(
    db: E,
    t: &Sealed,
    args: Option<&[Arg]>,
) -> Result<BTreeMap<String, Current>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let filter = args.map(|_| t.scope_where);
    current_where(db, t, filter, args.unwrap_or_default()).await
}

/// The rows of `t` meeting `filter` (none: every row) on `args`, by key.
async fn current_where<'e, E>(
    db: E,
    t: &Sealed,
    filter: Option<&str>,
    args: &[Arg],
) -> Result<BTreeMap<String, Current>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut q = sqlx::query(sqlx::AssertSqlSafe(select_sql(t, filter)));
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s.clone()),
            Arg::Int(n) => q.bind(*n),
        };
    }
    let mut out = BTreeMap::new();
    for r in q.fetch_all(db).await? {
        let values = (0..t.cols.len())
            .map(|i| r.try_get::<Option<String>, _>(2 + i))
            .collect::<Result<Vec<_>, _>>()?;
        out.insert(
            r.try_get(0)?,
            Current {
                scope: r.try_get(1)?,
                content: content_of(t, values.into_iter()),
            },
        );
    }
    Ok(out)
}

/// The latest seal of each row of `t` (of one scope), by key.
async fn latest<'e, E>(
    db: E,
    t: &Sealed,
    scope: Option<&str>,
) -> Result<BTreeMap<String, Latest>, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = match scope {
        Some(s) => {
            sqlx::query("SELECT row_key, audit_id, content, scope FROM audit_seals WHERE tbl = $1 AND scope = $2 ORDER BY id")
                .bind(t.table)
                .bind(s)
                .fetch_all(db)
                .await?
        }
        None => {
            sqlx::query(
                "SELECT row_key, audit_id, content, scope FROM audit_seals WHERE tbl = $1 ORDER BY id",
            )
            .bind(t.table)
            .fetch_all(db)
            .await?
        }
    };
    let mut out = BTreeMap::new();
    for r in rows {
        out.insert(
            r.try_get(0)?,
            Latest {
                audit_id: r.try_get(1)?,
                content: r.try_get(2)?,
                scope: r.try_get(3)?,
            },
        );
    }
    Ok(out)
}

/// The rows of `t` in the scope of `args` (every row with `None`) as they stand and as their latest
/// seals say, with the scope's text (`village|year`, …) that the seals are filed under.
async fn standing(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    t: &Sealed,
    args: Option<&[Arg]>,
) -> Result<Rows, sqlx::Error> {
    let scope = args.map(|a| a.iter().map(Arg::text).collect::<Vec<_>>().join("|"));
    let now = current(&mut **tx, t, args).await?;
    let before = latest(&mut **tx, t, scope.as_deref()).await?;
    Ok((scope, now, before))
}

/// What `standing` gives.
type Rows = (
    Option<String>,
    BTreeMap<String, Current>,
    BTreeMap<String, Latest>,
);

/// Seals the rows of `t` in the scope of `args` (every row with `None`) as they now stand, into audit
/// row `audit_id`, which must be the newest (its chain hash is recomputed with the seals). Only rows
/// that differ from their latest seal are written, and a row the write deleted is sealed as deleted.
pub(crate) async fn seal(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    t: &Sealed,
    args: Option<&[Arg]>,
) -> Result<(), sqlx::Error> {
    if seal_rows(tx, audit_id, t, args).await? {
        rehash(tx, audit_id).await?;
    }
    Ok(())
}

/// Seals the rows of `t` in each of `scopes` (an import's village-years) into audit row `audit_id`,
/// its hash recomputed once at the end: once a scope, it made an import of 1,200 cadres take 3.8 s.
pub(crate) async fn seal_each(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    t: &Sealed,
    scopes: &[Vec<Arg>],
) -> Result<(), sqlx::Error> {
    let mut written = false;
    for args in scopes {
        written |= seal_rows(tx, audit_id, t, Some(args)).await?;
    }
    if written {
        rehash(tx, audit_id).await?;
    }
    Ok(())
}

/// Writes the seals of `seal`; whether any was written (the audit row's hash is then stale).
async fn seal_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    t: &Sealed,
    args: Option<&[Arg]>,
) -> Result<bool, sqlx::Error> {
    let (scope, now, before) = standing(tx, t, args).await?;
    let mut written = false;
    for (key, row) in &now {
        if before.get(key).and_then(|l| l.content.as_deref()) != Some(row.content.as_str()) {
            insert(tx, audit_id, t, key, &row.scope, Some(&row.content)).await?;
            written = true;
        }
    }
    for (key, l) in &before {
        if l.content.is_some() && !now.contains_key(key) {
            let scope = scope.clone().unwrap_or_else(|| l.scope.clone());
            insert(tx, audit_id, t, key, &scope, None).await?;
            written = true;
        }
    }
    Ok(written)
}

/// One seal row, as SQLite's bulk write prepares it once.
const INSERT_SEAL: &std::ffi::CStr =
    c"INSERT INTO audit_seals (audit_id, tbl, row_key, scope, content) VALUES (?1, ?2, ?3, ?4, ?5)";

/// Seals the rows of `tables` that audit row `audit_id` wrote (their `audit_id` column): tables
/// that are only appended to (a changed contract is a new version), so each row written is new and
/// needs no comparison with older seals. The seals are written a batch of rows per statement and
/// the audit row's hash recomputed once (an import of 150,000 contracts).
pub(crate) async fn seal_written(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    tables: &[&Sealed],
) -> Result<(), sqlx::Error> {
    let mut written = false;
    for t in tables {
        let rows =
            current_where(&mut **tx, t, Some("audit_id = $1"), &[Arg::Int(audit_id)]).await?;
        let seals: Vec<Seal> = rows
            .into_iter()
            .map(|(key, row)| Seal {
                key,
                scope: row.scope,
                content: row.content,
            })
            .collect();
        written |= write_seals(tx, audit_id, t, seals).await?;
    }
    if written {
        rehash(tx, audit_id).await?;
    }
    Ok(())
}

/// A seal as written: the row's key, its scope and its content (JSON of the sealed columns).
struct Seal {
    key: String,
    scope: String,
    content: String,
}

/// Seals the rows of `t` that audit row `audit_id` has just written, from their values in memory
/// rather than read back (reading back 150,163 contracts through sqlx, then their seals to hash
/// them, was 3.9 of an import's 6.6 s). `rows`: each the values of the table's insert, which begin
/// with village, id and version and go on with `t`'s sealed columns in order (a test holds the
/// inserts to it). Only for an audit row that seals nothing else: its seal hash is made from these.
pub(crate) async fn seal_new_rows(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    t: &Sealed,
    rows: &[Vec<crate::backend::sqlite_bulk::Value>],
) -> Result<(), sqlx::Error> {
    use crate::backend::sqlite_bulk::Value;
    let text = |v: &Value| match v {
        Value::Null => None,
        Value::Int(n) => Some(n.to_string()),
        Value::Text(s) => Some(s.clone()),
        Value::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
    };
    let timer = crate::timing::Timer::start();
    let seal = |v: &Vec<Value>| {
        let part = |i: usize| text(&v[i]).unwrap_or_default();
        let scope = format!("{}|{}", part(0), part(1));
        Seal {
            key: format!("{scope}|{}", part(2)),
            scope,
            content: content_of(t, v[3..].iter().map(text)),
        }
    };
    // Made on every core: a hash and a JSON text a row.
    let mut seals: Vec<Seal> = cunji_core::parallel::map_in_parts(rows, seal)
        .into_iter()
        .flatten()
        .collect();
    // In key order, as `current_where`'s map gives them to `seal_written` (keys are unique).
    seals.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    let lines: String = seals
        .iter()
        .map(|s| seal_line(t.table, &s.key, &s.scope, Some(&s.content)))
        .collect();
    timer.lap("write: seals made");
    if write_seals(tx, audit_id, t, seals).await? {
        let seal_hash = super::sha256_hex(&lines);
        super::rewrite_newest(tx, audit_id, None, None, Some(&seal_hash)).await?;
    }
    Ok(())
}

/// Writes `seals` of table `t` under audit row `audit_id`, in order (their ids, which `rehash`
/// reads them by); whether there were any.
async fn write_seals(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    t: &Sealed,
    seals: Vec<Seal>,
) -> Result<bool, sqlx::Error> {
    use crate::backend::insert::{Insert, Kind};
    use crate::backend::sqlite_bulk::Value;
    const INSERT: Insert = Insert {
        native: INSERT_SEAL,
        head: "INSERT INTO audit_seals (audit_id, tbl, row_key, scope, content) VALUES",
        tail: "",
        columns: &[Kind::Int, Kind::Text, Kind::Text, Kind::Text, Kind::Text],
    };
    if seals.is_empty() {
        return Ok(false);
    }
    let rows = seals
        .into_iter()
        .map(|s| {
            vec![
                Value::Text(t.table.to_string()),
                Value::Text(s.key),
                Value::Text(s.scope),
                Value::Text(s.content),
            ]
        })
        .collect();
    let backend = crate::backend::Backend::of(tx);
    backend
        .insert_rows(tx, &INSERT, Value::Int(audit_id), rows)
        .await?;
    Ok(true)
}

/// Refuses (`StoreError::Conflict`) when rows of `t` in any of `scopes` (each the scope's text,
/// `village|id`) differ from their seals: per scope for a few, in one pass over the table for an
/// import's many (what the importer already reads).
pub(crate) async fn refuse_unsealed_scopes(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    t: &Sealed,
    scopes: &std::collections::BTreeSet<(String, String)>,
) -> Result<(), crate::db::StoreError> {
    /// Up to this many scopes are checked one by one.
    const FEW: usize = 32;
    let mut changed = Vec::new();
    if scopes.len() <= FEW {
        for (a, b) in scopes {
            let args = [Arg::Text(a.clone()), Arg::Text(b.clone())];
            changed.extend(unsealed(tx, t, Some(&args)).await?);
        }
    } else {
        let wanted: std::collections::HashSet<String> =
            scopes.iter().map(|(a, b)| format!("{a}|{b}")).collect();
        let mut now = current(&mut **tx, t, None).await?;
        now.retain(|_, r| wanted.contains(&r.scope));
        let mut before = latest(&mut **tx, t, None).await?;
        before.retain(|_, l| wanted.contains(&l.scope));
        compare(t, &now, &before, &mut changed);
    }
    refuse(t, &changed)
}

/// The newest audit row: the one a transaction holding the write lock wrote last.
pub(crate) async fn newest(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COALESCE(MAX(id), 0) FROM audit_log")
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)
}

/// Seals every table of proposal `id` into audit row `audit_id`.
pub(crate) async fn seal_proposal(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    id: i64,
) -> Result<(), sqlx::Error> {
    seal_proposals(tx, audit_id, &[id]).await
}

/// Seals every table of each proposal of `ids` into audit row `audit_id`, its hash recomputed once
/// (an import may send back a province's open proposals).
pub(crate) async fn seal_proposals(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    let mut written = false;
    for id in ids {
        for t in PROPOSAL_TABLES {
            written |= seal_rows(tx, audit_id, t, Some(&[Arg::Int(*id)])).await?;
        }
    }
    if written {
        rehash(tx, audit_id).await?;
    }
    Ok(())
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
    t: &Sealed,
    key: &str,
    scope: &str,
    content: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_seals (audit_id, tbl, row_key, scope, content) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(audit_id)
    .bind(t.table)
    .bind(key)
    .bind(scope)
    .bind(content)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The line of a seal in its audit row's seal hash.
fn seal_line(table: &str, key: &str, scope: &str, content: Option<&str>) -> String {
    match content {
        Some(c) => format!("{table}\t{key}\t{scope}\t+{c}\n"),
        None => format!("{table}\t{key}\t{scope}\t-\n"),
    }
}

/// Recomputes audit row `audit_id`'s seal hash from its seals, and so its chain hash
/// (`rewrite_newest`: the row must be the head).
async fn rehash(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    audit_id: i64,
) -> Result<(), sqlx::Error> {
    let mut text = String::new();
    for r in sqlx::query(
        "SELECT tbl, row_key, scope, content FROM audit_seals WHERE audit_id = $1 ORDER BY id",
    )
    .bind(audit_id)
    .fetch_all(&mut **tx)
    .await?
    {
        let content: Option<String> = r.try_get(3)?;
        text.push_str(&seal_line(
            &r.try_get::<String, _>(0)?,
            &r.try_get::<String, _>(1)?,
            &r.try_get::<String, _>(2)?,
            content.as_deref(),
        ));
    }
    let seal_hash = super::sha256_hex(&text);
    super::rewrite_newest(tx, audit_id, None, None, Some(&seal_hash)).await
}

/// Accepts the rows as they now stand after a direct edit was looked into (`cunji audit accept`): every
/// difference from the seals is written into one audit row (`seal_accept`) with the reason, and the
/// rows are sealed as they stand. The differences accepted, in Chinese (none: nothing written).
pub(crate) async fn accept(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &str,
    reason: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let mut changed = Vec::new();
    for t in ALL {
        changed.extend(unsealed(tx, t, None).await?);
    }
    if changed.is_empty() {
        return Ok(changed);
    }
    let detail = format!(
        "确认直接改库后的现状，理由：{reason}。确认的改动：{}",
        changed.join("；")
    );
    let id = super::write(tx, actor, "seal_accept", "", &detail).await?;
    let mut written = false;
    for t in ALL {
        written |= seal_rows(tx, id, t, None).await?;
    }
    if written {
        rehash(tx, id).await?;
    }
    Ok(changed)
}

/// At migration 16 (`BEFORE_CONTRACTS`), 18 (`CONTRACT_TABLES`) and 19 (`RECEIPTS`): seals every row of `tables`
/// stored before it into one audit row (none when there is none).
pub(crate) async fn baseline(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    tables: &[&Sealed],
) -> Result<(), sqlx::Error> {
    let mut counts = Vec::new();
    for t in tables {
        let sql = format!("SELECT COUNT(*) FROM {}", t.table);
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
        if n > 0 {
            counts.push(format!("{}{n} 行", t.zh));
        }
    }
    if counts.is_empty() {
        return Ok(());
    }
    let detail = format!(
        "升级：封存已有记录的内容（{}），此后直接改库都能查出",
        counts.join("、")
    );
    let id = super::write(tx, "cunji", "seal_baseline", "", &detail).await?;
    for t in tables {
        seal(tx, id, t, None).await?;
    }
    Ok(())
}

/// Whether the rows of proposal `id` still stand as their seals say (empty) or what differs: a step
/// refuses to start on a proposal changed behind the log's back, which it would otherwise vouch for.
pub(crate) async fn unsealed_proposal(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::new();
    let args = [Arg::Int(id)];
    for t in PROPOSAL_TABLES {
        out.extend(unsealed(tx, t, Some(&args)).await?);
    }
    Ok(out)
}

/// What differs from their seals among the rows of `t` in the scope of `args` (every row with
/// `None`): a write that would seal them refuses first (`refuse_unsealed`).
pub(crate) async fn unsealed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    t: &Sealed,
    args: Option<&[Arg]>,
) -> Result<Vec<String>, sqlx::Error> {
    let (_, now, before) = standing(tx, t, args).await?;
    let mut out = Vec::new();
    compare(t, &now, &before, &mut out);
    Ok(out)
}

/// The refusal of a write about to seal rows that were changed behind the log's back: sealing them
/// as they stand would vouch for the edit (a role raised, then the password changed; a policy's rate
/// changed, then a new version saved). Nothing is written; `cunji check` names the edit.
pub(crate) fn refusal(what: &str, changed: &[String]) -> Option<String> {
    (!changed.is_empty()).then(|| {
        format!(
            "{what}的记录被直接改过（未经程序），为免替改动背书，本次未写入任何数据（请县级管理员运行 cunji check 查明）：{}",
            changed.join("；")
        )
    })
}

/// `refusal` as the error a write returns.
fn refuse(t: &Sealed, changed: &[String]) -> Result<(), crate::db::StoreError> {
    match refusal(t.zh, changed) {
        Some(m) => Err(crate::db::StoreError::Conflict(m)),
        None => Ok(()),
    }
}

/// Refuses (`StoreError::Conflict`) when rows of `t` in the scope of `args` differ from their seals.
pub(crate) async fn refuse_unsealed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    t: &Sealed,
    args: Option<&[Arg]>,
) -> Result<(), crate::db::StoreError> {
    let changed = unsealed(tx, t, args).await?;
    refuse(t, &changed)
}

/// `refuse_unsealed` for each scope of an import (its village-years), every difference listed.
pub(crate) async fn refuse_unsealed_each(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    t: &Sealed,
    scopes: &[Vec<Arg>],
) -> Result<(), crate::db::StoreError> {
    let mut changed = Vec::new();
    for args in scopes {
        changed.extend(unsealed(tx, t, Some(args)).await?);
    }
    refuse(t, &changed)
}

/// Every row of every sealed table against its latest seal, and every audit row's seals against
/// its seal hash: each difference in Chinese, naming the table, the row and what changed.
pub(crate) async fn verify(
    pool: &sqlx::AnyPool,
    audited: &BTreeMap<i64, &super::AuditRow>,
    problems: &mut Vec<String>,
) -> Result<(), sqlx::Error> {
    let mut lines: BTreeMap<i64, String> = BTreeMap::new();
    for r in
        sqlx::query("SELECT audit_id, tbl, row_key, scope, content FROM audit_seals ORDER BY id")
            .fetch_all(pool)
            .await?
    {
        let content: Option<String> = r.try_get(4)?;
        lines.entry(r.try_get(0)?).or_default().push_str(&seal_line(
            &r.try_get::<String, _>(1)?,
            &r.try_get::<String, _>(2)?,
            &r.try_get::<String, _>(3)?,
            content.as_deref(),
        ));
    }
    for (a, text) in &lines {
        match audited.get(a) {
            Some(r) if r.seal_hash == super::sha256_hex(text) => {}
            Some(r) => problems.push(format!(
                "审计记录 #{a}（{} {}）封存的记录内容被改动、删除或增加（audit_seals 表被直接改过）",
                r.action, r.subject
            )),
            None => problems.push(format!(
                "audit_seals 表中有指向不存在的审计记录 #{a} 的封存内容（审计记录被删除或封存内容被伪造）"
            )),
        }
    }
    for r in audited.values() {
        if !r.seal_hash.is_empty() && !lines.contains_key(&r.id) {
            problems.push(format!(
                "审计记录 #{}（{} {}）封存的记录内容已全部被删除（audit_seals 表被直接改过）",
                r.id, r.action, r.subject
            ));
        }
    }
    for t in ALL {
        let now = current(pool, t, None).await?;
        let before = latest(pool, t, None).await?;
        compare(t, &now, &before, problems);
    }
    Ok(())
}

/// The differences between rows as they stand and as their latest seals say, in Chinese.
fn compare(
    t: &Sealed,
    now: &BTreeMap<String, Current>,
    before: &BTreeMap<String, Latest>,
    out: &mut Vec<String>,
) {
    // The table's Chinese name only: the English one is for developers (`docs/security.md` lists both).
    let name = |key: &str| format!("{}表中 {} 这一行", t.zh, key_zh(t, key));
    for (key, row) in now {
        match before.get(key) {
            Some(Latest {
                content: Some(c),
                audit_id,
                ..
            }) if *c != row.content => out.push(format!(
                "{}被直接改动（未经程序，不在审计日志中；最后一次记录的写入是审计记录 #{audit_id}）：{}",
                name(key),
                changes(t, c, &row.content)
            )),
            Some(Latest {
                content: Some(_), ..
            }) => {}
            Some(Latest {
                content: None,
                audit_id,
                ..
            }) => out.push(format!(
                "{}在审计记录 #{audit_id} 中已删除，却又出现在数据库中（被直接插入）",
                name(key)
            )),
            None => out.push(format!(
                "{}没有对应的审计记录（绕过程序直接写入）：{}",
                name(key),
                shown(t, &row.content)
            )),
        }
    }
    for (key, l) in before {
        if let (Some(c), false) = (&l.content, now.contains_key(key)) {
            out.push(format!(
                "{}被直接删除（审计记录 #{} 记录的内容：{}）",
                name(key),
                l.audit_id,
                shown(t, c)
            ));
        }
    }
}

/// A row's key for people: `村 110101001001、年度 2024、人员 P1`.
fn key_zh(t: &Sealed, key: &str) -> String {
    let parts: Vec<&str> = key.split('|').collect();
    if parts.len() != t.key_names.len() {
        return key.to_string();
    }
    t.key_names
        .iter()
        .zip(parts)
        .map(|(n, v)| {
            let setting = SETTING_NAMES
                .iter()
                .find(|(k, _)| t.table == "settings" && *k == v);
            format!("{n} {}", setting.map_or(v, |(_, zh)| zh))
        })
        .collect::<Vec<_>>()
        .join("、")
}

fn fields(content: &str) -> BTreeMap<String, Option<String>> {
    serde_json::from_str(content).unwrap_or_default()
}

/// A stored value as the pages name it: money in yuan, and the keys of roles, statuses, steps,
/// kinds and accounts by their Chinese names (`check` is read by a county's staff, not developers).
/// A value that is not what its column holds (the edit being reported may be just that) stays as
/// stored.
fn value_zh(t: &Sealed, col: &str, zh: &str, v: Option<&Option<String>>) -> String {
    let Some(Some(s)) = v else {
        return "空".to_string();
    };
    format!(
        "“{}”",
        plain(t.table, col, zh, s).unwrap_or_else(|| s.clone())
    )
}

fn plain(table: &str, col: &str, zh: &str, s: &str) -> Option<String> {
    use cunji_core::contracts::{AssetKind, AssetStatus, ContractKind};
    let name = |n: &'static str| Some(n.to_string());
    if zh.ends_with("（分）") {
        return s
            .parse::<i64>()
            .ok()
            .map(|f| format!("{} 元", cunji_core::money::Fen::from_fen(f).display()));
    }
    match (table, col) {
        ("users", "role") => cunji_core::access::Role::parse(s).and_then(|r| name(r.name_zh())),
        (_, "role") => cunji_core::cadre::Role::parse(s).and_then(|r| name(r.name_zh())),
        (_, "sanctioned" | "active") => {
            cunji_core::cadre::parse_bool(s).map(|b| if b { "是" } else { "否" }.to_string())
        }
        ("proposals", "status") => {
            cunji_core::workflow::Status::parse(s).and_then(|x| name(x.name_zh()))
        }
        ("proposal_steps", "step") => Some(cunji_core::workflow::history_name_zh(s).to_string()),
        ("assets", "kind") => AssetKind::parse(s).and_then(|x| name(x.name_zh())),
        ("assets", "status") => AssetStatus::parse(s).and_then(|x| name(x.name_zh())),
        ("contracts", "kind") => ContractKind::parse(s).and_then(|x| name(x.name_zh())),
        (_, "account") => {
            cunji_core::account::Account::from_key_or_name(s).and_then(|a| name(a.name_zh()))
        }
        _ => None,
    }
}

/// Each column that differs: `角色 由“township_officer”改为“county_admin”`.
fn changes(t: &Sealed, sealed: &str, now: &str) -> String {
    let (a, b) = (fields(sealed), fields(now));
    let each: Vec<String> = t
        .cols
        .iter()
        .filter(|(c, _, _)| a.get(*c) != b.get(*c))
        .map(|(c, zh, hashed)| {
            if *hashed {
                format!("{zh}被改动")
            } else {
                let label = zh.trim_end_matches("（分）");
                let (was, now) = (value_zh(t, c, zh, a.get(*c)), value_zh(t, c, zh, b.get(*c)));
                format!("{label} 由{was}改为{now}")
            }
        })
        .collect();
    if each.is_empty() {
        "内容与封存的不同".to_string()
    } else {
        each.join("，")
    }
}

/// A row's content for a person to read (long texts left out).
fn shown(t: &Sealed, content: &str) -> String {
    let f = fields(content);
    t.cols
        .iter()
        .filter(|(_, _, hashed)| !hashed)
        .map(|(c, zh, _)| {
            let label = zh.trim_end_matches("（分）");
            format!("{label} {}", value_zh(t, c, zh, f.get(*c)))
        })
        .collect::<Vec<_>>()
        .join("，")
}

#[cfg(test)]
mod tests {
    /// `seal_new_rows` reads a native insert's values as village, id, version, then the table's
    /// sealed columns in order: the contracts' insert must list its columns so.
    #[test]
    fn the_contracts_native_insert_lists_the_sealed_columns_after_the_key() {
        let sql = crate::contracts::INSERT_CONTRACT_NATIVE.to_str().unwrap();
        let open = sql.find('(').unwrap();
        let close = sql.find(')').unwrap();
        let cols: Vec<&str> = sql[open + 1..close].split(',').map(str::trim).collect();
        let sealed: Vec<&str> = super::CONTRACTS.cols.iter().map(|(c, _, _)| *c).collect();
        assert_eq!(cols[..3], ["village", "contract_id", "version"]);
        assert_eq!(cols[3..], sealed[..]);
    }
}
