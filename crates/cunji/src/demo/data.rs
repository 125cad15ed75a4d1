//! The demo county's synthetic books: a seeded generator (the same seed gives the same files), right-
//! skewed incomes, merges, cadres with ratings, grants whose projects return income, a statement
//! import, reversals, a few suspicious year-end jumps and rents refunded at once.

use std::fmt::Write as _;

use super::{FIRST_YEAR, LAST_YEAR, REGIONS};

/// SplitMix64: small, fast and the same on every machine, so the demo county is always the same.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Yuan (synthetic, a float only while generating) → the `12345.67` text of a file.
fn yuan(v: f64) -> String {
    let fen = (v * 100.0).round() as i64;
    cunji_core::money::Fen::from_fen(fen).json()
}

const SURNAMES: [&str; 16] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
];
const GIVEN: [&str; 20] = [
    "建国", "志强", "秀英", "桂兰", "国栋", "海涛", "立新", "振华", "红梅", "春生", "保平", "文华",
    "玉兰", "永刚", "金凤", "德胜", "丽娟", "树林", "广义", "卫东",
];
const PROGRAMS: [(&str, &str); 5] = [
    ("光伏电站", "PV"),
    ("标准化厂房", "CF"),
    ("冷库", "LK"),
    ("合作社入股", "HZ"),
    ("临街商铺", "SP"),
];

/// The generated files, in the formats of SPEC §9.
pub struct DemoFiles {
    pub regions: String,
    pub statements: String,
    pub entries: String,
    pub cadres: String,
    pub grants: String,
}

struct Merge {
    successor: usize,
    predecessors: Vec<usize>,
    year: i32,
}

pub fn generate(seed: u64) -> DemoFiles {
    let mut rng = Rng::new(seed);
    let lines: Vec<(&str, &str)> = REGIONS
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .collect();
    let villages: Vec<&str> = lines
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| !c.ends_with("000"))
        .collect();
    // Three merges (村庄撤并); the successor keeps its own code.
    let merges = [
        Merge {
            successor: 10,
            predecessors: vec![11],
            year: 2022,
        },
        Merge {
            successor: 50,
            predecessors: vec![51, 52],
            year: 2023,
        },
        Merge {
            successor: 120,
            predecessors: vec![121],
            year: 2021,
        },
    ];
    let merged_away = |i: usize| -> Option<i32> {
        merges
            .iter()
            .find(|m| m.predecessors.contains(&i))
            .map(|m| m.year)
    };

    let mut regions = String::from("code,name,predecessors,merged_in\n");
    for (code, name) in &lines {
        let idx = villages.iter().position(|v| v == code);
        let merge = idx.and_then(|i| merges.iter().find(|m| m.successor == i));
        match merge {
            Some(m) => {
                let preds: Vec<&str> = m.predecessors.iter().map(|p| villages[*p]).collect();
                let _ = writeln!(regions, "{code},{name},{},{}", preds.join(";"), m.year);
            }
            None => {
                let _ = writeln!(regions, "{code},{name},,");
            }
        }
    }

    let mut entries = String::from("village,date,account,amount,voucher,memo,project,reverses\n");
    let mut statements = String::from(
        "village,year,operating_revenue,contracting_income,investment_income,subsidy_income,other_income,operating_cost,admin_expense,other_expense\n",
    );
    let mut cadres = String::from(
        "village,year,person,name,role,months_in_post,sanctioned,base_pay,appraisal\n",
    );
    let mut grants =
        String::from("grant,village,year,level,program,amount,project,expected_rate\n");
    let mut grant_seq = 0;

    for (i, code) in villages.iter().enumerate() {
        // Right-skewed operating income, log-normal with median 9万 in 2021 (σ = 0.6), which gives Hebei's
        // published end-2021 shares: about 16% under 5万, 41% at 5–10万, 43% at 10万 and up. A few villages
        // have no operating income at all (空壳村).
        let shell = rng.chance(0.03);
        let level = if shell {
            0.0
        } else {
            90_000.0 / 1.12 * (rng.normal() * 0.6).exp()
        };
        let growth = 0.06 + rng.normal() * 0.10;
        let end = merged_away(i).map(|y| y - 1).unwrap_or(LAST_YEAR);
        let from_statements = i % 29 == 3;
        let suspicious = i % 41 == 7;

        // A grant for about one village in eight.
        let grant = (i % 8 == 5 && end >= 2022).then(|| {
            grant_seq += 1;
            let (program, tag) = *rng.pick(&PROGRAMS);
            let year = 2019 + rng.below(4) as i32;
            let amount = *rng.pick(&[300_000.0, 500_000.0, 500_000.0, 600_000.0, 1_000_000.0]);
            let (rate_text, rate) = *rng.pick(&[("3%", Some(0.03)), ("5%", Some(0.05)), ("6.6%", Some(0.066)), ("8%", Some(0.08)), ("", None)]);
            let project = format!("RY-{tag}-{grant_seq:03}");
            let lvl = *rng.pick(&["central", "provincial", "municipal", "county"]);
            let _ = writeln!(
                grants,
                "G{grant_seq:03},{code},{year},{lvl},扶持壮大村级集体经济 {program},{},{project},{}",
                yuan(amount),
                rate_text
            );
            // Realised return: around the expectation, sometimes nothing at all.
            let realised = if rng.chance(0.2) { 0.0 } else { rate.unwrap_or(0.05) * (0.7 + rng.unit() * 0.6) };
            (year, amount, realised, project)
        });

        for year in FIRST_YEAR..=end {
            let t = (year - FIRST_YEAR) as f64;
            let op = level * (1.0 + growth).powf(t) * (rng.normal() * 0.15).exp();
            let mut voucher = 0;
            let mut book = |entries: &mut String,
                            month: u32,
                            account: &str,
                            amount: f64,
                            memo: &str,
                            project: &str| {
                voucher += 1;
                let day = 1 + (voucher * 7 % 27);
                let _ = writeln!(
                    entries,
                    "{code},{year}-{month:02}-{day:02},{account},{},记-{voucher:03},{memo},{project},",
                    yuan(amount)
                );
            };
            // The 2023 chart (from 2024) has no 发包及上交收入: land rent is operating revenue.
            let (revenue, contracting, investment) = if year >= 2024 {
                (op * 0.85, 0.0, op * 0.15)
            } else {
                (op * 0.40, op * 0.45, op * 0.15)
            };
            let subsidy = if rng.chance(0.35) {
                20_000.0 + rng.unit() * 80_000.0
            } else {
                0.0
            };
            let cost = revenue * (0.3 + rng.unit() * 0.3);
            let admin = if op > 0.0 {
                4_000.0 + rng.unit() * 16_000.0
            } else {
                2_000.0
            };
            if from_statements && year == FIRST_YEAR {
                let _ = writeln!(
                    statements,
                    "{code},{year},{},{},{},{},{},{},{},{}",
                    yuan(revenue),
                    yuan(contracting),
                    yuan(investment),
                    yuan(subsidy),
                    yuan(1_000.0),
                    yuan(cost),
                    yuan(admin),
                    yuan(500.0)
                );
                continue;
            }
            if revenue > 0.0 {
                for q in 0..4 {
                    book(
                        &mut entries,
                        3 * q + 2,
                        "operating_revenue",
                        revenue / 4.0,
                        "经营收入",
                        "",
                    );
                }
                book(&mut entries, 6, "operating_cost", cost, "经营支出", "");
            }
            if contracting > 0.0 {
                book(
                    &mut entries,
                    1,
                    "contracting_income",
                    contracting * 0.5,
                    "上半年土地发包收入",
                    "",
                );
                book(
                    &mut entries,
                    7,
                    "contracting_income",
                    contracting * 0.5,
                    "下半年土地发包收入",
                    "",
                );
            }
            if investment > 0.0 {
                book(
                    &mut entries,
                    12,
                    "investment_income",
                    investment,
                    "合作社分红",
                    "",
                );
            }
            if subsidy > 0.0 {
                book(&mut entries, 5, "subsidy_income", subsidy, "上级补助", "");
            }
            book(&mut entries, 9, "admin_expense", admin, "办公及报刊费", "");
            if year >= 2024 {
                book(
                    &mut entries,
                    8,
                    "public_welfare_expense",
                    3_000.0 + rng.unit() * 5_000.0,
                    "村内道路维护",
                    "",
                );
            }
            if let Some((gy, amount, realised, project)) = &grant {
                if year > *gy && *realised > 0.0 {
                    for q in 0..4 {
                        book(
                            &mut entries,
                            3 * q + 3,
                            "investment_income",
                            amount * realised / 4.0,
                            "扶持项目收益",
                            project,
                        );
                    }
                }
            }
            // A year-end jump: December income larger than the rest of the year (an alert case).
            if suspicious && year == LAST_YEAR {
                book(
                    &mut entries,
                    12,
                    "operating_revenue",
                    op * 1.6 + 60_000.0,
                    "年末一次性收入",
                    "",
                );
            }
            // Rent booked and refunded at once (过账): an alert case.
            if i % 37 == 11 && year == LAST_YEAR {
                book(
                    &mut entries,
                    3,
                    "contracting_income",
                    30_000.0,
                    "厂房租金",
                    "",
                );
                book(&mut entries, 4, "other_expense", 30_000.0, "退还租金", "");
            }
            // A booking error and its reversal (红字冲销) in some villages.
            if i % 17 == 2 && year == 2023 {
                book(&mut entries, 4, "other_income", 8_800.0, "误记", "");
                let wrong = voucher;
                voucher += 1;
                let _ = writeln!(
                    entries,
                    "{code},{year}-04-30,other_income,{},记-{voucher:03},冲销误记,,{year}:记-{wrong:03}",
                    yuan(-8_800.0)
                );
            }

            // Cadres: most villages have one person as secretary and director (一肩挑).
            let short = &code[6..];
            let name = |k: u64| {
                format!(
                    "{}{}",
                    SURNAMES[((i as u64 * 7 + k) % 16) as usize],
                    GIVEN[((i as u64 * 3 + k * 5) % 20) as usize]
                )
            };
            let rating = |rng: &mut Rng| -> &'static str {
                let u = rng.unit();
                if u < 0.2 {
                    "优秀"
                } else if u < 0.85 {
                    "合格"
                } else if u < 0.95 {
                    "基本合格"
                } else {
                    "不合格"
                }
            };
            let pay = 36_000.0 + (i % 5) as f64 * 3_000.0;
            let sanctioned = |rng: &mut Rng| if rng.chance(0.02) { "true" } else { "false" };
            if i % 10 < 7 {
                let r = rating(&mut rng);
                let s = sanctioned(&mut rng);
                let _ = writeln!(
                    cadres,
                    "{code},{year},R{short}-1,{},secretary_director,12,{s},{},{r}",
                    name(1),
                    yuan(pay + 6_000.0)
                );
            } else {
                let (r1, r2) = (rating(&mut rng), rating(&mut rng));
                let m2 = if rng.chance(0.15) { 5 } else { 12 };
                let _ = writeln!(
                    cadres,
                    "{code},{year},R{short}-1,{},secretary,12,false,{},{r1}",
                    name(1),
                    yuan(pay)
                );
                let _ = writeln!(
                    cadres,
                    "{code},{year},R{short}-2,{},director,{m2},false,{},{r2}",
                    name(2),
                    yuan(pay)
                );
            }
            let r = rating(&mut rng);
            let _ = writeln!(
                cadres,
                "{code},{year},R{short}-3,{},member,12,false,,{r}",
                name(3)
            );
            if i % 6 == 0 {
                let _ = writeln!(
                    cadres,
                    "{code},{year},R{short}-9,{},first_secretary,12,false,,",
                    name(9)
                );
            }
        }
    }
    DemoFiles {
        regions,
        statements,
        entries,
        cadres,
        grants,
    }
}
