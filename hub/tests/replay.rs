//! Catch-up after a reconnect: replay when the cache is still good,
//! snapshot otherwise.

mod common;

use common::*;
use room_protocol::{
    Hello, ServerFrame, SyncMode, REPLAY_BUFFER_BYTES, REPLAY_BUFFER_ENTRIES, SNAPSHOT_EVENT_LIMIT,
};
use serde_json::json;

fn revs(frames: &[ServerFrame]) -> Vec<u64> {
    frames
        .iter()
        .map(|f| {
            f.as_log_entry()
                .expect("only log entries in a catch-up")
                .rev()
        })
        .collect()
}

/// The hello a client sends after having seen everything up to `client`'s
/// welcome and catch-up.
fn hello_after(client: &Client, last_seen_rev: u64) -> Hello {
    Hello {
        last_seen_rev: Some(last_seen_rev),
        project_id: Some(client.welcome.project.id.clone()),
        project_rev: Some(client.welcome.project.rev),
        ..hello_as("again")
    }
}

#[tokio::test]
async fn a_client_that_missed_n_entries_gets_exactly_those_in_order() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    for i in 0..3 {
        hub.room.append_event("stdout", json!({ "line": i })).await;
    }
    let first = Client::fresh(&hub, &edit_token(&hub)).await;
    assert_eq!(first.welcome.mode, SyncMode::Snapshot);
    assert_eq!(revs(&first.catch_up), [1, 2, 3]);
    let last_seen = first.welcome.head;
    drop(first);

    let missed = 7;
    for i in 0..missed {
        hub.room
            .append_event("stdout", json!({ "line": format!("missed {i}") }))
            .await;
    }
    let (project_version, _) = hub.room.version().await;
    let again = Client::join(
        &hub,
        &edit_token(&hub),
        Hello {
            last_seen_rev: Some(last_seen),
            project_id: Some(project_version.id),
            project_rev: Some(project_version.rev),
            ..hello_as("again")
        },
    )
    .await;
    assert_eq!(again.welcome.mode, SyncMode::Replay);
    assert!(again.tree.is_none(), "a replay carries no tree");
    assert_eq!(revs(&again.catch_up), (4..=10).collect::<Vec<_>>());
    match &again.catch_up[0] {
        ServerFrame::RuntimeEvent(e) => assert_eq!(e.data, json!({"line": "missed 0"})),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_gap_older_than_the_buffer_gets_a_snapshot() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let first = Client::fresh(&hub, &edit_token(&hub)).await;
    let hello = hello_after(&first, first.welcome.head);
    drop(first);
    for i in 0..=REPLAY_BUFFER_ENTRIES {
        hub.room.append_event("pulse", json!({ "n": i })).await;
    }
    let again = Client::join(&hub, &edit_token(&hub), hello).await;
    assert_eq!(again.welcome.mode, SyncMode::Snapshot);
    // Same generation, no file changed since: the tree delta is empty.
    assert_eq!(again.tree.as_ref().unwrap().0.since, Some(0));
    assert!(again.paths().is_empty());
    // The newest 1000 events follow a snapshot, in order.
    let head = again.welcome.head;
    assert_eq!(head, REPLAY_BUFFER_ENTRIES as u64 + 1);
    let want: Vec<u64> = (head - SNAPSHOT_EVENT_LIMIT as u64 + 1..=head).collect();
    assert_eq!(revs(&again.catch_up), want);
}

#[tokio::test]
async fn exactly_the_whole_buffer_is_still_replayed() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let first = Client::fresh(&hub, &edit_token(&hub)).await;
    let hello = hello_after(&first, first.welcome.head);
    drop(first);
    for i in 0..REPLAY_BUFFER_ENTRIES {
        hub.room.append_event("pulse", json!({ "n": i })).await;
    }
    let again = Client::join(&hub, &edit_token(&hub), hello).await;
    assert_eq!(again.welcome.mode, SyncMode::Replay);
    assert_eq!(again.catch_up.len(), REPLAY_BUFFER_ENTRIES);
}

#[tokio::test]
async fn changed_files_or_another_generation_get_a_snapshot() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut first = Client::fresh(&hub, &edit_token(&hub)).await;
    let stale = hello_after(&first, first.welcome.head);
    first.edit("e1", "README.md", "changed", 0).await;
    assert!(matches!(first.next().await, ServerFrame::FileChanged(_)));

    // Files changed since the cached project rev: snapshot with the edit.
    let mut after_edit = Client::join(&hub, &edit_token(&hub), stale.clone()).await;
    assert_eq!(after_edit.welcome.mode, SyncMode::Snapshot);
    assert_eq!(after_edit.welcome.project.rev, 1);
    let (delta, _) = after_edit.tree.clone().unwrap();
    let listed: Vec<(&str, u64)> = delta
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.rev))
        .collect();
    assert_eq!(listed, [("README.md", 1)], "only what changed");
    assert_eq!(
        after_edit.content("README.md").await.as_deref(),
        Some("changed")
    );

    // Another generation (a restarted hub) with matching numbers: snapshot.
    let other_generation = Hello {
        last_seen_rev: Some(1),
        project_id: Some("some-other-run".into()),
        project_rev: Some(1),
        ..hello_as("x")
    };
    let c = Client::join(&hub, &edit_token(&hub), other_generation).await;
    assert_eq!(c.welcome.mode, SyncMode::Snapshot);

    // A last-seen rev from the future: snapshot.
    let mut future = hello_after(&after_edit, 99);
    future.project_rev = Some(1);
    let c = Client::join(&hub, &edit_token(&hub), future).await;
    assert_eq!(c.welcome.mode, SyncMode::Snapshot);
}

#[tokio::test]
async fn live_entries_follow_synced_without_gaps_or_duplicates() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let room = std::sync::Arc::clone(&hub.room);
    // Events keep arriving while clients join.
    let producer = tokio::spawn(async move {
        for i in 0..400 {
            room.append_event("pulse", json!({ "n": i })).await;
            if i % 50 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    let mut client = Client::fresh(&hub, &edit_token(&hub)).await;
    producer.await.unwrap();
    let mut seen = revs(&client.catch_up);
    while seen.last().copied() != Some(400) {
        let frame = client.next().await;
        seen.push(frame.as_log_entry().unwrap().rev());
    }
    let first = seen[0];
    assert_eq!(seen, (first..=400).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_replay_log_is_bounded_by_bytes_and_past_it_comes_a_snapshot() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let first = Client::fresh(&hub, &edit_token(&hub)).await;
    // 300 entries of 256 KiB: 75 MiB, far fewer than 5000 entries.
    let data = "x".repeat(256 * 1024);
    for _ in 0..300 {
        hub.room.append_event("big", json!({ "data": data })).await;
    }
    let head = hub.room.version().await.1;
    let from_start = Client::join(&hub, &edit_token(&hub), hello_after(&first, 0)).await;
    assert_eq!(
        from_start.welcome.mode,
        SyncMode::Snapshot,
        "the first entries are no longer kept"
    );
    let recent = Client::join(&hub, &edit_token(&hub), hello_after(&first, head - 10)).await;
    assert_eq!(recent.welcome.mode, SyncMode::Replay);
    assert_eq!(
        revs(&recent.catch_up),
        ((head - 9)..=head).collect::<Vec<_>>()
    );
    let kept = (REPLAY_BUFFER_BYTES / (256 * 1024)) as u64;
    let at_edge = Client::join(
        &hub,
        &edit_token(&hub),
        hello_after(&first, head - kept + 2),
    )
    .await;
    assert_eq!(
        at_edge.welcome.mode,
        SyncMode::Replay,
        "64 MiB of entries are kept"
    );
}
