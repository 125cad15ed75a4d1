//! Wall times of the phases of long operations, logged to standard error when `CUNJI_TIMINGS` is set
//! (for benchmarks and profiling; silent otherwise).

use std::cell::Cell;
use std::time::Instant;

pub struct Timer {
    last: Option<Cell<Instant>>,
}

impl Timer {
    pub fn start() -> Timer {
        Timer {
            last: std::env::var_os("CUNJI_TIMINGS").map(|_| Cell::new(Instant::now())),
        }
    }

    /// Logs the time since the previous lap (or the start) under `label`.
    pub fn lap(&self, label: &str) {
        if let Some(last) = &self.last {
            let now = Instant::now();
            eprintln!("timing: {label} {:.3} s", (now - last.get()).as_secs_f64());
            last.set(now);
        }
    }
}

/// Runs `fut` and, when `CUNJI_TIMINGS` is set, logs how long it took under `label` (for reads that
/// run beside each other, where laps would only show the slowest).
pub async fn timed<T>(label: &str, fut: impl std::future::Future<Output = T>) -> T {
    let start = std::env::var_os("CUNJI_TIMINGS").map(|_| Instant::now());
    let out = fut.await;
    if let Some(s) = start {
        eprintln!("timing:   {label} {:.3} s", s.elapsed().as_secs_f64());
    }
    out
}
