//! What a workflow step brings, read from a page's form or the API's JSON into domain values at the
//! edge: a bad date, count or amount is refused here with the field named, before any rule is asked.

use std::collections::BTreeMap;

use cunji_core::date::Date;
use cunji_core::workflow::{Action, Body, Meetings, Resolution};
use cunji_core::Fen;
use serde_json::Value;

/// A step's input, per action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepInput {
    Compute,
    Resolve(Resolution),
    Approve {
        note: String,
        checks: BTreeMap<String, String>,
    },
    File {
        note: String,
    },
    Pay {
        date: Date,
        paid: BTreeMap<String, Fen>,
    },
    Publish {
        from: Date,
        to: Date,
    },
    SendBack {
        reason: String,
    },
    Recover {
        date: Date,
        amounts: BTreeMap<String, Fen>,
    },
}

/// Text fields of an input, by name: a form's fields, or a JSON object's values. Maps (awards, checks,
/// amounts) are fields named `prefix_key` in a form and objects in JSON.
pub struct Fields {
    plain: BTreeMap<String, String>,
    maps: BTreeMap<String, BTreeMap<String, String>>,
}

/// How a text caps what it keeps: a note or reason of more is refused (a page's textarea is far below).
const TEXT_LIMIT: usize = 2_000;

/// A map field has at most this many entries (a village has a handful of cadres and alert kinds).
const MAP_LIMIT: usize = 200;

impl Fields {
    /// From a form's fields; `map_prefixes` name the fields that form maps (`decided_P1` → `decided`).
    pub fn from_form(form: &[(String, String)], map_prefixes: &[&str]) -> Fields {
        let mut plain = BTreeMap::new();
        let mut maps: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (k, v) in form {
            let prefix = map_prefixes.iter().find(|p| {
                k.len() > p.len() + 1 && k.starts_with(*p) && k[p.len()..].starts_with('_')
            });
            match prefix {
                Some(p) => {
                    let key = k[p.len() + 1..].to_string();
                    maps.entry(p.to_string())
                        .or_default()
                        .insert(key, v.clone());
                }
                None => {
                    plain.insert(k.clone(), v.clone());
                }
            }
        }
        Fields { plain, maps }
    }

    /// From a JSON object: strings and numbers are fields, objects of them are maps; `meetings` is
    /// flattened (its four dates are fields).
    pub fn from_json(body: &[u8]) -> Result<Fields, String> {
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            format!(
                "请求体不是有效的 JSON（第 {} 行第 {} 列）",
                e.line(),
                e.column()
            )
        })?;
        let Value::Object(obj) = value else {
            return Err("请求体应为 JSON 对象".into());
        };
        let mut plain = BTreeMap::new();
        let mut maps = BTreeMap::new();
        for (k, v) in obj {
            match v {
                Value::Object(inner) if k == "meetings" => {
                    for (mk, mv) in inner {
                        let text = scalar(&mv).ok_or(format!("meetings.{mk} 应为日期"))?;
                        plain.insert(mk, text);
                    }
                }
                Value::Object(inner) => {
                    let mut m = BTreeMap::new();
                    for (ik, iv) in inner {
                        m.insert(
                            ik.clone(),
                            scalar(&iv).ok_or(format!("{k}.{ik} 应为文字或数字"))?,
                        );
                    }
                    maps.insert(k, m);
                }
                other => {
                    if let Some(s) = scalar(&other) {
                        plain.insert(k, s);
                    }
                }
            }
        }
        Ok(Fields { plain, maps })
    }

    fn text(&self, key: &str) -> String {
        self.plain
            .get(key)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    fn bounded_text(&self, key: &str, name: &str) -> Result<String, String> {
        let t = self.text(key);
        if t.chars().count() > TEXT_LIMIT {
            return Err(format!("{name}过长（最多 {TEXT_LIMIT} 个字）"));
        }
        Ok(t)
    }

    fn date(&self, key: &str, name: &str) -> Result<Date, String> {
        let t = self.text(key);
        if t.is_empty() {
            return Err(format!("请填写{name}（YYYY-MM-DD）"));
        }
        Date::parse(&t).map_err(|e| format!("{name}：{e}"))
    }

    fn count(&self, key: &str, name: &str) -> Result<u32, String> {
        let t = self.text(key);
        t.parse::<u32>()
            .ok()
            .filter(|n| *n <= 1_000_000)
            .ok_or_else(|| format!("{name}应为 0–1000000 的整数，不是“{t}”"))
    }

    fn map(&self, key: &str) -> Result<BTreeMap<String, String>, String> {
        let m = self.maps.get(key).cloned().unwrap_or_default();
        if m.len() > MAP_LIMIT {
            return Err(format!("{key} 的项目过多（最多 {MAP_LIMIT} 项）"));
        }
        Ok(m)
    }

    fn amounts(&self, key: &str, what: &str) -> Result<BTreeMap<String, Fen>, String> {
        let mut out = BTreeMap::new();
        for (person, text) in self.map(key)? {
            let f = Fen::parse_yuan(&text).map_err(|e| format!("{person} 的{what}：{e}"))?;
            out.insert(person, f);
        }
        Ok(out)
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Collects every field's error while an input is read, so a refused form lists them all.
#[derive(Default)]
struct Errors(Vec<String>);

impl Errors {
    fn take<T: Default>(&mut self, r: Result<T, String>) -> T {
        r.unwrap_or_else(|e| {
            self.0.push(e);
            T::default()
        })
    }

    /// The date in field `key` (`label` in its error), or a stand-in while the errors are gathered.
    fn date(&mut self, f: &Fields, key: &str, label: &str) -> Date {
        self.take(f.date(key, label).map(Some))
            .unwrap_or_else(epoch)
    }

    fn done<T>(self, value: T) -> Result<T, String> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0.join("；"))
        }
    }
}

impl StepInput {
    /// The input of `action` from `f`, or every field's error (joined with `；`). The form's map
    /// fields and the API's objects share names: `awards` (resolve), `checks` (approve), `paid`
    /// (pay), `recovered` (recover).
    pub fn read(action: Action, f: &Fields) -> Result<StepInput, String> {
        let mut e = Errors::default();
        let input = match action {
            Action::Compute => StepInput::Compute,
            Action::Resolve => return resolution(f).map(StepInput::Resolve),
            Action::Approve => StepInput::Approve {
                note: e.take(f.bounded_text("note", "审核意见")),
                checks: e.take(f.map("checks")),
            },
            Action::File => StepInput::File {
                note: e.take(f.bounded_text("note", "备案说明")),
            },
            Action::Pay => StepInput::Pay {
                date: e.date(f, "date", "发放日期"),
                paid: e.take(f.amounts("paid", "发放金额")),
            },
            Action::Publish => StepInput::Publish {
                from: e.date(f, "from", "公示开始日期"),
                to: e.date(f, "to", "公示结束日期"),
            },
            Action::SendBack => StepInput::SendBack {
                reason: e.take(f.bounded_text("reason", "退回理由")),
            },
            Action::Recover => StepInput::Recover {
                date: e.date(f, "date", "追回日期"),
                amounts: e.take(f.amounts("recovered", "追回金额")),
            },
        };
        e.done(input)
    }

    /// The form fields that are maps, by prefix.
    pub const FORM_MAPS: [&'static str; 4] = ["awards", "checks", "paid", "recovered"];
}

/// A stand-in date while the errors of a form are gathered (never stored: `Errors::done` refuses).
fn epoch() -> Date {
    Date::from_day_number(0)
}

fn resolution(f: &Fields) -> Result<Resolution, String> {
    let mut e = Errors::default();
    let mut date = |key: &str, name: &str| e.date(f, key, name);
    let meetings = Meetings {
        proposed: date("proposed", "党组织提议日期"),
        discussed: date("discussed", "两委会议商议日期"),
        reviewed: date("reviewed", "党员大会审议日期"),
        decided: date("decided", "村民（代表）会议决议日期"),
    };
    let published = date("resolution_published", "决议公开日期");
    let body = e
        .take(Body::parse(&f.text("body"), &f.text("count_by")).map(Some))
        .unwrap_or(Body::Representatives);
    let r = Resolution {
        meetings,
        body,
        members: e.take(f.count("members", "应到人数")),
        present: e.take(f.count("present", "实到人数")),
        votes_for: e.take(f.count("for", "赞成票数")),
        votes_against: e.take(f.count("against", "反对票数")),
        votes_abstain: e.take(f.count("abstain", "弃权票数")),
        published,
        awards: e.take(f.amounts("awards", "决定金额")),
    };
    e.done(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_example_reads_as_the_form_does() {
        let json = br#"{ "meetings": { "proposed": "2025-01-06", "discussed": "2025-01-08", "reviewed": "2025-01-10", "decided": "2025-01-15" },
  "body": "representatives", "count_by": "adults", "members": 30, "present": 24,
  "for": 20, "against": 3, "abstain": 1, "resolution_published": "2025-01-16",
  "awards": { "R100201-1": "9402.20", "R100201-2": "9000.00" }, "attachments": [] }"#;
        let from_json = StepInput::read(Action::Resolve, &Fields::from_json(json).unwrap());
        let form: Vec<(String, String)> = [
            ("proposed", "2025-01-06"),
            ("discussed", "2025-01-08"),
            ("reviewed", "2025-01-10"),
            ("decided", "2025-01-15"),
            ("body", "representatives"),
            ("members", "30"),
            ("present", "24"),
            ("for", "20"),
            ("against", "3"),
            ("abstain", "1"),
            ("resolution_published", "2025-01-16"),
            ("awards_R100201-1", "9,402.20"),
            ("awards_R100201-2", "9000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let fields = Fields::from_form(&form, &StepInput::FORM_MAPS);
        let from_form = StepInput::read(Action::Resolve, &fields);
        assert_eq!(from_json, from_form);
        let StepInput::Resolve(r) = from_json.unwrap() else {
            panic!("a resolution");
        };
        assert_eq!((r.members, r.present, r.votes_for), (30, 24, 20));
        assert_eq!(r.awards["R100201-1"], Fen::from_fen(940_220));
    }

    #[test]
    fn bad_fields_are_named() {
        let f = Fields::from_json(r#"{"present": "二十", "members": 30}"#.as_bytes()).unwrap();
        assert_eq!(
            f.count("present", "实到人数"),
            Err("实到人数应为 0–1000000 的整数，不是“二十”".into())
        );
        let e = StepInput::read(Action::Publish, &f).unwrap_err();
        // Every field's error, not only the first (a refused form lists them all).
        assert_eq!(
            e,
            "请填写公示开始日期（YYYY-MM-DD）；请填写公示结束日期（YYYY-MM-DD）"
        );
        assert_eq!(
            Fields::from_json(b"{ nope").err().unwrap(),
            "请求体不是有效的 JSON（第 1 行第 3 列）"
        );
        let long = format!(r#"{{"reason": "{}"}}"#, "很".repeat(2_001));
        let f = Fields::from_json(long.as_bytes()).unwrap();
        assert_eq!(
            StepInput::read(Action::SendBack, &f),
            Err("退回理由过长（最多 2000 个字）".into())
        );
    }
}
