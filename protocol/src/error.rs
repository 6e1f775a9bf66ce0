//! Errors of the protocol's pure helpers.

use thiserror::Error;

/// Why a text frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON, not an object, no string `type`, or fields that do not fit
    /// the type. The detail is serde's message, cut to a safe length.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// Well-formed JSON whose `type` this side does not know.
    #[error("unknown frame type {0:?}")]
    UnknownType(String),
}

/// Why a path from the wire was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path is empty.
    #[error("the path is empty")]
    Empty,
    /// The path is longer than [`crate::MAX_PATH_BYTES`].
    #[error("the path is longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The path has more components than [`crate::MAX_PATH_DEPTH`].
    #[error("the path is more than {max} folders and file deep")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The path starts with `/` or a drive prefix such as `C:`.
    #[error("the path must be relative")]
    Absolute,
    /// The path contains a backslash, NUL, a control character or a colon.
    #[error("the path contains a forbidden character")]
    ForbiddenCharacter,
    /// An empty, `.` or `..` component (`a//b`, `./a`, `a/../b`).
    #[error("the path has an empty, '.' or '..' component")]
    NotNormal,
    /// A component the room never shows: a dotfile, `target`, `node_modules`.
    #[error("the path is inside a hidden or ignored folder")]
    Ignored,
}
