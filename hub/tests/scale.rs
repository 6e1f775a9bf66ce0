//! A folder at the scale of a real repository: the default file limit
//! holds 200,000 files, counts the rest, and says so; the walk of it and
//! the whole tree stay within their bounds.

mod common;

use std::time::Instant;

use common::*;
use room_hub::DEFAULT_FILE_LIMIT;

/// Writes `count` small files in nested folders (100 per folder, folders
/// two levels deep), plus an ignored folder of the same shape beside them.
fn generate(root: &std::path::Path, count: usize) {
    std::fs::write(root.join(".gitignore"), "build/\n").unwrap();
    for i in 0..count {
        let folder = root.join(format!("src/m{:03}/p{:03}", i / 10_000, (i / 100) % 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&folder).unwrap();
        }
        std::fs::write(folder.join(format!("f{i}.rs")), format!("// {i}\n")).unwrap();
    }
    std::fs::create_dir_all(root.join("build/out")).unwrap();
    for i in 0..1000 {
        std::fs::write(root.join(format!("build/out/o{i}.js")), "ignored").unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_limit_holds_200000_files_and_counts_the_rest() {
    let project = tempfile::tempdir().unwrap();
    let over = 7;
    generate(project.path(), DEFAULT_FILE_LIMIT + over);
    let started = Instant::now();
    let hub = hub_with(project.path(), |config| config.watch = false).await;
    let opened = started.elapsed();
    let hello = hello_as("tester");
    let started = Instant::now();
    let c = Client::join(&hub, &edit_token(&hub), hello).await;
    let joined = started.elapsed();
    let left_out = c
        .welcome
        .left_out
        .expect("the welcome says files are left out");
    assert_eq!(
        (left_out.files, left_out.limit),
        (over as u64, DEFAULT_FILE_LIMIT as u64)
    );
    let (tree, wire) = c.tree.unwrap();
    assert_eq!(tree.files.len(), DEFAULT_FILE_LIMIT);
    assert!(tree.files.iter().all(|f| f.path.starts_with("src/")));
    // Reported, not asserted: speed is the scale benchmark's to judge.
    eprintln!(
        "{} files: hub open (walk, hash) {opened:?}, tree-first join {joined:?}, tree {wire} B",
        DEFAULT_FILE_LIMIT + over
    );
}
