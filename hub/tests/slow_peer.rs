//! A peer that stops reading is dropped with 1013 once its outgoing queue
//! passes its byte budget, while honest peers are served (issue 17,
//! finding 4). Before, the hub's send blocked inside the connection's loop,
//! so its ping, silence and lag checks never ran and the peer stayed in
//! everyone's list.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use room_protocol::CLOSE_TRY_AGAIN_LATER;
use serde_json::json;

/// How long the flood may take to get the silent peer dropped: well under
/// the hub's 25 s silence limit, which must not be what drops it.
const WITHIN: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_reads_is_dropped_and_honest_peers_stay() {
    let project = sample_project();
    let hub = hub_with(project.path(), |c| {
        c.heartbeat.max_queued_bytes = 256 * 1024;
    })
    .await;
    let token = edit_token(&hub);
    let mut silent = Client::fresh(&hub, &token).await;
    let honest = Client::fresh(&hub, &token).await;
    let reader = tokio::spawn(async move {
        let mut socket = honest.socket;
        let mut frames = 0_u64;
        while let Some(Ok(_)) = socket.next().await {
            frames += 1;
        }
        frames
    });
    assert_eq!(healthz(&hub).await["rooms"][hub.room.id()]["peers"], 2);

    // About 1000 events a second of 4 KiB each, until the silent peer has
    // been dropped.
    let data = "x".repeat(4096);
    let started = Instant::now();
    let mut events = 0;
    while hub.room.peer_count().await == 2 {
        assert!(
            started.elapsed() < WITHIN,
            "a peer that never reads was still in the room after {events} events"
        );
        for _ in 0..10 {
            hub.room
                .append_event("flood", json!({ "data": data }))
                .await;
            events += 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        hub.room.peer_count().await,
        1,
        "the honest peer is still in"
    );
    assert!(!reader.is_finished(), "the honest peer is still connected");

    // The silent peer now reads: after the frames already in the socket
    // comes the close, 1013, so it reconnects and catches up by replay.
    let (code, _) = read_until_close(&mut silent.socket).await;
    assert_eq!(code, Some(CLOSE_TRY_AGAIN_LATER));
    reader.abort();
}
