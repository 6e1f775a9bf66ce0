//! Where the hub's diagnostics go, and the rule that keeps tokens out of them.
//!
//! `ROOM_HUB_LOG` picks levels as `tracing`'s env filter does (default
//! `room_hub=info`). Whatever it asks for, crates other than the hub's own
//! are capped at `info`: below that, the WebSocket library prints whole
//! frames and the HTTP stack prints headers, and both can hold a token (the
//! `Sec-WebSocket-Protocol` header, a file's content). The hub's own
//! messages never include a token at any level.

use tracing_subscriber::filter::{EnvFilter, FilterExt as _, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer as _;

/// The environment variable that sets log levels.
pub const LOG_ENV: &str = "ROOM_HUB_LOG";

/// The levels used when [`LOG_ENV`] is unset or invalid.
pub const DEFAULT_LOG: &str = "room_hub=info";

/// The most any target may log: the hub's own crates everything, every
/// other crate `info` and above.
pub fn token_safe_levels() -> Targets {
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("room_hub", LevelFilter::TRACE)
        .with_target("room_protocol", LevelFilter::TRACE)
}

/// Sends the hub's logs to stderr at the levels `ROOM_HUB_LOG` asks for,
/// within [`token_safe_levels`]. Call once, at start-up of a binary.
pub fn init_logging() {
    let asked = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(asked.and(token_safe_levels())),
        )
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn libraries_that_see_frames_or_headers_never_log_below_info() {
        let levels = token_safe_levels();
        for target in [
            "tungstenite::protocol",
            "tokio_tungstenite",
            "hyper::proto::h1::role",
            "axum::serve",
            "tower_http::trace",
        ] {
            assert!(!levels.would_enable(target, &Level::DEBUG), "{target}");
            assert!(levels.would_enable(target, &Level::INFO), "{target}");
        }
        assert!(levels.would_enable("room_hub::ws", &Level::TRACE));
    }
}
