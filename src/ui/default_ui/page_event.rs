//! Listening to the page (the window's `keydown`, `hashchange`) from the
//! default UI's hooks, on every target: natively there is no page, and
//! nothing is listened to.

/// Listens while held.
#[cfg(target_arch = "wasm32")]
pub(crate) type PageListener = gloo_events::EventListener;

/// Natively, nothing to hold.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug)]
pub(crate) struct PageListener;

/// Calls `handler` with each `kind` event of the window, while the
/// returned listener is held (`None` natively, or without a window).
pub(crate) fn on_window(
    kind: &'static str,
    handler: impl FnMut(&web_sys::Event) + 'static,
) -> Option<PageListener> {
    #[cfg(target_arch = "wasm32")]
    {
        let window = web_sys::window()?;
        Some(gloo_events::EventListener::new(&window, kind, handler))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (kind, handler);
        None
    }
}
