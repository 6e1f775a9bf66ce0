//! Benchmark of the IndexedDB cache (not a test: run by `scripts/bench.sh`,
//! never by CI). Prints figures measured in one run, as ratios where a
//! baseline exists, because the machines are noisy.

#![cfg(target_arch = "wasm32")]

use room_client::cache::{
    diff, CacheWrite, CachedFile, IndexedDbCache, IndexedDbOptions, RoomCache,
};
use room_client::protocol::{LogEntry, ProjectVersion, RuntimeEvent, SyncMode};
use room_client::state::{Action, RoomState};
use serde_json::json;
use wasm_bindgen_test::*;

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

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

/// 50 files of about 4 KB: about 200 KB in all.
fn files() -> Vec<CachedFile> {
    (0..50)
        .map(|i| CachedFile {
            path: format!("src/module_{i:02}.rs"),
            content: format!("// file {i}\n{}", "fn f() { let x = 1 + 2; }\n".repeat(150)),
            rev: i,
        })
        .collect()
}

#[wasm_bindgen_test]
async fn cache_benchmark() {
    let room = format!("bench-{:x}", (js_sys::Math::random() * 1e15) as u64);

    // 1. Load 50 files + 1000 events.
    let cache = IndexedDbCache::open(&room, IndexedDbOptions::default())
        .await
        .unwrap();
    cache
        .write(CacheWrite {
            meta: Some(room_client::cache::CacheMeta {
                project: ProjectVersion {
                    id: "g".into(),
                    rev: 49,
                },
                last_seen_rev: 1000,
                last_event_ts: Some(1),
            }),
            files_put: files(),
            events_put: (1..=1000).map(event).collect(),
            ..CacheWrite::default()
        })
        .await
        .unwrap();
    let bytes: usize = files().iter().map(|f| f.content.len()).sum();
    let mut loads = Vec::new();
    let mut opens = Vec::new();
    for _ in 0..10 {
        let t0 = now();
        let fresh = IndexedDbCache::open(&room, IndexedDbOptions::default())
            .await
            .unwrap();
        let t1 = now();
        let loaded = fresh.load().await.unwrap();
        let t2 = now();
        assert_eq!((loaded.files.len(), loaded.events.len()), (50, 1000));
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
    let mut base = RoomState::default();
    let bench_files = files();
    let snapshot: Vec<_> = bench_files
        .iter()
        .map(|f| (f.path.as_str(), f.content.as_str(), 0))
        .collect();
    base.apply(Action::Welcome(testing::welcome(
        "g",
        0,
        SyncMode::Snapshot,
        &snapshot,
    )));
    cache
        .write(diff(&RoomState::default(), &base))
        .await
        .unwrap();
    let before = cache.transactions();
    let t0 = now();
    let mut replayed = base.clone();
    replayed.apply(Action::Entries(
        (1..=5000)
            .map(|r| LogEntry::RuntimeEvent(event(r)))
            .collect(),
    ));
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

    let (open_ms, load_ms) = (median(opens), median(loads));
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
        "  persist 5000-entry replay: {:.1} ms in {} transaction(s)",
        batched_ms,
        batched_tx
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
        "persist5000Ms": batched_ms,
        "persist5000Transactions": batched_tx,
        "naive5000Ms": naive_ms,
        "naive5000Transactions": naive_tx,
    }});
    console_log!("{figures}");
}
