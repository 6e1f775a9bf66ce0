//! Settings of the session, with documented defaults.

use crate::reconnect::ReconnectOptions;

/// How the session keeps its connection alive. Build it from
/// [`SessionOptions::default`] and the setters (fields may be added, so
/// it has no struct literal outside this crate).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
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
    /// Bytes of file content the page fetches in the background, beyond
    /// the files the person opens (which are always fetched), so the room
    /// stays readable offline. A room whose files fit is fetched whole;
    /// in a larger one, files come in path order until the budget is
    /// spent. Default 16 MiB; 0 fetches only what is opened.
    pub prefetch_bytes: u64,
}

/// [`SessionOptions::prefetch_bytes`]'s default: 16 MiB.
pub const DEFAULT_PREFETCH_BYTES: u64 = 16 << 20;

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            reconnect: ReconnectOptions::default(),
            ping_every_ms: room_protocol::PING_EVERY_MS as f64,
            dead_after_ms: room_protocol::DEAD_LINK_MS as f64,
            prefetch_bytes: DEFAULT_PREFETCH_BYTES,
        }
    }
}

impl SessionOptions {
    /// Sets [`Self::reconnect`].
    pub fn reconnect(mut self, reconnect: ReconnectOptions) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// Sets [`Self::ping_every_ms`].
    pub fn ping_every_ms(mut self, ms: f64) -> Self {
        self.ping_every_ms = ms;
        self
    }

    /// Sets [`Self::dead_after_ms`].
    pub fn dead_after_ms(mut self, ms: f64) -> Self {
        self.dead_after_ms = ms;
        self
    }

    /// Sets [`Self::prefetch_bytes`].
    pub fn prefetch_bytes(mut self, bytes: u64) -> Self {
        self.prefetch_bytes = bytes;
        self
    }
}

/// Everything an embedding app can set on `RoomClient`. Build it from
/// [`RoomOptions::default`] and the setters, which chain:
///
/// ```
/// # use room_client::RoomOptions;
/// let options = RoomOptions::default()
///     .hub_url("https://hub.example:8787")
///     .room_id("team");
/// assert_eq!(options.room_id.as_deref(), Some("team"));
/// assert!(options.cache);
/// ```
///
/// (Fields may be added, so it has no struct literal outside this crate.)
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RoomOptions {
    /// Base URL of the hub, e.g. `http://127.0.0.1:8787`. The WebSocket is
    /// `{hub}/rooms/{roomId}/ws` with `ws`/`wss` for `http`/`https`.
    /// `None`: the page's own origin (the hub serves the app). Default: the
    /// `ROOM_HUB_URL` the app was compiled with, if any (the development
    /// loop, `ROOM_HUB_URL=http://127.0.0.1:8787 trunk serve`: trunk serves
    /// and reloads the page, the hub runs beside it), else `None`.
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
    /// The offline shell: when the page's build has one (`room-hub
    /// --write-shell` as a trunk hook names it in the page's head), register
    /// its worker, so the page opens with no network at all, and offer a
    /// reload in a bar above the app (`.room-update`) when a newer build
    /// has taken over. Default `true`; a page without the shell's `<meta>`
    /// (a development server, an app without the hook) is left alone.
    pub offline_shell: bool,
}

impl Default for RoomOptions {
    fn default() -> Self {
        Self {
            hub_url: option_env!("ROOM_HUB_URL").map(String::from),
            room_id: None,
            cache: true,
            session: SessionOptions::default(),
            offline_shell: true,
        }
    }
}

impl RoomOptions {
    /// Sets [`Self::hub_url`]: the room's hub is at `url`.
    pub fn hub_url(mut self, url: impl Into<String>) -> Self {
        self.hub_url = Some(url.into());
        self
    }

    /// Sets [`Self::room_id`]: join room `id`.
    pub fn room_id(mut self, id: impl Into<String>) -> Self {
        self.room_id = Some(id.into());
        self
    }

    /// Sets [`Self::cache`]: `false` keeps the room in memory only.
    pub fn cache(mut self, cache: bool) -> Self {
        self.cache = cache;
        self
    }

    /// Sets [`Self::session`].
    pub fn session(mut self, session: SessionOptions) -> Self {
        self.session = session;
        self
    }

    /// Sets [`Self::offline_shell`]: `false` registers no worker.
    pub fn offline_shell(mut self, offline_shell: bool) -> Self {
        self.offline_shell = offline_shell;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_options_default_to_the_page_and_the_cache() {
        let options = RoomOptions::default();
        assert_eq!(
            (
                options.hub_url.as_deref(),
                options.room_id,
                options.cache,
                options.offline_shell
            ),
            (option_env!("ROOM_HUB_URL"), None, true, true)
        );
        assert_eq!(options.session, SessionOptions::default());
    }

    #[test]
    fn each_setter_sets_its_field_and_leaves_the_others() {
        let session = SessionOptions::default()
            .ping_every_ms(1.0)
            .dead_after_ms(2.0)
            .prefetch_bytes(4)
            .reconnect(ReconnectOptions::default().base_delay_ms(3.0));
        assert_eq!((session.ping_every_ms, session.dead_after_ms), (1.0, 2.0));
        assert_eq!(session.prefetch_bytes, 4);
        assert_eq!(SessionOptions::default().prefetch_bytes, 16 << 20);
        assert_eq!(session.reconnect.base_delay_ms, 3.0);
        let options = RoomOptions::default()
            .hub_url("http://h")
            .room_id("r")
            .cache(false)
            .session(session)
            .offline_shell(false);
        assert_eq!(
            (
                options.hub_url.as_deref(),
                options.room_id.as_deref(),
                options.cache,
                options.offline_shell
            ),
            (Some("http://h"), Some("r"), false, false)
        );
        assert_eq!(options.session, session);
    }
}
