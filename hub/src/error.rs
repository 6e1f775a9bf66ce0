//! Errors of the hub: start-up, writes to disk, and HTTP refusals.

use std::path::PathBuf;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use room_protocol::PathError;
use serde_json::json;
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
    /// The edit link can be replaced, never turned off.
    #[error("the edit link can be replaced, not turned off")]
    EditLinkRequired,
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
    /// The project's ignore rules (a name every room leaves out, or a
    /// `.gitignore`, `.ignore` or `.git/info/exclude` pattern) leave the
    /// path out of the room.
    #[error("{0} is left out of the room by the project's ignore rules (.gitignore, .ignore)")]
    LeftOut(String),
    /// The file system refused.
    #[error("could not write the file: {0}")]
    Io(#[from] std::io::Error),
}

/// Every refusal an HTTP endpoint answers, as
/// `{"error": code, "message": text}` with its status.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    /// No room with the id in the path (404 `unknown-room`).
    #[error("no room with that id")]
    UnknownRoom,
    /// No token, or a wrong one, where the edit token is needed (401
    /// `unauthorized`, with `WWW-Authenticate: Bearer`).
    #[error("send the room's edit token as 'Authorization: Bearer <token>'")]
    NeedsEditToken,
    /// No token, or a wrong one, where either token will do (401
    /// `unauthorized`, with `WWW-Authenticate: Bearer`).
    #[error("send one of the room's tokens as 'Authorization: Bearer <token>'")]
    NeedsToken,
    /// The view-only token where the edit token is needed (403 `read-only`).
    #[error("a view-only token cannot post events")]
    ReadOnly,
    /// No token, or a wrong one, where the host token is needed (401
    /// `unauthorized`, with `WWW-Authenticate: Bearer`).
    #[error("send the room's host token as 'Authorization: Bearer <token>'")]
    NeedsHostToken,
    /// An edit or view token where the host token is needed (403
    /// `not-host`).
    #[error("only the host link can manage the room's links")]
    NotHost,
    /// The new token could not be stored; nothing changed (500
    /// `not-stored`). Says why without any token.
    #[error("the new link could not be stored: {0}")]
    NotStored(String),
    /// A body that does not have the expected shape (400 `bad-request`).
    #[error("{0}")]
    BadRequest(String),
    /// A snapshot link without `exp` or `sig` (401 `unauthorized`).
    #[error("a snapshot link needs exp and sig")]
    LinkIncomplete,
    /// A snapshot link signed with neither token (401 `bad-signature`).
    #[error("this snapshot link is not valid for this room")]
    LinkBadSignature,
    /// A snapshot link whose `exp` has passed (401 `expired`).
    #[error("this snapshot link has expired")]
    LinkExpired,
    /// A snapshot link whose `exp` is further ahead than
    /// [`room_protocol::MAX_SNAPSHOT_LINK_SECONDS`] (401 `expiry-too-far`).
    #[error(
        "this snapshot link expires more than {} s from now; sign one that expires sooner",
        room_protocol::MAX_SNAPSHOT_LINK_SECONDS
    )]
    LinkTooLong,
}

impl HttpError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownRoom => StatusCode::NOT_FOUND,
            Self::ReadOnly | Self::NotHost => StatusCode::FORBIDDEN,
            Self::NotStored(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NeedsEditToken
            | Self::NeedsToken
            | Self::NeedsHostToken
            | Self::LinkIncomplete
            | Self::LinkBadSignature
            | Self::LinkExpired
            | Self::LinkTooLong => StatusCode::UNAUTHORIZED,
        }
    }

    /// The `error` code in the body, as `docs/PROTOCOL.md` lists them.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownRoom => "unknown-room",
            Self::NeedsEditToken
            | Self::NeedsToken
            | Self::NeedsHostToken
            | Self::LinkIncomplete => "unauthorized",
            Self::NotHost => "not-host",
            Self::NotStored(_) => "not-stored",
            Self::ReadOnly => "read-only",
            Self::BadRequest(_) => "bad-request",
            Self::LinkBadSignature => "bad-signature",
            Self::LinkExpired => "expired",
            Self::LinkTooLong => "expiry-too-far",
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.code(), "message": self.to_string() }));
        let mut response = (self.status(), body).into_response();
        if matches!(
            self,
            Self::NeedsEditToken | Self::NeedsToken | Self::NeedsHostToken
        ) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
