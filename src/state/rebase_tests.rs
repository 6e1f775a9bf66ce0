//! Drafts moved onto newer versions of their files: merged, moved, or in
//! conflict; one edit per file in flight.

use room_protocol::{ErrorCode, FileVersion, PeerInfo};

use super::tests::{change, joined, refuse, save_and_send};
use super::*;
use crate::merge::Chunk;
use crate::state::PersonAction;
use crate::testing;

const BASE: &str = "one\ntwo\nthree\nfour\nfive\n";

/// Joined with `a.txt` holding [`BASE`] at rev 4, and peer `p9` (Ana).
fn joined_on_base() -> RoomState {
    let mut s = joined();
    s.apply(Action::Entries(vec![change(4, "a.txt", BASE, None)]));
    s.apply(Action::Peers(vec![PeerInfo {
        peer_id: "p9".into(),
        name: "Ana".into(),
        color: "#123456".into(),
        read_only: false,
        person: None,
        open: None,
    }]));
    s
}

fn version(rev: u64, content: &str) -> FileVersion {
    FileVersion {
        rev,
        content: content.into(),
    }
}

fn typed(s: &mut RoomState, content: &str) {
    s.apply(Action::Person(PersonAction::Type {
        path: "a.txt".into(),
        content: content.into(),
    }));
}

#[test]
fn a_new_draft_keeps_the_text_it_started_from() {
    let mut s = joined_on_base();
    typed(&mut s, "ONE\ntwo\nthree\nfour\nfive\n");
    let draft = &s.drafts["a.txt"];
    assert_eq!(draft.base.as_deref(), Some(BASE));
    assert_eq!(draft.base_rev, 4);
    // A file that does not exist yet starts from nothing.
    s.apply(Action::Person(PersonAction::Save {
        path: "new.txt".into(),
        content: "fresh".into(),
    }));
    assert_eq!(s.drafts["new.txt"].base.as_deref(), Some(""));
    assert_eq!(s.drafts["new.txt"].base_rev, 0);
}

#[test]
fn a_refused_edit_of_other_lines_is_merged_and_queued_with_a_notice() {
    let mut s = joined_on_base();
    let theirs = "one\ntwo\nthree\nfour\nFIVE\n";
    s.apply(Action::Entries(vec![change(5, "a.txt", theirs, None)]));
    // Our edit was made on rev 4 and crossed theirs on the way.
    s.drafts.insert(
        "a.txt".into(),
        Draft {
            content: "ONE\ntwo\nthree\nfour\nfive\n".into(),
            base_rev: 4,
            base_project: None,
            base: Some(BASE.into()),
            status: DraftStatus::InFlight {
                edit_id: "e1".into(),
                sent: None,
                saved_since: false,
            },
        },
    );
    s.files.get_mut("a.txt").unwrap().by = Some("p9".into());
    refuse(
        &mut s,
        "e1",
        ErrorCode::Conflict,
        "changed",
        Some(version(5, theirs)),
    );
    let draft = &s.drafts["a.txt"];
    assert_eq!(draft.content, "ONE\ntwo\nthree\nfour\nFIVE\n");
    assert_eq!(draft.status, DraftStatus::Queued, "sent again at once");
    assert_eq!((draft.base_rev, draft.base.as_deref()), (5, Some(theirs)));
    assert_eq!(
        s.notices,
        [Notice::Merged {
            path: "a.txt".into(),
            with: Some("Ana".into())
        }]
    );
}

#[test]
fn overlapping_changes_show_hunks_and_the_settled_text_goes_on_their_revision() {
    let mut s = joined_on_base();
    save_and_send(&mut s, "a.txt", "one\nmine\nthree\nfour\nfive\n", "e1");
    let theirs = "one\ntheirs\nthree\nfour\nfive\n";
    refuse(
        &mut s,
        "e1",
        ErrorCode::Conflict,
        "changed",
        Some(version(6, theirs)),
    );
    let draft = &s.drafts["a.txt"];
    assert_eq!(
        draft.status,
        DraftStatus::Conflict {
            theirs: version(6, theirs)
        }
    );
    assert_eq!(
        draft.conflict_chunks().unwrap(),
        [
            Chunk::Agreed("one\n".into()),
            Chunk::Conflict {
                mine: "mine\n".into(),
                theirs: "theirs\n".into()
            },
            Chunk::Agreed("three\nfour\nfive\n".into()),
        ]
    );
    assert!(s.notices.is_empty());
    s.apply(Action::Person(PersonAction::ResolveWith {
        path: "a.txt".into(),
        content: "one\nboth\nthree\nfour\nfive\n".into(),
    }));
    let draft = &s.drafts["a.txt"];
    assert_eq!(draft.status, DraftStatus::Queued);
    assert_eq!((draft.base_rev, draft.base.as_deref()), (6, Some(theirs)));
    assert_eq!(draft.content, "one\nboth\nthree\nfour\nfive\n");
}

#[test]
fn a_draft_stored_without_a_base_keeps_the_choice_of_sides() {
    let mut s = joined_on_base();
    s.drafts.insert(
        "a.txt".into(),
        Draft {
            content: "ONE\ntwo\nthree\nfour\nfive\n".into(),
            base_rev: 4,
            base_project: None,
            base: None,
            status: DraftStatus::Editing,
        },
    );
    // A newer version arriving leaves it as it was.
    s.apply(Action::Entries(vec![change(
        5,
        "a.txt",
        "one\ntwo\nthree\nfour\nFIVE\n",
        None,
    )]));
    assert_eq!(s.drafts["a.txt"].status, DraftStatus::Editing);
    assert_eq!(s.drafts["a.txt"].base_rev, 4);
    // Its save is refused: the person chooses, with no hunks to pick.
    s.apply(Action::Person(PersonAction::Save {
        path: "a.txt".into(),
        content: "ONE\ntwo\nthree\nfour\nfive\n".into(),
    }));
    s.apply(Action::Sent {
        path: "a.txt".into(),
        edit_id: "e1".into(),
    });
    refuse(
        &mut s,
        "e1",
        ErrorCode::Conflict,
        "changed",
        Some(version(5, "one\ntwo\nthree\nfour\nFIVE\n")),
    );
    assert!(matches!(
        s.drafts["a.txt"].status,
        DraftStatus::Conflict { .. }
    ));
    assert_eq!(
        s.drafts["a.txt"].conflict_chunks().unwrap(),
        [Chunk::Conflict {
            mine: "ONE\ntwo\nthree\nfour\nfive\n".into(),
            theirs: "one\ntwo\nthree\nfour\nFIVE\n".into(),
        }],
        "the whole texts, as one hunk"
    );
    // Settling it with their text takes theirs: nothing is sent.
    s.apply(Action::Person(PersonAction::ResolveWith {
        path: "a.txt".into(),
        content: "one\ntwo\nthree\nfour\nFIVE\n".into(),
    }));
    assert!(s.drafts.is_empty());
    assert_eq!(s.files["a.txt"].rev, 5);
}

#[test]
fn a_newer_version_arriving_under_an_unsaved_draft_is_merged_into_it() {
    let mut s = joined_on_base();
    typed(&mut s, "ONE\ntwo\nthree\nfour\nfive\n");
    s.apply(Action::Entries(vec![change(
        5,
        "a.txt",
        "one\ntwo\nthree\nfour\nFIVE\n",
        None,
    )]));
    let draft = &s.drafts["a.txt"];
    assert_eq!(draft.content, "ONE\ntwo\nthree\nfour\nFIVE\n");
    assert_eq!(
        draft.status,
        DraftStatus::Editing,
        "still the person's to save"
    );
    assert_eq!(draft.base_rev, 5);
    assert_eq!(s.notices.len(), 1);
    // Overlapping: the conflict view, with the newer version.
    typed(&mut s, "ONE\ntwo\nthree\nfour\nmine\n");
    s.apply(Action::Entries(vec![change(
        6,
        "a.txt",
        "one\ntwo\nthree\nfour\ntheirs\n",
        None,
    )]));
    assert!(
        matches!(&s.drafts["a.txt"].status, DraftStatus::Conflict { theirs } if theirs.rev == 6)
    );
}

#[test]
fn a_queued_save_over_a_restarted_hub_with_the_same_text_is_moved_not_conflicted() {
    let mut s = joined_on_base();
    // Saved while the hub was down.
    s.apply(Action::Status(ConnectionStatus::Reconnecting {
        attempt: 1,
        next_retry_at: None,
    }));
    s.apply(Action::Person(PersonAction::Save {
        path: "a.txt".into(),
        content: "one\ntwo\nthree\nfour\nfive\nsix\n".into(),
    }));
    // The hub came back as a new generation: revisions restarted.
    for action in testing::snapshot(
        "g2",
        0,
        &[("a.txt", BASE, 0)],
        Action::TreeWelcome,
        Action::Content,
    ) {
        s.apply(action);
    }
    let draft = &s.drafts["a.txt"];
    assert_eq!(draft.status, DraftStatus::Queued);
    assert_eq!(draft.base_rev, 0, "on the new generation's revision");
    assert!(s.notices.is_empty());
    assert_eq!(s.drafts_to_send(), ["a.txt"]);
}

#[test]
fn an_edit_in_flight_at_a_restart_that_landed_carries_what_was_saved_after_it() {
    let mut s = joined_on_base();
    save_and_send(&mut s, "a.txt", "one\ntwo\nthree\nfour\nfive\nsix\n", "e1");
    // Typed and saved again while the first edit is unanswered: it waits.
    s.apply(Action::Person(PersonAction::Save {
        path: "a.txt".into(),
        content: "one\ntwo\nthree\nfour\nfive\nsix\nseven\n".into(),
    }));
    assert!(matches!(
        &s.drafts["a.txt"].status,
        DraftStatus::InFlight { saved_since: true, sent: Some(sent), .. } if sent.ends_with("six\n")
    ));
    assert!(
        s.drafts_to_send() == ["a.txt"],
        "the in-flight edit is resent after a reconnect"
    );
    // The first edit landed before the hub died; the new generation has it.
    for action in testing::snapshot(
        "g2",
        0,
        &[("a.txt", "one\ntwo\nthree\nfour\nfive\nsix\n", 0)],
        Action::TreeWelcome,
        Action::Content,
    ) {
        s.apply(action);
    }
    let draft = &s.drafts["a.txt"];
    assert_eq!(draft.status, DraftStatus::Queued);
    assert_eq!(
        draft.base.as_deref(),
        Some("one\ntwo\nthree\nfour\nfive\nsix\n")
    );
    assert_eq!(draft.content, "one\ntwo\nthree\nfour\nfive\nsix\nseven\n");
    assert_eq!(draft.base_rev, 0);
    assert!(s.notices.is_empty());
}

#[test]
fn saving_again_while_an_edit_is_in_flight_sends_on_top_of_its_acknowledgement() {
    let mut s = joined_on_base();
    save_and_send(&mut s, "a.txt", "one\ntwo\n", "e1");
    s.apply(Action::Person(PersonAction::Save {
        path: "a.txt".into(),
        content: "one\ntwo\nthree\n".into(),
    }));
    assert!(matches!(
        s.drafts["a.txt"].status,
        DraftStatus::InFlight { .. }
    ));
    s.apply(Action::Entries(vec![change(
        5,
        "a.txt",
        "one\ntwo\n",
        Some("e1"),
    )]));
    let draft = &s.drafts["a.txt"];
    assert_eq!(draft.status, DraftStatus::Queued);
    assert_eq!(
        (draft.base_rev, draft.base.as_deref()),
        (5, Some("one\ntwo\n"))
    );
    assert_eq!(draft.content, "one\ntwo\nthree\n");
    assert!(s.notices.is_empty());
}

#[test]
fn typing_after_sending_without_saving_stays_unsaved_on_the_acknowledged_text() {
    let mut s = joined_on_base();
    save_and_send(&mut s, "a.txt", "one\n", "e1");
    typed(&mut s, "one\nand more\n");
    s.apply(Action::Entries(vec![change(
        5,
        "a.txt",
        "one\n",
        Some("e1"),
    )]));
    let draft = &s.drafts["a.txt"];
    assert_eq!(draft.status, DraftStatus::Editing);
    assert_eq!(draft.base.as_deref(), Some("one\n"));
    assert!(!draft.wants_sending());
}

#[test]
fn a_draft_stored_by_an_earlier_build_reads_back_without_a_base() {
    let draft: Draft = serde_json::from_value(serde_json::json!({
        "content": "unsaved", "baseRev": 2, "status": {"state": "queued"}
    }))
    .unwrap();
    assert_eq!(draft.base, None);
    assert_eq!(draft.status, DraftStatus::Queued);
    // And one with a base writes it.
    let stored = serde_json::to_value(Draft {
        base: Some("b".into()),
        ..draft
    })
    .unwrap();
    assert_eq!(stored["base"], "b");
}

#[test]
fn an_edit_in_flight_at_a_restart_that_did_not_land_is_queued_on_the_new_revision() {
    let mut s = joined_on_base();
    save_and_send(&mut s, "a.txt", "one\ntwo\nthree\nfour\nfive\nsix\n", "e1");
    // The hub died before writing it: the new generation has the base.
    // The page sends the edit again when synced, before the content it
    // asks for comes: the content leaves the edit waiting for its answer.
    for action in testing::snapshot(
        "g2",
        0,
        &[("a.txt", BASE, 0)],
        Action::TreeWelcome,
        Action::Content,
    ) {
        s.apply(action);
    }
    assert!(matches!(
        &s.drafts["a.txt"].status,
        DraftStatus::InFlight { edit_id, .. } if edit_id == "e1"
    ));
    // Its answer: refused, made on a revision of the old generation.
    refuse(
        &mut s,
        "e1",
        ErrorCode::Conflict,
        "changed",
        Some(version(0, BASE)),
    );
    let draft = &s.drafts["a.txt"];
    assert_eq!(
        draft.status,
        DraftStatus::Queued,
        "sent anew, not on the dead revision"
    );
    assert_eq!(draft.base_rev, 0);
    assert!(s.notices.is_empty());
}

#[test]
fn typing_after_a_save_that_waits_behind_an_edit_in_flight_makes_the_draft_unsaved_again() {
    let mut s = joined_on_base();
    save_and_send(&mut s, "a.txt", "one\n", "e1");
    s.apply(Action::Person(PersonAction::Save {
        path: "a.txt".into(),
        content: "one\ntwo\n".into(),
    }));
    typed(&mut s, "one\ntwo\nthree\n");
    s.apply(Action::Entries(vec![change(
        5,
        "a.txt",
        "one\n",
        Some("e1"),
    )]));
    let draft = &s.drafts["a.txt"];
    assert_eq!(
        draft.status,
        DraftStatus::Editing,
        "nothing the person did not save is sent"
    );
    assert_eq!(draft.content, "one\ntwo\nthree\n");
    assert!(s.drafts_to_send().is_empty());
}
