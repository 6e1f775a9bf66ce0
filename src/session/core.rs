//! The session as a pure state machine: inputs (socket events, timer
//! ticks, browser events, the person's actions) go in with the current
//! time, commands for the shell (connect, send, disconnect) come out. The
//! browser shell in `browser.rs` only executes them, so everything here is
//! tested natively with a fake clock.

use std::rc::Rc;

use room_protocol::{
    decode_server_frame, encode, ClientFrame, DecodeError, FileEdit, Hello, LogEntry, Ping,
    Presence, ServerFrame, SyncMode, Tree, Welcome,
};

use super::fetch::ContentFetch;
use super::throttle::Throttle;
use crate::cache::as_javascript_numbers;
use crate::error::CacheError;
use crate::intent::Intent;
use crate::options::SessionOptions;
use crate::random::{mint_id, TWO_TO_THE_52};
use crate::reconnect::{classify_close, CloseClass, Decision, ReconnectPolicy};
use crate::state::{Action, ConnectionStatus, Notice, PersonAction, RoomState};

/// Something that happened, fed to [`SessionCore::handle`].
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A token is available: make the first connection.
    Start,
    /// No token could be found: stop in `NeedsToken`.
    NoToken,
    /// The socket opened.
    Opened,
    /// A text frame arrived.
    Text(String),
    /// The binary frame after a tree-first `welcome`, inflated and read
    /// by the shell (`Err`: it could not be, and why).
    Tree(Result<Tree, String>),
    /// The socket closed (or failed) with this code; 1006 when the
    /// browser gives none.
    Closed {
        /// The close code.
        code: u16,
    },
    /// Time passed: check timers.
    Tick,
    /// The browser reports it is online again.
    Online,
    /// The tab became visible.
    Visible,
    /// The page is going into the back-forward cache (`pagehide` with
    /// `persisted`): its socket is closed cleanly, so every engine may keep
    /// the page, and the session rests until [`Input::PageShown`].
    PageHidden,
    /// The page came back from the back-forward cache (`pageshow` with
    /// `persisted`): it connects at once, and its `hello` asks for what
    /// happened since the revision it holds.
    PageShown,
    /// The person pressed Retry.
    Retry,
    /// The person did something to the room (type, save, discard, …).
    Person(PersonAction),
    /// The cache could not be opened, read or written: the room carries
    /// on in memory, and the person is told why.
    CacheFailed(CacheError),
}

impl From<Intent> for Input {
    /// What the person asked for, as the core takes it: a retry is the
    /// session's alone, the rest changes the room's state.
    fn from(intent: Intent) -> Self {
        let action = match intent {
            Intent::Retry => return Input::Retry,
            Intent::Save { path, content } => PersonAction::Save { path, content },
            Intent::Type { path, content } => PersonAction::Type { path, content },
            Intent::Discard { path } => PersonAction::Discard { path },
            Intent::ResolveConflict { path, keep_mine } => {
                PersonAction::ResolveConflict { path, keep_mine }
            }
            Intent::ResolveWith { path, content } => PersonAction::ResolveWith { path, content },
            Intent::SetProfile(profile) => PersonAction::SetProfile(profile),
            Intent::Open { path } => PersonAction::Open { path },
            Intent::DismissNotice(index) => PersonAction::DismissNotice(index),
        };
        Input::Person(action)
    }
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Open a new socket (dropping any old one).
    Connect,
    /// Send this text frame on the open socket.
    Send(String),
    /// Close and drop the socket: it is dead or finished.
    Disconnect,
    /// Write this to the console. Never contains a token or file content.
    Log(String),
    /// Keep this as the tab's client id from now on (sessionStorage): the
    /// hub said another tab has the old one.
    KeepClientId(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Not started, or stopped for good (a terminal status).
    Idle,
    /// Gave up after the reconnect window; a retry (the person's, or the
    /// browser coming online) starts a new window.
    Lost,
    /// A socket is being opened.
    Connecting,
    /// Open; `hello` sent, waiting for `welcome` and `synced`.
    Joining,
    /// Synced; live.
    Live,
    /// Waiting to retry at this time.
    Waiting { at_ms: f64 },
    /// In the back-forward cache: no socket, no timer, until the page is
    /// shown again.
    Suspended,
}

/// The session's brain. See the module docs.
#[derive(Debug)]
pub struct SessionCore {
    options: SessionOptions,
    policy: ReconnectPolicy,
    state: Rc<RoomState>,
    phase: Phase,
    /// When anything was last heard on the current socket (or when the
    /// attempt started).
    last_heard_ms: f64,
    next_ping_ms: f64,
    edit_prefix: String,
    edit_seq: u64,
    random: XorShift,
    changed: bool,
    /// Connection attempts made, for the project's tests (absent from a
    /// build without feature `testing`).
    #[cfg(any(test, feature = "testing"))]
    attempts: u32,
    /// The open file the hub was last told of on this connection.
    presence_sent: Option<String>,
    /// At most one `presence` per [`PRESENCE_EVERY_MS`].
    presence_throttle: Throttle,
    /// This tab's client id, sent in every `hello` (see
    /// [`SessionCore::with_client_id`]).
    client_id: Option<String>,
    /// A tree-first `welcome` waiting for the tree that follows it.
    pending_welcome: Option<Welcome>,
    /// The contents asked for on this connection.
    fetch: ContentFetch,
}

/// The least time between two `presence` frames: a person clicking through
/// files sends one for where they stop, not one per click.
pub const PRESENCE_EVERY_MS: f64 = 250.0;

impl SessionCore {
    /// A session over `state` (possibly loaded from the cache). `seed`
    /// makes edit ids unique per page load and drives jitter.
    pub fn new(options: SessionOptions, state: RoomState, seed: u64) -> Self {
        let policy = ReconnectPolicy::new(options.reconnect);
        Self {
            options,
            policy,
            state: Rc::new(state),
            phase: Phase::Idle,
            last_heard_ms: 0.0,
            next_ping_ms: 0.0,
            edit_prefix: format!("{seed:x}"),
            edit_seq: 0,
            random: XorShift::new(seed),
            changed: true,
            #[cfg(any(test, feature = "testing"))]
            attempts: 0,
            presence_sent: None,
            presence_throttle: Throttle::new(PRESENCE_EVERY_MS),
            client_id: None,
            pending_welcome: None,
            fetch: ContentFetch::default(),
        }
    }

    /// Sends `client_id` in every `hello`: the same for each connection of
    /// this tab, so a reconnect after a silent drop replaces the dead
    /// connection at the hub instead of showing the person twice.
    pub fn with_client_id(mut self, client_id: Option<String>) -> Self {
        self.client_id = client_id;
        self
    }

    /// The tab's client id.
    #[cfg(test)]
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The current state. Cheap: shares the state until the next change.
    pub fn state(&self) -> Rc<RoomState> {
        Rc::clone(&self.state)
    }

    /// Whether the state changed since [`Self::take_changed`] was last
    /// called.
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Whether the state changed since the last call.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// How many sockets have been opened.
    #[cfg(any(test, feature = "testing"))]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether a socket is being opened: the shell waits for it to open
    /// before reading from it.
    pub fn awaiting_open(&self) -> bool {
        self.phase == Phase::Connecting
    }

    /// The next moment [`Input::Tick`] has something to do, if any.
    pub fn next_deadline(&self) -> Option<f64> {
        let dead = self.last_heard_ms + self.options.dead_after_ms;
        match self.phase {
            Phase::Idle | Phase::Lost | Phase::Suspended => None,
            Phase::Waiting { at_ms } => Some(at_ms),
            Phase::Connecting => Some(
                self.policy
                    .attempt_deadline_ms()
                    .map_or(dead, |given_up| dead.min(given_up)),
            ),
            Phase::Joining => Some(dead.min(self.next_ping_ms)),
            Phase::Live => {
                let next = dead.min(self.next_ping_ms);
                let due = self.presence_throttle.due_ms();
                Some(due.map_or(next, |due| next.min(due)))
            }
        }
    }

    /// Handles one input at time `now_ms` (any monotonic clock in ms).
    pub fn handle(&mut self, input: Input, now_ms: f64) -> Vec<Command> {
        let mut out = Vec::new();
        match input {
            Input::Start => {
                if self.phase == Phase::Idle {
                    self.connect(now_ms, &mut out);
                }
            }
            Input::NoToken => {
                self.phase = Phase::Idle;
                self.act(Action::Status(ConnectionStatus::NeedsToken));
            }
            Input::Opened => self.on_open(now_ms, &mut out),
            Input::Text(text) => self.on_text(&text, now_ms, &mut out),
            Input::Tree(tree) => self.on_tree(tree, now_ms, &mut out),
            Input::Closed { code } => self.on_closed(code, now_ms, &mut out),
            Input::Tick => self.on_tick(now_ms, &mut out),
            // The phase alone says what a retry means.
            Input::Online | Input::Visible | Input::Retry => match self.phase {
                Phase::Waiting { .. } => self.connect(now_ms, &mut out),
                Phase::Lost if input != Input::Visible => {
                    self.policy.rearm(now_ms);
                    self.connect(now_ms, &mut out);
                }
                _ => {}
            },
            Input::PageHidden => self.suspend(&mut out),
            Input::PageShown => {
                if self.phase == Phase::Suspended {
                    // Time spent in the cache was no outage: a fresh
                    // schedule, as for a page just opened.
                    self.policy = ReconnectPolicy::new(self.options.reconnect);
                    self.connect(now_ms, &mut out);
                }
            }
            Input::Person(action) => self.on_person(action, now_ms, &mut out),
            Input::CacheFailed(error) => self.act(Action::Notify(Notice::StorageFallback {
                reason: error.to_string(),
            })),
        }
        out
    }

    fn act(&mut self, action: Action) {
        Rc::make_mut(&mut self.state).apply(action);
        self.changed = true;
    }

    fn connect(&mut self, now_ms: f64, out: &mut Vec<Command>) {
        self.phase = Phase::Connecting;
        self.pending_welcome = None;
        self.fetch.reset();
        self.last_heard_ms = now_ms;
        #[cfg(any(test, feature = "testing"))]
        {
            self.attempts += 1;
        }
        let status = if self.policy.lost_at_ms().is_some() {
            ConnectionStatus::Reconnecting {
                attempt: self.policy.retries().max(1),
                next_retry_at: None,
            }
        } else {
            ConnectionStatus::Connecting
        };
        if self.state.status != status {
            self.act(Action::Status(status));
        }
        out.push(Command::Connect);
    }

    fn on_open(&mut self, now_ms: f64, out: &mut Vec<Command>) {
        if self.phase != Phase::Connecting {
            return;
        }
        self.phase = Phase::Joining;
        self.last_heard_ms = now_ms;
        self.next_ping_ms = now_ms + self.options.ping_every_ms;
        let state = &self.state;
        let hello = Hello {
            last_seen_rev: state.project.as_ref().map(|_| state.last_seen_rev),
            project_id: state.project.as_ref().map(|p| p.id.clone()),
            project_rev: state.project.as_ref().map(|p| p.rev),
            peer: state.profile.clone(),
            person: state.person.clone(),
            open: state.open.clone(),
            client_id: self.client_id.clone(),
        };
        // The hello tells the hub which file is open.
        self.presence_sent = state.open.clone();
        self.presence_throttle.acted(now_ms);
        out.push(Command::Send(encode(&ClientFrame::Hello(hello))));
    }

    fn on_text(&mut self, text: &str, now_ms: f64, out: &mut Vec<Command>) {
        if !matches!(self.phase, Phase::Joining | Phase::Live) {
            return;
        }
        self.last_heard_ms = now_ms;
        if self.pending_welcome.is_some() {
            // The tree must come next; a hub that sends anything else
            // broke the protocol, and this connection is useless.
            self.drop_connection(
                "the hub sent a text frame where the tree belongs",
                now_ms,
                out,
            );
            return;
        }
        let frame = match decode_server_frame(text) {
            Ok(frame) => frame,
            // Never log the frame or serde's detail: a frame can carry a
            // token (`readOnlyToken`) or file content.
            Err(DecodeError::UnknownType(kind)) => {
                out.push(Command::Log(format!(
                    "skipped a frame of unknown type {kind:?} from the hub"
                )));
                return;
            }
            Err(_) => {
                out.push(Command::Log(format!(
                    "skipped a malformed frame from the hub ({} bytes)",
                    text.len()
                )));
                return;
            }
        };
        match frame {
            // Its tree follows as the next frame: the two are one step.
            ServerFrame::Welcome(welcome) if welcome.mode == SyncMode::Snapshot => {
                self.pending_welcome = Some(welcome);
            }
            ServerFrame::Welcome(welcome) => self.act(Action::Welcome(welcome)),
            ServerFrame::FileContent(answer) => {
                if self.fetch.answered(&answer) {
                    self.act(Action::Content(answer));
                }
                self.fetch_contents(out);
            }
            ServerFrame::FileChanged(_) | ServerFrame::RuntimeEvent(_) => {
                if let Some(mut entry) = frame.as_log_entry() {
                    if let LogEntry::RuntimeEvent(event) = &mut entry {
                        as_javascript_numbers(&mut event.data);
                    }
                    self.act(Action::Entries(vec![entry]));
                }
                // An acknowledgement or a merge may have queued a draft.
                self.send_queued_if_live(out);
            }
            ServerFrame::Synced(synced) => {
                self.act(Action::Synced { head: synced.head });
                self.policy.on_synced();
                self.phase = Phase::Live;
                self.send_drafts(out);
                // A file opened while joining.
                self.send_presence(now_ms, out);
                self.fetch_contents(out);
            }
            ServerFrame::Peers(peers) => self.act(Action::Peers(peers.peers)),
            ServerFrame::LeftOut(left_out) => self.act(Action::LeftOut(left_out)),
            ServerFrame::Links(links) => self.act(Action::Links(links)),
            ServerFrame::Pong(_) => {}
            ServerFrame::Error(error) => {
                if error.edit_id.is_none() {
                    out.push(Command::Log(format!(
                        "the hub reported {}: {}",
                        error.error.as_str(),
                        error.message
                    )));
                }
                let refused = error.edit_id.clone();
                self.act(Action::HubError(error));
                // A refused edit merged onto the hub's version goes again,
                // and one still in flight after its refusal (moved onto
                // the hub's revision as it was) goes again under its id.
                if self.phase == Phase::Live {
                    let again = refused.and_then(|id| self.state.in_flight_path(&id));
                    if let Some(path) = again {
                        self.send_draft(&path, out);
                    }
                    self.send_queued(out);
                }
            }
            _ => out.push(Command::Log(
                "skipped a frame this client does not handle".into(),
            )),
        }
    }

    fn on_closed(&mut self, code: u16, now_ms: f64, out: &mut Vec<Command>) {
        if matches!(
            self.phase,
            Phase::Idle | Phase::Lost | Phase::Waiting { .. } | Phase::Suspended
        ) {
            return;
        }
        let terminal = match classify_close(code) {
            CloseClass::Unauthorized => Some(ConnectionStatus::Unauthorized),
            CloseClass::LinkReplaced => Some(ConnectionStatus::LinkReplaced),
            CloseClass::RoomGone => Some(ConnectionStatus::RoomGone),
            CloseClass::ProtocolError => Some(ConnectionStatus::ProtocolError),
            CloseClass::Replaced => {
                // Another live tab has this id (a duplicated tab copies
                // sessionStorage). This one takes a new id, so the two
                // never replace each other again.
                let random = &mut self.random;
                let id = mint_id(|| (random.next_unit() * TWO_TO_THE_52) as u64);
                out.push(Command::Log(
                    "another tab had this tab's client id; reconnecting under a new one".into(),
                ));
                out.push(Command::KeepClientId(id.clone()));
                self.client_id = Some(id);
                None
            }
            CloseClass::Retry => None,
        };
        match terminal {
            Some(status) => {
                self.phase = Phase::Idle;
                out.push(Command::Log(format!(
                    "the hub closed the connection with {code}"
                )));
                self.act(Action::Status(status));
            }
            None => self.fail(now_ms),
        }
    }

    /// The current socket or attempt failed: schedule the next or give up.
    fn fail(&mut self, now_ms: f64) {
        let random = self.random.next_unit();
        match self.policy.on_failure(now_ms, random) {
            Decision::Wait { attempt, at_ms, .. } => {
                self.phase = Phase::Waiting { at_ms };
                self.act(Action::Status(ConnectionStatus::Reconnecting {
                    attempt,
                    next_retry_at: Some(at_ms),
                }));
            }
            Decision::GiveUp => self.give_up(),
        }
    }

    /// The reconnect window closed: "Lost" until a retry.
    fn give_up(&mut self) {
        self.phase = Phase::Lost;
        self.act(Action::Status(ConnectionStatus::Lost));
    }

    /// The page goes into the back-forward cache. A session that has
    /// stopped (no token, a terminal close, given up) stays as it is.
    fn suspend(&mut self, out: &mut Vec<Command>) {
        if matches!(self.phase, Phase::Idle | Phase::Lost | Phase::Suspended) {
            return;
        }
        out.push(Command::Disconnect);
        self.phase = Phase::Suspended;
        self.pending_welcome = None;
        self.fetch.reset();
    }

    fn on_tick(&mut self, now_ms: f64, out: &mut Vec<Command>) {
        match self.phase {
            Phase::Idle | Phase::Lost | Phase::Suspended => {}
            Phase::Waiting { at_ms } => {
                if now_ms >= at_ms {
                    self.connect(now_ms, out);
                }
            }
            Phase::Connecting
                if self
                    .policy
                    .attempt_deadline_ms()
                    .is_some_and(|deadline| now_ms >= deadline) =>
            {
                // The window closed while this attempt was under way.
                out.push(Command::Log(
                    "the last reconnect attempt did not open in time; giving up".into(),
                ));
                out.push(Command::Disconnect);
                self.give_up();
            }
            Phase::Connecting | Phase::Joining | Phase::Live => {
                if now_ms - self.last_heard_ms >= self.options.dead_after_ms {
                    // Nothing at all for the whole window: the network is
                    // gone even if the browser has not noticed.
                    out.push(Command::Log(format!(
                        "no frame for {} ms; treating the connection as dead",
                        (now_ms - self.last_heard_ms) as u64
                    )));
                    out.push(Command::Disconnect);
                    // The link died when it fell silent, not when the timer
                    // noticed: the give-up window counts from then.
                    self.policy.lost_since(self.last_heard_ms);
                    self.fail(now_ms);
                } else if self.phase != Phase::Connecting && now_ms >= self.next_ping_ms {
                    self.next_ping_ms = now_ms + self.options.ping_every_ms;
                    out.push(Command::Send(encode(&ClientFrame::Ping(Ping {
                        t: now_ms,
                    }))));
                }
                if self
                    .presence_throttle
                    .due_ms()
                    .is_some_and(|due| now_ms >= due)
                {
                    self.send_presence(now_ms, out);
                }
            }
        }
    }

    fn on_person(&mut self, action: PersonAction, now_ms: f64, out: &mut Vec<Command>) {
        let profile = match &action {
            PersonAction::SetProfile(p) => Some(p.clone()),
            _ => None,
        };
        self.act(Action::Person(action));
        if self.phase != Phase::Live {
            return;
        }
        if let Some(profile) = profile {
            out.push(Command::Send(encode(&ClientFrame::PeerUpdate(profile))));
        }
        self.send_presence(now_ms, out);
        self.send_queued(out);
        self.fetch_contents(out);
    }

    /// The tree that followed a tree-first `welcome`: the two are applied
    /// together, so the page never shows a welcome without its files.
    fn on_tree(&mut self, tree: Result<Tree, String>, now_ms: f64, out: &mut Vec<Command>) {
        if !matches!(self.phase, Phase::Joining | Phase::Live) {
            return;
        }
        self.last_heard_ms = now_ms;
        let Some(welcome) = self.pending_welcome.take() else {
            out.push(Command::Log(
                "skipped a binary frame the hub sent without a welcome".into(),
            ));
            return;
        };
        match tree {
            Ok(tree) => self.act(Action::TreeWelcome(welcome, tree)),
            Err(why) => {
                self.drop_connection(&format!("could not read the tree: {why}"), now_ms, out)
            }
        }
    }

    /// Closes a connection that cannot go on and tries again.
    fn drop_connection(&mut self, why: &str, now_ms: f64, out: &mut Vec<Command>) {
        out.push(Command::Log(format!("{why}; reconnecting")));
        out.push(Command::Disconnect);
        self.pending_welcome = None;
        self.fetch.reset();
        self.fail(now_ms);
    }

    /// While live: asks for the contents the page needs next (the open
    /// file, then the background within the prefetch budget).
    fn fetch_contents(&mut self, out: &mut Vec<Command>) {
        if self.phase != Phase::Live {
            return;
        }
        for request in self.fetch.next(&self.state, self.options.prefetch_bytes) {
            out.push(Command::Send(encode(&ClientFrame::FileRequest(request))));
        }
    }

    /// While live: tells the hub the open file if it changed, at most once
    /// per [`PRESENCE_EVERY_MS`] (a later one waits for its deadline).
    fn send_presence(&mut self, now_ms: f64, out: &mut Vec<Command>) {
        let pending = self.phase == Phase::Live && self.state.open != self.presence_sent;
        if !self.presence_throttle.ready(pending, false, now_ms) {
            return;
        }
        self.presence_sent = self.state.open.clone();
        let presence = Presence {
            open: self.presence_sent.clone(),
        };
        out.push(Command::Send(encode(&ClientFrame::Presence(presence))));
    }

    /// After `synced`: every draft that was saved, including those sent on
    /// a connection that died before their acknowledgement.
    fn send_drafts(&mut self, out: &mut Vec<Command>) {
        for path in self.state.drafts_to_send() {
            self.send_draft(&path, out);
        }
    }

    fn send_queued_if_live(&mut self, out: &mut Vec<Command>) {
        if self.phase == Phase::Live {
            self.send_queued(out);
        }
    }

    /// While live: drafts saved since the last send.
    fn send_queued(&mut self, out: &mut Vec<Command>) {
        let queued: Vec<String> = self
            .state
            .drafts
            .iter()
            .filter(|(_, d)| d.status == crate::state::DraftStatus::Queued)
            .map(|(p, _)| p.clone())
            .collect();
        for path in queued {
            self.send_draft(&path, out);
        }
    }

    fn send_draft(&mut self, path: &str, out: &mut Vec<Command>) {
        let Some(draft) = self.state.drafts.get(path) else {
            return;
        };
        let (edit_id, content) = match &draft.status {
            // A resend keeps its id, so a late acknowledgement still
            // matches, and its text: what was typed since waits for it.
            crate::state::DraftStatus::InFlight { edit_id, sent, .. } => (
                edit_id.clone(),
                sent.as_ref().unwrap_or(&draft.content).clone(),
            ),
            _ => {
                self.edit_seq += 1;
                (
                    format!("{}-{}", self.edit_prefix, self.edit_seq),
                    draft.content.clone(),
                )
            }
        };
        let frame = ClientFrame::FileEdit(FileEdit {
            edit_id: edit_id.clone(),
            path: path.to_owned(),
            content,
            base_rev: draft.base_rev,
            base_project: draft.base_project.clone(),
        });
        out.push(Command::Send(encode(&frame)));
        self.act(Action::Sent {
            path: path.to_owned(),
            edit_id,
        });
    }
}

/// A tiny deterministic generator for jitter: no dependency, and tests can
/// seed it.
#[derive(Debug, Clone)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1_u64 << 53) as f64
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "own_edits_tests.rs"]
mod own_edits_tests;
