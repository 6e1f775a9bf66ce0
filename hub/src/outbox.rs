//! What a connection sends, queued in front of a writer task of its own, so
//! a peer that reads slowly, or not at all, never blocks anyone: not the
//! connection's loop (its pings and silence checks keep running), and not
//! the room, which hands each live frame to every peer's [`Outlet`] at once.
//!
//! Frames the peer must read to keep up (live entries, replies, pings) count
//! against [`MAX_QUEUED_BYTES`]; once they exceed it the outlet overflows,
//! the connection closes with 1013 and the peer catches up by replay when it
//! reconnects. The catch-up after `hello` is queued without counting: it is
//! sent once, bounded by the replay log and the project, and counting it
//! would close a peer on a slow link before it could ever catch up.
//!
//! Live frames are queued as the room's shared text (`Arc<str>`), not
//! copies: a frame waiting for a hundred peers is in memory once.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::ws::{Message, Utf8Bytes};
use futures_util::{Sink, SinkExt};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

/// Most bytes of counted frames waiting for one peer. 16 MiB: an honest
/// peer on a 20 Mbit/s link drains it in about 7 s, and it holds several of
/// the largest frames (a 1 MiB file is at most 4 MiB of JSON).
pub const MAX_QUEUED_BYTES: usize = 16 << 20;

/// Most frames written before one flush.
const MAX_BATCH: usize = 64;

/// The outlet did not take a frame: it would go over the budget, or the
/// outlet was cut before ([`Outlet::cut_now`] says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

/// Why an outlet stopped taking frames, for its connection to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// A frame did not fit in the budget: the peer cannot keep up (1013).
    Overflowed,
    /// A newer connection of the same tab took this one's place (4409).
    Replaced,
    /// The host replaced (or turned off) the link this connection was
    /// admitted with (4410).
    LinkReplaced,
}

/// One frame in the queue, with the bytes it counts against the budget.
#[derive(Debug)]
enum Queued {
    /// A frame's text shared with the room's log and the other peers.
    Shared(Arc<str>, usize),
    /// A frame of this connection's own (a reply, a ping).
    Own(Message, usize),
}

/// The sending side of one connection's queue: cheap to clone, and safe to
/// push into from anywhere (the room pushes live frames under its lock).
#[derive(Debug, Clone)]
pub struct Outlet {
    frames: mpsc::UnboundedSender<Queued>,
    queued: Arc<AtomicUsize>,
    budget: usize,
    cut: Arc<CutSignal>,
}

/// [`Cut`] as it happens: 0 while the outlet is open, then the first
/// reason, for good.
#[derive(Debug, Default)]
struct CutSignal {
    why: AtomicU8,
    notify: Notify,
}

impl CutSignal {
    const OPEN: u8 = 0;
    const OVERFLOWED: u8 = 1;
    const REPLACED: u8 = 2;
    const LINK_REPLACED: u8 = 3;

    fn cut(&self, why: u8) {
        let first = self
            .why
            .compare_exchange(Self::OPEN, why, Ordering::AcqRel, Ordering::Acquire);
        if first.is_ok() {
            self.notify.notify_one();
        }
    }

    fn get(&self) -> Option<Cut> {
        match self.why.load(Ordering::Acquire) {
            Self::OVERFLOWED => Some(Cut::Overflowed),
            Self::REPLACED => Some(Cut::Replaced),
            Self::LINK_REPLACED => Some(Cut::LinkReplaced),
            _ => None,
        }
    }
}

impl Outlet {
    /// Queues a live frame the peer must read to keep up. `Err` (and the
    /// outlet stays overflowed) when the counted bytes waiting, this frame
    /// included, would exceed the budget; the frame is then not queued.
    pub fn push_shared(&self, text: &Arc<str>) -> Result<(), Refused> {
        let bytes = frame_bytes(text.len());
        self.count(bytes)?;
        let _ = self.frames.send(Queued::Shared(Arc::clone(text), bytes));
        Ok(())
    }

    /// Queues a frame of the connection's own; see [`Self::push_shared`].
    pub fn push(&self, message: Message) -> Result<(), Refused> {
        let bytes = frame_bytes(message_len(&message));
        self.count(bytes)?;
        let _ = self.frames.send(Queued::Own(message, bytes));
        Ok(())
    }

    /// Queues a text frame of the connection's own.
    pub fn push_text(&self, text: &str) -> Result<(), Refused> {
        self.push(Message::Text(Utf8Bytes::from(text)))
    }

    /// Queues a frame without counting it against the budget (the
    /// catch-up after `hello`).
    pub fn push_uncounted(&self, text: &Arc<str>) {
        let _ = self.frames.send(Queued::Shared(Arc::clone(text), 0));
    }

    /// Queues a binary frame of the catch-up (the tree) without counting
    /// it; see [`Self::push_uncounted`].
    pub fn push_uncounted_binary(&self, bytes: bytes::Bytes) {
        let _ = self.frames.send(Queued::Own(Message::Binary(bytes), 0));
    }

    /// Tells the connection that a newer one of the same tab took its
    /// place; it takes no more frames.
    pub fn replace(&self) {
        self.cut.cut(CutSignal::REPLACED);
    }

    /// Cuts the outlet because the host replaced the link it was admitted
    /// with.
    pub fn link_replaced(&self) {
        self.cut.cut(CutSignal::LINK_REPLACED);
    }

    /// Why the outlet stopped taking frames, if it has.
    pub fn cut_now(&self) -> Option<Cut> {
        self.cut.get()
    }

    /// Resolves once the outlet stopped taking frames, with why.
    pub async fn cut(&self) -> Cut {
        loop {
            let notified = self.cut.notify.notified();
            if let Some(why) = self.cut.get() {
                return why;
            }
            notified.await;
        }
    }

    /// Counts `bytes` in, or overflows. Once cut, always cut: a peer that
    /// missed a frame must not get the ones after it.
    fn count(&self, bytes: usize) -> Result<(), Refused> {
        if self.cut.get().is_some() {
            return Err(Refused);
        }
        let before = self.queued.fetch_add(bytes, Ordering::AcqRel);
        // One frame larger than the whole budget still goes to an idle peer.
        if before > 0 && before + bytes > self.budget {
            self.queued.fetch_sub(bytes, Ordering::AcqRel);
            self.cut.cut(CutSignal::OVERFLOWED);
            return Err(Refused);
        }
        Ok(())
    }
}

/// One connection's queue and the writer task that owns the sending half
/// `S` of its socket.
#[derive(Debug)]
pub struct Outbox<S> {
    outlet: Outlet,
    stop: Option<oneshot::Sender<()>>,
    writer: JoinHandle<S>,
}

impl<S> Outbox<S>
where
    S: Sink<Message> + Unpin + Send + 'static,
{
    /// Starts the writer task over `sink`, with a budget of `budget` bytes.
    pub fn start(sink: S, budget: usize) -> Self {
        let (frames, rx) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let writer = tokio::spawn(write_out(sink, rx, stopped, Arc::clone(&queued)));
        Self {
            outlet: Outlet {
                frames,
                queued,
                budget,
                cut: Arc::default(),
            },
            stop: Some(stop),
            writer,
        }
    }

    /// The queue's sending side.
    pub fn outlet(&self) -> &Outlet {
        &self.outlet
    }

    /// Counted bytes waiting to be written.
    #[cfg(test)]
    fn queued_bytes(&self) -> usize {
        self.outlet.queued.load(Ordering::Acquire)
    }

    /// Resolves when the writer has stopped on its own: the socket broke.
    pub async fn finished(&mut self) {
        // Polling the handle by reference keeps it for `stop`.
        let _ = (&mut self.writer).await;
    }

    /// Stops the writer, also in the middle of a write, and returns the
    /// sink if that happens within `grace` (`None` if the writer is gone or
    /// stuck). What is still queued is dropped: the peer replays it.
    pub async fn stop(mut self, grace: std::time::Duration) -> Option<S> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match tokio::time::timeout(grace, &mut self.writer).await {
            Ok(Ok(sink)) => Some(sink),
            Ok(Err(_)) => None,
            Err(_) => {
                self.writer.abort();
                None
            }
        }
    }
}

impl<S> Drop for Outbox<S> {
    fn drop(&mut self) {
        self.writer.abort();
    }
}

/// The writer task: writes what is queued, a batch per flush, until told
/// to stop, the queue closes, or the socket breaks; returns the sink.
///
/// A stop is obeyed even in the middle of a write: the WebSocket keeps the
/// bytes it has not written yet in its own buffer, so giving up the wait
/// loses nothing and a close frame can still follow.
async fn write_out<S>(
    mut sink: S,
    mut frames: mpsc::UnboundedReceiver<Queued>,
    mut stopped: oneshot::Receiver<()>,
    queued: Arc<AtomicUsize>,
) -> S
where
    S: Sink<Message> + Unpin,
{
    loop {
        let first = tokio::select! {
            biased;
            _ = &mut stopped => return sink,
            first = frames.recv() => first,
        };
        let Some(first) = first else {
            return sink;
        };
        let written = tokio::select! {
            biased;
            _ = &mut stopped => return sink,
            written = write_batch(&mut sink, first, &mut frames) => written,
        };
        match written {
            Ok(bytes) => {
                queued.fetch_sub(bytes, Ordering::AcqRel);
            }
            Err(()) => return sink,
        }
    }
}

/// Writes `first` and whatever else is waiting, up to [`MAX_BATCH`]
/// frames, then flushes once: one syscall for a burst, not one each.
/// Returns the counted bytes written.
async fn write_batch<S>(
    sink: &mut S,
    first: Queued,
    frames: &mut mpsc::UnboundedReceiver<Queued>,
) -> Result<usize, ()>
where
    S: Sink<Message> + Unpin,
{
    let mut written = 0;
    let mut next = Some(first);
    for _ in 0..MAX_BATCH {
        let Some(queued) = next.take().or_else(|| frames.try_recv().ok()) else {
            break;
        };
        let message = match queued {
            Queued::Shared(text, bytes) => {
                written += bytes;
                // The one copy, made as the frame is written.
                Message::Text(Utf8Bytes::from(&*text))
            }
            Queued::Own(message, bytes) => {
                written += bytes;
                message
            }
        };
        sink.feed(message).await.map_err(drop)?;
    }
    sink.flush().await.map_err(drop)?;
    Ok(written)
}

fn message_len(message: &Message) -> usize {
    match message {
        Message::Text(text) => text.len(),
        Message::Binary(bytes) | Message::Ping(bytes) | Message::Pong(bytes) => bytes.len(),
        Message::Close(_) => 0,
    }
}

/// A frame's payload and its header, so that empty frames (pings) count
/// too.
fn frame_bytes(payload: usize) -> usize {
    payload.saturating_add(16)
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use super::*;

    /// A peer that never reads: the socket never takes another byte.
    struct NeverReads;

    impl Sink<Message> for NeverReads {
        type Error = std::io::Error;
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }
        fn start_send(self: Pin<&mut Self>, _: Message) -> Result<(), Self::Error> {
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }
    }

    fn kib(n: usize) -> String {
        "x".repeat(n * 1024)
    }

    #[tokio::test]
    async fn a_peer_that_never_reads_overflows_at_the_budget_in_bytes() {
        let outbox = Outbox::start(NeverReads, 100 * 1024);
        let mut accepted = 0;
        while outbox.outlet().push_text(&kib(10)).is_ok() {
            accepted += 1;
            assert!(accepted < 100, "the budget never ran out");
        }
        // Nine frames of 10 KiB and their headers fit in 100 KiB; a tenth
        // does not.
        assert_eq!(accepted, 9);
        assert!(outbox.queued_bytes() <= 100 * 1024);
        // A refused frame is not counted, and the peer stays refused.
        let queued = outbox.queued_bytes();
        assert_eq!(outbox.outlet().push_text(&kib(10)), Err(Refused));
        assert_eq!(outbox.queued_bytes(), queued);
        // Catch-up is not counted.
        outbox.outlet().push_uncounted(&kib(500).into());
        assert!(outbox.queued_bytes() <= 100 * 1024);
        // The writer gives the sink back even in the middle of a frame the
        // peer does not take.
        tokio::task::yield_now().await;
        assert!(outbox.stop(Duration::from_secs(1)).await.is_some());
    }

    #[tokio::test]
    async fn a_peer_that_reads_drains_the_queue_and_the_sink_comes_back() {
        let outbox = Outbox::start(futures_util::sink::drain(), 100 * 1024);
        for _ in 0..50 {
            // Far more than the budget in all, never more than it at once.
            while outbox.queued_bytes() > 50 * 1024 {
                tokio::task::yield_now().await;
            }
            outbox.outlet().push_text(&kib(10)).unwrap();
        }
        tokio::time::timeout(Duration::from_secs(5), async {
            while outbox.queued_bytes() > 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the queue drains");
        assert!(outbox.stop(Duration::from_secs(1)).await.is_some());
    }

    #[tokio::test]
    async fn an_overflow_is_signalled_and_stays() {
        let outbox = Outbox::start(NeverReads, 10 * 1024);
        let shared: Arc<str> = kib(8).into();
        assert_eq!(outbox.outlet().push_shared(&shared), Ok(()));
        assert_eq!(outbox.outlet().push_shared(&shared), Err(Refused));
        let why = tokio::time::timeout(Duration::from_secs(1), outbox.outlet().cut())
            .await
            .expect("the connection hears of it");
        assert_eq!(why, Cut::Overflowed);
        // Nothing after the missed frame gets through, however small.
        assert_eq!(outbox.outlet().push_text("x"), Err(Refused));
    }

    #[tokio::test]
    async fn a_replaced_outlet_takes_no_more_frames_and_keeps_the_first_reason() {
        let outbox = Outbox::start(futures_util::sink::drain(), 10 * 1024);
        outbox.outlet().replace();
        assert_eq!(outbox.outlet().push_text("x"), Err(Refused));
        assert_eq!(outbox.outlet().cut().await, Cut::Replaced);
    }

    #[tokio::test]
    async fn one_frame_larger_than_the_budget_still_goes_to_an_idle_peer() {
        let outbox = Outbox::start(NeverReads, 10 * 1024);
        assert_eq!(outbox.outlet().push_text(&kib(50)), Ok(()));
        assert_eq!(outbox.outlet().push_text("next"), Err(Refused));
    }
}
