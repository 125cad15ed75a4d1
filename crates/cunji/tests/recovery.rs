//! Integrity and recovery as an operator meets them (issue #32): the audit head kept outside the
//! database, a restore refused under a running server, a damaged or unreachable database said in
//! Chinese within seconds, a failed backup that leaves nothing behind, nothing left in the
//! write-ahead log when a command ends, and a full disk reported by `/healthz`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{fixture, Scratch};

const PASSWORD: &str = "Recovery-Pass-2026";

/// A SQLite database of the worked example's regions in `s` (`None` in the PostgreSQL pass).
fn sqlite_db(s: &Scratch) -> Option<String> {
    if cunji_store::testing::postgres_server().is_some() {
        eprintln!("SQLite recovery tested in the SQLite pass");
        return None;
    }
    let url = format!("sqlite://{}", s.path("r.db").display());
    let regions = fixture("examples/case-250/regions.csv");
    ok(s, &url, &["import", "regions", regions.to_str().unwrap()]);
    Some(url)
}

fn run(s: &Scratch, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cunji"))
        .args(["--db", url])
        .args(args)
        .env("CUNJI_USER", "test")
        .env("CUNJI_PASSWORD", PASSWORD)
        .current_dir(&s.dir)
        .output()
        .unwrap()
}

fn ok(s: &Scratch, url: &str, args: &[&str]) -> String {
    let out = run(s, url, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `user add`, `policy set` and `close` used to leave 65–230 KB in `-wal` at exit.
#[test]
fn writing_commands_leave_nothing_in_the_write_ahead_log() {
    let s = Scratch::new("rec-wal");
    let Some(url) = sqlite_db(&s) else { return };
    let wal = s.path("r.db-wal");
    let policy = common::repo_root().join("policies/hebei.toml");
    for args in [
        &["user", "add", "wang", "--role", "county_admin"][..],
        &["policy", "set", policy.to_str().unwrap()],
        &["close", "--village", "351301001002", "--year", "2022"],
    ] {
        ok(&s, &url, args);
        let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(left, 0, "{args:?} left {left} bytes in the log");
    }
}

/// The audit head beside the file moves with each write; a tail cut with the head rewritten inside
/// the database is found against it, and the next write does not paper over it.
#[test]
fn a_cut_tail_is_found_against_the_head_kept_beside_the_file() {
    let s = Scratch::new("rec-head");
    let Some(url) = sqlite_db(&s) else { return };
    ok(&s, &url, &["user", "add", "wang", "--role", "county_admin"]);
    ok(
        &s,
        &url,
        &["close", "--village", "351301001002", "--year", "2022"],
    );
    let head = ok(&s, &url, &["audit", "head"]);
    let kept = std::fs::read_to_string(s.path("r.db.head")).unwrap();
    assert_eq!(head, kept);
    let id: i64 = head.split_whitespace().next().unwrap().parse().unwrap();
    // The closing undone behind cunji's back, with its audit row, its seal and the head.
    cunji_store::testing::execute_directly(
        &url,
        &format!(
            "DELETE FROM closed_years; DELETE FROM audit_seals WHERE audit_id = {id}; \
             DELETE FROM audit_log WHERE id = {id}; \
             UPDATE audit_head SET hash = (SELECT hash FROM audit_log WHERE id = {}) WHERE id = 1",
            id - 1
        ),
    );
    let out = run(&s, &url, &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("审计日志被截断"), "{}", text(&out));
    let verify = run(&s, &url, &["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(1), "{}", text(&verify));
    assert!(
        text(&verify).contains("审计日志被截断"),
        "{}",
        text(&verify)
    );
    // A later write keeps the kept head (and says why) rather than move it onto the cut chain.
    let later = run(&s, &url, &["user", "add", "li", "--role", "auditor"]);
    assert!(text(&later).contains("未更新"), "{}", text(&later));
    assert_eq!(std::fs::read_to_string(s.path("r.db.head")).unwrap(), kept);
    assert_eq!(run(&s, &url, &["check"]).status.code(), Some(1));
    // The head the county keeps, given with --head, is read the same way.
    let county = s.write("县里保存的末端.txt", &kept);
    std::fs::remove_file(s.path("r.db.head")).unwrap();
    let out = run(&s, &url, &["check", "--head", county.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // A direct edit of a permission is named with its table, row and change.
    cunji_store::testing::execute_directly(
        &url,
        "UPDATE users SET role = 'county_admin' WHERE username = 'li'",
    );
    let out = run(&s, &url, &["check"]);
    assert!(
        text(&out).contains("用户表中 用户名 li")
            && text(&out).contains("角色 由“审计”改为“县级管理员”"),
        "{}",
        text(&out)
    );
}

/// A backup carries its head beside it, and the copy's check compares with it.
#[test]
fn a_backup_keeps_its_head_beside_it() {
    let s = Scratch::new("rec-backup-head");
    let Some(url) = sqlite_db(&s) else { return };
    let copy = s.path("copy.db");
    let out = ok(&s, &url, &["backup", "--out", copy.to_str().unwrap()]);
    assert!(out.contains("检查通过"), "{out}");
    let head = ok(&s, &url, &["audit", "head"]);
    assert_eq!(
        std::fs::read_to_string(s.path("copy.db.head")).unwrap(),
        head
    );
    let checked = ok(&s, &url, &["check", copy.to_str().unwrap()]);
    assert!(checked.contains("与库外保存的末端"), "{checked}");
    // A copy whose last audit row was cut (and its head rewritten) is refused by restore.
    let copy_url = format!("sqlite://{}", copy.display());
    cunji_store::testing::execute_directly(
        &copy_url,
        "DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log); \
         UPDATE audit_head SET hash = COALESCE((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), '') WHERE id = 1",
    );
    let refused = run(&s, &url, &["restore", copy.to_str().unwrap(), "--force"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("审计日志被截断"),
        "{}",
        text(&refused)
    );
}

/// Overwrites page `page` (16 KiB pages) of the SQLite file with noise.
fn damage(file: &std::path::Path, page: u64) {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
    f.seek(SeekFrom::Start(page * 16384)).unwrap();
    f.write_all(&[0x55; 16384]).unwrap();
}

/// A damaged page is said in plain Chinese by `check` and by the `/healthz` of a server started on it, and a backup of
/// the damaged file fails without leaving a file that would block the next one.
#[test]
fn a_damaged_page_is_reported_in_chinese_and_a_failed_backup_leaves_nothing() {
    let s = Scratch::new("rec-damage");
    let Some(url) = sqlite_db(&s) else { return };
    let good = s.path("good.db");
    std::fs::copy(s.path("r.db"), &good).unwrap();
    let pages = std::fs::metadata(s.path("r.db")).unwrap().len() / 16384;
    assert!(pages > 8, "{pages} pages");
    damage(&s.path("r.db"), pages / 2);

    let out = run(&s, &url, &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("数据库文件已损坏") && said.contains("cunji restore"),
        "{said}"
    );

    // The server checks the file as it starts (beside the requests: a province's file takes ~20 s)
    // and `/healthz` says so from then on.
    let server = serve(&s, &url, &[]);
    let started = Instant::now();
    let body = loop {
        let (status, body) = get(&server.1, "/healthz");
        if status == 503 {
            break body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never noticed: {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(body.contains("数据库文件已损坏"), "{body}");
    drop(server);

    let out_file = s.path("b.db");
    let failed = run(&s, &url, &["backup", "--out", out_file.to_str().unwrap()]);
    assert!(!failed.status.success(), "{}", text(&failed));
    assert!(
        !out_file.exists(),
        "a failed backup left {}",
        out_file.display()
    );
    assert!(!s.path("b.db.partial").exists());
    // The next backup (of the good copy) is not blocked by anything left behind.
    let good_url = format!("sqlite://{}", good.display());
    let out = ok(
        &s,
        &good_url,
        &["backup", "--out", out_file.to_str().unwrap()],
    );
    assert!(out.contains("检查通过"), "{out}");
}

/// A file that is not a database and an unreachable server fail within 5 s naming the path or host.
#[test]
fn an_unreadable_file_or_an_unreachable_server_fails_within_five_seconds() {
    let s = Scratch::new("rec-unreachable");
    let junk = s.write("junk.db", "这不是数据库，只是一个文本文件。\n".repeat(10));
    let junk_url = format!("sqlite://{}", junk.display());
    let dir_url = format!("sqlite://{}", s.dir.display());
    for (url, named) in [
        (junk_url.as_str(), junk.display().to_string()),
        (dir_url.as_str(), s.dir.display().to_string()),
        (
            "postgres://postgres@127.0.0.1:1/cunji",
            "127.0.0.1:1".to_string(),
        ),
    ] {
        let started = Instant::now();
        let out = run(&s, url, &["check"]);
        let took = started.elapsed();
        assert!(!out.status.success(), "{url}");
        assert!(took < Duration::from_secs(5), "{url}: {took:?}");
        let said = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(said.contains(&named), "{url}: {said}");
        assert!(!said.contains("pool timed out"), "{url}: {said}");
    }
}

/// A reply's status and body, from one GET on its own connection.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut c = TcpStream::connect(addr).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    c.read_to_string(&mut reply).unwrap();
    let status = reply[9..12].parse().unwrap();
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(s: &Scratch, url: &str, env: &[(&str, &str)]) -> Server {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_cunji"))
        .args(["--db", url, "serve", "--addr", &addr])
        .envs(env.iter().copied())
        .current_dir(&s.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while TcpStream::connect(&addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Server(child, addr)
}

/// `restore --force` under a running server lost the writes it acknowledged after: refused while it
/// serves, done once it stopped.
#[test]
fn restore_is_refused_while_a_server_has_the_database_open() {
    let s = Scratch::new("rec-restore");
    let Some(url) = sqlite_db(&s) else { return };
    let copy = s.path("copy.db");
    ok(&s, &url, &["backup", "--out", copy.to_str().unwrap()]);
    let server = serve(&s, &url, &[]);
    let refused = run(&s, &url, &["restore", copy.to_str().unwrap(), "--force"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("正由 cunji serve 使用"),
        "{}",
        text(&refused)
    );
    drop(server);
    let done = ok(&s, &url, &["restore", copy.to_str().unwrap(), "--force"]);
    assert!(done.contains("已用"), "{done}");
    ok(&s, &url, &["check"]);
}

/// `/healthz` says when the database's disk is too full to take writes.
#[test]
fn healthz_reports_a_full_disk() {
    let s = Scratch::new("rec-disk");
    let Some(url) = sqlite_db(&s) else { return };
    let roomy = serve(&s, &url, &[]);
    assert_eq!(get(&roomy.1, "/healthz").0, 200);
    drop(roomy);
    // Asking for more free space than any disk has is a full disk to the check.
    let full = serve(&s, &url, &[("CUNJI_MIN_FREE_MB", "1000000000000")]);
    let (status, body) = get(&full.1, "/healthz");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("磁盘空间不足"), "{body}");
}

/// On PostgreSQL, cunji has not checked any file and does not say the file is whole.
#[test]
fn check_on_postgresql_does_not_speak_of_a_file() {
    if cunji_store::testing::postgres_server().is_none() {
        eprintln!("PostgreSQL not configured (CUNJI_TEST_PG)");
        return;
    }
    let s = Scratch::new("rec-pg-check");
    let regions = fixture("examples/case-250/regions.csv");
    s.ok(&["import", "regions", regions.to_str().unwrap()]);
    let out = s.ok(&["check"]);
    assert!(
        out.contains("检查通过") && !out.contains("文件完整"),
        "{out}"
    );
}
