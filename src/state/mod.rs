//! The room as the page sees it: [`RoomState`] and the types it shows
//! (`mod.rs`), the drafts and how they follow their files (`draft.rs`), and
//! the pure reducer over actions, what the hub and the session report and
//! what the person does (`reducer.rs`). No timers, sockets or storage: the
//! session feeds it frames and the UI reads it.

use std::collections::VecDeque;
use std::rc::Rc;

use room_protocol::{PeerInfo, PeerProfile, ProjectVersion, RuntimeEvent, SyncMode};

mod action;
mod draft;
mod path_map;
mod reducer;
mod unsaved;

#[cfg_attr(feature = "testing", visibility::make(pub))]
pub(crate) use action::{Action, PersonAction};
pub use draft::{Draft, DraftStatus};
pub use path_map::PathMap;
pub use unsaved::UnsavedChanges;

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConnectionStatus {
    /// The first connection is being made.
    Connecting,
    /// Joined and caught up (`synced` received).
    Connected,
    /// The connection dropped; retry number `attempt` starts at
    /// `next_retry_at` (ms, `performance.now()` clock), or is under way
    /// when `None`.
    Reconnecting {
        /// 1-based retry number.
        attempt: u32,
        /// When the next attempt starts, if it is waiting.
        next_retry_at: Option<f64>,
    },
    /// Retries gave up after the give-up window; `retry()` starts again.
    Lost,
    /// The hub refused the token (4401): the link is invalid or expired.
    Unauthorized,
    /// The host replaced the link this page was opened with (4410): the
    /// page stops, and keeps its drafts; the new link brings them back.
    LinkReplaced,
    /// The hub has no such room (4404).
    RoomGone,
    /// No token in the URL, this tab or any other tab.
    NeedsToken,
    /// The hub closed for a protocol violation (4400, 1009).
    ProtocolError,
}

impl ConnectionStatus {
    /// Whether the session will not retry by itself.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Unauthorized
                | Self::LinkReplaced
                | Self::RoomGone
                | Self::NeedsToken
                | Self::ProtocolError
        )
    }

    /// Whether the hub no longer takes this page's token (wrong, or
    /// replaced by the host): the page must not hand it to other tabs.
    pub fn token_refused(&self) -> bool {
        matches!(self, Self::Unauthorized | Self::LinkReplaced)
    }
}

/// A file as last confirmed by the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Its content at `rev`, once the page has it; shared so snapshots of
    /// the state are cheap. `None`: the tree lists the file, and its
    /// content at this revision has not been fetched yet.
    pub content: Option<Rc<str>>,
    /// The `rev` of the change that produced it (0: on disk at hub start).
    pub rev: u64,
    /// Its size in bytes of UTF-8, as the tree gives it (the content's
    /// length once the page has it).
    pub size: u64,
    /// The `peerId` that made that change, when this page saw it happen
    /// (`None` for a change on disk, or one loaded from a snapshot or the
    /// cache).
    pub by: Option<String>,
}

impl FileEntry {
    /// A file the page has the content of.
    pub fn with_content(content: Rc<str>, rev: u64, by: Option<String>) -> Self {
        Self {
            size: content.len() as u64,
            content: Some(content),
            rev,
            by,
        }
    }

    /// Whether the page holds this file's content as `content`.
    pub(crate) fn holds(&self, content: &str) -> bool {
        self.content.as_deref() == Some(content)
    }
}

/// One person in the room: their tabs folded into one (by the person id
/// their browser sends), or a single tab that sent none.
/// Owned, so a selector can return [`RoomState::people`] as it is
/// (`use_room_select(|room| room.state.people())`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The name of their first tab.
    pub name: String,
    /// Its colour.
    pub color: String,
    /// Whether every tab of theirs is view-only.
    pub read_only: bool,
    /// Whether this is the person using this page (any of their tabs).
    pub me: bool,
    /// The files their tabs show, sorted, without repeats.
    pub open: Vec<String>,
}

/// Something the page should tell the person.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// An edit was refused because the link is view-only.
    ReadOnly {
        /// The file.
        path: String,
    },
    /// An edit is over the size limit and was kept, not sent.
    TooLarge {
        /// The file.
        path: String,
        /// Its size in bytes.
        bytes: usize,
    },
    /// The hub refused an edit for another reason.
    EditRefused {
        /// The file.
        path: String,
        /// The hub's sentence.
        message: String,
    },
    /// A draft was merged with a newer version of its file, without a
    /// conflict.
    Merged {
        /// The file.
        path: String,
        /// The display name of whoever made the newer version, when known.
        with: Option<String>,
    },
    /// The cache could not be used; the room works from memory.
    StorageFallback {
        /// Why.
        reason: String,
    },
}

/// Everything the page shows about a room.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomState {
    /// The connection.
    pub status: ConnectionStatus,
    /// Generation and file revision the files belong to.
    pub project: Option<ProjectVersion>,
    /// Highest `rev` applied; entries at or below it are ignored.
    pub last_seen_rev: u64,
    /// `ts` of the newest runtime event applied.
    pub last_event_ts: Option<u64>,
    /// Files by path, as confirmed by the hub.
    pub files: PathMap<FileEntry>,
    /// The newest runtime events, oldest first, at most
    /// [`SNAPSHOT_EVENT_LIMIT`](room_protocol::SNAPSHOT_EVENT_LIMIT).
    pub events: VecDeque<RuntimeEvent>,
    /// Everyone connected, this peer included (one entry per tab; see
    /// [`RoomState::people`] for one per person).
    pub peers: Vec<PeerInfo>,
    /// This connection's peer id.
    pub peer_id: Option<String>,
    /// This browser's person id, the same in each of its tabs (`None`
    /// until the session has it).
    pub person: Option<String>,
    /// The file this tab shows, which others see.
    pub open: Option<String>,
    /// Whether this connection is read-only.
    pub read_only: bool,
    /// How many files the hub's file limit keeps out of the room, when it
    /// keeps any out.
    pub left_out: Option<room_protocol::LeftOut>,
    /// This page's token, which the share link carries (`None` until the
    /// session has it). A secret: its `Debug` is redacted; never log
    /// [`room_protocol::Token::expose`].
    pub token: Option<room_protocol::Token>,
    /// The room's view-only token, when the hub shared it (the host and
    /// editors, while the view link is on).
    pub read_only_token: Option<room_protocol::Token>,
    /// Whether this page holds the host link (it may replace links).
    pub host: bool,
    /// The room's edit token, which the hub gives the host's page only, so
    /// the host shares the edit link and never the host link.
    pub edit_token: Option<room_protocol::Token>,
    /// Local edits not yet acknowledged, by path.
    pub drafts: PathMap<Draft>,
    /// Messages for the person, oldest first.
    pub notices: Vec<Notice>,
    /// How this person appears to others.
    pub profile: PeerProfile,
    /// How the current connection caught up (replay or snapshot).
    pub sync_mode: Option<SyncMode>,
    /// Bumped whenever files and events are replaced wholesale (a snapshot
    /// or an eviction), so a cache knows to rewrite rather than append.
    pub epoch: u64,
    /// Whether this state was loaded from the cache (so what it shows was
    /// painted before the hub answered).
    pub hydrated: bool,
}

impl Default for RoomState {
    fn default() -> Self {
        Self {
            status: ConnectionStatus::Connecting,
            project: None,
            last_seen_rev: 0,
            last_event_ts: None,
            files: PathMap::new(),
            events: VecDeque::new(),
            peers: Vec::new(),
            peer_id: None,
            person: None,
            open: None,
            read_only: false,
            left_out: None,
            token: None,
            read_only_token: None,
            host: false,
            edit_token: None,
            drafts: PathMap::new(),
            notices: Vec::new(),
            profile: PeerProfile::default(),
            sync_mode: None,
            epoch: 0,
            hydrated: false,
        }
    }
}

impl RoomState {
    /// The token the page's room link carries: on the host's page the edit
    /// token (the host link is never shared), else the page's own; none
    /// before the hub has said which link the page holds (a page painted
    /// from its cache cannot tell the host link from an edit link yet).
    pub fn token_to_share(&self) -> Option<&room_protocol::Token> {
        self.sync_mode?;
        if self.host {
            self.edit_token.as_ref()
        } else {
            self.token.as_ref()
        }
    }

    /// Every path the page lists, in order, each once: the files the hub
    /// has, plus drafts of files it does not have yet. Owned, so a selector
    /// can return it as it is (`use_room_select(|room| room.state.paths())`).
    pub fn paths(&self) -> Vec<String> {
        self.path_list().into_iter().map(str::to_owned).collect()
    }

    /// [`Self::paths`], borrowed (the file list renders from it).
    pub(crate) fn path_list(&self) -> Vec<&str> {
        // Both maps are in path order: merge them rather than sort.
        let mut files = self.files.keys().peekable();
        let mut drafts = self.drafts.keys().peekable();
        let mut paths = Vec::with_capacity(self.files.len());
        loop {
            let next = match (files.peek(), drafts.peek()) {
                (Some(file), Some(draft)) if draft < file => drafts.next(),
                (Some(file), Some(draft)) => {
                    if draft == file {
                        drafts.next();
                    }
                    files.next()
                }
                (Some(_), None) => files.next(),
                (None, _) => drafts.next(),
            };
            match next {
                Some(path) => paths.push(path.as_str()),
                None => return paths,
            }
        }
    }

    /// Everyone connected, one entry per person, in the order of their
    /// first tab: tabs with the same person id are one person, and this
    /// page's person is marked `me`.
    // Not inlined: the top bar and the file list share one copy.
    #[inline(never)]
    pub fn people(&self) -> Vec<Person> {
        let mut people: Vec<(Option<&str>, Person)> = Vec::new();
        for peer in &self.peers {
            let me = self.peer_id.as_deref() == Some(peer.peer_id.as_str())
                || (peer.person.is_some() && peer.person == self.person);
            let person = peer.person.as_deref();
            let known = person.and_then(|id| people.iter_mut().find(|(p, _)| *p == Some(id)));
            let entry = match known {
                Some((_, entry)) => {
                    entry.read_only &= peer.read_only;
                    entry.me |= me;
                    entry
                }
                None => {
                    people.push((
                        person,
                        Person {
                            name: peer.name.clone(),
                            color: peer.color.clone(),
                            read_only: peer.read_only,
                            me,
                            open: Vec::new(),
                        },
                    ));
                    &mut people.last_mut().expect("just pushed").1
                }
            };
            if let Some(open) = peer.open.as_deref() {
                // Kept sorted by inserting in place: a sort would add its
                // code to the bundle for this one type.
                if let Err(at) = entry.open.binary_search_by(|o| o.as_str().cmp(open)) {
                    entry.open.insert(at, open.to_owned());
                }
            }
        }
        people.into_iter().map(|(_, person)| person).collect()
    }
}

#[cfg(test)]
mod people_tests;
#[cfg(test)]
mod rebase_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tree_tests;
