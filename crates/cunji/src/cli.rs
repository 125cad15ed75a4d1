//! Commands and their wiring: the arguments read (`args.rs`), the command run (`commands.rs` and
//! the modules of each), the audit head kept after a write.

use cunji_store::Store;

use crate::args::{AuditAction, Cli, Command};
use crate::commands;
use crate::support::Failure;

fn actor(cli_user: &Option<String>) -> String {
    cli_user
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "cli".into())
}

pub async fn run(cli: Cli) -> Result<(), Failure> {
    let who = actor(&cli.user);
    let db = cli.db.as_str();
    // Commands that write keep the audit head beside the SQLite file (`<db>.head`).
    let writes = matches!(
        cli.command,
        Command::Import { .. }
            | Command::Close { .. }
            | Command::Reopen { .. }
            | Command::User { .. }
            | Command::Policy { .. }
            | Command::Audit {
                action: Some(AuditAction::Accept { .. }),
                ..
            }
    );
    let done = dispatch(cli.command, db, &who).await;
    if done.is_ok() && writes {
        crate::backup::keep_head(db).await;
    }
    done
}

async fn dispatch(command: Command, db: &str, who: &str) -> Result<(), Failure> {
    let who = who.to_string();
    match command {
        Command::Import {
            kind,
            files,
            region,
        } => commands::import_any(db, &kind, &files, region.as_deref(), &who).await,
        Command::Report {
            year,
            policy,
            region,
            format,
            out,
        } => commands::report(db, year, &policy, region.as_deref(), format, out.as_deref()).await,
        Command::Totals { out } => commands::totals(db, out.as_deref()).await,
        Command::Close { village, year } => {
            let store = Store::open(db, false).await?;
            let done = store.close_year(&village, year, &who).await;
            store.close().await;
            done?;
            println!("村 {village} 的 {year} 年已结账。");
            Ok(())
        }
        Command::Reopen {
            village,
            year,
            reason,
        } => {
            let store = Store::open(db, false).await?;
            let done = store.reopen_year(&village, year, &who, &reason).await;
            store.close().await;
            done?;
            println!("村 {village} 的 {year} 年已重新开账，理由已记入审计日志。");
            Ok(())
        }
        Command::Audit { action, limit } => commands::audit(db, action, limit, &who).await,
        Command::Demo {
            file,
            addr,
            no_serve,
        } => crate::demo::run(&file, &who, (!no_serve).then_some(addr.as_str())).await,
        Command::Backup { out } => crate::backup::backup(db, &out).await,
        Command::Check { file, head } => {
            crate::backup::check(db, file.as_deref(), head.as_deref()).await
        }
        Command::Restore { file, force } => crate::backup::restore(db, &file, force).await,
        Command::Serve {
            addr,
            public_url,
            read_db,
        } => {
            // Held while serving: `restore` refuses to replace a file a server has open.
            let _lock = crate::backup::serving_lock(db)?;
            let store = Store::open(db, false).await?;
            let replica = match read_db {
                Some(url) => Some(Store::open_replica(&url).await?),
                None => None,
            };
            cunji_web::serve(store, replica, &addr, public_url)
                .await
                .map_err(Failure::other)
        }
        Command::Gen {
            villages,
            years,
            entries_per_month,
            seed,
            out,
            regions,
        } => commands::gen(
            // With a register, every village of it unless a number is given (0 means all too).
            villages.unwrap_or(if regions.is_some() { 0 } else { 1000 }),
            &years,
            entries_per_month,
            seed,
            &out,
            regions.as_deref(),
        ),
        Command::Template {
            kind,
            out,
            region,
            year,
        } if kind == "statement-book" => {
            crate::statement_books::template(&out, (db, region.as_deref()), year).await
        }
        Command::Template {
            kind, out, region, ..
        } => commands::template(&kind, &out, (db, region.as_deref())).await,
        Command::User { action } => crate::users::run(db, action, &who).await,
        Command::Policy { action } => commands::policy(db, action, &who).await,
    }
}
