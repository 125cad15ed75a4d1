//! Property tests for money, rounding, tiers, caps and splits.

mod common;

use std::collections::BTreeMap;

use common::World;
use cunji_core::account::Account;
use cunji_core::cadre::{Cadre, Role};
use cunji_core::incentive::split::{largest_remainder, split_with_caps};
use cunji_core::incentive::{
    evaluate, Basis, LevelCap, Plan, Schedule, Tier, TierKey, VillageFigures,
};
use cunji_core::measure::Measure;
use cunji_core::money::{round_div, Fen};
use cunji_core::policy::Policy;
use cunji_core::rate::Ppm;
use cunji_core::region::RegionCode;
use proptest::prelude::*;

fn operating() -> Measure {
    Measure::standard().remove(1)
}

fn role_strategy() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}

fn cadres_strategy() -> impl Strategy<Value = Vec<Cadre>> {
    prop::collection::vec(
        (
            role_strategy(),
            0u8..=12,
            prop::bool::weighted(0.1),
            prop::option::of(prop::sample::select(vec![
                "优秀",
                "合格",
                "基本合格",
                "不合格",
            ])),
        ),
        0..7,
    )
    .prop_map(|people| {
        people
            .into_iter()
            .enumerate()
            .map(|(i, (role, months, sanctioned, rating))| Cadre {
                village: RegionCode::parse("130102001001").unwrap(),
                year: 2024,
                person: format!("P{i}"),
                name: format!("人{i}"),
                role,
                months_in_post: months,
                sanctioned,
                base_pay: None,
                appraisal: rating.map(|r| r.to_string()),
            })
            .collect()
    })
}

fn tiers_strategy() -> impl Strategy<Value = Vec<Tier>> {
    prop::collection::vec((1i64..5_000_000, 0i64..=1_000_000), 1..5).prop_map(|raw| {
        let mut from = 0i64;
        raw.into_iter()
            .map(|(step, rate)| {
                from += step;
                Tier {
                    from: Fen::from_fen(from),
                    rate: Ppm::from_ppm(rate),
                }
            })
            .collect()
    })
}

fn plan_strategy() -> impl Strategy<Value = Plan> {
    let schedule = prop_oneof![
        (0i64..=1_000_000).prop_map(|r| Schedule::Flat {
            rate: Ppm::from_ppm(r)
        }),
        (tiers_strategy(), prop::bool::ANY).prop_map(|(tiers, level)| Schedule::Whole {
            tier_key: if level { TierKey::Level } else { TierKey::Base },
            tiers
        }),
        tiers_strategy().prop_map(|tiers| Schedule::Marginal { tiers }),
    ];
    (
        schedule,
        prop::option::of(0i64..100_000_000),
        prop::bool::ANY,
        0u8..=12,
        prop::collection::btree_map(role_strategy(), 0u64..5, 0..6),
        prop::collection::btree_map(role_strategy(), 0i64..=1_000_000, 0..4),
        prop::bool::ANY,
    )
        .prop_map(
            |(schedule, cap, prorate, min_months, weights, max_share, appraisal)| {
                let mut plan = Plan::flat(operating(), Ppm::from_ppm(100_000));
                plan.schedule = schedule;
                plan.cap = cap.map(Fen::from_fen);
                plan.prorate_by_months = prorate;
                plan.min_months = min_months;
                if !weights.is_empty() {
                    plan.weights = weights;
                }
                plan.max_share = max_share
                    .into_iter()
                    .map(|(r, s)| (r, Ppm::from_ppm(s)))
                    .collect();
                if appraisal {
                    plan.appraisal = Some(
                        [
                            ("优秀", 1_000_000),
                            ("合格", 1_000_000),
                            ("基本合格", 500_000),
                            ("不合格", 0),
                        ]
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), Ppm::from_ppm(v)))
                        .collect(),
                    );
                }
                plan
            },
        )
}

fn run(
    plan: &Plan,
    prev: i64,
    current: i64,
    cadres: &[Cadre],
) -> cunji_core::incentive::IncentiveResult {
    let earlier: BTreeMap<i32, Fen> = [(2023, Fen::from_fen(prev))].into_iter().collect();
    evaluate(
        plan,
        "测试",
        &VillageFigures {
            village: "130102001001",
            year: 2024,
            current: Some(Fen::from_fen(current)),
            earlier: &earlier,
            cadres,
        },
    )
    .expect("ratings are all in the table")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn money_text_round_trips(fen in -1_000_000_000_000_000i64..=1_000_000_000_000_000i64) {
        prop_assert_eq!(Fen::parse_yuan(&Fen::from_fen(fen).json()), Ok(Fen::from_fen(fen)));
        prop_assert_eq!(Fen::parse_yuan(&Fen::from_fen(fen).display()), Ok(Fen::from_fen(fen)));
    }

    #[test]
    fn rates_round_trip(ppm in 0i64..=1_000_000) {
        prop_assert_eq!(Ppm::parse(&Ppm::from_ppm(ppm).percent()), Ok(Ppm::from_ppm(ppm)));
        prop_assert_eq!(Ppm::parse(&Ppm::from_ppm(ppm).decimal()), Ok(Ppm::from_ppm(ppm)));
    }

    #[test]
    fn rounding_is_half_away_from_zero(num in -1_000_000_000_000i128..1_000_000_000_000, den in 1i128..1_000_000) {
        let r = round_div(num, den);
        // |num/den − r| ≤ 1/2, and exactly 1/2 only rounds away from zero.
        let diff = num - r * den;
        prop_assert!(2 * diff.abs() <= den);
        if 2 * diff.abs() == den {
            prop_assert!(r.abs() * den > num.abs());
        }
        prop_assert_eq!(round_div(-num, den), -r);
    }

    #[test]
    fn flat_pool_never_exceeds_rate_times_base(prev in -10_000_000_000i64..10_000_000_000, current in -10_000_000_000i64..10_000_000_000, rate in 0i64..=1_000_000, cadres in cadres_strategy()) {
        let plan = Plan::flat(operating(), Ppm::from_ppm(rate));
        let r = run(&plan, prev, current, &cadres);
        let base = current - prev;
        // pool ≤ rate × base + half a fen, in millionths of a fen.
        prop_assert!(r.pool.fen() as i128 * 1_000_000 <= (base.max(0) as i128) * rate as i128 + 500_000);
        prop_assert!(r.pool.fen() >= 0);
    }

    #[test]
    fn awards_and_unallocated_add_up_to_the_pool(plan in plan_strategy(), prev in 0i64..5_000_000_000, current in 0i64..5_000_000_000, cadres in cadres_strategy()) {
        let r = run(&plan, prev, current, &cadres);
        let paid: i64 = r.awards.iter().map(|a| a.amount.fen()).sum();
        prop_assert_eq!(paid + r.unallocated.fen(), r.pool.fen());
        if let Some(cap) = plan.cap {
            prop_assert!(r.pool <= cap);
        }
        for a in &r.awards {
            prop_assert!(a.amount <= a.share);
            prop_assert!(a.amount.fen() >= 0);
            if let Some(s) = plan.max_share.get(&a.role) {
                prop_assert!(a.share.fen() as i128 <= r.pool.fen() as i128 * s.ppm() as i128 / 1_000_000);
            }
        }
        // Awards come in person-id order, one per eligible person.
        let ids: Vec<&String> = r.awards.iter().map(|a| &a.person).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        prop_assert_eq!(ids, sorted);
        if r.pool.fen() > 0 || r.reason.is_some() {
            prop_assert!(!r.trace.is_empty());
        }
    }

    #[test]
    fn largest_remainder_hands_out_every_fen(total in 0i64..10_000_000_000, weights in prop::collection::vec(1u128..1000, 1..10)) {
        let shares = largest_remainder(total, &weights);
        prop_assert_eq!(shares.iter().sum::<i64>(), total);
        let sum: u128 = weights.iter().sum();
        for (s, w) in shares.iter().zip(&weights) {
            // Each share is the exact share rounded down or up by one fen.
            let exact_floor = (total as u128 * w / sum) as i64;
            prop_assert!(*s == exact_floor || *s == exact_floor + 1);
        }
    }

    #[test]
    fn capped_splits_respect_caps(pool in 0i64..10_000_000_000, people in prop::collection::vec((1u128..10, prop::option::of(0i64..=1_000_000)), 1..8)) {
        let weights: Vec<u128> = people.iter().map(|(w, _)| *w).collect();
        let caps: Vec<Option<i64>> = people.iter().map(|(_, s)| s.map(|s| (pool as i128 * s as i128 / 1_000_000) as i64)).collect();
        let split = split_with_caps(pool, &weights, &caps);
        prop_assert_eq!(split.shares.iter().sum::<i64>() + split.unallocated, pool);
        prop_assert!(split.unallocated >= 0);
        for (s, c) in split.shares.iter().zip(&caps) {
            if let Some(c) = c {
                prop_assert!(s <= c);
            }
        }
        // Something is left unallocated only when everybody is at their cap.
        if split.unallocated > 0 {
            prop_assert!(split.capped.iter().all(|c| *c));
        }
    }

    #[test]
    fn marginal_raw_amount_grows_with_the_base(tiers in tiers_strategy(), a in 0i64..50_000_000, b in 0i64..50_000_000) {
        let (lo, hi) = (a.min(b), a.max(b));
        let (r_lo, _) = cunji_core::incentive::evaluate::marginal(Fen::from_fen(lo), &tiers);
        let (r_hi, _) = cunji_core::incentive::evaluate::marginal(Fen::from_fen(hi), &tiers);
        prop_assert!(r_lo <= r_hi);
        // Never more than the highest rate on the whole base.
        let max_rate = tiers.iter().map(|t| t.rate.ppm()).max().unwrap_or(0);
        prop_assert!(r_hi <= hi as i128 * max_rate as i128);
    }

    #[test]
    fn caps_by_level_bound_the_pool(level_caps in prop::collection::vec((1i64..100_000_000, 0i64..1_000_000_000), 1..5), prev in 0i64..1_000_000_000, current in 0i64..2_000_000_000) {
        let mut from = 0;
        let caps: Vec<LevelCap> = level_caps.into_iter().map(|(step, cap)| { from += step; LevelCap { from: Fen::from_fen(from), cap: Fen::from_fen(cap) } }).collect();
        let mut plan = Plan::flat(operating(), Ppm::from_ppm(1_000_000));
        plan.cap_by_level = caps.clone();
        let r = run(&plan, prev, current, &[]);
        if let Some(c) = caps.iter().rev().find(|c| c.from.fen() <= current) {
            prop_assert!(r.pool <= c.cap);
        } else if current > prev {
            prop_assert_eq!(r.reason.map(|x| x.key()), Some("below_first_tier"));
        }
    }

    #[test]
    fn reports_are_byte_identical(values in prop::collection::vec((0i64..100_000_000, 0i64..100_000_000), 1..12), rate in 0i64..=1_000_000) {
        let codes: Vec<String> = (1..=values.len()).map(|i| format!("{i:03}")).collect();
        let refs: Vec<&str> = codes.iter().map(|s| s.as_str()).collect();
        let mut w = World::with_villages("130102001", &refs);
        for (i, (a, b)) in values.iter().enumerate() {
            let v = format!("130102001{:03}", i + 1);
            w.book(&v, 2023, &[(Account::OperatingRevenue, &Fen::from_fen(*a).json())]);
            w.book(&v, 2024, &[(Account::OperatingRevenue, &Fen::from_fen(*b).json())]);
            w.cadre(&v, 2024, &format!("S{i}"), Role::SecretaryDirector, 12);
        }
        let text = format!("name = \"p\"\n[bands]\nband = [ {{ name = \"低\" }}, {{ name = \"高\", min = 100000 }} ]\n[incentive]\nrate = \"{}\"\n", Ppm::from_ppm(rate).percent());
        let policy = Policy::parse(&text).unwrap();
        let a = serde_json::to_string(&w.report(&policy, 2024)).unwrap();
        let b = serde_json::to_string(&w.report(&policy, 2024)).unwrap();
        prop_assert_eq!(a, b);
    }
}

#[test]
fn basis_variants_on_merged_history() {
    // increase_over_best with a 2-year lookback: best of 2022 (150) and 2023 (120) is 150; 2021 (900) is
    // outside the window. increase_over_year 2021: 200 − 900 = −700, no growth.
    let earlier: BTreeMap<i32, Fen> = [
        (2021, Fen::from_fen(90_000)),
        (2022, Fen::from_fen(15_000)),
        (2023, Fen::from_fen(12_000)),
    ]
    .into_iter()
    .collect();
    let mut plan = Plan::flat(operating(), Ppm::from_ppm(1_000_000));
    plan.basis = Basis::IncreaseOverBest {
        lookback_years: Some(2),
    };
    let v = VillageFigures {
        village: "x",
        year: 2024,
        current: Some(Fen::from_fen(20_000)),
        earlier: &earlier,
        cadres: &[],
    };
    let r = evaluate(&plan, "p", &v).unwrap();
    assert_eq!(r.base, Some(Fen::from_fen(5_000)));
    plan.basis = Basis::IncreaseOverBest {
        lookback_years: None,
    };
    assert_eq!(
        evaluate(&plan, "p", &v).unwrap().base,
        Some(Fen::from_fen(-70_000))
    );
    plan.basis = Basis::IncreaseOverYear { base_year: 2021 };
    assert_eq!(
        evaluate(&plan, "p", &v).unwrap().reason.map(|r| r.key()),
        Some("no_growth")
    );
    plan.basis = Basis::IncreaseOverYear { base_year: 2024 };
    assert_eq!(
        evaluate(&plan, "p", &v).unwrap().reason.map(|r| r.key()),
        Some("no_prior_year")
    );
    plan.basis = Basis::Level;
    assert_eq!(
        evaluate(&plan, "p", &v).unwrap().pool,
        Fen::from_fen(20_000)
    );
    plan.basis = Basis::Above {
        threshold: Fen::from_fen(5_000),
    };
    assert_eq!(
        evaluate(&plan, "p", &v).unwrap().base,
        Some(Fen::from_fen(15_000))
    );
    plan.basis = Basis::Increase;
    let none: BTreeMap<i32, Fen> = BTreeMap::new();
    let v = VillageFigures {
        village: "x",
        year: 2024,
        current: Some(Fen::from_fen(20_000)),
        earlier: &none,
        cadres: &[],
    };
    assert_eq!(
        evaluate(&plan, "p", &v).unwrap().reason.map(|r| r.key()),
        Some("no_prior_year")
    );
    let v = VillageFigures {
        village: "x",
        year: 2024,
        current: None,
        earlier: &none,
        cadres: &[],
    };
    let r = evaluate(&plan, "p", &v).unwrap();
    assert_eq!(
        (r.reason.map(|r| r.key()), r.measure, r.base),
        (Some("no_data"), None, None)
    );
}

#[test]
fn unknown_rating_fails_naming_person_and_rating() {
    let mut plan = Plan::flat(operating(), Ppm::from_ppm(100_000));
    plan.appraisal = Some(
        [("优秀".to_string(), Ppm::from_ppm(1_000_000))]
            .into_iter()
            .collect(),
    );
    let cadres = vec![Cadre {
        village: RegionCode::parse("130102001001").unwrap(),
        year: 2024,
        person: "P7".into(),
        name: "张三".into(),
        role: Role::Secretary,
        months_in_post: 12,
        sanctioned: false,
        base_pay: None,
        appraisal: Some("良好".into()),
    }];
    let earlier: BTreeMap<i32, Fen> = [(2023, Fen::from_fen(0))].into_iter().collect();
    let err = evaluate(
        &plan,
        "p",
        &VillageFigures {
            village: "130102001001",
            year: 2024,
            current: Some(Fen::from_fen(1_000_000)),
            earlier: &earlier,
            cadres: &cadres,
        },
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("P7") && msg.contains("良好"), "{msg}");
}

proptest! {
    /// A report reads kept totals from `Policy::first_year_read` on: under every basis, the report
    /// from those years alone is the report from every year kept (the store reads no more).
    #[test]
    fn a_report_from_the_years_its_policy_reads_is_the_whole_report(
        values in proptest::collection::vec(proptest::collection::vec(proptest::option::of(-50_000i64..20_000_000), 10), 1..6),
        basis in proptest::sample::select(vec![
            "basis = \"increase\"",
            "basis = \"increase_over_best\"",
            "basis = \"increase_over_best\"\nlookback_years = 3",
            "basis = \"increase_over_year\"\nbase_year = 2018",
            "basis = \"increase_over_year\"\nbase_year = 2026",
            "basis = \"level\"",
        ]),
    ) {
        let text = format!("name = \"p\"\n[incentive]\n{basis}\nrate = \"10%\"\n");
        let policy = Policy::parse(&text).unwrap();
        let first = policy.first_year_read(2024);
        let codes: Vec<String> = (1..=values.len()).map(|i| format!("{i:03}")).collect();
        let refs: Vec<&str> = codes.iter().map(|s| s.as_str()).collect();
        let (mut all, mut read) = (World::with_villages("130102001", &refs), World::with_villages("130102001", &refs));
        for (i, years) in values.iter().enumerate() {
            let v = format!("130102001{:03}", i + 1);
            for (k, fen) in years.iter().enumerate() {
                let Some(fen) = fen else { continue };
                let year = 2015 + k as i32;
                let book = [(Account::OperatingRevenue, Fen::from_fen(*fen).json())];
                let book: Vec<(Account, &str)> = book.iter().map(|(a, t)| (*a, t.as_str())).collect();
                all.book(&v, year, &book);
                if year >= first {
                    read.book(&v, year, &book);
                }
            }
            for w in [&mut all, &mut read] {
                w.cadre(&v, 2024, &format!("S{i}"), Role::SecretaryDirector, 12);
            }
        }
        let whole = serde_json::to_string(&all.report(&policy, 2024)).unwrap();
        prop_assert_eq!(serde_json::to_string(&read.report(&policy, 2024)).unwrap(), whole);
    }
}

#[test]
fn the_first_year_a_report_reads_follows_the_basis() {
    let first = |basis: &str| {
        let text = format!("name = \"p\"\n[incentive]\n{basis}\nrate = \"10%\"\n");
        Policy::parse(&text).unwrap().first_year_read(2024)
    };
    assert_eq!(first("basis = \"increase\""), 2023);
    assert_eq!(first("basis = \"level\""), 2023);
    assert_eq!(
        first("basis = \"increase_over_best\"\nlookback_years = 3"),
        2021
    );
    assert_eq!(first("basis = \"increase_over_best\""), i32::MIN);
    assert_eq!(
        first("basis = \"increase_over_year\"\nbase_year = 2018"),
        2018
    );
    assert_eq!(
        first("basis = \"increase_over_year\"\nbase_year = 2026"),
        2023
    );
    assert_eq!(
        Policy::parse("name = \"p\"\n")
            .unwrap()
            .first_year_read(2024),
        2023
    );
}
