//! A decided reward against the books as they are now (SPEC §13, §15): what was paid, the pool the
//! current books give under the proposal's **own** policy version, the overpayment per person (应追回)
//! and what is still to recover; the figures that changed since publication; and whether a policy
//! saved later changes an unpaid proposal's amounts.
//!
//! This is the one home of these rules: the workflow page, the to-do list and dashboard, the JSON API,
//! the public page and notice, and the exit-audit pack all ask [`Standing::of`] and [`Repricing::of`].
//! Before this module the overpayment was computed in three places that re-evaluated paid rewards
//! under whatever policy was current, and a county was asked to recover 643.66 元 from a cadre paid
//! exactly what was decided.

use std::collections::BTreeMap;

use crate::cadre::Role;
use crate::incentive::evaluate::IncentiveResult;
use crate::money::{Fen, FenSum};

/// One person's line of a proposal as the workflow recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwardRecord {
    pub person: String,
    pub name: String,
    pub role: Role,
    /// The amount computed under the proposal's policy version (a ceiling for the decision).
    pub computed: Fen,
    /// What the village resolution decided (none before `resolve`, or after a send-back).
    pub decided: Option<Fen>,
    /// What the `pay` step recorded.
    pub paid: Option<Fen>,
    /// What `recover` steps recorded as given back.
    pub recovered: Fen,
}

impl From<&crate::incentive::Award> for AwardRecord {
    /// A computed award as a proposal records it: the amount computed, nothing decided yet.
    fn from(a: &crate::incentive::Award) -> Self {
        AwardRecord {
            person: a.person.clone(),
            name: a.name.clone(),
            role: a.role,
            computed: a.amount,
            decided: None,
            paid: None,
            recovered: Fen::ZERO,
        }
    }
}

/// Exact sum of amounts: a proposal holds a handful of people, each amount bounded by the pool, so
/// an `i128` cannot overflow and the result is the exact figure (narrowed only where shown).
fn sum(amounts: impl IntoIterator<Item = Fen>) -> Fen {
    FenSum::of(amounts).saturated()
}

/// Where a decided reward stands against the current books (computed under its own policy version).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    /// What was paid in all (`None` before the `pay` step).
    pub paid: Option<Fen>,
    /// The pool the current books give under the proposal's own policy version (0 when they give none).
    pub pool_now: Fen,
    /// Per person, what was paid beyond the amount the current books allow (SPEC §13); empty unless
    /// the pool now is below what was paid. Persons with nothing to give back are left out.
    pub owed: BTreeMap<String, Fen>,
    /// What was given back in all.
    pub recovered: Fen,
    /// Per person, what is owed and not yet given back (empty when nothing is).
    pub outstanding: BTreeMap<String, Fen>,
}

impl Standing {
    /// The standing of a proposal's `awards` given `now`, the same village-year computed from the
    /// current books **under the policy version the proposal was computed with** (the caller's
    /// duty: a policy saved later must never create an overpayment).
    pub fn of(awards: &[AwardRecord], now: Option<&IncentiveResult>) -> Standing {
        let paid_each: BTreeMap<String, Fen> = awards
            .iter()
            .filter_map(|a| a.paid.map(|p| (a.person.clone(), p)))
            .collect();
        let paid = awards
            .iter()
            .any(|a| a.paid.is_some())
            .then(|| sum(paid_each.values().copied()));
        let pool_now = now.map_or(Fen::ZERO, |i| i.pool);
        let allowed: BTreeMap<String, Fen> = now
            .map(|i| {
                i.awards
                    .iter()
                    .map(|a| (a.person.clone(), a.amount))
                    .collect()
            })
            .unwrap_or_default();
        let owed = overpayment(&paid_each, pool_now, &allowed).unwrap_or_default();
        let outstanding = owed
            .iter()
            .filter_map(|(person, over)| {
                let back = awards
                    .iter()
                    .find(|a| &a.person == person)
                    .map_or(Fen::ZERO, |a| a.recovered);
                let left = over.saturating_sub(back);
                left.is_positive().then(|| (person.clone(), left))
            })
            .collect();
        Standing {
            paid,
            pool_now,
            owed,
            recovered: sum(awards.iter().map(|a| a.recovered)),
            outstanding,
        }
    }

    /// Whether the books now allow less than was paid (应追回), recovered or not.
    pub fn is_overpaid(&self) -> bool {
        !self.owed.is_empty()
    }

    /// What is still to be recovered in all.
    pub fn outstanding_total(&self) -> Fen {
        sum(self.outstanding.values().copied())
    }

    /// The overpayment in all (before recoveries).
    pub fn owed_total(&self) -> Fen {
        sum(self.owed.values().copied())
    }
}

/// What was paid beyond what the books now allow (应追回), per person: the amount paid minus the
/// person's amount under the new figures, never below 0; `None` unless the pool computed now is below
/// what was paid in all (SPEC §13). Persons with nothing to give back are left out.
pub fn overpayment(
    paid: &BTreeMap<String, Fen>,
    now_pool: Fen,
    now: &BTreeMap<String, Fen>,
) -> Option<BTreeMap<String, Fen>> {
    if now_pool >= sum(paid.values().copied()) {
        return None;
    }
    let per_person = paid
        .iter()
        .filter_map(|(person, p)| {
            let allowed = now.get(person).copied().unwrap_or(Fen::ZERO);
            let over = p.saturating_sub(allowed);
            over.is_positive().then(|| (person.clone(), over))
        })
        .collect();
    Some(per_person)
}

/// A figure of a published reward that the current books give differently (SPEC §15): its name, the
/// published value and the value now (`None`: no longer computable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    pub name: &'static str,
    pub published: Option<Fen>,
    pub now: Option<Fen>,
}

/// The figures of a published reward that changed: the measure's value, the base and the pool, each
/// published one against the one the current books give under the proposal's own version. A proposal
/// stored before the measure values were kept (`measure` and `base` `None`) is compared by its pool.
pub fn changed_figures(
    published: (Option<Fen>, Option<Fen>, Fen),
    now: Option<&IncentiveResult>,
) -> Vec<Changed> {
    let (measure, base, pool) = published;
    let kept = measure.is_some() || base.is_some();
    let mut out = Vec::new();
    let mut check = |name, published: Option<Fen>, now: Option<Fen>| {
        if published != now {
            out.push(Changed {
                name,
                published,
                now,
            });
        }
    };
    if kept {
        check("考核口径的收入", measure, now.and_then(|i| i.measure));
        check("计奖基数（增长额）", base, now.and_then(|i| i.base));
    }
    check(
        "奖励总额上限",
        Some(pool),
        Some(now.map_or(Fen::ZERO, |i| i.pool)),
    );
    out
}

/// How a policy saved later changes an unpaid proposal (SPEC §13): the pool and each person's
/// computed amount under the proposal's version and under the new one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repricing {
    pub pool_before: Fen,
    pub pool_after: Fen,
    /// (person, name, amount before, amount after); a person absent from one side has `None` there.
    pub people: Vec<(String, String, Option<Fen>, Option<Fen>)>,
}

impl Repricing {
    /// The change, or `None` when the new computation gives the same pool and the same amount to
    /// the same people (the proposal then stays where it is).
    pub fn of(
        pool: Fen,
        awards: &[AwardRecord],
        new: Option<&IncentiveResult>,
    ) -> Option<Repricing> {
        let pool_after = new.map_or(Fen::ZERO, |i| i.pool);
        let mut people: BTreeMap<String, (String, Option<Fen>, Option<Fen>)> = awards
            .iter()
            .map(|a| (a.person.clone(), (a.name.clone(), Some(a.computed), None)))
            .collect();
        for a in new.map(|i| i.awards.as_slice()).unwrap_or_default() {
            let e = people
                .entry(a.person.clone())
                .or_insert_with(|| (a.name.clone(), None, None));
            e.2 = Some(a.amount);
        }
        let same = pool == pool_after && people.values().all(|(_, b, a)| b == a);
        (!same).then(|| Repricing {
            pool_before: pool,
            pool_after,
            people: people
                .into_iter()
                .map(|(p, (n, b, a))| (p, n, b, a))
                .collect(),
        })
    }

    /// The step's history line.
    pub fn summary_zh(&self, before: &str, after: &str) -> String {
        format!(
            "政策更换：按{after}计算的奖励总额上限为 {} 元（按{before}为 {} 元），方案退回重新计算",
            self.pool_after.display(),
            self.pool_before.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incentive::Award;

    fn record(person: &str, computed: i64, paid: Option<i64>, recovered: i64) -> AwardRecord {
        AwardRecord {
            person: person.into(),
            name: format!("{person}姓名"),
            role: Role::Secretary,
            computed: Fen::from_fen(computed),
            decided: Some(Fen::from_fen(computed)),
            paid: paid.map(Fen::from_fen),
            recovered: Fen::from_fen(recovered),
        }
    }

    fn result(pool: i64, awards: &[(&str, i64)]) -> IncentiveResult {
        IncentiveResult {
            measure: Some(Fen::from_fen(10_000_000)),
            base: Some(Fen::from_fen(2_000_000)),
            pool: Fen::from_fen(pool),
            reason: None,
            awards: awards
                .iter()
                .map(|(p, f)| Award {
                    person: p.to_string(),
                    name: format!("{p}姓名"),
                    role: Role::Secretary,
                    share: Fen::from_fen(*f),
                    appraisal: None,
                    amount: Fen::from_fen(*f),
                })
                .collect(),
            unallocated: Fen::ZERO,
            trace: vec![],
        }
    }

    #[test]
    fn paid_exactly_what_the_books_still_allow_owes_nothing() {
        let awards = [record("A", 500_000, Some(500_000), 0)];
        let s = Standing::of(&awards, Some(&result(500_000, &[("A", 500_000)])));
        assert_eq!(s.paid, Some(Fen::from_fen(500_000)));
        assert!(!s.is_overpaid());
        assert!(s.outstanding.is_empty());
    }

    #[test]
    fn an_overpayment_net_of_what_was_recovered() {
        let awards = [
            record("A", 500_000, Some(500_000), 30_000),
            record("B", 300_000, Some(300_000), 0),
        ];
        let now = result(600_000, &[("A", 400_000), ("B", 200_000)]);
        let s = Standing::of(&awards, Some(&now));
        assert_eq!(s.owed_total(), Fen::from_fen(200_000));
        assert_eq!(s.recovered, Fen::from_fen(30_000));
        assert_eq!(
            s.outstanding,
            [
                ("A".to_string(), Fen::from_fen(70_000)),
                ("B".to_string(), Fen::from_fen(100_000))
            ]
            .into_iter()
            .collect()
        );
        assert_eq!(s.outstanding_total(), Fen::from_fen(170_000));
        // The books no longer give a reward at all: all of it is owed back.
        let s = Standing::of(&awards, None);
        assert_eq!(s.owed_total(), Fen::from_fen(800_000));
    }

    #[test]
    fn nothing_is_owed_before_payment() {
        let awards = [record("A", 500_000, None, 0)];
        let s = Standing::of(&awards, None);
        assert_eq!(s.paid, None);
        assert!(!s.is_overpaid());
    }

    #[test]
    fn a_new_policy_reprices_only_when_an_amount_changes() {
        let awards = [record("A", 300_000, None, 0), record("B", 200_000, None, 0)];
        let same = result(500_000, &[("A", 300_000), ("B", 200_000)]);
        assert_eq!(
            Repricing::of(Fen::from_fen(500_000), &awards, Some(&same)),
            None
        );
        let more = result(600_000, &[("A", 360_000), ("B", 240_000)]);
        let r = Repricing::of(Fen::from_fen(500_000), &awards, Some(&more)).unwrap();
        assert_eq!(r.pool_after, Fen::from_fen(600_000));
        assert_eq!(
            r.people[0],
            (
                "A".into(),
                "A姓名".into(),
                Some(Fen::from_fen(300_000)),
                Some(Fen::from_fen(360_000))
            )
        );
        // Same pool, split differently: still a change.
        let moved = result(500_000, &[("A", 250_000), ("B", 250_000)]);
        assert!(Repricing::of(Fen::from_fen(500_000), &awards, Some(&moved)).is_some());
        // No reward under the new policy.
        let gone = Repricing::of(Fen::from_fen(500_000), &awards, None).unwrap();
        assert_eq!(gone.pool_after, Fen::ZERO);
        assert_eq!(gone.people[1].3, None);
    }

    #[test]
    fn changed_figures_name_each_figure_that_moved() {
        let now = result(500_000, &[]);
        let published = (
            Some(Fen::from_fen(10_000_000)),
            Some(Fen::from_fen(2_000_000)),
            Fen::from_fen(500_000),
        );
        assert!(changed_figures(published, Some(&now)).is_empty());
        let published = (
            Some(Fen::from_fen(9_000_000)),
            Some(Fen::from_fen(2_000_000)),
            Fen::from_fen(500_000),
        );
        let c = changed_figures(published, Some(&now));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].name, "考核口径的收入");
        assert_eq!(c[0].now, Some(Fen::from_fen(10_000_000)));
    }
}
