//! Every JSON frame of protocol v1, as serde types.
//!
//! Frames are JSON text messages with a kebab-case `type` field and
//! camelCase fields. Optional fields are left out when empty so frames stay
//! small; decoders accept them missing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A frame a client sends to the hub.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ClientFrame {
    /// The first frame of every connection.
    Hello(Hello),
    /// Replace a file's whole content.
    FileEdit(FileEdit),
    /// Change this peer's display name or colour.
    PeerUpdate(PeerProfile),
    /// Which file this peer has open.
    Presence(Presence),
    /// Application-level heartbeat; the hub answers `pong` at once.
    Ping(Ping),
    /// Ask for the contents of files (the hub answers `file-content`).
    FileRequest(FileRequest),
}

/// A frame the hub sends to a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ServerFrame {
    /// The answer to `hello`.
    Welcome(Welcome),
    /// A log entry: a file's new content (or its deletion).
    FileChanged(FileChanged),
    /// A log entry: something the running project reported.
    RuntimeEvent(RuntimeEvent),
    /// Everything before `head` has been sent; live entries follow.
    Synced(Synced),
    /// The set of connected peers changed.
    Peers(Peers),
    /// The number of files the hub's file limit keeps out of the room
    /// changed (0: none any more).
    LeftOut(LeftOut),
    /// A file's content at a revision, the answer to `file-request`.
    FileContent(FileContent),
    /// The answer to `ping`.
    Pong(Ping),
    /// A request was refused or a frame could not be understood.
    Error(ErrorFrame),
    /// The host replaced or turned off a link: the links this connection
    /// may share now.
    Links(Links),
}

/// `hello`: who the client is and what it already has.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    /// The highest `rev` the client has applied, if any.
    #[serde(default)]
    pub last_seen_rev: Option<u64>,
    /// The `project.id` of the welcome the cached state came from.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The `project.rev` the cached files correspond to.
    #[serde(default)]
    pub project_rev: Option<u64>,
    /// How this peer wants to appear to others.
    #[serde(default)]
    pub peer: PeerProfile,
    /// The same for every tab of one browser, so others can show the
    /// person once ([`crate::is_valid_id`]; the hub drops anything else).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// The file this peer has open, as in [`Presence`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<String>,
    /// The same for every connection of one tab, across reconnects
    /// ([`crate::is_valid_id`]; the hub ignores anything else). A `hello`
    /// with the client id of a connection the hub still holds (a link that
    /// died without a close) replaces that connection at once, under the
    /// same peer id; the old one is closed with
    /// [`crate::CLOSE_REPLACED`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// `file-request`: the contents of these files, please. At most
/// [`crate::MAX_REQUEST_PATHS`] paths; the hub answers each with a
/// `file-content`, in order, with content for as many as fit in
/// [`crate::MAX_REQUEST_BYTES`] (always the first).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRequest {
    /// Relative paths.
    pub paths: Vec<String>,
}

/// `file-content`: a file's content at `rev`, or (no `content`) why not:
/// `rev` 0 when the room has no such file, else the request went past
/// [`crate::MAX_REQUEST_BYTES`] and the client asks again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileContent {
    /// The path, as asked.
    pub path: String,
    /// The revision the content belongs to (the file's current one).
    pub rev: u64,
    /// The whole content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// `presence`: the file this peer has open (`None`: none). The hub keeps a
/// valid path ([`crate::RelPath`]) and tells everyone in `peers`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presence {
    /// A relative path in the project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<String>,
}

/// A peer's chosen name and colour.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerProfile {
    /// Display name; the hub trims it to [`crate::MAX_PEER_NAME_CHARS`].
    #[serde(default)]
    pub name: String,
    /// CSS colour as `#rrggbb`; anything else is replaced by the hub.
    #[serde(default)]
    pub color: String,
}

/// `file-edit`: replace `path`'s content, if it is still at `base_rev`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileEdit {
    /// Chosen by the client; echoed in the resulting `file-changed` or
    /// `error` so the author can match the answer to its draft.
    pub edit_id: String,
    /// Relative, `/`-separated path inside the project.
    pub path: String,
    /// The whole new content.
    pub content: String,
    /// The file's `rev` the edit started from; 0 for a file that does not
    /// exist yet.
    pub base_rev: u64,
    /// The generation (the `welcome`'s `project.id`) that `base_rev`
    /// belongs to. Every run of the hub numbers revisions from 0 again, so
    /// a hub of another generation refuses the edit with `conflict`,
    /// whatever the numbers say. Absent: not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_project: Option<String>,
}

/// `ping` and `pong`: `t` is whatever the client put there (usually a clock
/// reading), echoed back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ping {
    /// Opaque number echoed back.
    pub t: f64,
}

/// Identifies one generation of a project and how far its files have come.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectVersion {
    /// Random id of this hub run; a restarted hub is a new generation.
    pub id: String,
    /// The `rev` of the newest file change, 0 if none.
    pub rev: u64,
}

/// How the hub will bring the client up to date after `welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncMode {
    /// The cached state is still valid: every entry after `lastSeenRev`
    /// follows, in order.
    Replay,
    /// Start over: `files` carries every file, then the newest runtime
    /// events follow.
    Snapshot,
}

/// `welcome`: the hub accepted `hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Welcome {
    /// The room this connection is in.
    pub room_id: String,
    /// The current project generation and file revision.
    pub project: ProjectVersion,
    /// The newest `rev` in the room's log (0 if the log is empty).
    pub head: u64,
    /// Whether this connection holds a read-only token.
    pub read_only: bool,
    /// This connection's id among the peers.
    pub peer_id: String,
    /// Everyone connected, this peer included.
    pub peers: Vec<PeerInfo>,
    /// Replay or snapshot.
    pub mode: SyncMode,
    /// Present when the project has more files than the hub's limit: the
    /// room holds `limit` of them, and this many are left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_out: Option<LeftOut>,
    /// The room's read-only token, sent only to holders of the edit or
    /// host token so they can share a view-only link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_token: Option<String>,
    /// Whether this connection holds the host token (it may replace links).
    #[serde(default, skip_serializing_if = "is_false")]
    pub host: bool,
    /// The room's edit token, sent only to the host, so the host's page
    /// shares the edit link and never its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_token: Option<String>,
}

/// `links`: the host replaced a link or turned the view link off or on.
/// Sent to every connection that may share links, with what it may share
/// now, as its `welcome` would give it: the host both tokens, an editor
/// the read-only one. A field left out is a link that is off (or not this
/// connection's to share).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Links {
    /// The edit token (to the host only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_token: Option<String>,
    /// The read-only token, if the view link is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_token: Option<String>,
}

/// `file-changed`: a log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChanged {
    /// Position in the room's log.
    pub rev: u64,
    /// Relative, `/`-separated path.
    pub path: String,
    /// The new content; empty when `deleted`.
    pub content: String,
    /// The `peerId` of the author, or `None` for a change made on disk.
    #[serde(default)]
    pub by: Option<String>,
    /// The author's `editId`, if the change came from a `file-edit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_id: Option<String>,
    /// The file was removed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deleted: bool,
}

/// `runtime-event`: a log entry reported by the running project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeEvent {
    /// Position in the room's log.
    pub rev: u64,
    /// Milliseconds since the Unix epoch, when the hub appended it.
    pub ts: u64,
    /// What happened: `stdout`, `stderr`, `exit`, `pulse`, or anything a
    /// poster chose.
    pub kind: String,
    /// Kind-specific payload, e.g. `{"line": "…"}` or `{"code": 0}`.
    #[serde(default)]
    pub data: Value,
}

/// The project's tree (or what changed in it): every file without its
/// content. A snapshot `welcome` is always followed by one binary frame:
/// a `Tree` as JSON, compressed with zlib (RFC 1950, what the browser's
/// `DecompressionStream("deflate")` reads).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tree {
    /// Absent: the whole tree, which replaces the client's. Present: only
    /// what changed after this `project.rev` (the client's, from its
    /// `hello`): files whose `rev` is newer, and paths deleted since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// Files, in path order.
    pub files: Vec<TreeEntry>,
    /// Paths deleted since `since` (empty for a whole tree).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<String>,
}

/// One file of a [`Tree`], on the wire as `[path, rev, size]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "(String, u64, u64)", into = "(String, u64, u64)")]
pub struct TreeEntry {
    /// Relative, `/`-separated path.
    pub path: String,
    /// The `rev` of the change that made its content (0: on disk when the
    /// hub started). A content the client holds at another `rev` is stale.
    pub rev: u64,
    /// The content's length in bytes of UTF-8.
    pub size: u64,
}

impl From<(String, u64, u64)> for TreeEntry {
    fn from((path, rev, size): (String, u64, u64)) -> Self {
        Self { path, rev, size }
    }
}

impl From<TreeEntry> for (String, u64, u64) {
    fn from(entry: TreeEntry) -> Self {
        (entry.path, entry.rev, entry.size)
    }
}

/// `left-out` (and `welcome.leftOut`): room files on disk that the hub's
/// file limit keeps out of the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeftOut {
    /// How many files are left out.
    pub files: u64,
    /// The hub's limit: the most files a room holds.
    pub limit: u64,
}

/// `synced`: the catch-up is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Synced {
    /// The newest `rev` sent so far.
    pub head: u64,
}

/// `peers`: everyone connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Peers {
    /// Sorted by `peer_id`.
    pub peers: Vec<PeerInfo>,
}

/// One connected peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    /// Unique among the room's current connections.
    pub peer_id: String,
    /// Display name.
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
    /// Holds a read-only token.
    pub read_only: bool,
    /// The person's id from their `hello` (one per browser), if they sent
    /// a valid one: tabs with the same one are one person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// The file this peer has open, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<String>,
}

/// A file's content at a revision, as carried by a `conflict` error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileVersion {
    /// The file's current `rev`.
    pub rev: u64,
    /// The file's current content (empty if it was deleted).
    pub content: String,
}

/// `error`: what went wrong, in a machine-readable code and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorFrame {
    /// Machine-readable reason.
    pub error: ErrorCode,
    /// A sentence for people; never contains a token.
    #[serde(default)]
    pub message: String,
    /// The `editId` of the refused edit, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit_id: Option<String>,
    /// The path of the refused edit, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// For `conflict`: the file as it is now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<FileVersion>,
}

/// The reasons in an `error` frame. A code this version does not know
/// reads as [`ErrorCode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The frame was not JSON, or its fields did not fit its type.
    BadFrame,
    /// The frame's `type` is not one this hub knows.
    UnknownType,
    /// A frame other than `hello` came first; the hub closes with 4400.
    HelloFirst,
    /// This connection's token is read-only; nothing was written.
    ReadOnly,
    /// The file changed since the edit's `baseRev`; `current` has it now.
    Conflict,
    /// The path is not a plain relative path inside the project.
    BadPath,
    /// The content is over [`crate::MAX_CONTENT_BYTES`].
    TooLarge,
    /// The hub could not write the file; nothing changed.
    WriteFailed,
    /// A code this version does not know, from a newer hub.
    Other,
}

impl<'de> Deserialize<'de> for ErrorCode {
    /// By hand: the derived visitor also accepts variant indices and bytes,
    /// which JSON never carries, and costs the browser bundle 3.7 KB.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Ok(Self::from_wire(&code))
    }
}

impl ErrorCode {
    const KNOWN: [ErrorCode; 8] = [
        Self::BadFrame,
        Self::UnknownType,
        Self::HelloFirst,
        Self::ReadOnly,
        Self::Conflict,
        Self::BadPath,
        Self::TooLarge,
        Self::WriteFailed,
    ];

    /// The code for its wire form; [`ErrorCode::Other`] for one this
    /// version does not know.
    pub fn from_wire(code: &str) -> Self {
        Self::KNOWN
            .into_iter()
            .find(|known| known.as_str() == code)
            .unwrap_or(Self::Other)
    }

    /// The code as it appears on the wire, e.g. `"read-only"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadFrame => "bad-frame",
            Self::UnknownType => "unknown-type",
            Self::HelloFirst => "hello-first",
            Self::ReadOnly => "read-only",
            Self::Conflict => "conflict",
            Self::BadPath => "bad-path",
            Self::TooLarge => "too-large",
            Self::WriteFailed => "write-failed",
            Self::Other => "other",
        }
    }
}

impl ErrorFrame {
    /// An error with just a code and a sentence.
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
            edit_id: None,
            path: None,
            current: None,
        }
    }

    /// The same error, about the edit `edit_id` to `path`.
    pub fn for_edit(mut self, edit: &FileEdit) -> Self {
        self.edit_id = Some(edit.edit_id.clone());
        self.path = Some(edit.path.clone());
        self
    }
}

/// One entry of the room's ordered log.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEntry {
    /// A file's new content.
    FileChanged(FileChanged),
    /// A runtime event.
    RuntimeEvent(RuntimeEvent),
}

impl LogEntry {
    /// The entry's position in the log.
    pub fn rev(&self) -> u64 {
        match self {
            Self::FileChanged(f) => f.rev,
            Self::RuntimeEvent(e) => e.rev,
        }
    }

    /// The frame that carries this entry.
    pub fn to_frame(&self) -> ServerFrame {
        match self {
            Self::FileChanged(f) => ServerFrame::FileChanged(f.clone()),
            Self::RuntimeEvent(e) => ServerFrame::RuntimeEvent(e.clone()),
        }
    }
}

impl ServerFrame {
    /// The log entry this frame carries, if it is one.
    pub fn as_log_entry(&self) -> Option<LogEntry> {
        match self {
            Self::FileChanged(f) => Some(LogEntry::FileChanged(f.clone())),
            Self::RuntimeEvent(e) => Some(LogEntry::RuntimeEvent(e.clone())),
            _ => None,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}
