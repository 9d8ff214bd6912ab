//! offbeat-server: the home server. It scans a music folder with the library crate and
//! serves its catalog incrementally, streams the files (HTTP Range), hosts playlist sync
//! (the automerge-repo protocol over WebSocket, through samod), takes listening history,
//! and reports its health. Every endpoint but `/healthz` needs a bearer token; a user sees
//! only their own documents and history. See `docs/api.md`.
//!
//! - [`app`]: configuration, routes, and the guard on every request (metrics, load
//!   shedding, time limit); graceful shutdown.
//! - [`auth`]: tokens, and the limit on failed attempts per token.
//! - [`catalog`]: scanning and watching the music folder, the catalog change log,
//!   streaming, covers.
//! - [`sync`]: the samod repo, the WebSocket upgrade, document ownership.
//! - [`listen`]: the connection loop (hyper with a header-read timeout).
//! - [`db`]: the server's SQLite database.
//! - [`metrics`]: Prometheus text.

pub mod app;
pub mod auth;
pub mod catalog;
pub mod db;
pub mod listen;
pub mod metrics;
pub mod sync;

pub use app::{serve, Config, Limits};
