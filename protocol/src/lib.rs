//! Wire protocol v1 between `room-hub` and `room-client`.
//!
//! This crate is the boundary between the two processes: serde types for
//! every frame and pure helpers both ends need (decoding with useful errors,
//! path validation, token handling). It has no I/O, no async runtime and no
//! browser bindings, so it builds for native and `wasm32` alike.
//! `docs/PROTOCOL.md` describes the protocol for people.
//!
//! # Walkthrough
//!
//! A client opens `GET /rooms/{roomId}/ws` offering the subprotocols
//! `room.v1` and `room.token.<token>`, then says hello:
//!
//! ```
//! use room_protocol::{decode_server_frame, encode, ClientFrame, Hello, PeerProfile, ServerFrame};
//!
//! let hello = ClientFrame::Hello(Hello {
//!     last_seen_rev: Some(41),
//!     project_id: Some("gen-1".into()),
//!     project_rev: Some(40),
//!     peer: PeerProfile { name: "Ada".into(), color: "#3366ff".into() },
//!     ..Hello::default()
//! });
//! let text = encode(&hello);
//! assert!(text.starts_with(r#"{"type":"hello","lastSeenRev":41"#));
//!
//! // The hub answers with `welcome`, then entries, then `synced`.
//! let frame = decode_server_frame(r#"{"type":"synced","head":42}"#).unwrap();
//! assert!(matches!(frame, ServerFrame::Synced(s) if s.head == 42));
//!
//! // A frame from a newer hub is told apart from garbage.
//! let err = decode_server_frame(r#"{"type":"cursor","x":1}"#).unwrap_err();
//! assert_eq!(err, room_protocol::DecodeError::UnknownType("cursor".into()));
//! ```
//!
//! Paths from the wire go through [`RelPath::parse`] before anything else:
//!
//! ```
//! use room_protocol::{PathError, RelPath};
//!
//! assert!(RelPath::parse("src/main.rs").is_ok());
//! assert_eq!(RelPath::parse("../etc/passwd"), Err(PathError::NotNormal));
//! ```

mod auth;
mod codec;
mod error;
mod frames;
mod limits;
mod path;
mod profile;
pub mod urls;

pub use auth::{
    is_token_shaped, is_valid_id, is_valid_room_id, offers_protocol, snapshot_signing_message,
    token_from_subprotocols, tokens_equal, SnapshotLink, Token, SUBPROTOCOL, TOKEN_QUERY_PARAM,
    TOKEN_SUBPROTOCOL_PREFIX,
};
pub use codec::{
    decode_client_frame, decode_server_frame, encode, CLIENT_FRAME_TYPES, SERVER_FRAME_TYPES,
};
pub use error::{DecodeError, PathError};
pub use frames::{
    ClientFrame, ErrorCode, ErrorFrame, FileChanged, FileContent, FileEdit, FileRequest,
    FileVersion, Hello, LeftOut, Links, LogEntry, PeerInfo, PeerProfile, Peers, Ping, Presence,
    ProjectVersion, RuntimeEvent, ServerFrame, SyncMode, Synced, Tree, TreeEntry, Welcome,
};
pub use limits::*;
pub use path::{is_ignored_name, RelPath, IGNORED_NAMES};
pub use profile::{fallback_color, guest_name, is_hex_color, FALLBACK_COLORS};
