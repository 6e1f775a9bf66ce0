//! Where the share-link token comes from, and where it goes.
//!
//! 1. A share link carries `?token=…`. At start-up, before any network
//!    request, the token moves into sessionStorage under a per-room key and
//!    the address bar is rewritten without it (`history.replaceState`),
//!    keeping every other parameter and the hash, so it stays out of the
//!    history and out of bookmarks.
//! 2. Without a token in the URL, sessionStorage has it after a refresh.
//! 3. With neither, other tabs of the same origin are asked over a
//!    `BroadcastChannel`; any tab holding the room's token answers. One
//!    request is in flight at a time however many callers ask, and it gives
//!    up after 200 ms.
//! 4. Still nothing: the room reports `NeedsToken`.
//!
//! After bootstrap the token travels only in the `room.token.<token>`
//! WebSocket subprotocol. This module holds the pure parts (URL rewriting,
//! message shapes); `browser.rs` does the browser side.

use serde::{Deserialize, Serialize};

#[cfg(target_arch = "wasm32")]
mod browser;

#[cfg(target_arch = "wasm32")]
pub use browser::{bootstrap, TokenResponder};
#[cfg(all(target_arch = "wasm32", feature = "testing"))]
pub use browser::{request_from_other_tabs, requests_posted};

/// Name of the `BroadcastChannel` tabs use to share tokens.
pub const CHANNEL_NAME: &str = "room-client.tokens";

/// How long to wait for another tab to answer, in milliseconds.
pub const ASK_TIMEOUT_MS: u32 = 200;

/// Where a token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The page URL (a share link); it has been moved to sessionStorage.
    Url,
    /// This tab's sessionStorage (a refresh).
    SessionStorage,
    /// Another open tab, over `BroadcastChannel`.
    OtherTab,
}

/// The outcome of the bootstrap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOutcome {
    /// A token, and where it came from.
    Found(room_protocol::Token, TokenSource),
    /// No token anywhere: the page must ask for the link.
    NeedsToken,
}

/// The sessionStorage key of a room's token.
pub fn storage_key(room_id: &str) -> String {
    format!("room-client.token.{room_id}")
}

/// Where this page's token comes from, before anything else is tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStep {
    /// A share link was just opened: store `token`, and show `cleaned_url`
    /// (the address without it) in place of the current entry.
    FromUrl {
        /// The token.
        token: String,
        /// The page address without the token.
        cleaned_url: String,
    },
    /// This tab had it (a refresh).
    Stored(String),
    /// Neither: ask the other tabs of this origin.
    AskOtherTabs,
}

/// The precedence of token sources: the URL wins (the person just opened a
/// link, perhaps a different one), then this tab's sessionStorage; with
/// neither, other tabs are asked. An empty stored value counts as none.
pub fn first_token_step(href: &str, stored: Option<String>) -> TokenStep {
    if let Some((token, cleaned_url)) = take_token_from_url(href) {
        return TokenStep::FromUrl { token, cleaned_url };
    }
    match stored {
        Some(token) if !token.is_empty() => TokenStep::Stored(token),
        _ => TokenStep::AskOtherTabs,
    }
}

/// Splits a token out of a URL: returns the token and the same URL without
/// any `token` parameter (other parameters, their order and the hash are
/// kept). `None` when the URL has no non-empty token.
pub fn take_token_from_url(url: &str) -> Option<(String, String)> {
    let (before_hash, hash) = match url.find('#') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let (base, query) = before_hash.split_once('?')?;
    let mut token = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if key == room_protocol::TOKEN_QUERY_PARAM {
                if token.is_none() && !value.is_empty() {
                    token = Some(percent_decode(value));
                }
                false
            } else {
                !pair.is_empty()
            }
        })
        .collect();
    let token = token?;
    let mut cleaned = base.to_owned();
    if !kept.is_empty() {
        cleaned.push('?');
        cleaned.push_str(&kept.join("&"));
    }
    cleaned.push_str(hash);
    Some((token, cleaned))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A message on [`CHANNEL_NAME`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum ChannelMessage {
    /// "Does anyone hold the token of `room`?"
    Request {
        /// The room.
        room: String,
        /// Matches the reply to the request.
        nonce: String,
    },
    /// "Here it is."
    Reply {
        /// The room.
        room: String,
        /// The request's nonce.
        nonce: String,
        /// The token.
        token: String,
    },
}

/// Read as one flat record and then told apart by `type`, rather than
/// through serde's internally tagged enums, which buffer the message in an
/// intermediate tree and add kilobytes of wasm. The protocol's frames are
/// read the same way (`room_protocol::codec`).
impl<'de> Deserialize<'de> for ChannelMessage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        struct Fields {
            #[serde(rename = "type")]
            kind: String,
            room: String,
            nonce: String,
            #[serde(default)]
            token: Option<String>,
        }
        let Fields {
            kind,
            room,
            nonce,
            token,
        } = Fields::deserialize(deserializer)?;
        match (kind.as_str(), token) {
            ("request", _) => Ok(Self::Request { room, nonce }),
            ("reply", Some(token)) => Ok(Self::Reply { room, nonce, token }),
            ("reply", None) => Err(D::Error::missing_field("token")),
            (other, _) => Err(D::Error::unknown_variant(other, &["request", "reply"])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_taken_and_everything_else_kept() {
        let (token, url) =
            take_token_from_url("https://h:8787/rooms/r1/?a=1&token=SECRET&b=two#frag").unwrap();
        assert_eq!(token, "SECRET");
        assert_eq!(url, "https://h:8787/rooms/r1/?a=1&b=two#frag");
    }

    #[test]
    fn a_lone_token_leaves_no_question_mark() {
        let (token, url) = take_token_from_url("http://h/rooms/r1/?token=abc").unwrap();
        assert_eq!(
            (token.as_str(), url.as_str()),
            ("abc", "http://h/rooms/r1/")
        );
        let (_, url) = take_token_from_url("http://h/rooms/r1/?token=abc#x").unwrap();
        assert_eq!(url, "http://h/rooms/r1/#x");
    }

    #[test]
    fn every_token_parameter_is_removed() {
        let (token, url) = take_token_from_url("http://h/?token=a&token=b&keep=1").unwrap();
        assert_eq!((token.as_str(), url.as_str()), ("a", "http://h/?keep=1"));
    }

    #[test]
    fn urls_without_a_token_are_left_alone() {
        assert_eq!(take_token_from_url("http://h/rooms/r1/"), None);
        assert_eq!(take_token_from_url("http://h/rooms/r1/?tokenish=1"), None);
        assert_eq!(take_token_from_url("http://h/rooms/r1/?token="), None);
        assert_eq!(take_token_from_url("http://h/rooms/r1/#?token=abc"), None);
    }

    #[test]
    fn percent_encoded_tokens_are_decoded() {
        let (token, _) = take_token_from_url("http://h/?token=ab%2Dc_d").unwrap();
        assert_eq!(token, "ab-c_d");
        let (token, _) = take_token_from_url("http://h/?token=ab%2").unwrap();
        assert_eq!(token, "ab%2");
    }

    #[test]
    fn channel_messages_have_a_stable_shape() {
        let request = ChannelMessage::Request {
            room: "r".into(),
            nonce: "n".into(),
        };
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"type":"request","room":"r","nonce":"n"}"#
        );
        let reply: ChannelMessage =
            serde_json::from_str(r#"{"type":"reply","room":"r","nonce":"n","token":"t"}"#).unwrap();
        assert!(matches!(reply, ChannelMessage::Reply { token, .. } if token == "t"));
        let request: ChannelMessage =
            serde_json::from_str(r#"{"nonce":"n","type":"request","room":"r","extra":1}"#).unwrap();
        assert_eq!(
            request,
            ChannelMessage::Request {
                room: "r".into(),
                nonce: "n".into()
            }
        );
        for bad in [
            r#"{"type":"reply","room":"r","nonce":"n"}"#,
            r#"{"type":"shout","room":"r","nonce":"n"}"#,
            r#"{"type":"request","room":"r"}"#,
            r#"{"room":"r","nonce":"n"}"#,
        ] {
            assert!(
                serde_json::from_str::<ChannelMessage>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn storage_keys_are_per_room() {
        assert_ne!(storage_key("a"), storage_key("b"));
    }

    #[test]
    fn the_url_wins_then_this_tab_then_the_other_tabs() {
        let stored = || Some("stored-token".to_owned());
        assert_eq!(
            first_token_step("http://h/rooms/r/?token=from-link#x", stored()),
            TokenStep::FromUrl {
                token: "from-link".into(),
                cleaned_url: "http://h/rooms/r/#x".into()
            }
        );
        assert_eq!(
            first_token_step("http://h/rooms/r/", stored()),
            TokenStep::Stored("stored-token".into())
        );
        assert_eq!(
            first_token_step("http://h/rooms/r/?token=", Some(String::new())),
            TokenStep::AskOtherTabs
        );
        assert_eq!(
            first_token_step("http://h/rooms/r/", None),
            TokenStep::AskOtherTabs
        );
    }
}
