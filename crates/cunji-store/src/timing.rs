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
