//! The tree first: files listed without contents, contents as they come,
//! never a stale one, and drafts that wait for their file's content.

use room_protocol::FileContent;

use super::tests::change;
use super::*;
use crate::testing;

/// The hub's snapshot welcome and its tree, as one action.
fn tree_welcome(
    generation: &str,
    rev: u64,
    since: Option<u64>,
    files: &[(&str, u64, u64)],
    deleted: &[&str],
) -> Action {
    let (welcome, tree) = testing::tree_welcome(generation, rev, since, files, deleted);
    Action::TreeWelcome(welcome, tree)
}

fn content(path: &str, rev: u64, text: Option<&str>) -> Action {
    Action::Content(FileContent {
        path: path.into(),
        rev,
        content: text.map(Into::into),
    })
}

/// Each file as (path, rev, size, content).
fn table(s: &RoomState) -> Vec<(&str, u64, u64, Option<&str>)> {
    s.files
        .iter()
        .map(|(p, f)| (p.as_str(), f.rev, f.size, f.content.as_deref()))
        .collect()
}

#[test]
fn a_tree_lists_files_without_contents_and_contents_arrive_as_answered() {
    let mut s = RoomState::default();
    s.apply(tree_welcome(
        "g1",
        0,
        None,
        &[("a.txt", 0, 2), ("b/c.rs", 0, 5)],
        &[],
    ));
    assert_eq!(table(&s), [("a.txt", 0, 2, None), ("b/c.rs", 0, 5, None)]);
    s.apply(content("a.txt", 0, Some("hi")));
    // Answers that carry nothing to keep change nothing.
    s.apply(content("b/c.rs", 0, None));
    s.apply(content("nowhere.txt", 0, Some("x")));
    assert_eq!(
        table(&s),
        [("a.txt", 0, 2, Some("hi")), ("b/c.rs", 0, 5, None)]
    );
}

#[test]
fn an_answer_older_than_the_files_revision_is_stale_and_dropped() {
    let mut s = RoomState::default();
    s.apply(tree_welcome("g1", 0, None, &[("a.txt", 0, 3)], &[]));
    // The file changed while its content was on its way.
    s.apply(Action::Entries(vec![change(1, "a.txt", "new", None)]));
    s.apply(content("a.txt", 0, Some("old")));
    assert_eq!(table(&s), [("a.txt", 1, 3, Some("new"))]);
    // Nor does an answer replace a content the page has.
    s.apply(content("a.txt", 1, Some("other")));
    assert_eq!(s.files["a.txt"].content.as_deref(), Some("new"));
}

#[test]
fn a_whole_tree_keeps_contents_only_at_the_same_revision_of_the_same_generation() {
    let mut s = RoomState::default();
    s.apply(tree_welcome(
        "g1",
        3,
        None,
        &[("a", 0, 1), ("b", 0, 1)],
        &[],
    ));
    s.apply(content("a", 0, Some("x")));
    s.apply(content("b", 0, Some("y")));
    s.apply(tree_welcome(
        "g1",
        3,
        None,
        &[("a", 0, 1), ("b", 3, 2)],
        &[],
    ));
    assert_eq!(table(&s), [("a", 0, 1, Some("x")), ("b", 3, 2, None)]);
    // Another generation's revisions mean nothing here.
    s.apply(tree_welcome("g2", 0, None, &[("a", 0, 1)], &[]));
    assert_eq!(table(&s), [("a", 0, 1, None)]);
}

#[test]
fn a_delta_changes_what_it_lists_and_keeps_the_rest() {
    let mut s = RoomState::default();
    s.apply(tree_welcome(
        "g1",
        2,
        None,
        &[("a", 0, 1), ("b", 1, 1), ("c", 2, 1)],
        &[],
    ));
    for (path, rev) in [("a", 0), ("b", 1), ("c", 2)] {
        s.apply(content(path, rev, Some(path)));
    }
    s.apply(tree_welcome(
        "g1",
        5,
        Some(2),
        &[("b", 4, 7), ("d", 5, 1)],
        &["c"],
    ));
    assert_eq!(
        table(&s),
        [("a", 0, 1, Some("a")), ("b", 4, 7, None), ("d", 5, 1, None)]
    );
    assert_eq!(s.project.as_ref().map(|p| p.rev), Some(5));
}

#[test]
fn a_draft_waits_for_its_files_content_then_merges_onto_it() {
    let mut s = RoomState::default();
    for action in testing::snapshot(
        "g1",
        0,
        &[("a.txt", "one\ntwo\nthree\n", 0)],
        Action::TreeWelcome,
        Action::Content,
    ) {
        s.apply(action);
    }
    s.apply(Action::Person(PersonAction::Type {
        path: "a.txt".into(),
        content: "ONE\ntwo\nthree\n".into(),
    }));
    // Someone changed another line while this page was away; the delta
    // says so, without the content.
    s.apply(tree_welcome("g1", 4, Some(0), &[("a.txt", 4, 14)], &[]));
    let draft = &s.drafts["a.txt"];
    assert_eq!(
        (draft.base_rev, draft.content.as_str()),
        (0, "ONE\ntwo\nthree\n")
    );
    s.apply(content("a.txt", 4, Some("one\ntwo\nTHREE\n")));
    let draft = &s.drafts["a.txt"];
    assert_eq!(
        (draft.base_rev, draft.content.as_str()),
        (4, "ONE\ntwo\nTHREE\n")
    );
    assert!(s
        .notices
        .iter()
        .any(|n| matches!(n, Notice::Merged { path, .. } if path == "a.txt")));
}

#[test]
fn typing_into_a_file_not_fetched_keeps_no_base_to_merge_against() {
    let mut s = RoomState::default();
    s.apply(tree_welcome("g1", 0, None, &[("a.txt", 0, 3)], &[]));
    s.apply(Action::Person(PersonAction::Type {
        path: "a.txt".into(),
        content: "typed".into(),
    }));
    // Not an empty base, which a merge would take as "the file was empty".
    assert_eq!(s.drafts["a.txt"].base, None);
    assert_eq!(s.drafts["a.txt"].base_rev, 0);
}
