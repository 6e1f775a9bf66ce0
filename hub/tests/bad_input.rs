//! Bad input gets a clear error and never harms the hub or other peers.

mod common;

use common::*;
use futures_util::SinkExt;
use room_protocol::{
    decode_server_frame, ClientFrame, ErrorCode, Ping, ServerFrame, CLOSE_MESSAGE_TOO_BIG,
    CLOSE_PROTOCOL_ERROR, MAX_FRAME_BYTES,
};
use tokio_tungstenite::tungstenite::Message;

async fn raw(client: &mut Client, text: &str) {
    client
        .socket
        .send(Message::text(text.to_owned()))
        .await
        .unwrap();
}

async fn expect_error(client: &mut Client, code: ErrorCode) {
    match client.next().await {
        ServerFrame::Error(e) => assert_eq!(e.error, code, "{e:?}"),
        other => panic!("expected {code:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn malformed_and_unknown_frames_get_errors_and_the_connection_stays() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut c = Client::fresh(&hub, &edit_token(&hub)).await;
    raw(&mut c, "this is not json").await;
    expect_error(&mut c, ErrorCode::BadFrame).await;
    raw(&mut c, r#"{"type":"file-edit","path":3}"#).await;
    expect_error(&mut c, ErrorCode::BadFrame).await;
    raw(&mut c, r#"{"type":"teleport","to":"mars"}"#).await;
    expect_error(&mut c, ErrorCode::UnknownType).await;
    c.socket.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    expect_error(&mut c, ErrorCode::BadFrame).await;
    c.send(&ClientFrame::Ping(Ping { t: 7.0 })).await;
    assert!(matches!(c.next().await, ServerFrame::Pong(p) if p.t == 7.0));
}

#[tokio::test]
async fn anything_before_hello_gets_hello_first_then_close_4400() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    for first in [r#"{"type":"ping","t":1}"#, "garbage", r#"{"type":"nope"}"#] {
        let (mut socket, _) = open(&hub, hub.room.id(), Auth::Subprotocol(&edit_token(&hub))).await;
        socket.send(Message::text(first)).await.unwrap();
        let (code, texts) = read_until_close(&mut socket).await;
        assert_eq!(code, Some(CLOSE_PROTOCOL_ERROR), "{first}");
        assert_eq!(texts.len(), 1);
        match decode_server_frame(&texts[0]).unwrap() {
            ServerFrame::Error(e) => assert_eq!(e.error, ErrorCode::HelloFirst),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn a_frame_over_4_mib_closes_with_1009_and_others_are_unharmed() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut bystander = Client::fresh(&hub, &edit_token(&hub)).await;
    let mut offender = Client::fresh(&hub, &edit_token(&hub)).await;
    let huge = format!(
        r#"{{"type":"ping","t":1,"pad":"{}"}}"#,
        "x".repeat(MAX_FRAME_BYTES)
    );
    // The hub may close while we are still writing; either way it must not
    // read the whole frame.
    let _ = offender.socket.send(Message::text(huge)).await;
    let (code, _) = read_until_close(&mut offender.socket).await;
    assert_eq!(code, Some(CLOSE_MESSAGE_TOO_BIG));

    bystander.send(&ClientFrame::Ping(Ping { t: 2.0 })).await;
    assert!(matches!(bystander.next().await, ServerFrame::Pong(_)));
    bystander.edit("after", "README.md", "still fine", 0).await;
    assert!(matches!(
        bystander.next().await,
        ServerFrame::FileChanged(_)
    ));
    // New connections are still welcome.
    let late = Client::fresh(&hub, &edit_token(&hub)).await;
    assert_eq!(late.welcome.project.rev, 1);
}

#[tokio::test]
async fn a_second_hello_is_an_error_not_a_crash() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut c = Client::fresh(&hub, &edit_token(&hub)).await;
    c.send(&ClientFrame::Hello(hello_as("twice"))).await;
    expect_error(&mut c, ErrorCode::BadFrame).await;
}

#[tokio::test]
async fn an_edit_id_that_is_not_a_short_id_is_refused_without_being_echoed() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut author = Client::fresh(&hub, &edit_token(&hub)).await;
    let mut other = Client::fresh(&hub, &edit_token(&hub)).await;
    let huge = "e".repeat(3 << 20);
    for edit_id in [huge.as_str(), "", "has space", "é"] {
        author.edit(edit_id, "new.txt", "content", 0).await;
        match author.next().await {
            ServerFrame::Error(e) => {
                assert_eq!(e.error, ErrorCode::BadFrame);
                assert_eq!(e.edit_id, None, "not echoed");
            }
            other => panic!("expected bad-frame, got {other:?}"),
        }
    }
    assert!(!project.path().join("new.txt").exists(), "nothing written");
    // Nothing was broadcast: the other peer's next frame is its pong.
    other.send(&ClientFrame::Ping(Ping { t: 1.0 })).await;
    assert!(matches!(other.next().await, ServerFrame::Pong(_)));
}
