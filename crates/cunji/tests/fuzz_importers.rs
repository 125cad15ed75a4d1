//! Time-bounded fuzzing of every importer and of the policy parser (issue #32), run by CI:
//! `cargo test -p cunji --release --test fuzz_importers -- --ignored`, each target for
//! `CUNJI_FUZZ_SECS` seconds (default 15; CI states its own). The quick proptest cases of the readers
//! run with every `cargo test` (crates/cunji-store/tests/fuzz.rs); these go through the whole import,
//! database included, as a user's file does.
//!
//! Each case is a mutation of a good file (a byte changed, inserted or cut, a line repeated, a cell
//! replaced by a hostile value, the file recoded to GB18030 with CRLF), fed to the importer on a database
//! holding the example county. What must hold for any input: no panic; a refusal lists at most
//! `ERRORS_LISTED` errors, each naming the file and saying something; never a database's own error.

use std::time::{Duration, Instant};

use cunji_core::columns::ImportKind;
use cunji_core::policy::Policy;
use cunji_store::import::statement_book::BookFile;
use cunji_store::import::{ImportError, Quiet};
use cunji_store::Store;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/examples");

/// Values a careless or hostile file puts in a cell.
const HOSTILE: [&str; 16] = [
    "",
    "-",
    "9999999999999999999999",
    "-0.000001",
    "1e400",
    "NaN",
    "２０２４",
    "=1+1",
    "\u{feff}1",
    "2025/13/45",
    "2024年2月30日",
    "0.000001万元",
    "1,2,3",
    "\"",
    "130101001001130101001001",
    "逗,号",
];

/// xorshift64*: deterministic from the seed printed on failure, no dependency.
struct Rng(u64);

impl Rng {
    /// Seeds spread by splitmix64, so that neighbouring case numbers start far apart.
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Rng((z ^ (z >> 31)) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seconds() -> Duration {
    let secs = std::env::var("CUNJI_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15u64);
    Duration::from_secs(secs)
}

/// One mutation of a text file: a cell replaced, a line repeated or dropped, or a byte changed.
fn mutate_text(rng: &mut Rng, good: &str) -> Vec<u8> {
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    match rng.below(6) {
        0 | 1 => {
            let l = rng.below(lines.len());
            let mut cells: Vec<String> = lines[l].split(',').map(str::to_string).collect();
            let c = rng.below(cells.len());
            cells[c] = HOSTILE[rng.below(HOSTILE.len())].to_string();
            lines[l] = cells.join(",");
        }
        2 => {
            let l = rng.below(lines.len());
            let copy = lines[l].clone();
            lines.insert(l, copy);
        }
        3 => {
            let l = rng.below(lines.len());
            lines.remove(l);
        }
        4 => {
            // Recoded as Excel and WPS save on Windows: GB18030, CRLF.
            let crlf = lines.join("\r\n") + "\r\n";
            let (bytes, _, _) = encoding_rs::GB18030.encode(&crlf);
            return mutate_bytes(rng, bytes.to_vec(), 1);
        }
        _ => {
            let times = 1 + rng.below(3);
            return mutate_bytes(rng, good.as_bytes().to_vec(), times);
        }
    }
    (lines.join("\n") + "\n").into_bytes()
}

/// `times` byte changes: flipped, inserted or the tail cut.
fn mutate_bytes(rng: &mut Rng, mut b: Vec<u8>, times: usize) -> Vec<u8> {
    for _ in 0..times {
        if b.is_empty() {
            break;
        }
        let p = rng.below(b.len());
        match rng.below(3) {
            0 => b[p] ^= (rng.next() as u8) | 1,
            1 => b.insert(p, rng.next() as u8),
            _ => b.truncate(p.max(1)),
        }
    }
    b
}

/// Every listed error names the file and says something; at most the listed bound; never the
/// database's own text.
fn judge(target: &str, seed: u64, name: &str, result: Result<(), ImportError>) -> bool {
    match result {
        Ok(()) => true,
        Err(ImportError::Rows(errors)) => {
            assert!(
                errors.iter().count() <= cunji_store::table::ERRORS_LISTED,
                "{target} seed {seed}: more errors listed than the bound"
            );
            for e in errors.iter() {
                let text = e.to_string();
                assert!(
                    text.starts_with(name) && !e.message.trim().is_empty(),
                    "{target} seed {seed}: {text}"
                );
            }
            false
        }
        Err(ImportError::Store(e)) => panic!("{target} seed {seed}: a store failure on input: {e}"),
    }
}

async fn example_store(dir: &std::path::Path) -> Store {
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let store = Store::open(&url, true).await.unwrap();
    let base = format!("{EXAMPLE}/contracts-2024");
    for (kind, file) in [
        (ImportKind::Regions, "regions.csv"),
        (ImportKind::Grants, "grants.csv"),
        (ImportKind::Assets, "assets.csv"),
        (ImportKind::Contracts, "contracts.csv"),
    ] {
        let bytes = std::fs::read(format!("{base}/{file}")).unwrap();
        store
            .import(kind, file, &bytes, "fuzz", &Quiet)
            .await
            .unwrap();
    }
    store
}

/// The good files each kind's mutations start from.
fn seeds() -> Vec<(ImportKind, String)> {
    let read = |case: &str, file: &str| {
        std::fs::read_to_string(format!("{EXAMPLE}/{case}/{file}")).unwrap()
    };
    vec![
        (ImportKind::Regions, read("contracts-2024", "regions.csv")),
        (ImportKind::Entries, read("contracts-2024", "entries.csv")),
        (ImportKind::Grants, read("contracts-2024", "grants.csv")),
        (ImportKind::Cadres, cadres()),
        (ImportKind::Assets, read("contracts-2024", "assets.csv")),
        (ImportKind::Contracts, read("contracts-2024", "contracts.csv")),
        (ImportKind::Installments, read("contracts-2024", "installments.csv")),
        (
            ImportKind::Statements,
            "village,year,operating_revenue,investment_income\n130101001001,2019,12000.50,300\n130101001002,2019,,\n".into(),
        ),
        (
            ImportKind::Stats,
            "region,year,rural_income\n130101000000,2024,21000\n".into(),
        ),
    ]
}

fn cadres() -> String {
    "village,year,person,name,role,months_in_post,sanctioned,base_pay,appraisal\n\
     130101001001,2024,P1,王一,secretary_director,12,否,36000,优秀\n\
     130101001001,2024,P2,李二,first_secretary,6,否,,合格\n"
        .into()
}

#[test]
#[ignore = "minutes of CPU: run by CI with --ignored"]
fn every_importer_survives_mutated_files() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile_dir("importers");
    let store = runtime.block_on(example_store(&dir));
    for (kind, good) in seeds() {
        let target = kind.key();
        let name = format!("{target}.csv");
        let (start, mut cases, mut accepted) = (Instant::now(), 0u64, 0u64);
        while start.elapsed() < seconds() {
            let seed = 0x9e37_79b9 ^ (cases << 8) ^ target.len() as u64;
            let mut rng = Rng::new(seed);
            let bytes = mutate_text(&mut rng, &good);
            let result = runtime.block_on(store.import(kind, &name, &bytes, "fuzz", &Quiet));
            accepted += u64::from(judge(target, seed, &name, result.map(|_| ())));
            cases += 1;
        }
        eprintln!(
            "{target}: {cases} mutated files in {:?}, {accepted} accepted",
            start.elapsed()
        );
        assert!(cases > 0);
    }
}

#[test]
#[ignore = "minutes of CPU: run by CI with --ignored"]
fn the_statement_book_importer_survives_mutated_workbooks() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile_dir("books");
    let store = runtime.block_on(example_store(&dir));
    let regions = runtime.block_on(store.load_regions()).unwrap();
    let code = cunji_core::region::RegionCode::parse("130101000000").unwrap();
    let villages = cunji_sheets::village_rows(&regions, Some(&code));
    let good = cunji_sheets::statement_book_template(&villages, 2024).unwrap();
    let (start, mut cases) = (Instant::now(), 0u64);
    while start.elapsed() < seconds() {
        let seed = 0x51ed_270b ^ (cases << 8);
        let mut rng = Rng::new(seed);
        let times = 1 + rng.below(4);
        let bytes = mutate_bytes(&mut rng, good.clone(), times);
        let files = [BookFile {
            name: "book.xlsx",
            bytes: &bytes,
        }];
        let result = runtime.block_on(store.import_statement_books(&files, None, None, "fuzz"));
        let _ = judge("statement book", seed, "book.xlsx", result.map(|_| ()));
        cases += 1;
    }
    eprintln!(
        "statement books: {cases} mutated workbooks in {:?}",
        start.elapsed()
    );
    assert!(cases > 0);
}

#[test]
#[ignore = "minutes of CPU: run by CI with --ignored"]
fn the_policy_parser_survives_mutated_policies() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies");
    let goods: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    assert!(!goods.is_empty());
    let (start, mut cases) = (Instant::now(), 0u64);
    while start.elapsed() < seconds() {
        let seed = 0x7f4a_7c15 ^ (cases << 8);
        let mut rng = Rng::new(seed);
        let good = &goods[rng.below(goods.len())];
        let bytes = if rng.below(2) == 0 {
            mutate_text(&mut rng, good)
        } else {
            let times = 1 + rng.below(4);
            mutate_bytes(&mut rng, good.as_bytes().to_vec(), times)
        };
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = Policy::parse(&text) {
            assert!(!e.message.trim().is_empty(), "policy seed {seed}");
        }
        cases += 1;
    }
    eprintln!("policies: {cases} mutated files in {:?}", start.elapsed());
    assert!(cases > 0);
}

/// A fresh directory under the target's tmp, removed first if a run left it.
fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
