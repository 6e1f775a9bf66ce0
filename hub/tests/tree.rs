//! The tree first, contents on demand: a joining client gets the
//! project's tree (no contents) in one compressed frame after the welcome, a delta when it comes back, and contents by `file-request`,
//! read from disk under a byte-bounded cache and never stale.

mod common;

use std::io::Write as _;

use common::*;
use room_protocol::{
    ClientFrame, ErrorCode, FileRequest, Hello, ServerFrame, TreeEntry, MAX_REQUEST_BYTES,
    MAX_REQUEST_PATHS,
};

fn hello_after(welcome: Option<&room_protocol::Welcome>) -> Hello {
    let mut hello = hello_as("tester");
    if let Some(welcome) = welcome {
        hello.project_id = Some(welcome.project.id.clone());
        hello.project_rev = Some(welcome.project.rev);
        hello.last_seen_rev = Some(welcome.head);
    }
    hello
}

fn entry(path: &str, rev: u64, size: u64) -> TreeEntry {
    TreeEntry {
        path: path.into(),
        rev,
        size,
    }
}

fn gzip_best(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap().len()
}

#[tokio::test]
async fn a_tree_first_join_gets_paths_revisions_and_sizes_without_contents() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let c = Client::join(&hub, &edit_token(&hub), hello_after(None)).await;
    let (tree, _) = c.tree.expect("the tree frame");
    assert_eq!(tree.since, None, "the whole tree");
    assert_eq!(
        tree.files,
        [entry("README.md", 0, 9), entry("src/main.rs", 0, 13)]
    );
    assert!(tree.deleted.is_empty());
}

#[tokio::test]
async fn a_large_trees_bytes_on_the_wire_are_within_a_fifth_of_gzip_best() {
    let project = tempfile::tempdir().unwrap();
    for i in 0..3000 {
        let file = project
            .path()
            .join(format!("crates/part{}/src/module_{i}.rs", i % 40));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, format!("pub fn f{i}() {{}}\n")).unwrap();
    }
    let hub = hub_over(project.path()).await;
    let c = Client::join(&hub, &edit_token(&hub), hello_after(None)).await;
    let (tree, wire) = c.tree.unwrap();
    assert_eq!(tree.files.len(), 3000);
    let json = serde_json::to_vec(&tree).unwrap();
    let best = gzip_best(&json);
    let ratio = wire as f64 / best as f64;
    eprintln!(
        "tree of 3000 files: JSON {} B, wire {wire} B, gzip -9 {best} B, ratio {ratio:.3}",
        json.len()
    );
    assert!(
        ratio <= 1.2,
        "{wire} B on the wire against {best} B gzip -9"
    );
}

#[tokio::test]
async fn contents_come_on_request_in_order_within_the_byte_bound() {
    let project = sample_project();
    // Five files of 900 kB: four fit in one answer's bound, with the rest.
    let big = "x".repeat(900_000);
    for i in 0..5 {
        std::fs::write(project.path().join(format!("big{i}.txt")), &big).unwrap();
    }
    assert!(4 * big.len() < MAX_REQUEST_BYTES && 5 * big.len() > MAX_REQUEST_BYTES);
    let hub = hub_over(project.path()).await;
    let mut c = Client::join(&hub, &edit_token(&hub), hello_after(None)).await;
    let asked = [
        "README.md",
        "no/such.txt",
        "../etc/passwd",
        "big0.txt",
        "big1.txt",
        "big2.txt",
        "big3.txt",
        "big4.txt",
    ];
    let answers = c.request(&asked).await;
    let shape: Vec<(&str, u64, Option<usize>)> = answers
        .iter()
        .map(|a| (a.path.as_str(), a.rev, a.content.as_ref().map(String::len)))
        .collect();
    let big = Some(big.len());
    assert_eq!(
        shape,
        [
            ("README.md", 0, Some(9)),
            ("no/such.txt", 0, None),
            ("../etc/passwd", 0, None),
            ("big0.txt", 0, big),
            ("big1.txt", 0, big),
            ("big2.txt", 0, big),
            ("big3.txt", 0, big),
            // Past the bound: asked for again, it comes.
            ("big4.txt", 0, None),
        ]
    );
    assert_eq!(answers[0].content.as_deref(), Some("# Sample\n"));
    let again = c.request(&["big4.txt"]).await;
    assert_eq!(again[0].content.as_ref().map(String::len), big);

    // Too many paths at once is a bad frame, and the connection stays.
    let many: Vec<String> = (0..=MAX_REQUEST_PATHS).map(|i| format!("f{i}")).collect();
    c.send(&ClientFrame::FileRequest(FileRequest { paths: many }))
        .await;
    match c.next().await {
        ServerFrame::Error(e) => assert_eq!(e.error, ErrorCode::BadFrame),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(c.request(&["README.md"]).await[0].rev, 0);
}

#[tokio::test]
async fn a_file_changed_behind_the_rooms_back_is_never_served_stale() {
    let project = sample_project();
    // No watcher, and a cache too small to hold anything: every content
    // comes from disk and is checked against the room's hash.
    let hub = hub_with(project.path(), |config| {
        config.watch = false;
        config.content_cache_bytes = 4;
    })
    .await;
    let mut c = Client::join(&hub, &edit_token(&hub), hello_after(None)).await;
    std::fs::write(project.path().join("README.md"), "# Changed on disk\n").unwrap();
    c.send(&ClientFrame::FileRequest(FileRequest {
        paths: vec!["README.md".into()],
    }))
    .await;
    // The room catches up first (everyone hears of it), then answers at
    // the new revision.
    match c.next().await {
        ServerFrame::FileChanged(change) => {
            assert_eq!(change.path, "README.md");
            assert_eq!(change.content, "# Changed on disk\n");
            assert_eq!(change.by, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    match c.next().await {
        ServerFrame::FileContent(answer) => {
            assert_eq!(answer.rev, 1);
            assert_eq!(answer.content.as_deref(), Some("# Changed on disk\n"));
        }
        other => panic!("unexpected {other:?}"),
    }
    // A file removed behind the room's back is announced as deleted.
    std::fs::remove_file(project.path().join("src/main.rs")).unwrap();
    let answers = c.request(&["src/main.rs"]).await;
    assert_eq!((answers[0].rev, answers[0].content.as_deref()), (0, None));
    let (version, _) = hub.room.version().await;
    assert_eq!(version.rev, 2, "the deletion is rev 2");
}

#[tokio::test]
async fn contents_past_the_cache_bound_are_read_from_disk_each_time() {
    let project = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..50).map(|i| format!("f{i:02}.txt")).collect();
    for (i, name) in names.iter().enumerate() {
        std::fs::write(project.path().join(name), format!("{i}").repeat(1000)).unwrap();
    }
    // Room for three contents of 1000 bytes.
    let hub = hub_with(project.path(), |config| {
        config.content_cache_bytes = 3000;
    })
    .await;
    let mut c = Client::join(&hub, &edit_token(&hub), hello_after(None)).await;
    for _ in 0..2 {
        let paths: Vec<&str> = names.iter().map(String::as_str).collect();
        let answers = c.request(&paths).await;
        for (i, answer) in answers.iter().enumerate() {
            assert_eq!(
                answer.content.as_deref(),
                Some(&*format!("{i}").repeat(1000))
            );
        }
    }
}

#[tokio::test]
async fn coming_back_after_changes_gets_only_what_changed_since() {
    let project = sample_project();
    std::fs::write(project.path().join("keep.txt"), "unchanged").unwrap();
    let hub = hub_with(project.path(), |config| config.watch = false).await;
    let token = edit_token(&hub);
    let first = Client::join(&hub, &token, hello_after(None)).await;
    drop(first.socket);
    let mut editor = Client::join(&hub, &token, hello_after(None)).await;
    editor.edit("e1", "README.md", "# New\n", 0).await;
    editor.edit("e2", "added.txt", "new file", 0).await;
    for _ in 0..2 {
        assert!(matches!(editor.next().await, ServerFrame::FileChanged(_)));
    }
    std::fs::remove_file(project.path().join("src/main.rs")).unwrap();
    hub.room.rescan().await;

    // Files changed since this client's project rev: a snapshot, whose
    // tree is only what changed.
    let back = Client::join(&hub, &token, hello_after(Some(&first.welcome))).await;
    assert_eq!(back.welcome.mode, room_protocol::SyncMode::Snapshot);
    let (delta, _) = back.tree.unwrap();
    assert_eq!(delta.since, Some(0));
    assert_eq!(
        delta.files,
        [entry("README.md", 1, 6), entry("added.txt", 2, 8)]
    );
    assert_eq!(delta.deleted, ["src/main.rs"]);

    // Another generation's client gets the whole tree.
    let mut stranger = hello_after(Some(&first.welcome));
    stranger.project_id = Some("another-generation".into());
    let whole = Client::join(&hub, &token, stranger).await;
    assert_eq!(whole.tree.as_ref().unwrap().0.since, None);
    let paths: Vec<String> = whole
        .tree
        .unwrap()
        .0
        .files
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(paths, ["README.md", "added.txt", "keep.txt"]);
}
