//! Running it for real (issue #18), through the binary as an operator runs it: the request log and
//! its secrets, the security headers, a clean stop on SIGTERM during a request and during an import,
//! a backup taken while eight writers write, `check`, `restore`, and PostgreSQL's own dump and
//! restore.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{fixture, Scratch};

const PASSWORD: &str = "Ops-Secret-Pass-2026";

/// A reply: status, headers (lower-case names) and body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// One HTTP/1.1 request on its own connection.
fn http(addr: &str, method: &str, path: &str, extra: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// `cunji serve` on a free port, its log going to `server.log`; killed if the test ends without
/// stopping it.
struct Server {
    child: Option<Child>,
    addr: String,
}

impl Server {
    fn start(s: &Scratch, url: &str, extra: &[&str]) -> Server {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(s.path("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_cunji"))
            .args([
                "--db",
                url,
                "--log-format",
                "json",
                "serve",
                "--addr",
                &addr,
            ])
            .args(extra)
            .current_dir(&s.dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start cunji serve");
        let server = Server {
            child: Some(child),
            addr,
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let up = TcpStream::connect(&server.addr).is_ok()
                && http(&server.addr, "GET", "/healthz", &[], b"").status == 200;
            if up {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("cunji serve did not start");
    }

    /// SIGTERM, then the exit status (waiting at most two minutes).
    fn stop(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()));
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if started.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no exit after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A database with the regions of the worked example and a county admin `ops`.
fn prepared(s: &Scratch, url: &str) {
    let run = |args: &[&str], password: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cunji"));
        c.args(["--db", url]).args(args).env("CUNJI_USER", "test");
        if password {
            c.env("CUNJI_PASSWORD", PASSWORD);
        }
        let out = c.current_dir(&s.dir).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let regions = fixture("examples/case-250/regions.csv");
    run(&["import", "regions", regions.to_str().unwrap()], false);
    run(&["user", "add", "ops", "--role", "county_admin"], true);
}

/// Signs in as `ops`: the session cookie (`name=value`); behind https it is `Secure`.
fn sign_in(addr: &str, https: bool) -> String {
    let form = http(addr, "GET", "/login", &[], b"");
    let login_cookie = form
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = form.body.split("name=\"_csrf\" value=\"").nth(1).unwrap();
    let csrf = &csrf[..csrf.find('"').unwrap()];
    let body = format!("username=ops&password={PASSWORD}&_csrf={csrf}");
    let r = http(
        addr,
        "POST",
        "/login",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &login_cookie),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let session = r
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("cunji_session="))
        .expect("a session cookie")
        .to_string();
    assert_eq!(session.contains("; Secure"), https, "{session}");
    session.split(';').next().unwrap().to_string()
}

/// These tests run the server on SQLite (the PostgreSQL pass has its own dump test below).
fn sqlite_url(s: &Scratch) -> Option<String> {
    if cunji_store::testing::postgres_server().is_some() {
        eprintln!("SQLite operations tested in the SQLite pass");
        return None;
    }
    Some(format!("sqlite://{}", s.path("ops.db").display()))
}

#[test]
fn requests_are_logged_as_json_without_secrets_and_answered_with_security_headers() {
    let s = Scratch::new("ops-log");
    let Some(url) = sqlite_url(&s) else { return };
    prepared(&s, &url);
    let server = Server::start(&s, &url, &["--public-url", "https://cunji.example.gov.cn"]);
    let addr = server.addr.clone();
    let login = http(&addr, "GET", "/login", &[], b"");
    let csp = login.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'none'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(login.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(login.header("referrer-policy"), Some("same-origin"));
    assert!(login.header("strict-transport-security").is_some());
    let session = sign_in(&addr, true);
    let token = session.split('=').nth(1).unwrap().to_string();
    let page = http(&addr, "GET", "/audit", &[("Cookie", &session)], b"");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let css = http(&addr, "GET", "/static/app.css", &[], b"");
    assert_ne!(css.header("cache-control"), Some("no-store"));
    // A form body past its limit (256 KB) is refused before any handler reads it.
    let big = vec![b'a'; 300 * 1024];
    let form = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Cookie", session.as_str()),
    ];
    let r = http(&addr, "POST", "/settings/phone", &form, &big);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(server.stop().success(), "exit 0 after SIGTERM");
    let log = std::fs::read_to_string(s.path("server.log")).unwrap();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let dashboard = lines
        .iter()
        .find(|l| l["path"] == "/audit")
        .expect("a line for the audit page");
    assert_eq!(dashboard["method"], "GET");
    assert_eq!(dashboard["status"], 200);
    assert_eq!(dashboard["user"], "ops");
    assert!(dashboard["latency_ms"].is_u64(), "{dashboard}");
    assert!(lines.iter().any(|l| l["message"] == "stopped"), "{log}");
    for secret in [PASSWORD, token.as_str(), "cunji_session", "_csrf"] {
        assert!(!log.contains(secret), "the log shows {secret}:\n{log}");
    }
}

#[test]
fn sigterm_during_an_import_lets_it_finish_and_the_server_exits_cleanly() {
    let s = Scratch::new("ops-stop");
    let Some(url) = sqlite_url(&s) else { return };
    prepared(&s, &url);
    let server = Server::start(&s, &url, &[]);
    let addr = server.addr.clone();
    let session = sign_in(&addr, false);
    let page = http(&addr, "GET", "/import", &[("Cookie", &session)], b"");
    let csrf = page.body.split("name=\"_csrf\" value=\"").nth(1).unwrap();
    let csrf = csrf[..csrf.find('"').unwrap()].to_string();
    // 150,000 entries (about 7 MB): long enough for the stop to arrive while it is checked.
    let mut csv = String::from("village,date,account,amount,voucher\n");
    for i in 0..150_000 {
        csv.push_str(&format!(
            "351301001001,2022-03-01,operating_revenue,1.00,V{i}\n"
        ));
    }
    let b = "XOPSX";
    let body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{b}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nentries\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{b}--\r\n"
    );
    let import = std::thread::spawn({
        let (addr, session) = (addr.clone(), session.clone());
        move || {
            let kind = format!("multipart/form-data; boundary={b}");
            http(
                &addr,
                "POST",
                "/import",
                &[("Cookie", &session), ("Content-Type", &kind)],
                body.as_bytes(),
            )
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let status = server.stop();
    let reply = import.join().unwrap();
    assert!(status.success(), "exit 0 after SIGTERM: {status:?}");
    // The import in flight was let finish: it answered, and every row is stored.
    assert_eq!(
        reply.status,
        200,
        "{}",
        &reply.body[..reply.body.len().min(2000)]
    );
    assert!(
        reply.body.contains("已导入账目 150000 行"),
        "{}",
        &reply.body[..reply.body.len().min(3000)]
    );
    let out = s.ok(&["--db", &url, "check"]);
    assert!(out.contains("检查通过"), "{out}");
    // No new connection is taken once stopped.
    assert!(TcpStream::connect(&addr).is_err());
}

#[test]
fn a_backup_taken_while_eight_writers_write_verifies_and_restore_refuses_an_older_copy() {
    let s = Scratch::new("ops-backup");
    let Some(url) = sqlite_url(&s) else { return };
    prepared(&s, &url);
    let writers: Vec<std::thread::JoinHandle<()>> = (0..8)
        .map(|w| {
            let (url, dir) = (url.clone(), s.dir.clone());
            std::thread::spawn(move || {
                for n in 0..6 {
                    let file = dir.join(format!("w{w}-{n}.csv"));
                    let mut csv = String::from("village,date,account,amount,voucher\n");
                    for i in 0..200 {
                        csv.push_str(&format!(
                            "351301001002,2022-05-01,operating_revenue,2.00,W{w}-{n}-{i}\n"
                        ));
                    }
                    std::fs::write(&file, csv).unwrap();
                    let out = Command::new(env!("CARGO_BIN_EXE_cunji"))
                        .args(["--db", &url, "import", "entries", file.to_str().unwrap()])
                        .env("CUNJI_USER", "writer")
                        .output()
                        .unwrap();
                    assert!(
                        out.status.success(),
                        "{}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let copy = s.path("copy.db");
    let out = s.ok(&["--db", &url, "backup", "--out", copy.to_str().unwrap()]);
    assert!(out.contains("检查通过"), "{out}");
    for w in writers {
        w.join().unwrap();
    }
    let checked = s.ok(&["check", copy.to_str().unwrap()]);
    assert!(checked.contains("检查通过"), "{checked}");
    // A second backup to the same file is refused: a backup never overwrites.
    let again = s.cunji(&["--db", &url, "backup", "--out", copy.to_str().unwrap()]);
    assert!(!again.status.success());
    // The live database has moved on: restoring the older copy needs --force.
    let refused = s.cunji(&["--db", &url, "restore", copy.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("现有数据库比备份新") && err.contains("--force"),
        "{err}"
    );
    let forced = s.ok(&["--db", &url, "restore", copy.to_str().unwrap(), "--force"]);
    assert!(forced.contains("已用"), "{forced}");
    let after = s.ok(&["--db", &url, "check"]);
    assert!(after.contains("检查通过"), "{after}");
    // A damaged file fails the check with a clear message and status 1.
    let broken = s.write("broken.db", b"SQLite format 3\0 this is not a database");
    let bad = s.cunji(&["check", broken.to_str().unwrap()]);
    assert!(!bad.status.success());
}

#[test]
fn postgresql_is_backed_up_and_restored_with_its_own_tools() {
    let Some(server) = cunji_store::testing::postgres_server() else {
        eprintln!("PostgreSQL dump test skipped: CUNJI_TEST_PG not set");
        return;
    };
    let s = Scratch::new("ops-pg");
    let url = s.db_url();
    prepared(&s, &url);
    s.import(
        "entries",
        "e.csv",
        "village,date,account,amount,voucher\n351301001001,2022-03-01,operating_revenue,100,P1\n",
    );
    let dump = s.path("cunji.dump");
    let ran = |program: &str, args: &[&str]| {
        let out = Command::new(program).args(args).output().expect(program);
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ran(
        "pg_dump",
        &["--format=custom", "--file", dump.to_str().unwrap(), &url],
    );
    let restored = format!("{server}/cunji_ops_restored_{}", std::process::id());
    cunji_store::testing::drop_database(&restored);
    cunji_store::testing::pg_admin(
        &server,
        &format!("CREATE DATABASE cunji_ops_restored_{}", std::process::id()),
    );
    ran(
        "pg_restore",
        &["--no-owner", "--dbname", &restored, dump.to_str().unwrap()],
    );
    let out = s.ok(&["--db", &restored, "check"]);
    cunji_store::testing::drop_database(&restored);
    assert!(out.contains("检查通过"), "{out}");
}
