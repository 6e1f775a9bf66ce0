//! Edits: applied durably and broadcast, refused for read-only tokens,
//! stale bases, hostile paths and oversize content.

mod common;

use common::*;
use room_protocol::{ClientFrame, ErrorCode, ServerFrame, MAX_CONTENT_BYTES};

#[tokio::test]
async fn two_clients_see_each_others_edits_and_the_file_is_on_disk() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut ada = Client::fresh(&hub, &edit_token(&hub)).await;
    let mut bo = Client::fresh(&hub, &edit_token(&hub)).await;
    let base = ada.file_rev("README.md");
    ada.edit("e1", "README.md", "# Changed by Ada\n", base)
        .await;
    let ack = ada.next().await;
    let seen = bo.next().await;
    match (&ack, &seen) {
        (ServerFrame::FileChanged(a), ServerFrame::FileChanged(b)) => {
            assert_eq!(a, b, "everyone gets the same entry");
            assert_eq!(
                a.edit_id.as_deref(),
                Some("e1"),
                "the author recognises its ack"
            );
            assert_eq!(a.by.as_deref(), Some(ada.welcome.peer_id.as_str()));
            assert_eq!(a.content, "# Changed by Ada\n");
            assert_eq!(a.rev, 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(project.path().join("README.md")).unwrap(),
        "# Changed by Ada\n"
    );
    // Bo answers on top of Ada's revision; a new file in a new folder works.
    bo.edit("e2", "notes/today.md", "hello", 0).await;
    let ServerFrame::FileChanged(created) = ada.next().await else {
        panic!()
    };
    assert_eq!(created.path, "notes/today.md");
    assert_eq!(created.rev, 2);
    assert_eq!(
        std::fs::read_to_string(project.path().join("notes/today.md")).unwrap(),
        "hello"
    );
}

#[tokio::test]
async fn a_read_only_edit_is_refused_and_the_disk_is_untouched() {
    let project = sample_project();
    let before = std::fs::read(project.path().join("README.md")).unwrap();
    let hub = hub_over(project.path()).await;
    let mut viewer = Client::fresh(&hub, &read_only_token(&hub)).await;
    assert!(viewer.welcome.read_only);
    viewer.edit("ro1", "README.md", "vandalism", 0).await;
    match viewer.next().await {
        ServerFrame::Error(e) => {
            assert_eq!(e.error, ErrorCode::ReadOnly);
            assert_eq!(e.edit_id.as_deref(), Some("ro1"));
        }
        other => panic!("{other:?}"),
    }
    viewer.edit("ro2", "new-file.txt", "x", 0).await;
    assert!(matches!(viewer.next().await, ServerFrame::Error(e) if e.error == ErrorCode::ReadOnly));
    assert_eq!(
        std::fs::read(project.path().join("README.md")).unwrap(),
        before
    );
    assert!(!project.path().join("new-file.txt").exists());
    // The connection is kept and still answers.
    viewer
        .send(&room_protocol::ClientFrame::Ping(room_protocol::Ping {
            t: 1.0,
        }))
        .await;
    assert!(matches!(viewer.next().await, ServerFrame::Pong(_)));
}

#[tokio::test]
async fn a_stale_base_rev_gets_conflict_with_the_current_version() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut ada = Client::fresh(&hub, &edit_token(&hub)).await;
    let mut bo = Client::fresh(&hub, &edit_token(&hub)).await;
    ada.edit("a1", "README.md", "ada's", 0).await;
    assert!(matches!(ada.next().await, ServerFrame::FileChanged(_)));
    assert!(matches!(bo.next().await, ServerFrame::FileChanged(_)));
    bo.edit("b1", "README.md", "bo's, from the old base", 0)
        .await;
    match bo.next().await {
        ServerFrame::Error(e) => {
            assert_eq!(e.error, ErrorCode::Conflict);
            assert_eq!(e.edit_id.as_deref(), Some("b1"));
            let current = e.current.unwrap();
            assert_eq!(current.rev, 1);
            assert_eq!(current.content, "ada's");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(project.path().join("README.md")).unwrap(),
        "ada's"
    );
    // Resending on the current base (the "keep mine" choice) lands.
    bo.edit("b2", "README.md", "bo's", 1).await;
    assert!(
        matches!(bo.next().await, ServerFrame::FileChanged(f) if f.edit_id.as_deref() == Some("b2"))
    );
}

/// Every run of the hub numbers revisions from 0 again: an edit made on
/// revision 0 of an earlier run is refused with the file as it is now (the
/// folder changed while the hub was down), however the numbers compare,
/// and one made on this run's lands.
#[tokio::test]
async fn an_edit_on_an_earlier_runs_revision_is_refused_even_when_the_numbers_match() {
    let project = sample_project();
    let token_file = project.path().join(".tokens.json");
    let earlier_run = {
        let hub = hub_with(project.path(), |c| c.token_file = Some(token_file.clone())).await;
        let ada = Client::fresh(&hub, &edit_token(&hub)).await;
        ada.welcome.project.id.clone()
    };
    // Another program changes the file while the hub is down.
    std::fs::write(project.path().join("README.md"), "changed while down\n").unwrap();
    let hub = hub_with(project.path(), |c| c.token_file = Some(token_file.clone())).await;
    let mut ada = Client::fresh(&hub, &edit_token(&hub)).await;
    assert_ne!(ada.welcome.project.id, earlier_run);
    assert_eq!(ada.file_rev("README.md"), 0, "the same number as before");
    let edit = |edit_id: &str, base_project: &str| {
        ClientFrame::FileEdit(room_protocol::FileEdit {
            edit_id: edit_id.into(),
            path: "README.md".into(),
            content: "made on the earlier run\n".into(),
            base_rev: 0,
            base_project: Some(base_project.into()),
        })
    };
    ada.send(&edit("e1", &earlier_run)).await;
    match ada.next().await {
        ServerFrame::Error(e) => {
            assert_eq!(e.error, ErrorCode::Conflict);
            assert_eq!(e.edit_id.as_deref(), Some("e1"));
            let current = e.current.unwrap();
            assert_eq!(
                (current.rev, current.content.as_str()),
                (0, "changed while down\n")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(project.path().join("README.md")).unwrap(),
        "changed while down\n"
    );
    let this_run = ada.welcome.project.id.clone();
    ada.send(&edit("e2", &this_run)).await;
    assert!(
        matches!(ada.next().await, ServerFrame::FileChanged(f) if f.edit_id.as_deref() == Some("e2"))
    );
}

#[tokio::test]
async fn an_edit_survives_a_hub_restart() {
    let project = sample_project();
    let token_file = project.path().join(".tokens.json");
    let room_id;
    {
        let hub = hub_with(project.path(), |c| c.token_file = Some(token_file.clone())).await;
        room_id = hub.room.id().to_owned();
        let mut ada = Client::fresh(&hub, &edit_token(&hub)).await;
        ada.edit(
            "e1",
            "src/main.rs",
            "fn main() { println!(\"saved\"); }\n",
            0,
        )
        .await;
        assert!(matches!(ada.next().await, ServerFrame::FileChanged(_)));
    }
    let hub = hub_with(project.path(), |c| c.token_file = Some(token_file.clone())).await;
    assert_eq!(hub.room.id(), room_id, "the token file keeps the room id");
    let mut fresh = Client::fresh(&hub, &edit_token(&hub)).await;
    let paths = fresh.paths();
    assert_eq!(
        fresh.content("src/main.rs").await.as_deref(),
        Some("fn main() { println!(\"saved\"); }\n")
    );
    assert!(
        paths.iter().all(|p| p != ".tokens.json"),
        "dotfiles never enter the room"
    );
}

#[tokio::test]
async fn hostile_paths_are_refused_and_nothing_outside_is_touched() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("victim.txt"), "keep").unwrap();
    let project = sample_project();
    std::os::unix::fs::symlink(outside.path(), project.path().join("escape")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("victim.txt"),
        project.path().join("v.txt"),
    )
    .unwrap();
    let hub = hub_over(project.path()).await;
    let mut ada = Client::fresh(&hub, &edit_token(&hub)).await;
    let outside_abs = format!("{}/victim.txt", outside.path().display());
    let hostile = [
        "../x",
        "../../etc/passwd",
        "/etc/passwd",
        outside_abs.as_str(),
        "a/../../x",
        "a/./b",
        "C:\\x",
        "c:/windows/x",
        "a\\..\\x",
        "a\0b",
        "",
        "a//b",
        ".git/config",
        ".env",
        "target/x",
        "escape/victim.txt",
        "escape/new.txt",
        "v.txt",
    ];
    // 511 folders deep in 1023 bytes (finding 2 of issue 17).
    let deep = format!("{}f", "d/".repeat(511));
    let hostile: Vec<&str> = hostile.iter().copied().chain([deep.as_str()]).collect();
    for (i, path) in hostile.iter().enumerate() {
        ada.edit(&format!("h{i}"), path, "pwned", 0).await;
        match ada.next().await {
            ServerFrame::Error(e) => {
                assert_eq!(e.error, ErrorCode::BadPath, "{path:?}: {e:?}");
                assert_eq!(e.edit_id, Some(format!("h{i}")));
            }
            other => panic!("{path:?} was not refused: {other:?}"),
        }
    }
    assert_eq!(
        std::fs::read_to_string(outside.path().join("victim.txt")).unwrap(),
        "keep"
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
    assert!(!project.path().join(".git").exists());
    assert!(!project.path().join("target").exists());
    assert!(
        !project.path().join("d").exists(),
        "nothing of the deep path was made"
    );
}

#[tokio::test]
async fn content_over_one_mib_is_too_large_and_the_connection_stays() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut ada = Client::fresh(&hub, &edit_token(&hub)).await;
    ada.edit("big", "big.txt", &"x".repeat(MAX_CONTENT_BYTES + 1), 0)
        .await;
    match ada.next().await {
        ServerFrame::Error(e) => {
            assert_eq!(e.error, ErrorCode::TooLarge);
            assert_eq!(e.edit_id.as_deref(), Some("big"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!project.path().join("big.txt").exists());
    // Exactly at the limit is fine, and the connection still works.
    ada.edit("max", "big.txt", &"y".repeat(MAX_CONTENT_BYTES), 0)
        .await;
    assert!(
        matches!(ada.next().await, ServerFrame::FileChanged(f) if f.edit_id.as_deref() == Some("max"))
    );
}
