//! The commands of the command line, one function each; `cli::run` picks one.

use std::path::{Path, PathBuf};

use cunji_core::region::RegionCode;
use cunji_core::report::{build_report, Report};
use cunji_store::import::ImportError;
use cunji_store::{ImportKind, ImportOutcome, Store};

use crate::args::{AuditAction, Format, PolicyAction};
use crate::progress::Bar;
use crate::render;
use crate::support::{read_policy, write_file, Failure};

/// `cunji import KIND FILE…`: statement books take several files in one import; every other kind one.
pub async fn import_any(
    db: &str,
    kind: &str,
    files: &[PathBuf],
    region: Option<&str>,
    who: &str,
) -> Result<(), Failure> {
    if kind == crate::args::STATEMENT_BOOK {
        return crate::statement_books::import(db, files, region, who).await;
    }
    let kind = ImportKind::parse(kind).ok_or_else(|| Failure::input("错误：未知的导入类型"))?;
    if region.is_some() {
        return Err(Failure::input("错误：--region 只用于 statement-book"));
    }
    match files {
        [file] => import(db, kind, file, who).await,
        _ => Err(Failure::input(format!(
            "错误：{} 一次导入一个文件（只有 statement-book 可以一次导入多个）",
            kind.key()
        ))),
    }
}

pub async fn import(db: &str, kind: ImportKind, file: &Path, who: &str) -> Result<(), Failure> {
    let store = Store::open(db, true).await?;
    let outcome = import_file(&store, kind, file, who).await;
    store.close().await;
    match outcome? {
        ImportOutcome::Stored { rows, unchanged } => {
            let extra = if unchanged > 0 {
                format!("（另有 {unchanged} 行与库中相同，未重复存储）")
            } else {
                String::new()
            };
            println!(
                "已导入 {} {rows} 行{extra}：{}",
                kind.name_zh(),
                file.display()
            );
        }
        ImportOutcome::AlreadyImported { file_name, .. } => {
            println!("该文件内容已导入过（{file_name}），本次未存储任何数据。");
        }
    }
    Ok(())
}

pub async fn report(
    db: &str,
    year: i32,
    policy: &Path,
    region: Option<&str>,
    format: Format,
    out: Option<&Path>,
) -> Result<(), Failure> {
    let store = Store::open(db, false).await?;
    let report = report_from_store(&store, year, policy, region).await;
    store.close().await;
    let report = report?;
    let t = cunji_store::timing::Timer::start();
    let written = write_report(&report, format, out);
    t.lap("write report");
    // The process ends here: freeing a province's report piece by piece would only add time.
    std::mem::forget(report);
    written
}

pub async fn totals(db: &str, out: Option<&Path>) -> Result<(), Failure> {
    let store = Store::open(db, false).await?;
    let rows = store.all_totals().await;
    store.close().await;
    let mut text = String::from("village,year,account,amount,entries\n");
    for t in rows? {
        use std::fmt::Write;
        let _ = writeln!(
            text,
            "{},{},{},{},{}",
            t.village,
            t.year,
            t.account.key(),
            t.amount.json(),
            t.entries
        );
    }
    match out {
        Some(path) => write_file(path, text),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

pub async fn audit(
    db: &str,
    action: Option<AuditAction>,
    limit: i64,
    who: &str,
) -> Result<(), Failure> {
    let store = Store::open(db, false).await?;
    let done = audit_act(&store, action, limit, (db, who)).await;
    store.close().await;
    done
}

async fn audit_act(
    store: &Store,
    action: Option<AuditAction>,
    limit: i64,
    (db, who): (&str, &str),
) -> Result<(), Failure> {
    match action {
        Some(AuditAction::Head { out }) => {
            let (id, hash) = store.audit_head().await?;
            let line = crate::backup::head_line(id, &hash);
            if let Some(out) = out {
                write_file(&out, line.as_bytes())?;
                eprintln!("已写入 {}", out.display());
            }
            print!("{line}");
            Ok(())
        }
        Some(AuditAction::Verify) => audit_verify(store, db).await,
        Some(AuditAction::Accept { reason }) => {
            let accepted = store.accept_unsealed(who, &reason).await?;
            if accepted.is_empty() {
                println!("没有直接改库的记录，未写入任何数据。");
            } else {
                println!(
                    "已确认 {} 处直接改库后的现状，连同理由记入审计日志：\n{}",
                    accepted.len(),
                    accepted.join("\n")
                );
            }
            Ok(())
        }
        Some(AuditAction::Export { out }) => audit_export(store, &out).await,
        Some(AuditAction::Cadre {
            person,
            policy,
            out,
        }) => {
            let pack = crate::exit_audit::pack(store, &person, policy.as_deref()).await?;
            let mut bytes = serde_json::to_vec_pretty(&pack)
                .map_err(|e| Failure::other(format!("错误：无法写出离任审计材料：{e}")))?;
            bytes.push(b'\n');
            write_file(&out, bytes)?;
            println!("已生成 {person} 的离任审计材料：{}", out.display());
            Ok(())
        }
        None => {
            for row in store.audit_log(limit).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    row.id, row.at, row.actor, row.action, row.subject, row.detail
                );
            }
            Ok(())
        }
    }
}

/// `cunji audit verify`: the chain, every bound and sealed record, and the head kept beside a SQLite
/// file (`<db>.head`) when there is one.
async fn audit_verify(store: &Store, db: &str) -> Result<(), Failure> {
    let mut problems = store.verify_audit().await?;
    if let Some(kept) = crate::backup::kept_head_of(db)? {
        problems.extend(store.verify_head(kept.0, &kept.1).await?);
    }
    let n = store.audit_all().await?.len();
    if problems.is_empty() {
        println!("审计链完整：{n} 条审计记录首尾相接，所有分录、冲销和扶持资金均与写入它们的审计记录相符，用户、政策、设置、结账、村干部和奖励方案与封存它们的审计记录相符，合计与分录一致。");
        Ok(())
    } else {
        Err(Failure::other(format!(
            "发现 {} 处问题：\n{}",
            problems.len(),
            problems.join("\n")
        )))
    }
}

/// Every audit row as CSV for auditors (UTF-8 with a BOM, CRLF), cells that a spreadsheet would
/// run as formulas neutralised.
async fn audit_export(store: &Store, out: &Path) -> Result<(), Failure> {
    let mut text = String::from(
        "\u{feff}编号,时间,操作人,操作,对象,内容,记录哈希,前一条哈希,本条哈希,封存哈希\r\n",
    );
    for r in store.audit_all().await? {
        let cells = [
            r.id.to_string(),
            cunji_web::when(r.at),
            r.actor,
            r.action,
            r.subject,
            r.detail,
            r.record_hash,
            r.prev_hash,
            r.hash,
            r.seal_hash,
        ];
        let line: Vec<String> = cells.iter().map(|c| crate::render::csv::field(c)).collect();
        text.push_str(&line.join(","));
        text.push_str("\r\n");
    }
    write_file(out, text)?;
    println!("已导出审计日志：{}", out.display());
    Ok(())
}

pub fn gen(
    villages: usize,
    years: &str,
    entries_per_month: usize,
    seed: u64,
    out: &PathBuf,
    regions: Option<&Path>,
) -> Result<(), Failure> {
    let (a, b) = years
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse::<i32>().ok()?, b.trim().parse::<i32>().ok()?)))
        .filter(|(a, b)| a <= b && *a >= 1900 && *b <= 2999)
        .ok_or_else(|| Failure::input(format!("错误：--years 应写作 2019-2024，不是 `{years}`")))?;
    crate::gen::run(&crate::gen::GenOptions {
        villages,
        years: (a, b),
        entries_per_month,
        seed,
        out,
        regions,
    })
}

/// `cunji template KIND --out FILE [--region CODE]`: with a region, the template lists its villages
/// (from the database's register) on a second sheet.
pub async fn template(
    kind: &str,
    out: &Path,
    (db, region): (&str, Option<&str>),
) -> Result<(), Failure> {
    let villages = match region {
        None => Vec::new(),
        Some(text) => {
            let code = cunji_core::region::RegionCode::parse(text)
                .map_err(|e| Failure::input(format!("错误：--region {e}")))?;
            let store = Store::open(db, false).await?;
            let regions = store.load_regions().await?;
            store.close().await;
            if !regions.contains(&code) {
                return Err(Failure::input(format!("错误：区划中没有 {code}")));
            }
            cunji_sheets::village_rows(&regions, Some(&code))
        }
    };
    let bytes = cunji_sheets::template(kind, &villages)
        .map_err(|e| Failure::other(format!("错误：无法生成模板：{e}")))?
        .ok_or_else(|| {
            Failure::input(format!(
                "错误：没有“{kind}”这种导入类型（可选 {}）",
                cunji_sheets::TEMPLATE_KINDS.join("、")
            ))
        })?;
    write_file(out, bytes)?;
    println!("已生成 {kind} 导入模板：{}", out.display());
    if !villages.is_empty() {
        println!("“村名单”表列出 {} 个村。", villages.len());
    }
    Ok(())
}

pub async fn policy(db: &str, action: PolicyAction, who: &str) -> Result<(), Failure> {
    let store = Store::open(db, false).await?;
    let done = policy_act(&store, action, who).await;
    store.close().await;
    done
}

async fn policy_act(store: &Store, action: PolicyAction, who: &str) -> Result<(), Failure> {
    match action {
        PolicyAction::Set { file } => {
            let policy = read_policy(&file)?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::input(format!("错误：无法读取 {}：{e}", file.display())))?;
            let saved = store.save_policy(&policy.name, &text, true, who).await?;
            println!(
                "已保存政策 #{}《{}》并设为当前政策。",
                saved.id, policy.name
            );
            println!("{}", saved.stale_zh());
        }
        PolicyAction::List => {
            for p in store.policies().await? {
                let active = if p.active { "当前" } else { "" };
                println!("#{}\t{active}\t{}", p.id, p.name);
            }
        }
    }
    Ok(())
}

pub async fn import_file(
    store: &Store,
    kind: ImportKind,
    file: &Path,
    who: &str,
) -> Result<ImportOutcome, Failure> {
    let bytes = std::fs::read(file)
        .map_err(|e| Failure::input(format!("错误：无法读取 {}：{e}", file.display())))?;
    let name = file.display().to_string();
    let bar = Bar::for_terminal();
    let result = store.import(kind, &name, &bytes, who, &bar).await;
    bar.finish();
    match result {
        Ok(o) => Ok(o),
        Err(ImportError::Rows(rows)) => {
            // The first 1,000 listed, the rest counted (SPEC §9).
            let msg = format!("{rows}共 {} 处错误，本文件未导入任何数据。", rows.len());
            Err(Failure::input(msg))
        }
        Err(ImportError::Store(e)) => Err(e.into()),
    }
}

/// The report of the `report` command. Its loaded data is never freed: the process ends right after,
/// and freeing a province's data piece by piece would only add time.
pub(crate) async fn report_from_store(
    store: &Store,
    year: i32,
    policy: &Path,
    region: Option<&str>,
) -> Result<Report, Failure> {
    let policy = read_policy(policy)?;
    let scope = match region {
        None => None,
        Some(r) => {
            Some(RegionCode::parse(r).map_err(|e| Failure::input(format!("错误：--region {e}")))?)
        }
    };
    let today = cunji_core::date::Date::parse(&crate::today()).ok();
    let loaded = store.load_for_report_under(&policy, year, today);
    let data = std::mem::ManuallyDrop::new(loaded.await?);
    let t = cunji_store::timing::Timer::start();
    let report = build_report(&policy, &data.input(year, scope.as_ref(), today))
        .map_err(|e| Failure::input(format!("错误：{e}")));
    t.lap("build report");
    report
}

/// The JSON report serialised straight into the file or standard output through a buffer, a batch
/// of its lists at a time on every core (`report_json`): a country's report is 670 MB, which is
/// then never held in memory whole.
fn stream_json(report: &Report, out: Option<&Path>) -> Result<(), Failure> {
    use std::io::Write;
    let write = |w: &mut dyn Write| -> std::io::Result<()> {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, w);
        crate::report_json::write_pretty(report, &mut w)?;
        w.write_all(b"\n")?;
        w.flush()
    };
    match out {
        Some(path) => std::fs::File::create(path)
            .and_then(|mut f| write(&mut f))
            .map_err(|e| Failure::other(format!("错误：无法写入 {}：{e}", path.display()))),
        None => write(&mut std::io::stdout().lock())
            .map_err(|e| Failure::other(format!("错误：无法输出：{e}"))),
    }
}

pub(crate) fn write_report(
    report: &Report,
    format: Format,
    out: Option<&Path>,
) -> Result<(), Failure> {
    if format == Format::Json {
        return stream_json(report, out);
    }
    let bytes = match format {
        Format::Json => render::json(report),
        Format::Table => render::table::render(report).into_bytes(),
        Format::Csv => render::csv::render(report),
        Format::Xlsx => {
            if out.is_none() {
                return Err(Failure::input("错误：xlsx 报告须用 --out 指定文件"));
            }
            cunji_sheets::report_workbook(report, &cunji_sheets::place_of(report))
                .map_err(|e| Failure::other(format!("错误：无法生成工作簿：{e}")))?
        }
    };
    match out {
        Some(path) => std::fs::write(path, bytes)
            .map_err(|e| Failure::other(format!("错误：无法写入 {}：{e}", path.display()))),
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&bytes)
                .and_then(|_| stdout.flush())
                .map_err(|e| Failure::other(format!("错误：无法输出：{e}")))
        }
    }
}
