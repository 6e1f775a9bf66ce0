//! One WebSocket connection: authentication, the `hello` handshake, then the
//! loop that reads client frames, forwards live frames and keeps the
//! connection honest with heartbeats.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use room_protocol::{
    decode_client_frame, encode, ClientFrame, DecodeError, ErrorCode, ErrorFrame, Hello,
    ServerFrame, CLOSE_IDLE, CLOSE_MESSAGE_TOO_BIG, CLOSE_PROTOCOL_ERROR, CLOSE_ROOM_NOT_FOUND,
    CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHORIZED,
};
use tokio::sync::broadcast::error::RecvError;
/// Close code (RFC 6455): the server is going away; clients reconnect.
const CLOSE_GOING_AWAY: u16 = 1001;

use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::room::Room;
use crate::tokens::Access;

/// Heartbeat settings of the hub's side.
#[derive(Debug, Clone, Copy)]
pub struct Heartbeat {
    /// How often the hub sends a WebSocket ping. Default 15 s.
    pub ping_every: Duration,
    /// How long a connection may send nothing at all (not even a pong)
    /// before the hub drops it. Default 45 s.
    pub idle_timeout: Duration,
    /// How long a new connection may take to send `hello` before the hub
    /// closes it with 4408. Default 10 s: the client sends it as soon as
    /// the socket opens, so only a stuck or hostile peer waits longer, and
    /// it should not hold a connection slot meanwhile.
    pub hello_within: Duration,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(45),
            hello_within: Duration::from_secs(10),
        }
    }
}

/// Who is on the other end, decided before the upgrade completed.
#[derive(Debug)]
pub enum Admission {
    /// The room and its access level.
    Admitted(Arc<Room>, Access),
    /// No such room: close 4404.
    UnknownRoom,
    /// Missing or wrong token: close 4401.
    Unauthorized,
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;
type Stream = futures_util::stream::SplitStream<WebSocket>;

/// Runs one connection to its end.
pub async fn serve_connection(socket: WebSocket, admission: Admission, heartbeat: Heartbeat) {
    let (mut sink, mut stream) = socket.split();
    let (room, access) = match admission {
        Admission::Admitted(room, access) => (room, access),
        Admission::UnknownRoom => {
            close(&mut sink, &mut stream, CLOSE_ROOM_NOT_FOUND, "unknown room").await;
            return;
        }
        Admission::Unauthorized => {
            close(
                &mut sink,
                &mut stream,
                CLOSE_UNAUTHORIZED,
                "invalid or expired link",
            )
            .await;
            return;
        }
    };

    // The first frame must be hello, and soon.
    let hello = match tokio::time::timeout(heartbeat.hello_within, stream.next()).await {
        Err(_) => {
            close(&mut sink, &mut stream, CLOSE_IDLE, "no hello").await;
            return;
        }
        Ok(None | Some(Ok(Message::Close(_)))) => return,
        Ok(Some(Err(e))) => {
            if let Ending::Close(code, reason) = Ending::from_read_error(&e) {
                close(&mut sink, &mut stream, code, reason).await;
            }
            return;
        }
        Ok(Some(Ok(Message::Text(text)))) => match decode_client_frame(&text) {
            Ok(ClientFrame::Hello(hello)) => hello,
            _ => {
                refuse_before_hello(&mut sink, &mut stream).await;
                return;
            }
        },
        Ok(Some(Ok(_))) => {
            refuse_before_hello(&mut sink, &mut stream).await;
            return;
        }
    };

    let connection = Connection {
        room,
        access,
        heartbeat,
    };
    connection.run(sink, stream, hello).await;
}

/// How a connection ends.
enum Ending {
    /// The client left or the socket broke: nothing more to send.
    Gone,
    /// The hub closes with this code and reason.
    Close(u16, &'static str),
}

impl Ending {
    fn from_read_error(error: &axum::Error) -> Self {
        // axum wraps tungstenite's error; a message over the size limit
        // reads as a capacity error, anything else is a broken connection.
        let text = error.to_string();
        if text.contains("Message too long") || text.contains("Space limit exceeded") {
            Self::Close(CLOSE_MESSAGE_TOO_BIG, "message too big")
        } else {
            tracing::debug!(error = %text, "connection read failed");
            Self::Gone
        }
    }
}

struct Connection {
    room: Arc<Room>,
    access: Access,
    heartbeat: Heartbeat,
}

impl Connection {
    async fn run(self, mut sink: Sink, mut stream: Stream, hello: Hello) {
        let joined = self.room.join(&hello, self.access).await;
        let peer_id = joined.peer_id;
        let mut live = joined.live;
        tracing::debug!(room = self.room.id(), peer = %peer_id, read_only = (self.access == Access::ReadOnly), "peer joined");

        let mut ending = None;
        for text in joined.catch_up {
            if sink
                .send(Message::Text(Utf8Bytes::from(&*text)))
                .await
                .is_err()
            {
                ending = Some(Ending::Gone);
                break;
            }
        }

        let start = Instant::now() + self.heartbeat.ping_every;
        let mut ping = interval_at(start, self.heartbeat.ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();

        let ending = match ending {
            Some(ending) => ending,
            None => loop {
                tokio::select! {
                    incoming = stream.next() => {
                        last_heard = Instant::now();
                        let sent = match incoming {
                            None | Some(Ok(Message::Close(_))) => break Ending::Gone,
                            Some(Err(e)) => break Ending::from_read_error(&e),
                            Some(Ok(Message::Text(text))) => self.handle_text(&mut sink, &peer_id, &text).await,
                            Some(Ok(Message::Binary(_))) => {
                                send_error(&mut sink, ErrorFrame::new(ErrorCode::BadFrame, "frames are JSON text, not binary")).await
                            }
                            // Pings are answered by the WebSocket layer; both
                            // only count as signs of life.
                            Some(Ok(Message::Ping(_) | Message::Pong(_))) => true,
                        };
                        if !sent {
                            break Ending::Gone;
                        }
                    }
                    frame = live.recv() => match frame {
                        Ok(text) => {
                            // Under load, write every frame already waiting and
                            // flush once: one syscall for a burst, not one each.
                            let mut batch = vec![text];
                            while batch.len() < MAX_BATCH {
                                match live.try_recv() {
                                    Ok(more) => batch.push(more),
                                    Err(_) => break,
                                }
                            }
                            if send_batch(&mut sink, batch).await.is_err() {
                                break Ending::Gone;
                            }
                        }
                        Err(RecvError::Lagged(missed)) => {
                            tracing::info!(peer = %peer_id, missed, "peer fell behind; asking it to reconnect");
                            break Ending::Close(CLOSE_TRY_AGAIN_LATER, "fell behind; reconnect to catch up");
                        }
                        Err(RecvError::Closed) => break Ending::Close(CLOSE_GOING_AWAY, "the room closed"),
                    },
                    () = self.room.closed() => break Ending::Close(CLOSE_GOING_AWAY, "the hub is shutting down"),
                    _ = ping.tick() => {
                        if last_heard.elapsed() >= self.heartbeat.idle_timeout {
                            break Ending::Close(CLOSE_IDLE, "silent for too long");
                        }
                        if sink.send(Message::Ping(Default::default())).await.is_err() {
                            break Ending::Gone;
                        }
                    }
                }
            },
        };
        // Leave first, so the room never lists a peer that is closing.
        self.room.leave(&peer_id).await;
        tracing::debug!(room = self.room.id(), peer = %peer_id, "peer left");
        if let Ending::Close(code, reason) = ending {
            close(&mut sink, &mut stream, code, reason).await;
        }
    }

    /// Handles one text frame after hello; false when the connection is gone.
    async fn handle_text(&self, sink: &mut Sink, peer_id: &str, text: &str) -> bool {
        match decode_client_frame(text) {
            Ok(ClientFrame::FileEdit(edit)) => {
                match self.room.apply_edit(peer_id, self.access, edit).await {
                    // The acknowledgement is the broadcast file-changed.
                    Ok(_) => true,
                    Err(err) => send_error(sink, err).await,
                }
            }
            Ok(ClientFrame::PeerUpdate(profile)) => {
                self.room.update_peer(peer_id, &profile).await;
                true
            }
            Ok(ClientFrame::Presence(presence)) => {
                self.room
                    .update_presence(peer_id, presence.open.as_deref())
                    .await;
                true
            }
            Ok(ClientFrame::Ping(ping)) => send_frame(sink, &ServerFrame::Pong(ping)).await,
            Ok(ClientFrame::Hello(_)) => {
                send_error(
                    sink,
                    ErrorFrame::new(ErrorCode::BadFrame, "hello was already received"),
                )
                .await
            }
            Ok(_) => {
                send_error(
                    sink,
                    ErrorFrame::new(
                        ErrorCode::UnknownType,
                        "this hub does not handle that frame",
                    ),
                )
                .await
            }
            Err(DecodeError::UnknownType(kind)) => {
                send_error(
                    sink,
                    ErrorFrame::new(
                        ErrorCode::UnknownType,
                        format!("unknown frame type {kind:?}"),
                    ),
                )
                .await
            }
            Err(e) => send_error(sink, ErrorFrame::new(ErrorCode::BadFrame, e.to_string())).await,
        }
    }
}

async fn refuse_before_hello(sink: &mut Sink, stream: &mut Stream) {
    let _ = send_error(
        sink,
        ErrorFrame::new(ErrorCode::HelloFirst, "the first frame must be hello"),
    )
    .await;
    close(sink, stream, CLOSE_PROTOCOL_ERROR, "hello first").await;
}

/// Most live frames written before one flush.
const MAX_BATCH: usize = 64;

async fn send_batch(sink: &mut Sink, batch: Vec<Arc<str>>) -> Result<(), axum::Error> {
    for text in batch {
        sink.feed(Message::Text(Utf8Bytes::from(&*text))).await?;
    }
    sink.flush().await
}

async fn send_frame(sink: &mut Sink, frame: &ServerFrame) -> bool {
    sink.send(Message::Text(encode(frame).into())).await.is_ok()
}

async fn send_error(sink: &mut Sink, error: ErrorFrame) -> bool {
    send_frame(sink, &ServerFrame::Error(error)).await
}

/// How long the hub waits for the client to answer its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Closes with `code`, then waits briefly for the client's close frame.
/// Dropping the TCP connection at once could make the client's pending
/// writes fail with a reset before it reads the close code, and the close
/// code is the whole message for a browser.
async fn close(sink: &mut Sink, stream: &mut Stream, code: u16, reason: &'static str) {
    let sent = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
    if sent.is_ok() {
        let _ = tokio::time::timeout(CLOSE_GRACE, async {
            while let Some(Ok(message)) = stream.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    let _ = sink.close().await;
}

/// Counts an upgrade attempt and, for refusals, why.
pub fn count_attempt(room: &Room, admission: &Admission) {
    room.stats.attempts.fetch_add(1, Ordering::Relaxed);
    if matches!(admission, Admission::Unauthorized) {
        room.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
    }
}
