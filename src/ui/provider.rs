//! `RoomClient`: resolves the room and token, runs the session and the
//! cache, and provides a [`RoomHandle`] to everything inside it.

use std::rc::Rc;

use yew::prelude::*;

use super::handle::{use_handle_select, RoomHandle};
use super::store::{RoomStore, StoreRef};
use crate::error::ClientError;
use crate::marks::{self, mark_once};
use crate::options::RoomOptions;
use crate::state::{ConnectionStatus, RoomState};

/// Properties of [`RoomClient`].
#[derive(Debug, Properties, PartialEq)]
pub struct RoomClientProps {
    /// Hub, room, cache and connection settings; see [`RoomOptions`] for
    /// the defaults (this page's origin and `/rooms/{id}/` path).
    #[prop_or_default]
    pub options: RoomOptions,
    /// What to render inside the room's context. Without children, the
    /// default room UI (`RoomView`, feature `default-ui`), or nothing
    /// when that feature is off.
    #[prop_or_default]
    pub children: Children,
}

/// Where the room is, resolved from the options and the page.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    room_id: Rc<str>,
    hub_url: Rc<str>,
}

fn resolve(options: &RoomOptions) -> Result<Target, ClientError> {
    let room_id = match &options.room_id {
        Some(id) if room_protocol::is_valid_room_id(id) => id.clone(),
        Some(_) => return Err(ClientError::NoRoomId),
        None => page::room_id()?,
    };
    let hub_url = match &options.hub_url {
        Some(url) => url.clone(),
        None => page::origin()?,
    };
    Ok(Target {
        room_id: room_id.into(),
        hub_url: hub_url.into(),
    })
}

/// What the page's address says, where there is a page.
#[cfg(target_arch = "wasm32")]
mod page {
    use crate::error::ClientError;

    fn location() -> Result<web_sys::Location, ClientError> {
        Ok(web_sys::window().ok_or(ClientError::NoWindow)?.location())
    }

    pub(super) fn room_id() -> Result<String, ClientError> {
        location()?
            .pathname()
            .ok()
            .and_then(|p| room_protocol::urls::room_id_from_path(&p))
            .ok_or(ClientError::NoRoomId)
    }

    pub(super) fn origin() -> Result<String, ClientError> {
        location()?.origin().map_err(|_| ClientError::NoWindow)
    }
}

/// Rendering without a browser (on a server, in an app's native tests):
/// there is no page address to read.
#[cfg(not(target_arch = "wasm32"))]
mod page {
    use crate::error::ClientError;

    pub(super) fn room_id() -> Result<String, ClientError> {
        Err(ClientError::NoWindow)
    }

    pub(super) fn origin() -> Result<String, ClientError> {
        Err(ClientError::NoWindow)
    }
}

/// What the room shows before the session has read its cache, and where
/// there is no browser to run one (server rendering).
fn placeholder() -> Html {
    html! {
        <div class="room-placeholder" role="status">{ "Connecting…" }</div>
    }
}

/// The page's side of the offline shell, in JavaScript beside the wasm
/// (`src/shell.js`).
#[cfg(target_arch = "wasm32")]
mod offline_shell {
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen(module = "/src/shell.js")]
    extern "C" {
        /// Registers the worker the page's `<meta>`s name, if any, and
        /// offers a reload when a newer build takes over.
        #[wasm_bindgen(js_name = startOfflineShell)]
        pub(super) fn start(build_meta: &str, worker_meta: &str);
    }
}

/// Starts the session for `target` in the browser: token bootstrap, then
/// the session, whose states go to the store and which takes the store's
/// queued intents. Returns the effect's cleanup, which stops it all.
#[cfg(target_arch = "wasm32")]
fn start(target: Target, options: RoomOptions, store: Rc<RoomStore>) -> impl FnOnce() {
    use std::cell::{Cell, RefCell};

    use crate::cache::IndexedDbOptions;
    use crate::session::{CacheChoice, Session, SessionConfig};
    use crate::token::{self, TokenOutcome, TokenResponder};
    use room_protocol::urls::socket_url;

    struct Running {
        _session: Rc<Session>,
        _responder: Rc<RefCell<Option<TokenResponder>>>,
    }

    let cancelled = Rc::new(Cell::new(false));
    let running: Rc<RefCell<Option<Running>>> = Rc::default();
    {
        let cancelled = Rc::clone(&cancelled);
        let running = Rc::clone(&running);
        let store = Rc::clone(&store);
        wasm_bindgen_futures::spawn_local(async move {
            // Before any network request: the token leaves the URL.
            let found = match token::bootstrap(&target.room_id).await {
                Ok(TokenOutcome::Found(t, _)) => Some(t),
                Ok(TokenOutcome::NeedsToken) | Err(_) => None,
            };
            if cancelled.get() {
                return;
            }
            // After the bootstrap: the worker's script is fetched with the
            // page as referrer, and the token has left the address by now.
            if options.offline_shell {
                offline_shell::start(
                    room_protocol::urls::SHELL_BUILD_META,
                    room_protocol::urls::SHELL_WORKER_META,
                );
            }
            let responder = Rc::new(RefCell::new(
                found
                    .as_ref()
                    .and_then(|t| TokenResponder::start(&target.room_id, t).ok()),
            ));
            let cache = if options.cache {
                CacheChoice::IndexedDb {
                    room_id: target.room_id.to_string(),
                    options: IndexedDbOptions::default(),
                }
            } else {
                CacheChoice::Memory
            };
            let live = Rc::new(Session::start(SessionConfig {
                url: socket_url(&target.hub_url, &target.room_id),
                token: found,
                options: options.session,
                cache,
            }));
            {
                let store = Rc::clone(&store);
                let responder = Rc::clone(&responder);
                live.subscribe(move |s| {
                    // A token the hub refuses (wrong, or replaced by the
                    // host) is never handed to another tab.
                    if s.status.token_refused() {
                        responder.borrow_mut().take();
                    }
                    store.publish(s);
                });
            }
            let session = Rc::downgrade(&live);
            if let Some(intents) = store.intents() {
                intents.attach(move |intent| {
                    if let Some(session) = session.upgrade() {
                        session.apply(intent);
                    }
                });
            }
            *running.borrow_mut() = Some(Running {
                _session: live,
                _responder: responder,
            });
        });
    }
    move || {
        cancelled.set(true);
        if let Some(intents) = store.intents() {
            intents.detach();
        }
        running.borrow_mut().take();
    }
}

/// Joins a room and keeps the page in it; see the crate docs.
#[component]
pub fn RoomClient(props: &RoomClientProps) -> Html {
    let target = use_memo(props.options.clone(), resolve);
    // One store for the component's life: intents sent before the session
    // exists (or between two sessions, when the options change) wait in it.
    let store: Rc<RoomStore> = use_memo((), |()| RoomStore::live(RoomState::default()));
    let (room_id, hub_url) = match &*target {
        Ok(target) => (Rc::clone(&target.room_id), Rc::clone(&target.hub_url)),
        Err(_) => (Rc::from(""), Rc::from("")),
    };
    // The context value: made once per store and place, so it never
    // changes under the components; the hooks subscribe to what they read.
    let handle = (*use_memo(
        (StoreRef(Rc::clone(&store)), room_id, hub_url),
        |(store, room_id, hub_url)| {
            RoomHandle::new(Rc::clone(&store.0), Rc::clone(room_id), Rc::clone(hub_url))
        },
    ))
    .clone();
    // The provider itself re-renders only for what it decides on.
    let (hydrated, connected) = use_handle_select(&handle, |room| {
        (
            room.state.hydrated,
            room.state.status == ConnectionStatus::Connected,
        )
    });

    #[cfg(target_arch = "wasm32")]
    {
        let target = (*target).clone();
        let store = Rc::clone(&store);
        use_effect_with(props.options.clone(), move |options| {
            let stop = target.map(|target| start(target, options.clone(), store));
            move || {
                if let Ok(stop) = stop {
                    stop();
                }
            }
        });
    }

    // Timeline marks: when cached content is on screen, and when the hub's
    // `synced` has been applied (effects run after the render is in the DOM).
    use_effect_with((hydrated, connected), move |&(hydrated, connected)| {
        if hydrated {
            mark_once(marks::CACHE_PAINTED);
        }
        if connected {
            mark_once(marks::SYNCED);
        }
    });

    match &*target {
        Ok(_) => {}
        // No page to read the room from: a server render.
        Err(ClientError::NoWindow) => return placeholder(),
        Err(error) => {
            return html! {
                <div class="room-banner alert" role="alert">
                    { format!("This page cannot join a room: {error}.") }
                </div>
            };
        }
    }
    let content = if !props.children.is_empty() {
        html! { { props.children.clone() } }
    } else if !hydrated {
        placeholder()
    } else {
        default_view()
    };
    html! {
        <ContextProvider<RoomHandle> context={handle}>
            { content }
        </ContextProvider<RoomHandle>>
    }
}

#[cfg(feature = "default-ui")]
fn default_view() -> Html {
    html! { <super::RoomView /> }
}

/// Without the default UI, a `RoomClient` without children shows nothing
/// once the room is there.
#[cfg(not(feature = "default-ui"))]
fn default_view() -> Html {
    Html::default()
}
