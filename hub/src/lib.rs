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
mod content;
mod error;
mod http;
mod ignore_rules;
mod log;
mod logging;
mod outbox;
mod project;
mod rate;
mod room;
mod runtime;
mod serve;
mod share;
mod shell;
mod snapshot;
mod tokens;
mod watcher;
mod web;
mod ws;

// What the binary, the integration tests and room-testkit use; the rest
// stays inside the crate.
pub use config::{start, Config, RunningHub, ShareLinks};
pub use content::DEFAULT_CONTENT_CACHE_BYTES;
pub use error::{HubError, WriteError};
pub use http::{app, HubState};
pub use logging::init_logging;
pub use project::{ProjectDir, DEFAULT_FILE_LIMIT};
pub use room::Room;
pub use serve::ConnectionLimits;
pub use shell::{write_shell, Shell};
pub use snapshot::sign_hex;
pub use web::{IMMUTABLE, NO_CACHE, SERVICE_WORKER};
pub use ws::Heartbeat;

/// A task that is aborted when this handle is dropped, so background work
/// never outlives the hub that started it.
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
