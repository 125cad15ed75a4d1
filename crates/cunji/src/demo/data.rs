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

/// Three merges (村庄撤并), by village index; the successor keeps its own code.
fn merges() -> [Merge; 3] {
    [
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
    ]
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
    let merges = merges();
    let mut files = DemoFiles {
        regions: regions_file(&lines, &villages, &merges),
        entries: String::from("village,date,account,amount,voucher,memo,project,reverses\n"),
        statements: String::from(
            "village,year,operating_revenue,contracting_income,investment_income,subsidy_income,other_income,operating_cost,admin_expense,other_expense\n",
        ),
        cadres: String::from(
            "village,year,person,name,role,months_in_post,sanctioned,base_pay,appraisal\n",
        ),
        grants: String::from("grant,village,year,level,program,amount,project,expected_rate\n"),
    };
    let mut grant_seq = 0;
    for (i, code) in villages.iter().enumerate() {
        let end = merges
            .iter()
            .find(|m| m.predecessors.contains(&i))
            .map(|m| m.year - 1)
            .unwrap_or(LAST_YEAR);
        village_books(&mut rng, &mut files, i, code, end, &mut grant_seq);
    }
    files
}

/// The register with the merges.
fn regions_file(lines: &[(&str, &str)], villages: &[&str], merges: &[Merge]) -> String {
    let mut regions = String::from("code,name,predecessors,merged_in\n");
    for (code, name) in lines {
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
    regions
}

/// A village's income level and growth, and what its books hold besides the ordinary entries.
struct Village<'a> {
    i: usize,
    code: &'a str,
    level: f64,
    growth: f64,
    from_statements: bool,
    suspicious: bool,
    /// (year, amount, realised return rate, project) of its grant.
    grant: Option<(i32, f64, f64, String)>,
}

/// One village's books from the first year to `end` (the year before it merged away, or the last).
fn village_books(
    rng: &mut Rng,
    files: &mut DemoFiles,
    i: usize,
    code: &str,
    end: i32,
    grant_seq: &mut usize,
) {
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
    // A grant for about one village in eight.
    let grant = (i % 8 == 5 && end >= 2022).then(|| {
        *grant_seq += 1;
        grant_of(rng, &mut files.grants, code, *grant_seq)
    });
    let v = Village {
        i,
        code,
        level,
        growth,
        from_statements: i % 29 == 3,
        suspicious: i % 41 == 7,
        grant,
    };
    for year in FIRST_YEAR..=end {
        if village_year(rng, files, &v, year) {
            cadres_year(rng, &mut files.cadres, i, code, year);
        }
    }
}

/// A grant's line; returns its year, amount, realised return rate (around the expectation, sometimes
/// nothing at all) and project.
fn grant_of(rng: &mut Rng, grants: &mut String, code: &str, seq: usize) -> (i32, f64, f64, String) {
    let (program, tag) = *rng.pick(&PROGRAMS);
    let year = 2019 + rng.below(4) as i32;
    let amount = *rng.pick(&[300_000.0, 500_000.0, 500_000.0, 600_000.0, 1_000_000.0]);
    let (rate_text, rate) = *rng.pick(&[
        ("3%", Some(0.03)),
        ("5%", Some(0.05)),
        ("6.6%", Some(0.066)),
        ("8%", Some(0.08)),
        ("", None),
    ]);
    let project = format!("RY-{tag}-{seq:03}");
    let lvl = *rng.pick(&["central", "provincial", "municipal", "county"]);
    let _ = writeln!(
        grants,
        "G{seq:03},{code},{year},{lvl},扶持壮大村级集体经济 {program},{},{project},{}",
        yuan(amount),
        rate_text
    );
    let realised = if rng.chance(0.2) {
        0.0
    } else {
        rate.unwrap_or(0.05) * (0.7 + rng.unit() * 0.6)
    };
    (year, amount, realised, project)
}

/// Entries of one village and year, numbered as vouchers `记-001`, ….
struct Book<'a> {
    out: &'a mut String,
    code: &'a str,
    year: i32,
    voucher: u32,
}

impl Book<'_> {
    fn entry(&mut self, month: u32, account: &str, amount: f64, memo: &str, project: &str) {
        self.voucher += 1;
        let (code, year, voucher) = (self.code, self.year, self.voucher);
        let day = 1 + (voucher * 7 % 27);
        let _ = writeln!(
            self.out,
            "{code},{year}-{month:02}-{day:02},{account},{},记-{voucher:03},{memo},{project},",
            yuan(amount)
        );
    }
}

/// One year of a village's books: a statement (its first year, for some villages) or entries. Returns
/// whether the year has cadres (a statement year has none).
fn village_year(rng: &mut Rng, files: &mut DemoFiles, v: &Village<'_>, year: i32) -> bool {
    let t = (year - FIRST_YEAR) as f64;
    let op = v.level * (1.0 + v.growth).powf(t) * (rng.normal() * 0.15).exp();
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
    if v.from_statements && year == FIRST_YEAR {
        let _ = writeln!(
            files.statements,
            "{},{year},{},{},{},{},{},{},{},{}",
            v.code,
            yuan(revenue),
            yuan(contracting),
            yuan(investment),
            yuan(subsidy),
            yuan(1_000.0),
            yuan(cost),
            yuan(admin),
            yuan(500.0)
        );
        return false;
    }
    let mut book = Book {
        out: &mut files.entries,
        code: v.code,
        year,
        voucher: 0,
    };
    if revenue > 0.0 {
        for q in 0..4 {
            book.entry(
                3 * q + 2,
                "operating_revenue",
                revenue / 4.0,
                "经营收入",
                "",
            );
        }
        book.entry(6, "operating_cost", cost, "经营支出", "");
    }
    if contracting > 0.0 {
        book.entry(
            1,
            "contracting_income",
            contracting * 0.5,
            "上半年土地发包收入",
            "",
        );
        book.entry(
            7,
            "contracting_income",
            contracting * 0.5,
            "下半年土地发包收入",
            "",
        );
    }
    if investment > 0.0 {
        book.entry(12, "investment_income", investment, "合作社分红", "");
    }
    if subsidy > 0.0 {
        book.entry(5, "subsidy_income", subsidy, "上级补助", "");
    }
    book.entry(9, "admin_expense", admin, "办公及报刊费", "");
    if year >= 2024 {
        let amount = 3_000.0 + rng.unit() * 5_000.0;
        book.entry(8, "public_welfare_expense", amount, "村内道路维护", "");
    }
    special_entries(&mut book, v, op);
    true
}

/// Grant returns, and the cases the alerts are for: a year-end jump, rent refunded at once, a
/// booking error and its reversal.
fn special_entries(book: &mut Book<'_>, v: &Village<'_>, op: f64) {
    let (i, year) = (v.i, book.year);
    if let Some((gy, amount, realised, project)) = &v.grant {
        if year > *gy && *realised > 0.0 {
            for q in 0..4 {
                let amount = amount * realised / 4.0;
                book.entry(
                    3 * q + 3,
                    "investment_income",
                    amount,
                    "扶持项目收益",
                    project,
                );
            }
        }
    }
    // A year-end jump: December income larger than the rest of the year (an alert case).
    if v.suspicious && year == LAST_YEAR {
        book.entry(
            12,
            "operating_revenue",
            op * 1.6 + 60_000.0,
            "年末一次性收入",
            "",
        );
    }
    // Rent booked and refunded at once (过账): an alert case.
    if i % 37 == 11 && year == LAST_YEAR {
        book.entry(3, "contracting_income", 30_000.0, "厂房租金", "");
        book.entry(4, "other_expense", 30_000.0, "退还租金", "");
    }
    // A booking error and its reversal (红字冲销) in some villages.
    if i % 17 == 2 && year == 2023 {
        book.entry(4, "other_income", 8_800.0, "误记", "");
        let wrong = book.voucher;
        book.voucher += 1;
        let _ = writeln!(
            book.out,
            "{},{year}-04-30,other_income,{},记-{:03},冲销误记,,{year}:记-{wrong:03}",
            v.code,
            yuan(-8_800.0),
            book.voucher
        );
    }
}

fn rating(rng: &mut Rng) -> &'static str {
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
}

/// A year's cadres: most villages have one person as secretary and director (一肩挑).
fn cadres_year(rng: &mut Rng, cadres: &mut String, i: usize, code: &str, year: i32) {
    let short = &code[6..];
    let name = |k: u64| {
        format!(
            "{}{}",
            SURNAMES[((i as u64 * 7 + k) % 16) as usize],
            GIVEN[((i as u64 * 3 + k * 5) % 20) as usize]
        )
    };
    let pay = 36_000.0 + (i % 5) as f64 * 3_000.0;
    if i % 10 < 7 {
        let r = rating(rng);
        let s = if rng.chance(0.02) { "true" } else { "false" };
        let _ = writeln!(
            cadres,
            "{code},{year},R{short}-1,{},secretary_director,12,{s},{},{r}",
            name(1),
            yuan(pay + 6_000.0)
        );
    } else {
        let (r1, r2) = (rating(rng), rating(rng));
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
    let r = rating(rng);
    let _ = writeln!(
        cadres,
        "{code},{year},R{short}-3,{},member,12,false,,{r}",
        name(3)
    );
    if i.is_multiple_of(6) {
        let _ = writeln!(
            cadres,
            "{code},{year},R{short}-9,{},first_secretary,12,false,,",
            name(9)
        );
    }
}
