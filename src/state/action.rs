//! Everything that can happen to a room, as the reducer takes it.

use room_protocol::{
    ErrorFrame, FileContent, LeftOut, Links, LogEntry, PeerInfo, PeerProfile, Tree, Welcome,
};

use super::{ConnectionStatus, Notice};

/// Everything that can happen to a room: what the hub and the session
/// report, and what the person asked for ([`Action::Person`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The connection changed state. Leaving `Connected` ends the current
    /// connection's sync.
    Status(ConnectionStatus),
    /// The hub's `welcome`.
    Welcome(Welcome),
    /// The hub's `welcome` to a tree-first client, with the tree (or tree
    /// delta) that followed it.
    TreeWelcome(Welcome, Tree),
    /// The hub's `file-content`: a file's content at a revision.
    Content(FileContent),
    /// Log entries (replayed, snapshot events or live), in order.
    Entries(Vec<LogEntry>),
    /// The hub's `synced`.
    Synced {
        /// The welcome's head.
        head: u64,
    },
    /// The hub's `peers`.
    Peers(Vec<PeerInfo>),
    /// The hub's `left-out`.
    LeftOut(LeftOut),
    /// The hub's `links`: the links this page may share now.
    Links(Links),
    /// The hub refused something; edits are matched by `editId`.
    HubError(ErrorFrame),
    /// What the person did to the room.
    Person(PersonAction),
    /// The session sent the draft of `path` as `edit_id`.
    Sent {
        /// The file.
        path: String,
        /// The `editId` used.
        edit_id: String,
    },
    /// Tell the person something.
    Notify(Notice),
}

/// What the person does to the room's state: every
/// [`Intent`](crate::intent::Intent) but `Retry`, which is the session's
/// business alone (the session turns one into the other).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonAction {
    /// Save `content` as the new text of `path`.
    Save {
        /// The file.
        path: String,
        /// The whole text.
        content: String,
    },
    /// Keep unsaved text of `path` as a draft.
    Type {
        /// The file.
        path: String,
        /// The whole text.
        content: String,
    },
    /// Drop the draft of `path`.
    Discard {
        /// The file.
        path: String,
    },
    /// Settle a conflict on `path` by one side.
    ResolveConflict {
        /// The file.
        path: String,
        /// Whether to keep the local text.
        keep_mine: bool,
    },
    /// Settle a conflict on `path` with `content`.
    ResolveWith {
        /// The file.
        path: String,
        /// The settled text.
        content: String,
    },
    /// Change how this person appears to others.
    SetProfile(PeerProfile),
    /// The file this tab shows.
    Open {
        /// The file.
        path: Option<String>,
    },
    /// Hide the notice at this index.
    DismissNotice(usize),
}
