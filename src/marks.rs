//! Named moments on the page's performance timeline (User Timing marks).
//! Each is marked once per page, the first time it happens, so a benchmark
//! or an embedding app's own profiling can read where start-up time goes:
//! `performance.getEntriesByName("room:cache-painted")`.

/// The session started (the component mounted and found its token).
pub const SESSION_START: &str = "room:session-start";
/// The first WebSocket was created (it opens while the cache is read; when
/// its request reaches the wire is the engine's to decide).
pub const SOCKET_CREATED: &str = "room:socket-created";
/// The cache's database is open (IndexedDB; a memory cache opens at once).
pub const CACHE_OPENED: &str = "room:cache-opened";
/// IndexedDB has answered every read of the cache, before the records are
/// decoded into Rust.
pub const CACHE_READ: &str = "room:cache-read";
/// The cache was opened, read and decoded (before anything is rendered
/// from it).
pub const CACHE_LOADED: &str = "room:cache-loaded";
/// Cached files and history are on screen.
pub const CACHE_PAINTED: &str = "room:cache-painted";
/// The first WebSocket opened.
pub const SOCKET_OPEN: &str = "room:socket-open";
/// The hub's first frame arrived (its `welcome`).
pub const FIRST_FRAME: &str = "room:first-frame";
/// The hub's `synced` has been applied and rendered: the room is live.
pub const SYNCED: &str = "room:synced";

/// Marks `name` unless this page has already marked it (in the browser;
/// elsewhere there is no timeline).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn mark_once(_name: &str) {}

/// Marks `name` unless this page has already marked it.
#[cfg(target_arch = "wasm32")]
pub(crate) fn mark_once(name: &str) {
    let Some(performance) = web_sys::window().and_then(|w| w.performance()) else {
        return;
    };
    if performance.get_entries_by_name(name).length() == 0 {
        let _ = performance.mark(name);
    }
}
