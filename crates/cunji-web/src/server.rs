//! The accept loop (issue #32): `axum::serve` has no timeouts and no connection limit, and about 20,100
//! idle half-sent requests once exhausted the process's file descriptors, so that `/healthz` and the
//! public pages stopped answering. Here each connection is served by hyper's HTTP/1 server with
//!
//! - a **header timeout**: a request's head (and the wait for the next one on a kept-alive
//!   connection) must arrive within [`ServeConfig::header_timeout`], or the connection is closed;
//! - a **body timeout**: a request body that sends nothing for [`ServeConfig::body_timeout`] fails
//!   (the whole request is further bounded by `hardening::REQUEST_TIME_LIMIT` / `UPLOAD_TIME_LIMIT`);
//! - a **connection limit**: at most [`ServeConfig::max_connections`] are open. When a new one
//!   arrives at the limit, the oldest connection with no request in flight (one still sending its
//!   head, or idle between requests) is closed to make room, as nginx reuses idle keep-alive
//!   connections; only when every connection has a request in flight is the new one refused;
//! - a **reserve**: requests in flight for anything but the public pages, their stylesheets and
//!   `/healthz` are at most `max_connections − reserved`; past that they are answered 503 at once.
//!   So slow clients can hold neither the last `reserved` connections nor make room impossible: a
//!   villager's phone and the monitoring probe always get in.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use http_body::Frame;
use hyper::body::Incoming;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// The bounds of the accept loop. The defaults are those `cunji serve` uses (docs/deploy.md).
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// A request's head must arrive within this, and a kept-alive connection is closed after this
    /// long without a new request. A browser sends its head in one packet; 10 s is past any phone on
    /// 2G (nginx's `client_header_timeout` is 60 s, but nginx does not hold a thread or a database
    /// connection either; neither does cunji, the bound is on descriptors).
    pub header_timeout: Duration,
    /// A request body that sends nothing for this long fails (an upload of 64 MB on a county line
    /// sends something every few milliseconds).
    pub body_timeout: Duration,
    /// Connections open at once. Each holds a file descriptor and about 16 KB of buffers; 512 stays
    /// well under the usual limit of 1,024 descriptors a process (the database, its write-ahead log
    /// and the pool's connections take a few dozen).
    pub max_connections: usize,
    /// Of `max_connections`, how many are kept for requests to `/healthz`, `/public…` and `/static/…`
    /// (other requests in flight are at most `max_connections - reserved`).
    pub reserved: usize,
    /// How long a stop waits for requests in flight before the process ends anyway.
    pub stop_wait: Duration,
}

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
            reserved: 64,
            stop_wait: crate::STOP_WAIT,
        }
    }
}

/// Whether a path is one of those the reserve is kept for: what a villager's phone and a monitor ask.
pub fn reserved_path(path: &str) -> bool {
    path == "/healthz" || path.starts_with("/public") || path.starts_with("/static/")
}

/// The connections open now, oldest first, each with its requests in flight and the means to close it.
#[derive(Default)]
struct Open {
    next: u64,
    conns: BTreeMap<u64, Conn>,
}

struct Conn {
    in_flight: Arc<AtomicUsize>,
    close: Arc<tokio::sync::Notify>,
}

/// What the accept loop and the connections share.
struct Shared {
    config: ServeConfig,
    open: Mutex<Open>,
    /// Requests in flight for paths outside the reserve.
    general: AtomicUsize,
    /// Connections closed to make room, and refused (all had requests in flight): for the log and tests.
    evicted: AtomicUsize,
}

impl Shared {
    /// Room for one more connection: a new entry, or `None` when every open connection is busy.
    fn admit(&self) -> Option<(u64, Arc<AtomicUsize>, Arc<tokio::sync::Notify>)> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.conns.len() >= self.config.max_connections.max(1) {
            let idle = open
                .conns
                .iter()
                .find(|(_, c)| c.in_flight.load(Ordering::SeqCst) == 0)
                .map(|(id, _)| *id)?;
            if let Some(c) = open.conns.remove(&idle) {
                c.close.notify_one();
                self.evicted.fetch_add(1, Ordering::Relaxed);
            }
        }
        let id = open.next;
        open.next += 1;
        let conn = Conn {
            in_flight: Arc::default(),
            close: Arc::default(),
        };
        let handles = (id, conn.in_flight.clone(), conn.close.clone());
        open.conns.insert(id, conn);
        Some(handles)
    }

    fn forget(&self, id: u64) {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .conns
            .remove(&id);
    }
}

/// A running server's counters (for tests and diagnostics).
#[derive(Clone)]
pub struct Served {
    shared: Arc<Shared>,
}

impl Served {
    /// Connections open now.
    pub fn open(&self) -> usize {
        self.shared
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .conns
            .len()
    }

    /// Idle connections closed so far to make room for new ones.
    pub fn evicted(&self) -> usize {
        self.shared.evicted.load(Ordering::Relaxed)
    }
}

/// Serves `app` on `listener` until `stop` completes: then no new connections are taken, idle ones
/// are closed, and those with a request in flight finish it, for at most `config.stop_wait`.
/// Returns at once with the counters; the server runs on the returned task.
pub fn spawn(
    listener: TcpListener,
    app: axum::Router,
    config: ServeConfig,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> (Served, tokio::task::JoinHandle<()>) {
    let shared = Arc::new(Shared {
        config,
        open: Mutex::default(),
        general: AtomicUsize::new(0),
        evicted: AtomicUsize::new(0),
    });
    let served = Served {
        shared: shared.clone(),
    };
    let task = tokio::spawn(accept_loop(listener, app, shared, stop));
    (served, task)
}

async fn accept_loop(
    listener: TcpListener,
    app: axum::Router,
    shared: Arc<Shared>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) {
    // Every connection holds a receiver; `stopping.closed()` is when the last one has ended.
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    loop {
        let (stream, remote) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors (EMFILE) and the like: wait for some to close instead of
                    // spinning on the error.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some((id, in_flight, close)) = shared.admit() else {
            tracing::warn!(%remote, "connection refused: every connection has a request in flight");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            remote,
            app.clone(),
            shared.clone(),
            (id, in_flight, close),
            stopped.clone(),
        ));
    }
    drop(listener);
    tracing::info!("stop asked: finishing requests in flight");
    let _ = stopping.send(true);
    drop(stopped);
    if tokio::time::timeout(shared.config.stop_wait, stopping.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            wait_s = shared.config.stop_wait.as_secs(),
            "requests still in flight after the wait; stopping"
        );
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    remote: SocketAddr,
    app: axum::Router,
    shared: Arc<Shared>,
    (id, in_flight, close): (u64, Arc<AtomicUsize>, Arc<tokio::sync::Notify>),
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let service = {
        let shared = shared.clone();
        let in_flight = in_flight.clone();
        hyper::service::service_fn(move |req: Request<Incoming>| {
            let (app, shared, in_flight) = (app.clone(), shared.clone(), in_flight.clone());
            async move {
                Ok::<_, std::convert::Infallible>(
                    handle(req, remote, app, &shared, in_flight).await,
                )
            }
        })
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(shared.config.header_timeout)
        .keep_alive(true);
    let conn = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let mut stopping = *stopped.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%remote, error = %e, "connection ended");
                }
                break;
            }
            _ = close.notified() => {
                tracing::debug!(%remote, "idle connection closed to make room");
                break;
            }
            changed = stopped.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
    shared.forget(id);
}

/// One request: counted as in flight (so its connection is not closed to make room) until its
/// response body is done; refused with 503 when it would take the reserve.
async fn handle(
    req: Request<Incoming>,
    remote: SocketAddr,
    app: axum::Router,
    shared: &Arc<Shared>,
    in_flight: Arc<AtomicUsize>,
) -> Response<Body> {
    let reserved = reserved_path(req.uri().path());
    in_flight.fetch_add(1, Ordering::SeqCst);
    let general = (!reserved).then(|| shared.clone());
    if let Some(s) = &general {
        let limit = s
            .config
            .max_connections
            .saturating_sub(s.config.reserved)
            .max(1);
        if s.general.fetch_add(1, Ordering::SeqCst) >= limit {
            s.general.fetch_sub(1, Ordering::SeqCst);
            in_flight.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(
                path = req.uri().path(),
                "request refused: connections reserved for public pages"
            );
            let mut res = crate::html::error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "现在访问的人较多，请稍等片刻再试",
            );
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                "5".parse().expect("header"),
            );
            return res;
        }
    }
    let guard = InFlight {
        conn: in_flight,
        general,
    };
    let (mut parts, body) = req.into_parts();
    parts.extensions.insert(axum::extract::ConnectInfo(remote));
    let body = Body::new(TimeoutBody::new(body, shared.config.body_timeout));
    let res = match app.oneshot(Request::from_parts(parts, body)).await {
        Ok(res) => res,
        Err(never) => match never {},
    };
    res.map(|body| {
        Body::new(Guarded {
            inner: body,
            _guard: guard,
        })
    })
}

/// A request in flight, until its response body is dropped.
struct InFlight {
    conn: Arc<AtomicUsize>,
    general: Option<Arc<Shared>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.conn.fetch_sub(1, Ordering::SeqCst);
        if let Some(s) = &self.general {
            s.general.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A response body that keeps its request counted as in flight until it is sent.
struct Guarded {
    inner: Body,
    _guard: InFlight,
}

impl http_body::Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// A request body that fails when nothing arrives for `timeout` while it is being read.
struct TimeoutBody {
    inner: Incoming,
    timeout: Duration,
    /// Armed when a read found nothing waiting; disarmed by the next frame.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl TimeoutBody {
    fn new(inner: Incoming, timeout: Duration) -> TimeoutBody {
        TimeoutBody {
            inner,
            timeout,
            sleep: None,
        }
    }
}

/// The error a body gives when it stalls (an extractor turns it into a refusal).
#[derive(Debug)]
pub struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request body timed out")
    }
}

impl std::error::Error for BodyTimedOut {}

impl http_body::Body for TimeoutBody {
    type Data = axum::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                self.sleep = None;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let sleep = self
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        self.sleep = None;
                        Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether a body failed because it stalled (see [`TimeoutBody`]).
pub fn body_timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<BodyTimedOut>() {
            return true;
        }
        cause = c.source();
    }
    false
}

/// The answer to a request whose body stalled; the connection is closed after it.
pub fn body_too_slow() -> axum::response::Response {
    let secs = ServeConfig::default().body_timeout.as_secs();
    let mut res = crate::html::error_page(
        StatusCode::REQUEST_TIMEOUT,
        &format!("请求内容没有传完（超过 {secs} 秒没有收到数据），未做任何改动，请检查网络后重试"),
    );
    res.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    res
}
