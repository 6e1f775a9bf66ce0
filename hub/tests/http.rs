//! The HTTP side: posted events, signed snapshots, health.

mod common;

use std::io::Read;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use room_hub::{app, sign_hex, HubState};
use room_protocol::{snapshot_signing_message, ServerFrame, MAX_SNAPSHOT_LINK_SECONDS};
use serde_json::{json, Value};
use tower::ServiceExt;

async fn call(hub: &room_hub::RunningHub, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let router = app(Arc::new(HubState::new([Arc::clone(&hub.room)])));
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, body)
}

fn post_event(room_id: &str, auth: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::post(room_protocol::urls::events_path(room_id))
        .header("content-type", "application/json");
    if let Some(token) = auth {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

#[tokio::test]
async fn posted_events_reach_peers_and_tokens_are_enforced() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut c = Client::fresh(&hub, &edit_token(&hub)).await;
    let id = hub.room.id().to_owned();

    let (status, body) = call(
        &hub,
        post_event(
            &id,
            Some(&edit_token(&hub)),
            r#"{"kind":"build","data":{"ok":true}}"#,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap(),
        json!({"rev": 1})
    );
    match c.next().await {
        ServerFrame::RuntimeEvent(e) => {
            assert_eq!((e.rev, e.kind.as_str()), (1, "build"));
            assert_eq!(e.data, json!({"ok": true}));
            assert!(e.ts > 1_600_000_000_000);
        }
        other => panic!("{other:?}"),
    }

    let (status, body) = call(
        &hub,
        post_event(&id, Some(&read_only_token(&hub)), r#"{"kind":"x"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"],
        "read-only"
    );

    for auth in [None, Some("A".repeat(32))] {
        let (status, body) = call(&hub, post_event(&id, auth.as_deref(), r#"{"kind":"x"}"#)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap()["error"],
            "unauthorized"
        );
    }

    let (status, body) = call(&hub, post_event(&id, Some(&edit_token(&hub)), "{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"],
        "bad-request"
    );
    assert_eq!(
        hub.room.version().await.1,
        1,
        "refused posts append nothing"
    );
}

fn snapshot_request(room_id: &str, exp: u64, sig: &str) -> Request<Body> {
    Request::get(room_protocol::urls::snapshot_link("", room_id, exp, sig))
        .body(Body::empty())
        .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_signed_snapshot_link_streams_the_project_as_tar() {
    let project = sample_project();
    // Longer than a tar header's 100-byte name (241 bytes, as in the field)
    // and near the 1024-byte limit of a room path.
    let long = format!("{}/{}.txt", "a".repeat(120), "b".repeat(116));
    let longest = format!("{}/end.txt", vec!["c".repeat(126); 8].join("/"));
    assert_eq!((long.len(), longest.len()), (241, 1023));
    for path in [&long, &longest] {
        let file = project.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, path.as_str()).unwrap();
    }
    let hub = hub_over(project.path()).await;
    let id = hub.room.id().to_owned();
    let exp = now() + 300;
    // Either token can sign.
    for token in [edit_token(&hub), read_only_token(&hub)] {
        let sig = sign_hex(&token, &snapshot_signing_message(&id, exp));
        let (status, body) = call(&hub, snapshot_request(&id, exp, &sig)).await;
        assert_eq!(status, StatusCode::OK);
        let mut archive = tar::Archive::new(body.as_slice());
        let mut files = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().display().to_string();
            let mut content = String::new();
            entry.read_to_string(&mut content).unwrap();
            files.push((path, content));
        }
        assert_eq!(
            files,
            [
                ("README.md".to_owned(), "# Sample\n".to_owned()),
                (long.clone(), long.clone()),
                (longest.clone(), longest.clone()),
                ("src/main.rs".to_owned(), "fn main() {}\n".to_owned())
            ]
        );
    }
}

#[tokio::test]
async fn wrong_or_expired_snapshot_links_are_refused() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let id = hub.room.id().to_owned();
    let token = edit_token(&hub);
    let future = now() + 300;
    let past = now() - 10;
    let years_ahead = now() + 5 * 365 * 24 * 3600;
    let cases = [
        (
            future,
            sign_hex("not-the-token", &snapshot_signing_message(&id, future)),
            "bad-signature",
        ),
        // Signed for another expiry than the one in the URL.
        (
            future,
            sign_hex(&token, &snapshot_signing_message(&id, future + 1)),
            "bad-signature",
        ),
        (
            future,
            sign_hex(&token, &snapshot_signing_message("other-room", future)),
            "bad-signature",
        ),
        (future, "zz".to_owned(), "bad-signature"),
        (
            past,
            sign_hex(&token, &snapshot_signing_message(&id, past)),
            "expired",
        ),
        // Correctly signed, but years ahead: no link lives that long.
        (
            years_ahead,
            sign_hex(&token, &snapshot_signing_message(&id, years_ahead)),
            "expiry-too-far",
        ),
    ];
    for (exp, sig, want) in cases {
        let (status, body) = call(&hub, snapshot_request(&id, exp, &sig)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{want}");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], want);
        assert!(!body.to_string().contains(&token));
    }
    let missing = Request::get(room_protocol::urls::snapshot_path(&id))
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&hub, missing).await.0, StatusCode::UNAUTHORIZED);

    // The cap still leaves room for a browser clock a little ahead.
    let near_cap = now() + MAX_SNAPSHOT_LINK_SECONDS - 60;
    let sig = sign_hex(&token, &snapshot_signing_message(&id, near_cap));
    let (status, _) = call(&hub, snapshot_request(&id, near_cap, &sig)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn healthz_answers() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let health = healthz(&hub).await;
    assert_eq!(health["ok"], true);
    assert_eq!(health["rooms"][hub.room.id()]["head"], 0);
}

#[tokio::test]
async fn a_token_holder_gets_a_signed_snapshot_link_without_any_cryptography_of_its_own() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let id = hub.room.id().to_owned();
    let ask = |token: Option<&str>| {
        let mut request = Request::post(room_protocol::urls::snapshot_link_path(&id));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        request.body(Body::empty()).unwrap()
    };
    for token in [edit_token(&hub), read_only_token(&hub)] {
        let (status, body) = call(&hub, ask(Some(&token))).await;
        assert_eq!(status, StatusCode::OK);
        let link: room_protocol::SnapshotLink = serde_json::from_slice(&body).unwrap();
        assert!(!link.path.contains(&token), "no token in the link");
        let ahead = link.expires_at - now();
        assert!(
            (590..=610).contains(&ahead),
            "valid for 10 minutes: {ahead} s"
        );
        let download = Request::get(&link.path).body(Body::empty()).unwrap();
        let (status, tar) = call(&hub, download).await;
        assert_eq!(status, StatusCode::OK);
        assert!(tar.len() >= 3 * 512, "a tar of the project");
    }
    for token in [None, Some("B".repeat(32).as_str())] {
        let (status, body) = call(&hub, ask(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"], "unauthorized");
    }
    // A page served from another origin (trunk serve) may ask.
    let preflight = Request::options(room_protocol::urls::snapshot_link_path(&id))
        .header("Origin", "http://127.0.0.1:8080")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization")
        .body(Body::empty())
        .unwrap();
    let router = app(Arc::new(HubState::new([Arc::clone(&hub.room)])));
    let response = router.oneshot(preflight).await.unwrap();
    assert!(response.status().is_success());
    let allowed = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    assert_eq!(allowed("access-control-allow-origin"), "*");
    assert!(allowed("access-control-allow-headers").contains("authorization"));
}
