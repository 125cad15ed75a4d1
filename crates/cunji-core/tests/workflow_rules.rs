//! Property tests of SPEC §13's resolution rules: for any meeting size and vote, the check accepts
//! exactly when the quorum of 村民委员会组织法 (第二十二条、第二十六条) and the majority of those present
//! hold; and an overpayment is never negative and never more than was paid.

use std::collections::BTreeMap;

use cunji_core::date::Date;
use cunji_core::workflow::{overpayment, Body, Resolution, VoteCount};
use cunji_core::Fen;
use proptest::prelude::*;

fn checked(body: Body, members: u32, present: u32, votes: (u32, u32, u32)) -> Result<(), String> {
    let mut r = Resolution::spec_example(&[("P1", 100)]);
    r.body = body;
    (r.members, r.present) = (members, present);
    (r.votes_for, r.votes_against, r.votes_abstain) = votes;
    let computed: BTreeMap<String, Fen> = [("P1".to_string(), Fen::from_fen(100))].into();
    r.check(2024, Date::parse("2025-03-01").unwrap(), &computed)
}

fn bodies() -> impl Strategy<Value = Body> {
    prop_oneof![
        Just(Body::Representatives),
        Just(Body::Villagers(VoteCount::Adults)),
        Just(Body::Villagers(VoteCount::Households)),
    ]
}

proptest! {
    #[test]
    fn a_resolution_passes_exactly_when_quorum_and_majority_hold(
        body in bodies(),
        members in 1u32..400,
        present_share in 0u32..=100,
        for_share in 0u32..=100,
        against_share in 0u32..=100,
    ) {
        let present = members * present_share / 100;
        let votes_for = present * for_share / 100;
        let against = (present - votes_for) * against_share / 100;
        let abstain = present - votes_for - against;
        let (m, p) = (members as u64, present as u64);
        let quorum = match body {
            Body::Representatives | Body::Villagers(VoteCount::Households) => p * 3 >= m * 2,
            Body::Villagers(VoteCount::Adults) => p * 2 > m,
        };
        let majority = votes_for as u64 * 2 > p;
        let got = checked(body, members, present, (votes_for, against, abstain));
        prop_assert_eq!(got.is_ok(), quorum && majority, "{:?}", got);
    }

    #[test]
    fn more_votes_than_people_present_are_refused(present in 1u32..400, extra in 1u32..10) {
        let got = checked(Body::Representatives, present, present, (present, extra, 0));
        prop_assert!(got.unwrap_err().contains("多于到会的"));
    }

    #[test]
    fn an_overpayment_is_never_negative_nor_above_what_was_paid(
        paid in proptest::collection::vec(0i64..10_000_000, 1..6),
        now in proptest::collection::vec(0i64..10_000_000, 1..6),
    ) {
        let map = |v: &[i64]| -> BTreeMap<String, Fen> {
            v.iter().enumerate().map(|(i, f)| (format!("P{i}"), Fen::from_fen(*f))).collect()
        };
        let (paid, now) = (map(&paid), map(&now));
        let pool = Fen::from_fen(now.values().map(|f| f.fen()).sum());
        let paid_total: i64 = paid.values().map(|f| f.fen()).sum();
        match overpayment(&paid, pool, &now) {
            None => prop_assert!(pool.fen() >= paid_total),
            Some(over) => {
                prop_assert!(pool.fen() < paid_total);
                for (person, f) in &over {
                    prop_assert!(f.fen() > 0 && *f <= paid[person]);
                    let allowed = now.get(person).map_or(0, |a| a.fen());
                    prop_assert_eq!(f.fen(), paid[person].fen() - allowed);
                }
            }
        }
    }
}
