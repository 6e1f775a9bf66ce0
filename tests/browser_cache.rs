//! The IndexedDB cache in headless Chromium, with real IndexedDB and a
//! fresh database per test.

#![cfg(target_arch = "wasm32")]

use gloo_timers::future::TimeoutFuture;
use room_client::cache::{
    diff, tree_bucket, CacheKind, CacheWrite, CachedContent, CachedDraft, IndexedDbCache,
    IndexedDbOptions, RoomCache, TreeBucket, DB_VERSION,
};
use room_client::intent::Intent;
use room_client::protocol::urls::cache_database_name;
use room_client::protocol::{LogEntry, PeerProfile, ProjectVersion, RuntimeEvent, TreeEntry};
use room_client::session::{CacheChoice, Session, SessionConfig};
use room_client::state::{Action, Draft, DraftStatus, Notice, PersonAction, RoomState};
use room_client::{CacheError, SessionOptions};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn open(room: &str) -> IndexedDbCache {
    IndexedDbCache::open(room, IndexedDbOptions::default())
        .await
        .unwrap()
}

fn event(rev: u64) -> RuntimeEvent {
    RuntimeEvent {
        rev,
        ts: 1_700_000_000_000 + rev,
        kind: "pulse".into(),
        data: json!({ "n": rev }),
    }
}

/// `state` after joining project `generation` at `rev` with a snapshot of
/// `files` (every file at that rev, every content fetched).
fn joined(state: &RoomState, generation: &str, rev: u64, files: &[(&str, &str)]) -> RoomState {
    let files: Vec<_> = files
        .iter()
        .map(|&(path, content)| (path, content, rev))
        .collect();
    with(
        state,
        testing::snapshot(
            generation,
            rev,
            &files,
            Action::TreeWelcome,
            Action::Content,
        ),
    )
}

fn with(state: &RoomState, actions: impl IntoIterator<Item = Action>) -> RoomState {
    let mut next = state.clone();
    for action in actions {
        next.apply(action);
    }
    next
}

/// A raw IndexedDB open (no versionchange handling: an old, uncooperative
/// tab). Resolves with the connection once open.
async fn raw_open(name: &str, version: u32) -> web_sys::IdbDatabase {
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let request = factory.open_with_u32(name, version).unwrap();
    let (tx, rx) = futures_channel::oneshot::channel();
    let tx = std::cell::RefCell::new(Some(tx));
    let req = request.clone();
    let on_success = Closure::<dyn FnMut()>::new(move || {
        if let Some(tx) = tx.borrow_mut().take() {
            let _ = tx.send(
                req.result()
                    .unwrap()
                    .unchecked_into::<web_sys::IdbDatabase>(),
            );
        }
    });
    request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
    let db = rx.await.unwrap();
    drop(on_success);
    db
}

/// Writes events with these revs in one batch.
async fn write_events(cache: &IndexedDbCache, revs: &[u64]) -> Result<(), CacheError> {
    cache
        .write(CacheWrite {
            events_put: revs.iter().copied().map(event).collect(),
            ..CacheWrite::default()
        })
        .await
}

/// A session whose hub is unreachable: only its cache matters.
fn offline_session(room: &str, options: IndexedDbOptions, token: bool) -> Session {
    Session::start(SessionConfig {
        url: "ws://127.0.0.1:9/rooms/x/ws".into(),
        token: token.then(|| room_client::protocol::Token::new("t".repeat(32))),
        options: SessionOptions::default(),
        cache: CacheChoice::IndexedDb {
            room_id: room.to_owned(),
            options,
        },
    })
}

#[wasm_bindgen_test]
async fn every_store_round_trips() {
    let room = fresh_room("roundtrip");
    let cache = open(&room).await;
    let draft = Draft {
        content: "unsaved".into(),
        base_rev: 3,
        base_project: None,
        base: Some("the text at rev 3\r\n".into()),
        status: DraftStatus::Conflict {
            theirs: room_client::protocol::FileVersion {
                rev: 4,
                content: "theirs".into(),
            },
        },
    };
    let batch = CacheWrite {
        meta: Some(room_client::cache::CacheMeta {
            project: ProjectVersion {
                id: "g1".into(),
                rev: 4,
            },
            last_seen_rev: 9,
            last_event_ts: Some(1234),
        }),
        tree_put: ["a.txt", "dir/b.txt", "dir/c \"quoted\" ü.txt"]
            .iter()
            .enumerate()
            .map(|(i, path)| TreeBucket {
                index: tree_bucket(path),
                files: vec![TreeEntry {
                    path: (*path).into(),
                    rev: i as u64,
                    size: 10 + i as u64,
                }],
            })
            .collect(),
        contents_put: vec![
            CachedContent {
                path: "a.txt".into(),
                rev: 0,
                content: "alpha ünïcödé".into(),
            },
            CachedContent {
                path: "dir/b.txt".into(),
                rev: 1,
                content: "beta".into(),
            },
        ],
        events_put: (1..=9).map(event).collect(),
        drafts_put: vec![CachedDraft {
            path: "a.txt".into(),
            draft: draft.clone(),
        }],
        profile: Some(PeerProfile {
            name: "Ada".into(),
            color: "#112233".into(),
        }),
        ..CacheWrite::default()
    };
    cache.write(batch.clone()).await.unwrap();
    cache.close();
    drop(cache);

    let reopened = open(&room).await;
    let room_data = reopened.load().await.unwrap();
    assert_eq!(room_data.meta, batch.meta);
    let mut tree = room_data.tree.clone();
    tree.sort_by(|a, b| a.path.cmp(&b.path));
    let written: Vec<TreeEntry> = batch
        .tree_put
        .iter()
        .flat_map(|b| b.files.clone())
        .collect();
    assert_eq!(tree, written);
    let mut contents = reopened.load_contents().await.unwrap();
    contents.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(contents, batch.contents_put);
    assert_eq!(room_data.events, batch.events_put);
    assert_eq!(room_data.drafts, batch.drafts_put);
    assert_eq!(room_data.profile, batch.profile);
    assert_eq!(reopened.kind(), CacheKind::IndexedDb);
    reopened.close();
    delete_database(&room).await;
}

/// `count` runtime events, each followed by a change of `a.txt`: events
/// and file changes share the rev sequence, as in a busy room.
fn events_between_file_changes(count: u64) -> Action {
    Action::Entries(
        (1..=count)
            .flat_map(|n| {
                [
                    LogEntry::RuntimeEvent(event(2 * n - 1)),
                    LogEntry::FileChanged(room_client::protocol::FileChanged {
                        rev: 2 * n,
                        path: "a.txt".into(),
                        content: format!("v{n}"),
                        by: None,
                        edit_id: None,
                        deleted: false,
                    }),
                ]
            })
            .collect(),
    )
}

/// Persists `states` one after the other, as the session's persister does.
async fn persist_all(cache: &IndexedDbCache, states: &[RoomState]) {
    for pair in states.windows(2) {
        cache.write(diff(&pair[0], &pair[1])).await.unwrap();
    }
}

#[wasm_bindgen_test]
async fn events_between_file_changes_leave_the_newest_thousand_events_after_a_reload() {
    let room = fresh_room("trim");
    let cache = open(&room).await;
    // 1500 events and 1500 file changes, arriving in three batches.
    let mut states = vec![RoomState::default()];
    states.push(with(&joined(&states[0], "g", 0, &[("a.txt", "v0")]), []));
    for count in [700, 1200, 1500] {
        let next = with(states.last().unwrap(), [events_between_file_changes(count)]);
        states.push(next);
    }
    persist_all(&cache, &states).await;
    cache.close();
    drop(cache);

    let reopened = open(&room).await;
    let loaded = reopened.load().await.unwrap();
    let revs: Vec<u64> = loaded.events.iter().map(|e| e.rev).collect();
    // Events 501..=1500 sit at the odd revs 1001..=2999: all 1000 of them,
    // where a window of revs would have kept about 500.
    assert_eq!(revs, (501..=1500).map(|n| 2 * n - 1).collect::<Vec<_>>());
    let mut restored = RoomState::from_cache(loaded, None);
    restored.hold_cached_contents(reopened.load_contents().await.unwrap());
    assert_eq!(restored.events, states.last().unwrap().events);
    assert_eq!(restored.files["a.txt"].content.as_deref(), Some("v1500"));
    reopened.close();
    delete_database(&room).await;
}

#[wasm_bindgen_test]
async fn consecutive_events_leave_exactly_the_newest_thousand() {
    let room = fresh_room("trim-plain");
    let cache = open(&room).await;
    let mut states = vec![with(&joined(&RoomState::default(), "g", 0, &[]), [])];
    for chunk in [(1..=700), (701..=1200), (1201..=1500)] {
        let entries = chunk.map(|r| LogEntry::RuntimeEvent(event(r))).collect();
        let next = with(states.last().unwrap(), [Action::Entries(entries)]);
        states.push(next);
    }
    cache
        .write(diff(&RoomState::default(), &states[0]))
        .await
        .unwrap();
    persist_all(&cache, &states).await;
    let loaded = cache.load().await.unwrap();
    let revs: Vec<u64> = loaded.events.iter().map(|e| e.rev).collect();
    assert_eq!(revs, (501..=1500).collect::<Vec<_>>());
    cache.close();
    delete_database(&room).await;
}

#[wasm_bindgen_test]
async fn two_rooms_caches_stay_apart() {
    let (one, two) = (fresh_room("apart-one"), fresh_room("apart-two"));
    let (first, second) = (open(&one).await, open(&two).await);
    for (cache, name) in [(&first, "one"), (&second, "two")] {
        let state = with(
            &joined(
                &RoomState::default(),
                name,
                1,
                &[(&format!("{name}.txt"), name)],
            ),
            [
                Action::Entries(vec![LogEntry::RuntimeEvent(event(2))]),
                Action::Person(PersonAction::Type {
                    path: format!("{name}.txt"),
                    content: format!("draft in room {name}"),
                }),
            ],
        );
        cache
            .write(diff(&RoomState::default(), &state))
            .await
            .unwrap();
    }
    for (cache, name) in [(&first, "one"), (&second, "two")] {
        let loaded = cache.load().await.unwrap();
        assert_eq!(loaded.meta.unwrap().project.id, name);
        let paths: Vec<&str> = loaded.tree.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, [format!("{name}.txt")]);
        assert_eq!(loaded.drafts.len(), 1);
        assert_eq!(
            loaded.drafts[0].draft.content,
            format!("draft in room {name}")
        );
        assert_eq!(loaded.events.len(), 1);
    }
    first.close();
    second.close();
    delete_database(&one).await;
    delete_database(&two).await;
}

#[wasm_bindgen_test]
async fn a_new_project_rev_or_id_evicts_files_and_events_and_keeps_profile_and_drafts() {
    for (generation, rev) in [("g1", 5), ("g2", 0)] {
        let room = fresh_room("evict");
        let cache = open(&room).await;
        let empty = RoomState::default();
        let old = with(
            &joined(&empty, "g1", 0, &[("old.txt", "old")]),
            [
                Action::Entries((1..=5).map(|r| LogEntry::RuntimeEvent(event(r))).collect()),
                Action::Person(PersonAction::SetProfile(PeerProfile {
                    name: "Ada".into(),
                    color: "#112233".into(),
                })),
                Action::Person(PersonAction::Type {
                    path: "old.txt".into(),
                    content: "my draft".into(),
                }),
            ],
        );
        cache.write(diff(&empty, &old)).await.unwrap();
        let new = with(&joined(&old, generation, rev, &[("new.txt", "new")]), []);
        cache.write(diff(&old, &new)).await.unwrap();
        let loaded = cache.load().await.unwrap();
        assert_eq!(
            loaded
                .tree
                .iter()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>(),
            ["new.txt"],
            "{generation}"
        );
        assert_eq!(
            cache
                .load_contents()
                .await
                .unwrap()
                .iter()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>(),
            ["new.txt"],
            "{generation}"
        );
        assert!(loaded.events.is_empty(), "{generation}");
        assert_eq!(
            loaded.meta.unwrap().project,
            ProjectVersion {
                id: generation.into(),
                rev
            }
        );
        assert_eq!(loaded.profile.unwrap().name, "Ada");
        assert_eq!(loaded.drafts.len(), 1);
        assert_eq!(loaded.drafts[0].draft.content, "my draft");
        cache.close();
        delete_database(&room).await;
    }
}

#[wasm_bindgen_test]
async fn drafts_survive_a_simulated_reload() {
    let room = fresh_room("reload");
    let first = offline_session(&room, IndexedDbOptions::default(), true);
    wait_until("hydrated", 5000.0, || first.hydrated()).await;
    first.apply(Intent::Type {
        path: "notes.md".into(),
        content: "typed before the tab closed".into(),
    });
    first.apply(Intent::Save {
        path: "todo.txt".into(),
        content: "saved while offline".into(),
    });
    wait_until("persisted", 5000.0, || first.cache_transactions() >= 2).await;
    drop(first);
    TimeoutFuture::new(100).await;

    let second = offline_session(&room, IndexedDbOptions::default(), true);
    wait_until("hydrated again", 5000.0, || second.hydrated()).await;
    let state = second.state();
    assert_eq!(
        state.drafts["notes.md"].content,
        "typed before the tab closed"
    );
    assert_eq!(state.drafts["notes.md"].status, DraftStatus::Editing);
    assert_eq!(state.drafts["todo.txt"].content, "saved while offline");
    assert_eq!(
        state.drafts["todo.txt"].status,
        DraftStatus::Queued,
        "still to be sent"
    );
    assert_eq!(second.cache_kind(), Some(CacheKind::IndexedDb));
    drop(second);
    TimeoutFuture::new(100).await;
    delete_database(&room).await;
}

#[wasm_bindgen_test]
async fn an_old_connection_held_open_does_not_hang_a_newer_open() {
    let room = fresh_room("blocked");
    let name = cache_database_name(&room);
    // An old tab holds version DB_VERSION open and ignores versionchange.
    let old_tab = raw_open(&name, DB_VERSION).await;
    let started = now();
    let newer = IndexedDbCache::open(
        &room,
        IndexedDbOptions {
            schema_version: DB_VERSION + 1,
            ..IndexedDbOptions::default()
        },
    )
    .await;
    let took = now() - started;
    assert!(matches!(newer, Err(CacheError::Blocked)), "{newer:?}");
    assert!(took < 1000.0, "took {took} ms");

    // A session facing the same situation carries on in memory and says so.
    let session = offline_session(
        &room,
        IndexedDbOptions {
            schema_version: DB_VERSION + 1,
            ..IndexedDbOptions::default()
        },
        false,
    );
    let started = now();
    wait_until("hydrated despite the block", 5000.0, || session.hydrated()).await;
    assert!(now() - started < 1000.0);
    assert_eq!(session.cache_kind(), Some(CacheKind::Memory));
    assert!(session
        .state()
        .notices
        .iter()
        .any(|n| matches!(n, Notice::StorageFallback { .. })));
    old_tab.close();
    drop(session);
    delete_database(&name).await;
}

#[wasm_bindgen_test]
async fn another_tab_upgrading_closes_this_connection_instead_of_blocking_it() {
    let room = fresh_room("upgrade");
    let this_tab = open(&room).await;
    write_events(&this_tab, &[1]).await.unwrap();
    // A newer build of the page opens in another tab: it must not be blocked
    // by us, because our connection closes itself on versionchange.
    let started = now();
    let newer_tab = IndexedDbCache::open(
        &room,
        IndexedDbOptions {
            schema_version: DB_VERSION + 1,
            ..IndexedDbOptions::default()
        },
    )
    .await
    .expect("the newer tab proceeds");
    assert!(now() - started < 1000.0);
    assert_eq!(
        newer_tab.load().await.unwrap().events.len(),
        1,
        "upgraded in place, data kept"
    );
    // Our next write cannot reopen an older schema: a clear error, not a hang.
    let result = write_events(&this_tab, &[2]).await;
    assert_eq!(
        result,
        Err(CacheError::Unavailable(
            "a newer version of this page has upgraded it".into()
        ))
    );
    newer_tab.close();
    delete_database(&room).await;
}

#[wasm_bindgen_test]
async fn a_connection_closed_by_another_tab_is_reopened_lazily() {
    let room = fresh_room("reopen");
    let cache = open(&room).await;
    write_events(&cache, &[1]).await.unwrap();
    // Another tab deletes the database (e.g. "clear site data" in a tab):
    // versionchange closes our connection, the delete goes through.
    delete_database(&room).await;
    write_events(&cache, &[2]).await.expect("reopened");
    let loaded = cache.load().await.unwrap();
    assert_eq!(loaded.events.iter().map(|e| e.rev).collect::<Vec<_>>(), [2]);
    cache.close();
    delete_database(&room).await;
}

/// Runs a snippet of JavaScript in the test page.
fn run_js(source: &str) {
    js_sys::Function::new_no_args(source)
        .call0(&JsValue::NULL)
        .expect("the snippet runs");
}

/// From now on, every IndexedDB connection that starts a transaction is
/// kept in `window.__roomConnections`, so the test can close the page's
/// own connection from outside, as the browser does when it drops it.
fn keep_connections() {
    run_js(
        "if (!window.__roomConnections) {
           window.__roomConnections = new Set();
           const original = IDBDatabase.prototype.transaction;
           IDBDatabase.prototype.transaction = function (...args) {
             window.__roomConnections.add(this);
             return original.apply(this, args);
           };
         }",
    );
}

/// Closes every kept connection to `name`, behind the back of whoever
/// holds it.
fn close_connections_underneath(name: &str) {
    run_js(&format!(
        "for (const db of window.__roomConnections) if (db.name === {name:?}) db.close();"
    ));
}

#[wasm_bindgen_test]
async fn a_connection_the_browser_drops_is_reopened_by_the_next_write_and_nothing_goes_to_memory() {
    keep_connections();
    let room = fresh_room("dropped");
    let name = cache_database_name(&room);
    let session = offline_session(&room, IndexedDbOptions::default(), true);
    wait_until("hydrated", 5000.0, || session.hydrated()).await;
    session.apply(Intent::Type {
        path: "a.txt".into(),
        content: "before the drop".into(),
    });
    let cache = IndexedDbCache::open(&room, IndexedDbOptions::default())
        .await
        .unwrap();
    let drafts = async || {
        let loaded = cache.load().await.unwrap();
        loaded
            .drafts
            .into_iter()
            .map(|d| (d.path, d.draft.content))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    for _ in 0..100 {
        if drafts().await.contains_key("a.txt") {
            break;
        }
        TimeoutFuture::new(20).await;
    }
    assert_eq!(drafts().await["a.txt"], "before the drop");
    // The browser drops the page's connection (Safari does so for pages in
    // the background): closed under the session, which is not told.
    close_connections_underneath(&name);
    session.apply(Intent::Type {
        path: "b.txt".into(),
        content: "after the drop".into(),
    });
    let mut landed = false;
    for _ in 0..100 {
        if drafts().await.get("b.txt").map(String::as_str) == Some("after the drop") {
            landed = true;
            break;
        }
        TimeoutFuture::new(20).await;
    }
    assert!(landed, "the next write landed in IndexedDB");
    assert_eq!(session.cache_kind(), Some(CacheKind::IndexedDb));
    assert!(
        !session
            .state()
            .notices
            .iter()
            .any(|n| matches!(n, Notice::StorageFallback { .. })),
        "no fallback to memory"
    );
    drop(session);
    cache.close();
    delete_database(&room).await;
}

#[wasm_bindgen_test]
async fn a_request_failing_with_safaris_lost_connection_error_is_run_again_on_a_new_connection() {
    let room = fresh_room("lost");
    let cache = open(&room).await;
    write_events(&cache, &[1]).await.unwrap();
    // The next put fails as Safari's do once it has dropped the
    // connection.
    run_js(
        "const original = IDBObjectStore.prototype.put;
         IDBObjectStore.prototype.put = function () {
           IDBObjectStore.prototype.put = original;
           throw new DOMException(
             'Connection to Indexed Database server lost. Refresh the page to try again',
             'UnknownError');
         };",
    );
    write_events(&cache, &[2, 3])
        .await
        .expect("written after a reopen");
    let loaded = cache.load().await.unwrap();
    assert_eq!(
        loaded.events.iter().map(|e| e.rev).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // A second failure in a row is an error: nothing loops.
    run_js(
        "const original = IDBObjectStore.prototype.put;
         let left = 2;
         IDBObjectStore.prototype.put = function (...args) {
           if (--left === 0) IDBObjectStore.prototype.put = original;
           throw new DOMException('lost', 'UnknownError');
         };",
    );
    assert_eq!(write_events(&cache, &[4]).await, Err(CacheError::Closed));
    cache.close();
    delete_database(&room).await;
}

#[wasm_bindgen_test]
async fn when_indexeddb_cannot_be_opened_the_session_falls_back_to_memory_and_says_so() {
    let room = fresh_room("unavailable");
    let name = cache_database_name(&room);
    // A database from a far newer build: ours cannot open it (VersionError).
    raw_open(&name, DB_VERSION + 5).await.close();
    let direct = IndexedDbCache::open(&room, IndexedDbOptions::default()).await;
    // Typed from the DOM exception's name (VersionError), not rexie's bare
    // "idb error".
    assert_eq!(
        direct.err(),
        Some(CacheError::Unavailable(
            "a newer version of this page has upgraded it".into()
        ))
    );

    let session = offline_session(&room, IndexedDbOptions::default(), false);
    wait_until("hydrated", 5000.0, || session.hydrated()).await;
    assert_eq!(session.cache_kind(), Some(CacheKind::Memory));
    let state = session.state();
    assert!(state
        .notices
        .iter()
        .any(|n| matches!(n, Notice::StorageFallback { .. })));
    // The room still works in memory.
    session.apply(Intent::Type {
        path: "a.txt".into(),
        content: "still editable".into(),
    });
    wait_until("the draft", 5000.0, || {
        session.state().drafts.contains_key("a.txt")
    })
    .await;
    drop(session);
    delete_database(&name).await;
}

#[wasm_bindgen_test]
async fn a_write_failure_falls_back_to_memory_and_the_session_keeps_working() {
    let room = fresh_room("writefail");
    let session = offline_session(&room, IndexedDbOptions::default(), true);
    wait_until("hydrated", 5000.0, || session.hydrated()).await;
    assert_eq!(session.cache_kind(), Some(CacheKind::IndexedDb));
    // A newer build of the page upgrades the database in another tab: our
    // connection closes itself and cannot reopen the older schema.
    let newer = IndexedDbCache::open(
        &room,
        IndexedDbOptions {
            schema_version: DB_VERSION + 1,
            ..IndexedDbOptions::default()
        },
    )
    .await
    .unwrap();
    session.apply(Intent::Type {
        path: "a.txt".into(),
        content: "typed after the upgrade".into(),
    });
    wait_until("the storage notice", 5000.0, || {
        session
            .state()
            .notices
            .iter()
            .any(|n| matches!(n, Notice::StorageFallback { .. }))
    })
    .await;
    assert_eq!(session.cache_kind(), Some(CacheKind::Memory));
    // The session still works (a regression: once the persister stopped,
    // the shell polled its closed channel in a loop and froze the page).
    session.apply(Intent::Type {
        path: "b.txt".into(),
        content: "still editable".into(),
    });
    wait_until("the next draft", 5000.0, || {
        session.state().drafts.contains_key("b.txt")
    })
    .await;
    assert_eq!(
        session.state().drafts["a.txt"].content,
        "typed after the upgrade"
    );
    drop(session);
    newer.close();
    delete_database(&room).await;
}

#[wasm_bindgen_test]
async fn records_written_by_an_earlier_build_load_and_damaged_ones_are_skipped() {
    let room = fresh_room("compat");
    open(&room).await.close();
    // What an earlier build stored (plain objects from its own
    // serializer), beside records no build can read.
    let db = raw_open(&cache_database_name(&room), DB_VERSION).await;
    let stores = js_sys::Array::of3(&"events".into(), &"tree".into(), &"contents".into());
    let tx = db
        .transaction_with_str_sequence_and_mode(&stores, web_sys::IdbTransactionMode::Readwrite)
        .unwrap();
    let events = tx.object_store("events").unwrap();
    for record in [
        r#"{"rev":7,"ts":1700000000007,"kind":"pulse","data":{"n":7}}"#,
        r#"{"rev":8,"kind":"no ts"}"#,
        r#"{"rev":9,"ts":"not a number","kind":"pulse","data":null}"#,
    ] {
        events.put(&js_sys::JSON::parse(record).unwrap()).unwrap();
    }
    let tree = tx.object_store("tree").unwrap();
    for (bucket, record) in [
        (3.0, JsValue::from_str(r#"{"files":[["x.txt",1,2]]}"#)),
        (4.0, JsValue::from_str("not json")),
        (5.0, js_sys::JSON::parse(r#"{"files":[]}"#).unwrap()),
    ] {
        tree.put_with_key(&record, &bucket.into()).unwrap();
    }
    let contents = tx.object_store("contents").unwrap();
    for record in [
        r#"{"path":"x.txt","rev":1,"content":"ok"}"#,
        r#"{"path":"y.txt","rev":1}"#,
        r#"{"path":"z.txt","rev":-1,"content":"?"}"#,
    ] {
        contents.put(&js_sys::JSON::parse(record).unwrap()).unwrap();
    }
    TimeoutFuture::new(50).await;
    db.close();

    let cache = open(&room).await;
    let loaded = cache.load().await.unwrap();
    assert_eq!(loaded.events, vec![event(7)]);
    assert_eq!(
        loaded.tree,
        [TreeEntry {
            path: "x.txt".into(),
            rev: 1,
            size: 2
        }]
    );
    assert_eq!(
        cache.load_contents().await.unwrap(),
        [CachedContent {
            path: "x.txt".into(),
            rev: 1,
            content: "ok".into()
        }]
    );
    cache.close();
    delete_database(&room).await;
}

/// Creates `name` at version 1 exactly as the build before rexie did (its
/// `upgradeneeded` step, in raw IndexedDB), and fills every store with
/// records in the shapes it wrote.
async fn create_as_version_1(name: &str) {
    let factory = web_sys::window().unwrap().indexed_db().unwrap().unwrap();
    let request = factory.open_with_u32(name, 1).unwrap();
    let req = request.clone();
    let on_upgrade = Closure::<dyn FnMut()>::new(move || {
        let db: web_sys::IdbDatabase = req.result().unwrap().unchecked_into();
        for (store, key_path) in [
            ("files", Some("path")),
            ("events", Some("rev")),
            ("drafts", Some("path")),
            ("meta", None),
            ("profile", None),
        ] {
            let parameters = web_sys::IdbObjectStoreParameters::new();
            if let Some(key_path) = key_path {
                parameters.set_key_path(&JsValue::from_str(key_path));
            }
            db.create_object_store_with_optional_parameters(store, &parameters)
                .unwrap();
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let db = settled(&request)
        .await
        .unchecked_into::<web_sys::IdbDatabase>();
    drop(on_upgrade);
    let stores = js_sys::Array::of5(
        &"files".into(),
        &"events".into(),
        &"drafts".into(),
        &"meta".into(),
        &"profile".into(),
    );
    let tx = db
        .transaction_with_str_sequence_and_mode(&stores, web_sys::IdbTransactionMode::Readwrite)
        .unwrap();
    let put = |store: &str, json: &str, key: Option<&str>| {
        let store = tx.object_store(store).unwrap();
        let value = js_sys::JSON::parse(json).unwrap();
        match key {
            Some(key) => store.put_with_key(&value, &JsValue::from_str(key)),
            None => store.put(&value),
        }
        .unwrap();
    };
    put(
        "files",
        r#"{"path":"a.txt","content":"alpha","rev":4}"#,
        None,
    );
    put(
        "events",
        r#"{"rev":3,"ts":1700000000003,"kind":"pulse","data":{"n":3}}"#,
        None,
    );
    put(
        "drafts",
        r#"{"path":"a.txt","draft":{"content":"unsaved","baseRev":4,"status":{"state":"queued"}}}"#,
        None,
    );
    put(
        "meta",
        r#"{"project":{"id":"g1","rev":4},"lastSeenRev":4,"lastEventTs":1700000000003}"#,
        Some("meta"),
    );
    put(
        "profile",
        r##"{"name":"Ada","color":"#112233"}"##,
        Some("profile"),
    );
    let (done_tx, done_rx) = futures_channel::oneshot::channel::<()>();
    let done_tx = std::cell::RefCell::new(Some(done_tx));
    let on_complete = Closure::<dyn FnMut()>::new(move || {
        if let Some(done) = done_tx.borrow_mut().take() {
            let _ = done.send(());
        }
    });
    tx.set_oncomplete(Some(on_complete.as_ref().unchecked_ref()));
    done_rx.await.unwrap();
    db.close();
}

/// The result of a raw request, once it succeeds.
async fn settled(request: &web_sys::IdbRequest) -> JsValue {
    let (tx, rx) = futures_channel::oneshot::channel();
    let tx = std::cell::RefCell::new(Some(tx));
    let req = request.clone();
    let on_success = Closure::<dyn FnMut()>::new(move || {
        if let Some(tx) = tx.borrow_mut().take() {
            let _ = tx.send(req.result().unwrap());
        }
    });
    request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
    rx.await.unwrap()
}

#[wasm_bindgen_test]
async fn a_database_of_version_1_opens_keeps_drafts_and_profile_and_joins_afresh() {
    let room = fresh_room("previous-build");
    create_as_version_1(&cache_database_name(&room)).await;
    let cache = open(&room).await;
    let loaded = cache.load().await.unwrap();
    // Version 1's files (content in every record) and its position are
    // gone with their stores: the page holds no tree and joins afresh.
    assert_eq!(loaded.meta, None);
    assert!(loaded.tree.is_empty());
    assert!(cache.load_contents().await.unwrap().is_empty());
    let state = RoomState::from_cache(loaded.clone(), None);
    assert!(state.project.is_none());
    assert!(state.files.is_empty());
    assert!(state.events.is_empty());
    assert_eq!(state.drafts["a.txt"].content, "unsaved");
    assert_eq!(loaded.drafts.len(), 1);
    assert_eq!(loaded.drafts[0].draft.content, "unsaved");
    assert_eq!(loaded.drafts[0].draft.base_rev, 4);
    assert_eq!(loaded.drafts[0].draft.status, DraftStatus::Queued);
    assert_eq!(loaded.profile.unwrap().name, "Ada");
    // The join's snapshot resets the rest (version 1's events included),
    // and the draft stays.
    let synced = with(&joined(&state, "g1", 5, &[("a.txt", "alpha")]), []);
    cache.write(diff(&state, &synced)).await.unwrap();
    let loaded = cache.load().await.unwrap();
    assert!(loaded.events.is_empty());
    assert_eq!(loaded.tree.len(), 1);
    assert_eq!(cache.load_contents().await.unwrap()[0].content, "alpha");
    assert_eq!(loaded.drafts[0].draft.content, "unsaved");
    cache.close();
    delete_database(&room).await;
}
