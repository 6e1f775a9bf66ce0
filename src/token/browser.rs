//! The browser side of the token bootstrap: URL, sessionStorage, history
//! and `BroadcastChannel`.

use std::cell::RefCell;

use futures_channel::oneshot;
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};
use gloo_timers::future::TimeoutFuture;
use room_protocol::Token;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent, Storage};

use super::{
    first_token_step, storage_key, ChannelMessage, TokenOutcome, TokenSource, TokenStep,
    ASK_TIMEOUT_MS, CHANNEL_NAME,
};
use crate::error::ClientError;

type Ask = Shared<LocalBoxFuture<'static, Option<String>>>;

thread_local! {
    /// The request in flight per room, shared by every caller (single-flight).
    /// A page is in one room or a few: a list, not a `HashMap`, whose
    /// hasher and table are kilobytes of wasm.
    static IN_FLIGHT: RefCell<Vec<(String, Ask)>> = const { RefCell::new(Vec::new()) };
}

#[cfg(feature = "testing")]
thread_local! {
    /// Requests actually posted on the channel, for the project's tests.
    static POSTED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn browser(e: JsValue) -> ClientError {
    // A browser error's text never contains the token: none of the calls
    // that can fail here is given the token as an argument it echoes.
    ClientError::Browser(e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

fn session_storage() -> Option<Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// Finds the room's token (URL, then sessionStorage, then other tabs) and,
/// if it came from the URL, moves it into sessionStorage and removes it
/// from the address bar. Call it at start-up, before any network request.
pub async fn bootstrap(room_id: &str) -> Result<TokenOutcome, ClientError> {
    let window = web_sys::window().ok_or(ClientError::NoWindow)?;
    let href = window.location().href().map_err(browser)?;
    let key = storage_key(room_id);
    let stored = session_storage().and_then(|s| s.get_item(&key).ok().flatten());
    match first_token_step(&href, stored) {
        TokenStep::FromUrl { token, cleaned_url } => {
            if let Some(storage) = session_storage() {
                // Without storage (disabled by policy) the token still works
                // for this page; a refresh will then need the link again.
                let _ = storage.set_item(&key, &token);
            }
            let history = window.history().map_err(browser)?;
            let state = history.state().unwrap_or(JsValue::NULL);
            history
                .replace_state_with_url(&state, "", Some(&cleaned_url))
                .map_err(browser)?;
            return Ok(TokenOutcome::Found(Token::new(token), TokenSource::Url));
        }
        TokenStep::Stored(token) => {
            return Ok(TokenOutcome::Found(
                Token::new(token),
                TokenSource::SessionStorage,
            ));
        }
        TokenStep::AskOtherTabs => {}
    }
    match request_from_other_tabs(room_id).await {
        Some(token) => {
            if let Some(storage) = session_storage() {
                let _ = storage.set_item(&key, &token);
            }
            Ok(TokenOutcome::Found(
                Token::new(token),
                TokenSource::OtherTab,
            ))
        }
        None => Ok(TokenOutcome::NeedsToken),
    }
}

/// Asks other tabs for the room's token. Concurrent callers share one
/// request; it gives up after [`ASK_TIMEOUT_MS`].
pub async fn request_from_other_tabs(room_id: &str) -> Option<String> {
    let ask = IN_FLIGHT.with(|asks| {
        let mut asks = asks.borrow_mut();
        if let Some((_, ask)) = asks.iter().find(|(room, _)| room == room_id) {
            return ask.clone();
        }
        let ask = ask_once(room_id.to_owned()).boxed_local().shared();
        asks.push((room_id.to_owned(), ask.clone()));
        ask
    });
    let answer = ask.await;
    IN_FLIGHT.with(|asks| asks.borrow_mut().retain(|(room, _)| room != room_id));
    answer
}

/// How many requests have been posted on the channel by this page.
#[cfg(feature = "testing")]
pub fn requests_posted() -> u32 {
    POSTED.with(std::cell::Cell::get)
}

async fn ask_once(room: String) -> Option<String> {
    let channel = BroadcastChannel::new(CHANNEL_NAME).ok()?;
    let nonce = crate::random::mint_id(crate::random::random_bits);
    let (tx, rx) = oneshot::channel::<String>();
    let tx = RefCell::new(Some(tx));
    let on_message = {
        let room = room.clone();
        let nonce = nonce.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            if let Ok(ChannelMessage::Reply {
                room: r,
                nonce: n,
                token,
            }) = serde_json::from_str(&text)
            {
                if r == room && n == nonce {
                    if let Some(tx) = tx.borrow_mut().take() {
                        let _ = tx.send(token);
                    }
                }
            }
        })
    };
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let request = ChannelMessage::Request { room, nonce };
    let posted = serde_json::to_string(&request)
        .ok()
        .is_some_and(|text| channel.post_message(&JsValue::from_str(&text)).is_ok());
    let answer = if posted {
        #[cfg(feature = "testing")]
        POSTED.with(|n| n.set(n.get() + 1));
        let timeout = TimeoutFuture::new(ASK_TIMEOUT_MS);
        futures_util::pin_mut!(timeout);
        match futures_util::future::select(rx, timeout).await {
            futures_util::future::Either::Left((Ok(token), _)) => Some(token),
            _ => None,
        }
    } else {
        None
    };
    channel.set_onmessage(None);
    channel.close();
    drop(on_message);
    answer
}

/// Answers other tabs' requests for a room's token while alive. A page
/// that holds a token keeps one so a second tab opened from a bookmark
/// can join without the link.
#[must_use = "dropping the responder stops answering other tabs at once"]
pub struct TokenResponder {
    channel: BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl std::fmt::Debug for TokenResponder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenResponder")
    }
}

impl TokenResponder {
    /// Starts answering requests for `room_id` with `token`.
    pub fn start(room_id: &str, token: &Token) -> Result<Self, ClientError> {
        let channel = BroadcastChannel::new(CHANNEL_NAME).map_err(browser)?;
        let reply_channel = channel.clone();
        let room_id = room_id.to_owned();
        let token = token.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            let Ok(ChannelMessage::Request { room, nonce }) = serde_json::from_str(&text) else {
                return;
            };
            if room != room_id {
                return;
            }
            let reply = ChannelMessage::Reply {
                room,
                nonce,
                token: token.expose().to_owned(),
            };
            if let Ok(text) = serde_json::to_string(&reply) {
                let _ = reply_channel.post_message(&JsValue::from_str(&text));
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Ok(Self {
            channel,
            _on_message: on_message,
        })
    }
}

impl Drop for TokenResponder {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
