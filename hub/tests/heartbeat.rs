//! Heartbeats: `ping` is answered at once, and a silent connection is
//! dropped after the idle timeout.

mod common;

use std::time::{Duration, Instant};

use common::*;
use room_hub::Heartbeat;
use room_protocol::{ClientFrame, Ping, ServerFrame, CLOSE_IDLE};

#[tokio::test]
async fn a_connection_that_never_says_hello_is_closed_after_hello_within() {
    let project = sample_project();
    let hub = hub_with(project.path(), |c| {
        c.heartbeat.hello_within = Duration::from_millis(300);
    })
    .await;
    let token = edit_token(&hub);
    let started = Instant::now();
    let (mut mute, _) = open(&hub, hub.room.id(), Auth::Subprotocol(&token)).await;
    let (code, _) = read_until_close(&mut mute).await;
    let waited = started.elapsed();
    assert_eq!(code, Some(CLOSE_IDLE));
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "closed after {waited:?}"
    );
    let room = &healthz(&hub).await["rooms"][hub.room.id()];
    assert_eq!(
        room["connections"]["welcomed"], 0,
        "it never joined the room"
    );
}

#[tokio::test]
async fn ping_is_answered_with_pong_carrying_the_same_t() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut c = Client::fresh(&hub, &edit_token(&hub)).await;
    c.send(&ClientFrame::Ping(Ping { t: 123.25 })).await;
    assert_eq!(c.next().await, ServerFrame::Pong(Ping { t: 123.25 }));
}

#[tokio::test]
async fn a_silent_connection_is_dropped_and_its_peer_removed() {
    let project = sample_project();
    let hub = hub_with(project.path(), |c| {
        c.heartbeat = Heartbeat {
            ping_every: Duration::from_millis(100),
            idle_timeout: Duration::from_millis(400),
            ..Heartbeat::default()
        };
    })
    .await;
    let mut silent = Client::fresh(&hub, &edit_token(&hub)).await;
    // Not reading means not answering the hub's pings: silence.
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let (code, _) = read_until_close(&mut silent.socket).await;
    assert_eq!(code, Some(CLOSE_IDLE));
    assert!(started.elapsed() < Duration::from_secs(3));

    // A connection that keeps answering pings stays.
    let mut lively = Client::fresh(&hub, &edit_token(&hub)).await;
    let ids: Vec<&str> = lively
        .welcome
        .peers
        .iter()
        .map(|p| p.peer_id.as_str())
        .collect();
    assert_eq!(
        ids,
        [lively.welcome.peer_id.as_str()],
        "the silent peer is gone"
    );
    assert_ne!(silent.welcome.peer_id, lively.welcome.peer_id);
    let until = Instant::now() + Duration::from_millis(900);
    while Instant::now() < until {
        lively.send(&ClientFrame::Ping(Ping { t: 0.0 })).await;
        assert!(matches!(lively.next().await, ServerFrame::Pong(_)));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
