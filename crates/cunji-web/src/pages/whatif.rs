//! The what-if page: change a plan's levers — the rate (a percentage), the tiers, the cap, the gates,
//! the largest share a role may take, the appraisal multipliers — as form fields, and compare every
//! village's pool under both plans, with the change in all and by township, before saving the changed
//! plan as a new policy under a new name.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use cunji_core::cadre::Role;
use cunji_core::money::Fen;
use cunji_core::policy::Policy;
use cunji_core::rate::Ppm;
use cunji_core::report::Report;

use crate::auth::Viewer;
use crate::html::{bad_request, render, Layout, WebError};
use crate::state::AppState;

mod bands;

/// Query pairs a what-if reads at most: a plan has a handful of levers, tiers and ratings.
const PAIRS_AT_MOST: usize = 200;
/// Empty tier rows the form offers for adding tiers.
const BLANK_TIERS: usize = 2;

/// The levers as the form sends them (tiers as repeated `tier_from`/`tier_rate` fields).
#[derive(Default)]
struct Levers {
    year: Option<i32>,
    region: Option<String>,
    rate: Option<String>,
    tiers: Vec<(String, String)>,
    cap: Option<String>,
    min_level: Option<String>,
    min_base: Option<String>,
    /// `max_share.secretary` = `60`: role key, percent.
    max_share: Vec<(String, String)>,
    /// `appraisal.合格` = `100`: rating, percent.
    appraisal: Vec<(String, String)>,
    /// Each band's lower bound, each target's figure and year.
    bands: bands::BandLevers,
    /// Was anything changed (or is this the first look at the current plan)?
    asked: bool,
}

impl Levers {
    fn parse(query: Option<&str>) -> Result<Levers, WebError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|_| bad_request("测算参数有误"))?;
        if pairs.len() > PAIRS_AT_MOST {
            return Err(bad_request("测算参数过多"));
        }
        let mut l = Levers::default();
        let (mut froms, mut rates) = (Vec::new(), Vec::new());
        for (k, v) in pairs {
            match k.as_str() {
                "year" => l.year = Some(v.parse().map_err(|_| bad_request("年度有误"))?),
                "region" => l.region = Some(v),
                "rate" => l.rate = Some(v),
                "tier_from" => froms.push(v),
                "tier_rate" => rates.push(v),
                "cap" => l.cap = Some(v),
                "min_level" => l.min_level = Some(v),
                "min_base" => l.min_base = Some(v),
                _ if l.bands.take(&k, &v) => {}
                _ => match k.split_once('.') {
                    Some(("max_share", role)) => l.max_share.push((role.to_string(), v)),
                    Some(("appraisal", rating)) => l.appraisal.push((rating.to_string(), v)),
                    _ => continue,
                },
            }
            l.asked |= !matches!(k.as_str(), "year" | "region");
        }
        l.tiers = froms.into_iter().zip(rates).collect();
        Ok(l)
    }
}

/// `8` or `8%` → `8%`: a rate field is a percentage.
fn percent(field: &str, text: &str) -> Result<String, String> {
    let t = text.trim().trim_end_matches(['%', '％']).trim();
    let p = format!("{t}%");
    match Ppm::parse(&p) {
        Ok(r) if r.ppm() >= 0 && !t.is_empty() => Ok(p),
        _ => Err(format!("{field}“{text}”不是百分数：请填数字，如 8 表示 8%")),
    }
}

/// A yuan field, checked.
fn yuan(field: &str, text: &str) -> Result<toml::Value, String> {
    let t = text.trim();
    match Fen::parse_yuan(t) {
        Ok(f) if f.fen() >= 0 => Ok(toml::Value::String(t.to_string())),
        _ => Err(format!("{field}“{text}”不是金额：请填元，如 8000")),
    }
}

/// The plan's `[incentive]` with the levers applied, as TOML text; or what is wrong with a lever.
fn changed_source(source: &str, l: &Levers) -> Result<String, String> {
    let mut table: toml::Table = source
        .parse()
        .map_err(|e: toml::de::Error| e.message().to_string())?;
    l.bands.apply(&mut table)?;
    let Some(toml::Value::Table(inc)) = table.get_mut("incentive") else {
        return Err("当前政策没有激励办法".into());
    };
    if let Some(r) = l.rate.as_deref().filter(|_| !inc.contains_key("tiers")) {
        inc.insert("rate".into(), toml::Value::String(percent("比例", r)?));
    }
    if inc.contains_key("tiers") && !l.tiers.is_empty() {
        inc.insert("tiers".into(), tiers(&l.tiers)?);
    }
    for (key, field, value) in [
        ("cap", "每村封顶", &l.cap),
        ("min_level", "最低收入门槛", &l.min_level),
        ("min_base", "最低增长门槛", &l.min_base),
    ] {
        match value.as_deref().map(str::trim) {
            None => {}
            Some("") => {
                inc.remove(key);
            }
            Some(v) => {
                inc.insert(key.into(), yuan(field, v)?);
            }
        }
    }
    shares_and_ratings(inc, l)?;
    let text = toml::to_string(&table).map_err(|e| format!("无法写出调整后的政策：{e}"))?;
    Ok(with_source_note(source, &text))
}

/// `text` with the comment lines that open `source` before it: a policy file's source note (where the
/// rule was published, by whom, when) is kept when the policy is changed and saved again (issue #33:
/// saving dropped it, because a TOML table keeps no comments).
pub fn with_source_note(source: &str, text: &str) -> String {
    let note: Vec<&str> = source
        .lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        .filter(|l| !l.trim().is_empty())
        .collect();
    if note.is_empty() || text.trim_start().starts_with('#') {
        return text.to_string();
    }
    format!("{}\n{text}", note.join("\n"))
}

/// The tier rows filled in, in order; a row half filled is an error.
fn tiers(rows: &[(String, String)]) -> Result<toml::Value, String> {
    let mut out = Vec::new();
    for (i, (from, rate)) in rows.iter().enumerate() {
        match (from.trim().is_empty(), rate.trim().is_empty()) {
            (true, true) => continue,
            (false, false) => {}
            _ => return Err(format!("第 {} 档须同时填起点和比例", i + 1)),
        }
        let mut tier = toml::Table::new();
        tier.insert("from".into(), yuan(&format!("第 {} 档起点", i + 1), from)?);
        let rate = percent(&format!("第 {} 档比例", i + 1), rate)?;
        tier.insert("rate".into(), toml::Value::String(rate));
        out.push(toml::Value::Table(tier));
    }
    if out.is_empty() {
        return Err("分档办法至少要有一档".into());
    }
    Ok(toml::Value::Array(out))
}

/// `max_share` per role (an empty field removes the role's limit) and the appraisal multipliers.
fn shares_and_ratings(inc: &mut toml::Table, l: &Levers) -> Result<(), String> {
    if !l.max_share.is_empty() {
        let mut shares = toml::Table::new();
        for (role, v) in l.max_share.iter().filter(|(_, v)| !v.trim().is_empty()) {
            let r = Role::parse(role).ok_or_else(|| format!("没有“{role}”这种职务"))?;
            let field = format!("{}最多分得", r.name_zh());
            shares.insert(r.key().into(), toml::Value::String(percent(&field, v)?));
        }
        if shares.is_empty() {
            inc.remove("max_share");
        } else {
            inc.insert("max_share".into(), toml::Value::Table(shares));
        }
    }
    if !l.appraisal.is_empty() && inc.contains_key("appraisal") {
        let mut table = toml::Table::new();
        for (rating, v) in &l.appraisal {
            let field = format!("考核“{rating}”发放");
            table.insert(rating.clone(), toml::Value::String(percent(&field, v)?));
        }
        inc.insert("appraisal".into(), toml::Value::Table(table));
    }
    Ok(())
}

/// A form field: its name, label and value.
pub struct Field {
    pub name: String,
    pub label: String,
    pub value: String,
}

/// The plan's levers as form fields, showing what was typed when something was.
fn fields(plan: &cunji_core::incentive::Plan, l: &Levers) -> (Vec<Field>, Vec<(String, String)>) {
    use cunji_core::incentive::Schedule;
    let pct = |p: Ppm| p.percent().trim_end_matches('%').to_string();
    let yuan_text = |f: Option<Fen>| f.map(|f| f.json()).unwrap_or_default();
    let typed = |v: &Option<String>, shown: String| v.clone().unwrap_or(shown);
    let mut out = Vec::new();
    let mut field = |name: &str, label: String, value: String| {
        out.push(Field {
            name: name.to_string(),
            label,
            value,
        })
    };
    let tiers: Vec<(String, String)> = match &plan.schedule {
        Schedule::Flat { rate } => {
            field("rate", "比例（%）".into(), typed(&l.rate, pct(*rate)));
            Vec::new()
        }
        Schedule::Whole { tiers, .. } | Schedule::Marginal { tiers } if l.tiers.is_empty() => {
            let mut rows: Vec<(String, String)> =
                tiers.iter().map(|t| (t.from.json(), pct(t.rate))).collect();
            rows.extend((0..BLANK_TIERS).map(|_| (String::new(), String::new())));
            rows
        }
        _ => l.tiers.clone(),
    };
    field(
        "cap",
        "每村封顶（元，空为不封顶）".into(),
        typed(&l.cap, yuan_text(plan.cap)),
    );
    field(
        "min_level",
        "最低收入门槛（元）".into(),
        typed(&l.min_level, yuan_text(plan.min_level)),
    );
    field(
        "min_base",
        "最低增长门槛（元）".into(),
        typed(&l.min_base, yuan_text(plan.min_base)),
    );
    for (role, _) in plan.weights.iter().filter(|(_, w)| **w > 0) {
        let name = format!("max_share.{}", role.key());
        let shown = plan
            .max_share
            .get(role)
            .map(|p| pct(*p))
            .unwrap_or_default();
        let asked = l.max_share.iter().find(|(r, _)| r == role.key());
        let value = asked.map_or(shown, |(_, v)| v.clone());
        field(
            &name,
            format!("{}最多分得总额（%，空为不限）", role.name_zh()),
            value,
        );
    }
    for (rating, m) in plan.appraisal.iter().flatten() {
        let asked = l.appraisal.iter().find(|(r, _)| r == rating);
        let value = asked.map_or_else(|| pct(*m), |(_, v)| v.clone());
        field(
            &format!("appraisal.{rating}"),
            format!("考核“{rating}”发放（%）"),
            value,
        );
    }
    (out, tiers)
}

pub struct Compare {
    pub code: String,
    pub name: String,
    pub before: String,
    pub after: String,
    pub change: String,
}

#[derive(Template)]
#[template(path = "whatif.html")]
struct WhatIfPage {
    layout: Layout,
    year: i32,
    region: String,
    fields: Vec<Field>,
    tiers: Vec<(String, String)>,
    total_before: String,
    total_after: String,
    total_change: String,
    townships: Vec<Compare>,
    rows: Vec<Compare>,
    new_source: String,
    is_admin: bool,
    csrf: String,
    band_fields: Vec<bands::BandField>,
    target_fields: Vec<bands::TargetField>,
    /// The region's band counts and target outcomes under both plans: (name, before, after).
    band_rows: Vec<bands::Row>,
    target_rows: Vec<bands::Row>,
}

pub async fn page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let l = Levers::parse(query.as_deref())?;
    let year = l.year.unwrap_or(state.latest_year().await);
    let (stored, before) = state.policy(None).await?;
    let data = state.data(year).await?;
    let region = super::regions::chosen_region(&user, &data.regions, l.region.as_deref())?;
    let Some(plan) = &before.incentive else {
        return Err(bad_request("当前政策没有激励办法"));
    };
    let changed = l.asked.then(|| {
        changed_source(&stored.source, &l).and_then(|s| {
            Policy::parse(&s)
                .map(|p| (p, s))
                .map_err(|e| format!("调整后的政策有误：{e}"))
        })
    });
    let r_before = state.report(&before, &data, year, Some(&region)).await?;
    // An invalid lever clears the result: no total is shown for a plan that could not be read.
    let (r_after, new_source, err) = match changed {
        Some(Ok((p, s))) => (
            Some(state.report(&p, &data, year, Some(&region)).await?),
            s,
            None,
        ),
        Some(Err(e)) => (None, String::new(), Some(e)),
        None => (Some(r_before.clone()), String::new(), None),
    };
    let total = |r: &Report| {
        r.regions
            .iter()
            .find(|x| x.code == region)
            .map(|x| x.incentive_total)
            .unwrap_or_default()
    };
    let rows = compare(&r_before, r_after.as_deref(), |v| v.to_string());
    let townships = compare(&r_before, r_after.as_deref(), |v| {
        v.township().unwrap_or_else(|| v.clone()).to_string()
    });
    let (fields, tiers) = fields(plan, &l);
    let (band_fields, target_fields) = bands::fields(&before, &l.bands);
    let of_region = |r: &Report| r.regions.iter().find(|x| x.code == region).cloned();
    let (band_rows, target_rows) = match of_region(&r_before) {
        Some(b) => bands::compare(&b, r_after.as_deref().and_then(of_region).as_ref()),
        None => Default::default(),
    };
    let after = r_after.as_deref().map(total);
    let page = WhatIfPage {
        layout: Layout::new("调整测算", Some(&user)).with_flash("error", err),
        year,
        region: region.to_string(),
        fields,
        tiers,
        total_before: total(&r_before).display(),
        total_after: after.map_or_else(|| "—".into(), |a| a.display()),
        total_change: after.map_or_else(String::new, |a| change(total(&r_before), a)),
        townships: named(townships, &data.regions),
        rows: named(rows, &data.regions),
        new_source,
        is_admin: user.role == crate::auth::Role::CountyAdmin,
        csrf: user.csrf.clone(),
        band_fields,
        target_fields,
        band_rows,
        target_rows,
    };
    Ok(render(&page))
}

/// `+1,000.00` / `-500.00`, or empty when nothing changed.
fn change(before: Fen, after: Fen) -> String {
    match after.saturating_sub(before) {
        d if d.is_zero() => String::new(),
        d if d.is_positive() => format!("+{}", d.display()),
        d => d.display(),
    }
}

/// The pools under both plans, summed by `group` of each village's code (the village itself, or its
/// township), in code order. Without a plan after, its column shows a dash.
fn compare(
    before: &Report,
    after: Option<&Report>,
    group: impl Fn(&cunji_core::region::RegionCode) -> String,
) -> Vec<Compare> {
    let pool_of = |r: &Report, code: &cunji_core::region::RegionCode| {
        r.villages
            .iter()
            .find(|v| &v.code == code)
            .and_then(|v| v.incentive.as_ref())
            .map_or(Fen::ZERO, |i| i.pool)
    };
    let mut sums: std::collections::BTreeMap<String, (Fen, Fen)> = Default::default();
    for v in &before.villages {
        let e = sums.entry(group(&v.code)).or_default();
        e.0 = e.0.saturating_add(pool_of(before, &v.code));
        e.1 =
            e.1.saturating_add(after.map_or(Fen::ZERO, |a| pool_of(a, &v.code)));
    }
    sums.into_iter()
        .map(|(code, (b, a))| Compare {
            code,
            name: String::new(),
            before: b.display(),
            after: if after.is_some() {
                a.display()
            } else {
                "—".into()
            },
            change: if after.is_some() {
                change(b, a)
            } else {
                String::new()
            },
        })
        .collect()
}

/// Each row named by its region.
fn named(rows: Vec<Compare>, regions: &cunji_core::region::RegionSet) -> Vec<Compare> {
    rows.into_iter()
        .map(|mut r| {
            if let Ok(code) = cunji_core::region::RegionCode::parse(&r.code) {
                r.name = regions
                    .get(&code)
                    .map(|x| x.name.clone())
                    .unwrap_or_default();
            }
            r
        })
        .collect()
}

/// `source` with its `name` replaced by `name`, which must be new: a what-if is saved as a policy of
/// its own, not over the one it changed. `Ok(Err(message))` for a name refused.
pub async fn renamed(
    state: &AppState,
    user: &crate::auth::User,
    source: &str,
    name: &str,
) -> Result<Result<String, String>, WebError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Ok(Err("请为调整后的政策填写新名称（不超过 100 字）".into()));
    }
    if user
        .store(state)
        .policies()
        .await?
        .iter()
        .any(|p| p.name == name)
    {
        return Ok(Err(format!("已有名为“{name}”的政策，请另取一个名称")));
    }
    let mut table: toml::Table = match source.parse() {
        Ok(t) => t,
        Err(e) => return Ok(Err(format!("政策有误：{}", toml::de::Error::message(&e)))),
    };
    table.insert("name".into(), toml::Value::String(name.to_string()));
    Ok(toml::to_string(&table)
        .map(|t| with_source_note(source, &t))
        .map_err(|e| format!("无法写出政策：{e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "name = \"某县办法\"\n[incentive]\nschedule = \"whole\"\ntiers = [ { from = 0, rate = \"5%\" }, { from = 100000, rate = \"8%\" } ]\nappraisal = { \"优秀\" = 1, \"合格\" = \"0.8\" }\n";

    fn levers(query: &str) -> Levers {
        Levers::parse(Some(query)).unwrap()
    }

    #[test]
    fn the_source_note_is_kept_when_a_plan_is_changed() {
        let noted = format!("# 来源：某县农业农村局 2024-03-01 发文\n# 转载自县政府网站\n\n{PLAN}");
        let source = changed_source(&noted, &levers("cap=80000")).unwrap();
        assert!(
            source.starts_with("# 来源：某县农业农村局 2024-03-01 发文\n# 转载自县政府网站\n"),
            "{source}"
        );
        let plan = Policy::parse(&source).unwrap().incentive.unwrap();
        assert_eq!(plan.cap, Some(Fen::from_fen(8_000_000)));
    }

    #[test]
    fn tiers_shares_and_ratings_become_the_plan() {
        let q = "tier_from=0&tier_rate=6&tier_from=&tier_rate=&tier_from=200000&tier_rate=9%25&max_share.secretary=60&appraisal.%E4%BC%98%E7%A7%80=100&appraisal.%E5%90%88%E6%A0%BC=70";
        let source = changed_source(PLAN, &levers(q)).unwrap();
        let plan = Policy::parse(&source).unwrap().incentive.unwrap();
        let (fields, tiers) = fields(&plan, &Levers::default());
        assert_eq!(
            tiers[..2],
            [
                ("0.00".into(), "6".into()),
                ("200000.00".into(), "9".into())
            ]
        );
        let value = |name: &str| {
            fields
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.value.clone())
        };
        assert_eq!(value("max_share.secretary").as_deref(), Some("60"));
        assert_eq!(value("appraisal.合格").as_deref(), Some("70"));
        assert_eq!(value("appraisal.优秀").as_deref(), Some("100"));
    }

    #[test]
    fn a_bad_lever_says_which_and_why() {
        for (q, message) in [
            ("tier_from=0&tier_rate=", "第 1 档须同时填起点和比例"),
            (
                "tier_from=x&tier_rate=5",
                "第 1 档起点“x”不是金额：请填元，如 8000",
            ),
            ("tier_from=&tier_rate=", "分档办法至少要有一档"),
            ("cap=-5", "每村封顶“-5”不是金额：请填元，如 8000"),
            (
                "max_share.secretary=abc",
                "书记最多分得“abc”不是百分数：请填数字，如 8 表示 8%",
            ),
            ("max_share.king=5", "没有“king”这种职务"),
        ] {
            assert_eq!(
                changed_source(PLAN, &levers(q)).unwrap_err(),
                message,
                "{q}"
            );
        }
        assert!(Levers::parse(Some(&"rate=1&".repeat(201))).is_err());
    }
}
