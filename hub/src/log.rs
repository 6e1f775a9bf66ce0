//! The room's ordered log: every file change and runtime event, numbered by
//! `rev`, the newest [`REPLAY_BUFFER_ENTRIES`] kept for replay, and no more
//! than [`REPLAY_BUFFER_BYTES`] of them.
//!
//! Entries are stored already serialised: a live entry is encoded once and
//! the same text goes to every peer and every later replay.

use std::collections::VecDeque;
use std::sync::Arc;

use room_protocol::{encode, LogEntry, REPLAY_BUFFER_BYTES, REPLAY_BUFFER_ENTRIES};

/// One log entry and its wire text.
#[derive(Debug)]
pub struct Logged {
    /// The entry.
    pub entry: LogEntry,
    /// `encode(entry.to_frame())`, computed once.
    pub text: Arc<str>,
}

impl Logged {
    /// The entry's revision.
    pub fn rev(&self) -> u64 {
        self.entry.rev()
    }
}

/// A bounded, contiguous window of the log.
#[derive(Debug)]
pub struct EntryLog {
    entries: VecDeque<Arc<Logged>>,
    capacity: usize,
    max_bytes: usize,
    bytes: usize,
    head: u64,
}

impl Default for EntryLog {
    fn default() -> Self {
        Self::with_limits(REPLAY_BUFFER_ENTRIES, REPLAY_BUFFER_BYTES)
    }
}

impl EntryLog {
    /// A log that keeps the newest `capacity` entries, at most
    /// [`REPLAY_BUFFER_BYTES`] of them.
    #[cfg(test)]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_limits(capacity, REPLAY_BUFFER_BYTES)
    }

    /// A log that keeps the newest entries, at most `capacity` of them and
    /// at most `max_bytes` of wire text; the newest entry is always kept.
    pub fn with_limits(capacity: usize, max_bytes: usize) -> Self {
        Self {
            entries: VecDeque::with_capacity(capacity.min(REPLAY_BUFFER_ENTRIES)),
            capacity: capacity.max(1),
            max_bytes,
            bytes: 0,
            head: 0,
        }
    }

    /// Bytes of wire text buffered.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The newest revision, 0 before the first entry.
    pub fn head(&self) -> u64 {
        self.head
    }

    /// How many entries are buffered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Appends the entry `make(rev)` under the next revision, dropping the
    /// oldest entry when full.
    pub fn append(&mut self, make: impl FnOnce(u64) -> LogEntry) -> Arc<Logged> {
        let rev = self.head + 1;
        let entry = make(rev);
        debug_assert_eq!(entry.rev(), rev, "an entry must carry the rev it was given");
        let logged = Arc::new(Logged {
            text: encode(&entry.to_frame()).into(),
            entry,
        });
        self.bytes += logged.text.len();
        self.entries.push_back(Arc::clone(&logged));
        while self.entries.len() > self.capacity
            || (self.bytes > self.max_bytes && self.entries.len() > 1)
        {
            if let Some(oldest) = self.entries.pop_front() {
                self.bytes -= oldest.text.len();
            }
        }
        self.head = rev;
        logged
    }

    /// Every entry after `last_seen`, in order, or `None` when some of them
    /// are no longer buffered (or `last_seen` is from the future).
    pub fn since(&self, last_seen: u64) -> Option<Vec<Arc<Logged>>> {
        if last_seen > self.head {
            return None;
        }
        if last_seen == self.head {
            return Some(Vec::new());
        }
        let oldest = self.entries.front()?.rev();
        if last_seen + 1 < oldest {
            return None;
        }
        // Revisions are contiguous in the buffer, so the index is direct.
        let start = (last_seen + 1 - oldest) as usize;
        Some(self.entries.range(start..).cloned().collect())
    }

    /// The newest `limit` runtime events, oldest first.
    pub fn newest_events(&self, limit: usize) -> Vec<Arc<Logged>> {
        let mut events: Vec<_> = self
            .entries
            .iter()
            .rev()
            .filter(|l| matches!(l.entry, LogEntry::RuntimeEvent(_)))
            .take(limit)
            .cloned()
            .collect();
        events.reverse();
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use room_protocol::RuntimeEvent;
    use serde_json::json;

    fn event(rev: u64) -> LogEntry {
        LogEntry::RuntimeEvent(RuntimeEvent {
            rev,
            ts: 0,
            kind: "k".into(),
            data: json!(null),
        })
    }

    fn revs(entries: &[Arc<Logged>]) -> Vec<u64> {
        entries.iter().map(|l| l.rev()).collect()
    }

    #[test]
    fn revisions_start_at_one_and_increase() {
        let mut log = EntryLog::with_capacity(10);
        assert_eq!(log.head(), 0);
        assert_eq!(log.append(event).rev(), 1);
        assert_eq!(log.append(event).rev(), 2);
        assert_eq!(log.head(), 2);
    }

    #[test]
    fn since_returns_exactly_the_missed_entries() {
        let mut log = EntryLog::with_capacity(10);
        for _ in 0..6 {
            log.append(event);
        }
        assert_eq!(revs(&log.since(3).unwrap()), [4, 5, 6]);
        assert_eq!(revs(&log.since(0).unwrap()), [1, 2, 3, 4, 5, 6]);
        assert!(log.since(6).unwrap().is_empty());
        assert!(
            log.since(7).is_none(),
            "a rev from the future cannot be replayed"
        );
    }

    #[test]
    fn since_reports_a_gap_older_than_the_buffer() {
        let mut log = EntryLog::with_capacity(5);
        for _ in 0..12 {
            log.append(event);
        }
        assert_eq!(log.len(), 5);
        assert_eq!(revs(&log.since(7).unwrap()), [8, 9, 10, 11, 12]);
        assert!(log.since(6).is_none());
        assert!(log.since(0).is_none());
    }

    #[test]
    fn newest_events_are_bounded_and_in_order() {
        let mut log = EntryLog::with_capacity(50);
        for _ in 0..20 {
            log.append(event);
        }
        assert_eq!(revs(&log.newest_events(3)), [18, 19, 20]);
        assert_eq!(log.newest_events(100).len(), 20);
    }

    #[test]
    fn the_buffer_is_bounded_by_bytes_too_and_a_gap_means_snapshot() {
        let big = |rev| {
            LogEntry::RuntimeEvent(RuntimeEvent {
                rev,
                ts: 0,
                kind: "k".into(),
                data: json!("x".repeat(1000)),
            })
        };
        let mut log = EntryLog::with_limits(5000, 10_000);
        for _ in 0..100 {
            log.append(big);
        }
        assert!(log.bytes() <= 10_000, "{} bytes", log.bytes());
        assert!(log.len() < 10 && log.len() >= 9, "{} entries", log.len());
        let oldest = 100 - log.len() as u64 + 1;
        assert_eq!(log.since(oldest - 1).unwrap().len(), log.len());
        assert!(
            log.since(oldest - 2).is_none(),
            "reaching past the bytes is a gap"
        );
        // An entry larger than the whole budget is still kept, alone.
        let mut tiny = EntryLog::with_limits(5000, 10);
        tiny.append(big);
        tiny.append(big);
        assert_eq!(revs(&tiny.since(1).unwrap()), [2]);
    }

    #[test]
    fn the_default_buffer_holds_5000() {
        let mut log = EntryLog::default();
        for _ in 0..5001 {
            log.append(event);
        }
        assert_eq!(log.len(), 5000);
        assert!(log.since(0).is_none());
        assert_eq!(log.since(1).unwrap().len(), 5000);
    }
}
