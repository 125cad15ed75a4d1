//! `cunji gen`: synthetic books in the formats of SPEC §9, for benchmarks and trials — a correct region
//! tree (or a real one from `--regions`, plain or gzipped CSV), right-skewed income calibrated to the
//! published shares (log-normal, median 9万 operating income), cadres, and grants whose projects return
//! income. Villages are written one at a time, so the whole country fits in bounded memory.

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

/// The four files written, each with its header.
struct Files {
    regions: BufWriter<File>,
    entries: BufWriter<File>,
    cadres: BufWriter<File>,
    grants: BufWriter<File>,
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
        })
    }

    fn flush(self) -> Result<(), Failure> {
        for mut w in [self.regions, self.entries, self.cadres, self.grants] {
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
        entry_rows += village_books(&mut files, o, &code, villages, &mut grant_seq)?;
        if o.regions.is_none() && villages >= o.villages {
            break;
        }
        if o.regions.is_some() && o.villages > 0 && villages >= o.villages {
            break;
        }
    }
    files.flush()?;
    eprintln!(
        "已生成 {villages} 个村、{entry_rows} 笔分录：{}",
        o.out.display()
    );
    Ok(())
}

/// One village's grant, entries and cadres; returns how many entries it wrote. Each village's books
/// come from its own stream (seeded by its number), so a village's data does not depend on the others.
fn village_books(
    files: &mut Files,
    o: &GenOptions<'_>,
    code: &str,
    number: usize,
    grant_seq: &mut usize,
) -> Result<u64, Failure> {
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
    let mut entry_rows = 0;
    for year in o.years.0..=o.years.1 {
        let op = level * (1.0 + growth).powi(year - o.years.0) * (r.normal() * 0.15).exp();
        entry_rows += year_entries(&mut files.entries, o, &mut r, code, year, op)?;
        if let Some((id, gy, amount, rate)) = &grant {
            if year > *gy && r.chance(0.85) {
                writeln!(
                    files.entries,
                    "{code},{year}-12-20,investment_income,{:.2},记-9999,项目收益,P{id}",
                    amount * rate * (0.7 + r.unit() * 0.6)
                )
                .map_err(io)?;
                entry_rows += 1;
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
    Ok(entry_rows)
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
