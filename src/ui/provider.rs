//! `RoomClient`: resolves the room and token, runs the session and the
//! cache, and provides a [`RoomHandle`] to everything inside it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use room_protocol::Token;
use yew::prelude::*;

use super::handle::RoomHandle;
use super::RoomView;
use crate::cache::IndexedDbOptions;
use crate::error::ClientError;
use crate::marks::{self, mark_once};
use crate::options::{socket_url, RoomOptions};
use crate::session::{CacheChoice, Session, SessionConfig};
use crate::state::{ConnectionStatus, RoomState};
use crate::token::{self, TokenOutcome, TokenResponder};

/// Properties of [`RoomClient`].
#[derive(Debug, Properties, PartialEq)]
pub struct RoomClientProps {
    /// Hub, room, cache and connection settings; see [`RoomOptions`] for
    /// the defaults (this page's origin and `/rooms/{id}/` path).
    #[prop_or_default]
    pub options: RoomOptions,
    /// What to render inside the room's context. Without children, the
    /// default room UI ([`RoomView`]).
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
    let location = web_sys::window().ok_or(ClientError::NoWindow)?.location();
    let room_id = match &options.room_id {
        Some(id) if room_protocol::is_valid_room_id(id) => id.clone(),
        Some(_) => return Err(ClientError::NoRoomId),
        None => location
            .pathname()
            .ok()
            .and_then(|p| token::room_id_from_path(&p))
            .ok_or(ClientError::NoRoomId)?,
    };
    let hub_url = match &options.hub_url {
        Some(url) => url.clone(),
        None => location.origin().map_err(|_| ClientError::NoWindow)?,
    };
    Ok(Target {
        room_id: room_id.into(),
        hub_url: hub_url.into(),
    })
}

struct Running {
    _session: Rc<Session>,
    _responder: Option<TokenResponder>,
}

/// Joins a room and keeps the page in it; see the crate docs.
#[component]
pub fn RoomClient(props: &RoomClientProps) -> Html {
    let target = use_memo(props.options.clone(), resolve);
    let state = use_state(|| Rc::new(RoomState::default()));
    let session = use_state(|| None::<Rc<Session>>);
    let token = use_state(|| None::<Token>);

    {
        let state = state.setter();
        let session = session.setter();
        let token = token.setter();
        let target = (*target).clone();
        use_effect_with(props.options.clone(), move |options| {
            let cancelled = Rc::new(Cell::new(false));
            let running: Rc<RefCell<Option<Running>>> = Rc::default();
            if let Ok(target) = target {
                let options = options.clone();
                let cancelled = Rc::clone(&cancelled);
                let running = Rc::clone(&running);
                wasm_bindgen_futures::spawn_local(async move {
                    // Before any network request: the token leaves the URL.
                    let found = match token::bootstrap(&target.room_id).await {
                        Ok(TokenOutcome::Found(t, _)) => Some(t),
                        Ok(TokenOutcome::NeedsToken) | Err(_) => None,
                    };
                    if cancelled.get() {
                        return;
                    }
                    let responder = found
                        .as_ref()
                        .and_then(|t| TokenResponder::start(&target.room_id, t).ok());
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
                        token: found.clone(),
                        options: options.session,
                        cache,
                    }));
                    live.subscribe(move |s| state.set(s));
                    token.set(found);
                    session.set(Some(Rc::clone(&live)));
                    *running.borrow_mut() = Some(Running {
                        _session: live,
                        _responder: responder,
                    });
                });
            }
            move || {
                cancelled.set(true);
                running.borrow_mut().take();
            }
        });
    }

    // Timeline marks: when cached content is on screen, and when the hub's
    // `synced` has been applied (effects run after the render is in the DOM).
    {
        let hydrated = state.hydrated;
        let connected = state.status == ConnectionStatus::Connected;
        use_effect_with((hydrated, connected), move |&(hydrated, connected)| {
            if hydrated {
                mark_once(marks::CACHE_PAINTED);
            }
            if connected {
                mark_once(marks::SYNCED);
            }
        });
    }

    let target = match &*target {
        Ok(target) => target.clone(),
        Err(error) => {
            return html! {
                <div class="room-banner alert" role="alert">
                    { format!("This page cannot join a room: {error}.") }
                </div>
            };
        }
    };
    let handle = RoomHandle::new(
        Rc::clone(&state),
        target.room_id,
        target.hub_url,
        (*token).clone(),
        (*session).clone(),
    );
    let content = if props.children.is_empty() {
        html! { <RoomView /> }
    } else {
        html! { { props.children.clone() } }
    };
    html! {
        <ContextProvider<RoomHandle> context={handle}>
            { content }
        </ContextProvider<RoomHandle>>
    }
}
