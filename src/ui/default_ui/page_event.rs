//! Listening to the page (the window's `keydown`, `hashchange`, a timer)
//! from the default UI's hooks, on every target: natively there is no
//! page, and nothing is listened to.

use yew::prelude::*;

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

/// Calls `handler` with each `kind` event of the window for as long as the
/// component lives, from its first render. A window listener needs nothing
/// of the component's DOM, so it is made with the hook's state rather than
/// in an effect, and dropped with it: one small hook for every listener,
/// where each effect hook is most of a kilobyte of the bundle. The first
/// render's handler is the one kept.
#[hook]
pub(crate) fn use_window_listener<F>(kind: &'static str, handler: F)
where
    F: FnMut(&web_sys::Event) + 'static,
{
    let _listening = use_mut_ref(move || on_window(kind, handler));
}

/// Calls `tick` every `ms` milliseconds for as long as the component lives
/// (natively: never), held like [`use_window_listener`]'s listener.
#[hook]
pub(crate) fn use_interval<F>(ms: u32, tick: F)
where
    F: FnMut() + 'static,
{
    let _ticking = use_mut_ref(move || {
        #[cfg(target_arch = "wasm32")]
        {
            Some(gloo_timers::callback::Interval::new(ms, tick))
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = (ms, tick);
            None::<()>
        }
    });
}
