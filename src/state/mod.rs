//! The room as the page sees it: a pure reducer over actions (what the hub
//! and the session report, and the person's intents). No timers, sockets
//! or storage: the session feeds it frames and the UI reads it.

use std::collections::VecDeque;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use room_protocol::{
    ErrorCode, ErrorFrame, FileChanged, FileVersion, LogEntry, PeerInfo, PeerProfile,
    ProjectVersion, RuntimeEvent, SyncMode, Welcome, MAX_CONTENT_BYTES, SNAPSHOT_EVENT_LIMIT,
};

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq)]
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
            Self::Unauthorized | Self::RoomGone | Self::NeedsToken | Self::ProtocolError
        )
    }
}

/// A file as last confirmed by the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Its content; shared so snapshots of the state are cheap.
    pub content: Rc<str>,
    /// The `rev` of the change that produced it (0: on disk at hub start).
    pub rev: u64,
    /// The `peerId` that made that change, when this page saw it happen
    /// (`None` for a change on disk, or one loaded from a snapshot or the
    /// cache).
    pub by: Option<String>,
}

impl FileEntry {
    /// A file table from `(path, content, rev)` triples.
    pub(crate) fn table(
        files: impl IntoIterator<Item = (String, String, u64)>,
    ) -> PathMap<FileEntry> {
        let mut table = PathMap::new();
        for (path, content, rev) in files {
            let entry = FileEntry {
                content: content.into(),
                rev,
                by: None,
            };
            table.insert(path, entry);
        }
        table
    }
}

/// Where a local edit stands. Stored in the cache as `{"state": …}` plus
/// the variant's fields; a state this version cannot read comes back as
/// [`DraftStatus::Editing`], so the text is kept and nothing is sent
/// until the person saves it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "state",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum DraftStatus {
    /// Typed but not saved yet.
    Editing,
    /// Saved; waits for a connection to send it.
    Queued,
    /// Sent as `edit_id`; waits for its acknowledgement. One edit per file
    /// is in flight at a time: what the person types or saves meanwhile
    /// waits for the answer, and goes on top of it.
    InFlight {
        /// The `editId` it was sent with.
        edit_id: String,
        /// The text that was sent, once the draft has moved on from it
        /// (`None`: the draft's content is what was sent).
        #[serde(skip_serializing_if = "Option::is_none")]
        sent: Option<String>,
        /// Whether the person saved again since: the newer text is sent
        /// once this edit is answered.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        saved_since: bool,
    },
    /// The hub refused it: this connection is read-only.
    ReadOnly,
    /// The file changed since `base_rev`; `theirs` is the hub's version.
    Conflict {
        /// The hub's current version.
        theirs: FileVersion,
    },
    /// Over the content limit; never sent.
    TooLarge,
    /// Refused for another reason (`bad-path`, `write-failed`, …).
    Refused {
        /// The error code.
        code: ErrorCode,
        /// The hub's sentence.
        message: String,
    },
}

/// The stored form of a [`DraftStatus`], read field by field. By hand
/// because serde's derived reader for internally tagged enums buffers the
/// whole value first and costs the browser bundle 9 KB.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredStatus {
    state: String,
    edit_id: Option<String>,
    sent: Option<String>,
    saved_since: Option<bool>,
    theirs: Option<FileVersion>,
    code: Option<ErrorCode>,
    message: Option<String>,
}

impl<'de> Deserialize<'de> for DraftStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let StoredStatus {
            state,
            edit_id,
            sent,
            saved_since,
            theirs,
            code,
            message,
        } = StoredStatus::deserialize(deserializer)?;
        Ok(match (state.as_str(), edit_id, theirs, code) {
            ("queued", ..) => Self::Queued,
            ("in-flight", Some(edit_id), ..) => Self::InFlight {
                edit_id,
                sent,
                saved_since: saved_since.unwrap_or(false),
            },
            ("read-only", ..) => Self::ReadOnly,
            ("conflict", _, Some(theirs), _) => Self::Conflict { theirs },
            ("too-large", ..) => Self::TooLarge,
            ("refused", _, _, Some(code)) => Self::Refused {
                code,
                message: message.unwrap_or_default(),
            },
            _ => Self::Editing,
        })
    }
}

/// A local edit that the hub has not acknowledged. Drafts survive
/// reconnects and are never dropped except by acknowledgement or discard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    /// The text as the person left it.
    pub content: String,
    /// The file's `rev` the edit started from.
    pub base_rev: u64,
    /// The file's text at `base_rev`, which a newer version is merged
    /// against. `None` for drafts stored before bases were kept: those
    /// are not merged, and a conflict offers a choice of sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Where it stands.
    pub status: DraftStatus,
}

impl Draft {
    /// Whether the session should send it on the next `synced`.
    pub fn wants_sending(&self) -> bool {
        matches!(
            self.status,
            DraftStatus::Queued | DraftStatus::InFlight { .. }
        )
    }

    /// Whether the person asked for this text to be saved (and not only
    /// typed it).
    fn saved(&self) -> bool {
        matches!(
            self.status,
            DraftStatus::Queued | DraftStatus::InFlight { .. } | DraftStatus::Conflict { .. }
        )
    }

    /// The conflict between this draft and the version it is in conflict
    /// with, hunk by hunk (`None` when it is not in conflict). A draft
    /// without a base (stored by an earlier build), or too large to merge,
    /// is one hunk: the two whole texts.
    pub fn conflict_chunks(&self) -> Option<Vec<crate::merge::Chunk>> {
        use crate::merge::{merge, Chunk, Merged};
        let DraftStatus::Conflict { theirs } = &self.status else {
            return None;
        };
        let merged = self
            .base
            .as_deref()
            .map(|base| merge(base, &self.content, &theirs.content));
        Some(match merged {
            Some(Merged::Conflicts(chunks)) => chunks,
            _ => vec![Chunk::Conflict {
                mine: self.content.clone(),
                theirs: theirs.content.clone(),
            }],
        })
    }

    /// While an edit is in flight the person moves on: `content` becomes
    /// the draft, the text that was sent is kept beside it, and with
    /// `saved` it goes once the edit is answered. Nothing for other states.
    fn supersede_in_flight(&mut self, content: String, saved: bool) {
        if let DraftStatus::InFlight {
            sent, saved_since, ..
        } = &mut self.status
        {
            let before = std::mem::replace(&mut self.content, content);
            sent.get_or_insert(before);
            *saved_since |= saved;
        }
    }

    /// Our edit of `text` landed as `rev`: what the person did since stays
    /// on top of it (queued, if they saved it). Whether anything is left
    /// (`false`: the draft is exactly that text and can go).
    fn landed(&mut self, text: &str, rev: u64) -> bool {
        if self.content == text {
            return false;
        }
        let saved_since = matches!(
            self.status,
            DraftStatus::InFlight {
                saved_since: true,
                ..
            }
        );
        self.status = if saved_since {
            DraftStatus::Queued
        } else {
            DraftStatus::Editing
        };
        self.base = Some(text.to_owned());
        self.base_rev = rev;
        true
    }

    /// Moves this draft onto `theirs`, a newer version of its file: what
    /// the person changed since the base is kept, on top of it.
    fn rebase(&mut self, theirs: &FileVersion) -> Rebase {
        if self.content == theirs.content {
            return Rebase::Same;
        }
        let outcome = match self.base.as_deref() {
            // The file moved (a new generation, say) but its text did not.
            Some(base) if *base == theirs.content => Rebase::Moved,
            Some(base) => match crate::merge::merge(base, &self.content, &theirs.content) {
                crate::merge::Merged::Clean(text) if text == theirs.content => Rebase::Same,
                crate::merge::Merged::Clean(text) => {
                    self.content = text;
                    Rebase::Merged
                }
                _ => return Rebase::Conflict,
            },
            None => return Rebase::Conflict,
        };
        self.base = Some(theirs.content.clone());
        self.base_rev = theirs.rev;
        outcome
    }
}

/// What became of a draft whose file moved on under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rebase {
    /// The file now holds exactly the draft's text.
    Same,
    /// Only the revision changed: the draft now builds on the new one.
    Moved,
    /// Both changes merged cleanly into the draft.
    Merged,
    /// The changes overlap (or cannot be merged).
    Conflict,
}

/// Why a draft is being moved onto a newer version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// The hub refused its edit with the file's current version.
    Refused,
    /// A newer version arrived in the log (an edit in flight waits for
    /// its own answer).
    Arrived,
    /// A snapshot replaced the files (the connection that carried any edit
    /// in flight is gone).
    Snapshot,
}

/// One person in the room: their tabs folded into one (by the person id
/// their browser sends), or a single tab that sent none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person<'a> {
    /// The name of their first tab.
    pub name: &'a str,
    /// Its colour.
    pub color: &'a str,
    /// Whether every tab of theirs is view-only.
    pub read_only: bool,
    /// Whether this is the person using this page (any of their tabs).
    pub me: bool,
    /// The files their tabs show, sorted, without repeats.
    pub open: Vec<&'a str>,
}

/// Something the page should tell the person.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// [`SNAPSHOT_EVENT_LIMIT`].
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
    /// This page's token, which the share link carries (`None` until the
    /// session has it). A secret: its `Debug` is redacted; never log
    /// [`room_protocol::Token::expose`].
    pub token: Option<room_protocol::Token>,
    /// The room's view-only token, when the hub shared it (editors only).
    pub read_only_token: Option<room_protocol::Token>,
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
            token: None,
            read_only_token: None,
            drafts: PathMap::new(),
            notices: Vec::new(),
            profile: PeerProfile::default(),
            sync_mode: None,
            epoch: 0,
            hydrated: false,
        }
    }
}

mod action;
mod path_map;
#[cfg_attr(feature = "testing", visibility::make(pub))]
pub(crate) use action::{Action, PersonAction};
pub use path_map::PathMap;

impl RoomState {
    /// Applies one action in place.
    #[cfg_attr(feature = "testing", visibility::make(pub))]
    pub(crate) fn apply(&mut self, action: Action) {
        match action {
            Action::Status(status) => self.status = status,
            Action::Welcome(welcome) => self.apply_welcome(welcome),
            Action::Entries(entries) => {
                for entry in entries {
                    self.apply_entry(entry);
                }
            }
            Action::Synced { head } => {
                // `Connected` is what having received `synced` means.
                self.last_seen_rev = self.last_seen_rev.max(head);
                self.status = ConnectionStatus::Connected;
            }
            Action::Peers(peers) => self.peers = peers,
            Action::HubError(error) => self.apply_error(error),
            Action::Sent { path, edit_id } => {
                if let Some(draft) = self.drafts.get_mut(&path) {
                    let resent = matches!(&draft.status, DraftStatus::InFlight { edit_id: id, .. } if *id == edit_id);
                    if !resent {
                        draft.status = DraftStatus::InFlight {
                            edit_id,
                            sent: None,
                            saved_since: false,
                        };
                    }
                }
            }
            Action::Person(action) => self.apply_person(action),
            Action::Notify(notice) => self.notices.push(notice),
        }
    }

    fn apply_person(&mut self, action: PersonAction) {
        match action {
            PersonAction::Type { path, content } => self.type_text(path, content),
            PersonAction::Save { path, content } => self.save(path, content),
            PersonAction::Discard { path } => {
                self.drafts.remove(&path);
            }
            PersonAction::ResolveConflict { path, keep_mine } => self.resolve(path, keep_mine),
            PersonAction::ResolveWith { path, content } => self.resolve_with(path, content),
            PersonAction::SetProfile(profile) => self.profile = profile,
            PersonAction::Open { path } => self.open = path,
            PersonAction::DismissNotice(index) => {
                if index < self.notices.len() {
                    self.notices.remove(index);
                }
            }
        }
    }

    /// Every path the page lists, in order, each once: the files the hub
    /// has, plus drafts of files it does not have yet.
    pub fn paths(&self) -> Vec<&String> {
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
                Some(path) => paths.push(path),
                None => return paths,
            }
        }
    }

    /// Everyone connected, one entry per person, in the order of their
    /// first tab: tabs with the same person id are one person, and this
    /// page's person is marked `me`.
    pub fn people(&self) -> Vec<Person<'_>> {
        let mut people: Vec<(Option<&str>, Person<'_>)> = Vec::new();
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
                            name: &peer.name,
                            color: &peer.color,
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
                if let Err(at) = entry.open.binary_search(&open) {
                    entry.open.insert(at, open);
                }
            }
        }
        people.into_iter().map(|(_, person)| person).collect()
    }

    /// Paths of drafts that should be (re)sent after `synced`.
    pub(crate) fn drafts_to_send(&self) -> Vec<String> {
        self.drafts
            .iter()
            .filter(|(_, d)| d.wants_sending())
            .map(|(p, _)| p.clone())
            .collect()
    }

    fn apply_welcome(&mut self, welcome: Welcome) {
        self.sync_mode = Some(welcome.mode);
        self.peer_id = Some(welcome.peer_id);
        self.peers = welcome.peers;
        self.read_only = welcome.read_only;
        self.read_only_token = welcome.read_only_token.map(room_protocol::Token::new);
        let same_project = self.project.as_ref() == Some(&welcome.project);
        if welcome.mode == SyncMode::Snapshot || !same_project {
            // A snapshot makes the state identical to a fresh client's:
            // revisions may restart (a new generation), and the events that
            // follow are the hub's newest, so what we held is replaced.
            // Drafts and the profile stay.
            self.events.clear();
            self.last_seen_rev = 0;
            self.last_event_ts = None;
            self.epoch += 1;
            self.files = FileEntry::table(
                welcome
                    .files
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| (f.path, f.content, f.rev)),
            );
            self.settle_drafts_against_files();
        }
        self.project = Some(welcome.project);
    }

    /// After a snapshot (revisions may have restarted, in a new generation)
    /// every draft is moved onto its file as the hub has it now: one whose
    /// text the hub already has was applied (its acknowledgement was lost
    /// with the old connection); one whose sent text the hub has builds on
    /// it; the others are merged.
    fn settle_drafts_against_files(&mut self) {
        let paths: Vec<String> = self.drafts.keys().cloned().collect();
        for path in paths {
            let Some(file) = self.files.get(&path) else {
                continue;
            };
            let theirs = FileVersion {
                rev: file.rev,
                content: file.content.to_string(),
            };
            if let Some(draft) = self.drafts.get_mut(&path) {
                let sent_landed = matches!(
                    &draft.status,
                    DraftStatus::InFlight { sent: Some(sent), .. } if *sent == theirs.content
                );
                // The edit landed; what came after it builds on it.
                if sent_landed && draft.landed(&theirs.content, theirs.rev) {
                    continue;
                }
            }
            self.move_draft(&path, theirs, None, Trigger::Snapshot);
        }
    }

    /// Moves the draft of `path` onto `theirs` (made by peer `by`, if
    /// known) and settles what that means: gone, merged (with a notice),
    /// or in conflict.
    fn move_draft(&mut self, path: &str, theirs: FileVersion, by: Option<&str>, trigger: Trigger) {
        let Some(draft) = self.drafts.get_mut(path) else {
            return;
        };
        let movable = match &draft.status {
            DraftStatus::Editing | DraftStatus::Queued | DraftStatus::Conflict { .. } => true,
            DraftStatus::InFlight { .. } => {
                trigger != Trigger::Arrived || draft.content == theirs.content
            }
            _ => false,
        };
        // A draft stored before bases were kept is left as it was, except
        // when its edit is refused: then the person chooses.
        if !movable
            || (draft.base.is_none()
                && trigger != Trigger::Refused
                && draft.content != theirs.content)
        {
            return;
        }
        let saved = draft.saved();
        match draft.rebase(&theirs) {
            Rebase::Same => {
                self.drafts.remove(path);
            }
            outcome @ (Rebase::Moved | Rebase::Merged) => {
                if saved {
                    draft.status = DraftStatus::Queued;
                }
                if outcome == Rebase::Merged {
                    let with = by.and_then(|id| self.peers.iter().find(|p| p.peer_id == id));
                    self.notices.push(Notice::Merged {
                        path: path.to_owned(),
                        with: with.map(|p| p.name.clone()),
                    });
                }
            }
            Rebase::Conflict => draft.status = DraftStatus::Conflict { theirs },
        }
    }

    fn apply_entry(&mut self, entry: LogEntry) {
        if entry.rev() <= self.last_seen_rev {
            return;
        }
        self.last_seen_rev = entry.rev();
        match entry {
            LogEntry::FileChanged(change) => self.apply_file_change(change),
            LogEntry::RuntimeEvent(event) => {
                self.last_event_ts = Some(event.ts);
                self.events.push_back(event);
                while self.events.len() > SNAPSHOT_EVENT_LIMIT {
                    self.events.pop_front();
                }
            }
        }
    }

    fn apply_file_change(&mut self, change: FileChanged) {
        if let Some(project) = &mut self.project {
            project.rev = change.rev;
        }
        let ours = match &change.edit_id {
            Some(edit_id) => self.acknowledge(&change.path, edit_id, &change.content, change.rev),
            None => false,
        };
        if change.deleted {
            self.files.remove(&change.path);
            return;
        }
        self.files.insert(
            change.path.clone(),
            FileEntry {
                content: change.content.as_str().into(),
                rev: change.rev,
                by: change.by.clone(),
            },
        );
        if !ours {
            let theirs = FileVersion {
                rev: change.rev,
                content: change.content,
            };
            self.move_draft(&change.path, theirs, change.by.as_deref(), Trigger::Arrived);
        }
    }

    /// Our edit `edit_id` landed as `rev`. The draft goes, unless the
    /// person typed on since sending: then the newer text stays a draft on
    /// top of the acknowledged revision (and is sent, if they saved it).
    /// Whether the change was this draft's edit.
    fn acknowledge(&mut self, path: &str, edit_id: &str, content: &str, rev: u64) -> bool {
        let Some(draft) = self.drafts.get_mut(path) else {
            return false;
        };
        let ours =
            matches!(&draft.status, DraftStatus::InFlight { edit_id: id, .. } if id == edit_id);
        if !ours {
            return false;
        }
        if !draft.landed(content, rev) {
            self.drafts.remove(path);
        }
        true
    }

    fn apply_error(&mut self, error: ErrorFrame) {
        let Some(edit_id) = error.edit_id.as_deref() else {
            return;
        };
        let Some((path, draft)) = self.drafts.iter_mut().find(
            |(_, d)| matches!(&d.status, DraftStatus::InFlight { edit_id: id, .. } if id == edit_id),
        ) else {
            return;
        };
        let path = path.clone();
        match error.error {
            ErrorCode::ReadOnly => {
                draft.status = DraftStatus::ReadOnly;
                self.notices.push(Notice::ReadOnly { path });
            }
            ErrorCode::Conflict => {
                let theirs = error.current.unwrap_or(FileVersion {
                    rev: 0,
                    content: String::new(),
                });
                // The hub already has exactly this text (our own edit,
                // whose ack was lost): nothing to resolve. Otherwise mine
                // goes on top of theirs, merged, or the person chooses.
                let by = self
                    .files
                    .get(&path)
                    .filter(|f| f.rev == theirs.rev)
                    .and_then(|f| f.by.clone());
                self.move_draft(&path, theirs, by.as_deref(), Trigger::Refused);
            }
            ErrorCode::TooLarge => {
                let bytes = draft.content.len();
                draft.status = DraftStatus::TooLarge;
                self.notices.push(Notice::TooLarge { path, bytes });
            }
            code => {
                draft.status = DraftStatus::Refused {
                    code,
                    message: error.message.clone(),
                };
                self.notices.push(Notice::EditRefused {
                    path,
                    message: error.message,
                });
            }
        }
    }

    /// A new draft of `path` with `content`, on the file as the page has
    /// it now (an absent file: an empty base at revision 0).
    fn new_draft(&self, path: &str, content: String, status: DraftStatus) -> Draft {
        let file = self.files.get(path);
        Draft {
            content,
            base_rev: file.map_or(0, |f| f.rev),
            base: Some(file.map_or_else(String::new, |f| f.content.to_string())),
            status,
        }
    }

    fn type_text(&mut self, path: String, content: String) {
        let file = self.files.get(&path);
        let Some(draft) = self.drafts.get_mut(&path) else {
            let unchanged = file.is_some_and(|f| *f.content == *content);
            if !unchanged {
                let draft = self.new_draft(&path, content, DraftStatus::Editing);
                self.drafts.insert(path, draft);
            }
            return;
        };
        let unchanged = file.is_some_and(|f| *f.content == *content && f.rev == draft.base_rev);
        match draft.status {
            // An in-flight edit keeps its status so its acknowledgement is
            // still recognised; the text that was sent is kept beside.
            DraftStatus::InFlight { .. } => draft.supersede_in_flight(content, false),
            DraftStatus::Conflict { .. } => draft.content = content,
            // Typing back to the hub's text leaves nothing to save.
            _ if unchanged => {
                self.drafts.remove(&path);
            }
            _ => {
                draft.content = content;
                draft.status = DraftStatus::Editing;
            }
        }
    }

    fn save(&mut self, path: String, content: String) {
        if content.len() > MAX_CONTENT_BYTES {
            let bytes = content.len();
            self.set_draft(path.clone(), content, DraftStatus::TooLarge);
            self.notices.push(Notice::TooLarge { path, bytes });
            return;
        }
        // One edit per file in flight: this one goes once that one is
        // answered, on top of it.
        let in_flight = self
            .drafts
            .get_mut(&path)
            .filter(|d| matches!(d.status, DraftStatus::InFlight { .. }));
        if let Some(draft) = in_flight {
            draft.supersede_in_flight(content, true);
            return;
        }
        // Even a read-only connection sends: the hub is the authority, and
        // its refusal is what the page reports.
        self.set_draft(path, content, DraftStatus::Queued);
    }

    /// Sets the draft of `path` to `content` with `status`, keeping the
    /// base it started from (or starting a new one).
    fn set_draft(&mut self, path: String, content: String, status: DraftStatus) {
        match self.drafts.get_mut(&path) {
            Some(draft) => {
                draft.content = content;
                draft.status = status;
            }
            None => {
                let draft = self.new_draft(&path, content, status);
                self.drafts.insert(path, draft);
            }
        }
    }

    fn resolve(&mut self, path: String, keep_mine: bool) {
        let Some(draft) = self.drafts.get_mut(&path) else {
            return;
        };
        let DraftStatus::Conflict { theirs } = &draft.status else {
            return;
        };
        if keep_mine {
            draft.base_rev = theirs.rev;
            draft.base = Some(theirs.content.clone());
            draft.status = DraftStatus::Queued;
        } else {
            let theirs = theirs.clone();
            self.drafts.remove(&path);
            let newer = self.files.get(&path).is_none_or(|f| f.rev < theirs.rev);
            if newer && theirs.rev > 0 {
                self.files.insert(
                    path,
                    FileEntry {
                        content: theirs.content.into(),
                        rev: theirs.rev,
                        by: None,
                    },
                );
            }
        }
    }

    /// Settles a conflict with `content` (picked hunk by hunk, or edited):
    /// it is sent on the revision of the version it was in conflict with,
    /// unless it is that version: then there is nothing to send.
    fn resolve_with(&mut self, path: String, content: String) {
        let Some(draft) = self.drafts.get_mut(&path) else {
            return;
        };
        let DraftStatus::Conflict { theirs } = &draft.status else {
            return;
        };
        if content == theirs.content {
            self.resolve(path, false);
            return;
        }
        draft.base_rev = theirs.rev;
        draft.base = Some(theirs.content.clone());
        draft.content = content;
        draft.status = DraftStatus::Queued;
    }
}

#[cfg(test)]
mod people_tests;
#[cfg(test)]
mod rebase_tests;
#[cfg(test)]
mod tests;
