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
pub const CLIENT_FRAME_TYPES: &[&str] = &["hello", "file-edit", "peer-update", "ping"];

/// The `type` values a hub may send.
pub const SERVER_FRAME_TYPES: &[&str] = &[
    "welcome",
    "file-changed",
    "runtime-event",
    "synced",
    "peers",
    "pong",
    "error",
];

/// Decodes a frame sent by a client.
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, DecodeError> {
    decode(text, CLIENT_FRAME_TYPES)
}

/// Decodes a frame sent by a hub.
pub fn decode_server_frame(text: &str) -> Result<ServerFrame, DecodeError> {
    decode(text, SERVER_FRAME_TYPES)
}

/// Encodes any frame as a JSON text frame.
pub fn encode<T: Serialize>(frame: &T) -> String {
    // Serialising these types cannot fail: every map key is a string and no
    // Serialize impl returns an error.
    serde_json::to_string(frame).unwrap_or_else(|_| String::from("{}"))
}

fn decode<T: DeserializeOwned>(text: &str, known: &[&str]) -> Result<T, DecodeError> {
    match serde_json::from_str::<T>(text) {
        Ok(frame) => Ok(frame),
        Err(full_error) => {
            // Only on failure look at `type` alone, to classify the error.
            #[derive(Deserialize)]
            struct TypeOnly {
                #[serde(rename = "type")]
                kind: String,
            }
            match serde_json::from_str::<TypeOnly>(text) {
                Ok(t) if !known.contains(&t.kind.as_str()) => {
                    Err(DecodeError::UnknownType(truncate(&t.kind)))
                }
                _ => Err(DecodeError::Malformed(truncate(&full_error.to_string()))),
            }
        }
    }
}

fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_DETAIL_CHARS).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}
