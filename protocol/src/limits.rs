//! Numbers both ends of the wire agree on.

/// Largest file content, in bytes of UTF-8, that a `file-edit` may carry and
/// that the hub loads from disk. Larger edits get `too-large`.
pub const MAX_CONTENT_BYTES: usize = 1 << 20;

/// Largest WebSocket message the hub reads. Bigger ones close the connection
/// with [`CLOSE_MESSAGE_TOO_BIG`]. It is four times [`MAX_CONTENT_BYTES`] so
/// that a 1 MiB edit still fits after JSON escaping of typical text.
pub const MAX_FRAME_BYTES: usize = 4 << 20;

/// Most paths in one `file-request`; a longer list is a `bad-frame`.
pub const MAX_REQUEST_PATHS: usize = 256;

/// Most bytes of content the hub sends in answer to one `file-request`
/// (the first file always goes, whatever its size); the files past it are
/// answered without content, to be asked for again. With one request
/// waiting at a time, a client never comes near the hub's per-peer queue
/// bound.
pub const MAX_REQUEST_BYTES: usize = 4 << 20;

/// How many log entries (file changes and runtime events) the hub keeps in
/// memory for replay.
pub const REPLAY_BUFFER_ENTRIES: usize = 5000;

/// Most bytes of wire text the replay log keeps, whatever the entry count:
/// 300 edits of a 1 MiB file must not hold 300 MiB. A client whose missed
/// entries reach past it gets a snapshot instead of a replay.
pub const REPLAY_BUFFER_BYTES: usize = 64 << 20;

/// How many of the newest runtime events a `snapshot` welcome is followed by,
/// and how many a client keeps.
pub const SNAPSHOT_EVENT_LIMIT: usize = 1000;

/// Longest peer name, in characters, after the hub trims it.
pub const MAX_PEER_NAME_CHARS: usize = 40;

/// Longest path, in bytes, accepted from the wire.
pub const MAX_PATH_BYTES: usize = 1024;

/// Most components (folders and the file name) in a file path. Deeper
/// paths are refused from the wire and left out of the room on disk, so no
/// one can make the hub walk or watch hundreds of nested folders.
pub const MAX_PATH_DEPTH: usize = 32;

/// How long a snapshot link is valid when the page signs it, in seconds.
pub const SNAPSHOT_LINK_SECONDS: u64 = 600;

/// Furthest ahead a snapshot link's `exp` may be, in seconds from the hub's
/// clock. A link signed further ahead is refused, so no link lives for
/// years; the slack over [`SNAPSHOT_LINK_SECONDS`] absorbs a browser clock
/// that runs ahead of the host's.
pub const MAX_SNAPSHOT_LINK_SECONDS: u64 = 3600;

/// How often a live client sends `ping`, in milliseconds.
pub const PING_EVERY_MS: u64 = 10_000;

/// After how long without a single frame either end treats a connection as
/// dead, in milliseconds: two missed pings. A Wi-Fi drop often gives no
/// close for minutes. The client reconnects after this long; the hub gives
/// up on the connection half a ping later, so a tab that went away without
/// a close leaves everyone's peer list about when it would have come back.
pub const DEAD_LINK_MS: u64 = 20_000;

/// Close code: the token is missing or wrong. Clients must not retry.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// Close code: no room with that id on this hub. Clients must not retry.
pub const CLOSE_ROOM_NOT_FOUND: u16 = 4404;
/// Close code: the client broke the protocol (e.g. a frame before `hello`).
/// Clients must not retry, since the same code would break it again.
pub const CLOSE_PROTOCOL_ERROR: u16 = 4400;
/// Close code (RFC 6455): a message over [`MAX_FRAME_BYTES`].
pub const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;
/// Close code (RFC 6455 "try again later"): the peer fell too far behind the
/// live stream (more than the hub's per-peer queue waits for it). The
/// client reconnects and catches up by replay.
pub const CLOSE_TRY_AGAIN_LATER: u16 = 1013;
/// Close code: a newer connection said `hello` with this connection's
/// client id, and took its place. If the client that gets it is still
/// alive, another tab has the same id (a duplicated tab copies
/// sessionStorage): it picks a new client id and reconnects, so two tabs
/// never knock each other off in a loop.
pub const CLOSE_REPLACED: u16 = 4409;
/// Close code: the peer sent nothing, not even a pong, for too long, or
/// did not send `hello` in time.
pub const CLOSE_IDLE: u16 = 4408;
/// Close code: the host replaced (or turned off) the link this connection
/// was admitted with; the old token is refused from now on (4401). Clients
/// must not retry: they say the link was replaced and keep their drafts.
pub const CLOSE_LINK_REPLACED: u16 = 4410;
/// Close code (RFC 6455 "policy violation"): the peer kept flooding
/// `presence` and `peer-update` frames past [`PRESENCE_FRAMES_PER_SECOND`]
/// (see [`PRESENCE_FLOOD_DROPS`]). A client that reconnects starts afresh.
pub const CLOSE_POLICY_VIOLATION: u16 = 1008;

/// `presence` and `peer-update` frames a connection may send per second,
/// together, after a burst of [`PRESENCE_BURST`]: the hub applies them and
/// tells everyone. Past it a frame is dropped, unseen by anyone (a person
/// opens files and renames far slower than this).
pub const PRESENCE_FRAMES_PER_SECOND: u32 = 10;
/// The burst of `presence` and `peer-update` frames a connection may send
/// at once before [`PRESENCE_FRAMES_PER_SECOND`] applies.
pub const PRESENCE_BURST: u32 = 20;
/// A flood: the connection is closed with [`CLOSE_POLICY_VIOLATION`] once
/// its dropped frames, less [`PRESENCE_FRAMES_PER_SECOND`] forgiven each
/// second, reach this many (a sender at 1,000 frames a second is closed
/// within half a second; one a little over the rate never is).
pub const PRESENCE_FLOOD_DROPS: u32 = 300;
