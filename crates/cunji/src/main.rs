//! `cunji`: the command line (SPEC §11). Exit status: 0 ok, 2 bad input (nothing stored), 1 anything else.

mod args;
mod backup;
mod cli;
mod commands;
mod demo;
mod exit_audit;
mod gen;
mod progress;
mod render;
mod report_json;
mod statement_books;
mod support;
mod users;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = args::Cli::parse();
    logs(&args.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("错误：无法启动运行时：{e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", e.message);
            ExitCode::from(e.code)
        }
    }
}

/// Logs to standard error, one line an event: requests, errors with their cause, long imports'
/// progress. `json` for a log collector; `text` for a person. `RUST_LOG` is not read: the level is
/// info (a request line each) and warnings/errors.
fn logs(format: &str) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO);
    let _ = if format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// Today's date in Beijing time (UTC+8), `YYYY-MM-DD`.
pub fn today() -> String {
    cunji_web::today()
}
