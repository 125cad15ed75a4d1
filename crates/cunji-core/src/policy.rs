//! Policy files (SPEC §10): TOML read strictly — unknown keys, keys of another basis or schedule,
//! tiers out of order, unknown bands and the subsidy guard are all errors with the key's line.

use std::collections::BTreeMap;

use toml::{Table, Value};

use crate::account::Account;
use crate::bands::{Band, BandScheme, Target, TargetRule};
use crate::cadre::Role;
use crate::incentive::plan::{Basis, LevelCap, Plan, Schedule, Tier, TierKey};
use crate::measure::Measure;
use crate::money::Fen;
use crate::rate::Ppm;
use crate::region::RegionCode;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    /// Code prefix the policy applies to (`"13"`).
    pub region: Option<String>,
    /// Inclusive range of years in force.
    pub years: Option<(i32, i32)>,
    pub custom_measures: Vec<Measure>,
    pub bands: Option<BandScheme>,
    pub targets: Vec<Target>,
    pub incentive: Option<Plan>,
    pub pay_floor: Option<crate::pay_floor::PayFloor>,
    /// Alert thresholds (`[alerts]`; defaults when absent).
    pub alerts: crate::alerts::AlertSettings,
}

/// A policy error: where (line, when it could be found) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}", .line.map(|l| format!("第 {l} 行: ")).unwrap_or_default(), .message)]
pub struct PolicyError {
    pub line: Option<usize>,
    pub message: String,
}

impl Policy {
    /// Every measure a report shows: the four standard ones, then the policy's own.
    pub fn measures(&self) -> Vec<Measure> {
        let mut all = Measure::standard();
        all.extend(self.custom_measures.iter().cloned());
        all
    }

    pub fn measure(&self, key: &str) -> Option<Measure> {
        self.measures().into_iter().find(|m| m.key == key)
    }

    /// Is `year` within the years the policy is in force?
    pub fn in_force(&self, year: i32) -> bool {
        self.years.is_none_or(|(a, b)| a <= year && year <= b)
    }

    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let table: Table = text.parse().map_err(|e: toml::de::Error| PolicyError {
            line: e.span().map(|s| line_of_offset(text, s.start)),
            message: format!("TOML 语法错误：{}", e.message()),
        })?;
        Reader { text }.policy(&table)
    }
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Where a key sits: the section (with its index for arrays of tables) and the key.
#[derive(Clone, Copy)]
struct At<'a> {
    section: Option<(&'a str, usize)>,
    key: &'a str,
}

struct Reader<'t> {
    text: &'t str,
}

const TOP_KEYS: [&str; 9] = [
    "name",
    "region",
    "years",
    "measure",
    "bands",
    "target",
    "incentive",
    "pay_floor",
    "alerts",
];
const INCENTIVE_KEYS: [&str; 19] = [
    "measure",
    "allow_subsidy_in_measure",
    "basis",
    "lookback_years",
    "base_year",
    "threshold",
    "min_level",
    "min_base",
    "schedule",
    "rate",
    "tier_key",
    "tiers",
    "cap",
    "cap_by_level",
    "min_months",
    "prorate_by_months",
    "weights",
    "max_share",
    "appraisal",
];

impl<'t> Reader<'t> {
    /// Best-effort line of a key: the first `key =` after the section's header.
    fn line(&self, at: At<'_>) -> Option<usize> {
        let lines: Vec<&str> = self.text.lines().collect();
        let mut start = 0;
        if let Some((section, index)) = at.section {
            let single = format!("[{section}]");
            let array = format!("[[{section}]]");
            let mut seen = 0;
            let mut found = None;
            for (i, l) in lines.iter().enumerate() {
                let t = l.trim();
                if t == single || t == array {
                    if seen == index {
                        found = Some(i);
                        break;
                    }
                    seen += 1;
                }
            }
            start = found?;
            if at.key.is_empty() {
                return Some(start + 1);
            }
        }
        for (i, l) in lines.iter().enumerate().skip(start) {
            let t = l.trim_start();
            if i > start && at.section.is_some() && t.starts_with('[') {
                break;
            }
            if at.section.is_none() && t.starts_with('[') {
                break;
            }
            if let Some(rest) = t.strip_prefix(at.key) {
                let rest = rest.trim_start();
                if rest.starts_with('=') {
                    return Some(i + 1);
                }
            }
        }
        at.section.map(|_| start + 1)
    }

    fn err(&self, at: At<'_>, message: impl Into<String>) -> PolicyError {
        let place = match at.section {
            Some((s, _)) if at.key.is_empty() => format!("〔{s}〕"),
            Some((s, _)) => format!("〔{s}〕{}", at.key),
            None => at.key.to_string(),
        };
        PolicyError {
            line: self.line(at),
            message: format!("{place}：{}", message.into()),
        }
    }

    fn check_keys(
        &self,
        table: &Table,
        allowed: &[&str],
        section: Option<(&str, usize)>,
    ) -> Result<(), PolicyError> {
        for k in table.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(self.err(
                    At { section, key: k },
                    format!("未知的键 `{k}`（拼写错误的键不会被悄悄忽略）"),
                ));
            }
        }
        Ok(())
    }

    fn policy(&self, t: &Table) -> Result<Policy, PolicyError> {
        self.check_keys(t, &TOP_KEYS, None)?;
        let top = |key| At { section: None, key };
        let name = match t.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(_) => return Err(self.err(top("name"), "应为非空字符串")),
            None => return Err(self.err(top("name"), "缺少政策名称 name（唯一必填的键）")),
        };
        let region = match t.get("region") {
            None => None,
            Some(Value::String(s))
                if !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some(s.clone())
            }
            Some(_) => return Err(self.err(top("region"), "应为区划代码前缀，如 \"13\"")),
        };
        let years = match t.get("years") {
            None => None,
            Some(Value::Array(a)) if a.len() == 2 => match (&a[0], &a[1]) {
                (Value::Integer(x), Value::Integer(y)) if x <= y => Some((*x as i32, *y as i32)),
                _ => return Err(self.err(top("years"), "应为 [起始年, 终止年]，起始不晚于终止")),
            },
            Some(_) => return Err(self.err(top("years"), "应为 [起始年, 终止年]")),
        };

        let mut custom_measures = Vec::new();
        if let Some(v) = t.get("measure") {
            let Value::Array(items) = v else {
                return Err(self.err(top("measure"), "应写作 [[measure]] 表数组"));
            };
            for (i, item) in items.iter().enumerate() {
                let m = self.custom_measure(item, i)?;
                if custom_measures.iter().any(|c: &Measure| c.key == m.key) {
                    return Err(self.err(
                        At {
                            section: Some(("measure", i)),
                            key: "key",
                        },
                        format!("口径 `{}` 重复定义", m.key),
                    ));
                }
                custom_measures.push(m);
            }
        }
        let find_measure = |key: &str| -> Option<Measure> {
            Measure::standard()
                .into_iter()
                .chain(custom_measures.iter().cloned())
                .find(|m| m.key == key)
        };

        let bands = match t.get("bands") {
            None => None,
            Some(Value::Table(b)) => Some(self.bands(b, &find_measure)?),
            Some(_) => return Err(self.err(top("bands"), "应为 [bands] 表")),
        };

        let mut targets = Vec::new();
        if let Some(v) = t.get("target") {
            let Value::Array(items) = v else {
                return Err(self.err(top("target"), "应写作 [[target]] 表数组"));
            };
            for (i, item) in items.iter().enumerate() {
                targets.push(self.target(item, i, bands.as_ref())?);
            }
        }

        let incentive = match t.get("incentive") {
            None => None,
            Some(Value::Table(inc)) => Some(self.incentive(inc, &find_measure)?),
            Some(_) => return Err(self.err(top("incentive"), "应为 [incentive] 表")),
        };

        let pay_floor = match t.get("pay_floor") {
            None => None,
            Some(Value::Table(p)) => Some(self.pay_floor(p)?),
            Some(_) => return Err(self.err(top("pay_floor"), "应为 [pay_floor] 表")),
        };

        let alerts = match t.get("alerts") {
            None => crate::alerts::AlertSettings::default(),
            Some(Value::Table(a)) => self.alerts(a)?,
            Some(_) => return Err(self.err(top("alerts"), "应为 [alerts] 表")),
        };

        Ok(Policy {
            name,
            region,
            years,
            custom_measures,
            bands,
            targets,
            incentive,
            pay_floor,
            alerts,
        })
    }

    fn custom_measure(&self, v: &Value, i: usize) -> Result<Measure, PolicyError> {
        let sec = Some(("measure", i));
        let at = |key| At { section: sec, key };
        let Value::Table(t) = v else {
            return Err(self.err(at(""), "应为表"));
        };
        self.check_keys(t, &["key", "name", "terms"], sec)?;
        let key = match t.get("key") {
            Some(Value::String(s)) if is_identifier(s) => s.clone(),
            Some(_) => return Err(self.err(at("key"), "应为由小写字母、数字和下划线组成的键")),
            None => return Err(self.err(at("key"), "缺少 key")),
        };
        if Measure::is_standard_key(&key) {
            return Err(self.err(at("key"), format!("`{key}` 是标准口径，自定义口径不能重用")));
        }
        let name = match t.get("name") {
            Some(Value::String(s)) => s.clone(),
            None => key.clone(),
            Some(_) => return Err(self.err(at("name"), "应为字符串")),
        };
        let Some(Value::Table(terms)) = t.get("terms") else {
            return Err(self.err(
                at("terms"),
                "缺少 terms，如 { operating_revenue = 1, operating_cost = -1 }",
            ));
        };
        let mut list = Vec::new();
        for (k, c) in terms {
            let Some(account) = Account::from_key_or_name(k) else {
                return Err(self.err(at("terms"), format!("未知科目 `{k}`")));
            };
            match c {
                Value::Integer(c) if (-1..=1).contains(c) => list.push((account, *c as i8)),
                _ => {
                    return Err(self.err(at("terms"), format!("科目 `{k}` 的系数只能是 -1、0 或 1")))
                }
            }
        }
        Ok(Measure::new(&key, &name, &list))
    }

    fn bands(
        &self,
        b: &Table,
        find_measure: &dyn Fn(&str) -> Option<Measure>,
    ) -> Result<BandScheme, PolicyError> {
        let sec = Some(("bands", 0));
        let at = |key| At { section: sec, key };
        self.check_keys(b, &["measure", "band"], sec)?;
        let measure = self.measure_key(b, at("measure"), find_measure)?;
        let Some(Value::Array(items)) = b.get("band") else {
            return Err(self.err(at("band"), "缺少 band 列表"));
        };
        if items.is_empty() {
            return Err(self.err(at("band"), "至少要有一档"));
        }
        let mut bands: Vec<Band> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Value::Table(bt) = item else {
                return Err(self.err(at("band"), "每一档应写作 { name = \"…\", min = … }"));
            };
            for k in bt.keys() {
                if k != "name" && k != "min" {
                    return Err(self.err(at("band"), format!("未知的键 `{k}`")));
                }
            }
            let name = match bt.get("name") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                _ => return Err(self.err(at("band"), format!("第 {} 档缺少名称 name", i + 1))),
            };
            if bands.iter().any(|x| x.name == name) {
                return Err(self.err(at("band"), format!("档名“{name}”重复")));
            }
            let min = match bt.get("min") {
                None => None,
                Some(v) => Some(self.money(v, at("band"))?),
            };
            match (i, min) {
                (0, Some(_)) => {
                    return Err(self.err(at("band"), "第一档不写 min（它包含低于第二档的一切）"))
                }
                (0, None) => {}
                (_, None) => return Err(self.err(at("band"), format!("档“{name}”缺少 min"))),
                (_, Some(m)) => {
                    if let Some(prev) = bands.last().and_then(|b| b.min) {
                        if m <= prev {
                            return Err(self.err(at("band"), "各档 min 必须严格递增"));
                        }
                    }
                }
            }
            bands.push(Band { name, min });
        }
        Ok(BandScheme { measure, bands })
    }

    fn target(
        &self,
        v: &Value,
        i: usize,
        bands: Option<&BandScheme>,
    ) -> Result<Target, PolicyError> {
        let sec = Some(("target", i));
        let at = |key| At { section: sec, key };
        let Value::Table(t) = v else {
            return Err(self.err(at(""), "应为表"));
        };
        self.check_keys(
            t,
            &[
                "name",
                "year",
                "band_at_least",
                "share_at_least",
                "band_below",
                "count_at_most",
            ],
            sec,
        )?;
        let name = match t.get("name") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(self.err(at("name"), "缺少目标名称 name")),
        };
        let year = match t.get("year") {
            Some(Value::Integer(y)) if (1900..=9999).contains(y) => *y as i32,
            _ => return Err(self.err(at("year"), "缺少或不是年份")),
        };
        let Some(scheme) = bands else {
            return Err(self.err(at(""), "目标需要 [bands] 分档"));
        };
        let band_index = |key: &'static str| -> Result<usize, PolicyError> {
            match t.get(key) {
                Some(Value::String(s)) => scheme
                    .index_of(s)
                    .ok_or_else(|| self.err(at(key), format!("分档中没有“{s}”这一档"))),
                _ => Err(self.err(at(key), "应为档名字符串")),
            }
        };
        let rule = match (t.contains_key("band_at_least"), t.contains_key("band_below")) {
            (true, false) => {
                if t.contains_key("count_at_most") {
                    return Err(self.err(at("count_at_most"), "count_at_most 与 band_below 搭配，不与 band_at_least 搭配"));
                }
                let band = band_index("band_at_least")?;
                let Some(v) = t.get("share_at_least") else {
                    return Err(self.err(at("share_at_least"), "band_at_least 需要 share_at_least"));
                };
                TargetRule::ShareAtLeast {
                    band,
                    share: self.rate(v, at("share_at_least"), Ppm::ONE)?,
                }
            }
            (false, true) => {
                if t.contains_key("share_at_least") {
                    return Err(self.err(at("share_at_least"), "share_at_least 与 band_at_least 搭配，不与 band_below 搭配"));
                }
                let band = band_index("band_below")?;
                let count = match t.get("count_at_most") {
                    Some(Value::Integer(n)) if *n >= 0 => *n as u64,
                    _ => return Err(self.err(at("count_at_most"), "band_below 需要非负整数 count_at_most")),
                };
                TargetRule::CountAtMost { band, count }
            }
            _ => {
                return Err(self.err(
                    at(""),
                    "目标须且只须有 band_at_least（配 share_at_least）或 band_below（配 count_at_most）之一",
                ))
            }
        };
        Ok(Target { name, year, rule })
    }

    fn incentive(
        &self,
        t: &Table,
        find_measure: &dyn Fn(&str) -> Option<Measure>,
    ) -> Result<Plan, PolicyError> {
        let sec = Some(("incentive", 0));
        let at = |key| At { section: sec, key };
        self.check_keys(t, &INCENTIVE_KEYS, sec)?;
        let measure_key = self.measure_key(t, at("measure"), find_measure)?;
        let measure = find_measure(&measure_key).expect("checked by measure_key");
        let allow_subsidy_in_measure = self
            .boolean(t, at("allow_subsidy_in_measure"))?
            .unwrap_or(false);
        if measure.counts_subsidies() && !allow_subsidy_in_measure {
            return Err(self.err(
                at("measure"),
                format!(
                    "口径 `{}` 计入了补助收入，会把上级补助算作增长；确需如此请写 allow_subsidy_in_measure = true",
                    measure.key
                ),
            ));
        }

        let basis_key = self
            .string(t, at("basis"))?
            .unwrap_or_else(|| "increase".into());
        let only_for = |key: &'static str, owner: &str, chosen: &str| -> Result<(), PolicyError> {
            if t.contains_key(key) && owner != chosen {
                return Err(self.err(
                    at(key),
                    format!("`{key}` 只用于 {owner}，本方案是 {chosen}"),
                ));
            }
            Ok(())
        };
        only_for(
            "lookback_years",
            "basis = \"increase_over_best\"",
            &format!("basis = \"{basis_key}\""),
        )?;
        only_for(
            "base_year",
            "basis = \"increase_over_year\"",
            &format!("basis = \"{basis_key}\""),
        )?;
        only_for(
            "threshold",
            "basis = \"above\"",
            &format!("basis = \"{basis_key}\""),
        )?;
        let basis = match basis_key.as_str() {
            "increase" => Basis::Increase,
            "increase_over_best" => Basis::IncreaseOverBest {
                lookback_years: match t.get("lookback_years") {
                    None => None,
                    Some(Value::Integer(n)) if (1..=100).contains(n) => Some(*n as u32),
                    Some(_) => return Err(self.err(at("lookback_years"), "应为 1–100 的整数")),
                },
            },
            "increase_over_year" => Basis::IncreaseOverYear {
                base_year: match t.get("base_year") {
                    Some(Value::Integer(y)) if (1900..=9999).contains(y) => *y as i32,
                    _ => return Err(self.err(at("base_year"), "increase_over_year 需要基准年 base_year")),
                },
            },
            "level" => Basis::Level,
            "above" => Basis::Above {
                threshold: match t.get("threshold") {
                    Some(v) => self.money(v, at("threshold"))?,
                    None => return Err(self.err(at("threshold"), "above 需要 threshold（元）")),
                },
            },
            other => {
                return Err(self.err(
                    at("basis"),
                    format!("未知的 basis `{other}`（可选 increase、increase_over_best、increase_over_year、level、above）"),
                ))
            }
        };

        let min_level = t
            .get("min_level")
            .map(|v| self.money(v, at("min_level")))
            .transpose()?;
        let min_base = t
            .get("min_base")
            .map(|v| self.money(v, at("min_base")))
            .transpose()?;

        let schedule_key = self
            .string(t, at("schedule"))?
            .unwrap_or_else(|| "flat".into());
        let chosen = format!("schedule = \"{schedule_key}\"");
        only_for("rate", "schedule = \"flat\"", &chosen)?;
        only_for("tier_key", "schedule = \"whole\"", &chosen)?;
        if t.contains_key("tiers") && schedule_key == "flat" {
            return Err(self.err(
                at("tiers"),
                "`tiers` 只用于 schedule = \"whole\" 或 \"marginal\"，本方案是 flat",
            ));
        }
        let schedule = match schedule_key.as_str() {
            "flat" => Schedule::Flat {
                rate: match t.get("rate") {
                    Some(v) => self.rate(v, at("rate"), Ppm::ONE)?,
                    None => return Err(self.err(at("rate"), "flat 需要比例 rate，如 \"10%\"")),
                },
            },
            "whole" => Schedule::Whole {
                tier_key: match self.string(t, at("tier_key"))?.as_deref() {
                    None | Some("base") => TierKey::Base,
                    Some("level") => TierKey::Level,
                    Some(o) => {
                        return Err(self.err(
                            at("tier_key"),
                            format!("tier_key 只能是 base 或 level，不是 `{o}`"),
                        ))
                    }
                },
                tiers: self.tiers(t, at("tiers"))?,
            },
            "marginal" => Schedule::Marginal {
                tiers: self.tiers(t, at("tiers"))?,
            },
            other => {
                return Err(self.err(
                    at("schedule"),
                    format!("未知的 schedule `{other}`（可选 flat、whole、marginal）"),
                ))
            }
        };

        let cap = t
            .get("cap")
            .map(|v| self.non_negative_money(v, at("cap"), "封顶"))
            .transpose()?;
        let mut cap_by_level = Vec::new();
        if let Some(v) = t.get("cap_by_level") {
            let Value::Array(items) = v else {
                return Err(self.err(at("cap_by_level"), "应为 [{ from = …, cap = … }, …]"));
            };
            for item in items {
                let Value::Table(it) = item else {
                    return Err(self.err(at("cap_by_level"), "每档应为 { from = …, cap = … }"));
                };
                if it.keys().any(|k| k != "from" && k != "cap")
                    || !it.contains_key("from")
                    || !it.contains_key("cap")
                {
                    return Err(self.err(at("cap_by_level"), "每档须且只须有 from 与 cap"));
                }
                let from = self.money(&it["from"], at("cap_by_level"))?;
                let c = self.non_negative_money(&it["cap"], at("cap_by_level"), "封顶")?;
                if cap_by_level
                    .last()
                    .is_some_and(|l: &LevelCap| l.from >= from)
                {
                    return Err(self.err(at("cap_by_level"), "各档 from 必须严格递增"));
                }
                cap_by_level.push(LevelCap { from, cap: c });
            }
            if cap_by_level.is_empty() {
                return Err(self.err(at("cap_by_level"), "至少要有一档"));
            }
        }

        let min_months = match t.get("min_months") {
            None => 0,
            Some(Value::Integer(n)) if (0..=12).contains(n) => *n as u8,
            Some(_) => return Err(self.err(at("min_months"), "应为 0–12 的整数")),
        };
        let prorate_by_months = self.boolean(t, at("prorate_by_months"))?.unwrap_or(false);
        let weights = match t.get("weights") {
            None => Plan::default_weights(),
            Some(Value::Table(w)) => {
                let mut out = BTreeMap::new();
                for (k, v) in w {
                    let role = self.role(k, at("weights"))?;
                    match v {
                        Value::Integer(n) if *n >= 0 && *n <= 1_000_000 => {
                            out.insert(role, *n as u64);
                        }
                        _ => {
                            return Err(
                                self.err(at("weights"), format!("`{k}` 的权重应为不小于 0 的整数"))
                            )
                        }
                    }
                }
                out
            }
            Some(_) => return Err(self.err(at("weights"), "应为 { secretary = 1, … }")),
        };
        let mut max_share = BTreeMap::new();
        if let Some(v) = t.get("max_share") {
            let Value::Table(m) = v else {
                return Err(self.err(at("max_share"), "应为 { secretary = \"30%\", … }"));
            };
            for (k, v) in m {
                let role = self.role(k, at("max_share"))?;
                max_share.insert(role, self.rate(v, at("max_share"), Ppm::ONE)?);
            }
        }
        let appraisal = match t.get("appraisal") {
            None => None,
            Some(Value::Table(a)) => {
                let mut out = BTreeMap::new();
                for (k, v) in a {
                    out.insert(k.clone(), self.rate(v, at("appraisal"), Ppm::ONE)?);
                }
                Some(out)
            }
            Some(_) => return Err(self.err(at("appraisal"), "应为 { \"优秀\" = 1, … }")),
        };

        Ok(Plan {
            measure,
            allow_subsidy_in_measure,
            basis,
            min_level,
            min_base,
            schedule,
            cap,
            cap_by_level,
            min_months,
            prorate_by_months,
            weights,
            max_share,
            appraisal,
        })
    }

    fn alerts(&self, t: &Table) -> Result<crate::alerts::AlertSettings, PolicyError> {
        let sec = Some(("alerts", 0));
        let at = |key| At { section: sec, key };
        self.check_keys(
            t,
            &[
                "year_end_share",
                "surge_rate",
                "surge_min",
                "pass_through_days",
                "subsidy_share",
                "round_unit",
                "round_share",
            ],
            sec,
        )?;
        let mut s = crate::alerts::AlertSettings::default();
        if let Some(v) = t.get("year_end_share") {
            s.year_end_share = self.rate(v, at("year_end_share"), Ppm::ONE)?;
        }
        if let Some(v) = t.get("surge_rate") {
            s.surge_rate = self.rate(v, at("surge_rate"), Ppm::from_ppm(100_000_000))?;
        }
        if let Some(v) = t.get("surge_min") {
            s.surge_min = self.money(v, at("surge_min"))?;
        }
        if let Some(v) = t.get("pass_through_days") {
            s.pass_through_days = match v {
                Value::Integer(n) if (0..=366).contains(n) => *n,
                _ => return Err(self.err(at("pass_through_days"), "应为 0–366 的整数天数")),
            };
        }
        if let Some(v) = t.get("subsidy_share") {
            s.subsidy_share = self.rate(v, at("subsidy_share"), Ppm::ONE)?;
        }
        if let Some(v) = t.get("round_unit") {
            s.round_unit = self.money(v, at("round_unit"))?;
        }
        if let Some(v) = t.get("round_share") {
            s.round_share = self.rate(v, at("round_share"), Ppm::ONE)?;
        }
        Ok(s)
    }

    fn pay_floor(&self, t: &Table) -> Result<crate::pay_floor::PayFloor, PolicyError> {
        let sec = Some(("pay_floor", 0));
        let at = |key| At { section: sec, key };
        self.check_keys(
            t,
            &["multiple", "minimum", "minimum_secretary_director", "roles"],
            sec,
        )?;
        let multiple = match t.get("multiple") {
            Some(v) => self.rate(v, at("multiple"), Ppm::from_ppm(10_000_000))?,
            None => return Err(self.err(at("multiple"), "缺少倍数 multiple，如 3")),
        };
        let minimum = match t.get("minimum") {
            Some(v) => self.money(v, at("minimum"))?,
            None => return Err(self.err(at("minimum"), "缺少年最低报酬 minimum（元）")),
        };
        let minimum_secretary_director = t
            .get("minimum_secretary_director")
            .map(|v| self.money(v, at("minimum_secretary_director")))
            .transpose()?;
        let roles = match t.get("roles") {
            None => crate::pay_floor::PayFloor::default_roles(),
            Some(Value::Array(items)) if !items.is_empty() => {
                let mut out = Vec::new();
                for item in items {
                    let Value::String(s) = item else {
                        return Err(self.err(at("roles"), "应为职务字符串列表"));
                    };
                    let r = self.role(s, at("roles"))?;
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
                out
            }
            Some(_) => {
                return Err(self.err(
                    at("roles"),
                    "应为职务列表，如 [\"secretary\", \"secretary_director\"]",
                ))
            }
        };
        Ok(crate::pay_floor::PayFloor {
            multiple,
            minimum,
            minimum_secretary_director,
            roles,
        })
    }

    fn tiers(&self, t: &Table, at: At<'_>) -> Result<Vec<Tier>, PolicyError> {
        let Some(Value::Array(items)) = t.get("tiers") else {
            return Err(self.err(at, "分档方案需要 tiers = [{ from = …, rate = … }, …]"));
        };
        let mut out: Vec<Tier> = Vec::new();
        for item in items {
            let Value::Table(it) = item else {
                return Err(self.err(at, "每档应为 { from = …, rate = … }"));
            };
            if it.keys().any(|k| k != "from" && k != "rate")
                || !it.contains_key("from")
                || !it.contains_key("rate")
            {
                return Err(self.err(at, "每档须且只须有 from 与 rate"));
            }
            let from = self.non_negative_money(&it["from"], at, "分档起点")?;
            let rate = self.rate(&it["rate"], at, Ppm::ONE)?;
            if out.last().is_some_and(|l| l.from >= from) {
                return Err(self.err(at, "各档 from 必须严格递增"));
            }
            out.push(Tier { from, rate });
        }
        if out.is_empty() {
            return Err(self.err(at, "至少要有一档"));
        }
        Ok(out)
    }

    fn measure_key(
        &self,
        t: &Table,
        at: At<'_>,
        find_measure: &dyn Fn(&str) -> Option<Measure>,
    ) -> Result<String, PolicyError> {
        let key = self
            .string(t, at)?
            .unwrap_or_else(|| "operating_income".into());
        if find_measure(&key).is_none() {
            return Err(self.err(
                at,
                format!("未知口径 `{key}`（标准口径或 [[measure]] 中定义的口径）"),
            ));
        }
        Ok(key)
    }

    fn role(&self, key: &str, at: At<'_>) -> Result<Role, PolicyError> {
        Role::parse(key).ok_or_else(|| self.err(at, format!("未知职务 `{key}`")))
    }

    fn string(&self, t: &Table, at: At<'_>) -> Result<Option<String>, PolicyError> {
        match t.get(at.key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.err(at, "应为字符串")),
        }
    }

    fn boolean(&self, t: &Table, at: At<'_>) -> Result<Option<bool>, PolicyError> {
        match t.get(at.key) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(_) => Err(self.err(at, "应为 true 或 false")),
        }
    }

    /// Money: a TOML integer of yuan, or a string per SPEC §1; a float is refused.
    fn money(&self, v: &Value, at: At<'_>) -> Result<Fen, PolicyError> {
        match v {
            Value::Integer(y) => Fen::from_yuan_int(*y).map_err(|e| self.err(at, e.to_string())),
            Value::String(s) => Fen::parse_yuan(s).map_err(|e| self.err(at, e.to_string())),
            Value::Float(f) => Err(self.err(
                at,
                format!("金额不能写成浮点数 {f}：请写整数元（如 50000）或字符串（如 \"0.01\"）"),
            )),
            _ => Err(self.err(at, "金额应为整数元或字符串")),
        }
    }

    /// Money that may not be negative (SPEC §10: caps and tier starts): a negative cap would break
    /// Σ amount + unallocated = pool.
    fn non_negative_money(&self, v: &Value, at: At<'_>, what: &str) -> Result<Fen, PolicyError> {
        let m = self.money(v, at)?;
        if m.fen() < 0 {
            return Err(self.err(at, format!("{what}不能为负数（{} 元）", m)));
        }
        Ok(m)
    }

    /// A rate: a string (`"10%"`, `"0.085"`) or a TOML number taken at its written decimal value.
    fn rate(&self, v: &Value, at: At<'_>, max: Ppm) -> Result<Ppm, PolicyError> {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Integer(i) => i.to_string(),
            // Rust prints the shortest decimal that reads back as the same float: the written value.
            Value::Float(f) => format!("{f}"),
            _ => return Err(self.err(at, "比率应为字符串（如 \"10%\"）或数字")),
        };
        Ppm::parse_within(&text, max).map_err(|e| self.err(at, e.to_string()))
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.as_bytes()[0].is_ascii_lowercase()
}

/// Checks a policy `region` against a register code, for `--region`.
pub fn region_prefix_matches(prefix: &str, code: &RegionCode) -> bool {
    code.as_str().starts_with(prefix)
}

impl Policy {
    /// The policy as readable rules, one zh-CN sentence each.
    pub fn describe_zh(&self) -> Vec<String> {
        use crate::incentive::plan::{Basis, Schedule, TierKey};
        let mut out = Vec::new();
        if let Some(r) = &self.region {
            out.push(format!("适用区划：代码以 {r} 开头的地区。"));
        }
        if let Some((a, b)) = self.years {
            out.push(format!("有效年度：{a}–{b} 年。"));
        }
        for m in &self.custom_measures {
            out.push(format!(
                "自定义口径“{}”（{}）= {}。",
                m.name,
                m.key,
                m.formula_zh()
            ));
        }
        if let Some(b) = &self.bands {
            let name = self
                .measure(&b.measure)
                .map(|m| m.name)
                .unwrap_or_else(|| b.measure.clone());
            let parts: Vec<String> = b
                .bands
                .iter()
                .map(|x| match x.min {
                    None => format!("“{}”", x.name),
                    Some(m) => format!("“{}”（≥ {} 元）", x.name, m),
                })
                .collect();
            out.push(format!("分档：按{name}分为 {}。", parts.join("、")));
        }
        for t in &self.targets {
            let band = |i: usize| {
                self.bands
                    .as_ref()
                    .map(|b| b.bands[i].name.clone())
                    .unwrap_or_default()
            };
            out.push(match &t.rule {
                crate::bands::TargetRule::ShareAtLeast { band: b, share } => {
                    format!(
                        "目标“{}”：到 {} 年，“{}”及以上的村占有账村的比例不低于 {share}。",
                        t.name,
                        t.year,
                        band(*b)
                    )
                }
                crate::bands::TargetRule::CountAtMost { band: b, count } => {
                    format!(
                        "目标“{}”：到 {} 年，低于“{}”的村不超过 {count} 个。",
                        t.name,
                        t.year,
                        band(*b)
                    )
                }
            });
        }
        if let Some(pf) = self.describe_pay_floor_zh() {
            out.push(pf);
        }
        let Some(p) = &self.incentive else {
            out.push("未设村干部激励办法。".into());
            return out;
        };
        out.push(format!(
            "激励口径：{}（{}）。",
            p.measure.name,
            p.measure.formula_zh()
        ));
        if p.allow_subsidy_in_measure && p.measure.counts_subsidies() {
            out.push("注意：口径计入补助收入。".into());
        }
        out.push(match &p.basis {
            Basis::Increase => "基数：比上年的增长额。".into(),
            Basis::IncreaseOverBest {
                lookback_years: Some(n),
            } => format!("基数：比前 {n} 年最高值的增长额。"),
            Basis::IncreaseOverBest {
                lookback_years: None,
            } => "基数：比以往最高值的增长额。".into(),
            Basis::IncreaseOverYear { base_year } => format!("基数：比 {base_year} 年的增长额。"),
            Basis::Level => "基数：当年水平。".into(),
            Basis::Above { threshold } => format!("基数：超过 {threshold} 元的部分。"),
        });
        if let Some(m) = p.min_level {
            out.push(format!("门槛：当年口径值不低于 {m} 元。"));
        }
        if let Some(m) = p.min_base {
            out.push(format!("门槛：基数不低于 {m} 元。"));
        }
        let tiers = |t: &[crate::incentive::plan::Tier]| {
            t.iter()
                .map(|x| format!("{} 元起 {}", x.from, x.rate))
                .collect::<Vec<_>>()
                .join("，")
        };
        out.push(match &p.schedule {
            Schedule::Flat { rate } => format!("计提：基数 × {rate}（不高于）。"),
            Schedule::Whole { tier_key, tiers: t } => format!(
                "计提：按{}所在档的比例乘以全部基数（全额累进）：{}。",
                if *tier_key == TierKey::Level {
                    "当年口径值"
                } else {
                    "基数"
                },
                tiers(t)
            ),
            Schedule::Marginal { tiers: t } => {
                format!("计提：超额累进，各段分别计提：{}。", tiers(t))
            }
        });
        if let Some(c) = p.cap {
            out.push(format!("封顶：每村不超过 {c} 元。"));
        }
        if !p.cap_by_level.is_empty() {
            let parts: Vec<String> = p
                .cap_by_level
                .iter()
                .map(|c| format!("{} 元起封顶 {} 元", c.from, c.cap))
                .collect();
            out.push(format!("按收入水平封顶：{}。", parts.join("，")));
        }
        let weights: Vec<String> = p
            .weights
            .iter()
            .filter(|(_, w)| **w > 0)
            .map(|(r, w)| format!("{} {w}", r.name_zh()))
            .collect();
        out.push(format!(
            "分配：按权重（{}）{}以最大余额法分到分；受处分者不参与{}。",
            weights.join("、"),
            if p.prorate_by_months {
                "乘以任职月数，"
            } else {
                ""
            },
            if p.min_months > 0 {
                format!("，任职不满 {} 个月者不参与", p.min_months)
            } else {
                String::new()
            }
        ));
        for (r, s) in &p.max_share {
            out.push(format!("{}最多分得奖励总额的 {s}。", r.name_zh()));
        }
        if let Some(a) = &p.appraisal {
            let parts: Vec<String> = a.iter().map(|(k, v)| format!("{k} {v}")).collect();
            out.push(format!(
                "按考核等次发放：{}；无等次者不发。",
                parts.join("，")
            ));
        }
        out.push("奖励总额是上限（按不高于）：村民会议可以决定更少，不能更多。".into());
        out
    }
}

impl Policy {
    /// The pay floor as a readable rule, when the policy has one.
    pub fn describe_pay_floor_zh(&self) -> Option<String> {
        let pf = self.pay_floor.as_ref()?;
        let roles: Vec<&str> = pf.roles.iter().map(|r| r.name_zh()).collect();
        Some(format!(
            "报酬保障：{}的基本报酬不低于所在县上年农村居民人均可支配收入的 {} 倍，且不低于 {} 元/年{}；任职不满一年的按月折算。",
            roles.join("、"),
            pf.multiple.decimal(),
            pf.minimum,
            pf.minimum_secretary_director.map(|m| format!("（书记兼主任不低于 {m} 元）")).unwrap_or_default()
        ))
    }
}
