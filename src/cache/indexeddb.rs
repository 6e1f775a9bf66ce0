//! [`RoomCache`] on IndexedDB, through rexie.
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

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::future::{select, Either, LocalBoxFuture};
use gloo_timers::future::TimeoutFuture;
use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

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
const STORES: [&str; 5] = [FILES, EVENTS, DRAFTS, META, PROFILE];

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

/// A room's cache in IndexedDB.
#[derive(Debug)]
pub struct IndexedDbCache {
    name: String,
    options: IndexedDbOptions,
    db: RefCell<Option<Rc<Rexie>>>,
    transactions: Cell<u64>,
}

fn serializer() -> serde_wasm_bindgen::Serializer {
    // Plain objects (not Maps) so key paths resolve, numbers (not BigInts)
    // so revs sort as keys.
    serde_wasm_bindgen::Serializer::json_compatible()
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, CacheError> {
    value
        .serialize(&serializer())
        .map_err(|e| CacheError::Failed(e.to_string()))
}

fn from_js<T: DeserializeOwned>(value: JsValue) -> Option<T> {
    serde_wasm_bindgen::from_value(value).ok()
}

/// The error and its causes in one line: rexie's own message is only
/// "idb error"; the browser's exception name is further down the chain.
fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn classify(error: rexie::Error) -> CacheError {
    let text = error_text(&error);
    if text.contains("QuotaExceeded") {
        CacheError::QuotaExceeded
    } else {
        CacheError::Failed(text)
    }
}

/// Whether the error means the connection was closed under us (another
/// tab's upgrade): worth one reopen.
fn is_closed_connection(error: &CacheError) -> bool {
    matches!(error, CacheError::Failed(text) if text.contains("InvalidStateError") || text.contains("closing"))
}

impl IndexedDbCache {
    /// Opens (creating or upgrading) the room's database.
    pub async fn open(room_id: &str, options: IndexedDbOptions) -> Result<Self, CacheError> {
        let cache = Self {
            name: database_name(room_id),
            options,
            db: RefCell::new(None),
            transactions: Cell::new(0),
        };
        cache.connection().await?;
        Ok(cache)
    }

    async fn connection(&self) -> Result<Rc<Rexie>, CacheError> {
        if let Some(db) = self.db.borrow().as_ref() {
            return Ok(Rc::clone(db));
        }
        let has_factory = web_sys::window()
            .and_then(|w| w.indexed_db().ok().flatten())
            .is_some();
        if !has_factory {
            return Err(CacheError::Unavailable(
                "this browser offers no IndexedDB here".into(),
            ));
        }
        let build = Rexie::builder(&self.name)
            .version(self.options.schema_version)
            .add_object_store(ObjectStore::new(FILES).key_path("path"))
            .add_object_store(ObjectStore::new(EVENTS).key_path("rev"))
            .add_object_store(ObjectStore::new(DRAFTS).key_path("path"))
            .add_object_store(ObjectStore::new(META))
            .add_object_store(ObjectStore::new(PROFILE))
            .build();
        let timeout = TimeoutFuture::new(self.options.open_timeout_ms);
        let db = match select(Box::pin(build), timeout).await {
            Either::Left((Ok(db), _)) => Rc::new(db),
            Either::Left((Err(e), _)) => {
                let text = error_text(&e);
                return Err(if text.contains("VersionError") {
                    CacheError::Unavailable("another tab uses a newer version of this page".into())
                } else {
                    CacheError::Unavailable(text)
                });
            }
            Either::Right(((), _)) => return Err(CacheError::Blocked),
        };
        *self.db.borrow_mut() = Some(Rc::clone(&db));
        Ok(db)
    }

    /// Runs `op` on the connection, reopening once if another tab's
    /// upgrade closed it.
    async fn with_connection<T>(
        &self,
        op: impl Fn(Rc<Rexie>) -> LocalBoxFuture<'static, Result<T, CacheError>>,
    ) -> Result<T, CacheError> {
        let db = self.connection().await?;
        self.transactions.set(self.transactions.get() + 1);
        match op(db).await {
            Err(e) if is_closed_connection(&e) => {
                *self.db.borrow_mut() = None;
                let db = self.connection().await?;
                op(db).await
            }
            other => other,
        }
    }

    /// Closes this page's connection (as another tab's upgrade would).
    pub fn close(&self) {
        if let Some(db) = self.db.borrow_mut().take() {
            if let Ok(db) = Rc::try_unwrap(db) {
                db.close();
            }
        }
    }
}

async fn load(db: Rc<Rexie>) -> Result<CachedRoom, CacheError> {
    let tx = db
        .transaction(&STORES, TransactionMode::ReadOnly)
        .map_err(classify)?;
    let get_all = |name: &'static str| {
        let store = tx.store(name);
        async move {
            let store = store.map_err(classify)?;
            store.get_all(None, None).await.map_err(classify)
        }
    };
    let files: Vec<CachedFile> = get_all(FILES)
        .await?
        .into_iter()
        .filter_map(from_js)
        .collect();
    let events: Vec<RuntimeEvent> = get_all(EVENTS)
        .await?
        .into_iter()
        .filter_map(from_js)
        .collect();
    let drafts: Vec<CachedDraft> = get_all(DRAFTS)
        .await?
        .into_iter()
        .filter_map(from_js)
        .collect();
    let meta_store = tx.store(META).map_err(classify)?;
    let meta: Option<CacheMeta> = meta_store
        .get(JsValue::from_str(META))
        .await
        .map_err(classify)?
        .and_then(from_js);
    let profile_store = tx.store(PROFILE).map_err(classify)?;
    let profile: Option<PeerProfile> = profile_store
        .get(JsValue::from_str(PROFILE))
        .await
        .map_err(classify)?
        .and_then(from_js);
    tx.done().await.map_err(classify)?;
    Ok(CachedRoom {
        meta,
        files,
        events,
        profile,
        drafts,
    })
}

async fn write(db: Rc<Rexie>, batch: CacheWrite) -> Result<(), CacheError> {
    let tx = db
        .transaction(&STORES, TransactionMode::ReadWrite)
        .map_err(classify)?;
    let files = tx.store(FILES).map_err(classify)?;
    let events = tx.store(EVENTS).map_err(classify)?;
    let drafts = tx.store(DRAFTS).map_err(classify)?;
    if batch.reset {
        files.clear().await.map_err(classify)?;
        events.clear().await.map_err(classify)?;
    }
    if let Some(meta) = &batch.meta {
        let store = tx.store(META).map_err(classify)?;
        store
            .put(&to_js(meta)?, Some(&JsValue::from_str(META)))
            .await
            .map_err(classify)?;
    }
    for path in &batch.files_delete {
        files
            .delete(JsValue::from_str(path))
            .await
            .map_err(classify)?;
    }
    let puts: Vec<JsValue> = batch
        .files_put
        .iter()
        .map(to_js)
        .collect::<Result<_, _>>()?;
    files
        .put_all(puts.into_iter().map(|v| (v, None)))
        .await
        .map_err(classify)?;
    if let Some(newest) = batch.events_put.last().map(|e| e.rev) {
        let puts: Vec<JsValue> = batch
            .events_put
            .iter()
            .map(to_js)
            .collect::<Result<_, _>>()?;
        events
            .put_all(puts.into_iter().map(|v| (v, None)))
            .await
            .map_err(classify)?;
        // Keep the newest SNAPSHOT_EVENT_LIMIT: one range delete, whatever
        // the excess.
        let keep_from = newest.saturating_sub(SNAPSHOT_EVENT_LIMIT as u64 - 1);
        if keep_from > 1 {
            let range = web_sys::IdbKeyRange::upper_bound_with_open(
                &JsValue::from_f64(keep_from as f64),
                true,
            )
            .map_err(|e| CacheError::Failed(format!("{e:?}")))?;
            events.delete(range.into()).await.map_err(classify)?;
        }
    }
    for path in &batch.drafts_delete {
        drafts
            .delete(JsValue::from_str(path))
            .await
            .map_err(classify)?;
    }
    let puts: Vec<JsValue> = batch
        .drafts_put
        .iter()
        .map(to_js)
        .collect::<Result<_, _>>()?;
    drafts
        .put_all(puts.into_iter().map(|v| (v, None)))
        .await
        .map_err(classify)?;
    if let Some(profile) = &batch.profile {
        let store = tx.store(PROFILE).map_err(classify)?;
        store
            .put(&to_js(profile)?, Some(&JsValue::from_str(PROFILE)))
            .await
            .map_err(classify)?;
    }
    tx.done().await.map_err(classify)?;
    Ok(())
}

impl RoomCache for IndexedDbCache {
    fn load(&self) -> LocalBoxFuture<'_, Result<CachedRoom, CacheError>> {
        Box::pin(self.with_connection(|db| Box::pin(load(db))))
    }

    fn write(&self, batch: CacheWrite) -> LocalBoxFuture<'_, Result<(), CacheError>> {
        Box::pin(self.with_connection(move |db| Box::pin(write(db, batch.clone()))))
    }

    fn kind(&self) -> CacheKind {
        CacheKind::IndexedDb
    }

    fn transactions(&self) -> u64 {
        self.transactions.get()
    }
}
