//! `cunji gen`: synthetic books in the formats of SPEC §9, for benchmarks and trials — a correct region
//! tree (or a real one from `--regions`, plain or gzipped CSV), right-skewed income calibrated to the
//! published shares (log-normal, median 9万 operating income), cadres, and grants whose projects return
//! income. Villages are written one at a time, so the whole country fits in bounded memory.
//!
//! Each village also gets its asset register and contracts (SPEC §16, `contracts`): about 5 assets
//! and 3 contracts, with the receipts of their rents in `receipts.csv` (entries naming a contract,
//! imported after the contracts): some in arrears, some expiring just after the last year, some
//! stepping up, a few far below their peers, and an asset bought with the village's grant that
//! earns nothing in some years (idle).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use crate::demo::Rng;
use crate::support::Failure;

pub struct GenOptions<'a> {
    pub villages: usize,
    pub years: (i32, i32),
    pub entries_per_month: usize,
    pub seed: u64,
    pub out: &'a Path,
    pub regions: Option<&'a Path>,
}

fn io(e: std::io::Error) -> Failure {
    Failure::other(format!("错误：写入失败：{e}"))
}

/// Region rows `(code, name)` from a file (CSV with a `code,name` header, optionally gzipped).
fn region_lines(path: &Path) -> Result<Box<dyn Iterator<Item = (String, String)>>, Failure> {
    let file = File::open(path)
        .map_err(|e| Failure::input(format!("错误：无法读取 {}：{e}", path.display())))?;
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    Ok(Box::new(
        reader
            .lines()
            .skip(1)
            .map_while(Result::ok)
            .filter_map(|l| {
                let (c, n) = l.split_once(',')?;
                Some((c.trim().to_string(), n.trim().to_string()))
            }),
    ))
}

/// A synthetic tree: province 90, cities of 10 counties, counties of 10 townships, townships of 10–30 villages.
fn synthetic_regions(villages: usize, rng: &mut Rng) -> Vec<(String, String)> {
    let mut out = vec![("900000000000".to_string(), "某省".to_string())];
    let mut made = 0;
    'outer: for city in 1..=99 {
        out.push((format!("90{city:02}00000000"), format!("第{city}市")));
        for county in 1..=10 {
            out.push((
                format!("90{city:02}{county:02}000000"),
                format!("第{city}-{county}县"),
            ));
            for town in 1..=10 {
                out.push((
                    format!("90{city:02}{county:02}{:03}000", 100 + town),
                    format!("第{city}-{county}-{town}镇"),
                ));
                let n = 10 + rng.below(21) as usize;
                for v in 0..n {
                    if made == villages {
                        break 'outer;
                    }
                    out.push((
                        format!("90{city:02}{county:02}{:03}{:03}", 100 + town, 200 + v),
                        format!("第{}村", made + 1),
                    ));
                    made += 1;
                }
            }
        }
    }
    out
}

/// The files written, each with its header.
struct Files {
    regions: BufWriter<File>,
    entries: BufWriter<File>,
    cadres: BufWriter<File>,
    grants: BufWriter<File>,
    assets: BufWriter<File>,
    contracts: BufWriter<File>,
    installments: BufWriter<File>,
    receipts: BufWriter<File>,
}

impl Files {
    fn create(dir: &Path) -> Result<Files, Failure> {
        let create = |name: &str, header: &str| -> Result<BufWriter<File>, Failure> {
            let mut w = File::create(dir.join(name))
                .map(BufWriter::new)
                .map_err(io)?;
            writeln!(w, "{header}").map_err(io)?;
            Ok(w)
        };
        Ok(Files {
            regions: create("regions.csv", "code,name")?,
            entries: create(
                "entries.csv",
                "village,date,account,amount,voucher,memo,project",
            )?,
            cadres: create(
                "cadres.csv",
                "village,year,person,name,role,months_in_post,sanctioned,base_pay,appraisal",
            )?,
            grants: create(
                "grants.csv",
                "grant,village,year,level,program,amount,project,expected_rate",
            )?,
            assets: create(
                "assets.csv",
                "asset,village,kind,name,quantity,unit,original_value,acquired,grant,status",
            )?,
            contracts: create(
                "contracts.csv",
                "contract,village,counterparty,counterparty_id,asset,kind,signed,start,end,resolution,annual_rent,due_day,step_years,step_rate,account",
            )?,
            installments: create("installments.csv", "contract,village,date,amount")?,
            receipts: create(
                "receipts.csv",
                "village,date,account,amount,voucher,memo,project,contract",
            )?,
        })
    }

    fn flush(self) -> Result<(), Failure> {
        for mut w in [
            self.regions,
            self.entries,
            self.cadres,
            self.grants,
            self.assets,
            self.contracts,
            self.installments,
            self.receipts,
        ] {
            w.flush().map_err(io)?;
        }
        Ok(())
    }
}

pub fn run(o: &GenOptions<'_>) -> Result<(), Failure> {
    std::fs::create_dir_all(o.out).map_err(io)?;
    let mut rng = Rng::new(o.seed);
    let mut files = Files::create(o.out)?;
    let source: Box<dyn Iterator<Item = (String, String)>> = match o.regions {
        Some(p) => region_lines(p)?,
        None => Box::new(synthetic_regions(o.villages, &mut rng).into_iter()),
    };
    let (mut villages, mut entry_rows, mut grant_seq) = (0usize, 0u64, 0usize);
    let mut register = Register::default();
    // The published tree lists a city without counties twice (as city and as its own county).
    let mut upper = std::collections::HashSet::new();
    for (code, name) in source {
        if code.len() != 12 || (code.ends_with("000") && !upper.insert(code.clone())) {
            continue;
        }
        writeln!(files.regions, "{code},{name}").map_err(io)?;
        if code.ends_with("000") {
            continue;
        }
        villages += 1;
        let grant = village_books(
            &mut files,
            o,
            &code,
            villages,
            &mut grant_seq,
            &mut entry_rows,
        )?;
        register.village(&mut files, o, &code, villages, grant.as_ref())?;
        if o.regions.is_none() && villages >= o.villages {
            break;
        }
        if o.regions.is_some() && o.villages > 0 && villages >= o.villages {
            break;
        }
    }
    files.flush()?;
    eprintln!(
        "已生成 {villages} 个村、{entry_rows} 笔分录、{} 项资产、{} 份合同（{} 笔分期、{} 笔合同收款）：{}",
        register.assets,
        register.contracts,
        register.installments,
        register.receipts,
        o.out.display()
    );
    Ok(())
}

/// A village's grant: its id and year.
type GrantOf = (String, i32);

/// One village's grant, entries and cadres, counting its entries into `entry_rows`; returns its
/// grant. Each village's books come from its own stream (seeded by its number), so a village's data
/// does not depend on the others.
fn village_books(
    files: &mut Files,
    o: &GenOptions<'_>,
    code: &str,
    number: usize,
    grant_seq: &mut usize,
    entry_rows: &mut u64,
) -> Result<Option<GrantOf>, Failure> {
    let mut r = Rng::new(o.seed ^ (number as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let level = if r.chance(0.03) {
        0.0
    } else {
        90_000.0 / 1.12 * (r.normal() * 0.6).exp()
    };
    let growth = 0.06 + r.normal() * 0.10;
    let grant = r.chance(0.12).then(|| {
        *grant_seq += 1;
        let year = o.years.0 + r.below((o.years.1 - o.years.0 + 1) as u64) as i32;
        (
            format!("GEN{:07}", *grant_seq),
            year,
            500_000.0f64,
            0.03 + r.unit() * 0.05,
        )
    });
    if let Some((id, year, amount, rate)) = &grant {
        let level_name = *r.pick(&["central", "provincial", "municipal", "county"]);
        writeln!(
            files.grants,
            "{id},{code},{year},{level_name},扶持壮大村级集体经济,{amount:.2},P{id},{:.1}%",
            rate * 100.0
        )
        .map_err(io)?;
    }
    for year in o.years.0..=o.years.1 {
        let op = level * (1.0 + growth).powi(year - o.years.0) * (r.normal() * 0.15).exp();
        *entry_rows += year_entries(&mut files.entries, o, &mut r, code, year, op)?;
        if let Some((id, gy, amount, rate)) = &grant {
            if year > *gy && r.chance(0.85) {
                writeln!(
                    files.entries,
                    "{code},{year}-12-20,investment_income,{:.2},记-9999,项目收益,P{id}",
                    amount * rate * (0.7 + r.unit() * 0.6)
                )
                .map_err(io)?;
                *entry_rows += 1;
            }
        }
        let short = &code[6..];
        let rating = *r.pick(&["优秀", "合格", "合格", "合格", "基本合格"]);
        writeln!(
            files.cadres,
            "{code},{year},G{short}-1,村干部{short},secretary_director,12,false,48000.00,{rating}"
        )
        .map_err(io)?;
    }
    Ok(grant.map(|(id, year, _, _)| (id, year)))
}

/// The asset register and contracts written so far (counts for the summary line).
#[derive(Default)]
struct Register {
    assets: u64,
    contracts: u64,
    installments: u64,
    receipts: u64,
}

/// A rent stepped `steps` times by `ppm`, each step rounded to fen half away from zero (SPEC §16).
fn stepped(rent: i64, ppm: i64, steps: i32) -> i64 {
    let mut v = rent as i128;
    for _ in 0..steps {
        v = (2 * v * (1_000_000 + ppm as i128) + 1_000_000) / 2_000_000;
    }
    v as i64
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

impl Register {
    /// A village's assets, contracts, installments and the receipts of what fell due up to the
    /// last year, from its own stream (independent of its books'), so the books above stay as they
    /// were before contracts were generated.
    fn village(
        &mut self,
        files: &mut Files,
        o: &GenOptions<'_>,
        code: &str,
        number: usize,
        grant: Option<&GrantOf>,
    ) -> Result<(), Failure> {
        let mut r = Rng::new(
            (o.seed ^ 0x5EED_C0DE_u64)
                .wrapping_add((number as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)),
        );
        let (first, last) = o.years;
        // 4–6 assets: the first ones let (land by the 亩, buildings by the square metre), the rest
        // idle or in use; plus the grant's facility.
        let n_assets = 4 + r.below(3) as usize;
        let n_contracts = 2 + r.below(3) as usize;
        let mut lettable = Vec::new();
        for a in 1..=n_assets {
            let land = a == 1 || a == 3 || (a > 3 && r.chance(0.3));
            let (kind, unit, quantity, value) = if land {
                ("land", "亩", 10 + r.below(191) as i64, String::new())
            } else {
                (
                    "building",
                    "平方米",
                    100 + r.below(901) as i64,
                    yuan((50_000 + r.below(450_000) as i64) * 100),
                )
            };
            let status = if a <= n_contracts.min(3) {
                "let"
            } else if r.chance(0.3) {
                "idle"
            } else {
                "in_use"
            };
            writeln!(
                files.assets,
                "A{a},{code},{kind},资产{a},{quantity},{unit},{value},2010-01-01,,{status}"
            )
            .map_err(io)?;
            if status == "let" {
                lettable.push((format!("A{a}"), land, quantity));
            }
            self.assets += 1;
        }
        if let Some((id, year)) = grant {
            writeln!(
                files.assets,
                "S1,{code},facility,扶持项目设施,1,座,500000.00,{year}-06-01,{id},in_use"
            )
            .map_err(io)?;
            self.assets += 1;
        }
        let mut voucher = 0;
        for k in 1..=n_contracts {
            let id = format!("K{k}");
            let sy = first - 2 + r.below((last - first + 3) as u64) as i32;
            let month = 1 + r.below(12) as u32;
            let start = format!("{sy}-{month:02}-01");
            if k > lettable.len() {
                // A cooperation paid in installments: 3 years, twice a year.
                let amount = (5_000 + r.below(15_001) as i64) * 100;
                let end = format!("{}-12-31", sy + 2);
                writeln!(
                    files.contracts,
                    "{id},{code},合作方{k},,,cooperation,{sy}-01-01,{sy}-01-01,{end},{sy}-01-01,,,,,"
                )
                .map_err(io)?;
                self.contracts += 1;
                let late = r.chance(0.15);
                for y in sy..=sy + 2 {
                    for m in [3, 9] {
                        let date = format!("{y}-{m:02}-01");
                        writeln!(files.installments, "{id},{code},{date},{}", yuan(amount))
                            .map_err(io)?;
                        self.installments += 1;
                        if y < last || (y == last && !(late && m == 9)) {
                            voucher += 1;
                            self.receipt(files, code, &date, amount, voucher, &id)?;
                        }
                    }
                }
                continue;
            }
            let (asset, land, quantity) = &lettable[k - 1];
            let per_unit = if *land {
                if r.chance(0.03) {
                    100 + r.below(100) as i64
                } else {
                    400 + r.below(801) as i64
                }
            } else {
                5 + r.below(26) as i64
            };
            let rent = per_unit * quantity * 100;
            let expiring = r.chance(0.1);
            let (end, term) = if expiring {
                (format!("{}-02-28", last + 1), last + 1 - sy)
            } else {
                let term = 3 + r.below(8) as i32;
                let end = if month == 1 {
                    format!("{}-12-31", sy + term - 1)
                } else {
                    format!("{}-{:02}-28", sy + term, month - 1)
                };
                (end, term)
            };
            let step = r.chance(0.2);
            let (step_years, step_rate) = if step { ("3", "5%") } else { ("", "") };
            let kind = if *land { "contracting" } else { "lease" };
            writeln!(
                files.contracts,
                "{id},{code},承包方{k},,{asset},{kind},{start},{start},{end},{start},{},{month:02}-01,{step_years},{step_rate},",
                yuan(rent)
            )
            .map_err(io)?;
            self.contracts += 1;
            // Rents fall due on each anniversary within the term; those up to the last year are
            // received on their day, except in arrears: the last one unpaid or half paid.
            let arrears = r.chance(0.15);
            let half = r.chance(0.5);
            for y in sy..=(sy + term).min(last) {
                let date = format!("{y}-{month:02}-01");
                if date > end {
                    break;
                }
                let due = if step {
                    stepped(rent, 50_000, (y - sy) / 3)
                } else {
                    rent
                };
                let paid = match (arrears && y == last, half) {
                    (false, _) => due,
                    (true, true) => due / 2,
                    (true, false) => 0,
                };
                if paid > 0 {
                    voucher += 1;
                    self.receipt(files, code, &date, paid, voucher, &id)?;
                }
            }
        }
        Ok(())
    }

    fn receipt(
        &mut self,
        files: &mut Files,
        code: &str,
        date: &str,
        amount: i64,
        voucher: usize,
        contract: &str,
    ) -> Result<(), Failure> {
        writeln!(
            files.receipts,
            "{code},{date},operating_revenue,{},收-{voucher:04},合同收款,,{contract}",
            yuan(amount)
        )
        .map_err(io)?;
        self.receipts += 1;
        Ok(())
    }
}

/// A year of monthly revenue, cost and expense entries around operating income `op`.
fn year_entries(
    entries: &mut BufWriter<File>,
    o: &GenOptions<'_>,
    r: &mut Rng,
    code: &str,
    year: i32,
    op: f64,
) -> Result<u64, Failure> {
    let mut voucher = 0;
    for month in 1..=12u32 {
        for k in 0..o.entries_per_month {
            voucher += 1;
            let (account, amount) = match k % 4 {
                0 | 1 => (
                    "operating_revenue",
                    op / 12.0 / (o.entries_per_month as f64 / 2.0).max(1.0) * (0.5 + r.unit()),
                ),
                2 => (
                    "operating_cost",
                    op * 0.4 / 12.0 / (o.entries_per_month as f64 / 4.0).max(1.0)
                        * (0.5 + r.unit()),
                ),
                _ => ("admin_expense", 800.0 + r.unit() * 1200.0),
            };
            let day = 1 + (voucher * 7 % 27);
            writeln!(
                entries,
                "{code},{year}-{month:02}-{day:02},{account},{:.2},记-{voucher:04},,",
                amount.max(0.01)
            )
            .map_err(io)?;
        }
    }
    Ok(12 * o.entries_per_month as u64)
}
