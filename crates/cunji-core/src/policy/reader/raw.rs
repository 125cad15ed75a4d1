//! The policy file's shape (SPEC §10) as serde reads it. Every table denies keys it does not know
//! (a misspelt key must not be silently ignored) and every value keeps its span, so that the checks
//! that turn these into the domain types (reader.rs) name the line. Every key is optional here: a
//! missing one is refused by those checks, with the message a county official reads.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

/// An optional key with its span.
pub(super) type Opt<T> = Option<Spanned<T>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    pub name: Opt<String>,
    pub region: Opt<String>,
    pub years: Opt<Vec<Spanned<i64>>>,
    pub measure: Option<Vec<Spanned<Measure>>>,
    pub bands: Opt<Bands>,
    pub target: Option<Vec<Spanned<Target>>>,
    pub incentive: Opt<Incentive>,
    pub pay_floor: Opt<PayFloor>,
    pub alerts: Opt<Alerts>,
    pub contracts: Opt<Contracts>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Measure {
    pub key: Opt<String>,
    pub name: Opt<String>,
    pub terms: Opt<Entries<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Bands {
    pub measure: Opt<String>,
    pub band: Opt<Vec<Spanned<Band>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Band {
    pub name: Opt<String>,
    pub min: Opt<Written>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Target {
    pub name: Opt<String>,
    pub year: Opt<i64>,
    pub band_at_least: Opt<String>,
    pub share_at_least: Opt<Written>,
    pub band_below: Opt<String>,
    pub count_at_most: Opt<i64>,
}

/// `[incentive]`: every key of every basis and schedule; which of them may appear together is
/// checked afterwards (a key of another basis or schedule is an error naming the one chosen).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Incentive {
    pub measure: Opt<String>,
    pub allow_subsidy_in_measure: Opt<bool>,
    pub basis: Opt<String>,
    pub lookback_years: Opt<i64>,
    pub base_year: Opt<i64>,
    pub threshold: Opt<Written>,
    pub min_level: Opt<Written>,
    pub min_base: Opt<Written>,
    pub schedule: Opt<String>,
    pub rate: Opt<Written>,
    pub tier_key: Opt<String>,
    pub tiers: Opt<Vec<Spanned<Tier>>>,
    pub cap: Opt<Written>,
    pub cap_by_level: Opt<Vec<Spanned<LevelCap>>>,
    pub min_months: Opt<i64>,
    pub prorate_by_months: Opt<bool>,
    pub weights: Opt<Entries<i64>>,
    pub max_share: Opt<Entries<Written>>,
    pub appraisal: Opt<Entries<Written>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Tier {
    pub from: Opt<Written>,
    pub rate: Opt<Written>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LevelCap {
    pub from: Opt<Written>,
    pub cap: Opt<Written>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PayFloor {
    pub multiple: Opt<Written>,
    pub minimum: Opt<Written>,
    pub minimum_secretary_director: Opt<Written>,
    pub roles: Opt<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Alerts {
    pub year_end_share: Opt<Written>,
    pub surge_rate: Opt<Written>,
    pub surge_min: Opt<Written>,
    pub pass_through_days: Opt<i64>,
    pub subsidy_share: Opt<Written>,
    pub round_unit: Opt<Written>,
    pub round_share: Opt<Written>,
}

/// `[contracts]` (SPEC §16).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Contracts {
    pub resolution_threshold: Opt<Written>,
}

/// A money amount or a rate as the file writes it. Each is read by its own rule (SPEC §10): money
/// refuses a float, a rate takes one at its written decimal value; so the kind written is kept.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Written {
    Integer(i64),
    Float(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for Written {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Written;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("数字或字符串")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Written, E> {
                Ok(Written::Integer(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Written, E> {
                // TOML integers are i64; only a deserializer other than toml's could send more.
                i64::try_from(v)
                    .map(Written::Integer)
                    .map_err(|_| E::custom(format!("数字 {v} 太大")))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Written, E> {
                Ok(Written::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Written, E> {
                Ok(Written::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A table whose keys the file chooses (accounts, roles, ratings), in the order written: the first
/// bad key is the one reported, and a key named twice (by its key and its Chinese name) keeps the
/// later value.
pub(super) struct Entries<T>(pub Vec<(String, Spanned<T>)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entries<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Entries<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Entries<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}
