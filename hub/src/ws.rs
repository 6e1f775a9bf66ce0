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
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(45),
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

/// Runs one connection to its end.
pub async fn serve_connection(socket: WebSocket, admission: Admission, heartbeat: Heartbeat) {
    let (mut sink, mut stream) = socket.split();
    let (room, access) = match admission {
        Admission::Admitted(room, access) => (room, access),
        Admission::UnknownRoom => {
            close(&mut sink, CLOSE_ROOM_NOT_FOUND, "unknown room").await;
            return;
        }
        Admission::Unauthorized => {
            close(&mut sink, CLOSE_UNAUTHORIZED, "invalid or expired link").await;
            return;
        }
    };

    // The first frame must be hello; allow the idle timeout for it.
    let hello = match tokio::time::timeout(heartbeat.idle_timeout, stream.next()).await {
        Err(_) => {
            close(&mut sink, CLOSE_IDLE, "no hello").await;
            return;
        }
        Ok(None | Some(Ok(Message::Close(_)))) => return,
        Ok(Some(Err(e))) => {
            close_for_read_error(&mut sink, &e).await;
            return;
        }
        Ok(Some(Ok(Message::Text(text)))) => match decode_client_frame(&text) {
            Ok(ClientFrame::Hello(hello)) => hello,
            _ => {
                refuse_before_hello(&mut sink).await;
                return;
            }
        },
        Ok(Some(Ok(_))) => {
            refuse_before_hello(&mut sink).await;
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

struct Connection {
    room: Arc<Room>,
    access: Access,
    heartbeat: Heartbeat,
}

impl Connection {
    async fn run(
        self,
        mut sink: Sink,
        mut stream: futures_util::stream::SplitStream<WebSocket>,
        hello: Hello,
    ) {
        let joined = self.room.join(&hello, self.access).await;
        let peer_id = joined.peer_id;
        let mut live = joined.live;
        tracing::debug!(room = self.room.id(), peer = %peer_id, read_only = (self.access == Access::ReadOnly), "peer joined");

        let mut ok = true;
        for text in joined.catch_up {
            if sink.send(Message::Text(Utf8Bytes::from(&*text))).await.is_err() {
                ok = false;
                break;
            }
        }

        let start = Instant::now() + self.heartbeat.ping_every;
        let mut ping = interval_at(start, self.heartbeat.ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();

        while ok {
            tokio::select! {
                incoming = stream.next() => {
                    last_heard = Instant::now();
                    match incoming {
                        None | Some(Ok(Message::Close(_))) => break,
                        Some(Err(e)) => {
                            close_for_read_error(&mut sink, &e).await;
                            break;
                        }
                        Some(Ok(Message::Text(text))) => {
                            ok = self.handle_text(&mut sink, &peer_id, &text).await;
                        }
                        Some(Ok(Message::Binary(_))) => {
                            ok = send_error(&mut sink, ErrorFrame::new(ErrorCode::BadFrame, "frames are JSON text, not binary")).await;
                        }
                        // Pings are answered by the WebSocket layer; both only
                        // count as signs of life.
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    }
                }
                frame = live.recv() => match frame {
                    Ok(text) => {
                        ok = sink.send(Message::Text(Utf8Bytes::from(&*text))).await.is_ok();
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::info!(peer = %peer_id, missed, "peer fell behind; asking it to reconnect");
                        close(&mut sink, CLOSE_TRY_AGAIN_LATER, "fell behind; reconnect to catch up").await;
                        break;
                    }
                    Err(RecvError::Closed) => break,
                },
                () = self.room.closed() => {
                    close(&mut sink, CLOSE_GOING_AWAY, "the hub is shutting down").await;
                    break;
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() >= self.heartbeat.idle_timeout {
                        close(&mut sink, CLOSE_IDLE, "silent for too long").await;
                        break;
                    }
                    ok = sink.send(Message::Ping(Default::default())).await.is_ok();
                }
            }
        }
        self.room.leave(&peer_id).await;
        tracing::debug!(room = self.room.id(), peer = %peer_id, "peer left");
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
                    ErrorFrame::new(ErrorCode::UnknownType, "this hub does not handle that frame"),
                )
                .await
            }
            Err(DecodeError::UnknownType(kind)) => {
                send_error(
                    sink,
                    ErrorFrame::new(ErrorCode::UnknownType, format!("unknown frame type {kind:?}")),
                )
                .await
            }
            Err(e) => send_error(sink, ErrorFrame::new(ErrorCode::BadFrame, e.to_string())).await,
        }
    }
}

async fn refuse_before_hello(sink: &mut Sink) {
    let _ = send_error(
        sink,
        ErrorFrame::new(ErrorCode::HelloFirst, "the first frame must be hello"),
    )
    .await;
    close(sink, CLOSE_PROTOCOL_ERROR, "hello first").await;
}

async fn close_for_read_error(sink: &mut Sink, error: &axum::Error) {
    // axum wraps tungstenite's error; a message over the limit reads as a
    // capacity error, anything else is a broken connection.
    let text = error.to_string();
    if text.contains("Space limit exceeded") || text.contains("too long") || text.contains("Message too long") {
        close(sink, CLOSE_MESSAGE_TOO_BIG, "message too big").await;
    } else {
        tracing::debug!(error = %text, "connection read failed");
    }
}

async fn send_frame(sink: &mut Sink, frame: &ServerFrame) -> bool {
    sink.send(Message::Text(encode(frame).into())).await.is_ok()
}

async fn send_error(sink: &mut Sink, error: ErrorFrame) -> bool {
    send_frame(sink, &ServerFrame::Error(error)).await
}

async fn close(sink: &mut Sink, code: u16, reason: &'static str) {
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
    let _ = sink.close().await;
}

/// Counts an upgrade attempt and, for refusals, why.
pub fn count_attempt(room: &Room, admission: &Admission) {
    room.stats.attempts.fetch_add(1, Ordering::Relaxed);
    if matches!(admission, Admission::Unauthorized) {
        room.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
    }
}
