//! Stress tests, ignored by default (minutes of a debug build's CPU); `.ci/run` runs them with
//! `cargo test -p cunji-web --test web -- --ignored stress::`. Their measurements are in
//! docs/benchmarks.md.

use std::time::{Duration, Instant};

use cunji_store::import::Quiet;
use cunji_store::ImportKind;

use crate::common::{server_on_port, Client};

/// Townships and villages of the large county: 40 × 500 = 20,000 villages (a province has 2–5万).
const TOWNSHIPS: usize = 40;
const VILLAGES_EACH: usize = 500;

fn village(i: usize) -> String {
    let (t, v) = (i / VILLAGES_EACH, i % VILLAGES_EACH);
    format!("131124{:03}{:03}", 102 + t, 200 + v)
}

fn regions_csv() -> String {
    let mut out = String::from("code,name\n");
    for t in 0..TOWNSHIPS {
        out.push_str(&format!("131124{:03}000,乡镇{t}\n", 102 + t));
    }
    for i in 0..TOWNSHIPS * VILLAGES_EACH {
        out.push_str(&format!("{},村{i}\n", village(i)));
    }
    out
}

/// `rows` entries of `year`, spread over the villages and the months.
fn entries_csv(rows: usize, year: i32) -> Vec<u8> {
    let villages = TOWNSHIPS * VILLAGES_EACH;
    let mut out = String::with_capacity(rows * 60);
    out.push_str("village,date,account,amount,voucher,memo\n");
    for i in 0..rows {
        let month = 1 + i % 12;
        let day = 1 + (i / 12) % 28;
        out.push_str(&format!(
            "{},{year}-{month:02}-{day:02},operating_revenue,{}.{:02},{i},\n",
            village(i % villages),
            100 + i % 9_000,
            i % 100
        ));
    }
    out.into_bytes()
}

/// Latencies in ms: median, 95th percentile, maximum.
fn summary(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95), *ms.last().unwrap())
}

/// Issue #32, item 5: while an upload of a million rows is imported through the import page and the
/// report of a 20,000-village county is built (its dashboard and its workbook, on a million entries),
/// `/healthz` and `/public/` keep answering. Two async workers, as on the two-core servers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress test: minutes of CPU; run by .ci/run with --ignored"]
async fn health_and_public_pages_answer_during_a_million_row_import_and_a_large_report() {
    // End to end on a real port: the probes measure what a client waits through the accept loop.
    let s = server_on_port("stress-heavy").await;
    s.import(ImportKind::Regions, &regions_csv()).await;
    let t = Instant::now();
    s.store
        .import(
            ImportKind::Entries,
            "2023.csv",
            &entries_csv(1_000_000, 2023),
            "test",
            &Quiet,
        )
        .await
        .expect("the report's year imports");
    eprintln!("stored 1,000,000 entries of 2023 in {:?}", t.elapsed());
    let upload = entries_csv(1_000_000, 2022);
    eprintln!("upload: {} MB", upload.len() / 1_000_000);

    let addr = s.addr;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probing = stop.clone();
    let probes = tokio::spawn(async move {
        let mut ms = Vec::new();
        let mut i = 0;
        while !probing.load(std::sync::atomic::Ordering::Relaxed) {
            let path = if i % 2 == 0 { "/healthz" } else { "/public/" };
            let started = Instant::now();
            let r = Client::new(addr).get(path).await;
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(r.status, 200, "{path}: {}", r.text());
            i += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        ms
    });
    // The probes' baseline before the heavy work starts.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    let import = tokio::spawn(async move {
        let mut admin = Client::signed_in(addr, "admin").await;
        admin.get("/import").await;
        let r = admin
            .post_file(
                "/import",
                None,
                &[("kind", "entries")],
                ("file", "2022.csv", &upload),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.text().contains("已导入"), "{}", r.text());
        started.elapsed()
    });
    let report = tokio::spawn(async move {
        let mut admin = Client::signed_in(addr, "audit").await;
        let dashboard = admin.get("/dashboard?year=2023").await;
        assert_eq!(dashboard.status, 200, "{}", dashboard.text());
        let workbook = admin.get("/report.xlsx?year=2023").await;
        assert_eq!(workbook.status, 200, "{}", workbook.text());
        started.elapsed()
    });
    let import_took = import.await.expect("import");
    let report_took = report.await.expect("report");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let ms = probes.await.expect("probes");
    let (median, p95, max) = summary(ms.clone());
    eprintln!(
        "import {import_took:?}, report {report_took:?}; {} probes of /healthz and /public/: \
         median {median:.1} ms, 95th percentile {p95:.1} ms, max {max:.1} ms; heavy work at once: {}",
        ms.len(),
        s.state.work_peak()
    );
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    assert!(
        s.state.work_peak() <= cores,
        "heavy work at once: {}",
        s.state.work_peak()
    );
    // The bound is 100 ms: the 95th percentile is held to it. The maximum is allowed more
    // for a shared, noisy two-core machine (other builds run beside CI; load average 6 when measured):
    // measured 329 ms; with the import on the async workers it was 2,850 ms.
    assert!(p95 <= 100.0, "95th percentile {p95:.1} ms");
    assert!(max <= 1000.0, "maximum {max:.1} ms");
}
