//! The cache's pure parts: diffing states into batches, applying batches,
//! and starting a page from what was cached.

use crate::state::PersonAction;
use std::cell::Cell;

use futures_util::FutureExt;
use room_protocol::LogEntry;
use serde_json::json;

use super::*;
use crate::state::{Action, DraftStatus};
use crate::testing;

/// `state` after joining project `generation` at rev 0 with a snapshot of
/// `files` (path, content), every content fetched.
fn joined(state: &RoomState, generation: &str, files: &[(&str, &str)]) -> RoomState {
    let files: Vec<_> = files
        .iter()
        .map(|&(path, content)| (path, content, 0))
        .collect();
    with(
        state,
        testing::snapshot(generation, 0, &files, Action::TreeWelcome, Action::Content),
    )
}

fn events(revs: std::ops::RangeInclusive<u64>) -> Action {
    Action::Entries(
        revs.map(|rev| {
            LogEntry::RuntimeEvent(RuntimeEvent {
                rev,
                ts: rev * 10,
                kind: "k".into(),
                data: json!(rev),
            })
        })
        .collect(),
    )
}

fn with(state: &RoomState, actions: impl IntoIterator<Item = Action>) -> RoomState {
    let mut next = state.clone();
    for action in actions {
        next.apply(action);
    }
    next
}

fn persist(cache: &MemoryCache, prev: &RoomState, next: &RoomState) {
    cache
        .write(diff(prev, next))
        .now_or_never()
        .unwrap()
        .unwrap();
}

fn load(cache: &MemoryCache) -> CachedRoom {
    cache.load().now_or_never().unwrap().unwrap()
}

fn load_contents(cache: &MemoryCache) -> Vec<CachedContent> {
    cache.load_contents().now_or_never().unwrap().unwrap()
}

/// The state a page starts from with what `cache` holds: painted from the
/// tree, then with the contents.
fn restore(cache: &MemoryCache) -> RoomState {
    let mut state = RoomState::from_cache(load(cache), None);
    state.hold_cached_contents(load_contents(cache));
    state
}

#[test]
fn nothing_changed_means_nothing_to_write() {
    let s = with(
        &joined(&RoomState::default(), "g", &[("a", "1")]),
        [events(1..=3)],
    );
    assert!(diff(&s, &s.clone()).is_empty());
}

#[test]
fn appended_events_and_changed_files_are_the_only_writes() {
    let a = with(
        &joined(&RoomState::default(), "g", &[("a", "1"), ("b", "2")]),
        [events(1..=3)],
    );
    let b = with(
        &a,
        [
            events(4..=5),
            Action::Entries(vec![LogEntry::FileChanged(room_protocol::FileChanged {
                rev: 6,
                path: "b".into(),
                content: "two".into(),
                by: None,
                edit_id: None,
                deleted: false,
            })]),
        ],
    );
    let batch = diff(&a, &b);
    assert!(!batch.reset);
    assert_eq!(
        batch.events_put.iter().map(|e| e.rev).collect::<Vec<_>>(),
        [4, 5]
    );
    assert_eq!(
        batch
            .contents_put
            .iter()
            .map(|f| (f.path.as_str(), f.rev, f.content.as_str()))
            .collect::<Vec<_>>(),
        [("b", 6, "two")]
    );
    // Only b's tree record is rewritten, with every file it holds.
    assert_eq!(batch.tree_put.len(), 1);
    assert_eq!(batch.tree_put[0].index, tree_bucket("b"));
    assert!(batch.tree_put[0]
        .files
        .iter()
        .any(|f| f.path == "b" && f.rev == 6 && f.size == 3));
    assert_eq!(batch.meta.as_ref().unwrap().last_seen_rev, 6);
    assert_eq!(batch.meta.as_ref().unwrap().project.rev, 6);
}

#[test]
fn round_trip_through_the_memory_cache() {
    let cache = MemoryCache::new();
    let empty = RoomState::default();
    let s = with(
        &joined(&empty, "g", &[("a.txt", "alpha"), ("dir/b.txt", "beta")]),
        [
            events(1..=3),
            Action::Synced { head: 3 },
            Action::Person(PersonAction::SetProfile(PeerProfile {
                name: "Ada".into(),
                color: "#112233".into(),
            })),
            Action::Person(PersonAction::Type {
                path: "a.txt".into(),
                content: "draft".into(),
            }),
        ],
    );
    persist(&cache, &empty, &s);
    let restored = restore(&cache);
    assert_eq!(restored.files, s.files);
    assert_eq!(restored.events, s.events);
    assert_eq!(restored.project, s.project);
    assert_eq!(restored.last_seen_rev, 3);
    assert_eq!(restored.last_event_ts, Some(30));
    assert_eq!(restored.profile.name, "Ada");
    assert_eq!(restored.drafts, s.drafts);
    assert_eq!(restored.status, ConnectionStatus::Connecting);
}

/// `count` runtime events, each followed by a change of file `a`: events
/// and file changes share the rev sequence, as in a busy room.
fn events_between_file_changes(count: u64) -> Action {
    Action::Entries(
        (1..=count)
            .flat_map(|n| {
                [
                    LogEntry::RuntimeEvent(RuntimeEvent {
                        rev: 2 * n - 1,
                        ts: n,
                        kind: "k".into(),
                        data: json!(n),
                    }),
                    LogEntry::FileChanged(room_protocol::FileChanged {
                        rev: 2 * n,
                        path: "a".into(),
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

#[test]
fn the_cache_keeps_the_newest_thousand_events_by_count_not_by_rev() {
    let cache = MemoryCache::new();
    let empty = RoomState::default();
    let start = with(&joined(&empty, "g", &[("a", "v0")]), []);
    persist(&cache, &empty, &start);
    // In three batches, as a live stream arrives: 1500 events in all.
    let mut persisted = start;
    for count in [700, 1200, 1500] {
        let mut next = with(&persisted, []);
        next.apply(events_between_file_changes(count));
        persist(&cache, &persisted, &next);
        persisted = next;
    }
    let cached = load(&cache);
    let revs: Vec<u64> = cached.events.iter().map(|e| e.rev).collect();
    // Events 501..=1500 sit at the odd revs 1001..=2999.
    assert_eq!(revs, (501..=1500).map(|n| 2 * n - 1).collect::<Vec<_>>());
    let mut restored = RoomState::from_cache(cached, None);
    restored.hold_cached_contents(load_contents(&cache));
    assert_eq!(restored.events, persisted.events);
    assert_eq!(restored.files["a"].content.as_deref().unwrap(), "v1500");
}

#[test]
fn the_batch_drops_what_left_the_states_window_and_nothing_else() {
    let empty = RoomState::default();
    let a = with(&joined(&empty, "g", &[]), [events(1..=1000)]);
    let batch = diff(&empty, &a);
    assert_eq!(batch.events_drop_below, Some(1));
    let b = with(&a, [events(1001..=1003)]);
    assert_eq!(diff(&a, &b).events_drop_below, Some(4));
    // No new events: nothing to drop, whatever else changed.
    let c = with(
        &b,
        [Action::Person(PersonAction::Type {
            path: "x".into(),
            content: "y".into(),
        })],
    );
    assert_eq!(diff(&b, &c).events_drop_below, None);
}

#[test]
fn eviction_clears_files_and_events_but_keeps_profile_and_drafts() {
    let cache = MemoryCache::new();
    let empty = RoomState::default();
    let old = with(
        &joined(&empty, "g1", &[("old.txt", "old")]),
        [
            events(1..=5),
            Action::Person(PersonAction::SetProfile(PeerProfile {
                name: "Ada".into(),
                color: "#112233".into(),
            })),
            Action::Person(PersonAction::Save {
                path: "old.txt".into(),
                content: "mine".into(),
            }),
        ],
    );
    persist(&cache, &empty, &old);
    let new = with(&joined(&old, "g2", &[("new.txt", "new")]), [events(1..=2)]);
    let batch = diff(&old, &new);
    assert!(batch.reset);
    persist(&cache, &old, &new);
    let room = load(&cache);
    assert_eq!(
        room.tree
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        ["new.txt"]
    );
    assert_eq!(
        load_contents(&cache)
            .iter()
            .map(|c| c.path.as_str())
            .collect::<Vec<_>>(),
        ["new.txt"]
    );
    assert_eq!(
        room.events.iter().map(|e| e.rev).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(room.meta.unwrap().project.id, "g2");
    assert_eq!(room.profile.unwrap().name, "Ada");
    assert_eq!(room.drafts.len(), 1);
    assert_eq!(room.drafts[0].draft.status, DraftStatus::Queued);
}

#[test]
fn acknowledged_and_discarded_drafts_are_deleted() {
    let empty = RoomState::default();
    let a = with(
        &joined(&empty, "g", &[("a", "1")]),
        [
            Action::Person(PersonAction::Type {
                path: "a".into(),
                content: "x".into(),
            }),
            Action::Person(PersonAction::Type {
                path: "b".into(),
                content: "y".into(),
            }),
        ],
    );
    let b = with(
        &a,
        [Action::Person(PersonAction::Discard { path: "a".into() })],
    );
    let batch = diff(&a, &b);
    assert_eq!(batch.drafts_delete, ["a"]);
    assert!(batch.drafts_put.is_empty());
}

/// A cache whose writes wait until the test lets them through, so the
/// persister can be caught with a write in flight.
#[derive(Default)]
struct GatedCache {
    inner: MemoryCache,
    open: Cell<bool>,
    writes: Cell<u64>,
}

impl RoomCache for GatedCache {
    fn load(&self) -> LocalBoxFuture<'_, Result<CachedRoom, CacheError>> {
        self.inner.load()
    }

    fn load_contents(&self) -> LocalBoxFuture<'_, Result<Vec<CachedContent>, CacheError>> {
        self.inner.load_contents()
    }

    fn write(&self, batch: CacheWrite) -> LocalBoxFuture<'_, Result<(), CacheError>> {
        Box::pin(async move {
            futures_util::future::poll_fn(|cx| {
                if self.open.get() {
                    std::task::Poll::Ready(())
                } else {
                    cx.waker().wake_by_ref();
                    std::task::Poll::Pending
                }
            })
            .await;
            self.writes.set(self.writes.get() + 1);
            self.inner.write(batch).await
        })
    }

    fn kind(&self) -> CacheKind {
        CacheKind::Memory
    }

    #[cfg(feature = "testing")]
    fn transactions(&self) -> u64 {
        self.inner.transactions()
    }
}

#[derive(Default)]
struct Recorder {
    written: Vec<usize>,
    committed_revs: Vec<u64>,
}

impl PersistHooks for Recorder {
    fn writing(&mut self, batch: &CacheWrite) {
        self.written.push(batch.events_put.len());
    }
    fn committed(&mut self, state: &RoomState) {
        self.committed_revs.push(state.last_seen_rev);
    }
}

fn poll_once(future: &mut LocalBoxFuture<'_, Result<(), CacheError>>) -> bool {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    future.as_mut().poll(&mut cx).is_ready()
}

#[test]
fn states_that_arrive_during_a_write_are_covered_by_one_next_write() {
    let cache = GatedCache::default();
    let empty = Rc::new(RoomState::default());
    let start = Rc::new(with(&joined(&empty, "g", &[("a", "1")]), []));
    let (states, received) = futures_channel::mpsc::unbounded::<Rc<RoomState>>();
    let mut hooks = Recorder::default();
    {
        let mut run: LocalBoxFuture<'_, _> = Box::pin(persist_states(
            &cache,
            Rc::clone(&empty),
            received,
            &mut hooks,
        ));
        states.unbounded_send(Rc::clone(&start)).unwrap();
        assert!(!poll_once(&mut run), "the first write is in flight");
        // A replay of 5000 entries, published state by state meanwhile.
        let mut state = (*start).clone();
        for rev in 1..=5000 {
            state.apply(events(rev..=rev));
            states.unbounded_send(Rc::new(state.clone())).unwrap();
        }
        cache.open.set(true);
        states.close_channel();
        assert!(poll_once(&mut run), "everything written, the stream ended");
    }
    assert_eq!(
        cache.writes.get(),
        2,
        "one write in flight, one for the replay"
    );
    assert_eq!(hooks.written, [0, 1000]);
    assert_eq!(hooks.committed_revs, [0, 5000]);
    let room = load(&cache.inner);
    assert_eq!(room.events.len(), 1000);
    assert_eq!(room.events.last().unwrap().rev, 5000);
}

#[test]
fn a_failed_write_ends_the_persister_with_its_error() {
    struct Full;
    impl RoomCache for Full {
        fn load(&self) -> LocalBoxFuture<'_, Result<CachedRoom, CacheError>> {
            Box::pin(ready(Ok(CachedRoom::default())))
        }
        fn load_contents(&self) -> LocalBoxFuture<'_, Result<Vec<CachedContent>, CacheError>> {
            Box::pin(ready(Ok(Vec::new())))
        }
        fn write(&self, _: CacheWrite) -> LocalBoxFuture<'_, Result<(), CacheError>> {
            Box::pin(ready(Err(CacheError::QuotaExceeded)))
        }
        fn kind(&self) -> CacheKind {
            CacheKind::IndexedDb
        }
        #[cfg(feature = "testing")]
        fn transactions(&self) -> u64 {
            0
        }
    }
    let empty = Rc::new(RoomState::default());
    let next = Rc::new(with(&joined(&empty, "g", &[("a", "1")]), []));
    let mut hooks = Recorder::default();
    let result = persist_states(&Full, empty, futures_util::stream::iter([next]), &mut hooks)
        .now_or_never()
        .unwrap();
    assert_eq!(result, Err(CacheError::QuotaExceeded));
    assert!(hooks.committed_revs.is_empty());
}

#[test]
fn the_last_profile_used_anywhere_is_the_default_for_a_new_room() {
    let default = PeerProfile {
        name: "Bo".into(),
        color: "#445566".into(),
    };
    let fresh = RoomState::from_cache(CachedRoom::default(), Some(default.clone()));
    assert_eq!(fresh.profile, default);
    let cached = CachedRoom {
        profile: Some(PeerProfile {
            name: "Own".into(),
            color: "#000000".into(),
        }),
        ..CachedRoom::default()
    };
    assert_eq!(
        RoomState::from_cache(cached, Some(default)).profile.name,
        "Own"
    );
}

#[test]
fn a_cache_without_meta_paints_no_files_but_keeps_drafts() {
    let mut cached = CachedRoom::default();
    cached.tree.push(TreeEntry {
        path: "stray".into(),
        rev: 1,
        size: 1,
    });
    cached.drafts.push(CachedDraft {
        path: "a".into(),
        draft: Draft {
            content: "keep".into(),
            base_rev: 0,
            base_project: None,
            base: None,
            status: DraftStatus::Editing,
        },
    });
    let mut state = RoomState::from_cache(cached, None);
    state.hold_cached_contents(vec![CachedContent {
        path: "stray".into(),
        rev: 1,
        content: "?".into(),
    }]);
    assert!(
        state.files.is_empty(),
        "files without a project version cannot be trusted"
    );
    assert_eq!(state.drafts["a"].content, "keep");
}

#[test]
fn later_writes_replace_earlier_ones_and_deletes_apply() {
    let mut room = StoredRoom::default();
    let event = |rev: u64, n: u64| RuntimeEvent {
        rev,
        ts: rev,
        kind: "k".into(),
        data: json!(n),
    };
    let content = |path: &str, content: &str| CachedContent {
        path: path.into(),
        rev: 1,
        content: content.into(),
    };
    apply_write(
        &mut room,
        CacheWrite {
            events_put: vec![event(4, 1), event(5, 1)],
            contents_put: vec![content("a", "one"), content("b", "bee")],
            ..CacheWrite::default()
        },
    );
    apply_write(
        &mut room,
        CacheWrite {
            events_put: vec![event(5, 2), event(6, 2)],
            contents_put: vec![content("a", "two")],
            contents_delete: vec!["b".into()],
            ..CacheWrite::default()
        },
    );
    let events = |stored: &StoredRoom| -> Vec<(u64, serde_json::Value)> {
        stored
            .room
            .events
            .iter()
            .map(|e| (e.rev, e.data.clone()))
            .collect()
    };
    assert_eq!(events(&room), [(4, json!(1)), (5, json!(2)), (6, json!(2))]);
    assert_eq!(room.contents, [content("a", "two")]);
    // Out of order, below and between what is there, one rev twice: each
    // put lands at its rev, and the later of two puts wins.
    apply_write(
        &mut room,
        CacheWrite {
            events_put: vec![
                event(9, 3),
                event(2, 3),
                event(7, 3),
                event(2, 4),
                event(5, 3),
            ],
            ..CacheWrite::default()
        },
    );
    assert_eq!(
        events(&room),
        [
            (2, json!(4)),
            (4, json!(1)),
            (5, json!(3)),
            (6, json!(2)),
            (7, json!(3)),
            (9, json!(3))
        ]
    );
}

#[test]
fn a_page_starts_with_cached_events_in_rev_order_whatever_order_they_were_read_in() {
    let event = |rev: u64| RuntimeEvent {
        rev,
        ts: rev,
        kind: "k".into(),
        data: json!(rev),
    };
    let joined = with(&joined(&RoomState::default(), "g1", &[("a.txt", "a")]), []);
    let cached = CachedRoom {
        meta: meta_of(&joined),
        events: [5, 1, 3, 2, 4].into_iter().map(event).collect(),
        ..CachedRoom::default()
    };
    let state = RoomState::from_cache(cached, None);
    let revs: Vec<u64> = state.events.iter().map(|e| e.rev).collect();
    assert_eq!(revs, [1, 2, 3, 4, 5]);
}

#[test]
fn the_tree_is_cached_with_the_contents_the_page_holds_and_never_a_stale_one() {
    use room_protocol::FileContent;
    // Files of one byte.
    let tree_welcome = |rev, since, files: &[(&str, u64)]| {
        let files: Vec<(&str, u64, u64)> = files.iter().map(|&(p, rev)| (p, rev, 1)).collect();
        let (welcome, tree) = testing::tree_welcome("g", rev, since, &files, &[]);
        Action::TreeWelcome(welcome, tree)
    };
    let cache = MemoryCache::new();
    let first = with(
        &RoomState::default(),
        [
            tree_welcome(0, None, &[("a", 0), ("b", 0)]),
            Action::Content(FileContent {
                path: "a".into(),
                rev: 0,
                content: Some("x".into()),
            }),
        ],
    );
    persist(&cache, &RoomState::default(), &first);
    let cached = |cache: &MemoryCache| -> Vec<(String, u64, Option<String>)> {
        let contents = load_contents(cache);
        let mut files: Vec<_> = load(cache)
            .tree
            .into_iter()
            .map(|f| {
                let content = contents
                    .iter()
                    .find(|c| c.path == f.path && c.rev == f.rev)
                    .map(|c| c.content.clone());
                (f.path, f.rev, content)
            })
            .collect();
        files.sort();
        files
    };
    assert_eq!(
        cached(&cache),
        [("a".into(), 0, Some("x".into())), ("b".into(), 0, None)],
        "b is listed, its content not fetched yet"
    );
    // A delta moves a on: its old content must not come back as current.
    let next = with(&first, [tree_welcome(2, Some(0), &[("a", 2)])]);
    persist(&cache, &first, &next);
    assert_eq!(
        cached(&cache),
        [("a".into(), 2, None), ("b".into(), 0, None)]
    );
    let restored = restore(&cache);
    assert_eq!(restored.files, next.files);
}

#[test]
fn a_large_tree_takes_few_records_and_comes_back_in_path_order() {
    let paths: Vec<String> = (0..3000).map(|i| format!("d{}/f{i}.rs", i % 7)).collect();
    let files: Vec<(&str, &str)> = paths.iter().map(|p| (p.as_str(), "x")).collect();
    let cache = MemoryCache::new();
    let s = with(&joined(&RoomState::default(), "g", &files), []);
    let batch = diff(&RoomState::default(), &s);
    assert_eq!(batch.tree_put.len(), TREE_BUCKETS as usize);
    for bucket in &batch.tree_put {
        assert!(bucket
            .files
            .iter()
            .all(|f| tree_bucket(&f.path) == bucket.index));
        assert!(
            bucket.files.windows(2).all(|w| w[0].path < w[1].path),
            "a bucket is written in path order"
        );
    }
    persist(&cache, &RoomState::default(), &s);
    let restored = restore(&cache);
    assert_eq!(restored.files, s.files);
    // Buckets read in any order (another writer) still make the same table.
    let mut shuffled = load(&cache);
    shuffled.tree.reverse();
    let mut restored = RoomState::from_cache(shuffled, None);
    restored.hold_cached_contents(load_contents(&cache));
    assert_eq!(restored.files, s.files);
}

#[test]
fn a_change_or_a_deletion_rewrites_only_its_bucket_and_an_emptied_bucket_goes() {
    let cache = MemoryCache::new();
    let a = with(
        &joined(&RoomState::default(), "g", &[("a", "1"), ("b", "2")]),
        [],
    );
    persist(&cache, &RoomState::default(), &a);
    assert_ne!(tree_bucket("a"), tree_bucket("b"));
    let gone = LogEntry::FileChanged(room_protocol::FileChanged {
        rev: 1,
        path: "b".into(),
        content: String::new(),
        by: None,
        edit_id: None,
        deleted: true,
    });
    let b = with(&a, [Action::Entries(vec![gone])]);
    let batch = diff(&a, &b);
    assert_eq!(
        batch.tree_put,
        [TreeBucket {
            index: tree_bucket("b"),
            files: Vec::new()
        }]
    );
    assert_eq!(batch.contents_delete, ["b"]);
    persist(&cache, &a, &b);
    assert_eq!(load(&cache).tree.len(), 1);
    assert_eq!(load_contents(&cache).len(), 1);
    assert_eq!(restore(&cache).files, b.files);
}

#[test]
fn a_content_cached_at_another_rev_than_the_tree_is_not_used() {
    let mut cached = CachedRoom {
        meta: Some(CacheMeta {
            project: room_protocol::ProjectVersion {
                id: "g".into(),
                rev: 3,
            },
            last_seen_rev: 3,
            last_event_ts: None,
        }),
        ..CachedRoom::default()
    };
    cached.tree.push(TreeEntry {
        path: "a".into(),
        rev: 3,
        size: 3,
    });
    let mut state = RoomState::from_cache(cached, None);
    state.hold_cached_contents(vec![CachedContent {
        path: "a".into(),
        rev: 2,
        content: "old".into(),
    }]);
    assert_eq!(state.files["a"].rev, 3);
    assert_eq!(state.files["a"].content, None);
}

#[test]
fn files_added_and_deleted_between_others_are_all_found() {
    let cache = MemoryCache::new();
    let before = with(
        &joined(
            &RoomState::default(),
            "g",
            &[("a", "1"), ("c", "2"), ("e", "3")],
        ),
        [],
    );
    persist(&cache, &RoomState::default(), &before);
    let change = |rev: u64, path: &str, deleted: bool| {
        LogEntry::FileChanged(room_protocol::FileChanged {
            rev,
            path: path.into(),
            content: if deleted {
                String::new()
            } else {
                format!("new {path}")
            },
            by: None,
            edit_id: None,
            deleted,
        })
    };
    let after = with(
        &before,
        [Action::Entries(vec![
            change(1, "a", true),
            change(2, "b", false),
            change(3, "d", false),
            change(4, "e", true),
        ])],
    );
    let batch = diff(&before, &after);
    let mut deleted = batch.contents_delete.clone();
    deleted.sort();
    assert_eq!(deleted, ["a", "e"]);
    let mut put: Vec<&str> = batch.contents_put.iter().map(|c| c.path.as_str()).collect();
    put.sort_unstable();
    assert_eq!(put, ["b", "d"]);
    persist(&cache, &before, &after);
    assert_eq!(restore(&cache).files, after.files);
}
