//! One tab, one peer (issue 17, finding 10): a `hello` with the client id
//! of a connection the hub still holds (its Wi-Fi link died without a
//! close) replaces that connection at once, under the same peer id, so the
//! others never see the person twice.

mod common;

use std::time::Duration;

use common::*;
use room_protocol::{Hello, ServerFrame, CLOSE_REPLACED};

fn hello_from_tab(name: &str, client_id: &str) -> Hello {
    Hello {
        client_id: Some(client_id.into()),
        ..hello_as(name)
    }
}

/// The peers the observer is told of, after the next `peers` frame.
async fn next_peers(observer: &mut Client) -> Vec<String> {
    loop {
        match recv(&mut observer.socket).await {
            ServerFrame::Peers(p) => return p.peers.into_iter().map(|p| p.peer_id).collect(),
            _ => continue,
        }
    }
}

#[tokio::test]
async fn a_tab_that_reconnects_replaces_its_dead_connection_under_the_same_peer_id() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let token = edit_token(&hub);
    let mut observer = Client::fresh(&hub, &token).await;
    // The first connection of the tab: its link is about to die silently
    // (this test simply never reads it again).
    let mut dead = Client::join(&hub, &token, hello_from_tab("Ada", "tab-1")).await;
    let ada = dead.welcome.peer_id.clone();
    assert_eq!(next_peers(&mut observer).await.len(), 2);

    let again = Client::join(&hub, &token, hello_from_tab("Ada", "tab-1")).await;
    assert_eq!(again.welcome.peer_id, ada, "the person keeps their peer id");
    let peers = next_peers(&mut observer).await;
    assert_eq!(
        peers.iter().filter(|p| **p == ada).count(),
        1,
        "shown once: {peers:?}"
    );
    assert_eq!(peers.len(), 2);
    let (code, _) = read_until_close(&mut dead.socket).await;
    assert_eq!(code, Some(CLOSE_REPLACED));
    // The old connection leaving does not take the new one's place.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hub.room.peer_count().await, 2);
    drop(again);
    assert_eq!(
        next_peers(&mut observer).await,
        [observer.welcome.peer_id.clone()]
    );
}

#[tokio::test]
async fn without_a_valid_client_id_every_connection_is_a_peer_of_its_own() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let token = edit_token(&hub);
    for client_id in ["has space", ""] {
        let one = Client::join(&hub, &token, hello_from_tab("Bo", client_id)).await;
        let two = Client::join(&hub, &token, hello_from_tab("Bo", client_id)).await;
        assert_ne!(one.welcome.peer_id, two.welcome.peer_id, "{client_id:?}");
    }
    let a = Client::join(&hub, &token, hello_from_tab("Cy", "tab-a")).await;
    let b = Client::join(&hub, &token, hello_from_tab("Cy", "tab-b")).await;
    assert_ne!(a.welcome.peer_id, b.welcome.peer_id, "two tabs, two peers");
}

#[tokio::test]
async fn a_live_tab_whose_id_another_took_is_told_4409_even_while_it_talks() {
    // A duplicated tab starts with a copy of the other's client id. The
    // one replaced must hear 4409 (take a new id), never 1013 (which would
    // send it back with the same id, to replace the other in turn).
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let token = edit_token(&hub);
    let mut first = Client::join(&hub, &token, hello_from_tab("Ada", "copied")).await;
    let _second = Client::join(&hub, &token, hello_from_tab("Ada", "copied")).await;
    for t in 0..20 {
        first
            .send(&room_protocol::ClientFrame::Ping(room_protocol::Ping {
                t: f64::from(t),
            }))
            .await;
    }
    let (code, _) = read_until_close(&mut first.socket).await;
    assert_eq!(code, Some(CLOSE_REPLACED));
}
