//! The session's browser shell: runs [`SessionCore`] over a gloo-net
//! WebSocket, `performance.now()` timers and the `online` /
//! `visibilitychange` events. It makes no decisions of its own.

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures_util::{FutureExt, SinkExt, StreamExt};
use gloo_events::EventListener;
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, State, WebSocketError};
use gloo_timers::future::TimeoutFuture;
use room_protocol::{PeerProfile, Token, SUBPROTOCOL};

use super::core::{Command, Input, SessionCore};
use crate::options::SessionOptions;
use crate::state::{Action, RoomState};

/// What a session needs to start.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The WebSocket URL, `ws(s)://host/rooms/{roomId}/ws`.
    pub url: String,
    /// The room's token; `None` puts the session in `NeedsToken`.
    pub token: Option<Token>,
    /// Heartbeat and backoff settings.
    pub options: SessionOptions,
    /// The state to start from (e.g. loaded from the cache).
    pub initial: RoomState,
}

/// The WebSocket URL for `room_id` on the page's own host:
/// `ws://` for `http:` pages, `wss://` for `https:`.
pub fn page_socket_url(room_id: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!(
        "{scheme}://{}/rooms/{room_id}/ws",
        location.host().ok()?
    ))
}

type Listener = Rc<dyn Fn(Rc<RoomState>)>;

struct Shared {
    state: RefCell<Rc<RoomState>>,
    listeners: RefCell<Vec<Listener>>,
    attempts: std::cell::Cell<u32>,
}

/// A live session. Dropping it closes the socket and stops every timer.
pub struct Session {
    inputs: UnboundedSender<Input>,
    shared: Rc<Shared>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("status", &self.shared.state.borrow().status)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Starts connecting in the background.
    pub fn start(config: SessionConfig) -> Self {
        let seed = (js_sys::Math::random() * 2f64.powi(52)) as u64;
        let core = SessionCore::new(config.options, config.initial, seed);
        let shared = Rc::new(Shared {
            state: RefCell::new(core.state()),
            listeners: RefCell::new(Vec::new()),
            attempts: std::cell::Cell::new(0),
        });
        let (tx, rx) = mpsc::unbounded();
        let first = if config.token.is_some() {
            Input::Start
        } else {
            Input::NoToken
        };
        let _ = tx.unbounded_send(first);
        let shell = Shell {
            core,
            url: config.url,
            token: config.token,
            socket: None,
            shared: Rc::clone(&shared),
        };
        wasm_bindgen_futures::spawn_local(shell.run(rx, tx.clone()));
        Self { inputs: tx, shared }
    }

    /// The latest state.
    pub fn state(&self) -> Rc<RoomState> {
        Rc::clone(&self.shared.state.borrow())
    }

    /// Calls `listener` with every new state.
    pub fn subscribe(&self, listener: impl Fn(Rc<RoomState>) + 'static) {
        self.shared.listeners.borrow_mut().push(Rc::new(listener));
    }

    /// How many sockets this session has opened.
    pub fn attempts(&self) -> u32 {
        self.shared.attempts.get()
    }

    /// Applies a room action (typing, saving, discarding, …).
    pub fn dispatch(&self, action: Action) {
        let _ = self.inputs.unbounded_send(Input::Act(action));
    }

    /// Saves `content` as the new text of `path`: sent now when connected,
    /// after the next `synced` otherwise. It stays a draft until the hub
    /// acknowledges it.
    pub fn edit(&self, path: &str, content: &str) {
        self.dispatch(Action::Save {
            path: path.to_owned(),
            content: content.to_owned(),
        });
    }

    /// Keeps unsaved text of `path` as a draft.
    pub fn type_text(&self, path: &str, content: &str) {
        self.dispatch(Action::Type {
            path: path.to_owned(),
            content: content.to_owned(),
        });
    }

    /// Drops the draft of `path`.
    pub fn discard_draft(&self, path: &str) {
        self.dispatch(Action::Discard {
            path: path.to_owned(),
        });
    }

    /// Settles a conflict on `path`.
    pub fn resolve_conflict(&self, path: &str, keep_mine: bool) {
        self.dispatch(Action::ResolveConflict {
            path: path.to_owned(),
            keep_mine,
        });
    }

    /// Changes how this person appears to others.
    pub fn set_profile(&self, profile: PeerProfile) {
        self.dispatch(Action::SetProfile(profile));
    }

    /// Tries again now (after `Lost`, or to skip a backoff wait).
    pub fn retry(&self) {
        let _ = self.inputs.unbounded_send(Input::Retry);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closing the channel ends the shell's loop, which drops the socket
        // and the event listeners.
        self.inputs.close_channel();
    }
}

struct Socket {
    ws: WebSocket,
    opened: bool,
}

struct Shell {
    core: SessionCore,
    url: String,
    token: Option<Token>,
    socket: Option<Socket>,
    shared: Rc<Shared>,
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// Why the loop woke up.
enum Woke {
    Input(Input),
    Socket(SocketEvent),
}

/// What the socket did.
enum SocketEvent {
    Opened,
    Text(String),
    Closed(u16),
    Nothing,
}

impl Shell {
    async fn run(mut self, mut inputs: UnboundedReceiver<Input>, tx: UnboundedSender<Input>) {
        let _listeners = browser_listeners(&tx);
        drop(tx);
        loop {
            let wait = self
                .core
                .next_deadline()
                .map(|at| (at - now_ms()).clamp(0.0, f64::from(u32::MAX)) as u32);
            let woke = {
                let timer = async {
                    match wait {
                        Some(ms) => TimeoutFuture::new(ms).await,
                        None => futures_util::future::pending::<()>().await,
                    }
                }
                .fuse();
                let socket = next_socket_event(self.socket.as_mut()).fuse();
                let next_input = inputs.next().fuse();
                futures_util::pin_mut!(timer, socket, next_input);
                futures_util::select_biased! {
                    input = next_input => match input {
                        Some(input) => Woke::Input(input),
                        None => break,
                    },
                    event = socket => Woke::Socket(event),
                    () = timer => Woke::Input(Input::Tick),
                }
            };
            let input = match woke {
                Woke::Input(input) => Some(input),
                Woke::Socket(event) => self.socket_input(event),
            };
            if let Some(input) = input {
                self.handle(input);
            }
            // Frames that arrived together (a replay) are applied before
            // anyone renders, so a burst costs one publication.
            while let Some(event) = self
                .socket
                .as_mut()
                .and_then(|s| s.ws.next().now_or_never())
            {
                let event = match event {
                    Some(Ok(Message::Text(text))) => SocketEvent::Text(text),
                    Some(Ok(Message::Bytes(_))) | Some(Err(WebSocketError::ConnectionError)) => {
                        SocketEvent::Nothing
                    }
                    Some(Err(WebSocketError::ConnectionClose(e))) => SocketEvent::Closed(e.code),
                    Some(Err(_)) | None => SocketEvent::Closed(1006),
                };
                if let Some(input) = self.socket_input(event) {
                    self.handle(input);
                }
            }
            self.publish();
        }
    }

    fn socket_input(&mut self, event: SocketEvent) -> Option<Input> {
        match event {
            SocketEvent::Opened => {
                if let Some(socket) = &mut self.socket {
                    socket.opened = true;
                }
                Some(Input::Opened)
            }
            SocketEvent::Text(text) => Some(Input::Text(text)),
            SocketEvent::Closed(code) => {
                self.socket = None;
                Some(Input::Closed { code })
            }
            SocketEvent::Nothing => None,
        }
    }

    fn handle(&mut self, input: Input) {
        let commands = self.core.handle(input, now_ms());
        for command in commands {
            match command {
                Command::Connect => self.connect(),
                Command::Send(text) => {
                    if let Some(socket) = &mut self.socket {
                        // The sink only queues into the browser's buffer;
                        // it never waits once the socket is open.
                        let _ = socket.ws.send(Message::Text(text)).now_or_never();
                    }
                }
                Command::Disconnect => self.socket = None,
                Command::Log(line) => {
                    web_sys::console::warn_1(&format!("room-client: {line}").into())
                }
            }
        }
    }

    fn connect(&mut self) {
        self.socket = None;
        self.shared.attempts.set(self.shared.attempts.get() + 1);
        let Some(token) = &self.token else { return };
        let protocols = [SUBPROTOCOL.to_owned(), token.subprotocol()];
        match WebSocket::open_with_protocols(&self.url, &protocols) {
            Ok(ws) => {
                self.socket = Some(Socket { ws, opened: false });
            }
            Err(e) => {
                // The browser's message is about the URL, never the token.
                web_sys::console::warn_1(
                    &format!("room-client: cannot open the socket: {e}").into(),
                );
                self.handle(Input::Closed { code: 1006 });
            }
        }
    }

    fn publish(&mut self) {
        if !self.core.take_changed() {
            return;
        }
        let state = self.core.state();
        *self.shared.state.borrow_mut() = Rc::clone(&state);
        let listeners: Vec<Listener> = self.shared.listeners.borrow().clone();
        for listener in listeners {
            listener(Rc::clone(&state));
        }
    }
}

/// The next thing the socket does; never resolves without a socket.
async fn next_socket_event(socket: Option<&mut Socket>) -> SocketEvent {
    let Some(socket) = socket else {
        return futures_util::future::pending().await;
    };
    if !socket.opened {
        // Resolves once the socket leaves CONNECTING, open or not.
        let _ = futures_util::future::poll_fn(|cx| socket.ws.poll_ready_unpin(cx)).await;
        if matches!(socket.ws.state(), State::Open) {
            return SocketEvent::Opened;
        }
    }
    match socket.ws.next().await {
        Some(Ok(Message::Text(text))) => SocketEvent::Text(text),
        Some(Ok(Message::Bytes(_))) => SocketEvent::Nothing,
        // An error event is always followed by a close event.
        Some(Err(WebSocketError::ConnectionError)) => SocketEvent::Nothing,
        Some(Err(WebSocketError::ConnectionClose(e))) => SocketEvent::Closed(e.code),
        Some(Err(_)) | None => SocketEvent::Closed(1006),
    }
}

/// `online` and `visibilitychange` feed the core; kept alive by the loop.
fn browser_listeners(tx: &UnboundedSender<Input>) -> Vec<EventListener> {
    let mut listeners = Vec::new();
    if let Some(window) = web_sys::window() {
        let online = tx.clone();
        listeners.push(EventListener::new(&window, "online", move |_| {
            let _ = online.unbounded_send(Input::Online);
        }));
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
