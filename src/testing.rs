//! Builders shared by the unit tests (`#[cfg(test)] mod testing` in
//! `lib.rs`) and the browser test crates (`tests/common` includes this file
//! by path). It names only `room_protocol` types, which both can reach, so
//! the same file compiles in either place.

use room_protocol::{FileContent, ProjectVersion, SyncMode, Tree, TreeEntry, Welcome};

/// The hub's `welcome` for project `generation` at `rev` (also the head),
/// as peer `p1`. A snapshot's tree is not in it: see [`tree_welcome`] and
/// [`snapshot`].
pub fn welcome(generation: &str, rev: u64, mode: SyncMode) -> Welcome {
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
        left_out: None,
        read_only_token: None,
        host: false,
        edit_token: None,
    }
}

/// A snapshot of `files` (path, content, rev) as a page takes it in: the
/// snapshot `welcome` with its tree, then each file's content as its
/// `file-content` answer brings it; as the caller's actions (`welcomed`:
/// the state's tree welcome, `answered`: its content action).
pub fn snapshot<A>(
    generation: &str,
    rev: u64,
    files: &[(&str, &str, u64)],
    welcomed: impl Fn(Welcome, Tree) -> A,
    answered: impl Fn(FileContent) -> A,
) -> Vec<A> {
    let listed: Vec<(&str, u64, u64)> = files
        .iter()
        .map(|&(path, content, rev)| (path, rev, content.len() as u64))
        .collect();
    let (welcome, tree) = tree_welcome(generation, rev, None, &listed, &[]);
    let contents = files.iter().map(|&(path, content, rev)| {
        answered(FileContent {
            path: path.into(),
            rev,
            content: Some(content.into()),
        })
    });
    std::iter::once(welcomed(welcome, tree))
        .chain(contents)
        .collect()
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
    let welcome = welcome(generation, rev, SyncMode::Snapshot);
    let tree = Tree {
        since,
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
