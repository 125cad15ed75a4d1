use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::alerts::AlertKind;
use crate::subsidy::{Grant, SourceLevel};

pub(super) fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}
fn yuan(s: &str) -> Fen {
    Fen::parse_yuan(s).unwrap()
}
const V: &str = "130101001001";
fn v() -> RegionCode {
    RegionCode::parse(V).unwrap()
}

fn draft(id: &str, start: &str, end: &str) -> ContractDraft {
    ContractDraft {
        id: id.into(),
        village: v(),
        counterparty: "张三".into(),
        counterparty_id: None,
        asset: None,
        kind: ContractKind::Lease,
        signed: d(start),
        start: d(start),
        end: d(end),
        resolution: None,
        annual_rent: None,
        due_day: None,
        step_years: None,
        step_rate: None,
        account: None,
        installments: vec![],
    }
}

fn annual(id: &str, start: &str, end: &str, rent: &str) -> ContractDraft {
    ContractDraft {
        annual_rent: Some(yuan(rent)),
        ..draft(id, start, end)
    }
}

fn stepped(rent: &str, years: u32, rate: &str) -> Contract {
    Contract::new(ContractDraft {
        step_years: Some(years),
        step_rate: Some(Ppm::parse(rate).unwrap()),
        ..annual("C1", "2023-01-01", "2027-12-31", rent)
    })
    .unwrap()
}

fn columns(r: Result<Contract, Vec<FieldError>>) -> Vec<&'static str> {
    r.unwrap_err().into_iter().map(|e| e.column).collect()
}

#[test]
fn step_up_of_the_spec() {
    let c = stepped("10000", 1, "10%");
    let amounts: Vec<String> = c.dues().iter().map(|d| d.amount.to_string()).collect();
    assert_eq!(
        amounts,
        [
            "10,000.00",
            "11,000.00",
            "12,100.00",
            "13,310.00",
            "14,641.00"
        ]
    );
    let trace = c.year_trace(2025);
    assert_eq!(trace.len(), 1);
    assert!(
        trace[0].contains(
            "2025年应收 12,100.00 元：年租金 10,000.00 元，每年递增 10%，第 3 年 = 11,000.00 × 1.1"
        ),
        "{}",
        trace[0]
    );
}

#[test]
fn steps_every_n_years_round_half_away_from_zero() {
    // 333.33 × 1.05 = 349.9965 → 350.00; every two years: years 0,1 no step; 2,3 one; 4 two.
    let c = stepped("333.33", 2, "5%");
    let amounts: Vec<i64> = c.dues().iter().map(|d| d.amount.fen()).collect();
    assert_eq!(amounts, [33_333, 33_333, 35_000, 35_000, 36_750]);
    assert_eq!(c.dues()[4].steps, 2);
    // Half a fen goes up: 0.05 × 1.1 = 0.055 → 0.06.
    let s = StepUp {
        years: 1,
        rate: Ppm::parse("10%").unwrap(),
    };
    assert_eq!(step_once(Fen::from_fen(5), s).fen(), 6);
}

#[test]
fn due_day_default_and_errors() {
    let c = Contract::new(annual("C", "2023-03-05", "2025-03-04", "100")).unwrap();
    let dates: Vec<String> = c.dues().iter().map(|d| d.date.iso()).collect();
    // 2025-03-05 is after the end: two rents.
    assert_eq!(dates, ["2023-03-05", "2024-03-05"]);
    assert!(DueDay::parse("02-29").unwrap_err().contains("02-29"));
    assert_eq!(DueDay::parse("3月5日").unwrap().text(), "03-05");
    assert_eq!(DueDay::parse("12-31").unwrap().text(), "12-31");
    assert!(DueDay::parse("13-01").is_err());
    assert!(DueDay::parse("0305").is_err());
    // A 29 February start needs an explicit due day.
    assert_eq!(
        columns(Contract::new(annual(
            "C",
            "2024-02-29",
            "2026-02-28",
            "100"
        ))),
        ["due_day"]
    );
    let c = Contract::new(ContractDraft {
        due_day: Some(DueDay::parse("12-01").unwrap()),
        ..annual("C", "2024-02-29", "2026-02-28", "100")
    })
    .unwrap();
    assert_eq!(c.dues().len(), 2);
    // Its contract years begin on 28 February in years without a 29th.
    assert_eq!(c.anniversary(1).iso(), "2025-02-28");
}

#[test]
fn invalid_contracts_cannot_be_made() {
    // A name or id past the 500 characters every text field keeps, typed in a form or a file.
    let long = "张".repeat(501);
    let r = Contract::new(ContractDraft {
        counterparty: long.clone(),
        counterparty_id: Some(long),
        ..annual("C", "2024-01-01", "2025-01-01", "1")
    });
    let errors = r.unwrap_err();
    assert_eq!(
        errors
            .iter()
            .map(|e| (e.column, e.message.as_str()))
            .collect::<Vec<_>>(),
        [
            ("counterparty", "文字过长：501 个字，最多 500 个字"),
            ("counterparty_id", "文字过长：501 个字，最多 500 个字"),
        ]
    );
    assert!(Contract::new(ContractDraft {
        counterparty: "张".repeat(500),
        ..annual("C", "2024-01-01", "2025-01-01", "1")
    })
    .is_ok());
    assert_eq!(
        columns(Contract::new(annual("C", "2024-01-02", "2024-01-01", "1"))),
        ["end"]
    );
    assert_eq!(
        columns(Contract::new(ContractDraft {
            step_years: Some(1),
            ..annual("C", "2024-01-01", "2025-01-01", "1")
        })),
        ["step_rate"]
    );
    assert_eq!(
        columns(Contract::new(ContractDraft {
            step_rate: Some(Ppm::parse("5%").unwrap()),
            ..annual("C", "2024-01-01", "2025-01-01", "1")
        })),
        ["step_years"]
    );
    let inst = Installment {
        date: d("2024-06-01"),
        amount: yuan("5"),
    };
    assert_eq!(
        columns(Contract::new(ContractDraft {
            installments: vec![inst],
            ..annual("C", "2024-01-01", "2025-01-01", "1")
        })),
        ["annual_rent"]
    );
    assert_eq!(
        columns(Contract::new(ContractDraft {
            account: Some(Account::OperatingCost),
            ..annual("C", "2024-01-01", "2025-01-01", "1")
        })),
        ["account"]
    );
    assert_eq!(
        columns(Contract::new(annual("C", "2024-01-01", "2025-01-01", "0"))),
        ["annual_rent"]
    );
    // A step-up that runs past what a contract may owe.
    assert_eq!(
        columns(Contract::new(ContractDraft {
            step_years: Some(1),
            step_rate: Some(Ppm::ONE),
            ..annual("C", "2000-01-01", "2099-01-01", "1000000")
        })),
        ["step_rate"]
    );
    // Installments go only to a contract without a yearly rent.
    let c = Contract::new(annual("C", "2024-01-01", "2025-01-01", "1")).unwrap();
    assert!(c.with_installments(vec![inst]).is_err());
    let c = Contract::new(draft("C", "2024-01-01", "2025-01-01")).unwrap();
    assert_eq!(c.with_installments(vec![inst]).unwrap().total(), yuan("5"));
}

#[test]
fn receipts_are_checked_against_the_contract() {
    let c = Contract::new(annual("C", "2024-01-01", "2024-12-31", "1")).unwrap();
    let inc = Account::OperatingRevenue;
    assert!(c.check_receipt(&v(), d("2025-12-31"), inc).is_ok());
    assert!(c.check_receipt(&v(), d("2026-01-01"), inc).is_err());
    assert!(c.check_receipt(&v(), d("2023-12-31"), inc).is_err());
    assert!(c
        .check_receipt(&v(), d("2024-06-01"), Account::AdminExpense)
        .is_err());
    let other = RegionCode::parse("130101001002").unwrap();
    assert!(c.check_receipt(&other, d("2024-06-01"), inc).is_err());
}

#[test]
fn masked_ids_keep_four_characters() {
    assert_eq!(mask_id("130101199001011234"), "**************1234");
    assert_eq!(mask_id("12"), "12");
}

fn receipt(date: &str, amount: &str) -> Receipt {
    Receipt {
        date: d(date),
        amount: yuan(amount),
    }
}

#[test]
fn arrears_and_days_overdue_cover_the_oldest_first() {
    let c = Contract::new(draft("C", "2024-01-01", "2025-12-31"))
        .unwrap()
        .with_installments(vec![
            Installment {
                date: d("2024-03-01"),
                amount: yuan("100"),
            },
            Installment {
                date: d("2024-06-01"),
                amount: yuan("100"),
            },
        ])
        .unwrap();
    // A partial payment covers part of the first: still the first is overdue.
    let r = [receipt("2024-03-10", "60")];
    let s = standing(&c, &r, d("2024-05-30")).unwrap();
    assert_eq!(
        (s.due, s.received, s.arrears),
        (yuan("100"), yuan("60"), yuan("40"))
    );
    assert_eq!(s.days_overdue, Some(90));
    // Paying the rest of the first moves the oldest unpaid to the second.
    let r = [receipt("2024-03-10", "60"), receipt("2024-04-01", "40")];
    let s = standing(&c, &r, d("2024-06-01")).unwrap();
    assert_eq!(s.oldest_unpaid, Some(d("2024-06-01")));
    assert_eq!(s.days_overdue, Some(0));
    // An early payment covers what falls due later; a credit is no arrears.
    let r = [receipt("2024-01-05", "250")];
    let s = standing(&c, &r, d("2024-12-31")).unwrap();
    assert_eq!((s.arrears, s.days_overdue), (Fen::ZERO, None));
    // Receipts after D do not count.
    let s = standing(&c, &[receipt("2025-01-01", "200")], d("2024-12-31")).unwrap();
    assert_eq!(s.arrears, yuan("200"));
}

fn asset(id: &str, kind: AssetKind, qty: &str, unit: &str) -> Asset {
    Asset::new(AssetDraft {
        id: id.into(),
        village: v(),
        kind,
        name: format!("资产{id}"),
        quantity: Quantity::parse(qty).unwrap(),
        unit: unit.into(),
        original_value: Some(yuan("1000")),
        acquired: d("2020-01-01"),
        grant: None,
        status: AssetStatus::Let,
    })
    .unwrap()
}

#[test]
fn assets_are_checked() {
    let mut a = AssetDraft {
        id: "A".into(),
        village: v(),
        kind: AssetKind::Building,
        name: "仓库".into(),
        quantity: Quantity::parse("200").unwrap(),
        unit: "平方米".into(),
        original_value: None,
        acquired: d("2020-01-01"),
        grant: None,
        status: AssetStatus::Idle,
    };
    let cols: Vec<_> = Asset::new(a.clone())
        .unwrap_err()
        .into_iter()
        .map(|e| e.column)
        .collect();
    assert_eq!(cols, ["original_value"]);
    a.kind = AssetKind::Land;
    assert!(Asset::new(a).is_ok());
    assert!(Quantity::parse("0").is_err());
    assert!(Quantity::parse("1.234").is_err());
    assert_eq!(Quantity::parse("12.50").unwrap().display(), "12.5");
}

struct World {
    book: ContractBook,
    grants: Vec<Grant>,
    actuals: BTreeMap<String, Fen>,
    settings: ContractSettings,
}

impl World {
    fn new(data: VillageContractData) -> World {
        let mut book = ContractBook::default();
        book.villages.insert(v(), data);
        World {
            book,
            grants: vec![],
            actuals: BTreeMap::new(),
            settings: ContractSettings::default(),
        }
    }
    fn kinds(&self, year: i32, at: &str) -> Vec<AlertKind> {
        let peers = Peers::of(&self.book, year);
        let grants: BTreeMap<&str, &Grant> =
            self.grants.iter().map(|g| (g.grant.as_str(), g)).collect();
        let cx = ContractContext {
            settings: &self.settings,
            peers: &peers,
            grants: &grants,
            project_actuals: &self.actuals,
        };
        contract_alerts(&cx, &v(), &self.book.villages[&v()], year, d(at))
            .unwrap()
            .into_iter()
            .map(|a| a.kind)
            .collect()
    }
}

fn one(c: ContractDraft) -> VillageContractData {
    VillageContractData {
        contracts: vec![Contract::new(c).unwrap()],
        ..Default::default()
    }
}

#[test]
fn arrears_alert_from_ninety_days() {
    let w = World::new(one(annual("C", "2024-01-01", "2030-12-31", "100")));
    // Due 2024-01-01, unpaid: 89 days on 2024-03-30, 90 on 2024-03-31.
    assert!(w.kinds(2024, "2024-03-30").is_empty());
    assert_eq!(w.kinds(2024, "2024-03-31"), [AlertKind::Arrears]);
}

#[test]
fn expiring_alert_within_ninety_days_without_successor() {
    let mut data = one(ContractDraft {
        asset: Some("A".into()),
        ..annual("C", "2020-01-01", "2024-12-31", "100")
    });
    data.receipts
        .insert("C".into(), vec![receipt("2020-01-01", "1000")]);
    let w = World::new(data.clone());
    assert_eq!(w.kinds(2024, "2024-10-02"), [AlertKind::Expiring]);
    assert!(w.kinds(2024, "2024-10-01").is_empty()); // 91 days ahead
                                                     // The end day itself is still "from the report date".
    assert_eq!(w.kinds(2024, "2024-12-31"), [AlertKind::Expiring]);
    // A successor on the same asset starting after the end clears it.
    data.contracts.push(
        Contract::new(ContractDraft {
            asset: Some("A".into()),
            ..annual("D", "2025-01-01", "2029-12-31", "100")
        })
        .unwrap(),
    );
    let w = World::new(data);
    assert!(w.kinds(2024, "2024-12-31").is_empty());
}

#[test]
fn expired_receipts_after_the_end_day_only() {
    let mut data = one(annual("C", "2020-01-01", "2024-06-30", "100"));
    data.receipts.insert(
        "C".into(),
        vec![receipt("2020-01-01", "1000"), receipt("2024-06-30", "1")],
    );
    let w = World::new(data.clone());
    assert!(w.kinds(2024, "2024-12-31").is_empty());
    data.receipts
        .get_mut("C")
        .unwrap()
        .push(receipt("2024-07-01", "1"));
    let w = World::new(data);
    assert_eq!(w.kinds(2024, "2024-12-31"), [AlertKind::ExpiredReceipts]);
}

#[test]
fn long_term_over_thirty_years_or_large_without_resolution() {
    let paid = |mut data: VillageContractData| {
        data.receipts
            .insert("C".into(), vec![receipt("2024-01-01", "100000000")]);
        data
    };
    // Exactly 30 years after the start is "over 30 years"; a day less is not.
    let w = World::new(paid(one(annual("C", "2024-01-01", "2054-01-01", "1"))));
    assert_eq!(w.kinds(2024, "2024-12-31"), [AlertKind::LongTerm]);
    let w = World::new(paid(one(annual("C", "2024-01-01", "2053-12-31", "1"))));
    assert!(w.kinds(2024, "2024-12-31").is_empty());
    // 100,000.00 over the term without a resolution; 99,999.99 is below.
    let w = World::new(paid(one(annual("C", "2024-01-01", "2025-12-31", "50000"))));
    assert_eq!(w.kinds(2024, "2024-12-31"), [AlertKind::LongTerm]);
    let w = World::new(paid(one(ContractDraft {
        resolution: Some(d("2023-12-01")),
        ..annual("C", "2024-01-01", "2025-12-31", "50000")
    })));
    assert!(w.kinds(2024, "2024-12-31").is_empty());
    let w = World::new(paid(one(annual(
        "C",
        "2024-01-01",
        "2025-12-31",
        "49999.99",
    ))));
    assert!(w.kinds(2024, "2024-12-31").is_empty());
    // Signed another year: not this year's alert.
    let w = World::new(paid(one(ContractDraft {
        signed: d("2023-12-01"),
        ..annual("C", "2024-01-01", "2054-01-01", "1")
    })));
    assert!(w.kinds(2024, "2024-12-31").is_empty());
}

/// Five peers at 100, 200, 300, 400, 500 a mu (median 300): below half is below 150.
#[test]
fn below_peers_at_half_the_median_with_five_peers() {
    let build = |mine: &str, peers: usize| {
        let mut data = VillageContractData::default();
        for (i, rent) in ["100", "200", "300", "400", "500", "600"]
            .iter()
            .take(peers)
            .enumerate()
        {
            let id = format!("P{i}");
            data.assets.push(asset(&id, AssetKind::Land, "10", "亩"));
            data.contracts.push(
                Contract::new(ContractDraft {
                    asset: Some(id.clone()),
                    signed: d("2023-06-01"),
                    ..annual(&id, "2023-06-01", "2028-05-31", &format!("{rent}0"))
                })
                .unwrap(),
            );
            data.receipts
                .insert(id, vec![receipt("2023-06-01", "100000")]);
        }
        data.assets.push(asset("M", AssetKind::Land, "2", "亩"));
        data.contracts.push(
            Contract::new(ContractDraft {
                asset: Some("M".into()),
                ..annual("C", "2024-01-01", "2028-12-31", mine)
            })
            .unwrap(),
        );
        data.receipts
            .insert("C".into(), vec![receipt("2024-01-01", "100000")]);
        World::new(data)
    };
    // 2 亩: 150 a mu is 300; 149.99 is 299.98.
    assert!(build("300", 5).kinds(2024, "2024-12-31").is_empty());
    assert_eq!(
        build("299.98", 5).kinds(2024, "2024-12-31"),
        [AlertKind::BelowPeers]
    );
    // Four peers are too few.
    assert!(build("1", 4).kinds(2024, "2024-12-31").is_empty());
    // Six peers: median (300 + 400) / 2 = 350, half 175 a mu, 350 for 2 亩.
    assert!(build("350", 6).kinds(2024, "2024-12-31").is_empty());
    assert_eq!(
        build("349.99", 6).kinds(2024, "2024-12-31"),
        [AlertKind::BelowPeers]
    );
}

#[test]
fn idle_assets_and_subsidy_assets_without_income() {
    let mut idle = asset("A", AssetKind::Building, "100", "平方米");
    idle.status = AssetStatus::Idle;
    idle.acquired = d("2024-01-01");
    let data = VillageContractData {
        assets: vec![idle.clone()],
        ..Default::default()
    };
    let w = World::new(data);
    assert_eq!(w.kinds(2024, "2024-12-31"), [AlertKind::IdleAsset]);
    let mut late = idle;
    late.acquired = d("2024-01-02");
    let w = World::new(VillageContractData {
        assets: vec![late],
        ..Default::default()
    });
    assert!(w.kinds(2024, "2024-12-31").is_empty());

    // A subsidy asset of a 2023 grant: in 2023 nothing; in 2024 an alert unless it earns.
    let mut bought = asset("B", AssetKind::Facility, "1", "台");
    bought.grant = Some("G1".into());
    bought.status = AssetStatus::InUse;
    let mut w = World::new(VillageContractData {
        assets: vec![bought],
        ..Default::default()
    });
    w.grants.push(Grant {
        grant: "G1".into(),
        village: v(),
        year: 2023,
        level: SourceLevel::County,
        program: "光伏".into(),
        amount: yuan("100000"),
        project: "PJ1".into(),
        expected_rate: None,
    });
    assert!(w.kinds(2023, "2023-12-31").is_empty());
    assert_eq!(w.kinds(2024, "2024-12-31"), [AlertKind::IdleAsset]);
    w.actuals.insert("PJ1".into(), yuan("10"));
    assert!(w.kinds(2024, "2024-12-31").is_empty());
}

#[test]
fn village_year_figures() {
    let mut data = VillageContractData {
        contracts: vec![
            Contract::new(ContractDraft {
                step_years: Some(1),
                step_rate: Some(Ppm::parse("10%").unwrap()),
                ..annual("C1", "2023-01-01", "2027-12-31", "10000")
            })
            .unwrap(),
            Contract::new(annual("C2", "2020-01-01", "2022-12-31", "500")).unwrap(),
        ],
        ..Default::default()
    };
    data.receipts.insert(
        "C1".into(),
        vec![
            receipt("2023-01-01", "10000"),
            receipt("2024-02-01", "20000"),
        ],
    );
    data.receipts
        .insert("C2".into(), vec![receipt("2020-01-01", "500")]);
    let y = village_year(&data, 2024, d("2024-12-31")).unwrap().unwrap();
    assert_eq!(y.count, 1);
    assert_eq!(y.contracted, yuan("11000"));
    assert_eq!(y.received, yuan("20000"));
    // C1 has a 9,000 credit, C2 owes 1,000 (2021, 2022): the credit does not pay it.
    assert_eq!(y.arrears, yuan("1000"));
    assert!(
        village_year(&VillageContractData::default(), 2024, d("2024-12-31"))
            .unwrap()
            .is_none()
    );
    assert_eq!(report_date(2024, Some(d("2024-05-01"))), d("2024-05-01"));
    assert_eq!(report_date(2023, Some(d("2024-05-01"))), d("2023-12-31"));
}

#[test]
fn forecast_adds_what_is_still_to_fall_due() {
    let data = VillageContractData {
        contracts: vec![
            Contract::new(annual("C1", "2024-09-01", "2027-08-31", "1000")).unwrap(),
            Contract::new(annual("C2", "2024-03-01", "2027-08-31", "500")).unwrap(),
            Contract::new(ContractDraft {
                account: Some(Account::OtherIncome),
                ..annual("C3", "2024-10-01", "2027-08-31", "700")
            })
            .unwrap(),
        ],
        ..Default::default()
    };
    let mut totals = [Fen::ZERO; crate::account::ACCOUNT_COUNT];
    totals[Account::OperatingRevenue.index()] = yuan("200");
    let standard = crate::measure::Measure::standard();
    let f = forecast(&totals, Some(&data), d("2024-06-30"), &standard[1], None);
    // C2 fell due before today (arrears count 0); C3 is not operating income.
    assert_eq!(
        (f.booked, f.to_fall_due, f.expected),
        (yuan("200"), yuan("1000"), yuan("1200"))
    );
}

/// The forecast of worked example contracts-2025 (see its README) on 2025-06-30, under its policy:
/// 中村 (F1) stays one fen below the floor of 5–10万, 前村 (F2) reaches it exactly.
#[test]
fn forecast_of_example_contracts_2025_at_a_band_floor() {
    let policy = crate::policy::Policy::parse(include_str!(
        "../../../../tests/fixtures/examples/contracts-2025/policy.toml"
    ))
    .unwrap();
    let scheme = policy.bands.unwrap();
    let standard = crate::measure::Measure::standard();
    let operating = standard
        .iter()
        .find(|m| m.key == "operating_income")
        .unwrap();
    let measure = standard.iter().find(|m| m.key == scheme.measure).unwrap();
    let mut totals = [Fen::ZERO; crate::account::ACCOUNT_COUNT];
    totals[Account::OperatingRevenue.index()] = yuan("29876.55");
    for (id, rent, expected, band) in [
        ("F1", "20123.44", "49999.99", "5万以下"),
        ("F2", "20123.45", "50000.00", "5–10万"),
    ] {
        let data = VillageContractData {
            contracts: vec![Contract::new(ContractDraft {
                due_day: DueDay::new(9, 1),
                ..annual(id, "2025-01-01", "2027-12-31", rent)
            })
            .unwrap()],
            ..Default::default()
        };
        let f = forecast(
            &totals,
            Some(&data),
            d("2025-06-30"),
            operating,
            Some((&scheme, measure)),
        );
        assert_eq!(
            (f.booked, f.to_fall_due, f.expected),
            (yuan("29876.55"), yuan(rent), yuan(expected)),
            "{id}"
        );
        assert_eq!(f.band.as_deref(), Some(band), "{id}: {:?}", f.trace);
    }
}

proptest! {
    /// Each rent is the one before stepped (or equal within a step period), and matches
    /// ⌊j/n⌋ steps from the first rent computed independently.
    #[test]
    fn step_ups_follow_the_rule(
        rent in 1i64..100_000_000,
        years in 1u32..5,
        rate in 0i64..=1_000_000,
        start_day in 0i64..3000,
        term in 0i64..(20 * 366),
    ) {
        let start = Date::from_day_number(Date::parse("2000-01-01").unwrap().day_number() + start_day);
        let end = Date::from_day_number(start.day_number() + term);
        let r = Contract::new(ContractDraft {
            step_years: Some(years),
            step_rate: Some(Ppm::from_ppm(rate)),
            due_day: DueDay::new(start.month(), start.day().min(28)),
            ..ContractDraft { annual_rent: Some(Fen::from_fen(rent)), ..draft("C", &start.iso(), &end.iso()) }
        });
        let c = r.unwrap();
        for due in c.dues() {
            prop_assert!(due.date >= start && due.date <= end);
            prop_assert_eq!(due.contract_year, contract_year(start, due.date));
            let steps = due.contract_year / years;
            let mut want = rent as i128;
            for _ in 0..steps {
                let v = want * (1_000_000 + rate as i128);
                // Half away from zero, positive amounts: (2v + den) / (2 den).
                want = (2 * v + 1_000_000) / 2_000_000;
            }
            prop_assert_eq!(due.amount.fen() as i128, want);
        }
        // Every year of the term has one rent when the due day falls within it.
        let dates: Vec<Date> = c.dues().iter().map(|d| d.date).collect();
        prop_assert!(dates.windows(2).all(|w| w[1].year() == w[0].year() + 1));
    }

    /// Arrears are never negative, equal due − received when positive; days overdue exist exactly
    /// when arrears do, and point at the first installment the receipts (oldest first) do not cover.
    #[test]
    fn arrears_and_days_overdue_rules(
        amounts in proptest::collection::vec(1i64..100_000, 1..8),
        paid in proptest::collection::vec((0i64..400, 0i64..120_000), 0..6),
        at in 0i64..500,
    ) {
        let base = Date::parse("2024-01-01").unwrap().day_number();
        let installments: Vec<Installment> = amounts.iter().enumerate().map(|(i, a)| Installment {
            date: Date::from_day_number(base + 60 * i as i64),
            amount: Fen::from_fen(*a),
        }).collect();
        let c = Contract::new(draft("C", "2024-01-01", "2026-01-01")).unwrap().with_installments(installments.clone()).unwrap();
        let receipts: Vec<Receipt> = paid.iter().map(|(day, a)| Receipt {
            date: Date::from_day_number(base + day),
            amount: Fen::from_fen(*a),
        }).collect();
        let at = Date::from_day_number(base + at);
        let s = standing(&c, &receipts, at).unwrap();
        let due: i64 = installments.iter().filter(|i| i.date <= at).map(|i| i.amount.fen()).sum();
        let got: i64 = receipts.iter().filter(|r| r.date <= at).map(|r| r.amount.fen()).sum();
        prop_assert_eq!(s.due.fen(), due);
        prop_assert_eq!(s.received.fen(), got);
        prop_assert_eq!(s.arrears.fen(), (due - got).max(0));
        prop_assert_eq!(s.days_overdue.is_some(), s.arrears.fen() > 0);
        // Issue #35: received + arrears − credit = due, whatever the receipts.
        let credit = (got - due).max(0);
        prop_assert_eq!(s.received.fen() + s.arrears.fen() - credit, s.due.fen());
        if let Some(oldest) = s.oldest_unpaid {
            let covered: i64 = installments.iter().filter(|i| i.date < oldest).map(|i| i.amount.fen()).sum();
            let through: i64 = installments.iter().filter(|i| i.date <= oldest).map(|i| i.amount.fen()).sum();
            prop_assert!(covered <= got && got < through);
            prop_assert_eq!(s.days_overdue, Some(at.day_number() - oldest.day_number()));
        }
    }
}
