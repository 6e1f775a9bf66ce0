//! Errors of the browser client.

use thiserror::Error;

/// What can go wrong in the client outside the protocol.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The page is not running in a browser window (no `window`).
    #[error("no browser window")]
    NoWindow,
    /// The page's URL does not name a room (`/rooms/{id}/`) and no room id
    /// was given.
    #[error("the page address does not name a room")]
    NoRoomId,
    /// A browser API failed; the text is the browser's, never a token.
    #[error("browser error: {0}")]
    Browser(String),
    /// A request to the hub got no answer (the hub or the network is
    /// down).
    #[error("the hub did not answer")]
    HubUnreachable,
    /// The hub answered a request with this HTTP status (401: the link is
    /// not valid any more; 403: only the host may do that).
    #[error("the hub answered {0}")]
    HubStatus(u16),
    /// The hub's answer was not what this version expects.
    #[error("unexpected answer from the hub: {0}")]
    HubAnswer(String),
}

/// Why the room cache could not be used. Every variant leaves the room
/// working from memory.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CacheError {
    /// IndexedDB is missing or refused to open (private modes, disabled
    /// storage, a newer schema from another tab).
    #[error("offline storage is unavailable: {0}")]
    Unavailable(String),
    /// Another tab holds an old version of the database open and did not
    /// let go in time.
    #[error("offline storage is blocked by another tab")]
    Blocked,
    /// The browser's storage quota is exhausted.
    #[error("offline storage is full")]
    QuotaExceeded,
    /// The browser refused to commit a write whose every request had
    /// succeeded. Its reason (a `QuotaExceededError` from the quota check at
    /// commit, or a disk error) sits on the transaction, which rexie does
    /// not expose; in practice the disk or the site's quota is full.
    #[error("offline storage refused to save (the disk or this site's storage quota may be full)")]
    CommitRefused,
    /// The connection was closed under the page (another tab upgraded or
    /// deleted the database, or the browser dropped it, as Safari does for
    /// pages in the background); the cache reopens it once before giving
    /// up.
    #[error("offline storage lost its connection")]
    Closed,
    /// A read or write failed. (A stored record this version cannot read
    /// is not an error: it is skipped, and a draft keeps its text.)
    #[error("offline storage failed: {0}")]
    Failed(String),
}
