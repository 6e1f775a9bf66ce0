//! [`RoomCache`] on IndexedDB, through rexie.
//!
//! One database per room, `solaro-room-{roomId}`
//! ([`room_protocol::urls::cache_database_name`]), with the stores `files`
//! (key: path), `events` (key: rev), `drafts` (key: path), and the single
//! records `meta` and `profile`. Every load is one read transaction with
//! `getAll`; every batch is one write transaction.
//!
//! Robustness:
//! - opening waits at most `open_timeout_ms`: a tab holding an old version
//!   open (a `blocked` upgrade) must not hang start-up. rexie has no
//!   `onblocked` hook, so the open runs as a task of its own, bounded by a
//!   timer; should it succeed after the page gave up, that connection is
//!   closed at once so it blocks no other tab;
//! - when another tab upgrades the schema, rexie (its `idb` layer) closes
//!   this connection on `versionchange`; the next load or write reopens it;
//! - rexie's builder upgrades an older schema in place: it creates the
//!   stores that are missing and drops the ones this version does not know.
//!
//! Transactions and futures (the pitfalls rexie's and idb's users report):
//! - a transaction commits as soon as its task waits on anything but its
//!   own requests, so nothing here awaits a timer or a channel inside one;
//! - rexie makes a request only when its future is first polled, and
//!   attaches the transaction's completion handlers only when `done()` is
//!   first polled (awaiting it after the commit would hang). So every
//!   request and `done()` are polled together, in order, in the first poll
//!   of one future ([`in_order`] and `join!`): all requests are made, in
//!   the order the batch lists them, and the handlers are attached before
//!   the browser can run any event of this transaction.
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
    CacheKind, CacheMeta, CacheWrite, CachedDraft, CachedFile, CachedRoom, RoomCache,
    MAX_SAFE_INTEGER,
};
use crate::error::CacheError;
use room_protocol::{PeerProfile, RuntimeEvent};

/// The schema version. Bump it when the stores change; older databases are
/// upgraded in place on open.
pub const DB_VERSION: u32 = 1;

const FILES: &str = "files";
const EVENTS: &str = "events";
const DRAFTS: &str = "drafts";
const META: &str = "meta";
const PROFILE: &str = "profile";
/// Every store with its key path (`None`: keys are given on `put`; `meta`
/// and `profile` hold one record each, keyed by the store's name).
const STORES: [(&str, Option<&str>); 5] = [
    (FILES, Some("path")),
    (EVENTS, Some("rev")),
    (DRAFTS, Some("path")),
    (META, None),
    (PROFILE, None),
];
const STORE_NAMES: [&str; 5] = [FILES, EVENTS, DRAFTS, META, PROFILE];

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

/// A file record, `{path, rev, size, content}` (the last two when known),
/// built field by field: a tree of many thousand files is written without
/// a JSON round trip per record. The same shape [`to_js`] would make.
fn file_to_js(file: &CachedFile) -> JsValue {
    let record = js_sys::Object::new();
    let set = |key: &str, value: JsValue| {
        // Setting a plain object's own property cannot fail.
        let _ = js_sys::Reflect::set(&record, &JsValue::from_str(key), &value);
    };
    set("path", JsValue::from_str(&file.path));
    // Revs and sizes are integers far below 2^53: exact as JS numbers.
    set("rev", JsValue::from_f64(file.rev as f64));
    if let Some(size) = file.size {
        set("size", JsValue::from_f64(size as f64));
    }
    if let Some(content) = &file.content {
        set("content", JsValue::from_str(content));
    }
    record.into()
}

/// A file record read field by field (see [`file_to_js`]); `None` for one
/// this build cannot read, which is skipped.
fn file_from_js(record: &JsValue) -> Option<CachedFile> {
    let get = |key: &str| js_sys::Reflect::get(record, &JsValue::from_str(key)).ok();
    let whole = |value: JsValue| {
        let x = value.as_f64()?;
        (x >= 0.0 && x.fract() == 0.0 && x <= MAX_SAFE_INTEGER).then_some(x as u64)
    };
    Some(CachedFile {
        path: get("path")?.as_string()?,
        rev: whole(get("rev")?)?,
        size: get("size").and_then(whole),
        content: get("content").and_then(|c| c.as_string()),
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
        // deletion) made rexie close it.
        "InvalidStateError" => CacheError::Closed,
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

    /// A transaction over every store, reopening the connection once if
    /// another tab's upgrade closed it.
    async fn begin(&self, mode: TransactionMode) -> Result<Transaction, CacheError> {
        self.transactions.add();
        match self.try_begin(mode).await {
            Err(CacheError::Closed) => {
                self.close();
                self.try_begin(mode).await
            }
            other => other,
        }
    }

    async fn try_begin(&self, mode: TransactionMode) -> Result<Transaction, CacheError> {
        self.connect().await?;
        let db = self.db.borrow();
        let db = db.as_ref().ok_or(CacheError::Closed)?;
        db.transaction(&STORE_NAMES, mode).map_err(|e| failure(&e))
    }
}

fn store(tx: &Transaction, name: &str) -> Result<Store, CacheError> {
    tx.store(name).map_err(|e| failure(&e))
}

fn records<T: DeserializeOwned>(all: Vec<JsValue>) -> Vec<T> {
    all.into_iter().filter_map(from_js).collect()
}

async fn load(tx: Transaction) -> Result<CachedRoom, CacheError> {
    let [files, events, drafts, meta, profile] = STORE_NAMES.map(|name| store(&tx, name));
    let (files, events, drafts, meta, profile) = (files?, events?, drafts?, meta?, profile?);
    // Every request, then the completion handlers, in one first poll.
    let (files, events, drafts, meta, profile, done) = futures_util::join!(
        files.get_all(None, None),
        events.get_all(None, None),
        drafts.get_all(None, None),
        meta.get(JsValue::from_str(META)),
        profile.get(JsValue::from_str(PROFILE)),
        tx.done(),
    );
    crate::marks::mark_once(crate::marks::CACHE_READ);
    let fail = |e: rexie::Error| failure(&e);
    let room = CachedRoom {
        files: files
            .map_err(fail)?
            .iter()
            .filter_map(file_from_js)
            .collect(),
        events: records::<RuntimeEvent>(events.map_err(fail)?),
        drafts: records::<CachedDraft>(drafts.map_err(fail)?),
        meta: meta.map_err(fail)?.and_then(from_js::<CacheMeta>),
        profile: profile.map_err(fail)?.and_then(from_js::<PeerProfile>),
    };
    done.map_err(fail)?;
    Ok(room)
}

/// A batch with every record already a JS object: made once per write
/// (and reused by the retry after a reopen), before any transaction, so
/// nothing can fail between a transaction's first request and its last.
struct Records {
    reset: bool,
    meta: Option<JsValue>,
    files_put: Vec<JsValue>,
    files_delete: Vec<String>,
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
            files_put: batch.files_put.iter().map(file_to_js).collect(),
            files_delete: batch.files_delete,
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
/// [`super::apply_write`] applies them: reset, meta, file deletes then
/// puts, event puts then the drop, draft deletes then puts, profile.
async fn write(tx: Transaction, records: &Records) -> Result<(), CacheError> {
    let [files, events, drafts, meta, profile] = STORE_NAMES.map(|name| store(&tx, name));
    let (files, events, drafts, meta, profile) = (files?, events?, drafts?, meta?, profile?);
    let (meta_key, profile_key) = (JsValue::from_str(META), JsValue::from_str(PROFILE));
    let unkeyed = |values: &[JsValue]| -> Vec<(JsValue, Option<JsValue>)> {
        values.iter().map(|v| (v.clone(), None)).collect()
    };
    let mut steps: Vec<LocalBoxFuture<'_, rexie::Result<()>>> = Vec::new();
    if records.reset {
        steps.push(Box::pin(files.clear()));
        steps.push(Box::pin(events.clear()));
    }
    if let Some(value) = &records.meta {
        steps.push(Box::pin(
            meta.put(value, Some(&meta_key)).map(|r| r.map(drop)),
        ));
    }
    for path in &records.files_delete {
        steps.push(Box::pin(files.delete(JsValue::from_str(path))));
    }
    if !records.files_put.is_empty() {
        steps.push(Box::pin(
            files.put_all(unkeyed(&records.files_put).into_iter()),
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
        Box::pin(async move { load(self.begin(TransactionMode::ReadOnly).await?).await })
    }

    fn write(&self, batch: CacheWrite) -> LocalBoxFuture<'_, Result<(), CacheError>> {
        Box::pin(async move {
            let records = Records::new(batch)?;
            write(self.begin(TransactionMode::ReadWrite).await?, &records).await
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
