//! The cache's pure parts: diffing states into batches, applying batches,
//! and starting a page from what was cached.

use futures_util::FutureExt;
use room_protocol::{LogEntry, SyncMode};
use serde_json::json;

use super::*;
use crate::state::{Action, DraftStatus};
use crate::testing;

/// A snapshot of `files` at rev 0 of project `generation`.
fn welcome(generation: &str, files: &[(&str, &str)]) -> Action {
    let files: Vec<_> = files
        .iter()
        .map(|&(path, content)| (path, content, 0))
        .collect();
    Action::Welcome(testing::welcome(generation, 0, SyncMode::Snapshot, &files))
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

#[test]
fn nothing_changed_means_nothing_to_write() {
    let s = with(
        &RoomState::default(),
        [welcome("g", &[("a", "1")]), events(1..=3)],
    );
    assert!(diff(&s, &s.clone()).is_empty());
}

#[test]
fn appended_events_and_changed_files_are_the_only_writes() {
    let a = with(
        &RoomState::default(),
        [welcome("g", &[("a", "1"), ("b", "2")]), events(1..=3)],
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
            .files_put
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );
    assert_eq!(batch.meta.as_ref().unwrap().last_seen_rev, 6);
    assert_eq!(batch.meta.as_ref().unwrap().project.rev, 6);
}

#[test]
fn round_trip_through_the_memory_cache() {
    let cache = MemoryCache::new();
    let empty = RoomState::default();
    let s = with(
        &empty,
        [
            welcome("g", &[("a.txt", "alpha"), ("dir/b.txt", "beta")]),
            events(1..=3),
            Action::Synced { head: 3 },
            Action::SetProfile(PeerProfile {
                name: "Ada".into(),
                color: "#112233".into(),
            }),
            Action::Type {
                path: "a.txt".into(),
                content: "draft".into(),
            },
        ],
    );
    persist(&cache, &empty, &s);
    let restored = RoomState::from_cache(load(&cache), None);
    assert_eq!(restored.files, s.files);
    assert_eq!(restored.events, s.events);
    assert_eq!(restored.project, s.project);
    assert_eq!(restored.last_seen_rev, 3);
    assert_eq!(restored.last_event_ts, Some(30));
    assert_eq!(restored.profile.name, "Ada");
    assert_eq!(restored.drafts, s.drafts);
    assert_eq!(restored.status, ConnectionStatus::Connecting);
}

#[test]
fn only_the_newest_thousand_events_are_kept() {
    let cache = MemoryCache::new();
    let batch = CacheWrite {
        events_put: (1..=1500)
            .map(|rev| RuntimeEvent {
                rev,
                ts: rev,
                kind: "k".into(),
                data: json!(null),
            })
            .collect(),
        ..CacheWrite::default()
    };
    cache.write(batch).now_or_never().unwrap().unwrap();
    let room = load(&cache);
    assert_eq!(room.events.len(), 1000);
    assert_eq!(room.events.first().unwrap().rev, 501);
    assert_eq!(room.events.last().unwrap().rev, 1500);
}

#[test]
fn eviction_clears_files_and_events_but_keeps_profile_and_drafts() {
    let cache = MemoryCache::new();
    let empty = RoomState::default();
    let old = with(
        &empty,
        [
            welcome("g1", &[("old.txt", "old")]),
            events(1..=5),
            Action::SetProfile(PeerProfile {
                name: "Ada".into(),
                color: "#112233".into(),
            }),
            Action::Save {
                path: "old.txt".into(),
                content: "mine".into(),
            },
        ],
    );
    persist(&cache, &empty, &old);
    let new = with(&old, [welcome("g2", &[("new.txt", "new")]), events(1..=2)]);
    let batch = diff(&old, &new);
    assert!(batch.reset);
    persist(&cache, &old, &new);
    let room = load(&cache);
    assert_eq!(
        room.files
            .iter()
            .map(|f| f.path.as_str())
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
        &empty,
        [
            welcome("g", &[("a", "1")]),
            Action::Type {
                path: "a".into(),
                content: "x".into(),
            },
            Action::Type {
                path: "b".into(),
                content: "y".into(),
            },
        ],
    );
    let b = with(&a, [Action::Discard { path: "a".into() }]);
    let batch = diff(&a, &b);
    assert_eq!(batch.drafts_delete, ["a"]);
    assert!(batch.drafts_put.is_empty());
}

#[test]
fn a_replay_of_5000_entries_is_one_batch() {
    let cache = MemoryCache::new();
    let empty = RoomState::default();
    let before = with(&empty, [welcome("g", &[("a", "1")]), events(1..=10)]);
    persist(&cache, &empty, &before);
    let after = with(&before, [events(11..=5010)]);
    let writes_before = cache.transactions();
    persist(&cache, &before, &after);
    assert_eq!(cache.transactions() - writes_before, 1);
    let room = load(&cache);
    assert_eq!(room.events.len(), 1000);
    assert_eq!(room.events.last().unwrap().rev, 5010);
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
    cached.files.push(CachedFile {
        path: "stray".into(),
        content: "?".into(),
        rev: 1,
    });
    cached.drafts.push(CachedDraft {
        path: "a".into(),
        draft: Draft {
            content: "keep".into(),
            base_rev: 0,
            status: DraftStatus::Editing,
        },
    });
    let state = RoomState::from_cache(cached, None);
    assert!(
        state.files.is_empty(),
        "files without a project version cannot be trusted"
    );
    assert_eq!(state.drafts["a"].content, "keep");
}

#[test]
fn later_writes_replace_earlier_ones_and_deletes_apply() {
    let mut room = CachedRoom::default();
    let event = |rev: u64, n: u64| RuntimeEvent {
        rev,
        ts: rev,
        kind: "k".into(),
        data: json!(n),
    };
    let file = |path: &str, content: &str| CachedFile {
        path: path.into(),
        content: content.into(),
        rev: 1,
    };
    apply_write(
        &mut room,
        CacheWrite {
            events_put: vec![event(4, 1), event(5, 1)],
            files_put: vec![file("a", "one"), file("b", "bee")],
            ..CacheWrite::default()
        },
    );
    apply_write(
        &mut room,
        CacheWrite {
            events_put: vec![event(5, 2), event(6, 2)],
            files_put: vec![file("a", "two")],
            files_delete: vec!["b".into()],
            ..CacheWrite::default()
        },
    );
    let events: Vec<(u64, serde_json::Value)> = room
        .events
        .iter()
        .map(|e| (e.rev, e.data.clone()))
        .collect();
    assert_eq!(events, [(4, json!(1)), (5, json!(2)), (6, json!(2))]);
    assert_eq!(room.files, [file("a", "two")]);
}
