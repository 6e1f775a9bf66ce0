//! Builders shared by the unit tests (`#[cfg(test)] mod testing` in
//! `lib.rs`) and the browser test crates (`tests/common` includes this file
//! by path). It names only `room_protocol` types, which both can reach, so
//! the same file compiles in either place.

use room_protocol::{FileSnapshot, ProjectVersion, SyncMode, Tree, TreeEntry, TreeNote, Welcome};

/// The hub's `welcome` for project `generation` at `rev` (also the head),
/// as peer `p1`. A snapshot carries `files` as (path, content, rev); a
/// replay carries none.
pub fn welcome(generation: &str, rev: u64, mode: SyncMode, files: &[(&str, &str, u64)]) -> Welcome {
    Welcome {
        room_id: "r".into(),
        project: ProjectVersion {
            id: generation.into(),
            rev,
        },
        head: rev,
        read_only: false,
        peer_id: "p1".into(),
        peers: vec![],
        mode,
        files: (mode == SyncMode::Snapshot).then(|| {
            files
                .iter()
                .map(|(path, content, rev)| FileSnapshot {
                    path: (*path).into(),
                    content: (*content).into(),
                    rev: *rev,
                })
                .collect()
        }),
        left_out: None,
        tree: None,
        read_only_token: None,
    }
}

/// The hub's snapshot `welcome` for project `generation` at `rev`, and the
/// tree that follows it: the whole tree, or (with `since`) what changed
/// after that rev. Files as (path, rev, size), deleted paths as given.
pub fn tree_welcome(
    generation: &str,
    rev: u64,
    since: Option<u64>,
    files: &[(&str, u64, u64)],
    deleted: &[&str],
) -> (Welcome, Tree) {
    let mut welcome = welcome(generation, rev, SyncMode::Snapshot, &[]);
    welcome.files = None;
    welcome.tree = Some(TreeNote {
        since,
        files: files.len() as u64,
        deleted: deleted.len() as u64,
        bytes: 0,
    });
    let tree = Tree {
        files: files
            .iter()
            .map(|&(path, rev, size)| TreeEntry {
                path: path.into(),
                rev,
                size,
            })
            .collect(),
        deleted: deleted.iter().map(|&path| path.to_owned()).collect(),
    };
    (welcome, tree)
}
