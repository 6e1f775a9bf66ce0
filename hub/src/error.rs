//! Errors of the hub.

use std::path::PathBuf;

use room_protocol::PathError;
use thiserror::Error;

/// Everything that can go wrong in the hub outside a single frame.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HubError {
    /// The project folder could not be read.
    #[error("cannot read the project folder {path}: {source}")]
    ProjectUnreadable {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The token file exists but could not be read or parsed. The message
    /// never contains the file's content.
    #[error("cannot use the token file {path}: {reason}")]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// Why, without any token.
        reason: String,
    },
    /// The room id given is not `[A-Za-z0-9_-]{{1,64}}`.
    #[error("invalid room id: use 1 to 64 of A-Z, a-z, 0-9, '-' and '_'")]
    InvalidRoomId,
    /// The OS random number generator failed.
    #[error("the OS random number generator failed: {0}")]
    Random(String),
    /// The folder watcher could not start.
    #[error("cannot watch the project folder: {0}")]
    Watch(String),
    /// The web app given with `--web` could not be prepared.
    #[error("cannot serve the web app in {path}: {source}")]
    WebApp {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Binding or serving the listener failed.
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
}

/// Why an edit could not be written to disk.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The path is refused by the wire rules or leaves the folder.
    #[error("{0}")]
    BadPath(#[from] PathError),
    /// The path crosses a symlink or a file where a folder is needed.
    #[error("the path {0} goes through a symlink or a file; symlinks are not followed")]
    NotPlain(String),
    /// The file system refused.
    #[error("could not write the file: {0}")]
    Io(#[from] std::io::Error),
}
