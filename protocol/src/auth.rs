//! Tokens on the wire: where they travel and how they are compared.
//!
//! The browser cannot set headers on a WebSocket, but it can offer
//! subprotocols. It offers [`SUBPROTOCOL`] and `room.token.<token>`; the hub
//! selects [`SUBPROTOCOL`] and never echoes the token entry.

use std::fmt;

use subtle::ConstantTimeEq;

/// The subprotocol a hub selects.
pub const SUBPROTOCOL: &str = "room.v1";

/// Prefix of the subprotocol entry that carries the token.
pub const TOKEN_SUBPROTOCOL_PREFIX: &str = "room.token.";

/// Query parameter that may carry the token instead (share links, scripts).
pub const TOKEN_QUERY_PARAM: &str = "token";

/// A room token. Its `Debug` and `Display` never show the secret, so it can
/// sit in structs that get logged, and `==` compares in constant time.
#[derive(Clone)]
pub struct Token(String);

impl PartialEq for Token {
    fn eq(&self, other: &Self) -> bool {
        tokens_equal(&self.0, &other.0)
    }
}

impl Eq for Token {}

impl Token {
    /// Wraps a token string.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself; call only where it must leave the process
    /// (subprotocol header, share link, HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares with `candidate` in time that does not depend on where the
    /// two differ.
    pub fn matches(&self, candidate: &str) -> bool {
        tokens_equal(&self.0, candidate)
    }

    /// The subprotocol entry that carries this token.
    pub fn subprotocol(&self) -> String {
        format!("{TOKEN_SUBPROTOCOL_PREFIX}{}", self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Compares two token strings in constant time for equal lengths. Lengths
/// are not secret: every token has the same length.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Finds the token in a `Sec-WebSocket-Protocol` header value such as
/// `"room.v1, room.token.abc"`.
pub fn token_from_subprotocols(header: &str) -> Option<&str> {
    header
        .split(',')
        .map(str::trim)
        .find_map(|entry| entry.strip_prefix(TOKEN_SUBPROTOCOL_PREFIX))
        .filter(|token| !token.is_empty())
}

/// Whether a header value offers [`SUBPROTOCOL`].
pub fn offers_protocol(header: &str) -> bool {
    header.split(',').map(str::trim).any(|p| p == SUBPROTOCOL)
}

/// Whether `s` looks like a token: base64url characters only, sensible
/// length. Used to refuse junk early, before any comparison.
pub fn is_token_shaped(s: &str) -> bool {
    (16..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The message a snapshot link signs: the path and its expiry, exactly as in
/// the URL, so a signature for one room or expiry is useless for another.
/// `sig = hex(HMAC-SHA256(key = token, msg = this))`.
pub fn snapshot_signing_message(room_id: &str, exp: u64) -> String {
    format!("{}?exp={exp}", crate::urls::snapshot_path(room_id))
}

/// The hub's answer to `POST /rooms/{id}/snapshot-link`: a signed download
/// link, minted by the hub with its own clock, so the page needs no
/// cryptography (plain-http origins have no Web Crypto) and a browser
/// clock that is off does not matter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotLink {
    /// The link's path and query, `/rooms/{id}/snapshot.tar?exp=…&sig=…`:
    /// relative to the hub. It carries no token.
    pub path: String,
    /// When it stops working, in Unix seconds (the hub's clock).
    pub expires_at: u64,
}

impl SnapshotLink {
    /// The JSON name of [`SnapshotLink::path`], for readers that take the
    /// answer as a plain JSON value.
    pub const PATH_FIELD: &'static str = "path";
}

/// Whether a room id is made of characters that are safe in a URL path and
/// a database name: [`is_valid_id`].
pub fn is_valid_room_id(id: &str) -> bool {
    is_valid_id(id)
}

/// The shape of every id in the protocol (room ids, person ids):
/// `[A-Za-z0-9_-]{1,64}`.
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
