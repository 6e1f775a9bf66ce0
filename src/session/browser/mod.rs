//! The session's browser shell: runs [`SessionCore`] over a gloo-net
//! WebSocket (`socket.rs`), `performance.now()` timers and the page's
//! events (`listeners.rs`), and keeps the room in storage (`storage.rs`).
//! Decisions are the core's, the publisher's and the cache's.

mod listeners;
mod socket;
mod storage;

use socket::{next_socket_event, read_tree, Socket, SocketEvent};
use storage::{last_profile, local_get, persister, PersisterHooks};

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures_util::{FutureExt, SinkExt, StreamExt};
use gloo_net::websocket::Message;
use gloo_timers::future::TimeoutFuture;
use room_protocol::Token;

use super::publish::Publisher;
use super::{Command, Input, SessionCore};
use crate::cache::{
    self, CacheKind, CachedRoom, IndexedDbCache, IndexedDbOptions, MemoryCache, RoomCache,
    UnloadCopy,
};
use crate::clock::now_ms;
use crate::error::CacheError;
use crate::marks::{self, mark_once};
use crate::options::SessionOptions;
use crate::state::RoomState;

/// Where the session keeps the room between visits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheChoice {
    /// Nowhere: memory only.
    Memory,
    /// IndexedDB database `solaro-room-{room_id}`, falling back to memory
    /// (with a notice) when it cannot be used.
    IndexedDb {
        /// The room.
        room_id: String,
        /// Open timeout and such.
        options: IndexedDbOptions,
    },
}

/// What a session needs to start.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The WebSocket URL, `ws(s)://host/rooms/{roomId}/ws`.
    pub url: String,
    /// The room's token; `None` puts the session in `NeedsToken`.
    pub token: Option<Token>,
    /// Heartbeat and backoff settings.
    pub options: SessionOptions,
    /// Where to keep the room.
    pub cache: CacheChoice,
}

type Listener = Rc<dyn Fn(Rc<RoomState>)>;

/// What the shell shares with the `Session` handle: the state and its
/// listeners.
struct Shared {
    state: RefCell<Rc<RoomState>>,
    listeners: RefCell<Vec<Listener>>,
    #[cfg(feature = "testing")]
    probes: Probes,
}

/// Counters that only the project's tests and benchmarks read: a build
/// without feature `testing` neither keeps nor updates them.
#[cfg(feature = "testing")]
#[derive(Default)]
struct Probes {
    /// The core's attempt count, mirrored after every input.
    attempts: std::cell::Cell<u32>,
    cache_kind: std::cell::Cell<Option<CacheKind>>,
    /// Cache transactions so far.
    cache_transactions: std::cell::Cell<u64>,
    /// `last_seen_rev` of the newest state written to the cache.
    persisted_rev: std::cell::Cell<u64>,
    /// States published so far (each is at most one render).
    publications: std::cell::Cell<u64>,
}

impl Shared {
    /// Makes `state` the one every handle reads, and tells the listeners.
    fn show(&self, state: Rc<RoomState>) {
        #[cfg(feature = "testing")]
        {
            let publications = &self.probes.publications;
            publications.set(publications.get() + 1);
        }
        *self.state.borrow_mut() = Rc::clone(&state);
        let listeners: Vec<Listener> = self.listeners.borrow().clone();
        for listener in listeners {
            listener(Rc::clone(&state));
        }
    }
}

/// A live session. Dropping it closes the socket and stops every timer.
#[must_use = "dropping the session closes its socket at once"]
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
        let shared = Rc::new(Shared {
            state: RefCell::new(Rc::new(RoomState::default())),
            listeners: RefCell::new(Vec::new()),
            #[cfg(feature = "testing")]
            probes: Probes::default(),
        });
        let (tx, rx) = mpsc::unbounded();
        let first = if config.token.is_some() {
            Input::Start
        } else {
            Input::NoToken
        };
        let _ = tx.unbounded_send(first);
        wasm_bindgen_futures::spawn_local(run(config, Rc::clone(&shared), rx, tx.clone()));
        Self { inputs: tx, shared }
    }

    /// Whether the cached state has been loaded (and published).
    #[cfg(feature = "testing")]
    pub fn hydrated(&self) -> bool {
        self.shared.state.borrow().hydrated
    }

    /// Which cache is in use, once opened.
    #[cfg(feature = "testing")]
    pub fn cache_kind(&self) -> Option<CacheKind> {
        self.shared.probes.cache_kind.get()
    }

    /// Cache transactions committed so far (loads and writes).
    #[cfg(feature = "testing")]
    pub fn cache_transactions(&self) -> u64 {
        self.shared.probes.cache_transactions.get()
    }

    /// `last_seen_rev` of the newest state the cache holds.
    #[cfg(feature = "testing")]
    pub fn persisted_rev(&self) -> u64 {
        self.shared.probes.persisted_rev.get()
    }

    /// How many states have been published (each is at most one render).
    #[cfg(feature = "testing")]
    pub fn publications(&self) -> u64 {
        self.shared.probes.publications.get()
    }

    /// The latest state.
    #[cfg(feature = "testing")]
    pub fn state(&self) -> Rc<RoomState> {
        Rc::clone(&self.shared.state.borrow())
    }

    /// Calls `listener` with every new state.
    pub fn subscribe(&self, listener: impl Fn(Rc<RoomState>) + 'static) {
        self.shared.listeners.borrow_mut().push(Rc::new(listener));
    }

    /// How many connection attempts this session has made (the core's
    /// count, mirrored after every input).
    #[cfg(feature = "testing")]
    pub fn attempts(&self) -> u32 {
        self.shared.probes.attempts.get()
    }

    /// Carries out what the person asked for.
    pub fn apply(&self, intent: crate::intent::Intent) {
        let _ = self.inputs.unbounded_send(Input::from(intent));
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closing the channel ends the shell's loop, which drops the socket
        // and the event listeners.
        self.inputs.close_channel();
    }
}

struct Shell {
    core: SessionCore,
    url: String,
    socket: Option<Socket>,
    /// The socket opened at start, while the cache was read, until the
    /// first attempt takes it.
    early: Option<Socket>,
    shared: Rc<Shared>,
    /// New states for the persister.
    persist: UnboundedSender<Rc<RoomState>>,
    /// The persister's failures; `None` once the persister has stopped.
    cache_failures: Option<UnboundedReceiver<CacheError>>,
    /// The localStorage key of the drafts' `pagehide` copy and what this
    /// page decides about it; `None` for a memory-only session.
    unload: Option<(String, Rc<RefCell<UnloadCopy>>)>,
    /// When states are published.
    publisher: Publisher,
}

/// Opens the cache, paints what it holds, then runs the shell.
async fn run(
    config: SessionConfig,
    shared: Rc<Shared>,
    inputs: UnboundedReceiver<Input>,
    tx: UnboundedSender<Input>,
) {
    mark_once(marks::SESSION_START);
    // The first attempt's socket starts opening now, while the cache is
    // read: the connection is made meanwhile, and `hello`, which needs the
    // cached revision, goes out once the core has it and asks to connect.
    // The hub sends nothing before `hello`, so nothing it says can be
    // applied before the cached state.
    let early = config
        .token
        .as_ref()
        .and_then(|token| Socket::open(&config.url, token).ok());
    if early.is_some() {
        mark_once(marks::SOCKET_CREATED);
    }
    let (cache, mut trouble): (Rc<dyn RoomCache>, Option<CacheError>) = match &config.cache {
        CacheChoice::Memory => (Rc::new(MemoryCache::new()), None),
        CacheChoice::IndexedDb { room_id, options } => {
            match IndexedDbCache::open(room_id, *options).await {
                Ok(db) => (Rc::new(db), None),
                Err(e) => (Rc::new(MemoryCache::new()), Some(e)),
            }
        }
    };
    mark_once(marks::CACHE_OPENED);
    let mut cached = match cache.load().await {
        Ok(cached) => cached,
        Err(e) => {
            trouble = Some(e);
            CachedRoom::default()
        }
    };
    let cache: Rc<dyn RoomCache> = if trouble.is_some() && cache.kind() != CacheKind::Memory {
        Rc::new(MemoryCache::new())
    } else {
        cache
    };
    let unload_key = match &config.cache {
        CacheChoice::IndexedDb { room_id, .. } => Some(cache::unload_copy_key(room_id)),
        CacheChoice::Memory => None,
    };
    let stored_copy = unload_key.as_deref().and_then(local_get);
    let durable = cache.kind() == CacheKind::IndexedDb;
    let mut unload = UnloadCopy::at_load(&mut cached, stored_copy.as_deref(), durable);
    mark_once(marks::CACHE_LOADED);
    #[cfg(feature = "testing")]
    shared.probes.cache_kind.set(Some(cache.kind()));
    let seed = crate::random::random_bits();
    let mut state = RoomState {
        token: config.token,
        person: storage::person_id(),
        ..RoomState::from_cache(cached, last_profile())
    };
    // A cached room's tree on screen before the contents are read: they
    // are most of the cache's bytes. (Yew renders in a microtask, before
    // the read's answer can come back. A cache that failed holds nothing
    // to show; the core adds its notice below.)
    if trouble.is_none() && state.project.is_some() {
        shared.show(Rc::new(state.clone()));
    }
    match cache.load_contents().await {
        Ok(contents) => state.hold_cached_contents(contents),
        // The tree and drafts were read: carry on with the cache, and
        // fetch the contents again.
        Err(e) => web_sys::console::warn_1(
            &format!("room-client: cached contents unreadable ({e}); fetching them again").into(),
        ),
    }
    let mut core =
        SessionCore::new(config.options, state, seed).with_client_id(Some(storage::client_id()));
    let persisted = unload.what_the_cache_holds(core.state());
    let unload = Rc::new(RefCell::new(unload));
    if let Some(e) = trouble {
        web_sys::console::warn_1(&format!("room-client: {e}; continuing in memory").into());
        core.handle(Input::CacheFailed(e), now_ms());
    }
    let (persist_tx, persist_rx) = mpsc::unbounded();
    let (fail_tx, fail_rx) = mpsc::unbounded();
    let hooks = PersisterHooks {
        #[cfg(feature = "testing")]
        shared: Rc::clone(&shared),
        #[cfg(feature = "testing")]
        cache: Rc::clone(&cache),
        unload: unload_key.clone().map(|key| (key, Rc::clone(&unload))),
    };
    wasm_bindgen_futures::spawn_local(persister(cache, persisted, persist_rx, fail_tx, hooks));
    let mut shell = Shell {
        core,
        url: config.url,
        socket: None,
        early,
        shared: Rc::clone(&shared),
        persist: persist_tx,
        cache_failures: Some(fail_rx),
        unload: unload_key.map(|key| (key, unload)),
        publisher: Publisher::default(),
    };
    shell.publish(true);
    // One browser task before the first connection: the page renders the
    // cached state (Yew renders in microtasks) before any hub byte can
    // arrive, however fast the hub is.
    TimeoutFuture::new(0).await;
    shell.run(inputs, tx).await;
}

/// Why the loop woke up.
enum Woke {
    Input(Input),
    Socket(SocketEvent),
    PersisterStopped,
}

impl Shell {
    async fn run(mut self, mut inputs: UnboundedReceiver<Input>, tx: UnboundedSender<Input>) {
        let mut _listeners = listeners::page_listeners(&tx);
        drop(tx);
        if let Some((key, unload)) = self.unload.take() {
            let shared = Rc::clone(&self.shared);
            _listeners.extend(listeners::on_pagehide(move || {
                let state = shared.state.borrow();
                let write = unload
                    .borrow_mut()
                    .at_pagehide(&state, local_get(&key).as_deref());
                storage::write_unload_copy(&key, write);
            }));
        }
        loop {
            let deadline = match (self.core.next_deadline(), self.publisher.due_ms()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let wait = deadline.map(|at| (at - now_ms()).clamp(0.0, f64::from(u32::MAX)) as u32);
            let woke = {
                let timer = async {
                    match wait {
                        Some(ms) => TimeoutFuture::new(ms).await,
                        None => futures_util::future::pending::<()>().await,
                    }
                }
                .fuse();
                let awaiting_open = self.core.awaiting_open();
                let socket = next_socket_event(self.socket.as_mut(), awaiting_open).fuse();
                let next_input = inputs.next().fuse();
                let failure = async {
                    match self.cache_failures.as_mut() {
                        Some(failures) => failures.next().await,
                        None => futures_util::future::pending().await,
                    }
                }
                .fuse();
                futures_util::pin_mut!(timer, socket, next_input, failure);
                futures_util::select_biased! {
                    input = next_input => match input {
                        Some(input) => Woke::Input(input),
                        None => break,
                    },
                    failure = failure => match failure {
                        Some(e) => Woke::Input(Input::CacheFailed(e)),
                        None => Woke::PersisterStopped,
                    },
                    event = socket => Woke::Socket(event),
                    () = timer => Woke::Input(Input::Tick),
                }
            };
            let input = match woke {
                Woke::Input(input) => Some(input),
                Woke::Socket(event) => self.socket_input(event).await,
                Woke::PersisterStopped => {
                    // Never poll a closed channel again: it would be ready
                    // forever and the loop would spin.
                    self.cache_failures = None;
                    None
                }
            };
            // The person's own actions are published at once (see
            // `Publisher`): `pagehide` copies the published state.
            let personal = matches!(input, Some(Input::Person(_)));
            if let Some(input) = input {
                self.handle(input);
            }
            // Frames already delivered are applied before anyone renders.
            while let Some(message) = self
                .socket
                .as_mut()
                .and_then(|s| s.ws.next().now_or_never())
            {
                if let Some(input) = self.socket_input(SocketEvent::from(message)).await {
                    self.handle(input);
                }
            }
            self.publish(personal);
        }
    }

    /// The core's input for a socket event. The tree is inflated here, and
    /// awaited: the frames after it wait their turn, so the core takes
    /// them in the order the hub sent them.
    async fn socket_input(&mut self, event: SocketEvent) -> Option<Input> {
        match event {
            SocketEvent::Opened => {
                mark_once(marks::SOCKET_OPEN);
                Some(Input::Opened)
            }
            SocketEvent::Text(text) => {
                mark_once(marks::FIRST_FRAME);
                Some(Input::Text(text))
            }
            SocketEvent::Bytes(bytes) => Some(Input::Tree(read_tree(bytes).await)),
            SocketEvent::Closed(code) => {
                self.socket = None;
                Some(Input::Closed { code })
            }
            SocketEvent::Nothing => None,
        }
    }

    fn handle(&mut self, input: Input) {
        let commands = self.core.handle(input, now_ms());
        #[cfg(feature = "testing")]
        self.shared.probes.attempts.set(self.core.attempts());
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
                Command::KeepClientId(id) => storage::keep_client_id(&id),
            }
        }
    }

    fn connect(&mut self) {
        self.socket = None;
        // The first attempt takes the socket opened while the cache was read.
        if let Some(early) = self.early.take() {
            self.socket = Some(early);
            return;
        }
        // The token the session started with, in its one home: the state.
        let state = self.core.state();
        let Some(token) = &state.token else { return };
        match Socket::open(&self.url, token) {
            Ok(socket) => self.socket = Some(socket),
            Err(e) => {
                // The browser's message is about the URL, never the token.
                web_sys::console::warn_1(
                    &format!("room-client: cannot open the socket: {e}").into(),
                );
                self.handle(Input::Closed { code: 1006 });
            }
        }
    }

    /// Publishes the state if the publisher says so now.
    fn publish(&mut self, personal: bool) {
        if !self
            .publisher
            .decide(self.core.changed(), personal, now_ms())
        {
            return;
        }
        self.core.take_changed();
        let state = self.core.state();
        let _ = self.persist.unbounded_send(Rc::clone(&state));
        self.shared.show(state);
    }
}
