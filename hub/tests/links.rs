//! Links the host controls: a host token beside the edit and view ones;
//! the host replaces the edit or view link, or turns the view link off,
//! over HTTP; the old link stops at once, live connections included; the
//! token file keeps the new ones.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use room_hub::{app, HubState};
use room_protocol::{Links, CLOSE_LINK_REPLACED, CLOSE_UNAUTHORIZED};
use serde_json::Value;
use tower::ServiceExt;

fn host_token(hub: &room_hub::RunningHub) -> String {
    hub.room.secrets().host_token.expose().to_owned()
}

/// One request to the hub's router, as from the host's page at
/// `127.0.0.1:8787`: the status and the body as JSON (`Null` if none).
async fn links(
    hub: &room_hub::RunningHub,
    method: &str,
    room_id: &str,
    kind: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(room_protocol::urls::link_path(room_id, kind))
        .header("Host", "127.0.0.1:8787");
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let router = app(Arc::new(HubState::new([Arc::clone(&hub.room)])));
    let response = router
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The token of a share link.
fn token_of(link: &str) -> String {
    link.split("?token=").nth(1).unwrap().to_owned()
}

#[tokio::test]
async fn only_the_host_manages_links_and_each_refusal_has_its_status() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let id = hub.room.id().to_owned();
    let (edit, view, host) = (edit_token(&hub), read_only_token(&hub), host_token(&hub));
    assert!(room_protocol::is_token_shaped(&host));
    assert!(host != edit && host != view);
    for kind in ["edit", "view"] {
        for (token, status) in [
            (Some(edit.as_str()), StatusCode::FORBIDDEN),
            (Some(view.as_str()), StatusCode::FORBIDDEN),
            (Some("W".repeat(32).as_str()), StatusCode::UNAUTHORIZED),
            (None, StatusCode::UNAUTHORIZED),
        ] {
            let (got, body) = links(&hub, "POST", &id, kind, token).await;
            assert_eq!(got, status, "POST {kind}");
            let error = if status == StatusCode::FORBIDDEN {
                "not-host"
            } else {
                "unauthorized"
            };
            assert_eq!(body["error"], error);
        }
        let (got, body) = links(&hub, "POST", "no-such-room", kind, Some(&host)).await;
        assert_eq!(
            (got, &body["error"]),
            (StatusCode::NOT_FOUND, &Value::from("unknown-room"))
        );
    }
    // Nothing changed by the refusals.
    assert_eq!(
        (edit_token(&hub), read_only_token(&hub)),
        (edit.clone(), view.clone())
    );

    // The host replaces the edit link: the new share link, on the address
    // the host used, with a new token that now edits; the old one is gone.
    let (status, body) = links(&hub, "POST", &id, "edit", Some(&host)).await;
    assert_eq!(status, StatusCode::OK);
    let link = body["link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("http://127.0.0.1:8787/rooms/{id}/?token=")),
        "{link}"
    );
    let new_edit = token_of(link);
    assert!(room_protocol::is_token_shaped(&new_edit) && new_edit != edit);
    assert_eq!(edit_token(&hub), new_edit);
    let _ = Client::fresh(&hub, &new_edit).await;
    let (mut old, _) = open(&hub, &id, Auth::Subprotocol(&edit)).await;
    assert_eq!(read_until_close(&mut old).await.0, Some(CLOSE_UNAUTHORIZED));

    // The view link off (204): its token refused; on again with a new one.
    let (status, body) = links(&hub, "DELETE", &id, "view", Some(&host)).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert!(hub.room.secrets().read_only_token.is_none());
    let (mut viewer, _) = open(&hub, &id, Auth::Subprotocol(&view)).await;
    assert_eq!(
        read_until_close(&mut viewer).await.0,
        Some(CLOSE_UNAUTHORIZED)
    );
    let (status, body) = links(&hub, "DELETE", &id, "view", Some(&edit_token(&hub))).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::FORBIDDEN, &Value::from("not-host"))
    );
    let (status, body) = links(&hub, "POST", &id, "view", Some(&host)).await;
    assert_eq!(status, StatusCode::OK);
    let new_view = token_of(body["link"].as_str().unwrap());
    assert_ne!(new_view, view);
    let watcher = Client::fresh(&hub, &new_view).await;
    assert!(watcher.welcome.read_only);
    // The edit link is replaced, never turned off.
    let (status, _) = links(&hub, "DELETE", &id, "edit", Some(&host)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

/// The next `links` frame, skipping the room's other news.
async fn next_links(client: &mut Client) -> Links {
    loop {
        if let room_protocol::ServerFrame::Links(links) = client.next().await {
            return links;
        }
    }
}

#[tokio::test]
async fn a_replaced_link_closes_its_live_connections_within_100_ms_and_nobody_elses() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let id = hub.room.id().to_owned();
    let host = host_token(&hub);
    let mut editor = Client::join(&hub, &edit_token(&hub), hello_as("Ed")).await;
    let mut viewer = Client::join(&hub, &read_only_token(&hub), hello_as("Vi")).await;
    let mut host_page = Client::join(&hub, &host, hello_as("Host")).await;
    // The host edits, and sees the view link as an editor does.
    assert!(!host_page.welcome.read_only);
    assert_eq!(
        host_page.welcome.read_only_token.as_deref(),
        Some(read_only_token(&hub).as_str())
    );
    // Only the host's page is told it is the host, and gets the edit
    // token to share (never its own).
    assert!(host_page.welcome.host);
    assert_eq!(
        host_page.welcome.edit_token.as_deref(),
        Some(edit_token(&hub).as_str())
    );
    assert!(!editor.welcome.host && editor.welcome.edit_token.is_none());
    assert!(!viewer.welcome.host && viewer.welcome.edit_token.is_none());

    let asked = Instant::now();
    let (status, body) = links(&hub, "POST", &id, "view", Some(&host)).await;
    assert_eq!(status, StatusCode::OK);
    let new_view = token_of(body["link"].as_str().unwrap());
    let (code, _) = read_until_close(&mut viewer.socket).await;
    let took = asked.elapsed();
    assert_eq!(code, Some(CLOSE_LINK_REPLACED));
    assert!(
        took < Duration::from_millis(100),
        "closed {took:?} after the request"
    );
    // Those who share links are given the new one at once.
    let edit = edit_token(&hub);
    assert_eq!(
        next_links(&mut editor).await,
        Links {
            edit_token: None,
            read_only_token: Some(new_view.clone())
        }
    );
    assert_eq!(
        next_links(&mut host_page).await,
        Links {
            edit_token: Some(edit.clone()),
            read_only_token: Some(new_view.clone())
        }
    );

    let asked = Instant::now();
    let (status, body) = links(&hub, "POST", &id, "edit", Some(&host)).await;
    assert_eq!(status, StatusCode::OK);
    let new_edit = token_of(body["link"].as_str().unwrap());
    let (code, _) = read_until_close(&mut editor.socket).await;
    assert_eq!(code, Some(CLOSE_LINK_REPLACED));
    assert!(asked.elapsed() < Duration::from_millis(100));
    assert_eq!(
        next_links(&mut host_page).await,
        Links {
            edit_token: Some(new_edit.clone()),
            read_only_token: Some(new_view)
        }
    );
    let (status, _) = links(&hub, "DELETE", &id, "view", Some(&host)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        next_links(&mut host_page).await,
        Links {
            edit_token: Some(new_edit),
            read_only_token: None
        }
    );

    // The host's page is still in the room, and edits.
    host_page
        .edit(
            "h1",
            "README.md",
            "# By the host\n",
            host_page.file_rev("README.md"),
        )
        .await;
    loop {
        if let room_protocol::ServerFrame::FileChanged(c) = host_page.next().await {
            assert_eq!(c.path, "README.md");
            break;
        }
    }
}

#[tokio::test]
async fn snapshot_links_signed_with_a_replaced_token_stop_working() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let id = hub.room.id().to_owned();
    let router = || app(Arc::new(HubState::new([Arc::clone(&hub.room)])));
    let ask = Request::post(room_protocol::urls::snapshot_link_path(&id))
        .header("Authorization", format!("Bearer {}", edit_token(&hub)))
        .body(Body::empty())
        .unwrap();
    let response = router().oneshot(ask).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let link: room_protocol::SnapshotLink = serde_json::from_slice(&bytes).unwrap();
    let download = || Request::get(&link.path).body(Body::empty()).unwrap();
    assert_eq!(
        router().oneshot(download()).await.unwrap().status(),
        StatusCode::OK
    );
    let (status, _) = links(&hub, "POST", &id, "edit", Some(&host_token(&hub))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        router().oneshot(download()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_token_file_holds_the_new_links_before_the_answer_and_a_restart_keeps_them() {
    let project = sample_project();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    let config = |file: &std::path::Path| room_hub::Config {
        project: project.path().to_owned(),
        port: 0,
        read_only_token: true,
        token_file: Some(file.to_owned()),
        ..room_hub::Config::default()
    };
    let hub = room_hub::start(config(&file)).await.unwrap();
    let id = hub.room.id().to_owned();
    let host = host_token(&hub);
    let stored = |key: &str| -> Option<String> {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        json[key].as_str().map(str::to_owned)
    };
    assert_eq!(stored("hostToken").as_deref(), Some(host.as_str()));
    let (_, body) = links(&hub, "POST", &id, "edit", Some(&host)).await;
    let new_edit = token_of(body["link"].as_str().unwrap());
    assert_eq!(stored("editToken"), Some(new_edit.clone()));
    let (status, _) = links(&hub, "DELETE", &id, "view", Some(&host)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(stored("readOnlyToken"), None);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o077,
            0
        );
    }
    drop(hub);
    // A restart with the file keeps the new links, not the old ones (and
    // a view link turned off stays off until the host turns it on).
    let again = room_hub::start(room_hub::Config {
        read_only_token: false,
        ..config(&file)
    })
    .await
    .unwrap();
    assert_eq!(again.room.id(), id);
    assert_eq!(edit_token(&again), new_edit);
    assert_eq!(host_token(&again), host);
    assert!(again.room.secrets().read_only_token.is_none());
    let links_printed = again.share_links();
    assert!(links_printed
        .host
        .iter()
        .all(|l| l.ends_with(&format!("?token={host}"))));
    assert!(!links_printed.host.is_empty());
}
