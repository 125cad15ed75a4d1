//! `cunji user add|passwd|list`: accounts of the web application.

use std::io::BufRead;

use cunji_core::region::{Level, RegionCode};
use cunji_store::Store;
use cunji_web::auth::{hash_password, Role};

use crate::args::UserAction;
use crate::support::Failure;

/// The password: `CUNJI_PASSWORD`, else one line of standard input.
fn read_password() -> Result<String, Failure> {
    if let Ok(p) = std::env::var("CUNJI_PASSWORD") {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    eprint!("密码：");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::other(e.to_string()))?;
    let p = line.trim_end_matches(['\n', '\r']).to_string();
    check_password(&p)?;
    Ok(p)
}

pub fn check_password(p: &str) -> Result<(), Failure> {
    if p.chars().count() < 8 {
        return Err(Failure::input("密码至少 8 个字符"));
    }
    Ok(())
}

/// Checks a role and its scope: an officer needs a township, an accountant a village.
pub fn check_role(role: &str, scope: Option<&str>) -> Result<(Role, Option<RegionCode>), Failure> {
    let r = Role::parse(role).ok_or_else(|| {
        Failure::input(format!(
            "未知角色 `{role}`（可选 county_admin、township_officer、village_accountant、auditor）"
        ))
    })?;
    let scope = scope
        .map(RegionCode::parse)
        .transpose()
        .map_err(|e| Failure::input(format!("--scope {e}")))?;
    match (r.scope_level(), &scope) {
        (Some(level), Some(s)) if s.level() != level => Err(Failure::input(format!(
            "{}的管辖范围应为{}级代码，{s} 是{}级",
            r.name_zh(),
            level.name_zh(),
            s.level().name_zh()
        ))),
        (Some(level), None) => Err(Failure::input(format!(
            "{}须用 --scope 指定{}代码",
            r.name_zh(),
            if level == Level::Township {
                "乡镇"
            } else {
                "村"
            }
        ))),
        _ => Ok((r, scope)),
    }
}

pub async fn run(db: &str, action: UserAction, who: &str) -> Result<(), Failure> {
    let store = Store::open(db, false).await?;
    let done = act(&store, action, who).await;
    store.close().await;
    done
}

async fn act(store: &Store, action: UserAction, who: &str) -> Result<(), Failure> {
    match action {
        UserAction::Add {
            username,
            role,
            scope,
            name,
        } => {
            let (role, scope) = check_role(&role, scope.as_deref())?;
            let password = read_password()?;
            check_password(&password)?;
            let hash = hash_password(&password).map_err(Failure::other)?;
            store
                .add_user(
                    &username,
                    name.as_deref().unwrap_or(&username),
                    &hash,
                    role.key(),
                    scope.as_ref().map(|s| s.as_str()),
                    who,
                )
                .await?;
            println!("已新增用户 {username}（{}）。", role.name_zh());
        }
        UserAction::Passwd { username } => {
            let password = read_password()?;
            check_password(&password)?;
            let hash = hash_password(&password).map_err(Failure::other)?;
            store.set_password(&username, &hash, who).await?;
            println!("已修改 {username} 的密码，其所有会话已失效。");
        }
        UserAction::List => {
            for u in store.users().await? {
                let scope = u.scope.map(|s| s.to_string()).unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{scope}",
                    u.username,
                    u.display_name,
                    u.role.name_zh()
                );
            }
        }
    }
    Ok(())
}
