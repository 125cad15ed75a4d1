//! `cunji demo`: a fresh database for one real county — 饶阳县 (Raoyang, Hengshui, Hebei; the real
//! codes and names of 2023) — with synthetic books for 2019–2024, imported through the same importers
//! as any user's files, then the county's 2024 report under the Hebei policy.

use std::path::Path;

use cunji_core::policy::Policy;
use cunji_core::report::build_report;
use cunji_store::{ImportKind, Store};

use crate::support::Failure;

mod contracts;
mod data;
mod workflow;

use crate::render;
pub use data::{generate, Rng};

pub const REGIONS: &str = include_str!("../../../../data/regions-raoyang.csv");
pub const HEBEI_POLICY: &str = include_str!("../../../../policies/hebei.toml");
/// A pay-floor rule for the demo county, written like Guizhou's "345" (Hebei's own figures differ).
pub const PAY_FLOOR_POLICY: &str =
    "# 演示用：按贵州“345”口径核对饶阳县村干部基本报酬（河北的实际标准以本省文件为准）。
name = \"饶阳县 村干部报酬保障（演示，按贵州“345”口径）\"
region = \"131124\"

[pay_floor]
multiple = 3
minimum = 40000
minimum_secretary_director = 50000
";

/// Synthetic county statistics for the demo (rural per-capita disposable income, yuan).
pub const DEMO_STATS: &str = "region,year,rural_income
131124000000,2018,12800
131124000000,2019,13700
131124000000,2020,14500
131124000000,2021,15700
131124000000,2022,16600
131124000000,2023,17500
";

pub const FIRST_YEAR: i32 = 2019;
pub const LAST_YEAR: i32 = 2024;

/// The demo's accounts, one per role: (user name, display name, role, scope, password).
pub const DEMO_USERS: [(&str, &str, &str, Option<&str>, &str); 4] = [
    (
        "admin",
        "县农业农村局 管理员",
        "county_admin",
        None,
        "cunji-admin",
    ),
    (
        "raoyang",
        "饶阳镇农经站 王会计",
        "township_officer",
        Some("131124100000"),
        "cunji-town",
    ),
    (
        "dongguan",
        "东关村报账员 李红梅",
        "village_accountant",
        Some("131124100200"),
        "cunji-village",
    ),
    ("auditor", "县审计局 审计员", "auditor", None, "cunji-audit"),
];

pub async fn run(file: &Path, who: &str, serve: Option<&str>) -> Result<(), Failure> {
    for suffix in ["", "-wal", "-shm"] {
        let p = format!("{}{suffix}", file.display());
        if Path::new(&p).exists() {
            std::fs::remove_file(&p)
                .map_err(|e| Failure::other(format!("错误：无法删除旧的演示数据库 {p}：{e}")))?;
        }
    }
    let url = format!("sqlite://{}", file.display());
    let store = Store::open(&url, true).await?;
    let files = generate(20_241_231);
    let deals = contracts::generate(&files.regions, &files.grants);
    let steps = [
        (ImportKind::Regions, "demo/regions.csv", &files.regions),
        (ImportKind::Grants, "demo/grants.csv", &files.grants),
        (
            ImportKind::Statements,
            "demo/statements.csv",
            &files.statements,
        ),
        (ImportKind::Entries, "demo/entries.csv", &files.entries),
        (ImportKind::Cadres, "demo/cadres.csv", &files.cadres),
        (ImportKind::Stats, "demo/stats.csv", &DEMO_STATS.to_string()),
        (ImportKind::Assets, "demo/assets.csv", &deals.assets),
        (
            ImportKind::Contracts,
            "demo/contracts.csv",
            &deals.contracts,
        ),
        (
            ImportKind::Entries,
            "demo/contract-receipts.csv",
            &deals.receipts,
        ),
    ];
    for (kind, name, text) in steps {
        let outcome = store
            .import(
                kind,
                name,
                text.as_bytes(),
                who,
                &cunji_store::import::Quiet,
            )
            .await
            .map_err(|e| match e {
                cunji_store::import::ImportError::Rows(rows) => Failure::other(format!(
                    "演示数据有误（程序缺陷）：\n{}",
                    rows.iter()
                        .take(10)
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                )),
                cunji_store::import::ImportError::Store(e) => e.into(),
            })?;
        if let cunji_store::ImportOutcome::Stored { rows, .. } = outcome {
            eprintln!("演示数据：导入{} {rows} 行", kind.name_zh());
        }
    }
    let policy = Policy::parse(HEBEI_POLICY)
        .map_err(|e| Failure::other(format!("内置河北政策有误：{e}")))?;
    let data = store.load_for_report(LAST_YEAR).await?;
    let county = cunji_core::region::RegionCode::parse("131124000000")
        .map_err(|e| Failure::other(e.to_string()))?;
    let report = build_report(
        &policy,
        &data.input(
            LAST_YEAR,
            Some(&county),
            cunji_core::date::Date::parse(&crate::today()).ok(),
        ),
    )
    .map_err(|e| Failure::other(format!("错误：{e}")))?;
    print!("{}", render::table::render(&report));
    println!(
        "\n演示数据库：{}。再次查看：cargo run --release -- --db {url} report --year {LAST_YEAR} --policy policies/hebei.toml --region 131124000000",
        file.display()
    );
    store
        .save_policy(
            "饶阳县 村干部报酬保障（演示，按贵州“345”口径）",
            PAY_FLOOR_POLICY,
            false,
            who,
        )
        .await?;
    let policy_id = store
        .save_policy(&policy.name, HEBEI_POLICY, true, who)
        .await?
        .id;
    for (name, display, role, scope, password) in DEMO_USERS {
        let hash = cunji_web::auth::hash_password(password).map_err(Failure::other)?;
        store
            .add_user(name, display, &hash, role, scope, who)
            .await?;
    }
    workflow::examples(&store, &report, (&policy, policy_id), &data).await?;
    let Some(addr) = serve else {
        store.close().await;
        return Ok(());
    };
    println!("\n演示账号（用户名 / 密码）：");
    for (name, display, _, _, password) in DEMO_USERS {
        println!("  {name} / {password}　{display}");
    }
    println!("村务公开页无需登录：http://{addr}/public/");
    // The QR codes print the address the demo serves on: never the Host a request claims (#32).
    cunji_web::serve(store, None, addr, Some(format!("http://{addr}")))
        .await
        .map_err(Failure::other)
}
