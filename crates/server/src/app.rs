//! The HTTP server: configuration, shared state, routes, and the guard every request
//! passes (metrics, a concurrency limit that sheds load, a time limit).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::extract::{DefaultBodyLimit, MatchedPath, Query, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::auth::{Authed, Failures};
use crate::catalog::Catalog;
use crate::db::Db;
use crate::metrics::Metrics;

/// How the server runs. Flags on the command line, or a TOML file (see docs/server.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The music folder served (read only).
    pub music: PathBuf,
    /// Where the server keeps its databases and documents.
    pub data: PathBuf,
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    #[serde(default)]
    pub limits: Limits,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Requests handled at once; past this the server answers 503 + Retry-After.
    pub max_in_flight: usize,
    /// Open sync WebSockets at most.
    pub max_sync_connections: usize,
    /// Time to answer a request (to its headers), in seconds.
    pub request_timeout_s: u64,
    /// Request bodies, in bytes.
    pub max_body_bytes: usize,
    /// Sync WebSocket messages, in bytes.
    pub max_sync_message_bytes: usize,
    /// How often an open sync connection checks its user was not revoked, in seconds.
    pub revocation_check_s: u64,
    /// Time a client has to send a request's headers, in seconds: a connection that
    /// trickles them, or goes quiet before its next request, is closed.
    pub header_read_timeout_s: u64,
    /// How often the server pings each sync WebSocket, in seconds.
    pub sync_ping_s: u64,
    /// A sync WebSocket from which nothing (not even a pong) arrives for this long is
    /// closed, in seconds.
    pub sync_idle_timeout_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 512,
            max_sync_connections: 20_000,
            request_timeout_s: 30,
            max_body_bytes: 1 << 20,
            max_sync_message_bytes: 16 << 20,
            revocation_check_s: 15,
            header_read_timeout_s: 30,
            sync_ping_s: 10,
            sync_idle_timeout_s: 45,
        }
    }
}

pub fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4533))
}

/// Everything a request handler may need.
#[derive(Debug)]
pub struct State {
    pub config: Config,
    pub db: Arc<Db>,
    pub catalog: Catalog,
    pub metrics: Metrics,
    pub failures: Failures,
    pub in_flight: Arc<Semaphore>,
    pub sync: crate::sync::Sync,
    pub started: Instant,
    /// See [`Db::server_id`].
    pub server_id: String,
}

/// A JSON error body: `{"error": "..."}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// Runs the server until SIGTERM or Ctrl+C, then finishes in-flight requests (for up to
/// 10 s), and flushes the documents to disk.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data)
        .with_context(|| format!("creating the data folder {}", config.data.display()))?;
    let db = Arc::new(Db::open(&config.data.join("server.db"))?);
    let catalog = Catalog::open(&config)?;
    let sync = crate::sync::Sync::open(&config.data.join("docs"), db.clone()).await?;
    let server_id = db.server_id()?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("listening on {}", config.bind))?;
    let addr = listener.local_addr()?;
    let state = Arc::new(State {
        in_flight: Arc::new(Semaphore::new(config.limits.max_in_flight)),
        config,
        db,
        catalog,
        metrics: Metrics::default(),
        failures: Failures::default(),
        sync,
        started: Instant::now(),
        server_id,
    });
    state.catalog.start(state.clone());
    let app = router(state.clone());

    // Tests and scripts read this line for the port when binding to port 0.
    println!("offbeat-server listening on http://{addr}");
    tracing::info!(%addr, "listening");

    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let header_timeout = Duration::from_secs(state.config.limits.header_read_timeout_s.max(1));
    let server = tokio::spawn(crate::listen::serve(
        listener,
        app,
        header_timeout,
        async move {
            let _ = stopped.await;
        },
    ));
    shutdown_signal().await;
    tracing::info!("stopping: finishing requests in flight");
    let _ = stopping.send(());
    state.sync.close_connections();
    match tokio::time::timeout(Duration::from_secs(10), server).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("server task failed: {e}"),
        Err(_) => tracing::warn!("requests still running after 10 s; stopping anyway"),
    }
    state.sync.stop().await;
    state.catalog.stop();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

pub fn router(state: Arc<State>) -> Router {
    let api = Router::new()
        .route("/api/v1/status", get(status))
        .route("/metrics", get(metrics))
        .route("/api/v1/catalog", get(crate::catalog::changes))
        .route("/api/v1/tracks/{track_uid}/file", get(crate::catalog::file))
        .route("/api/v1/art/{track_uid}", get(crate::catalog::art))
        .route("/api/v1/history", get(history).post(add_history))
        .route(
            "/api/v1/documents",
            get(crate::sync::documents).post(crate::sync::claim),
        )
        .route(
            "/api/v1/index",
            get(crate::sync::index).put(crate::sync::set_index),
        )
        .route("/api/v1/sync", get(crate::sync::upgrade))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(middleware::from_fn_with_state(state.clone(), guard));
    // Liveness stays outside the guard: it answers even when requests are being shed.
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(api)
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes))
        .with_state(state)
}

/// Every API request: counted in the metrics; refused with 503 + Retry-After when the
/// server is already handling its limit (a queue would only make every client wait);
/// given up with 503 when it takes longer than the time limit.
async fn guard(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_owned(), |p| p.as_str().to_owned());
    let response = match state.in_flight.clone().try_acquire_owned() {
        Err(_) => {
            state.metrics.shed.fetch_add(1, Ordering::Relaxed);
            unavailable("the server is busy; retry after the time in Retry-After")
        }
        Ok(_permit) => {
            let limit = Duration::from_secs(state.config.limits.request_timeout_s);
            match tokio::time::timeout(limit, next.run(request)).await {
                Ok(response) => response,
                Err(_) => unavailable("the request took too long and was given up"),
            }
        }
    };
    state
        .metrics
        .record(&route, response.status().as_u16(), started.elapsed());
    response
}

/// 503 with a Retry-After of 1-3 s, so clients turned away together do not all come back
/// together.
pub fn unavailable(message: &str) -> Response {
    let mut response = error(StatusCode::SERVICE_UNAVAILABLE, message);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(fastrand::u64(1..=3)));
    response
}

#[derive(Debug, Serialize)]
struct Status {
    server_id: String,
    version: &'static str,
    uptime_s: u64,
    catalog_tracks: u64,
    scanning: bool,
    sync_connections: usize,
    /// What the operator wants users to know (`offbeat-server status set "..."`).
    message: Option<String>,
}

async fn status(
    _: Authed,
    axum::extract::State(state): axum::extract::State<Arc<State>>,
) -> Response {
    let catalog_tracks = match state.db.catalog_size() {
        Ok(n) => n,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    Json(Status {
        server_id: state.server_id.clone(),
        version: env!("CARGO_PKG_VERSION"),
        uptime_s: state.started.elapsed().as_secs(),
        catalog_tracks,
        scanning: state.catalog.scanning(),
        sync_connections: state.sync.connections(),
        message: state.db.setting("operator_message").ok().flatten(),
    })
    .into_response()
}

async fn metrics(
    _: Authed,
    axum::extract::State(state): axum::extract::State<Arc<State>>,
) -> Response {
    let open = i64::try_from(state.sync.connections()).unwrap_or(i64::MAX);
    state
        .metrics
        .sync_connections
        .store(open, Ordering::Relaxed);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(),
    )
        .into_response()
}

// --- History ----------------------------------------------------------------------------

/// Events a batch may hold.
const MAX_EVENTS: usize = 5000;

/// One play, as a device reports it. Fields beyond these are kept as sent.
#[derive(Debug, Deserialize, Serialize)]
pub struct PlayEvent {
    /// Made by the client, unique per user: sending the same event again stores nothing.
    pub id: String,
    /// When it started, ms since the epoch.
    pub played_at: i64,
    pub ms_played: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_uid: Option<String>,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct HistoryBatch {
    events: Vec<PlayEvent>,
}

async fn add_history(
    Authed(user): Authed,
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    body: axum::body::Bytes,
) -> Response {
    let batch: HistoryBatch = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("the body is not a history batch ({{\"events\": [...]}}): {e}"),
            )
        }
    };
    if batch.events.len() > MAX_EVENTS {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("at most {MAX_EVENTS} events per batch"),
        );
    }
    let mut rows = Vec::with_capacity(batch.events.len());
    for (i, event) in batch.events.iter().enumerate() {
        if event.id.is_empty() || event.id.len() > 128 {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("event {i}: its id must be 1-128 characters"),
            );
        }
        if event.played_at <= 0 {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("event {i}: played_at must be ms since the epoch"),
            );
        }
        match serde_json::to_string(event) {
            Ok(body) => rows.push((event.id.clone(), body)),
            Err(e) => return error(StatusCode::BAD_REQUEST, &format!("event {i}: {e}")),
        }
    }
    let db = state.db.clone();
    let stored = tokio::task::spawn_blocking(move || db.add_history(user.id, &rows)).await;
    match stored {
        Ok(Ok(stored)) => Json(serde_json::json!({
            "stored": stored,
            "duplicates": batch.events.len() - stored,
        }))
        .into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
pub struct Paging {
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

impl Paging {
    /// (since, limit); `None` for a cursor this server did not make.
    pub fn parse(&self, max: u32) -> Option<(i64, u32)> {
        let since = match self.since.as_deref() {
            None | Some("") => 0,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if n >= 0 => n,
                _ => return None,
            },
        };
        let limit = self.limit.unwrap_or(max).clamp(1, max);
        Some((since, limit))
    }
}

/// The answer to a cursor this server did not make.
pub fn bad_cursor() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "since must be a cursor this server returned",
    )
}

async fn history(
    Authed(user): Authed,
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    Query(paging): Query<Paging>,
) -> Response {
    let Some((since, limit)) = paging.parse(1000) else {
        return bad_cursor();
    };
    match state.db.history(user.id, since, limit) {
        Err(crate::db::DbError::UnknownCursor) => bad_cursor(),
        Ok(page) => {
            let events: Vec<serde_json::Value> = page
                .rows
                .iter()
                .filter_map(|(_, _, body)| serde_json::from_str(body).ok())
                .collect();
            Json(serde_json::json!({
                "events": events,
                "cursor": page.cursor.to_string(),
                "more": page.more,
            }))
            .into_response()
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}
