//! The what-if's band and target levers (issue #33: the county's form for the common plan covers the
//! bands and targets as well as the reward): each band's lower bound in 元, each target's share, count
//! and year; and the band counts and target outcomes under both plans side by side.
//!
//! Band names stay as the policy writes them: a renamed band would leave the targets that name it
//! pointing nowhere, and names are rarely changed; the TOML view is there for that.

use cunji_core::bands::TargetRule;
use cunji_core::policy::Policy;
use cunji_core::report::RegionReport;

/// What the form sent for bands and targets, by the band's or target's position (from 0).
#[derive(Default)]
pub struct BandLevers {
    /// `band_min.2` = `100000`: yuan.
    pub mins: Vec<(usize, String)>,
    /// `target_share.0` = `60`: percent.
    pub shares: Vec<(usize, String)>,
    /// `target_count.1` = `0`: villages.
    pub counts: Vec<(usize, String)>,
    /// `target_year.0` = `2027`.
    pub years: Vec<(usize, String)>,
}

impl BandLevers {
    /// Takes `key` = `value` if it is a band or target lever (true), else leaves it (false).
    pub fn take(&mut self, key: &str, value: &str) -> bool {
        let Some((name, at)) = key.split_once('.') else {
            return false;
        };
        let Ok(at) = at.parse::<usize>() else {
            return false;
        };
        let list = match name {
            "band_min" => &mut self.mins,
            "target_share" => &mut self.shares,
            "target_count" => &mut self.counts,
            "target_year" => &mut self.years,
            _ => return false,
        };
        list.push((at, value.to_string()));
        true
    }

    fn is_empty(&self) -> bool {
        self.mins.is_empty()
            && self.shares.is_empty()
            && self.counts.is_empty()
            && self.years.is_empty()
    }

    /// The policy's `[bands]` and `[[target]]` with the levers applied, or what is wrong with one.
    pub fn apply(&self, table: &mut toml::Table) -> Result<(), String> {
        if self.is_empty() {
            return Ok(());
        }
        if let Some(toml::Value::Array(bands)) = table
            .get_mut("bands")
            .and_then(|b| b.as_table_mut())
            .and_then(|b| b.get_mut("band"))
        {
            for (at, text) in &self.mins {
                let Some(toml::Value::Table(band)) = bands.get_mut(*at).filter(|_| *at > 0) else {
                    continue;
                };
                let field = format!("第 {} 档起点", at + 1);
                band.insert("min".into(), super::yuan(&field, text)?);
            }
        }
        if let Some(toml::Value::Array(targets)) = table.get_mut("target") {
            for (at, target) in targets.iter_mut().enumerate() {
                let Some(t) = target.as_table_mut() else {
                    continue;
                };
                self.apply_target(at, t)?;
            }
        }
        Ok(())
    }

    fn apply_target(&self, at: usize, t: &mut toml::Table) -> Result<(), String> {
        let name = t
            .get("name")
            .and_then(|n| n.as_str())
            .unwrap_or("目标")
            .to_string();
        let of = |list: &[(usize, String)]| {
            list.iter()
                .find(|(i, _)| *i == at)
                .map(|(_, v)| v.trim().to_string())
        };
        if let Some(v) = of(&self.shares).filter(|_| t.contains_key("share_at_least")) {
            let p = super::percent(&format!("“{name}”的比例"), &v)?;
            t.insert("share_at_least".into(), toml::Value::String(p));
        }
        if let Some(v) = of(&self.counts).filter(|_| t.contains_key("count_at_most")) {
            let n: i64 = v
                .parse()
                .ok()
                .filter(|n| (0..=1_000_000).contains(n))
                .ok_or_else(|| format!("“{name}”的村数“{v}”应为 0 或正整数"))?;
            t.insert("count_at_most".into(), toml::Value::Integer(n));
        }
        if let Some(v) = of(&self.years) {
            let y: i64 = v
                .parse()
                .ok()
                .filter(|y| (1900..=2999).contains(y))
                .ok_or_else(|| format!("“{name}”的年份“{v}”不是有效年份"))?;
            t.insert("year".into(), toml::Value::Integer(y));
        }
        Ok(())
    }
}

/// A band's lever on the form: its name and lower bound (none for the first band).
pub struct BandField {
    pub name: String,
    /// `band_min.N`, empty for the first band (it takes everything below the second).
    pub key: String,
    pub value: String,
}

/// A target's levers on the form.
pub struct TargetField {
    pub name: String,
    /// "比例（%）" or "最多村数", and its field.
    pub label: &'static str,
    pub key: String,
    pub value: String,
    pub year_key: String,
    pub year: String,
}

/// The policy's bands and targets as form fields, showing what was typed when something was.
pub fn fields(policy: &Policy, l: &BandLevers) -> (Vec<BandField>, Vec<TargetField>) {
    let typed = |list: &[(usize, String)], at: usize| {
        list.iter().find(|(i, _)| *i == at).map(|(_, v)| v.clone())
    };
    let bands = policy.bands.as_ref().map_or_else(Vec::new, |s| {
        s.bands
            .iter()
            .enumerate()
            .map(|(i, b)| BandField {
                name: b.name.clone(),
                key: if i == 0 {
                    String::new()
                } else {
                    format!("band_min.{i}")
                },
                value: typed(&l.mins, i)
                    .or_else(|| b.min.map(|m| m.json()))
                    .unwrap_or_default(),
            })
            .collect()
    });
    let targets = policy
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (label, key, shown) = match &t.rule {
                TargetRule::ShareAtLeast { share, .. } => (
                    "比例（%）",
                    format!("target_share.{i}"),
                    share.percent().trim_end_matches('%').to_string(),
                ),
                TargetRule::CountAtMost { count, .. } => {
                    ("最多村数", format!("target_count.{i}"), count.to_string())
                }
            };
            let list = if key.starts_with("target_share") {
                &l.shares
            } else {
                &l.counts
            };
            TargetField {
                name: t.name.clone(),
                label,
                value: typed(list, i).unwrap_or(shown),
                key,
                year_key: format!("target_year.{i}"),
                year: typed(&l.years, i).unwrap_or_else(|| t.year.to_string()),
            }
        })
        .collect();
    (bands, targets)
}

/// One row of a side-by-side: (name, under the current plan, under the changed one).
pub type Row = (String, String, String);

/// Band counts and target outcomes of the region under both plans.
pub fn compare(before: &RegionReport, after: Option<&RegionReport>) -> (Vec<Row>, Vec<Row>) {
    let dash = || "—".to_string();
    let bands = before
        .bands
        .0
        .iter()
        .enumerate()
        .map(|(i, (name, n))| {
            let a = after
                .and_then(|a| a.bands.0.get(i))
                .map(|(_, n)| n.to_string());
            (
                format!("{name}（村）"),
                n.to_string(),
                a.unwrap_or_else(dash),
            )
        })
        .collect();
    let outcome = |t: &cunji_core::bands::TargetResult| {
        let verdict = match (t.met, t.complete) {
            (true, _) => "达成",
            (false, true) => "未达成",
            (false, false) => "数据不全",
        };
        match &t.value {
            Some(v) => format!("{verdict}（{v}，{} 年）", t.due),
            None => format!("{verdict}（{} 年）", t.due),
        }
    };
    let targets = before
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let a = after.and_then(|a| a.targets.get(i)).map(outcome);
            (t.name.clone(), outcome(t), a.unwrap_or_else(dash))
        })
        .collect();
    (bands, targets)
}
