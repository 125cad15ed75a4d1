//! Cadre pay floors for a region (SPEC §12): every covered cadre below the floor, and those whose
//! standing cannot be known, so that nobody silently passes; the shortfalls in all and by township,
//! and the same lines as CSV.

use crate::html::Shown;
use askama::Template;
use axum::response::Response;
use cunji_core::pay_floor::{FloorLine, Tally};
use cunji_core::policy::Policy;

use crate::html::{render, Layout, WebError};

pub struct Line {
    pub village: String,
    pub village_name: String,
    pub person: String,
    pub name: String,
    pub role: String,
    pub months: u8,
    pub base_pay: String,
    pub floor: String,
    pub shortfall: String,
    pub below: bool,
    pub explanation: String,
}

/// One township's lines: people below, people unknown, and the shortfall in all.
pub struct Township {
    pub name: String,
    pub below: usize,
    pub unknown: usize,
    pub shortfall: String,
}

#[derive(Template)]
#[template(path = "payfloor.html")]
struct Page {
    layout: Layout,
    region_name: String,
    year: i32,
    policy_name: String,
    rules: Vec<String>,
    lines: Vec<Line>,
    below: usize,
    unknown: usize,
    shortfall: String,
    townships: Vec<Township>,
    /// Cadres of the year in the region: without any, there is nothing to check.
    cadres: usize,
    export: String,
}

/// Each township's lines summed by the core (`cunji_core::pay_floor::by_township`), named.
fn townships(
    lines: &[FloorLine],
    regions: &cunji_core::region::RegionSet,
) -> Result<Vec<Township>, WebError> {
    let by =
        cunji_core::pay_floor::by_township(lines).map_err(|e| WebError::Invalid(e.to_string()))?;
    Ok(by
        .into_iter()
        .map(|(code, t)| Township {
            name: regions
                .get(&code)
                .map_or_else(|| code.to_string(), |r| r.name.clone()),
            below: t.below,
            unknown: t.unknown,
            shortfall: t.shortfall.display(),
        })
        .collect())
}

pub async fn page(ask: super::Ask) -> Result<Response, WebError> {
    let export = serde_urlencoded::to_string([
        ("year", ask.q.year.map(|y| y.to_string())),
        ("region", ask.q.region.clone()),
        ("policy", ask.q.policy.map(|p| p.to_string())),
    ])
    .unwrap_or_default();
    let mut page = build(ask).await?;
    page.export = export;
    Ok(render(&page))
}

/// `/payfloor.csv`: the page's lines for Excel and WPS (UTF-8 with a byte-order mark, CRLF).
pub async fn export(ask: super::Ask) -> Result<Response, WebError> {
    let page = build(ask).await?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let bad = |e: csv::Error| WebError::internal("pay floor export", &e);
    let headers = ["村代码", "村", "人员编号", "姓名", "职务", "任职月数"];
    let money = ["基本报酬（元）", "保障线（元）", "差额（元）", "说明"];
    w.write_record(headers.iter().chain(&money)).map_err(bad)?;
    for l in &page.lines {
        let months = l.months.to_string();
        let short = if l.below { l.shortfall.as_str() } else { "" };
        let cells: [&str; 10] = [
            &l.village,
            &l.village_name,
            &l.person,
            &l.name,
            &l.role,
            &months,
            &l.base_pay,
            &l.floor,
            short,
            &l.explanation,
        ];
        w.write_record(cells.map(|c| cunji_core::columns::export_cell(c).into_owned()))
            .map_err(bad)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| WebError::internal("pay floor export", &e.into_error()))?;
    let name = format!("{}{}年村干部报酬保障.csv", page.region_name, page.year);
    let kind = "text/csv; charset=utf-8";
    Ok(super::downloads::download(
        bytes,
        kind,
        (&name, "cunji-payfloor.csv"),
    ))
}

async fn build(ask: super::Ask) -> Result<Page, WebError> {
    let super::Ask { state, user, q } = ask;
    let year = q.year.unwrap_or(state.latest_year().await);
    // The policy asked for; else the active one if it has a pay floor; else the newest one that has.
    let (stored, policy) = match q.policy {
        Some(id) => state.policy(Some(id)).await?,
        None => {
            let active = state
                .policy(None)
                .await
                .ok()
                .filter(|(_, p)| p.pay_floor.is_some());
            match active {
                Some(a) => a,
                None => {
                    let all = user.store(&state).policies().await?;
                    let found = all.into_iter().rev().find_map(|s| {
                        Policy::parse(&s.source)
                            .ok()
                            .filter(|p| p.pay_floor.is_some())
                            .map(|p| (s, p))
                    });
                    found.ok_or_else(|| crate::html::not_found("设有报酬保障（[pay_floor]）的政策：请在“政策”页保存一份，如 policies/guizhou.toml"))?
                }
            }
        }
    };
    let data = state.data(year).await?;
    let region = super::regions::chosen_region(&user, &data.regions, q.region.as_deref())?;
    // The region's villages under the floor's rule, whatever region prefix the policy was written for.
    let floor_only = Policy {
        region: None,
        years: None,
        incentive: None,
        ..policy.clone()
    };
    let report = state
        .report(&floor_only, &data, year, Some(&region))
        .await?;
    let floor_lines = report.pay_floor.as_deref().unwrap_or_default();
    let lines: Vec<Line> = floor_lines
        .iter()
        .map(|l| Line {
            village_name: data
                .regions
                .get(&l.village)
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            village: l.village.to_string(),
            person: l.person.clone(),
            name: l.name.clone(),
            role: l.role.name_zh().into(),
            months: l.months_in_post,
            base_pay: l.base_pay.display_or_dash(),
            floor: l.floor.display_or_dash(),
            shortfall: l.shortfall.display_or_dash(),
            below: l.status == cunji_core::pay_floor::FloorStatus::Below,
            explanation: l.explanation.clone(),
        })
        .collect();
    let cadres = data
        .cadres
        .iter()
        .filter(|c| c.year == year && region.contains(&c.village))
        .count();
    let all = Tally::of(floor_lines).map_err(|e| WebError::Invalid(e.to_string()))?;
    let page = Page {
        layout: Layout::new("村干部报酬保障", Some(&user)),
        region_name: data
            .regions
            .get(&region)
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        year,
        policy_name: stored.name.clone(),
        rules: policy
            .describe_zh()
            .into_iter()
            .filter(|r| r.starts_with("报酬保障"))
            .collect(),
        below: all.below,
        unknown: all.unknown,
        shortfall: all.shortfall.display(),
        townships: townships(floor_lines, &data.regions)?,
        cadres,
        export: String::new(),
        lines,
    };
    Ok(page)
}
