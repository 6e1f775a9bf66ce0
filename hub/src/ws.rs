//! One WebSocket connection: authentication, the `hello` handshake, then the
//! loop that reads client frames, forwards live frames and keeps the
//! connection honest with heartbeats.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use room_protocol::{
    decode_client_frame, encode, ClientFrame, DecodeError, ErrorCode, ErrorFrame, Hello,
    ServerFrame, Token, CLOSE_IDLE, CLOSE_LINK_REPLACED, CLOSE_MESSAGE_TOO_BIG,
    CLOSE_POLICY_VIOLATION, CLOSE_PROTOCOL_ERROR, CLOSE_REPLACED, CLOSE_ROOM_NOT_FOUND,
    CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHORIZED, DEAD_LINK_MS, PING_EVERY_MS,
};
/// Close code (RFC 6455): the server is going away; clients reconnect.
const CLOSE_GOING_AWAY: u16 = 1001;

use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::outbox::{Cut, Outbox, Outlet, Refused, MAX_QUEUED_BYTES};
use crate::rate::{PresenceLimit, Verdict};
use crate::room::{Room, SendError};
use crate::tokens::Access;

/// Heartbeat settings of the hub's side.
#[derive(Debug, Clone, Copy)]
pub struct Heartbeat {
    /// How often the hub sends a WebSocket ping. Default 10 s
    /// ([`PING_EVERY_MS`]).
    pub ping_every: Duration,
    /// How long a connection may send nothing at all (not even a pong)
    /// before the hub drops it. Default 25 s: the client's dead-link
    /// window ([`DEAD_LINK_MS`]) and half a ping.
    pub idle_timeout: Duration,
    /// How long a new connection may take to send `hello` before the hub
    /// closes it with 4408. Default 10 s: the client sends it as soon as
    /// the socket opens, so only a stuck or hostile peer waits longer, and
    /// it should not hold a connection slot meanwhile.
    pub hello_within: Duration,
    /// Most bytes of live frames and replies waiting for one peer before
    /// the hub closes it with 1013. Default [`MAX_QUEUED_BYTES`] (16 MiB).
    pub max_queued_bytes: usize,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_millis(PING_EVERY_MS),
            idle_timeout: Duration::from_millis(DEAD_LINK_MS + PING_EVERY_MS / 2),
            hello_within: Duration::from_secs(10),
            max_queued_bytes: MAX_QUEUED_BYTES,
        }
    }
}

/// Who is on the other end, decided before the upgrade completed.
#[derive(Debug)]
pub enum Admission {
    /// The room, the access level, and the token that granted it (kept to
    /// notice, on joining, a link the host replaced meanwhile).
    Admitted(Arc<Room>, Access, Token),
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
    let (room, access, token) = match admission {
        Admission::Admitted(room, access, token) => (room, access, token),
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
        token,
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
    token: Token,
    heartbeat: Heartbeat,
}

impl Connection {
    async fn run(self, sink: Sink, mut stream: Stream, hello: Hello) {
        // From here on a writer task sends; neither this loop nor the room
        // ever waits for the peer to read.
        let mut outbox = Outbox::start(sink, self.heartbeat.max_queued_bytes);
        let outlet = outbox.outlet().clone();
        let joined = self
            .room
            .join(&hello, self.access, &self.token, &outlet)
            .await;
        let peer_id = joined.peer_id.clone();
        tracing::debug!(room = self.room.id(), peer = %peer_id, read_only = (self.access == Access::ReadOnly), "peer joined");

        let start = Instant::now() + self.heartbeat.ping_every;
        let mut ping = interval_at(start, self.heartbeat.ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let mut presence_limit = PresenceLimit::new(last_heard.into_std());
        // Why the outlet stopped taking frames decides the close code.
        let cut = |why: Cut| match why {
            Cut::Overflowed => {
                tracing::info!(peer = %peer_id, "peer is not reading; asking it to reconnect");
                Ending::Close(
                    CLOSE_TRY_AGAIN_LATER,
                    "not reading fast enough; reconnect to catch up",
                )
            }
            Cut::Replaced => {
                tracing::debug!(peer = %peer_id, "a newer connection of this tab took over");
                Ending::Close(CLOSE_REPLACED, "replaced by a newer connection of this tab")
            }
            Cut::LinkReplaced => {
                tracing::debug!(peer = %peer_id, "the host replaced this connection's link");
                Ending::Close(CLOSE_LINK_REPLACED, "the host replaced this link")
            }
        };
        // A frame the outlet refused: it overflowed just now, or was cut
        // before for either reason.
        let refused = || cut(outlet.cut_now().unwrap_or(Cut::Overflowed));

        let ending = loop {
            tokio::select! {
                incoming = stream.next() => {
                    last_heard = Instant::now();
                    let queued = match incoming {
                        None | Some(Ok(Message::Close(_))) => break Ending::Gone,
                        Some(Err(e)) => break Ending::from_read_error(&e),
                        Some(Ok(Message::Text(text))) => {
                            match self.handle_text(&outlet, &peer_id, &text, &mut presence_limit).await {
                                Handled::Flood => {
                                    tracing::info!(peer = %peer_id, "peer floods presence frames; closing");
                                    break Ending::Close(CLOSE_POLICY_VIOLATION, "too many presence frames");
                                }
                                Handled::Queued(queued) => queued,
                            }
                        }
                        Some(Ok(Message::Binary(_))) => {
                            reply_error(&outlet, ErrorFrame::new(ErrorCode::BadFrame, "frames are JSON text, not binary"))
                        }
                        // Pings are answered by the WebSocket layer; both
                        // only count as signs of life.
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                    };
                    if queued.is_err() {
                        break refused();
                    }
                }
                why = outlet.cut() => break cut(why),
                () = outbox.finished() => break Ending::Gone,
                () = self.room.closed() => break Ending::Close(CLOSE_GOING_AWAY, "the hub is shutting down"),
                _ = ping.tick() => {
                    if last_heard.elapsed() >= self.heartbeat.idle_timeout {
                        break Ending::Close(CLOSE_IDLE, "silent for too long");
                    }
                    if outlet.push(Message::Ping(Default::default())).is_err() {
                        break refused();
                    }
                }
            }
        };
        // Leave first, so the room never lists a peer that is closing.
        self.room.leave(&joined).await;
        tracing::debug!(room = self.room.id(), peer = %peer_id, "peer left");
        if let Ending::Close(code, reason) = ending {
            if let Some(mut sink) = outbox.stop(CLOSE_GRACE).await {
                close(&mut sink, &mut stream, code, reason).await;
            }
        }
    }

    /// Handles one text frame after hello: `Queued(Err)` when a reply
    /// overflows the outbox, `Flood` when presence frames flood.
    async fn handle_text(
        &self,
        outbox: &Outlet,
        peer_id: &str,
        text: &str,
        presence_limit: &mut PresenceLimit,
    ) -> Handled {
        let frame = decode_client_frame(text);
        if let Ok(ClientFrame::PeerUpdate(_) | ClientFrame::Presence(_)) = &frame {
            match presence_limit.frame(Instant::now().into_std()) {
                Verdict::Apply => {}
                Verdict::Drop => return Handled::Queued(Ok(())),
                Verdict::Flood => return Handled::Flood,
            }
        }
        Handled::Queued(self.handle_frame(outbox, peer_id, frame).await)
    }

    /// Carries out one decoded frame; `Err` when a reply overflows the
    /// outbox.
    async fn handle_frame(
        &self,
        outbox: &Outlet,
        peer_id: &str,
        frame: Result<ClientFrame, DecodeError>,
    ) -> Result<(), Refused> {
        match frame {
            Ok(ClientFrame::FileEdit(edit)) => {
                match self.room.apply_edit(peer_id, self.access, edit).await {
                    // The acknowledgement is the broadcast file-changed.
                    Ok(_) => Ok(()),
                    Err(err) => reply_error(outbox, err),
                }
            }
            Ok(ClientFrame::PeerUpdate(profile)) => {
                self.room.update_peer(peer_id, &profile).await;
                Ok(())
            }
            Ok(ClientFrame::Presence(presence)) => {
                self.room
                    .update_presence(peer_id, presence.open.as_deref())
                    .await;
                Ok(())
            }
            Ok(ClientFrame::Ping(ping)) => outbox.push_text(&encode(&ServerFrame::Pong(ping))),
            Ok(ClientFrame::FileRequest(request)) => {
                match self.room.send_contents(request, outbox).await {
                    Ok(()) => Ok(()),
                    Err(SendError::Refused(err)) => reply_error(outbox, err),
                    Err(SendError::Overflowed(refused)) => Err(refused),
                }
            }
            Ok(ClientFrame::Hello(_)) => reply_error(
                outbox,
                ErrorFrame::new(ErrorCode::BadFrame, "hello was already received"),
            ),
            Ok(_) => reply_error(
                outbox,
                ErrorFrame::new(
                    ErrorCode::UnknownType,
                    "this hub does not handle that frame",
                ),
            ),
            Err(DecodeError::UnknownType(kind)) => reply_error(
                outbox,
                ErrorFrame::new(
                    ErrorCode::UnknownType,
                    format!("unknown frame type {kind:?}"),
                ),
            ),
            Err(e) => reply_error(outbox, ErrorFrame::new(ErrorCode::BadFrame, e.to_string())),
        }
    }
}

/// What became of a text frame.
enum Handled {
    /// Carried out (or dropped by the presence limit); `Err` when a reply
    /// overflowed the outbox.
    Queued(Result<(), Refused>),
    /// Presence frames flood: close the connection.
    Flood,
}

async fn refuse_before_hello(sink: &mut Sink, stream: &mut Stream) {
    let _ = send_error(
        sink,
        ErrorFrame::new(ErrorCode::HelloFirst, "the first frame must be hello"),
    )
    .await;
    close(sink, stream, CLOSE_PROTOCOL_ERROR, "hello first").await;
}

async fn send_frame(sink: &mut Sink, frame: &ServerFrame) -> bool {
    sink.send(Message::Text(encode(frame).into())).await.is_ok()
}

async fn send_error(sink: &mut Sink, error: ErrorFrame) -> bool {
    send_frame(sink, &ServerFrame::Error(error)).await
}

fn reply_error(outbox: &Outlet, error: ErrorFrame) -> Result<(), Refused> {
    outbox.push_text(&encode(&ServerFrame::Error(error)))
}

/// How long the hub waits for the client to answer its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Closes with `code`, then waits briefly for the client's close frame.
/// Dropping the TCP connection at once could make the client's pending
/// writes fail with a reset before it reads the close code, and the close
/// code is the whole message for a browser. A peer that takes nothing,
/// not even the close frame, is dropped after [`CLOSE_GRACE`].
async fn close(sink: &mut Sink, stream: &mut Stream, code: u16, reason: &'static str) {
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        let sent = sink
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
        if sent.is_ok() {
            while let Some(Ok(message)) = stream.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        }
    })
    .await;
    let _ = tokio::time::timeout(CLOSE_GRACE, sink.close()).await;
}

/// Counts an upgrade attempt and, for refusals, why.
pub fn count_attempt(room: &Room, admission: &Admission) {
    room.stats.attempts.fetch_add(1, Ordering::Relaxed);
    if matches!(admission, Admission::Unauthorized) {
        room.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
    }
}
