//! Reading a policy file strictly: serde reads its shape (raw.rs: unknown keys refused, every value
//! with its span), then each section is checked into the domain types with the line in every error.

mod incentive;
mod raw;
mod sections;

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{line_of_offset, Policy, PolicyError};
use crate::account::Account;
use crate::bands::{Band, BandScheme, Target, TargetRule};
use crate::cadre::Role;
use crate::incentive::plan::Tier;
use crate::measure::Measure;
use crate::money::Fen;
use crate::rate::Ppm;
use raw::{Opt, Written};

/// Where a message points: the section (none at the top level), the key, and the span whose line
/// the message gives.
#[derive(Clone)]
struct At<'a> {
    section: Option<&'a str>,
    key: &'a str,
    span: Option<Range<usize>>,
}

/// A key of a section, at `span`.
fn at<'a>(section: &'a str, key: &'a str, span: Range<usize>) -> At<'a> {
    At {
        section: Some(section),
        key,
        span: Some(span),
    }
}

/// The span of a key when it is written, else of its section (a missing key is told at the
/// section's header).
fn span_or<T>(value: &Opt<T>, section: &Range<usize>) -> Range<usize> {
    value.as_ref().map_or(section.clone(), Spanned::span)
}

pub(super) fn read(text: &str) -> Result<Policy, PolicyError> {
    let de = toml::de::Deserializer::parse(text).map_err(|e| PolicyError {
        line: e.span().map(|s| line_of_offset(text, s.start)),
        message: format!("TOML 语法错误：{}", e.message()),
    })?;
    let file = raw::File::deserialize(de).map_err(|e| shape_error(text, &e))?;
    Reader { text }.policy(file)
}

/// A value of the wrong kind or a key not known, found by serde, told as the checks tell theirs:
/// `〔section〕key：…` in Chinese, with the line.
fn shape_error(text: &str, e: &toml::de::Error) -> PolicyError {
    let mut keys = keys_of(e);
    let raw = e.message();
    let line = e.span().map(|s| line_of_offset(text, s.start));
    let message = if let Some(field) = quoted_after(raw, "unknown field ") {
        keys.push(field.to_string());
        format!("未知的键 `{field}`（拼写错误的键不会被悄悄忽略）")
    } else if let Some((found, wanted)) = raw
        .strip_prefix("invalid type: ")
        .and_then(|r| r.split_once(", expected "))
    {
        format!("应为{}，写的是{}", kind_zh(wanted), written_zh(found))
    } else {
        // What toml finds only when it reads a value (a float too large) is still the file's syntax.
        let message = format!("TOML 语法错误：{raw}");
        return PolicyError { line, message };
    };
    let place = match keys.as_slice() {
        [] => String::new(),
        [key] => format!("{key}："),
        [section, key, ..] => format!("〔{section}〕{key}："),
    };
    PolicyError {
        line,
        message: format!("{place}{message}"),
    }
}

/// The keys an error of toml is found under (`incentive.tiers`). toml keeps them to itself and
/// prints them as a line "in `…`" when the error has no input text to quote; that line is read
/// (a test pins it, so that a toml that prints them otherwise is noticed).
fn keys_of(e: &toml::de::Error) -> Vec<String> {
    let mut e = e.clone();
    e.set_input(None);
    e.to_string()
        .lines()
        .find_map(|l| {
            l.strip_prefix("in `")?
                .strip_suffix('`')
                .map(str::to_string)
        })
        .map(|k| k.split('.').map(str::to_string).collect())
        .unwrap_or_default()
}

/// `x` of "PREFIX`x`…".
fn quoted_after<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(field, _)| field)
}

/// What serde says a value should have been (`a string`, `i64`, `struct Incentive`), in Chinese
/// (a word in Latin letters is set off by a space, as everywhere in cunji's messages).
fn kind_zh(wanted: &str) -> String {
    match wanted {
        "a string" => "字符串".into(),
        "a boolean" => " true 或 false".into(),
        "i64" => "整数".into(),
        "a sequence" => "列表 [ … ]".into(),
        "a map" => "表 { … }".into(),
        w if w.starts_with("struct ") => "表".into(),
        w => w.into(),
    }
}

/// What serde says was written (`integer `5``, `string "x"`), in Chinese.
fn written_zh(found: &str) -> String {
    let quoted = |prefix: &str| {
        found
            .strip_prefix(prefix)
            .map(|v| v.trim_matches('`').to_string())
    };
    if let Some(v) = quoted("integer ") {
        format!("整数 {v}")
    } else if let Some(v) = quoted("floating point ") {
        format!("小数 {v}")
    } else if let Some(v) = quoted("boolean ") {
        format!(" {v}")
    } else if let Some(v) = found.strip_prefix("string ") {
        format!("字符串 {v}")
    } else if found == "sequence" {
        "列表".into()
    } else if found == "map" {
        "表".into()
    } else {
        found.into()
    }
}

pub(super) struct Reader<'t> {
    pub(super) text: &'t str,
}

impl Reader<'_> {
    fn err(&self, at: At<'_>, message: impl Into<String>) -> PolicyError {
        let place = match at.section {
            Some(s) if at.key.is_empty() => format!("〔{s}〕"),
            Some(s) => format!("〔{s}〕{}", at.key),
            None => at.key.to_string(),
        };
        PolicyError {
            line: at.span.map(|s| line_of_offset(self.text, s.start)),
            message: format!("{place}：{}", message.into()),
        }
    }

    fn policy(&self, f: raw::File) -> Result<Policy, PolicyError> {
        let top = |key, span: Option<Range<usize>>| At {
            section: None,
            key,
            span,
        };
        let name = match f.name {
            Some(s) if !s.get_ref().trim().is_empty() => s.get_ref().trim().to_string(),
            Some(s) => return Err(self.err(top("name", Some(s.span())), "应为非空字符串")),
            None => return Err(self.err(top("name", None), "缺少政策名称 name（唯一必填的键）")),
        };
        let region = match f.region {
            None => None,
            Some(s) => {
                let r = s.get_ref();
                if r.is_empty() || r.len() > 12 || !r.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(
                        self.err(top("region", Some(s.span())), "应为区划代码前缀，如 \"13\"")
                    );
                }
                Some(r.clone())
            }
        };
        let years = match f.years {
            None => None,
            Some(s) => {
                let year = |y: &Spanned<i64>| i32::try_from(*y.get_ref()).ok();
                match s.get_ref().as_slice() {
                    [a, b] => match (year(a), year(b)) {
                        (Some(x), Some(y)) if x <= y => Some((x, y)),
                        _ => {
                            return Err(self.err(
                                top("years", Some(s.span())),
                                "应为 [起始年, 终止年]，起始不晚于终止",
                            ))
                        }
                    },
                    _ => {
                        return Err(self.err(top("years", Some(s.span())), "应为 [起始年, 终止年]"))
                    }
                }
            }
        };

        let mut custom_measures: Vec<Measure> = Vec::new();
        for m in f.measure.unwrap_or_default() {
            let span = m.span();
            let m = self.custom_measure(m.into_inner(), span.clone())?;
            if custom_measures.iter().any(|c| c.key == m.key) {
                let message = format!("口径 `{}` 重复定义", m.key);
                return Err(self.err(at("measure", "key", span), message));
            }
            custom_measures.push(m);
        }
        let find_measure = |key: &str| -> Option<Measure> {
            Measure::standard()
                .into_iter()
                .chain(custom_measures.iter().cloned())
                .find(|m| m.key == key)
        };

        let bands = f.bands.map(|b| self.bands(b, &find_measure)).transpose()?;
        let targets = f
            .target
            .unwrap_or_default()
            .into_iter()
            .map(|t| self.target(t, bands.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let incentive = f
            .incentive
            .map(|i| self.incentive(i, &find_measure))
            .transpose()?;
        let pay_floor = f.pay_floor.map(|p| self.pay_floor(p)).transpose()?;
        let alerts = match f.alerts {
            None => crate::alerts::AlertSettings::default(),
            Some(a) => self.alerts(a)?,
        };
        let contracts = match f.contracts {
            None => crate::contracts::ContractSettings::default(),
            Some(c) => self.contracts(c)?,
        };
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

    fn custom_measure(&self, m: raw::Measure, sec: Range<usize>) -> Result<Measure, PolicyError> {
        let at = |key, v: Option<Range<usize>>| at("measure", key, v.unwrap_or(sec.clone()));
        let key_span = m.key.as_ref().map(Spanned::span);
        let key = match m.key {
            Some(k) if is_identifier(k.get_ref()) => k.into_inner(),
            Some(k) => {
                return Err(self.err(
                    at("key", Some(k.span())),
                    "应为由小写字母、数字和下划线组成的键",
                ))
            }
            None => return Err(self.err(at("key", None), "缺少 key")),
        };
        if Measure::is_standard_key(&key) {
            return Err(self.err(
                at("key", key_span),
                format!("`{key}` 是标准口径，自定义口径不能重用"),
            ));
        }
        let name = m.name.map_or_else(|| key.clone(), Spanned::into_inner);
        let Some(terms) = m.terms else {
            return Err(self.err(
                at("terms", None),
                "缺少 terms，如 { operating_revenue = 1, operating_cost = -1 }",
            ));
        };
        let mut list = Vec::new();
        for (k, c) in terms.into_inner().0 {
            let Some(account) = Account::from_key_or_name(&k) else {
                return Err(self.err(at("terms", Some(c.span())), format!("未知科目 `{k}`")));
            };
            match i8::try_from(*c.get_ref()) {
                Ok(c) if (-1..=1).contains(&c) => list.push((account, c)),
                _ => {
                    let message = format!("科目 `{k}` 的系数只能是 -1、0 或 1");
                    return Err(self.err(at("terms", Some(c.span())), message));
                }
            }
        }
        Ok(Measure::new(&key, &name, &list))
    }

    fn bands(
        &self,
        b: Spanned<raw::Bands>,
        find_measure: &dyn Fn(&str) -> Option<Measure>,
    ) -> Result<BandScheme, PolicyError> {
        let sec = b.span();
        let b = b.into_inner();
        let measure = self.measure_key(&b.measure, "bands", &sec, find_measure)?;
        let Some(items) = b.band else {
            return Err(self.err(at("bands", "band", sec), "缺少 band 列表"));
        };
        let list_span = items.span();
        if items.get_ref().is_empty() {
            return Err(self.err(at("bands", "band", list_span), "至少要有一档"));
        }
        let mut bands: Vec<Band> = Vec::new();
        for (i, item) in items.into_inner().into_iter().enumerate() {
            let at = |span| at("bands", "band", span);
            let span = item.span();
            let item = item.into_inner();
            let name = match item.name {
                Some(s) if !s.get_ref().is_empty() => s.into_inner(),
                _ => return Err(self.err(at(span), format!("第 {} 档缺少名称 name", i + 1))),
            };
            if bands.iter().any(|x| x.name == name) {
                return Err(self.err(at(span), format!("档名“{name}”重复")));
            }
            let min = match &item.min {
                None => None,
                Some(v) => Some(self.money(v, at(v.span()))?),
            };
            match (i, min) {
                (0, Some(_)) => {
                    return Err(self.err(at(span), "第一档不写 min（它包含低于第二档的一切）"))
                }
                (0, None) => {}
                (_, None) => return Err(self.err(at(span), format!("档“{name}”缺少 min"))),
                (_, Some(m)) => {
                    if bands
                        .last()
                        .and_then(|b| b.min)
                        .is_some_and(|prev| m <= prev)
                    {
                        return Err(self.err(at(span), "各档 min 必须严格递增"));
                    }
                }
            }
            bands.push(Band { name, min });
        }
        Ok(BandScheme { measure, bands })
    }

    fn target(
        &self,
        t: Spanned<raw::Target>,
        bands: Option<&BandScheme>,
    ) -> Result<Target, PolicyError> {
        let sec = t.span();
        let t = t.into_inner();
        let at = |key, span| at("target", key, span);
        let name = match &t.name {
            Some(s) if !s.get_ref().is_empty() => s.get_ref().clone(),
            _ => {
                let span = span_or(&t.name, &sec);
                return Err(self.err(at("name", span), "缺少目标名称 name"));
            }
        };
        let year = match &t.year {
            Some(y) if (1900..=9999).contains(y.get_ref()) => *y.get_ref() as i32,
            _ => return Err(self.err(at("year", span_or(&t.year, &sec)), "缺少或不是年份")),
        };
        let Some(scheme) = bands else {
            return Err(self.err(at("", sec), "目标需要 [bands] 分档"));
        };
        let band_index = |key: &'static str, band: &Spanned<String>| {
            scheme.index_of(band.get_ref()).ok_or_else(|| {
                let message = format!("分档中没有“{}”这一档", band.get_ref());
                self.err(at(key, band.span()), message)
            })
        };
        let rule = match (&t.band_at_least, &t.band_below) {
            (Some(b), None) => {
                if let Some(c) = &t.count_at_most {
                    return Err(self.err(
                        at("count_at_most", c.span()),
                        "count_at_most 与 band_below 搭配，不与 band_at_least 搭配",
                    ));
                }
                let band = band_index("band_at_least", b)?;
                let Some(s) = &t.share_at_least else {
                    return Err(self.err(
                        at("share_at_least", sec),
                        "band_at_least 需要 share_at_least",
                    ));
                };
                let share = self.rate(s, at("share_at_least", s.span()), Ppm::ONE)?;
                TargetRule::ShareAtLeast { band, share }
            }
            (None, Some(b)) => {
                if let Some(s) = &t.share_at_least {
                    return Err(self.err(
                        at("share_at_least", s.span()),
                        "share_at_least 与 band_at_least 搭配，不与 band_below 搭配",
                    ));
                }
                let band = band_index("band_below", b)?;
                let count = match &t.count_at_most {
                    Some(n) if *n.get_ref() >= 0 => *n.get_ref() as u64,
                    _ => {
                        return Err(self.err(
                            at("count_at_most", span_or(&t.count_at_most, &sec)),
                            "band_below 需要非负整数 count_at_most",
                        ))
                    }
                };
                TargetRule::CountAtMost { band, count }
            }
            _ => {
                return Err(self.err(
                    at("", sec),
                    "目标须且只须有 band_at_least（配 share_at_least）或 band_below（配 count_at_most）之一",
                ))
            }
        };
        Ok(Target { name, year, rule })
    }

    /// `tiers = [{ from, rate }, …]` of `[incentive]`: `from` not negative and strictly ascending.
    fn tiers(
        &self,
        tiers: &Opt<Vec<Spanned<raw::Tier>>>,
        sec: &Range<usize>,
    ) -> Result<Vec<Tier>, PolicyError> {
        let at = |span| at("incentive", "tiers", span);
        let Some(items) = tiers else {
            let message = "分档方案需要 tiers = [{ from = …, rate = … }, …]";
            return Err(self.err(at(sec.clone()), message));
        };
        let list_span = items.span();
        let mut out: Vec<Tier> = Vec::new();
        for item in items.get_ref() {
            let (span, item) = (item.span(), item.get_ref());
            let (Some(from), Some(rate)) = (&item.from, &item.rate) else {
                return Err(self.err(at(span), "每档须且只须有 from 与 rate"));
            };
            let from = self.non_negative_money(from, at(from.span()), "分档起点")?;
            let rate = self.rate(rate, at(rate.span()), Ppm::ONE)?;
            if out.last().is_some_and(|l| l.from >= from) {
                return Err(self.err(at(span), "各档 from 必须严格递增"));
            }
            out.push(Tier { from, rate });
        }
        if out.is_empty() {
            return Err(self.err(at(list_span), "至少要有一档"));
        }
        Ok(out)
    }

    /// A measure's key (`operating_income` when not written), which must be standard or defined.
    fn measure_key(
        &self,
        key: &Opt<String>,
        section: &str,
        sec: &Range<usize>,
        find_measure: &dyn Fn(&str) -> Option<Measure>,
    ) -> Result<String, PolicyError> {
        let span = span_or(key, sec);
        let key = key
            .as_ref()
            .map_or("operating_income", |k| k.get_ref().as_str())
            .to_string();
        if find_measure(&key).is_none() {
            return Err(self.err(
                at(section, "measure", span),
                format!("未知口径 `{key}`（标准口径或 [[measure]] 中定义的口径）"),
            ));
        }
        Ok(key)
    }

    fn role(&self, key: &str, at: At<'_>) -> Result<Role, PolicyError> {
        Role::parse(key).ok_or_else(|| self.err(at, format!("未知职务 `{key}`")))
    }

    /// Money: a TOML integer of yuan, or a string per SPEC §1; a float is refused.
    fn money(&self, v: &Spanned<Written>, at: At<'_>) -> Result<Fen, PolicyError> {
        match v.get_ref() {
            Written::Integer(y) => Fen::from_yuan_int(*y).map_err(|e| self.err(at, e.to_string())),
            Written::Text(s) => Fen::parse_yuan(s).map_err(|e| self.err(at, e.to_string())),
            Written::Float(f) => Err(self.err(
                at,
                format!("金额不能写成浮点数 {f}：请写整数元（如 50000）或字符串（如 \"0.01\"）"),
            )),
        }
    }

    /// Money that may not be negative (SPEC §10: caps and tier starts): a negative cap would break
    /// Σ amount + unallocated = pool.
    fn non_negative_money(
        &self,
        v: &Spanned<Written>,
        at: At<'_>,
        what: &str,
    ) -> Result<Fen, PolicyError> {
        let m = self.money(v, at.clone())?;
        if m.is_negative() {
            return Err(self.err(at, format!("{what}不能为负数（{} 元）", m)));
        }
        Ok(m)
    }

    /// A rate: a string (`"10%"`, `"0.085"`) or a TOML number taken at its written decimal value.
    fn rate(&self, v: &Spanned<Written>, at: At<'_>, max: Ppm) -> Result<Ppm, PolicyError> {
        let text = match v.get_ref() {
            Written::Text(s) => s.clone(),
            Written::Integer(i) => i.to_string(),
            // Rust prints the shortest decimal that reads back as the same float: the written value.
            Written::Float(f) => format!("{f}"),
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

#[cfg(test)]
mod tests {
    /// toml prints the keys of an error only in its text; this pins how it prints them.
    #[test]
    fn toml_names_the_keys_an_error_is_under() {
        let text = "name = \"x\"\n[incentive]\ntiers = [ { from = 1, rate = 1, x = 1 } ]\n";
        let e = toml::from_str::<super::raw::File>(text).err().unwrap();
        assert_eq!(super::keys_of(&e), ["incentive", "tiers"]);
        let e = toml::from_str::<super::raw::File>("name = 1\n")
            .err()
            .unwrap();
        assert_eq!(super::keys_of(&e), ["name"]);
    }
}
