//! The accept loop's bounds (issue #32, item 3): slow clients are cut off after the header and body
//! timeouts, connections are capped, and the reserve keeps `/healthz` and the public pages answering
//! while slow clients hold everything else.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{server_with, Client};
use cunji_web::server::ServeConfig;

/// Short bounds, so the test waits seconds, not the defaults' tens of seconds.
fn config() -> ServeConfig {
    ServeConfig {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        max_connections: 32,
        reserved: 4,
        ..ServeConfig::default()
    }
}

/// Whether the server closes `stream` before `deadline` (end of stream or a reset; anything it
/// answers first is read and ignored).
async fn closed_by(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// The `Cookie` header of a fresh visitor to the login form: a POST to `/login` with it passes the
/// CSRF guard and has its body read.
async fn login_cookie(addr: std::net::SocketAddr) -> String {
    let mut c = Client::new(addr);
    c.get("/login").await;
    c.cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The status of `GET path` on a fresh connection.
async fn status_of(addr: std::net::SocketAddr, path: &str) -> u16 {
    Client::new(addr).get(path).await.status
}

#[tokio::test]
async fn slow_clients_cannot_shut_out_health_and_public_pages() {
    let cfg = config();
    let (s, served) = server_with("slow-clients", cfg.clone()).await;
    let cookie = login_cookie(s.addr).await;

    // Requests whose bodies never come: each holds a request in flight until the body timeout.
    let general = cfg.max_connections - cfg.reserved;
    let mut slow_bodies = Vec::new();
    for _ in 0..general {
        let mut t = TcpStream::connect(s.addr).await.unwrap();
        let head = format!(
            "POST /login HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername="
        );
        t.write_all(head.as_bytes()).await.unwrap();
        slow_bodies.push(t);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The general part is full: a signed-in page is refused at once, in Chinese; the reserve answers.
    let refused = Client::new(s.addr).get("/login").await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert!(
        refused.text().contains("请稍等片刻再试"),
        "{}",
        refused.text()
    );
    assert_eq!(status_of(s.addr, "/healthz").await, 200);
    assert_eq!(status_of(s.addr, "/public/").await, 200);

    // Three times the connection limit of half-sent heads.
    let started = Instant::now();
    let mut half_sent = Vec::new();
    for _ in 0..3 * cfg.max_connections {
        let mut t = TcpStream::connect(s.addr).await.unwrap();
        t.write_all(b"GET /dashboard HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        half_sent.push(t);
    }
    assert_eq!(status_of(s.addr, "/healthz").await, 200);
    assert_eq!(status_of(s.addr, "/public/").await, 200);
    assert_eq!(status_of(s.addr, "/static/app.css").await, 200);
    assert!(
        served.open() <= cfg.max_connections,
        "{} connections open, limit {}",
        served.open(),
        cfg.max_connections
    );
    assert!(
        served.evicted() >= 2 * cfg.max_connections,
        "idle connections closed to make room: {}",
        served.evicted()
    );

    // Every slow client is closed: half-sent heads after the header timeout (or sooner, to make
    // room), stalled bodies after the body timeout.
    let deadline = started + cfg.header_timeout + Duration::from_secs(5);
    for (i, t) in half_sent.iter_mut().enumerate() {
        assert!(
            closed_by(t, deadline).await,
            "half-sent connection {i} still open"
        );
    }
    for (i, t) in slow_bodies.iter_mut().enumerate() {
        assert!(closed_by(t, deadline).await, "stalled body {i} still open");
    }
    // With the slow clients gone, signed-in pages answer again.
    assert_eq!(status_of(s.addr, "/login").await, 200);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_header_timeout() {
    let cfg = config();
    let (s, _) = server_with("idle-keep-alive", cfg.clone()).await;
    let mut t = TcpStream::connect(s.addr).await.unwrap();
    t.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = t.read(&mut buf).await.unwrap();
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf[..n])
    );
    let answered = Instant::now();
    let deadline = answered + cfg.header_timeout + Duration::from_secs(3);
    assert!(
        closed_by(&mut t, deadline).await,
        "idle connection kept open"
    );
    assert!(
        answered.elapsed() >= cfg.header_timeout - Duration::from_millis(100),
        "closed too early: {:?}",
        answered.elapsed()
    );
}

#[tokio::test]
async fn a_stalled_form_body_is_refused_in_chinese_after_the_body_timeout() {
    let cfg = config();
    let (s, _) = server_with("stalled-body", cfg.clone()).await;
    let cookie = login_cookie(s.addr).await;
    let mut t = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername="
    );
    t.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        cfg.body_timeout + Duration::from_secs(5),
        t.read_to_end(&mut answer),
    )
    .await;
    assert!(read.is_ok(), "no answer after the body timeout");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("没有传完"), "{answer}");
}
