//! Accepting TCP connections and serving HTTP/1.1 on them, with the limits
//! a server left running on a network needs, which `axum::serve` does not
//! have: a deadline for the request headers, a cap on open connections,
//! and a cap on connections that have not sent a request yet.
//!
//! A connection that sends nothing is closed when its header deadline
//! passes. When more connections than [`ConnectionLimits::max_idle`] have
//! not sent a request, the oldest of them is closed to make room, so a
//! flood of silent connections cannot keep an honest client, which sends
//! its request at once, from getting in. At [`ConnectionLimits::max_open`]
//! new connections are refused (closed at once) with a log line, so the
//! hub never runs out of file descriptors.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

/// Limits on the connections a hub accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a connection may take to send a request's headers before
    /// it is closed. Default 10 s, like the time a socket has to say
    /// `hello`.
    pub header_read_timeout: Duration,
    /// Most connections open at once, WebSockets included; more are closed
    /// as soon as they are accepted. Default 1000, lowered at start if the
    /// process may not open that many files.
    pub max_open: usize,
    /// Most connections that have not sent a request yet; past this the
    /// oldest of them is closed. Default 128.
    pub max_idle: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_open: 1000,
            max_idle: 128,
        }
    }
}

/// How often the refusal and eviction log lines may repeat.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// How long accepting pauses after the OS refused (out of descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `stop` fires, then stops accepting,
/// lets open requests finish and returns once every connection is closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    sockets: OpenSockets,
    mut stop: oneshot::Receiver<()>,
) {
    let gate = Arc::new(Gate::new(limits, sockets));
    let (shutdown, shutting_down) = watch::channel(false);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, _) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, or an aborted handshake: wait a
                // little rather than spin.
                tracing::warn!(error = %e, "could not accept a connection");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let Some(ticket) = gate.admit() else {
            continue; // dropping `tcp` closes it
        };
        // Live frames are small and latency matters more than packet
        // count: without TCP_NODELAY, Nagle's algorithm holds them.
        let _ = tcp.set_nodelay(true);
        let service = {
            let inner = TowerToHyperService::new(router.clone());
            let gate = Arc::clone(&gate);
            let id = ticket.id;
            hyper::service::service_fn(move |request| {
                gate.requested(id);
                hyper::service::Service::call(&inner, request)
            })
        };
        let connection = http
            .serve_connection(TokioIo::new(tcp), service)
            .with_upgrades();
        let mut shutting_down = shutting_down.clone();
        tokio::spawn(async move {
            let ticket = ticket;
            let mut connection = std::pin::pin!(connection);
            let mut evicted = ticket.evicted;
            tokio::select! {
                _ = connection.as_mut() => {}
                Ok(()) = &mut evicted => {}
                () = async { let _ = shutting_down.wait_for(|stop| *stop).await; } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(ticket.leave);
        });
    }
    let _ = shutdown.send(true);
    // Every connection task holds a clone of the receiver.
    drop(shutting_down);
    shutdown.closed().await;
}

/// Counts the WebSockets that are open. An upgraded connection leaves
/// hyper's hands, so the socket task holds one of these guards for its
/// life, and the cap on open connections counts them too.
#[derive(Debug, Clone, Default)]
pub struct OpenSockets(Arc<AtomicUsize>);

impl OpenSockets {
    /// Counts one socket open until the guard is dropped.
    pub fn hold(&self) -> SocketGuard {
        self.0.fetch_add(1, Ordering::AcqRel);
        SocketGuard(Arc::clone(&self.0))
    }

    fn count(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// One open WebSocket; see [`OpenSockets`].
#[derive(Debug)]
pub struct SocketGuard(Arc<AtomicUsize>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The bookkeeping of open and idle connections.
struct Gate {
    limits: ConnectionLimits,
    /// Connections in hyper's hands.
    open: AtomicUsize,
    /// Connections upgraded to WebSockets.
    sockets: OpenSockets,
    next_id: AtomicU64,
    /// Connections without a request yet, oldest first, each with the
    /// signal that closes it.
    idle: Mutex<BTreeMap<u64, oneshot::Sender<()>>>,
    refused: LogThrottle,
    evicted: LogThrottle,
}

/// What a connection task holds: its id, the signal that evicts it, and
/// the guard that counts it open.
struct Ticket {
    id: u64,
    evicted: oneshot::Receiver<()>,
    leave: Leave,
}

/// Counts a connection as open until dropped, and forgets it as idle.
struct Leave {
    id: u64,
    gate: Arc<Gate>,
}

impl Drop for Leave {
    fn drop(&mut self) {
        self.gate.open.fetch_sub(1, Ordering::AcqRel);
        self.gate.requested(self.id);
    }
}

impl Gate {
    fn new(limits: ConnectionLimits, sockets: OpenSockets) -> Self {
        Self {
            limits,
            open: AtomicUsize::new(0),
            sockets,
            next_id: AtomicU64::new(0),
            idle: Mutex::new(BTreeMap::new()),
            refused: LogThrottle::default(),
            evicted: LogThrottle::default(),
        }
    }

    /// Admits a new connection, or refuses it at the cap. Admitting one
    /// past the idle cap evicts the oldest idle connection.
    fn admit(self: &Arc<Self>) -> Option<Ticket> {
        let open = self.open.fetch_add(1, Ordering::AcqRel) + 1 + self.sockets.count();
        if open > self.limits.max_open {
            self.open.fetch_sub(1, Ordering::AcqRel);
            self.refused.note(|count| {
                tracing::warn!(
                    limit = self.limits.max_open,
                    refused = count,
                    "connection limit reached: refusing new connections"
                );
            });
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (evict, evicted) = oneshot::channel();
        let oldest = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.insert(id, evict);
            if idle.len() > self.limits.max_idle {
                idle.pop_first()
            } else {
                None
            }
        };
        if let Some((_, evict)) = oldest {
            let _ = evict.send(());
            self.evicted.note(|count| {
                tracing::warn!(
                    limit = self.limits.max_idle,
                    closed = count,
                    "too many connections without a request: closing the oldest"
                );
            });
        }
        Some(Ticket {
            id,
            evicted,
            leave: Leave {
                id,
                gate: Arc::clone(self),
            },
        })
    }

    /// The connection `id` sent a request (or closed): it is no longer idle.
    fn requested(&self, id: u64) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        // Dropping the sender does not evict: only a sent signal does.
        idle.remove(&id);
    }
}

/// Logs at most once per [`LOG_EVERY`], with the count since the last line.
#[derive(Default)]
struct LogThrottle {
    state: Mutex<(Option<Instant>, u64)>,
}

impl LogThrottle {
    fn note(&self, log: impl FnOnce(u64)) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1 += 1;
        if state.0.is_none_or(|last| last.elapsed() >= LOG_EVERY) {
            log(state.1);
            *state = (Some(Instant::now()), 0);
        }
    }
}

/// Raises this process's soft limit on open files to its hard limit, and
/// returns how many connections fit under it, keeping room for the files
/// the hub itself opens.
pub fn connections_that_fit(wanted: usize) -> usize {
    /// Descriptors kept for the project, the watcher and the web app.
    const RESERVED: u64 = 128;
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let mut limit = getrlimit(Resource::Nofile);
        if let (Some(current), Some(hard)) = (limit.current, limit.maximum) {
            if current < hard {
                limit.current = Some(hard);
                if setrlimit(Resource::Nofile, limit).is_err() {
                    limit.current = Some(current);
                }
            }
        }
        match limit.current {
            Some(files) => wanted.min(files.saturating_sub(RESERVED) as usize),
            None => wanted,
        }
    }
    #[cfg(not(unix))]
    wanted
}
