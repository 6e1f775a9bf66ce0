//! `room-hub`: the server a room lives in.
//!
//! It serves one room over a project folder: WebSocket connections speaking
//! protocol v1 (see `room-protocol` and `docs/PROTOCOL.md`), durable edits
//! to the folder, replay from a rolling log, runtime events, signed snapshot
//! downloads and, optionally, the built web app.
//!
//! ```no_run
//! # async fn demo() -> Result<(), room_hub::HubError> {
//! use room_hub::{start, Config};
//!
//! let hub = start(Config {
//!     project: "sample-project".into(),
//!     port: 0, // any free port
//!     read_only_token: true,
//!     ..Config::default()
//! })
//! .await?;
//! println!("listening on {}", hub.addr);
//! hub.serve_until_ctrl_c().await?;
//! # Ok(()) }
//! ```

mod config;
mod error;
mod http;
mod log;
mod logging;
mod outbox;
mod project;
mod room;
mod runtime;
mod serve;
mod share;
mod snapshot;
mod tokens;
mod watcher;
mod web;
mod ws;

pub use config::{start, Config, RunningHub, ShareLinks};
pub use error::{HubError, WriteError};
pub use http::{app, HubState, MAX_EVENT_BODY_BYTES};
pub use log::{EntryLog, Logged};
pub use logging::{init_logging, token_safe_levels, DEFAULT_LOG, LOG_ENV};
pub use outbox::MAX_QUEUED_BYTES;
pub use project::ProjectDir;
pub use room::{Joined, Room};
pub use serve::{ConnectionLimits, OpenSockets, SocketGuard};
pub use share::share_bases;
pub use snapshot::sign_hex;
pub use tokens::{load_or_mint, mint_token, Access, RoomSecrets, SecretsRequest};
pub use web::{WebApp, IMMUTABLE, NO_CACHE, SERVICE_WORKER};
pub use ws::Heartbeat;

/// A task that is aborted when this handle is dropped, so background work
/// never outlives the hub that started it.
#[derive(Debug)]
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
