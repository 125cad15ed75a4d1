//! A progress bar for imports, shown only when standard error is a terminal.

use std::io::IsTerminal;

use cunji_store::Progress;
use indicatif::{ProgressBar, ProgressStyle};

pub struct Bar {
    bar: Option<ProgressBar>,
    /// With `CUNJI_TIMINGS` set, each phase's wall time is logged to standard error (for benchmarks).
    timings: Option<std::sync::Mutex<(String, std::time::Instant)>>,
}

impl Bar {
    pub fn for_terminal() -> Bar {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(0);
            if let Ok(style) =
                ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} 行 ({per_sec})")
            {
                b.set_style(style.progress_chars("=> "));
            }
            b
        });
        let timings = std::env::var_os("CUNJI_TIMINGS")
            .map(|_| std::sync::Mutex::new(("start".to_string(), std::time::Instant::now())));
        Bar { bar, timings }
    }

    fn log_phase(&self, next: &str) {
        if let Some(t) = &self.timings {
            let mut t = t.lock().unwrap_or_else(|e| e.into_inner());
            eprintln!("timing: {} {:.3} s", t.0, t.1.elapsed().as_secs_f64());
            *t = (next.to_string(), std::time::Instant::now());
        }
    }

    pub fn finish(&self) {
        self.log_phase("");
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn phase(&self, name: &str, total: u64) {
        self.log_phase(name);
        if let Some(b) = &self.bar {
            b.set_message(name.to_string());
            b.set_length(total);
            b.set_position(0);
        }
    }
    fn advance(&self, rows: u64) {
        if let Some(b) = &self.bar {
            b.inc(rows);
        }
    }
}
