//! TCP connections that never send a request (issue 17, finding 5): they
//! are closed at the header deadline, a flood of them cannot keep honest
//! clients out, and past the cap on open connections new ones are refused
//! at once instead of exhausting the hub's file descriptors.

mod common;

use std::time::{Duration, Instant};

use common::*;
use room_hub::ConnectionLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn silent(hub: &room_hub::RunningHub, n: usize) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        streams.push(TcpStream::connect(hub.addr).await.unwrap());
    }
    streams
}

/// Whether the hub closed `stream` within `within` (EOF or reset).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0_u8; 64];
    matches!(
        tokio::time::timeout(within, stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn connections_that_send_nothing_are_closed_at_the_header_deadline() {
    let project = sample_project();
    let hub = hub_with(project.path(), |c| {
        c.limits.header_read_timeout = Duration::from_millis(300);
    })
    .await;
    let started = Instant::now();
    let mut streams = silent(&hub, 20).await;
    for stream in &mut streams {
        assert!(closed_within(stream, Duration::from_secs(5)).await);
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "all 20 closed after {waited:?}"
    );
    // The hub itself is fine.
    assert_eq!(healthz(&hub).await["ok"], true);

    // A kept-alive connection that goes quiet after a request is closed
    // by the same deadline, waiting for the next request's headers.
    let mut kept = TcpStream::connect(hub.addr).await.unwrap();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: hub\r\n\r\n",
        room_protocol::urls::HEALTH_ROUTE
    );
    kept.write_all(request.as_bytes()).await.unwrap();
    let mut response = [0_u8; 1024];
    let n = kept.read(&mut response).await.unwrap();
    assert!(response[..n].starts_with(b"HTTP/1.1 200"));
    let started = Instant::now();
    assert!(closed_within(&mut kept, Duration::from_secs(5)).await);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_flood_of_silent_connections_does_not_keep_an_honest_client_out() {
    let project = sample_project();
    let hub = hub_with(project.path(), |c| {
        // The deadline is long: only the idle cap can make room here.
        c.limits = ConnectionLimits {
            max_open: 500,
            max_idle: 20,
            ..ConnectionLimits::default()
        };
    })
    .await;
    let mut flood = silent(&hub, 150).await;
    let started = Instant::now();
    let client = Client::fresh(&hub, &edit_token(&hub)).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "joined after {:?}",
        started.elapsed()
    );
    assert_eq!(client.welcome.room_id, hub.room.id());
    // The oldest silent ones made room; the newest are still open.
    assert!(closed_within(&mut flood[0], Duration::from_secs(1)).await);
    assert!(!closed_within(&mut flood[149], Duration::from_millis(200)).await);
}

#[tokio::test]
async fn past_the_cap_new_connections_are_refused_until_some_close() {
    let project = sample_project();
    let hub = hub_with(project.path(), |c| {
        c.limits = ConnectionLimits {
            max_open: 10,
            max_idle: 100,
            ..ConnectionLimits::default()
        };
    })
    .await;
    let token = edit_token(&hub);
    // A WebSocket counts as open too.
    let _joined = Client::fresh(&hub, &token).await;
    let mut held = silent(&hub, 9).await;
    let mut refused = TcpStream::connect(hub.addr).await.unwrap();
    assert!(
        closed_within(&mut refused, Duration::from_secs(1)).await,
        "the 11th connection is closed at once"
    );
    assert!(!closed_within(&mut held[0], Duration::from_millis(200)).await);
    held.truncate(4);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let client = Client::fresh(&hub, &token).await;
    assert_eq!(client.welcome.room_id, hub.room.id());
}
