//! Reading a policy's TOML table strictly: every key known, in its place, with its line in errors.

mod incentive;
mod sections;

use toml::{Table, Value};

use super::{Policy, PolicyError};
use crate::account::Account;
use crate::bands::{Band, BandScheme, Target, TargetRule};
use crate::cadre::Role;
use crate::incentive::plan::Tier;
use crate::measure::Measure;
use crate::money::Fen;
use crate::rate::Ppm;

/// Where a key sits: the section (with its index for arrays of tables) and the key.
#[derive(Clone, Copy)]
struct At<'a> {
    section: Option<(&'a str, usize)>,
    key: &'a str,
}

pub(super) struct Reader<'t> {
    pub(super) text: &'t str,
}

const TOP_KEYS: [&str; 10] = [
    "name",
    "region",
    "years",
    "measure",
    "bands",
    "target",
    "incentive",
    "pay_floor",
    "alerts",
    "contracts",
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

    pub(super) fn policy(&self, t: &Table) -> Result<Policy, PolicyError> {
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

        let contracts = self.contracts(t.get("contracts"))?;

        Ok(Policy {
            contracts,
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

    /// `[contracts]` (SPEC §16): `resolution_threshold`, yuan, at least 0 (default 100,000).
    fn contracts(
        &self,
        v: Option<&Value>,
    ) -> Result<crate::contracts::ContractSettings, PolicyError> {
        let mut settings = crate::contracts::ContractSettings::default();
        let t = match v {
            None => return Ok(settings),
            Some(Value::Table(t)) => t,
            Some(_) => {
                let at = At {
                    section: None,
                    key: "contracts",
                };
                return Err(self.err(at, "应为 [contracts] 表"));
            }
        };
        let sec = Some(("contracts", 0));
        self.check_keys(t, &["resolution_threshold"], sec)?;
        if let Some(v) = t.get("resolution_threshold") {
            let at = At {
                section: sec,
                key: "resolution_threshold",
            };
            settings.resolution_threshold = self.non_negative_money(v, at, "决议金额门槛")?;
        }
        Ok(settings)
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
