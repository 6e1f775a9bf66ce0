//! The page's events the session listens to. Each listener lives as long
//! as the value returned; the shell's loop holds them.

use futures_channel::mpsc::UnboundedSender;
use gloo_events::EventListener;
use wasm_bindgen::JsCast as _;

use super::Input;

/// `online`, `visibilitychange` and the back-forward cache's `pagehide`
/// and `pageshow` feed the core; kept alive by the loop.
pub(super) fn page_listeners(tx: &UnboundedSender<Input>) -> Vec<EventListener> {
    let mut listeners = Vec::new();
    if let Some(window) = web_sys::window() {
        let online = tx.clone();
        listeners.push(EventListener::new(&window, "online", move |_| {
            let _ = online.unbounded_send(Input::Online);
        }));
        // Only a page the engine keeps (`persisted`): a reload or a closed
        // tab ends the session anyway. The loop takes the input in the
        // microtasks right after this event, before the page is frozen.
        for (name, input) in [
            ("pagehide", Input::PageHidden),
            ("pageshow", Input::PageShown),
        ] {
            let tx = tx.clone();
            listeners.push(EventListener::new(&window, name, move |event| {
                let kept = event
                    .dyn_ref::<web_sys::PageTransitionEvent>()
                    .is_some_and(web_sys::PageTransitionEvent::persisted);
                if kept {
                    let _ = tx.unbounded_send(input.clone());
                }
            }));
        }
        if let Some(document) = window.document() {
            let visible = tx.clone();
            let doc = document.clone();
            listeners.push(EventListener::new(
                &document,
                "visibilitychange",
                move |_| {
                    if doc.visibility_state() == web_sys::VisibilityState::Visible {
                        let _ = visible.unbounded_send(Input::Visible);
                    }
                },
            ));
        }
    }
    listeners
}

/// Calls `copy` at `pagehide`: synchronously, at the last moment the page
/// runs (a reload, a closed tab, a navigation away).
pub(super) fn on_pagehide(mut copy: impl FnMut() + 'static) -> Option<EventListener> {
    let window = web_sys::window()?;
    Some(EventListener::new(&window, "pagehide", move |_| copy()))
}
