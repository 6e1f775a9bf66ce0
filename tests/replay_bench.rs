//! Benchmark of replay ingest (not a test: run by `scripts/bench.sh`,
//! never by CI). A session with an IndexedDB cache reconnects after 5000
//! entries happened; we time it until the state is synced and persisted,
//! and count renders and transactions. The naive baseline, in the same
//! run: one transaction and one render per entry.

#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use room_client::cache::{diff, IndexedDbCache, IndexedDbOptions, RoomCache};
use room_client::protocol::{LogEntry, RuntimeEvent, Token};
use room_client::session::{CacheChoice, Session, SessionConfig};
use room_client::state::{Action, ConnectionStatus};
use room_client::SessionOptions;
use serde_json::json;
use wasm_bindgen_test::*;

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

const ENTRIES: u64 = 5000;

#[wasm_bindgen_test]
async fn replay_benchmark() {
    let config = kit_get("/config").await;
    let room = fresh_room("replay-bench");
    let session_config = || SessionConfig {
        url: config["proxyWs"].as_str().unwrap().into(),
        token: Some(Token::new(config["editToken"].as_str().unwrap())),
        options: SessionOptions::default(),
        cache: CacheChoice::IndexedDb {
            room_id: room.clone(),
            options: IndexedDbOptions::default(),
        },
    };

    let first = Session::start(session_config());
    wait_until("connected", 10_000.0, || {
        first.state().status == ConnectionStatus::Connected
    })
    .await;
    wait_until("persisted", 5_000.0, || {
        first.persisted_rev() >= first.state().last_seen_rev
    })
    .await;
    drop(first);
    TimeoutFuture::new(200).await;

    let target = kit_events(ENTRIES, "replay").await;

    let t0 = now();
    let again = Session::start(session_config());
    wait_until("hydrated", 5_000.0, || again.hydrated()).await;
    let hydrated_at = now();
    let publications_at_hydration = again.publications();
    let transactions_at_hydration = again.cache_transactions();
    let synced_at = Rc::new(Cell::new(0.0));
    {
        let synced_at = Rc::clone(&synced_at);
        again.subscribe(move |state| {
            if synced_at.get() == 0.0 && state.status == ConnectionStatus::Connected {
                synced_at.set(now());
            }
        });
    }
    wait_until("synced", 30_000.0, || {
        again.state().status == ConnectionStatus::Connected && again.state().last_seen_rev >= target
    })
    .await;
    wait_until("persisted", 30_000.0, || again.persisted_rev() >= target).await;
    let persisted_at = now();
    let state = again.state();
    assert_eq!(
        state.sync_mode,
        Some(room_client::protocol::SyncMode::Replay)
    );
    let renders = again.publications() - publications_at_hydration;
    let transactions = again.cache_transactions() - transactions_at_hydration;
    let ours_ms = persisted_at - hydrated_at;
    drop(again);

    // The naive baseline: every entry applied, rendered and persisted alone.
    let naive_room = format!("{room}-naive");
    let cache = IndexedDbCache::open(&naive_room, IndexedDbOptions::default())
        .await
        .unwrap();
    let mut current = (*state).clone();
    current.events.clear();
    let document = web_sys::window().unwrap().document().unwrap();
    let counter = document.create_element("p").unwrap();
    document.body().unwrap().append_child(&counter).unwrap();
    let start_rev = target;
    let t1 = now();
    for i in 1..=ENTRIES {
        let event = RuntimeEvent {
            rev: start_rev + i,
            ts: 1,
            kind: "replay".into(),
            data: json!({ "i": i }),
        };
        let next = {
            let mut next = current.clone();
            next.apply(Action::Entries(vec![LogEntry::RuntimeEvent(event)]));
            next
        };
        cache.write(diff(&current, &next)).await.unwrap();
        counter.set_text_content(Some(&next.events.len().to_string()));
        current = next;
    }
    let naive_ms = now() - t1;
    let naive_tx = cache.transactions();
    cache.close();

    let report = json!({
        "replayIngest": {
            "entries": ENTRIES,
            "hydrateMs": (hydrated_at - t0).round(),
            "reconnectToSyncedMs": (synced_at.get() - hydrated_at).round(),
            "reconnectToPersistedMs": ours_ms.round(),
            "renders": renders,
            "transactions": transactions,
            "naiveMs": naive_ms.round(),
            "naiveRenders": ENTRIES,
            "naiveTransactions": naive_tx,
            "speedup": ((naive_ms / ours_ms) * 10.0).round() / 10.0,
        }
    });
    console_log!("replay ingest: {ENTRIES} entries after a reconnect (headless Chromium, real IndexedDB, loopback hub)");
    console_log!("  ours:  {:.0} ms from reconnect to synced, {:.0} ms to persisted; {} renders, {} transactions", synced_at.get() - hydrated_at, ours_ms, renders, transactions);
    console_log!(
        "  naive: {:.0} ms; {} renders, {} transactions",
        naive_ms,
        ENTRIES,
        naive_tx
    );
    console_log!("  ours is {:.1}x faster", naive_ms / ours_ms);
    console_log!("{report}");
}
