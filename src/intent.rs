//! What a person asks of the room. An app reaches the room only through
//! [`Intent`]s (by way of [`crate::ui::RoomHandle`]'s methods); what the
//! hub says never passes through here. This module is vocabulary only: it
//! depends on no other part of the crate.

use room_protocol::PeerProfile;

/// One thing the person asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Intent {
    /// Save `content` as the new text of `path`: sent when connected, after
    /// the next `synced` otherwise; a draft until the hub acknowledges it.
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
    /// Settle a conflict on `path`: resend mine on the hub's revision, or
    /// take theirs.
    ResolveConflict {
        /// The file.
        path: String,
        /// Whether to keep the local text.
        keep_mine: bool,
    },
    /// Settle a conflict on `path` with `content` (chosen hunk by hunk from
    /// [`crate::state::Draft::conflict_chunks`], or edited): sent on the
    /// hub's revision it was in conflict with.
    ResolveWith {
        /// The file.
        path: String,
        /// The settled text.
        content: String,
    },
    /// Change how this person appears to others.
    SetProfile(PeerProfile),
    /// Tell others which file this tab shows (`None`: none).
    Open {
        /// The file.
        path: Option<String>,
    },
    /// Hide the notice at this index.
    DismissNotice(usize),
    /// Try to reconnect now (after `Lost`, or to skip a backoff wait).
    Retry,
}
