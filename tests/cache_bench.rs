//! Benchmark of the IndexedDB cache (not a test: run by `scripts/bench.sh`,
//! never by CI). Prints figures measured in one run, as ratios where a
//! baseline exists, because the machines are noisy.

#![cfg(target_arch = "wasm32")]

use room_client::cache::{diff, CacheWrite, IndexedDbCache, IndexedDbOptions, RoomCache};
use room_client::protocol::urls::cache_database_name;
use room_client::protocol::{LogEntry, RuntimeEvent};
use room_client::state::{Action, RoomState};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

// The floor: the same IndexedDB operations in plain JavaScript, with no
// wrapper and no decoding into Rust, timed by the page's clock.
#[wasm_bindgen(inline_js = r#"
const STORES = ['tree', 'contents', 'events', 'drafts', 'profile'];
function opened(name) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name);
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}
export async function floor_load(name) {
  const db = await opened(name);
  const t0 = performance.now();
  const counts = await new Promise((resolve, reject) => {
    const tx = db.transaction(STORES, 'readonly');
    const out = {};
    for (const store of ['tree', 'contents', 'events', 'drafts']) {
      tx.objectStore(store).getAll().onsuccess = (e) => { out[store] = e.target.result.length; };
    }
    tx.objectStore('profile').get('profile').onsuccess = (e) => { out.profile = e.target.result; };
    tx.oncomplete = () => resolve(out);
    tx.onabort = () => reject(tx.error);
  });
  const ms = performance.now() - t0;
  db.close();
  if (counts.contents !== 50 || counts.events !== 1000) throw new Error('floor read the wrong room');
  return ms;
}
export async function floor_persist(name, events, dropBelow, meta) {
  const db = await opened(name);
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    const tx = db.transaction(STORES, 'readwrite');
    const store = tx.objectStore('events');
    for (const event of events) store.put(event);
    store.delete(IDBKeyRange.upperBound(dropBelow, true));
    tx.objectStore('tree').put(meta, 'position');
    tx.oncomplete = resolve;
    tx.onabort = () => reject(tx.error);
  });
  const ms = performance.now() - t0;
  db.close();
  return ms;
}
"#)]
extern "C" {
    fn floor_load(name: &str) -> js_sys::Promise;
    fn floor_persist(
        name: &str,
        events: JsValue,
        drop_below: f64,
        meta: JsValue,
    ) -> js_sys::Promise;
}

async fn floor_ms(promise: js_sys::Promise) -> f64 {
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap()
        .as_f64()
        .unwrap()
}

/// A value as the plain JS object IndexedDB stores.
fn plain<T: serde::Serialize>(value: &T) -> JsValue {
    js_sys::JSON::parse(&serde_json::to_string(value).unwrap()).unwrap()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn event(rev: u64) -> RuntimeEvent {
    RuntimeEvent {
        rev,
        ts: 1_700_000_000_000 + rev,
        kind: "stdout".into(),
        data: json!({ "line": format!("compiling crate number {rev} of the workspace") }),
    }
}

/// A room of 50 files of about 4 KB (about 200 KB in all), at rev 0.
fn room_of_50_files() -> RoomState {
    let contents: Vec<(String, String)> = (0..50)
        .map(|i| {
            let text = format!("// file {i}\n{}", "fn f() { let x = 1 + 2; }\n".repeat(150));
            (format!("src/module_{i:02}.rs"), text)
        })
        .collect();
    let snapshot: Vec<(&str, &str, u64)> = contents
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_str(), 0))
        .collect();
    let mut base = RoomState::default();
    for action in testing::snapshot("g", 0, &snapshot, Action::TreeWelcome, Action::Content) {
        base.apply(action);
    }
    base
}

/// `state` after events 1..=`count` arrived.
fn with_events(state: &RoomState, count: u64) -> RoomState {
    let mut next = state.clone();
    next.apply(Action::Entries(
        (1..=count)
            .map(|r| LogEntry::RuntimeEvent(event(r)))
            .collect(),
    ));
    next
}

#[wasm_bindgen_test]
async fn cache_benchmark() {
    let room = format!("bench-{:x}", (js_sys::Math::random() * 1e15) as u64);

    // 1. Load 50 files + 1000 events.
    let cache = IndexedDbCache::open(&room, IndexedDbOptions::default())
        .await
        .unwrap();
    let base = room_of_50_files();
    let loaded_room = with_events(&base, 1000);
    cache
        .write(diff(&RoomState::default(), &loaded_room))
        .await
        .unwrap();
    let bytes: usize = base.files.values().map(|f| f.size as usize).sum();
    let mut loads = Vec::new();
    let mut opens = Vec::new();
    let mut floor_loads = Vec::new();
    for _ in 0..10 {
        // Alternating with the floor, so both see the same machine.
        floor_loads.push(floor_ms(floor_load(&cache_database_name(&room))).await);
        let t0 = now();
        let fresh = IndexedDbCache::open(&room, IndexedDbOptions::default())
            .await
            .unwrap();
        let t1 = now();
        let loaded = fresh.load().await.unwrap();
        let contents = fresh.load_contents().await.unwrap();
        let t2 = now();
        assert_eq!((contents.len(), loaded.events.len()), (50, 1000));
        opens.push(t1 - t0);
        loads.push(t2 - t1);
        fresh.close();
    }
    cache.close();
    delete_database(&room).await;

    // 2. Persist a 5000-entry replay: one diff, one transaction...
    let room = format!("{room}-replay");
    let cache = IndexedDbCache::open(&room, IndexedDbOptions::default())
        .await
        .unwrap();
    cache
        .write(diff(&RoomState::default(), &base))
        .await
        .unwrap();
    let before = cache.transactions();
    let t0 = now();
    let replayed = with_events(&base, 5000);
    cache.write(diff(&base, &replayed)).await.unwrap();
    let batched_ms = now() - t0;
    let batched_tx = cache.transactions() - before;
    assert_eq!(cache.load().await.unwrap().events.len(), 1000);
    cache.close();
    delete_database(&room).await;

    // ...against the naive baseline: one transaction per entry.
    let room = format!("{room}-naive");
    let cache = IndexedDbCache::open(&room, IndexedDbOptions::default())
        .await
        .unwrap();
    let before = cache.transactions();
    let t0 = now();
    for rev in 1..=5000 {
        cache
            .write(CacheWrite {
                events_put: vec![event(rev)],
                ..CacheWrite::default()
            })
            .await
            .unwrap();
    }
    let naive_ms = now() - t0;
    let naive_tx = cache.transactions() - before;
    cache.close();
    delete_database(&room).await;

    // ...and against the floor: the same batch in plain JavaScript (the
    // puts of the events that survive the replay, the trim, the meta), on
    // a database holding the same files.
    let room = format!("{room}-floor");
    let cache = IndexedDbCache::open(&room, IndexedDbOptions::default())
        .await
        .unwrap();
    cache
        .write(diff(&RoomState::default(), &base))
        .await
        .unwrap();
    cache.close();
    let batch = diff(&base, &replayed);
    let events: js_sys::Array = batch.events_put.iter().map(plain).collect();
    let floor_persist_ms = floor_ms(floor_persist(
        &cache_database_name(&room),
        events.into(),
        batch.events_drop_below.unwrap() as f64,
        plain(batch.meta.as_ref().unwrap()),
    ))
    .await;
    delete_database(&room).await;

    let (open_ms, load_ms, floor_load_ms) = (median(opens), median(loads), median(floor_loads));
    console_log!("cache benchmark (headless Chromium, real IndexedDB, one run)");
    console_log!("  files: 50 ({} KB), events: 1000", bytes / 1024);
    console_log!(
        "  open database:            median {:.1} ms over 10",
        open_ms
    );
    console_log!(
        "  load (1 read transaction): median {:.1} ms over 10",
        load_ms
    );
    console_log!(
        "  floor, plain JS load:       median {:.1} ms over 10 (rexie load / floor: {:.2})",
        floor_load_ms,
        load_ms / floor_load_ms
    );
    console_log!(
        "  persist 5000-entry replay: {:.1} ms in {} transaction(s)",
        batched_ms,
        batched_tx
    );
    console_log!(
        "  floor, plain JS persist:   {:.1} ms (rexie persist / floor: {:.2})",
        floor_persist_ms,
        batched_ms / floor_persist_ms
    );
    console_log!(
        "  naive, one tx per entry:   {:.1} ms in {} transactions",
        naive_ms,
        naive_tx
    );
    console_log!(
        "  batched is {:.1}x faster than naive",
        naive_ms / batched_ms
    );
    let figures = json!({ "cache": {
        "fileBytes": bytes,
        "events": 1000,
        "openMsMedian": open_ms,
        "loadMsMedian": load_ms,
        "floorLoadMsMedian": floor_load_ms,
        "floorPersist5000Ms": floor_persist_ms,
        "persist5000Ms": batched_ms,
        "persist5000Transactions": batched_tx,
        "naive5000Ms": naive_ms,
        "naive5000Transactions": naive_tx,
    }});
    console_log!("{figures}");
}
