//! Everything that can happen to a room, as the reducer takes it.

use room_protocol::{ErrorFrame, LogEntry, PeerInfo, Welcome};

use super::{ConnectionStatus, Notice};
use crate::intent::Intent;

/// Everything that can happen to a room: what the hub and the session
/// report, and what the person asked for ([`Action::Person`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The connection changed state. Leaving `Connected` ends the current
    /// connection's sync.
    Status(ConnectionStatus),
    /// The hub's `welcome`.
    Welcome(Welcome),
    /// Log entries (replayed, snapshot events or live), in order.
    Entries(Vec<LogEntry>),
    /// The hub's `synced`.
    Synced {
        /// The welcome's head.
        head: u64,
    },
    /// The hub's `peers`.
    Peers(Vec<PeerInfo>),
    /// The hub refused something; edits are matched by `editId`.
    HubError(ErrorFrame),
    /// What the person asked for (typing, saving, discarding, settling a
    /// conflict, their profile, dismissing a notice). [`Intent::Retry`] is
    /// the session's business and leaves the state as it is.
    Person(Intent),
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
