//! Settings of the session, with documented defaults.

use crate::reconnect::ReconnectOptions;

/// How the session keeps its connection alive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionOptions {
    /// Backoff schedule and give-up window. Default: 0.5 → 8 s, give up
    /// after 2 minutes, no jitter.
    pub reconnect: ReconnectOptions,
    /// Send a `ping` this often while connected, in milliseconds.
    /// Default 10 000.
    pub ping_every_ms: f64,
    /// Treat the connection as dead when no frame at all arrived for this
    /// long, in milliseconds. A Wi-Fi drop often fires no `close` for
    /// minutes; this is what notices it. Also bounds how long one
    /// connection attempt may take. Default 20 000.
    pub dead_after_ms: f64,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            reconnect: ReconnectOptions::default(),
            ping_every_ms: 10_000.0,
            dead_after_ms: 20_000.0,
        }
    }
}
