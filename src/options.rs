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
            ping_every_ms: room_protocol::PING_EVERY_MS as f64,
            dead_after_ms: room_protocol::DEAD_LINK_MS as f64,
        }
    }
}

/// Everything an embedding app can set on `RoomClient`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomOptions {
    /// Base URL of the hub, e.g. `http://127.0.0.1:8787`. The WebSocket is
    /// `{hub}/rooms/{roomId}/ws` with `ws`/`wss` for `http`/`https`.
    /// Default `None`: the page's own origin (the hub serves the app).
    pub hub_url: Option<String>,
    /// The room to join. Default `None`: taken from the page path
    /// `/rooms/{id}/`.
    pub room_id: Option<String>,
    /// Keep the room in IndexedDB for instant paint after a refresh and
    /// drafts that survive a closed tab. Default `true`; `false` keeps
    /// everything in memory.
    pub cache: bool,
    /// Heartbeat and backoff settings. Default: ping every 10 s, dead after
    /// 20 s of silence, backoff 0.5 → 8 s for up to 2 minutes.
    pub session: SessionOptions,
}

impl Default for RoomOptions {
    fn default() -> Self {
        Self {
            hub_url: None,
            room_id: None,
            cache: true,
            session: SessionOptions::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_options_default_to_the_page_and_the_cache() {
        let options = RoomOptions::default();
        assert_eq!(
            (options.hub_url, options.room_id, options.cache),
            (None, None, true)
        );
        assert_eq!(options.session, SessionOptions::default());
    }
}
