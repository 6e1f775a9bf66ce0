//! [`RoomCache`] on IndexedDB, through rexie.
//!
//! One database per room, `solaro-room-{roomId}`
//! ([`room_protocol::urls::cache_database_name`]), with the stores:
//! - `tree`: the tree in [`TREE_BUCKETS`] records at most, keyed by bucket
//!   number, each a JSON text `{"files":[[path,rev,size],…]}` (the wire's
//!   tree, read by the same code), beside the position record
//!   (`position`: project, last rev and event time). One store, so a reset
//!   clears a tree and its position together;
//! - `contents` (key: path): `{path, rev, content}`, the texts the page
//!   holds;
//! - `events` (key: rev), `drafts` (key: path), and the single record
//!   `profile`.
//!
//! A load is one read transaction with `getAll` (the contents another, read
//! after the first paint); every batch is one write transaction.
//!
//! Version 2 (the tree first) replaced version 1's `files` store (one
//! record per file with its content) and `meta`. Upgrading drops both, as
//! rexie's builder drops every store this version does not list: the page
//! then has no position, joins with a snapshot, and the snapshot's reset
//! clears version 1's events. Drafts and the profile stay.
//!
//! Robustness:
//! - opening waits at most `open_timeout_ms`: a tab holding an old version
//!   open (a `blocked` upgrade) must not hang start-up. rexie has no
//!   `onblocked` hook, so the open runs as a task of its own, bounded by a
//!   timer; should it succeed after the page gave up, that connection is
//!   closed at once so it blocks no other tab;
//! - a connection lost under the page (rexie, through its `idb` layer,
//!   closes it on another tab's `versionchange`; Safari drops the
//!   connections of pages in the background, and their next requests fail
//!   with `UnknownError` or `InvalidStateError`) is reopened once, lazily,
//!   by the next load or write, which then runs again (`run`); only a
//!   failed reopen is an error;
//! - rexie's builder upgrades an older schema in place: it creates the
//!   stores that are missing and drops the ones this version does not know.
//!
//! Transactions and futures (the pitfalls rexie's and idb's users report):
//! - a transaction commits as soon as its task waits on anything but its
//!   own requests, so nothing here awaits a timer or a channel inside one;
//! - rexie makes a request only when its future is first polled, and
//!   attaches the transaction's completion handlers only when `done()` is
//!   first polled (awaiting it after the commit would hang). So a write's
//!   requests and `done()` are polled together, in order, in the first poll
//!   of one future ([`in_order`] and `join!`): all requests are made, in
//!   the order the batch lists them, and the handlers are attached before
//!   the browser can run any event of this transaction. A read awaits its
//!   requests only: their answers are the data, and a read-only
//!   transaction has nothing to commit.
//!
//! Errors: rexie's own text is the bare "idb error"; [`failure`] builds a
//! typed [`CacheError`] from the DOM exception underneath, in one place.

use std::cell::RefCell;
use std::task::Poll;

use futures_util::future::{select, Either, LocalBoxFuture};
use futures_util::FutureExt;
use gloo_timers::future::TimeoutFuture;
use rexie::{KeyRange, ObjectStore, Rexie, Store, Transaction, TransactionMode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

use super::{
    CacheKind, CacheMeta, CacheWrite, CachedContent, CachedDraft, CachedRoom, RoomCache,
    TreeBucket, MAX_SAFE_INTEGER, TREE_BUCKETS,
};
use crate::error::CacheError;
use room_protocol::{PeerProfile, RuntimeEvent, Tree, TreeEntry};

/// The schema version. Bump it when the stores change; older databases are
/// upgraded in place on open.
pub const DB_VERSION: u32 = 2;

const TREE: &str = "tree";
const CONTENTS: &str = "contents";
const EVENTS: &str = "events";
const DRAFTS: &str = "drafts";
const PROFILE: &str = "profile";
/// The key of the position record in the `tree` store.
const POSITION: &str = "position";
/// Every store with its key path (`None`: keys are given on `put`: bucket
/// numbers and [`POSITION`] in `tree`; `profile` holds one record, keyed by
/// the store's name).
const STORES: [(&str, Option<&str>); 5] = [
    (TREE, None),
    (CONTENTS, Some("path")),
    (EVENTS, Some("rev")),
    (DRAFTS, Some("path")),
    (PROFILE, None),
];
const STORE_NAMES: [&str; 5] = [TREE, CONTENTS, EVENTS, DRAFTS, PROFILE];

/// Settings of the IndexedDB cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexedDbOptions {
    /// Give up opening after this many milliseconds (another tab blocking
    /// an upgrade, a stuck browser) and fall back to memory. Default 500.
    pub open_timeout_ms: u32,
    /// The schema version to open. Default [`DB_VERSION`]; leave it. Tests
    /// set a higher one to play a newer build of the page in another tab.
    pub schema_version: u32,
}

impl Default for IndexedDbOptions {
    fn default() -> Self {
        Self {
            open_timeout_ms: 500,
            schema_version: DB_VERSION,
        }
    }
}

/// A room's cache in IndexedDB. Dropping it closes the connection.
pub struct IndexedDbCache {
    name: String,
    options: IndexedDbOptions,
    /// The open connection; `None` before the first use and after
    /// [`Self::close`] or a connection lost to another tab's upgrade.
    db: RefCell<Option<Rexie>>,
    transactions: super::TransactionCount,
}

impl std::fmt::Debug for IndexedDbCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedDbCache")
            .field("name", &self.name)
            .field("open", &self.db.borrow().is_some())
            .finish()
    }
}

impl Drop for IndexedDbCache {
    fn drop(&mut self) {
        self.close();
    }
}

// Records go through serde_json and the browser's own `JSON`, not through a
// second serde backend such as serde-wasm-bindgen: serde_json is in the
// bundle anyway for the wire, and each extra backend repeats the
// (de)serializers of every record type. rexie takes and returns plain
// `JsValue`s, so the stored shape is the same plain object either way: key
// paths resolve and revs stay numbers.

/// A record as a plain JS object.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, CacheError> {
    let text = serde_json::to_string(value).map_err(|e| CacheError::Failed(e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| CacheError::Failed("a record is not valid JSON".into()))
}

/// `None` for a record this build cannot read (written by another
/// version, or damaged): it is skipped, not fatal.
fn from_js<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    let text = js_sys::JSON::stringify(&value).ok()?.as_string()?;
    serde_json::from_str(&text).ok()
}

/// A tree bucket's record: the wire's tree JSON, so the page reads it
/// with the code that reads the wire (and stores one string, not an object
/// per file).
fn bucket_to_js(bucket: &TreeBucket) -> JsValue {
    use std::fmt::Write as _;
    let mut text = String::from(r#"{"files":["#);
    for (i, TreeEntry { path, rev, size }) in bucket.files.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        // Serializing a string cannot fail.
        let path = serde_json::to_string(path).unwrap_or_default();
        let _ = write!(text, "[{path},{rev},{size}]");
    }
    text.push_str("]}");
    JsValue::from_str(&text)
}

/// The files of a tree bucket's record; `None` for one this build cannot
/// read, which is skipped.
fn bucket_from_js(record: &JsValue) -> Option<Vec<TreeEntry>> {
    let text = record.as_string()?;
    serde_json::from_str::<Tree>(&text)
        .ok()
        .map(|tree| tree.files)
}

/// A content record, `{path, rev, content}`, built field by field: the
/// texts are written without a JSON round trip each.
fn content_to_js(content: &CachedContent) -> JsValue {
    let record = js_sys::Object::new();
    let set = |key: &str, value: JsValue| {
        // Setting a plain object's own property cannot fail.
        let _ = js_sys::Reflect::set(&record, &JsValue::from_str(key), &value);
    };
    set("path", JsValue::from_str(&content.path));
    // Revs are integers far below 2^53: exact as JS numbers.
    set("rev", JsValue::from_f64(content.rev as f64));
    set("content", JsValue::from_str(&content.content));
    record.into()
}

/// A content record read field by field (see [`content_to_js`]); `None`
/// for one this build cannot read, which is skipped.
fn content_from_js(record: &JsValue) -> Option<CachedContent> {
    let get = |key: &str| js_sys::Reflect::get(record, &JsValue::from_str(key)).ok();
    let rev = get("rev")?.as_f64()?;
    Some(CachedContent {
        path: get("path")?.as_string()?,
        rev: (rev >= 0.0 && rev.fract() == 0.0 && rev <= MAX_SAFE_INTEGER).then_some(rev as u64)?,
        content: get("content")?.as_string()?,
    })
}

/// The DOM exception behind a rexie error, when the browser gave one.
fn dom_exception(error: &rexie::Error) -> Option<DomException> {
    use idb::Error as E;
    let rexie::Error::IdbError(error) = error else {
        return None;
    };
    let value = match error {
        E::DomException(exception) => return Some(exception.clone()),
        E::AddFailed(v)
        | E::ClearFailed(v)
        | E::DeleteFailed(v)
        | E::GetAllFailed(v)
        | E::GetFailed(v)
        | E::IndexedDbDeleteFailed(v)
        | E::IndexedDbNotFound(v)
        | E::IndexedDbOpenFailed(v)
        | E::KeyRangeCreateFailed(v)
        | E::ObjectStoreNotFound(v)
        | E::TransactionAbortError(v)
        | E::TransactionCommitError(v)
        | E::TransactionOpenFailed(v)
        | E::UpdateFailed(v) => v,
        _ => return None,
    };
    value.dyn_ref::<DomException>().cloned()
}

/// A failed load or write, as the cache reports it: typed by the DOM
/// exception's name, the one place that reads it.
fn failure(error: &rexie::Error) -> CacheError {
    let Some(exception) = dom_exception(error) else {
        return CacheError::Failed("the browser gave no reason".into());
    };
    match exception.name().as_str() {
        "QuotaExceededError" => CacheError::QuotaExceeded,
        // The connection is closing or closed: another tab's upgrade (or
        // deletion) made rexie close it, or the browser dropped it (Safari:
        // "Connection to Indexed Database server lost", an UnknownError).
        "InvalidStateError" | "UnknownError" => CacheError::Closed,
        name => CacheError::Failed(format!("{name}: {}", exception.message())),
    }
}

/// A failed open: the room carries on in memory whatever the reason.
fn open_failure(error: &rexie::Error) -> CacheError {
    match dom_exception(error) {
        Some(e) if e.name() == "VersionError" => {
            CacheError::Unavailable("a newer version of this page has upgraded it".into())
        }
        Some(e) if e.name() == "QuotaExceededError" => CacheError::QuotaExceeded,
        Some(e) => CacheError::Unavailable(format!("{}: {}", e.name(), e.message())),
        None => CacheError::Unavailable("this browser offers no IndexedDB here".into()),
    }
}

/// Of the errors of one transaction's requests, the one that says why: a
/// failed request aborts the transaction, and every later request then
/// fails with `AbortError`, which says nothing.
fn first_cause(errors: &[rexie::Error]) -> Option<&rexie::Error> {
    errors
        .iter()
        .find(|e| dom_exception(e).is_none_or(|d| d.name() != "AbortError"))
        .or(errors.first())
}

/// The room's schema, for rexie's builder.
fn schema(name: &str, version: u32) -> rexie::RexieBuilder {
    STORES.iter().fold(
        Rexie::builder(name).version(version),
        |builder, &(store, key_path)| {
            let store = ObjectStore::new(store);
            builder.add_object_store(match key_path {
                Some(key_path) => store.key_path(key_path),
                None => store,
            })
        },
    )
}

/// Polls every step on each poll, in order, until all have finished: on
/// the first poll each step makes its request, in the order of `steps`
/// (requests of a transaction run in the order they are made), before
/// anything waits. Returns every step's error.
async fn in_order(mut steps: Vec<LocalBoxFuture<'_, rexie::Result<()>>>) -> Vec<rexie::Error> {
    let mut errors = Vec::new();
    futures_util::future::poll_fn(|cx| {
        steps.retain_mut(|step| match step.as_mut().poll(cx) {
            Poll::Ready(result) => {
                errors.extend(result.err());
                false
            }
            Poll::Pending => true,
        });
        if steps.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    errors
}

impl IndexedDbCache {
    /// Opens (creating or upgrading) the room's database.
    pub async fn open(room_id: &str, options: IndexedDbOptions) -> Result<Self, CacheError> {
        let cache = Self {
            name: room_protocol::urls::cache_database_name(room_id),
            options,
            db: RefCell::new(None),
            transactions: Default::default(),
        };
        cache.connect().await?;
        Ok(cache)
    }

    /// Deletes a room's database (its files, history, drafts and profile),
    /// as a "forget this room" button would. While another tab holds the
    /// database open, the browser waits for it to close first.
    #[cfg(feature = "testing")]
    pub async fn delete(room_id: &str) -> Result<(), CacheError> {
        Rexie::delete(&room_protocol::urls::cache_database_name(room_id))
            .await
            .map_err(|e| open_failure(&e))
    }

    /// Closes this page's connection (as another tab's upgrade would); the
    /// next load or write reopens it.
    pub fn close(&self) {
        if let Some(db) = self.db.borrow_mut().take() {
            db.close();
        }
    }

    /// Opens the connection unless it is open.
    async fn connect(&self) -> Result<(), CacheError> {
        if self.db.borrow().is_some() {
            return Ok(());
        }
        let (opened, result) = futures_channel::oneshot::channel();
        let build = schema(&self.name, self.options.schema_version).build();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(Ok(late)) = opened.send(build.await) {
                // The page gave up waiting and carries on in memory.
                late.close();
            }
        });
        let timeout = TimeoutFuture::new(self.options.open_timeout_ms);
        match select(result, timeout).await {
            Either::Left((Ok(Ok(db)), _)) => {
                *self.db.borrow_mut() = Some(db);
                Ok(())
            }
            Either::Left((Ok(Err(e)), _)) => Err(open_failure(&e)),
            Either::Left((Err(_canceled), _)) => Err(CacheError::Unavailable(
                "the database open was dropped".into(),
            )),
            Either::Right(((), _)) => Err(CacheError::Blocked),
        }
    }

    /// Runs `work` in a transaction over every store. When the connection
    /// turns out to be lost (closed by another tab's upgrade, or dropped
    /// by the browser: Safari drops the connections of pages in the
    /// background), at the transaction's start or in one of its requests,
    /// the connection is reopened once and `work` runs again in a new
    /// transaction. Every batch is idempotent (puts, deletes, clears): a
    /// transaction that failed committed nothing, or (a request that threw
    /// without aborting it) part of the same records, so after the second
    /// run the database holds the batch once. Only a failed reopen, or a
    /// second failure, is an error (the session then carries on in
    /// memory).
    async fn run<T, F>(&self, mode: TransactionMode, work: F) -> Result<T, CacheError>
    where
        F: AsyncFn(Transaction) -> Result<T, CacheError>,
    {
        match self.attempt(mode, &work).await {
            Err(CacheError::Closed) => {
                self.close();
                self.attempt(mode, &work).await
            }
            other => other,
        }
    }

    async fn attempt<T, F>(&self, mode: TransactionMode, work: &F) -> Result<T, CacheError>
    where
        F: AsyncFn(Transaction) -> Result<T, CacheError>,
    {
        self.transactions.add();
        self.connect().await?;
        let tx = {
            let db = self.db.borrow();
            let db = db.as_ref().ok_or(CacheError::Closed)?;
            db.transaction(&STORE_NAMES, mode)
                .map_err(|e| failure(&e))?
        };
        work(tx).await
    }
}

fn store(tx: &Transaction, name: &str) -> Result<Store, CacheError> {
    tx.store(name).map_err(|e| failure(&e))
}

fn records<T: DeserializeOwned>(all: Vec<JsValue>) -> Vec<T> {
    all.into_iter().filter_map(from_js).collect()
}

/// The keys of the tree buckets: the numbers below [`TREE_BUCKETS`] (keys
/// that are numbers sort before the string [`POSITION`]).
fn bucket_keys() -> Result<KeyRange, CacheError> {
    KeyRange::upper_bound(&JsValue::from_f64(TREE_BUCKETS.into()), Some(true))
        .map_err(|e| failure(&e.into()))
}

async fn load(tx: Transaction) -> Result<CachedRoom, CacheError> {
    let [tree, _, events, drafts, profile] = STORE_NAMES.map(|name| store(&tx, name));
    let (tree, events, drafts, profile) = (tree?, events?, drafts?, profile?);
    let buckets = bucket_keys()?;
    // Every request in one first poll. (A read needs no commit: each
    // request's answer is the data, so the transaction's end is not
    // awaited.)
    let (buckets, position, events, drafts, profile) = futures_util::join!(
        tree.get_all(Some(buckets), None),
        tree.get(JsValue::from_str(POSITION)),
        events.get_all(None, None),
        drafts.get_all(None, None),
        profile.get(JsValue::from_str(PROFILE)),
    );
    crate::marks::mark_once(crate::marks::CACHE_READ);
    let fail = |e: rexie::Error| failure(&e);
    let room = CachedRoom {
        meta: position.map_err(fail)?.and_then(from_js::<CacheMeta>),
        tree: {
            let mut tree = Vec::new();
            for bucket in buckets.map_err(fail)?.iter().filter_map(bucket_from_js) {
                tree.extend(bucket);
            }
            tree
        },
        events: records::<RuntimeEvent>(events.map_err(fail)?),
        drafts: records::<CachedDraft>(drafts.map_err(fail)?),
        profile: profile.map_err(fail)?.and_then(from_js::<PeerProfile>),
    };
    Ok(room)
}

async fn load_contents(tx: Transaction) -> Result<Vec<CachedContent>, CacheError> {
    let contents = store(&tx, CONTENTS)?.get_all(None, None).await;
    Ok(contents
        .map_err(|e| failure(&e))?
        .iter()
        .filter_map(content_from_js)
        .collect())
}

/// A batch with every record already a JS object: made once per write
/// (and reused by the retry after a reopen), before any transaction, so
/// nothing can fail between a transaction's first request and its last.
struct Records {
    reset: bool,
    meta: Option<JsValue>,
    /// Each bucket's key and record (`None`: an empty bucket, deleted).
    tree_put: Vec<(JsValue, Option<JsValue>)>,
    contents_put: Vec<JsValue>,
    contents_delete: Vec<String>,
    events_put: Vec<JsValue>,
    events_drop_below: Option<JsValue>,
    drafts_put: Vec<JsValue>,
    drafts_delete: Vec<String>,
    profile: Option<JsValue>,
}

impl Records {
    fn new(batch: CacheWrite) -> Result<Self, CacheError> {
        Ok(Self {
            reset: batch.reset,
            meta: batch.meta.as_ref().map(to_js).transpose()?,
            tree_put: batch
                .tree_put
                .iter()
                .map(|bucket| {
                    let key = JsValue::from_f64(bucket.index.into());
                    (
                        key,
                        (!bucket.files.is_empty()).then(|| bucket_to_js(bucket)),
                    )
                })
                .collect(),
            contents_put: batch.contents_put.iter().map(content_to_js).collect(),
            contents_delete: batch.contents_delete,
            events_put: all(&batch.events_put)?,
            // Revs are integers far below 2^53: exact as JS numbers.
            events_drop_below: batch
                .events_drop_below
                .map(|rev| JsValue::from_f64(rev as f64)),
            drafts_put: all(&batch.drafts_put)?,
            drafts_delete: batch.drafts_delete,
            profile: batch.profile.as_ref().map(to_js).transpose()?,
        })
    }
}

fn all<T: Serialize>(records: &[T]) -> Result<Vec<JsValue>, CacheError> {
    records.iter().map(to_js).collect()
}

/// Commits every change of the batch in one transaction, in the order
/// [`super::apply_write`] applies them: reset, position, tree buckets,
/// content deletes then puts, event puts then the drop, draft deletes then
/// puts, profile.
async fn write(tx: Transaction, records: &Records) -> Result<(), CacheError> {
    let [tree, contents, events, drafts, profile] = STORE_NAMES.map(|name| store(&tx, name));
    let (tree, contents, events, drafts, profile) = (tree?, contents?, events?, drafts?, profile?);
    let (position_key, profile_key) = (JsValue::from_str(POSITION), JsValue::from_str(PROFILE));
    let unkeyed = |values: &[JsValue]| -> Vec<(JsValue, Option<JsValue>)> {
        values.iter().map(|v| (v.clone(), None)).collect()
    };
    let mut steps: Vec<LocalBoxFuture<'_, rexie::Result<()>>> = Vec::new();
    if records.reset {
        steps.push(Box::pin(tree.clear()));
        steps.push(Box::pin(contents.clear()));
        steps.push(Box::pin(events.clear()));
    }
    if let Some(value) = &records.meta {
        steps.push(Box::pin(
            tree.put(value, Some(&position_key)).map(|r| r.map(drop)),
        ));
    }
    let mut buckets_put = Vec::new();
    for (key, record) in &records.tree_put {
        match record {
            Some(record) => buckets_put.push((record.clone(), Some(key.clone()))),
            None => steps.push(Box::pin(tree.delete(key.clone()))),
        }
    }
    if !buckets_put.is_empty() {
        steps.push(Box::pin(tree.put_all(buckets_put.into_iter())));
    }
    for path in &records.contents_delete {
        steps.push(Box::pin(contents.delete(JsValue::from_str(path))));
    }
    if !records.contents_put.is_empty() {
        steps.push(Box::pin(
            contents.put_all(unkeyed(&records.contents_put).into_iter()),
        ));
    }
    if !records.events_put.is_empty() {
        steps.push(Box::pin(
            events.put_all(unkeyed(&records.events_put).into_iter()),
        ));
    }
    if let Some(below) = &records.events_drop_below {
        // One range delete: its cost is the number of events it drops.
        let older = KeyRange::upper_bound(below, Some(true)).map_err(|e| failure(&e.into()))?;
        steps.push(Box::pin(events.delete(older.into())));
    }
    for path in &records.drafts_delete {
        steps.push(Box::pin(drafts.delete(JsValue::from_str(path))));
    }
    if !records.drafts_put.is_empty() {
        steps.push(Box::pin(
            drafts.put_all(unkeyed(&records.drafts_put).into_iter()),
        ));
    }
    if let Some(value) = &records.profile {
        steps.push(Box::pin(
            profile.put(value, Some(&profile_key)).map(|r| r.map(drop)),
        ));
    }
    let (errors, done) = futures_util::join!(in_order(steps), tx.done());
    if let Some(cause) = first_cause(&errors) {
        return Err(failure(cause));
    }
    match done {
        Ok(result) if result.is_committed() => Ok(()),
        // Every request succeeded, yet the commit was refused. The browser
        // gives the reason on the transaction, which rexie does not expose;
        // at commit it is the quota check or a disk error.
        Ok(_aborted) => Err(CacheError::CommitRefused),
        Err(e) => Err(failure(&e)),
    }
}

impl RoomCache for IndexedDbCache {
    fn load(&self) -> LocalBoxFuture<'_, Result<CachedRoom, CacheError>> {
        Box::pin(self.run(TransactionMode::ReadOnly, async |tx| load(tx).await))
    }

    fn load_contents(&self) -> LocalBoxFuture<'_, Result<Vec<CachedContent>, CacheError>> {
        Box::pin(self.run(TransactionMode::ReadOnly, async |tx| {
            load_contents(tx).await
        }))
    }

    fn write(&self, batch: CacheWrite) -> LocalBoxFuture<'_, Result<(), CacheError>> {
        Box::pin(async move {
            let records = Records::new(batch)?;
            self.run(TransactionMode::ReadWrite, async |tx| {
                write(tx, &records).await
            })
            .await
        })
    }

    fn kind(&self) -> CacheKind {
        CacheKind::IndexedDb
    }

    #[cfg(feature = "testing")]
    fn transactions(&self) -> u64 {
        self.transactions.get()
    }
}
