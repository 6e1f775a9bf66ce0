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
            Some(Ok(Message::Bytes(_))) => Self::Nothing,
            // An error event is always followed by a close event.
            Some(Err(WebSocketError::ConnectionError)) => Self::Nothing,
            Some(Err(WebSocketError::ConnectionClose(e))) => Self::Closed(e.code),
            Some(Err(_)) | None => Self::Closed(1006),
        }
    }
}
