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
use room_protocol::{PeerProfile, ProjectVersion, RuntimeEvent, TreeEntry, SNAPSHOT_EVENT_LIMIT};
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

/// How many records hold the cached tree. A file's record is
/// [`tree_bucket`] of its path, so a change rewrites one record of about
/// 1/64 of the tree and a warm start reads a few dozen records, not one per
/// file.
pub const TREE_BUCKETS: u32 = 64;

/// The tree record that holds `path`: FNV-1a (32 bits) of its bytes, modulo
/// [`TREE_BUCKETS`]. Stored data depends on it: changing it needs a new
/// schema version.
pub fn tree_bucket(path: &str) -> u32 {
    let hash = path.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    hash % TREE_BUCKETS
}

/// One record of the cached tree: every file whose [`tree_bucket`] is
/// `index`, in path order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeBucket {
    /// Which bucket, below [`TREE_BUCKETS`].
    pub index: u32,
    /// Its files, in path order; empty: the record goes.
    pub files: Vec<TreeEntry>,
}

/// One cached content: a file's text at a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedContent {
    /// The file's path (the key).
    pub path: String,
    /// The `rev` the text belongs to; a tree entry at another `rev` makes
    /// it stale, and it is not used.
    pub rev: u64,
    /// The text.
    pub content: String,
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

/// What a cache holds for a room but the contents: what a page paints
/// first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CachedRoom {
    /// Where the project stood; `None` if never synced.
    pub meta: Option<CacheMeta>,
    /// The tree: every file's path, rev and size, any order.
    pub tree: Vec<TreeEntry>,
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
    /// Clear the tree (and the position with it), contents and events
    /// before the rest (a snapshot or eviction).
    pub reset: bool,
    /// New project position, if it changed.
    pub meta: Option<CacheMeta>,
    /// Tree buckets to rewrite whole.
    pub tree_put: Vec<TreeBucket>,
    /// Contents to write.
    pub contents_put: Vec<CachedContent>,
    /// Contents to remove.
    pub contents_delete: Vec<String>,
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
///
/// A page reads it in two steps: [`Self::load`] what it paints (the tree,
/// position, events, drafts and profile), then [`Self::load_contents`]
/// after painting. The contents are most of the bytes (up to the prefetch
/// budget, 16 MiB by default), and reading them costs time in proportion.
pub trait RoomCache {
    /// Everything cached but the contents, read at once (one read
    /// transaction).
    fn load(&self) -> LocalBoxFuture<'_, Result<CachedRoom, CacheError>>;
    /// The contents cached, any order (one read transaction).
    fn load_contents(&self) -> LocalBoxFuture<'_, Result<Vec<CachedContent>, CacheError>>;
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

/// Everything a cache holds for a room, as [`MemoryCache`] keeps it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredRoom {
    /// What [`RoomCache::load`] reads.
    pub room: CachedRoom,
    /// What [`RoomCache::load_contents`] reads.
    pub contents: Vec<CachedContent>,
}

/// A cache in memory: the fallback, and the fake for native tests.
#[derive(Debug, Default)]
pub struct MemoryCache {
    stored: RefCell<StoredRoom>,
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
        Box::pin(ready(Ok(self.stored.borrow().room.clone())))
    }

    fn load_contents(&self) -> LocalBoxFuture<'_, Result<Vec<CachedContent>, CacheError>> {
        self.transactions.add();
        Box::pin(ready(Ok(self.stored.borrow().contents.clone())))
    }

    fn write(&self, batch: CacheWrite) -> LocalBoxFuture<'_, Result<(), CacheError>> {
        self.transactions.add();
        apply_write(&mut self.stored.borrow_mut(), batch);
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
/// cache's transaction does: reset clears the tree store (which holds the
/// position too), contents and events; deletes come before puts; a put
/// replaces the record with the same key (a tree bucket, all of it);
/// events below `events_drop_below` go after the puts. Plain vectors: this
/// is the fallback and the test fake, and maps here would add kilobytes of
/// wasm for no gain.
pub fn apply_write(stored: &mut StoredRoom, batch: CacheWrite) {
    let StoredRoom { room, contents } = stored;
    if batch.reset {
        room.meta = None;
        room.tree.clear();
        contents.clear();
        room.events.clear();
    }
    if let Some(meta) = batch.meta {
        room.meta = Some(meta);
    }
    room.tree.retain(|f| {
        let bucket = tree_bucket(&f.path);
        !batch.tree_put.iter().any(|b| b.index == bucket)
    });
    room.tree
        .extend(batch.tree_put.into_iter().flat_map(|b| b.files));
    contents.retain(|c| {
        !batch.contents_delete.contains(&c.path)
            && !batch.contents_put.iter().any(|p| p.path == c.path)
    });
    contents.extend(batch.contents_put);
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
/// Costs O(files + drafts + new events); unchanged contents are recognised
/// by their shared pointer, and only the tree buckets holding a changed,
/// new or deleted file are rewritten.
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
    // One bit per tree bucket to rewrite.
    let mut dirty = 0_u64;
    // Both tables are in path order: one walk through the two side by side
    // (a lookup per file would cost a hundred thousand bisections).
    let mut olds = old_files.iter().peekable();
    // A file gone from the room: its bucket changes, its content goes.
    let gone = |path: &String, old: &FileEntry, dirty: &mut u64, batch: &mut CacheWrite| {
        *dirty |= 1 << tree_bucket(path);
        if old.content.is_some() {
            batch.contents_delete.push(path.clone());
        }
    };
    for (path, file) in &next.files {
        while let Some((old_path, old)) = olds.next_if(|(old_path, _)| *old_path < path) {
            gone(old_path, old, &mut dirty, &mut batch);
        }
        let old = olds
            .next_if(|(old_path, _)| *old_path == path)
            .map(|(_, old)| old);
        if old.is_none_or(|old| old.rev != file.rev || old.size != file.size) {
            dirty |= 1 << tree_bucket(path);
        }
        let old_content = old.and_then(|old| old.content.as_ref());
        match (old_content, &file.content) {
            (Some(old), Some(new)) if Rc::ptr_eq(old, new) => {}
            (_, Some(new)) => batch.contents_put.push(CachedContent {
                path: path.clone(),
                rev: file.rev,
                content: new.to_string(),
            }),
            (Some(_), None) => batch.contents_delete.push(path.clone()),
            (None, None) => {}
        }
    }
    for (old_path, old) in olds {
        gone(old_path, old, &mut dirty, &mut batch);
    }
    if dirty != 0 {
        let mut by_bucket: Vec<Vec<TreeEntry>> = vec![Vec::new(); TREE_BUCKETS as usize];
        for (path, file) in &next.files {
            let index = tree_bucket(path);
            if dirty & (1 << index) != 0 {
                by_bucket[index as usize].push(TreeEntry {
                    path: path.clone(),
                    rev: file.rev,
                    size: file.size,
                });
            }
        }
        batch.tree_put = (0..TREE_BUCKETS)
            .zip(by_bucket)
            .filter(|(index, _)| dirty & (1 << index) != 0)
            .map(|(index, files)| TreeBucket { index, files })
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

/// The files of a state, from the cached tree; contents come after.
fn files_table(tree: Vec<TreeEntry>) -> PathMap<FileEntry> {
    let mut files = PathMap::new();
    for entry in in_path_order(tree) {
        let file = FileEntry {
            content: None,
            rev: entry.rev,
            size: entry.size,
            by: None,
        };
        files.insert(entry.path, file);
    }
    files
}

/// The tree's entries in path order, from buckets each in path order (as
/// [`diff`] writes them, read bucket after bucket): merged two by two, so
/// each entry goes at the end of the file table. Any other order is still
/// correct, only slower to insert. (Not a sort: each sort instantiation is
/// kilobytes of wasm.)
fn in_path_order(tree: Vec<TreeEntry>) -> Vec<TreeEntry> {
    // Split into the runs already in order, then merge neighbours until
    // one run is left.
    let mut runs: Vec<Vec<TreeEntry>> = Vec::new();
    for entry in tree {
        match runs.last_mut() {
            Some(run) if run.last().is_some_and(|last| last.path < entry.path) => run.push(entry),
            _ => runs.push(vec![entry]),
        }
    }
    while runs.len() > 1 {
        let mut merged = Vec::with_capacity(runs.len().div_ceil(2));
        let mut pairs = runs.into_iter();
        while let Some(a) = pairs.next() {
            merged.push(match pairs.next() {
                Some(b) => merge(a, b),
                None => a,
            });
        }
        runs = merged;
    }
    runs.pop().unwrap_or_default()
}

fn merge(a: Vec<TreeEntry>, b: Vec<TreeEntry>) -> Vec<TreeEntry> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x.path <= y.path,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return out,
        };
        out.extend(if take_a { a.next() } else { b.next() });
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
            state.files = files_table(cached.tree);
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

    /// Takes the cached contents (read after the first paint): each where
    /// the tree lists its file at the same rev, and only there.
    #[cfg_attr(feature = "testing", visibility::make(pub))]
    pub(crate) fn hold_cached_contents(&mut self, contents: Vec<CachedContent>) {
        for cached in contents {
            self.hold_content(&cached.path, cached.rev, cached.content);
        }
    }
}

#[cfg(test)]
mod tests;
