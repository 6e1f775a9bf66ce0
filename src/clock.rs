//! The page's clocks, on every target. In the browser: `performance.now()`
//! for the session's deadlines and `Date.now()` for wall time. Natively
//! (server rendering, an app's unit tests) the same readings come from the
//! standard library, so rendering a component never calls into a browser
//! that is not there.

/// Milliseconds on the session's clock. Deadlines in the state (the next
/// attempt's time) are on it, so whatever shows them must read it too.
#[cfg_attr(
    not(any(target_arch = "wasm32", feature = "default-ui")),
    allow(dead_code)
)]
pub(crate) fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| w.performance())
            .map_or_else(js_sys::Date::now, |p| p.now())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START
            .get_or_init(std::time::Instant::now)
            .elapsed()
            .as_secs_f64()
            * 1000.0
    }
}

/// Seconds since the Unix epoch.
#[cfg(feature = "default-ui")]
pub(crate) fn unix_secs() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        (js_sys::Date::now() / 1000.0) as u64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}
