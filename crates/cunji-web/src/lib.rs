//! cunji-web: the web application on the same database as the command line. Pages are rendered on the
//! server in Chinese; charts are SVG drawn here; nothing is fetched from a CDN. Every figure comes from
//! `cunji-core`.

pub mod api;
mod api_error;
pub mod auth;
mod charts;
pub mod csrf;
pub mod hardening;
mod html;
mod identity;
mod pages;
pub mod qr;
pub mod scope;
pub mod server;
pub mod state;
pub mod steps;

use axum::routing::{get, post};
use axum::Router;
use cunji_store::Store;

pub use pages::pct as percent_encode;
pub use state::AppState;

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/static/app.css", get(pages::stylesheet))
        .route("/static/import.js", get(pages::import_script))
        .route("/static/notice.css", get(pages::notice_stylesheet))
        .route("/formats", get(pages::formats::page))
        .route("/healthz", get(pages::healthz))
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/logout", post(pages::login::logout))
        .route("/dashboard", get(pages::dashboard::page))
        .route("/villages", get(pages::villages::list))
        .route("/villages.csv", get(pages::villages::export))
        .route("/compare", get(pages::compare::page))
        .route("/village/{code}", get(pages::village::page))
        .route("/village/{code}/entries", post(pages::entry::add))
        .route("/village/{code}/close", post(pages::entry::close))
        .route("/village/{code}/reopen", post(pages::entry::reopen))
        .route("/entries/{id}/reverse", post(pages::entry::reverse))
        .route(
            "/import",
            get(pages::import::form).post(pages::import::submit).layer(
                axum::extract::DefaultBodyLimit::max(pages::import::UPLOAD_LIMIT + 64 * 1024),
            ),
        )
        .route("/workflow", get(pages::workflow::list))
        .route("/workflow/{code}/{year}", get(pages::workflow::page))
        .route(
            "/workflow/{code}/{year}/attachments",
            post(pages::workflow::documents::upload).layer(axum::extract::DefaultBodyLimit::max(
                pages::workflow::documents::UPLOAD_LIMIT,
            )),
        )
        .route(
            "/workflow/{code}/{year}/attachments/{id}",
            get(pages::workflow::documents::download),
        )
        .route(
            "/workflow/{code}/{year}/{step}",
            post(pages::workflow::step),
        )
        .route(
            "/policy",
            get(pages::policy::page).post(pages::policy::save),
        )
        .route("/policy/whatif", get(pages::whatif::page))
        .route("/settings/phone", post(pages::settings::save_phone))
        .route("/audit", get(pages::audit::page))
        .route("/audit.csv", get(pages::audit::export))
        .route("/payfloor", get(pages::payfloor::page))
        .route("/payfloor.csv", get(pages::payfloor::export))
        .route("/templates/{file}", get(pages::downloads::template))
        .route("/report.xlsx", get(pages::downloads::report))
        .route("/public/", get(pages::public::index))
        .route("/public/text-size", get(pages::public::text_size))
        .route("/public", get(pages::public::index_redirect))
        .route("/public/village/{code}", get(pages::public::village))
        .route("/public/village/{code}/qr.svg", get(pages::public::qr_svg))
        .route("/public/village/{code}/qr.png", get(pages::public::qr_png))
        .route("/public/village/{code}/notice", get(pages::public::notice))
        .merge(pages::contracts::routes())
        .merge(api::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::guard,
        ))
        .layer(axum::middleware::from_fn(state::one_version_per_read))
        // Routes that take files set their own, larger limit; every other body is a form or JSON.
        .layer(axum::extract::DefaultBodyLimit::max(
            hardening::FORM_BODY_LIMIT,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hardening::harden,
        ))
        .with_state(state)
}

/// How long a stop waits for requests in flight (an import of 64 MB takes well under this) before
/// the process ends anyway; a request cut off then rolls back its transaction.
pub const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Serves the application on `addr` until SIGTERM or Ctrl-C: then it stops taking connections, lets
/// requests in flight finish (at most `STOP_WAIT`) and returns. With `replica`, years' data for
/// reports is read there (see `AppState::load_year`). The bounds on connections are
/// `ServeConfig::default()` (see `server`).
pub async fn serve(
    store: Store,
    replica: Option<Store>,
    addr: &str,
    public_url: Option<String>,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("无法监听 {addr}：{e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("无法读取监听地址：{e}"))?;
    // For the person who started it, on standard output; the log (standard error) stays machine-readable.
    println!("村集 cunji 网页服务已启动：http://{local}/  （Ctrl+C 停止）");
    tracing::info!(%local, "serving");
    let mut state = AppState::new(store, public_url);
    if let Some(replica) = replica {
        state = state.with_replica(replica);
    }
    state.warm_up();
    check_file_in_background(&state);
    let (_, running) = server::spawn(
        listener,
        app(state.clone()),
        server::ServeConfig::default(),
        stop_signal(),
    );
    let result = running.await.map_err(|e| format!("网页服务出错：{e}"));
    state.session_store().clone().close().await;
    tracing::info!("stopped");
    result
}

/// SQLite's quick check of the whole file, started with the server (#32: a damaged page went
/// unnoticed until a request read it). It reads every page — about 20 s for a province's 3.2 GB — so
/// it runs beside the requests rather than before them; a problem is logged and `/healthz` answers 503
/// with it from then on.
fn check_file_in_background(state: &AppState) {
    let (store, damage) = (state.session_store().clone(), state.damage.clone());
    tokio::spawn(async move {
        match store.sqlite_damage("quick_check").await {
            Ok(found) if found.is_empty() => tracing::info!("database file checked: whole"),
            Ok(found) => {
                let said = found.join("\n");
                tracing::error!(damage = %said, "database file damaged");
                *damage.lock().unwrap_or_else(|e| e.into_inner()) = Some(said);
            }
            Err(e) => tracing::warn!(error = %e, "database file check did not run"),
        }
    });
}

/// SIGTERM (systemd, docker) or Ctrl-C.
async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Today's date in Beijing time (UTC+8), `YYYY-MM-DD`.
pub fn today() -> String {
    pages::village::today()
}

/// An epoch time as Beijing date and time, `YYYY-MM-DD HH:MM`.
pub fn when(at: i64) -> String {
    pages::workflow::when(at)
}
