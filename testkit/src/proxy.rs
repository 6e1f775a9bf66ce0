//! A TCP proxy between browser and hub that fails on command: pass,
//! blackhole (hold every byte, close nothing), a Wi-Fi drop (the flows
//! open at the drop are lost for good), delay (hold the hub's bytes back),
//! refuse new connections, and reset the open ones.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the proxy treats traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward everything.
    Pass,
    /// Forward nothing in either direction and close nothing; bytes are
    /// held and flow again when the mode changes.
    Blackhole,
    /// Like `Blackhole`, but only for WebSocket connections: pages and
    /// assets still load, the room's socket is dead.
    BlackholeSockets,
    /// A Wi-Fi drop: every flow open when it began is lost for good (the
    /// bytes it holds are never delivered, and neither side sees a close,
    /// even after the link is back), and new connections wait until the
    /// link is back, then work.
    WifiDrop,
    /// Close new connections at once; open ones keep working.
    Refuse,
    /// Close new WebSocket connections at once.
    RefuseSockets,
}

impl Mode {
    fn holds(self, socket: bool) -> bool {
        matches!(self, Mode::Blackhole | Mode::WifiDrop)
            || (socket && self == Mode::BlackholeSockets)
    }

    fn refuses(self, socket: bool) -> bool {
        self == Mode::Refuse || (socket && self == Mode::RefuseSockets)
    }
}

/// Counters and timestamps, for assertions.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Connections accepted (including refused ones).
    pub accepted: AtomicU64,
    /// Connections forwarded to the hub.
    pub forwarded: AtomicU64,
    /// WebSocket upgrade requests seen (refused ones included).
    pub socket_attempts: AtomicU64,
    /// Unix ms at which the first byte from the hub was passed on to the
    /// browser, on the newest WebSocket connection.
    pub socket_first_byte_ms: AtomicU64,
    /// Unix ms at which the newest WebSocket upgrade request arrived.
    pub socket_request_ms: AtomicU64,
    /// Bytes passed from the hub to the browser on connections that are not
    /// WebSockets (pages and assets, headers included): what a page load
    /// costs on the wire.
    pub http_bytes_to_browser: AtomicU64,
}

/// How many WebSocket upgrade requests [`Proxy::socket_requests`] keeps.
const SOCKET_REQUESTS_KEPT: usize = 256;

/// A WebSocket upgrade request as it arrived on the wire, for tests that
/// check what the browser sent (where the token travels) and when (the
/// backoff between attempts).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SocketRequest {
    /// Unix ms at which it arrived.
    pub at_ms: u64,
    /// The request target: path and query.
    pub target: String,
    /// Every header line, in order, as name and value.
    pub headers: Vec<(String, String)>,
}

impl SocketRequest {
    /// Reads the head of an HTTP request (as much of it as `bytes` holds).
    fn parse(bytes: &[u8], at_ms: u64) -> Self {
        let text = String::from_utf8_lossy(bytes);
        let head = text.split("\r\n\r\n").next().unwrap_or_default();
        let mut lines = head.split("\r\n");
        let target = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .unwrap_or_default()
            .to_owned();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        Self {
            at_ms,
            target,
            headers,
        }
    }
}

/// The running proxy.
#[derive(Debug)]
pub struct Proxy {
    mode: watch::Sender<Mode>,
    /// How many Wi-Fi drops began: a flow born before the latest one is
    /// lost.
    drops: Arc<AtomicU64>,
    delay_ms: Arc<AtomicU64>,
    socket_delay_ms: Arc<AtomicU64>,
    upstream_port: u16,
    /// Counters.
    pub stats: Arc<ProxyStats>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// The newest WebSocket upgrade requests, oldest first.
    socket_requests: Mutex<Vec<SocketRequest>>,
    /// Where it listens.
    pub port: u16,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream_port`.
    pub async fn start(upstream_port: u16) -> std::io::Result<Arc<Self>> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let proxy = Arc::new(Self {
            mode: watch::Sender::new(Mode::Pass),
            drops: Arc::new(AtomicU64::new(0)),
            delay_ms: Arc::new(AtomicU64::new(0)),
            socket_delay_ms: Arc::new(AtomicU64::new(0)),
            upstream_port,
            stats: Arc::new(ProxyStats::default()),
            connections: Arc::new(Mutex::new(Vec::new())),
            socket_requests: Mutex::new(Vec::new()),
            port,
        });
        let accept = Arc::clone(&proxy);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                accept.stats.accepted.fetch_add(1, Ordering::Relaxed);
                let task = tokio::spawn(Arc::clone(&accept).forward(client));
                let mut open = accept.connections.lock().unwrap_or_else(|e| e.into_inner());
                open.retain(|t| !t.is_finished());
                open.push(task);
            }
        });
        Ok(proxy)
    }

    /// Changes the mode; held bytes flow again when leaving `Blackhole`,
    /// and never for the flows a `WifiDrop` cut.
    pub fn set_mode(&self, mode: Mode) {
        let before = self.mode.send_replace(mode);
        if mode == Mode::WifiDrop && before != Mode::WifiDrop {
            self.drops.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        *self.mode.borrow()
    }

    /// Holds each chunk from the hub for `ms` before forwarding (0: off).
    pub fn set_delay(&self, ms: u64) {
        self.delay_ms.store(ms, Ordering::Relaxed);
    }

    /// Like [`Self::set_delay`], for WebSocket connections only.
    pub fn set_socket_delay(&self, ms: u64) {
        self.socket_delay_ms.store(ms, Ordering::Relaxed);
    }

    /// The newest WebSocket upgrade requests (at most 256), oldest first.
    pub fn socket_requests(&self) -> Vec<SocketRequest> {
        self.socket_requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Resets every open connection (RST), as a crashed router would.
    pub fn reset_all(&self) -> usize {
        let mut open = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.iter().filter(|t| !t.is_finished()).count();
        for task in open.drain(..) {
            task.abort();
        }
        n
    }

    async fn forward(self: Arc<Self>, mut client: TcpStream) {
        let flow = Flow {
            born_after: self.drops.load(Ordering::Acquire),
            drops: Arc::clone(&self.drops),
        };
        let _ = client.set_zero_linger();
        // Relayed chunks go out at once, as the hub's own writes do: with
        // Nagle on, a small frame can wait ~40 ms for a delayed ACK, which
        // would show up as hub latency in every timing taken through here.
        let _ = client.set_nodelay(true);
        // The first chunk tells a WebSocket upgrade from a page or asset
        // request, so faults can target the room's socket alone.
        let mut first = vec![0_u8; 16 * 1024];
        let n = match client.read(&mut first).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        first.truncate(n);
        let socket = String::from_utf8_lossy(&first)
            .to_ascii_lowercase()
            .contains("upgrade: websocket");
        if socket {
            let at_ms = now_ms();
            self.stats.socket_attempts.fetch_add(1, Ordering::Relaxed);
            self.stats.socket_request_ms.store(at_ms, Ordering::Relaxed);
            let mut kept = self
                .socket_requests
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if kept.len() == SOCKET_REQUESTS_KEPT {
                kept.remove(0);
            }
            kept.push(SocketRequest::parse(&first, at_ms));
        }
        if self.mode().refuses(socket) {
            return;
        }
        // A link that says nothing asks nothing of the hub either: whether
        // the hub is up is only found out once the link is back.
        let mut mode = self.mode.subscribe();
        if mode.wait_for(|m| !m.holds(socket)).await.is_err() {
            return;
        }
        flow.stay_silent_if_lost().await;
        let Ok(upstream) = TcpStream::connect(("127.0.0.1", self.upstream_port)).await else {
            return;
        };
        self.stats.forwarded.fetch_add(1, Ordering::Relaxed);
        // Aborting this task drops both sockets; linger 0 turns that into
        // a reset rather than an orderly close.
        let _ = upstream.set_zero_linger();
        let _ = upstream.set_nodelay(true);
        let (client_read, client_write) = client.into_split();
        let (hub_read, mut hub_write) = upstream.into_split();
        if hub_write.write_all(&first).await.is_err() {
            return;
        }
        let delay = if socket {
            &self.socket_delay_ms
        } else {
            &self.delay_ms
        };
        let up = pump(
            client_read,
            hub_write,
            self.mode.subscribe(),
            socket,
            flow.clone(),
            None,
            None,
        );
        let down = pump(
            hub_read,
            client_write,
            self.mode.subscribe(),
            socket,
            flow,
            Some(Arc::clone(delay)),
            Some(Arc::clone(&self.stats)),
        );
        tokio::select! {
            () = up => {}
            () = down => {}
        }
    }
}

/// One connection through the proxy, and whether a Wi-Fi drop cut it.
#[derive(Debug, Clone)]
struct Flow {
    /// The number of drops that had begun when it opened.
    born_after: u64,
    drops: Arc<AtomicU64>,
}

impl Flow {
    /// A flow that was open when a drop began never moves a byte again
    /// and never closes: this waits forever, holding its sockets open.
    async fn stay_silent_if_lost(&self) {
        if self.drops.load(Ordering::Acquire) > self.born_after {
            std::future::pending::<()>().await;
        }
    }
}

/// Chunks read but not yet passed on, at most (16 KiB each): past that the
/// proxy stops reading and the sender feels it, as on a real link.
const IN_FLIGHT_CHUNKS: usize = 64;

/// Moves bytes one way. A delay is latency, not a stall: each chunk is
/// passed on `delay` after it was read, while later chunks are read
/// meanwhile, so a delayed link still carries its full rate.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mode: watch::Receiver<Mode>,
    socket: bool,
    flow: Flow,
    delay_ms: Option<Arc<AtomicU64>>,
    // Given for the hub-to-browser direction, which is counted.
    to_browser: Option<Arc<ProxyStats>>,
) {
    let (chunks, mut in_flight) =
        tokio::sync::mpsc::channel::<(tokio::time::Instant, Vec<u8>)>(IN_FLIGHT_CHUNKS);
    let read = {
        let (mut mode, flow) = (mode.clone(), flow.clone());
        async move {
            let mut buf = vec![0_u8; 16 * 1024];
            loop {
                // In a blackhole nothing is read, so nothing is acknowledged
                // upstream either: the sender's buffers fill, as on a dead link.
                if mode.wait_for(|m| !m.holds(socket)).await.is_err() {
                    return;
                }
                flow.stay_silent_if_lost().await;
                let n = match from.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let delay = delay_ms.as_ref().map_or(0, |d| d.load(Ordering::Relaxed));
                let due = tokio::time::Instant::now() + Duration::from_millis(delay);
                if chunks.send((due, buf[..n].to_vec())).await.is_err() {
                    return;
                }
            }
        }
    };
    let write = async move {
        let mut mode = mode;
        let mut first = true;
        while let Some((due, chunk)) = in_flight.recv().await {
            tokio::time::sleep_until(due).await;
            // Bytes read just before a blackhole began are held too, and
            // those of a flow a drop cut are never delivered.
            if mode.wait_for(|m| !m.holds(socket)).await.is_err() {
                return;
            }
            flow.stay_silent_if_lost().await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
            match &to_browser {
                Some(stats) if !socket => {
                    stats
                        .http_bytes_to_browser
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
                Some(stats) if first => {
                    stats
                        .socket_first_byte_ms
                        .store(now_ms(), Ordering::Relaxed);
                }
                _ => {}
            }
            first = false;
        }
    };
    // The write side ends when the read side has ended and everything read
    // has been passed on; a write error ends both.
    let read_then_wait = async {
        read.await;
        std::future::pending::<()>().await
    };
    tokio::select! {
        () = write => {}
        () = read_then_wait => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream that echoes every byte back.
    async fn echo() -> u16 {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut read, mut write) = stream.split();
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                });
            }
        });
        port
    }

    async fn round_trip(stream: &mut TcpStream, text: &[u8], within: Duration) -> Option<Vec<u8>> {
        stream.write_all(text).await.ok()?;
        let mut buf = vec![0_u8; text.len()];
        match tokio::time::timeout(within, stream.read_exact(&mut buf)).await {
            Ok(Ok(_)) => Some(buf),
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_delay_is_latency_and_the_link_keeps_its_rate() {
        let proxy = Proxy::start(echo().await).await.unwrap();
        proxy.set_delay(100);
        let stream = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let sent: Vec<u8> = (0..512 * 1024_u32).map(|i| (i % 251) as u8).collect();
        let started = std::time::Instant::now();
        let to_send = sent.clone();
        // The write half comes back to be kept open: a half-close ends the
        // connection through the proxy.
        let writer = tokio::spawn(async move {
            write.write_all(&to_send).await.unwrap();
            write
        });
        let mut got = vec![0_u8; sent.len()];
        read.read_exact(&mut got).await.unwrap();
        let took = started.elapsed();
        drop(writer.await.unwrap());
        assert_eq!(got, sent);
        // 32 chunks or more: one 100 ms stall each would take 3.2 s.
        assert!(
            took >= Duration::from_millis(100) && took < Duration::from_millis(1500),
            "512 KiB through a 100 ms delay took {took:?}"
        );
    }

    #[tokio::test]
    async fn upgrade_requests_are_kept_as_they_arrived_and_other_requests_are_not() {
        let proxy = Proxy::start(echo().await).await.unwrap();
        let upgrade = b"GET /rooms/r/ws?x=1 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\
            Sec-WebSocket-Protocol: room.v1, room.token.abc\r\n\r\n";
        for request in [&b"GET /page HTTP/1.1\r\nHost: h\r\n\r\n"[..], &upgrade[..]] {
            let mut stream = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
            let echoed = round_trip(&mut stream, request, Duration::from_secs(2)).await;
            assert_eq!(echoed.as_deref(), Some(request), "forwarded as is");
        }
        let kept = proxy.socket_requests();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(kept[0].target, "/rooms/r/ws?x=1");
        assert_eq!(
            kept[0].headers,
            [
                ("Host".to_owned(), "h".to_owned()),
                ("Upgrade".to_owned(), "websocket".to_owned()),
                (
                    "Sec-WebSocket-Protocol".to_owned(),
                    "room.v1, room.token.abc".to_owned()
                ),
            ]
        );
        assert!(kept[0].at_ms > 0);
    }

    #[tokio::test]
    async fn a_blackhole_says_nothing_even_when_nothing_listens_behind_it() {
        let nothing = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = nothing.local_addr().unwrap().port();
        drop(nothing);
        let proxy = Proxy::start(port).await.unwrap();
        proxy.set_mode(Mode::Blackhole);
        let mut held = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        held.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut one = [0_u8; 1];
        assert!(
            tokio::time::timeout(Duration::from_millis(500), held.read(&mut one))
                .await
                .is_err(),
            "neither an answer nor a close while the link is dead"
        );
        // The link is back: now the refusal behind it shows, as a close.
        proxy.set_mode(Mode::Pass);
        let closed = tokio::time::timeout(Duration::from_secs(2), held.read(&mut one))
            .await
            .expect("closed once the link is back");
        assert!(matches!(closed, Ok(0) | Err(_)));
    }

    #[tokio::test]
    async fn a_wifi_drop_loses_the_open_flows_for_good_and_new_ones_wait_for_the_link() {
        let proxy = Proxy::start(echo().await).await.unwrap();
        let mut old = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        let quick = Duration::from_millis(300);
        assert_eq!(
            round_trip(&mut old, b"before", quick).await.as_deref(),
            Some(&b"before"[..])
        );

        proxy.set_mode(Mode::WifiDrop);
        // Written during the drop: held, and later never delivered.
        old.write_all(b"during").await.unwrap();
        let mut new = TcpStream::connect(("127.0.0.1", proxy.port)).await.unwrap();
        new.write_all(b"waits").await.unwrap();
        let mut buf = [0_u8; 5];
        assert!(
            tokio::time::timeout(quick, new.read_exact(&mut buf))
                .await
                .is_err(),
            "nothing passes while the link is down"
        );

        proxy.set_mode(Mode::Pass);
        tokio::time::timeout(Duration::from_secs(2), new.read_exact(&mut buf))
            .await
            .expect("a connection made during the drop works once the link is back")
            .unwrap();
        assert_eq!(&buf, b"waits");
        // The old flow: no bytes, and no close either, as on a dead link.
        let mut one = [0_u8; 1];
        assert!(
            tokio::time::timeout(Duration::from_millis(500), old.read(&mut one))
                .await
                .is_err(),
            "a lost flow neither delivers nor closes"
        );
        assert_eq!(round_trip(&mut old, b"after", quick).await, None);
    }
}
