//! `room-testkit`: the harness browser tests talk to.
//!
//! It runs `room-hub` as a real child process over a scratch copy of a
//! project folder, puts a fault-injecting TCP proxy in front of it, and
//! takes orders over a small HTTP API (CORS open, loopback only) so tests
//! running inside Chromium can stop the hub, cut the network, and look at
//! the disk. It prints one JSON line with its control URL, then serves
//! until stdin closes or it is told to shut down.
//!
//! This is test infrastructure: `/config` hands out the room's tokens so
//! tests can build share links. It binds 127.0.0.1 only.
//!
//! Its exit status is the run's verdict on the hub: 1 when the hub exited
//! at any time without being told to (a crash, a panic), each such exit
//! reported on stderr as it is seen; 0 otherwise.

use room_protocol::urls;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::sync::Mutex;
use tower_http::cors::CorsLayer;

use room_testkit::hub::{copy_tree, HubProcess, ROOM_ID};
use room_testkit::page_watch::{self, PageError};
use room_testkit::proxy::{Mode, Proxy};

/// Run room-hub behind a fault-injecting proxy, under HTTP control.
#[derive(Debug, Parser)]
struct Cli {
    /// The room-hub binary.
    #[arg(long)]
    hub_bin: PathBuf,
    /// A folder copied as the room's project at start.
    #[arg(long)]
    project: PathBuf,
    /// Also emit a pulse event every MS milliseconds.
    #[arg(long)]
    pulse: Option<u64>,
    /// Serve this built web app from the hub (`room-hub --web`).
    #[arg(long)]
    web: Option<PathBuf>,
    /// A newer build of the web app: `POST /hub/next-build` restarts the
    /// hub serving it, as a deployment of a new build does.
    #[arg(long)]
    next_web: Option<PathBuf>,
    /// Another app that embeds room-client (`examples/embed`), watched too,
    /// for a scenario that serves it from a hub of its own.
    #[arg(long)]
    embed_web: Option<PathBuf>,
}

struct Kit {
    hub: Mutex<HubProcess>,
    /// What the watched pages reported (see `page_watch`), oldest first.
    page_errors: std::sync::Mutex<Vec<PageError>>,
    /// The watched copy of `--web` the hub serves, if any.
    web: Option<PathBuf>,
    next_web: Option<PathBuf>,
    /// The watched copy of `--embed-web`, if any.
    embed_web: Option<PathBuf>,
    proxy: Arc<Proxy>,
    hub_port: u16,
    _scratch: tempfile::TempDir,
}

type Shared = State<Arc<Kit>>;

impl Kit {
    /// The pages' reports (a handler that panicked leaves them as they
    /// were).
    fn reports(&self) -> std::sync::MutexGuard<'_, Vec<PageError>> {
        self.page_errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// How often the hub is checked for an exit nobody asked for.
const CRASH_CHECK_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// Reports each exit of the hub nobody asked for on stderr as soon as it is
/// seen; [`HubProcess::crashes`] keeps them for the exit status.
async fn watch_for_crashes(kit: Arc<Kit>) {
    loop {
        tokio::time::sleep(CRASH_CHECK_EVERY).await;
        if let Some(crash) = kit.hub.lock().await.exited_on_its_own() {
            eprintln!("room-testkit: {crash}");
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<std::process::ExitCode> {
    let cli = Cli::parse();
    let scratch = tempfile::tempdir()?;
    let project = scratch.path().join("project");
    copy_tree(&cli.project, &project)?;
    // The control URL first: the pages the hub serves report to it.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let control = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    let report_url = format!("{control}/page-errors");
    let watched = |web: Option<PathBuf>, name: &str| -> std::io::Result<Option<PathBuf>> {
        let Some(web) = web else { return Ok(None) };
        let to = scratch.path().join(name);
        page_watch::watched_copy(&web, &to, &report_url)?;
        Ok(Some(to))
    };
    let web = watched(cli.web, "web")?;
    let next_web = watched(cli.next_web, "next-web")?;
    let embed_web = watched(cli.embed_web, "embed-web")?;
    let mut hub = HubProcess::new(
        cli.hub_bin,
        project,
        scratch.path().join("tokens.json"),
        cli.pulse,
        web.clone(),
    )?;
    hub.start().await?;
    let hub_port = hub.port;
    let proxy = Proxy::start(hub_port).await?;
    let kit = Arc::new(Kit {
        hub: Mutex::new(hub),
        next_web,
        embed_web,
        page_errors: std::sync::Mutex::default(),
        web,
        proxy,
        hub_port,
        _scratch: scratch,
    });
    let app = Router::new()
        .route("/config", get(config))
        .route("/stats", get(stats))
        .route("/hub/{action}", post(hub_action))
        .route("/proxy/mode/{mode}", post(proxy_mode))
        .route("/proxy/delay/{ms}", post(proxy_delay))
        .route("/proxy/socket-delay/{ms}", post(proxy_socket_delay))
        .route("/proxy/reset", post(proxy_reset))
        .route("/proxy/socket-requests", get(socket_requests))
        .route("/events/{count}", post(post_events))
        .route("/file/{*path}", get(read_file).put(write_file))
        .route(
            "/page-errors",
            get(page_errors)
                .post(report_page_error)
                .delete(forget_page_errors),
        )
        .layer(CorsLayer::permissive())
        .with_state(Arc::clone(&kit));
    #[allow(clippy::print_stdout)]
    {
        println!("{}", json!({ "control": control }));
    }
    // Ends when the test script closes our stdin (or dies).
    let stdin_closed = async {
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    };
    let watch = tokio::spawn(watch_for_crashes(Arc::clone(&kit)));
    tokio::select! {
        r = axum::serve(listener, app) => r?,
        () = stdin_closed => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    watch.abort();
    let mut hub = kit.hub.lock().await;
    hub.stop().await?;
    if hub.crashes.is_empty() {
        return Ok(std::process::ExitCode::SUCCESS);
    }
    eprintln!(
        "room-testkit: the hub exited {} time(s) without being stopped:",
        hub.crashes.len()
    );
    for crash in &hub.crashes {
        eprintln!("  {crash}");
    }
    Ok(std::process::ExitCode::FAILURE)
}

fn failure(e: impl std::fmt::Display) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": e.to_string() })),
    )
        .into_response()
}

async fn config(State(kit): Shared) -> Response {
    let tokens = match kit.hub.lock().await.tokens() {
        Ok(t) => t,
        Err(e) => return failure(e),
    };
    Json(json!({
        "roomId": ROOM_ID,
        "editToken": tokens["editToken"],
        "hostToken": tokens["hostToken"],
        "readOnlyToken": tokens["readOnlyToken"],
        "proxyWs": urls::socket_url(&format!("http://127.0.0.1:{}", kit.proxy.port), ROOM_ID),
        "proxyHttp": format!("http://127.0.0.1:{}", kit.proxy.port),
        "directWs": urls::socket_url(&format!("http://127.0.0.1:{}", kit.hub_port), ROOM_ID),
        "hubHttp": format!("http://127.0.0.1:{}", kit.hub_port),
        // A page of the room's origin that starts no room (tests open one
        // to look into the origin's storage), and the room's database there.
        "proxyHealth": format!("http://127.0.0.1:{}{}", kit.proxy.port, urls::HEALTH_ROUTE),
        "cacheDatabase": urls::cache_database_name(ROOM_ID),
        // The watched copy of the web app (for a scenario's own hub).
        "webDir": kit.web,
        // The watched copy of the embedding example, if given.
        "embedWebDir": kit.embed_web,
    }))
    .into_response()
}

async fn stats(State(kit): Shared) -> Response {
    let (running, pid) = {
        let mut hub = kit.hub.lock().await;
        (hub.running(), hub.pid())
    };
    let health = if running {
        room_testkit::measure::health(kit.hub_port).await
    } else {
        Value::Null
    };
    let s = &kit.proxy.stats;
    Json(json!({
        "hubRunning": running,
        "hubPid": pid,
        "hubRssKiB": pid.map(room_testkit::measure::rss_kib),
        "hub": health["rooms"][ROOM_ID],
        "proxy": {
            "mode": format!("{:?}", kit.proxy.mode()),
            "accepted": s.accepted.load(Ordering::Relaxed),
            "forwarded": s.forwarded.load(Ordering::Relaxed),
            "socketAttempts": s.socket_attempts.load(Ordering::Relaxed),
            "socketFirstByteMs": s.socket_first_byte_ms.load(Ordering::Relaxed),
            "socketRequestMs": s.socket_request_ms.load(Ordering::Relaxed),
            "httpBytesToBrowser": s.http_bytes_to_browser.load(Ordering::Relaxed),
        },
    }))
    .into_response()
}

async fn hub_action(State(kit): Shared, Path(action): Path<String>) -> Response {
    let mut hub = kit.hub.lock().await;
    let result = match action.as_str() {
        "stop" => hub.stop().await,
        "start" => hub.start().await,
        "restart" => restart(&mut hub).await,
        "next-build" => {
            let Some(next) = kit.next_web.clone() else {
                return (StatusCode::NOT_FOUND, "started without --next-web").into_response();
            };
            hub.set_web(next);
            restart(&mut hub).await
        }
        _ => return (StatusCode::NOT_FOUND, "stop, start, restart or next-build").into_response(),
    };
    match result {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => failure(e),
    }
}

async fn restart(hub: &mut HubProcess) -> std::io::Result<()> {
    hub.stop().await?;
    hub.start().await
}

async fn proxy_mode(State(kit): Shared, Path(mode): Path<String>) -> Response {
    let mode = match mode.as_str() {
        "pass" => Mode::Pass,
        "blackhole" => Mode::Blackhole,
        "blackhole-sockets" => Mode::BlackholeSockets,
        "wifi-drop" => Mode::WifiDrop,
        "refuse" => Mode::Refuse,
        "refuse-sockets" => Mode::RefuseSockets,
        _ => {
            return (
                StatusCode::NOT_FOUND,
                "pass, blackhole, blackhole-sockets, refuse or refuse-sockets",
            )
                .into_response()
        }
    };
    kit.proxy.set_mode(mode);
    Json(json!({ "ok": true })).into_response()
}

async fn proxy_delay(State(kit): Shared, Path(ms): Path<u64>) -> Response {
    kit.proxy.set_delay(ms);
    Json(json!({ "ok": true })).into_response()
}

async fn proxy_socket_delay(State(kit): Shared, Path(ms): Path<u64>) -> Response {
    kit.proxy.set_socket_delay(ms);
    Json(json!({ "ok": true })).into_response()
}

async fn proxy_reset(State(kit): Shared) -> Response {
    let reset = kit.proxy.reset_all();
    Json(json!({ "reset": reset })).into_response()
}

/// The newest WebSocket upgrade requests as they arrived, oldest first:
/// target, headers (tokens included: this is the test harness, on
/// loopback, and `/config` hands them out anyway) and arrival time.
async fn socket_requests(State(kit): Shared) -> Response {
    Json(kit.proxy.socket_requests()).into_response()
}

#[derive(serde::Deserialize)]
struct EventQuery {
    #[serde(default)]
    kind: Option<String>,
}

/// Appends `count` runtime events through the hub's own HTTP API.
async fn post_events(
    State(kit): Shared,
    Path(count): Path<u32>,
    Query(q): Query<EventQuery>,
) -> Response {
    let token = match kit.hub.lock().await.tokens() {
        Ok(t) => t["editToken"].as_str().unwrap_or_default().to_owned(),
        Err(e) => return failure(e),
    };
    let kind = q.kind.unwrap_or_else(|| "test".into());
    let mut revs = Vec::new();
    for i in 0..count {
        let body = json!({ "kind": kind, "data": { "i": i } }).to_string();
        match room_testkit::http1::request(
            kit.hub_port,
            "POST",
            &urls::events_path(ROOM_ID),
            Some(&token),
            Some(&body),
        )
        .await
        {
            Ok((201, text)) => revs.push(
                serde_json::from_str::<Value>(&text).map_or(Value::Null, |v| v["rev"].clone()),
            ),
            Ok((status, text)) => return failure(format!("hub answered {status}: {text}")),
            Err(e) => return failure(e),
        }
    }
    Json(json!({ "revs": revs })).into_response()
}

fn plain(path: &str) -> bool {
    !path.split('/').any(|c| c == ".." || c.is_empty())
}

/// Writes a file straight to the project folder, as another editor would
/// (also while the hub is stopped, to change the project between runs).
async fn write_file(State(kit): Shared, Path(path): Path<String>, body: String) -> Response {
    if !plain(&path) {
        return (StatusCode::BAD_REQUEST, "plain relative paths only").into_response();
    }
    let full = kit.hub.lock().await.project().join(&path);
    if let Some(parent) = full.parent() {
        let _ = tokio::fs::create_dir_all(parent).await;
    }
    match tokio::fs::write(full, body).await {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => failure(e),
    }
}

async fn read_file(State(kit): Shared, Path(path): Path<String>) -> Response {
    if !plain(&path) {
        return (StatusCode::BAD_REQUEST, "plain relative paths only").into_response();
    }
    let full = kit.hub.lock().await.project().join(&path);
    match tokio::fs::read_to_string(full).await {
        Ok(text) => text.into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A watched page's report (`page_watch`).
async fn report_page_error(State(kit): Shared, body: String) -> StatusCode {
    let Some(error) = page_watch::read_report(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    eprintln!(
        "room-testkit: page {} reported {}: {}",
        error.page, error.kind, error.text
    );
    kit.reports().push(error);
    StatusCode::NO_CONTENT
}

/// Every error the watched pages reported since the last `DELETE`.
async fn page_errors(State(kit): Shared) -> Json<Vec<PageError>> {
    Json(kit.reports().clone())
}

async fn forget_page_errors(State(kit): Shared) -> StatusCode {
    kit.reports().clear();
    StatusCode::NO_CONTENT
}
