//! `cunji`: the command line (SPEC §11). Exit status: 0 ok, 2 bad input (nothing stored), 1 anything else.

mod cli;
mod commands;
mod demo;
mod exit_audit;
mod gen;
mod progress;
mod render;
mod users;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
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

/// Today's date in Beijing time (UTC+8), `YYYY-MM-DD`.
pub fn today() -> String {
    cunji_web::today()
}
