//! The room's WebSocket as the shell sees it: what it did, as one event.

use futures_util::{SinkExt, StreamExt};
use gloo_net::websocket::futures::WebSocket;
use gloo_net::websocket::{Message, State, WebSocketError};
use room_protocol::{Token, SUBPROTOCOL};

/// An open or opening socket. Whether it has opened is the core's to know
/// (its phase), not the socket's.
pub(super) struct Socket {
    pub(super) ws: WebSocket,
}

impl Socket {
    /// Starts opening the room's socket at `url`, offering the protocol and
    /// the token as subprotocols (the token is never in the URL).
    /// The error is the browser's, about the URL; it never names the token.
    pub(super) fn open(url: &str, token: &Token) -> Result<Self, impl std::fmt::Display> {
        let protocols = [SUBPROTOCOL.to_owned(), token.subprotocol()];
        WebSocket::open_with_protocols(url, &protocols).map(|ws| Self { ws })
    }
}

/// What the socket did.
pub(super) enum SocketEvent {
    Opened,
    Text(String),
    /// A binary frame: the compressed tree after a tree-first welcome.
    Bytes(Vec<u8>),
    Closed(u16),
    Nothing,
}

/// The next thing the socket does; never resolves without a socket.
/// `awaiting_open`: the core waits for this socket to open.
pub(super) async fn next_socket_event(
    socket: Option<&mut Socket>,
    awaiting_open: bool,
) -> SocketEvent {
    let Some(socket) = socket else {
        return futures_util::future::pending().await;
    };
    if awaiting_open {
        // Resolves once the socket leaves CONNECTING, open or not.
        let _ = futures_util::future::poll_fn(|cx| socket.ws.poll_ready_unpin(cx)).await;
        if matches!(socket.ws.state(), State::Open) {
            return SocketEvent::Opened;
        }
    }
    SocketEvent::from(socket.ws.next().await)
}

impl From<Option<Result<Message, WebSocketError>>> for SocketEvent {
    /// What the socket stream's next item means to the shell.
    fn from(message: Option<Result<Message, WebSocketError>>) -> Self {
        match message {
            Some(Ok(Message::Text(text))) => Self::Text(text),
            Some(Ok(Message::Bytes(bytes))) => Self::Bytes(bytes),
            // An error event is always followed by a close event.
            Some(Err(WebSocketError::ConnectionError)) => Self::Nothing,
            Some(Err(WebSocketError::ConnectionClose(e))) => Self::Closed(e.code),
            Some(Err(_)) | None => Self::Closed(1006),
        }
    }
}

/// Reads the tree frame: zlib inflated by the browser's own
/// `DecompressionStream` (no inflater in the bundle), then JSON.
pub(super) async fn read_tree(mut bytes: Vec<u8>) -> Result<room_protocol::Tree, String> {
    use wasm_bindgen::JsCast as _;
    // What the browser says is about the stream (a damaged frame), never
    // the room: one sentence does.
    let why = |_| "the browser could not inflate it";
    let compressed = web_sys::Response::new_with_opt_u8_array(Some(&mut bytes)).map_err(why)?;
    let body = compressed.body().ok_or("an empty frame")?;
    let inflater = DecompressionStream::new("deflate").map_err(why)?;
    // The stream itself is the `{readable, writable}` pair `pipeThrough`
    // takes (web-sys' dictionary type would bind two more setters).
    let pair: &web_sys::ReadableWritablePair = inflater.unchecked_ref();
    let inflated = web_sys::Response::new_with_opt_readable_stream(Some(&body.pipe_through(pair)))
        .map_err(why)?;
    let text = wasm_bindgen_futures::JsFuture::from(inflated.text().map_err(why)?)
        .await
        .map_err(why)?;
    let text = text.as_string().ok_or("not text")?;
    serde_json::from_str(&text)
        .map_err(|e| format!("not a tree ({} bytes): line {}", text.len(), e.line()))
}

// `DecompressionStream` is in every engine the room supports (Chromium 80,
// Firefox 113, Safari 16.4), but web-sys keeps it behind its unstable-API
// flag, which an app would have to set: bound here instead.
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(extends = js_sys::Object)]
    type DecompressionStream;

    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<DecompressionStream, wasm_bindgen::JsValue>;
}
