//! What several pages share about regions and alerts: the region a user looks at (by default, or
//! as asked and checked against their scope) and a report's alerts as rows. Below the dashboard
//! and the contract pages, which both use them (issue #34: no import cycles).

use cunji_core::region::{Level, RegionCode, RegionSet};
use cunji_core::report::Report;

use crate::auth::User;
use crate::html::WebError;

pub struct AlertRow {
    pub village: String,
    pub village_name: String,
    pub kind: &'static str,
    pub message: String,
    pub evidence: Vec<String>,
}

/// Alerts of a report as rows for a page.
pub fn alert_rows(report: &Report) -> Vec<AlertRow> {
    // Names looked up by code once: a search of every village per alert was a tenth of a county
    // dashboard's time.
    let names: std::collections::HashMap<&str, &str> = report
        .villages
        .iter()
        .map(|v| (v.code.as_str(), v.name.as_str()))
        .collect();
    report
        .alerts
        .iter()
        .map(|a| AlertRow {
            village_name: names
                .get(a.village.as_str())
                .map(|n| n.to_string())
                .unwrap_or_default(),
            village: a.village.clone(),
            kind: a.kind.name_zh(),
            message: a.message.clone(),
            evidence: a.evidence.clone(),
        })
        .collect()
}

/// The region a user looks at by default: their scope, else the first county, else the first region.
pub fn default_region(user: &User, regions: &RegionSet) -> Option<RegionCode> {
    if let Some(s) = &user.scope {
        return Some(s.clone());
    }
    regions
        .iter()
        .find(|r| r.level() == Level::County)
        .or_else(|| regions.iter().find(|r| r.level() != Level::Village))
        .map(|r| r.code.clone())
}

/// The region asked for, checked against what the user may read.
pub fn chosen_region(
    user: &User,
    regions: &RegionSet,
    asked: Option<&str>,
) -> Result<RegionCode, WebError> {
    let code = match asked.filter(|s| !s.is_empty()) {
        Some(text) => {
            RegionCode::parse(text).map_err(|e| crate::html::bad_request(e.to_string()))?
        }
        None => default_region(user, regions)
            .ok_or_else(|| crate::html::not_found("任何区划：请先导入区划"))?,
    };
    user.require_read(&code)?;
    if !regions.contains(&code) {
        return Err(crate::html::not_found(&format!("区划 {code}")));
    }
    Ok(code)
}
