//! Encoding and decoding of text frames.
//!
//! Decoding tells a frame of an unknown type apart from a malformed one, so
//! the hub can answer `unknown-type` rather than `bad-frame`, and a client can
//! skip frames from a newer hub instead of treating them as corruption.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::DecodeError;
use crate::frames::{ClientFrame, ServerFrame};

/// Longest detail from serde kept in a [`DecodeError`]. serde's messages
/// can quote parts of the input; cutting them keeps error frames and logs
/// small whatever the input was.
const MAX_DETAIL_CHARS: usize = 160;

/// The `type` values a client may send.
pub const CLIENT_FRAME_TYPES: &[&str] = &[
    "hello",
    "file-edit",
    "peer-update",
    "presence",
    "ping",
    "file-request",
];

/// The `type` values a hub may send.
pub const SERVER_FRAME_TYPES: &[&str] = &[
    "welcome",
    "file-changed",
    "runtime-event",
    "synced",
    "peers",
    "left-out",
    "file-content",
    "pong",
    "error",
    "links",
];

/// Decodes a frame sent by a client.
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, DecodeError> {
    let kind = frame_type(text)?;
    let frame = match kind.as_str() {
        "hello" => ClientFrame::Hello(fields(text)?),
        "file-edit" => ClientFrame::FileEdit(fields(text)?),
        "peer-update" => ClientFrame::PeerUpdate(fields(text)?),
        "presence" => ClientFrame::Presence(fields(text)?),
        "ping" => ClientFrame::Ping(fields(text)?),
        "file-request" => ClientFrame::FileRequest(fields(text)?),
        _ => return Err(DecodeError::UnknownType(truncate(&kind))),
    };
    Ok(frame)
}

/// Decodes a frame sent by a hub.
pub fn decode_server_frame(text: &str) -> Result<ServerFrame, DecodeError> {
    let kind = frame_type(text)?;
    let frame = match kind.as_str() {
        "welcome" => ServerFrame::Welcome(fields(text)?),
        "file-changed" => ServerFrame::FileChanged(fields(text)?),
        "runtime-event" => ServerFrame::RuntimeEvent(fields(text)?),
        "synced" => ServerFrame::Synced(fields(text)?),
        "peers" => ServerFrame::Peers(fields(text)?),
        "left-out" => ServerFrame::LeftOut(fields(text)?),
        "file-content" => ServerFrame::FileContent(fields(text)?),
        "pong" => ServerFrame::Pong(fields(text)?),
        "error" => ServerFrame::Error(fields(text)?),
        "links" => ServerFrame::Links(fields(text)?),
        _ => return Err(DecodeError::UnknownType(truncate(&kind))),
    };
    Ok(frame)
}

/// Encodes any frame as a JSON text frame.
pub fn encode<T: Serialize>(frame: &T) -> String {
    // Serialising these types cannot fail: every map key is a string and no
    // Serialize impl returns an error.
    serde_json::to_string(frame).unwrap_or_else(|_| String::from("{}"))
}

/// The frame's `type`. Decoding reads the type first and then the fields
/// straight into the payload struct (which ignores `type`), rather than
/// through serde's internally-tagged enum support: that path buffers every
/// frame in an intermediate tree, which costs time on large frames and
/// tens of kilobytes of wasm.
fn frame_type(text: &str) -> Result<String, DecodeError> {
    #[derive(Deserialize)]
    struct TypeOnly {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_str::<TypeOnly>(text)
        .map(|t| t.kind)
        .map_err(|e| DecodeError::Malformed(truncate(&e.to_string())))
}

fn fields<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    serde_json::from_str(text).map_err(|e| DecodeError::Malformed(truncate(&e.to_string())))
}

fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_DETAIL_CHARS).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}
