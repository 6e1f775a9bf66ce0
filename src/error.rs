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
}
