//! A server on a fresh database, and a client that keeps cookies, for tests. The client talks to the
//! fixture servers of [`server`] in process (the router called with `tower::ServiceExt::oneshot`,
//! no socket); the servers of [`server_with`], which test the accept loop's own bounds (timeouts,
//! connection limits, slow clients), and the few end-to-end tests are reached over a real port.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;

use cunji_store::import::Quiet;
use cunji_store::{ImportKind, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const REGIONS: &str = "code,name
130000000000,河北省
131100000000,衡水市
131124000000,饶阳县
131124100000,饶阳镇
131124101000,大尹村镇
131124100200,东关村
131124100201,西关村
131124101200,大迁民村
";

pub const ENTRIES: &str = "village,date,account,amount,voucher,memo
131124100200,2023-03-01,operating_revenue,100000,记-001,门面房租金
131124100200,2024-03-01,operating_revenue,150000,记-001,门面房租金
131124100201,2023-03-01,operating_revenue,50000,记-001,租金
131124100201,2024-03-01,operating_revenue,40000,记-001,租金
131124101200,2023-03-01,operating_revenue,80000,记-001,租金
131124101200,2024-03-01,operating_revenue,120000,记-001,租金
";

pub const CADRES: &str = "village,year,person,name,role,appraisal
131124100200,2024,P1,张建国,secretary,优秀
131124100200,2024,P2,李秀英,director,合格
131124101200,2024,P3,王志强,secretary_director,合格
";

pub const POLICY: &str = "name = \"测试政策\"
[bands]
band = [ { name = \"空壳村\" }, { name = \"5万以下\", min = \"0.01\" }, { name = \"5–10万\", min = 50000 }, { name = \"10万以上\", min = 100000 } ]
[[target]]
name = \"10万以上占比\"
year = 2024
band_at_least = \"10万以上\"
share_at_least = \"60%\"
[incentive]
rate = \"10%\"
";

pub const USERS: [(&str, &str, Option<&str>); 4] = [
    ("admin", "county_admin", None),
    ("town", "township_officer", Some("131124100000")),
    ("acct", "village_accountant", Some("131124100200")),
    ("audit", "auditor", None),
];
pub const PASSWORD: &str = "test-password";

pub struct Server {
    pub addr: SocketAddr,
    pub store: Store,
    pub state: cunji_web::AppState,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        // The router holds the store: kept in the map it would keep its pool, and on PostgreSQL the
        // connections of every finished test would add up to the server's 100 (CI: pool timed out).
        if let Ok(mut routers) = in_process().lock() {
            routers.remove(&self.addr);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub async fn server(name: &str) -> Server {
    let s = server_with(name, cunji_web::server::ServeConfig::default())
        .await
        .0;
    in_process()
        .lock()
        .unwrap()
        .insert(s.addr, cunji_web::app(s.state.clone()));
    s
}

/// The same fixture server, reached only over its real port (end-to-end through the accept loop).
pub async fn server_on_port(name: &str) -> Server {
    server_with(name, cunji_web::server::ServeConfig::default())
        .await
        .0
}

/// The routers clients reach in process, by the address their server also listens on.
fn in_process() -> &'static std::sync::Mutex<std::collections::HashMap<SocketAddr, axum::Router>> {
    static ROUTERS: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<SocketAddr, axum::Router>>,
    > = std::sync::OnceLock::new();
    ROUTERS.get_or_init(Default::default)
}

/// The fixture server with the accept loop's bounds of `config`, and its counters.
pub async fn server_with(
    name: &str,
    config: cunji_web::server::ServeConfig,
) -> (Server, cunji_web::server::Served) {
    let dir = std::env::temp_dir().join(format!("cunji-web-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // SQLite, or PostgreSQL with `CUNJI_TEST_PG`: every HTTP test runs on both databases.
    let url = cunji_store::testing::database_url(&dir, "w", name);
    let store = Store::open(&url, true).await.unwrap();
    fill(&store).await;
    // The public address is the server's own, as the demo passes it (QR codes never use the Host).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = cunji_web::AppState::new(store.clone(), Some(format!("http://{addr}")));
    let (served, _) = cunji_web::server::spawn(
        listener,
        cunji_web::app(state.clone()),
        config,
        std::future::pending(),
    );
    let server = Server {
        addr,
        store,
        state,
        dir,
    };
    (server, served)
}

/// The fixture county: regions, entries, cadres, the policy and the four users.
pub async fn fill(store: &Store) {
    for (kind, text) in [
        (ImportKind::Regions, REGIONS),
        (ImportKind::Entries, ENTRIES),
        (ImportKind::Cadres, CADRES),
    ] {
        store
            .import(kind, "fixture.csv", text.as_bytes(), "test", &Quiet)
            .await
            .unwrap();
    }
    store
        .save_policy("测试政策", POLICY, true, "test")
        .await
        .unwrap();
    let hash = cunji_web::auth::hash_password(PASSWORD).unwrap();
    for (u, role, scope) in USERS {
        store
            .add_user(u, &format!("用户{u}"), &hash, role, scope, "test")
            .await
            .unwrap();
    }
}

/// Serves the app of `state` on a free local port, with `cunji serve`'s accept loop and bounds.
pub async fn serve_state(state: cunji_web::AppState) -> SocketAddr {
    serve_with(state, cunji_web::server::ServeConfig::default())
        .await
        .0
}

/// Serves the app of `state` on a free local port with the bounds of `config`; the server's counters.
pub async fn serve_with(
    state: cunji_web::AppState,
    config: cunji_web::server::ServeConfig,
) -> (SocketAddr, cunji_web::server::Served) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (served, _) = cunji_web::server::spawn(
        listener,
        cunji_web::app(state),
        config,
        std::future::pending(),
    );
    (addr, served)
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    /// Imports `text` as a file of `kind`, by the user "test"; it must be stored.
    pub async fn import(&self, kind: ImportKind, text: &str) {
        self.store
            .import(kind, "fixture.csv", text.as_bytes(), "test", &Quiet)
            .await
            .expect("the fixture imports");
    }

    /// How many entries 东关村 (131124100200) holds for 2024.
    pub async fn entries_2024(&self) -> usize {
        self.store
            .entries_of("131124100200", 2024)
            .await
            .expect("entries")
            .len()
    }
}

/// What follows `marker` in `text` (empty when it is not there).
pub fn after<'a>(text: &'a str, marker: &str) -> &'a str {
    text.split_once(marker).map_or("", |(_, rest)| rest)
}

/// The public page of village `code`, as anyone reads it.
pub async fn public_page(addr: SocketAddr, code: &str) -> String {
    Client::new(addr)
        .get(&format!("/public/village/{code}"))
        .await
        .text()
}

/// The printable notice of village `code`, as anyone reads it.
pub async fn notice_page(addr: SocketAddr, code: &str) -> String {
    Client::new(addr)
        .get(&format!("/public/village/{code}/notice"))
        .await
        .text()
}

/// `n` fresh clients sign in at once, client `i` with the name and password `form(i)`; the statuses.
pub async fn logins_at_once(
    addr: SocketAddr,
    n: usize,
    form: impl Fn(usize) -> (String, String),
) -> Vec<u16> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let (name, password) = form(i);
        tasks.push(tokio::spawn(async move {
            let mut c = Client::new(addr);
            c.attempt_login(&name, &password).await.status
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("login task"));
    }
    statuses
}

/// A browser-like client: keeps cookies, remembers the CSRF token it last saw in a page.
pub struct Client {
    pub addr: SocketAddr,
    pub cookies: BTreeMap<String, String>,
    pub csrf: Option<String>,
    /// The local address to connect from (another client computer), or the default.
    pub from: Option<std::net::IpAddr>,
}

pub use cunji_web::percent_encode as enc;

/// Asserts that `text` holds each of `wanted`, showing the text when it does not.
#[track_caller]
pub fn assert_holds(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "{w} not in:\n{text}");
    }
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            cookies: BTreeMap::new(),
            csrf: None,
            from: None,
        }
    }

    /// A client signed in as `user` (password as the test server set it).
    pub async fn signed_in(addr: SocketAddr, user: &str) -> Client {
        let mut c = Client::new(addr);
        c.login(user).await;
        c
    }

    /// Posts an entry form for 东关村 (131124100200): `fields` as the form's, with or without the
    /// page's CSRF token.
    pub async fn post_entry(&mut self, fields: &[(&str, &str)], with_csrf: bool) -> Reply {
        self.post_form("/village/131124100200/entries", fields, with_csrf)
            .await
    }

    /// A client connecting from another loopback address (`127.0.0.2`), as another computer would.
    pub fn from_address(addr: SocketAddr, ip: &str) -> Client {
        Client {
            from: Some(ip.parse().unwrap()),
            ..Client::new(addr)
        }
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> Reply {
        let router = in_process().lock().unwrap().get(&self.addr).cloned();
        let (status, headers, body) = match router {
            Some(r) => {
                self.oneshot(r, (method, path, content_type), body, extra)
                    .await
            }
            None => {
                self.over_tcp((method, path, content_type), body, extra)
                    .await
            }
        };
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                if let Some((name, rest)) = v.split_once('=') {
                    let value = rest.split(';').next().unwrap_or("").to_string();
                    if value.is_empty() {
                        self.cookies.remove(name);
                    } else {
                        self.cookies.insert(name.to_string(), value);
                    }
                }
            }
        }
        let reply = Reply {
            status,
            headers,
            body,
        };
        let text = reply.text();
        if let Some(i) = text.find("name=\"_csrf\" value=\"") {
            let rest = &text[i + 20..];
            self.csrf = rest.split('"').next().map(|s| s.to_string());
        }
        reply
    }

    /// The request's head lines: Host, Content-Type, the kept cookies and `extra`.
    fn head_lines(
        &self,
        content_type: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let mut h = vec![("Host".to_string(), self.addr.to_string())];
        if let Some(ct) = content_type {
            h.push(("Content-Type".into(), ct.into()));
        }
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            h.push(("Cookie".into(), c.join("; ")));
        }
        h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        h
    }

    /// The request through the router in process, with the client's address as the server's
    /// accept loop would give it.
    async fn oneshot(
        &self,
        router: axum::Router,
        (method, path, content_type): (&str, &str, Option<&str>),
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder().method(method).uri(path);
        for (k, v) in self.head_lines(content_type, extra) {
            req = req.header(k, v);
        }
        let mut req = req
            .header("Content-Length", body.len())
            .body(axum::body::Body::from(body.to_vec()))
            .unwrap();
        let ip = self.from.unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(SocketAddr::new(ip, 40000)));
        let res = router.oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).to_string(),
                )
            })
            .collect();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, body.to_vec())
    }

    /// The request over a real connection to the server's port (HTTP/1.1, `Connection: close`).
    async fn over_tcp(
        &self,
        (method, path, content_type): (&str, &str, Option<&str>),
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut stream = match self.from {
            None => tokio::net::TcpStream::connect(self.addr).await.unwrap(),
            Some(ip) => {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.bind(SocketAddr::new(ip, 0)).unwrap();
                socket.connect(self.addr).await.unwrap()
            }
        };
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in self.head_lines(content_type, extra) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        // A server refusing an oversize body answers and closes before reading all of it: the
        // write then fails, and the answer is still there to read.
        if let Err(e) = stream.write_all(body).await {
            use std::io::ErrorKind::{BrokenPipe, ConnectionReset};
            assert!(matches!(e.kind(), BrokenPipe | ConnectionReset), "{e}");
        }
        let mut raw = Vec::new();
        if let Err(e) = stream.read_to_end(&mut raw).await {
            assert!(
                e.kind() == std::io::ErrorKind::ConnectionReset && !raw.is_empty(),
                "{e}"
            );
        }
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("http head");
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut body = raw[split + 4..].to_vec();
        let mut lines = head.lines();
        let status: u16 = lines
            .next()
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        if headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
        {
            body = dechunk(&body);
        }
        (status, headers, body)
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.request("GET", path, None, b"", &[]).await
    }

    /// Posts `body` as JSON to the API with the session's CSRF token; the status and the JSON answer.
    pub async fn post_json(
        &mut self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let session = self.get("/api/session").await;
        let token: serde_json::Value = serde_json::from_slice(&session.body).unwrap_or_default();
        let token = token["csrf"].as_str().unwrap_or_default().to_string();
        let r = self
            .request(
                "POST",
                path,
                Some("application/json"),
                body.to_string().as_bytes(),
                &[("X-CSRF-Token", &token)],
            )
            .await;
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or_default(),
        )
    }

    /// Posts a file as a form would: the page's CSRF token first (or `token`), then `fields`, then the
    /// file `(field name, file name, bytes)`.
    pub async fn post_file(
        &mut self,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Reply {
        self.post_files(path, token, fields, &[file]).await
    }

    /// Posts several files as a form with a `multiple` file field would.
    pub async fn post_files(
        &mut self,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Reply {
        let b = "XBOUNDARYX";
        let token = token.map_or_else(|| self.csrf.clone().unwrap_or_default(), str::to_string);
        let mut body =
            format!("--{b}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{token}\r\n");
        for (k, v) in fields {
            body.push_str(&format!(
                "--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            ));
        }
        let mut bytes_out = body.into_bytes();
        for (field, file_name, bytes) in files {
            bytes_out.extend_from_slice(format!("--{b}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            bytes_out.extend_from_slice(bytes);
            bytes_out.extend_from_slice(b"\r\n");
        }
        bytes_out.extend_from_slice(format!("--{b}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={b}");
        self.request("POST", path, Some(&content_type), &bytes_out, &[])
            .await
    }

    /// GETs an API path; the status and the JSON answer.
    pub async fn get_json(&mut self, path: &str) -> (u16, serde_json::Value) {
        let r = self.get(path).await;
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or_default(),
        )
    }

    /// Posts a form; `_csrf` is added from the last page unless `with_csrf` is false.
    pub async fn post_form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        with_csrf: bool,
    ) -> Reply {
        let mut parts: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        if with_csrf {
            parts.push(format!("_csrf={}", self.csrf.clone().unwrap_or_default()));
        }
        self.request(
            "POST",
            path,
            Some("application/x-www-form-urlencoded"),
            parts.join("&").as_bytes(),
            &[],
        )
        .await
    }

    /// Opens the login page and signs in with `user` and `password`; the answer, whatever it is.
    pub async fn attempt_login(&mut self, user: &str, password: &str) -> Reply {
        self.get("/login").await;
        let fields = [("username", user), ("password", password)];
        self.post_form("/login", &fields, true).await
    }

    pub async fn login(&mut self, user: &str) -> Reply {
        let r = self.attempt_login(user, PASSWORD).await;
        assert_eq!(r.status, 303, "login of {user} failed: {}", r.text());
        // Load a page to learn the session's CSRF token.
        self.get("/policy").await;
        r
    }
}

fn dechunk(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&rest[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&rest[pos + 2..pos + 2 + size]);
        rest = &rest[pos + 2 + size + 2..];
    }
    out
}
