//! Tokens: where they are accepted, what a wrong one gets, and that they
//! are never echoed.

mod common;

use common::*;
use room_protocol::{ClientFrame, ServerFrame, CLOSE_ROOM_NOT_FOUND, CLOSE_UNAUTHORIZED};

#[tokio::test]
async fn a_subprotocol_token_connects_and_room_v1_is_selected() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let (mut socket, selected) =
        open(&hub, hub.room.id(), Auth::Subprotocol(&edit_token(&hub))).await;
    assert_eq!(
        selected.as_deref(),
        Some("room.v1"),
        "the token entry is never echoed"
    );
    send(&mut socket, &ClientFrame::Hello(hello_as("a"))).await;
    match recv(&mut socket).await {
        ServerFrame::Welcome(w) => {
            assert!(!w.read_only);
            assert_eq!(w.room_id, hub.room.id());
            assert_eq!(
                w.read_only_token.as_deref(),
                Some(read_only_token(&hub).as_str())
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_query_token_connects_too() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let (mut socket, selected) =
        open(&hub, hub.room.id(), Auth::Query(&read_only_token(&hub))).await;
    assert_eq!(selected.as_deref(), Some("room.v1"));
    send(&mut socket, &ClientFrame::Hello(hello_as("a"))).await;
    let stats = healthz(&hub).await;
    assert_eq!(
        stats["rooms"][hub.room.id()]["connections"]["queryToken"],
        1
    );
    match recv(&mut socket).await {
        ServerFrame::Welcome(w) => {
            assert!(w.read_only);
            assert_eq!(
                w.read_only_token, None,
                "only editors get the view-only token"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_or_missing_token_closes_with_4401_and_nothing_else() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let wrong = "A".repeat(32);
    for auth in [Auth::Subprotocol(&wrong), Auth::Query(&wrong), Auth::None] {
        let (mut socket, _) = open(&hub, hub.room.id(), auth).await;
        let (code, texts) = read_until_close(&mut socket).await;
        assert_eq!(code, Some(CLOSE_UNAUTHORIZED));
        assert!(
            texts.is_empty(),
            "nothing is sent before the close: {texts:?}"
        );
    }
    let stats = healthz(&hub).await;
    assert_eq!(
        stats["rooms"][hub.room.id()]["connections"]["unauthorized"],
        3
    );
    assert_eq!(stats["rooms"][hub.room.id()]["connections"]["attempts"], 3);
}

#[tokio::test]
async fn an_unknown_room_closes_with_4404() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let (mut socket, _) = open(&hub, "no-such-room", Auth::Subprotocol(&edit_token(&hub))).await;
    let (code, texts) = read_until_close(&mut socket).await;
    assert_eq!(code, Some(CLOSE_ROOM_NOT_FOUND));
    assert!(texts.is_empty());
}
