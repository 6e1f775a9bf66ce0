//! [`RoomCache`] on IndexedDB, through web-sys directly.
//!
//! One database per room, `solaro-room-{roomId}`, with the stores `files`
//! (key: path), `events` (key: rev), `drafts` (key: path), and the single
//! records `meta` and `profile`. Every load is one read transaction with
//! `getAll`; every batch is one write transaction.
//!
//! Robustness:
//! - opening waits at most `open_timeout_ms`: a tab holding an old version
//!   open (a `blocked` upgrade) must not hang start-up;
//! - when another tab upgrades the schema, the `versionchange` handler
//!   closes this connection, and the next call reopens it;
//! - an older schema is upgraded in place by recreating the stores that
//!   are missing and dropping unknown ones.
//!
//! Why no wrapper crate: the cache needs six IndexedDB calls, and every
//! request is turned into a promise the moment it is made (so no success
//! event can fire before its handler is attached). A wrapper crate cost
//! about 20 KB of wasm for the same.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::future::{select, Either, LocalBoxFuture};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Promise};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DomException, IdbDatabase, IdbKeyRange, IdbObjectStoreParameters, IdbOpenDbRequest, IdbRequest,
    IdbTransaction, IdbTransactionMode,
};

use super::{CacheKind, CacheMeta, CacheWrite, CachedDraft, CachedFile, CachedRoom, RoomCache};
use crate::error::CacheError;
use room_protocol::{PeerProfile, RuntimeEvent, SNAPSHOT_EVENT_LIMIT};

/// The schema version. Bump it when the stores change; older databases are
/// upgraded in place on open.
pub const DB_VERSION: u32 = 1;

const FILES: &str = "files";
const EVENTS: &str = "events";
const DRAFTS: &str = "drafts";
const META: &str = "meta";
const PROFILE: &str = "profile";
/// Every store with its key path (`None`: keys are given on `put`).
const STORES: [(&str, Option<&str>); 5] = [
    (FILES, Some("path")),
    (EVENTS, Some("rev")),
    (DRAFTS, Some("path")),
    (META, None),
    (PROFILE, None),
];

/// The database name of a room.
pub fn database_name(room_id: &str) -> String {
    format!("solaro-room-{room_id}")
}

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

/// An open database and the handler that lets it go when another tab
/// upgrades the schema.
struct Connection {
    db: IdbDatabase,
    _on_version_change: Closure<dyn FnMut()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.close();
    }
}

/// A room's cache in IndexedDB. Dropping it closes the connection.
pub struct IndexedDbCache {
    name: String,
    options: IndexedDbOptions,
    connection: RefCell<Option<Connection>>,
    transactions: Cell<u64>,
}

impl std::fmt::Debug for IndexedDbCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedDbCache")
            .field("name", &self.name)
            .field("open", &self.connection.borrow().is_some())
            .finish()
    }
}

// Records go through serde_json and the browser's own `JSON`, not through a
// second serde backend such as serde-wasm-bindgen: serde_json is in the
// bundle anyway for the wire, and each extra backend repeats the
// (de)serializers of every record type. The stored shape is the same plain
// object either way, so key paths resolve and revs stay numbers.

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

/// The browser's exception as one line: its name (which says what kind of
/// failure it is) and its message.
fn exception_text(error: &JsValue) -> String {
    match error.dyn_ref::<DomException>() {
        Some(e) => format!("{}: {}", e.name(), e.message()),
        None => "unknown error".into(),
    }
}

/// A failed call or request, as the cache reports it.
fn failure(error: &JsValue) -> CacheError {
    let text = exception_text(error);
    if text.starts_with("QuotaExceededError") {
        CacheError::QuotaExceeded
    } else {
        CacheError::Failed(text)
    }
}

/// Whether the error means the connection was closed under us (another
/// tab's upgrade): worth one reopen.
fn is_closed_connection(error: &CacheError) -> bool {
    matches!(error, CacheError::Failed(text) if text.starts_with("InvalidStateError"))
}

/// The request's outcome. The promise is made (and the handlers attached)
/// now, before the caller awaits anything, so no event is missed.
fn settle(request: &IdbRequest) -> impl std::future::Future<Output = Result<JsValue, CacheError>> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    let request = request.clone();
    async move {
        match JsFuture::from(promise).await {
            Ok(_) => request.result().map_err(|e| failure(&e)),
            Err(_) => Err(match request.error() {
                Ok(Some(e)) => failure(&e.into()),
                _ => CacheError::Failed("a request failed".into()),
            }),
        }
    }
}

/// Resolves when the transaction commits; an abort (a failed request, a
/// full disk) is an error carrying the browser's reason. Made eagerly, like
/// [`settle`].
fn committed(tx: &IdbTransaction) -> impl std::future::Future<Output = Result<(), CacheError>> {
    let promise = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onabort(Some(&reject));
    });
    let tx = tx.clone();
    async move {
        match JsFuture::from(promise).await {
            Ok(_) => Ok(()),
            Err(_) => Err(match tx.error() {
                Some(e) => failure(&e.into()),
                None => CacheError::Failed("the transaction was aborted".into()),
            }),
        }
    }
}

/// Creates the stores a database lacks and drops the ones this version
/// does not know (the `upgradeneeded` step).
fn upgrade(request: &IdbOpenDbRequest) {
    let Ok(db) = request.result() else { return };
    let db: IdbDatabase = db.unchecked_into();
    let names = db.object_store_names();
    let existing: Vec<String> = (0..names.length()).filter_map(|i| names.item(i)).collect();
    for name in &existing {
        if !STORES.iter().any(|(known, _)| known == name) {
            let _ = db.delete_object_store(name);
        }
    }
    for (name, key_path) in STORES {
        if existing.iter().any(|e| e == name) {
            continue;
        }
        let parameters = IdbObjectStoreParameters::new();
        if let Some(key_path) = key_path {
            parameters.set_key_path(&JsValue::from_str(key_path));
        }
        let _ = db.create_object_store_with_optional_parameters(name, &parameters);
    }
}

fn factory() -> Result<web_sys::IdbFactory, CacheError> {
    web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or_else(|| CacheError::Unavailable("this browser offers no IndexedDB here".into()))
}

impl IndexedDbCache {
    /// Opens (creating or upgrading) the room's database.
    pub async fn open(room_id: &str, options: IndexedDbOptions) -> Result<Self, CacheError> {
        let cache = Self {
            name: database_name(room_id),
            options,
            connection: RefCell::new(None),
            transactions: Cell::new(0),
        };
        cache.connection().await?;
        Ok(cache)
    }

    /// Deletes a room's database (its files, history, drafts and profile),
    /// as a "forget this room" button would. While another tab holds the
    /// database open, the browser waits for it to close first.
    pub async fn delete(room_id: &str) -> Result<(), CacheError> {
        let request = factory()?
            .delete_database(&database_name(room_id))
            .map_err(|e| failure(&e))?;
        settle(&request).await.map(drop)
    }

    async fn connection(&self) -> Result<IdbDatabase, CacheError> {
        if let Some(connection) = self.connection.borrow().as_ref() {
            return Ok(connection.db.clone());
        }
        let request = factory()?
            .open_with_u32(&self.name, self.options.schema_version)
            .map_err(|e| CacheError::Unavailable(exception_text(&e)))?;
        let on_upgrade = Closure::<dyn FnMut()>::new({
            let request = request.clone();
            move || upgrade(&request)
        });
        request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let timeout = TimeoutFuture::new(self.options.open_timeout_ms);
        let db: IdbDatabase = match select(Box::pin(settle(&request)), timeout).await {
            Either::Left((Ok(db), _)) => db.unchecked_into(),
            Either::Left((Err(e), _)) => {
                return Err(match e {
                    CacheError::Failed(text) if text.starts_with("VersionError") => {
                        CacheError::Unavailable(
                            "another tab uses a newer version of this page".into(),
                        )
                    }
                    CacheError::Failed(text) => CacheError::Unavailable(text),
                    other => other,
                })
            }
            Either::Right(((), _)) => {
                // The open stays pending in the browser. Should it succeed
                // later, close that connection at once so this page does
                // not block other tabs; the upgrade step may still run
                // before that, so its handler must outlive this call.
                on_upgrade.forget();
                let close_late = Closure::once_into_js({
                    let request = request.clone();
                    move || {
                        if let Ok(db) = request.result() {
                            db.unchecked_into::<IdbDatabase>().close();
                        }
                    }
                });
                request.set_onsuccess(Some(close_late.unchecked_ref()));
                return Err(CacheError::Blocked);
            }
        };
        // The upgrade step ran (or was not needed) before success; its
        // handler is dropped with this call, so unhook it first.
        request.set_onupgradeneeded(None);
        let on_version_change = Closure::<dyn FnMut()>::new({
            let db = db.clone();
            move || db.close()
        });
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        *self.connection.borrow_mut() = Some(Connection {
            db: db.clone(),
            _on_version_change: on_version_change,
        });
        Ok(db)
    }

    /// Runs `op` on the connection, reopening once if another tab's
    /// upgrade closed it.
    async fn with_connection<T>(
        &self,
        op: impl Fn(IdbDatabase) -> LocalBoxFuture<'static, Result<T, CacheError>>,
    ) -> Result<T, CacheError> {
        let db = self.connection().await?;
        self.transactions.set(self.transactions.get() + 1);
        match op(db).await {
            Err(e) if is_closed_connection(&e) => {
                self.connection.borrow_mut().take();
                let db = self.connection().await?;
                op(db).await
            }
            other => other,
        }
    }

    /// Closes this page's connection (as another tab's upgrade would); the
    /// next load or write reopens it.
    pub fn close(&self) {
        self.connection.borrow_mut().take();
    }
}

/// A transaction over every store.
fn transaction(db: &IdbDatabase, mode: IdbTransactionMode) -> Result<IdbTransaction, CacheError> {
    let names: Array = STORES
        .iter()
        .map(|(name, _)| JsValue::from_str(name))
        .collect();
    db.transaction_with_str_sequence_and_mode(&names, mode)
        .map_err(|e| failure(&e))
}

fn records<T: DeserializeOwned>(all: JsValue) -> Vec<T> {
    Array::from(&all).iter().filter_map(from_js).collect()
}

async fn load(db: IdbDatabase) -> Result<CachedRoom, CacheError> {
    let tx = transaction(&db, IdbTransactionMode::Readonly)?;
    let done = committed(&tx);
    let store = |name: &str| tx.object_store(name).map_err(|e| failure(&e));
    let get_all = |name: &str| store(name)?.get_all().map_err(|e| failure(&e));
    let get = |name: &str| {
        store(name)?
            .get(&JsValue::from_str(name))
            .map_err(|e| failure(&e))
    };
    // Every request is made before the first await.
    let files = settle(&get_all(FILES)?);
    let events = settle(&get_all(EVENTS)?);
    let drafts = settle(&get_all(DRAFTS)?);
    let meta = settle(&get(META)?);
    let profile = settle(&get(PROFILE)?);
    let room = CachedRoom {
        files: records::<CachedFile>(files.await?),
        events: records::<RuntimeEvent>(events.await?),
        drafts: records::<CachedDraft>(drafts.await?),
        meta: from_js::<CacheMeta>(meta.await?),
        profile: from_js::<PeerProfile>(profile.await?),
    };
    done.await?;
    Ok(room)
}

/// Queues every change of `batch` in one transaction, in order (requests of
/// a transaction run in the order they are made), then waits for the
/// commit: a failing request aborts the whole batch.
async fn write(db: IdbDatabase, batch: Rc<CacheWrite>) -> Result<(), CacheError> {
    let tx = transaction(&db, IdbTransactionMode::Readwrite)?;
    let done = committed(&tx);
    let queued = queue_write(&tx, &batch);
    if let Err(e) = queued {
        let _ = tx.abort();
        return Err(e);
    }
    done.await
}

fn queue_write(tx: &IdbTransaction, batch: &CacheWrite) -> Result<(), CacheError> {
    let store = |name: &str| tx.object_store(name).map_err(|e| failure(&e));
    let files = store(FILES)?;
    let events = store(EVENTS)?;
    let drafts = store(DRAFTS)?;
    let fail = |e: JsValue| failure(&e);
    if batch.reset {
        files.clear().map_err(fail)?;
        events.clear().map_err(fail)?;
    }
    if let Some(meta) = &batch.meta {
        store(META)?
            .put_with_key(&to_js(meta)?, &JsValue::from_str(META))
            .map_err(fail)?;
    }
    for path in &batch.files_delete {
        files.delete(&JsValue::from_str(path)).map_err(fail)?;
    }
    for file in &batch.files_put {
        files.put(&to_js(file)?).map_err(fail)?;
    }
    for event in &batch.events_put {
        events.put(&to_js(event)?).map_err(fail)?;
    }
    if let Some(newest) = batch.events_put.iter().map(|e| e.rev).max() {
        // Keep the newest SNAPSHOT_EVENT_LIMIT: one range delete, whatever
        // the excess.
        let keep_from = newest.saturating_sub(SNAPSHOT_EVENT_LIMIT as u64 - 1);
        if keep_from > 1 {
            let older =
                IdbKeyRange::upper_bound_with_open(&JsValue::from_f64(keep_from as f64), true)
                    .map_err(fail)?;
            events.delete(&older).map_err(fail)?;
        }
    }
    for path in &batch.drafts_delete {
        drafts.delete(&JsValue::from_str(path)).map_err(fail)?;
    }
    for draft in &batch.drafts_put {
        drafts.put(&to_js(draft)?).map_err(fail)?;
    }
    if let Some(profile) = &batch.profile {
        store(PROFILE)?
            .put_with_key(&to_js(profile)?, &JsValue::from_str(PROFILE))
            .map_err(fail)?;
    }
    Ok(())
}

impl RoomCache for IndexedDbCache {
    fn load(&self) -> LocalBoxFuture<'_, Result<CachedRoom, CacheError>> {
        Box::pin(self.with_connection(|db| Box::pin(load(db))))
    }

    fn write(&self, batch: CacheWrite) -> LocalBoxFuture<'_, Result<(), CacheError>> {
        // Shared, not cloned, for the rare retry after another tab's upgrade.
        let batch = Rc::new(batch);
        Box::pin(self.with_connection(move |db| Box::pin(write(db, Rc::clone(&batch)))))
    }

    fn kind(&self) -> CacheKind {
        CacheKind::IndexedDb
    }

    fn transactions(&self) -> u64 {
        self.transactions.get()
    }
}
