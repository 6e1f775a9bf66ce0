//! The room cache: what a page keeps of a room between visits, so a hard
//! refresh paints files and history before the socket's first round-trip
//! and unsaved edits survive a closed tab.
//!
//! The session writes through the [`RoomCache`] trait and the UI never
//! talks to storage. Two implementations: IndexedDB in the browser
//! (`indexeddb.rs`, one database `solaro-room-{roomId}` per room), and
//! [`MemoryCache`], the fallback when IndexedDB is unavailable and the fake
//! for native tests.
//!
//! Writes are batched: [`diff`] compares the last persisted state with the
//! newest and produces one [`CacheWrite`], which an implementation commits
//! in a single transaction. A replay of thousands of entries therefore
//! costs a handful of transactions, however fast it arrives.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use futures_util::future::{ready, LocalBoxFuture};
use room_protocol::{PeerProfile, ProjectVersion, RuntimeEvent, SNAPSHOT_EVENT_LIMIT};
use serde::{Deserialize, Serialize};

use crate::error::CacheError;
use crate::state::{ConnectionStatus, Draft, FileEntry, PathMap, RoomState};

#[cfg(target_arch = "wasm32")]
mod indexeddb;
mod persister;
mod unload;

#[cfg(all(target_arch = "wasm32", feature = "testing"))]
pub use indexeddb::DB_VERSION;
#[cfg(target_arch = "wasm32")]
pub use indexeddb::{IndexedDbCache, IndexedDbOptions};
pub use persister::{persist_states, PersistHooks};
pub use unload::{unload_copy_key, CopyWrite, UnloadCopy};

/// Where a room's project stood when it was cached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheMeta {
    /// `project.id` and `project.rev` of the cached files.
    pub project: ProjectVersion,
    /// Highest `rev` applied.
    pub last_seen_rev: u64,
    /// `ts` of the newest cached event.
    pub last_event_ts: Option<u64>,
}

/// One cached file: an entry of the tree, with its content when the page
/// had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedFile {
    /// Its path (the key).
    pub path: String,
    /// Its content at `rev`; `None`: not fetched (earlier builds always
    /// stored it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Its `rev`.
    pub rev: u64,
    /// Its size in bytes; `None` in records of earlier builds, whose
    /// content gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl CachedFile {
    /// The file as the state holds it.
    fn entry(self) -> (String, FileEntry) {
        let size = self
            .size
            .or(self.content.as_ref().map(|c| c.len() as u64))
            .unwrap_or(0);
        let entry = FileEntry {
            content: self.content.map(Into::into),
            rev: self.rev,
            size,
            by: None,
        };
        (self.path, entry)
    }
}

/// One cached draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedDraft {
    /// The file it edits (the key).
    pub path: String,
    /// The draft.
    pub draft: Draft,
}

/// Everything a cache holds for a room.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CachedRoom {
    /// Where the project stood; `None` if never synced.
    pub meta: Option<CacheMeta>,
    /// Files, any order.
    pub files: Vec<CachedFile>,
    /// The newest runtime events, oldest first.
    pub events: Vec<RuntimeEvent>,
    /// How this person appears, if they chose.
    pub profile: Option<PeerProfile>,
    /// Unsaved or unacknowledged edits.
    pub drafts: Vec<CachedDraft>,
}

/// The largest integer a JavaScript number holds exactly (2^53 - 1).
pub(crate) const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Numbers as JavaScript, and so IndexedDB, holds them: an integral number
/// has no fraction (`68.0` becomes `68`). A cached event comes back that
/// way whatever the hub sent, so the session reads every live event this
/// way too (`SessionCore`), and an event reads the same live and from the
/// cache.
pub(crate) fn as_javascript_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(x) = number.as_f64() {
                if x.fract() == 0.0 && x.abs() <= MAX_SAFE_INTEGER {
                    *number = (x as i64).into();
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(as_javascript_numbers),
        Value::Object(fields) => fields.values_mut().for_each(as_javascript_numbers),
        _ => {}
    }
}

/// Changes to commit together, in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CacheWrite {
    /// Clear files and events before the rest (a snapshot or eviction).
    pub reset: bool,
    /// New project position, if it changed.
    pub meta: Option<CacheMeta>,
    /// Files to write.
    pub files_put: Vec<CachedFile>,
    /// Files to remove.
    pub files_delete: Vec<String>,
    /// Events to add (newest last).
    pub events_put: Vec<RuntimeEvent>,
    /// Remove every event whose `rev` is below this one, after adding
    /// `events_put`. [`diff`] sets it to the oldest event the state still
    /// holds (the state keeps the newest [`SNAPSHOT_EVENT_LIMIT`] events by
    /// count), so every cache holds exactly the state's window. Caches
    /// apply it as given and never trim on their own.
    pub events_drop_below: Option<u64>,
    /// Drafts to write.
    pub drafts_put: Vec<CachedDraft>,
    /// Drafts to remove.
    pub drafts_delete: Vec<String>,
    /// New profile, if it changed.
    pub profile: Option<PeerProfile>,
}

impl CacheWrite {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Which implementation is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    /// The browser's IndexedDB.
    IndexedDb,
    /// Memory only: lost with the page.
    Memory,
}

/// A room's persistent store. Futures are local: IndexedDB lives on the
/// page's single thread.
pub trait RoomCache {
    /// Everything cached, read at once (one read transaction).
    fn load(&self) -> LocalBoxFuture<'_, Result<CachedRoom, CacheError>>;
    /// Commits `batch` atomically.
    fn write(&self, batch: CacheWrite) -> LocalBoxFuture<'_, Result<(), CacheError>>;
    /// Which implementation this is.
    fn kind(&self) -> CacheKind;
    /// Transactions committed so far (reads and writes).
    #[cfg(feature = "testing")]
    fn transactions(&self) -> u64;
}

/// Counts a cache's transactions for the project's tests and benchmarks;
/// without feature `testing` it holds and does nothing.
#[derive(Debug, Default)]
pub(crate) struct TransactionCount(#[cfg(feature = "testing")] std::cell::Cell<u64>);

impl TransactionCount {
    pub(crate) fn add(&self) {
        #[cfg(feature = "testing")]
        self.0.set(self.0.get() + 1);
    }

    #[cfg(feature = "testing")]
    pub(crate) fn get(&self) -> u64 {
        self.0.get()
    }
}

/// A cache in memory: the fallback, and the fake for native tests.
#[derive(Debug, Default)]
pub struct MemoryCache {
    room: RefCell<CachedRoom>,
    transactions: TransactionCount,
}

impl MemoryCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }
}

impl RoomCache for MemoryCache {
    fn load(&self) -> LocalBoxFuture<'_, Result<CachedRoom, CacheError>> {
        self.transactions.add();
        Box::pin(ready(Ok(self.room.borrow().clone())))
    }

    fn write(&self, batch: CacheWrite) -> LocalBoxFuture<'_, Result<(), CacheError>> {
        self.transactions.add();
        apply_write(&mut self.room.borrow_mut(), batch);
        Box::pin(ready(Ok(())))
    }

    fn kind(&self) -> CacheKind {
        CacheKind::Memory
    }

    #[cfg(feature = "testing")]
    fn transactions(&self) -> u64 {
        self.transactions.get()
    }
}

/// Applies a batch to an in-memory copy, step for step as the IndexedDB
/// cache's transaction does: reset clears files and events; deletes come
/// before puts; a put replaces the record with the same key; events below
/// `events_drop_below` go after the puts. Plain vectors: this is the
/// fallback and the test fake, and maps here would add kilobytes of wasm
/// for no gain.
pub fn apply_write(room: &mut CachedRoom, batch: CacheWrite) {
    if batch.reset {
        room.files.clear();
        room.events.clear();
    }
    if let Some(meta) = batch.meta {
        room.meta = Some(meta);
    }
    room.files.retain(|f| {
        !batch.files_delete.contains(&f.path) && !batch.files_put.iter().any(|p| p.path == f.path)
    });
    room.files.extend(batch.files_put);
    for event in batch.events_put {
        put_by_rev(&mut room.events, event);
    }
    if let Some(below) = batch.events_drop_below {
        room.events.retain(|e| e.rev >= below);
    }
    room.drafts.retain(|d| {
        !batch.drafts_delete.contains(&d.path) && !batch.drafts_put.iter().any(|p| p.path == d.path)
    });
    room.drafts.extend(batch.drafts_put);
    if let Some(profile) = batch.profile {
        room.profile = Some(profile);
    }
}

/// Puts `event` into `events`, kept in rev order, as a put into the
/// `events` store does: an event with the same rev is replaced. Cheap when
/// it goes at the end, as events mostly do. (Not a sort: each sort
/// instantiation is kilobytes of wasm.)
fn put_by_rev(events: &mut Vec<RuntimeEvent>, event: RuntimeEvent) {
    if events.last().is_none_or(|last| last.rev < event.rev) {
        events.push(event);
        return;
    }
    match events.binary_search_by_key(&event.rev, |e| e.rev) {
        Ok(i) => events[i] = event,
        Err(i) => events.insert(i, event),
    }
}

/// What must be written to go from the persisted state `prev` to `next`.
/// Costs O(files + drafts + new events); unchanged files are recognised by
/// their shared content pointer.
pub fn diff(prev: &RoomState, next: &RoomState) -> CacheWrite {
    let reset = prev.epoch != next.epoch;
    let mut batch = CacheWrite {
        reset,
        ..CacheWrite::default()
    };
    let meta = meta_of(next);
    if meta != meta_of(prev) || (reset && meta.is_some()) {
        batch.meta = meta;
    }
    let empty = PathMap::new();
    let old_files = if reset { &empty } else { &prev.files };
    for (path, file) in &next.files {
        let unchanged = old_files.get(path).is_some_and(|old| {
            old.rev == file.rev
                && match (&old.content, &file.content) {
                    (Some(old), Some(new)) => Rc::ptr_eq(old, new),
                    (None, None) => true,
                    _ => false,
                }
        });
        if !unchanged {
            batch.files_put.push(cached_file(path, file));
        }
    }
    if !reset {
        batch.files_delete = prev
            .files
            .keys()
            .filter(|path| !next.files.contains_key(path))
            .cloned()
            .collect();
    }
    let newest_old = if reset {
        0
    } else {
        prev.events.back().map_or(0, |e| e.rev)
    };
    batch.events_put = new_events(&next.events, newest_old);
    // New events push old ones out of the state's window (the newest
    // SNAPSHOT_EVENT_LIMIT by count, whatever the revs of file changes in
    // between): the cache drops what the state dropped.
    if !batch.events_put.is_empty() {
        batch.events_drop_below = next.events.front().map(|e| e.rev);
    }
    for (path, draft) in &next.drafts {
        if prev.drafts.get(path) != Some(draft) {
            batch.drafts_put.push(CachedDraft {
                path: path.clone(),
                draft: draft.clone(),
            });
        }
    }
    batch.drafts_delete = prev
        .drafts
        .keys()
        .filter(|path| !next.drafts.contains_key(path))
        .cloned()
        .collect();
    if prev.profile != next.profile {
        batch.profile = Some(next.profile.clone());
    }
    batch
}

fn new_events(events: &VecDeque<RuntimeEvent>, after_rev: u64) -> Vec<RuntimeEvent> {
    // Events are in rev order, so the new ones are a suffix.
    let first_new = events.partition_point(|e| e.rev <= after_rev);
    events.range(first_new..).cloned().collect()
}

fn meta_of(state: &RoomState) -> Option<CacheMeta> {
    state.project.as_ref().map(|project| CacheMeta {
        project: project.clone(),
        last_seen_rev: state.last_seen_rev,
        last_event_ts: state.last_event_ts,
    })
}

fn cached_file(path: &str, file: &FileEntry) -> CachedFile {
    CachedFile {
        path: path.to_owned(),
        content: file.content.as_deref().map(str::to_owned),
        rev: file.rev,
        size: Some(file.size),
    }
}

/// The drafts of a state, from cached records.
pub(crate) fn drafts_table(drafts: Vec<CachedDraft>) -> PathMap<Draft> {
    let mut table = PathMap::new();
    for cached in drafts {
        table.insert(cached.path, cached.draft);
    }
    table
}

impl RoomState {
    /// The state a page starts from, given what its cache holds (and the
    /// profile to use when this room has none).
    #[cfg_attr(feature = "testing", visibility::make(pub))]
    pub(crate) fn from_cache(cached: CachedRoom, default_profile: Option<PeerProfile>) -> Self {
        let mut state = RoomState {
            status: ConnectionStatus::Connecting,
            hydrated: true,
            ..RoomState::default()
        };
        if let Some(meta) = cached.meta {
            state.project = Some(meta.project);
            state.last_seen_rev = meta.last_seen_rev;
            state.last_event_ts = meta.last_event_ts;
            let mut files = PathMap::new();
            for file in cached.files {
                let (path, entry) = file.entry();
                files.insert(path, entry);
            }
            state.files = files;
            // IndexedDB returns them in key order already, so each goes at
            // the end; this only guards against a cache written by
            // something else.
            let mut events = Vec::with_capacity(cached.events.len());
            for event in cached.events {
                put_by_rev(&mut events, event);
            }
            let excess = events.len().saturating_sub(SNAPSHOT_EVENT_LIMIT);
            state.events = events.into_iter().skip(excess).collect();
        }
        state.drafts = drafts_table(cached.drafts);
        if let Some(profile) = cached.profile.or(default_profile) {
            state.profile = profile;
        }
        state
    }
}

#[cfg(test)]
mod tests;
