//! The reducer, one behaviour per test.

use crate::state::PersonAction;
use room_protocol::{
    ErrorCode, ErrorFrame, FileChanged, FileVersion, LogEntry, PeerProfile, ProjectVersion,
    RuntimeEvent, SyncMode, MAX_CONTENT_BYTES,
};
use serde_json::json;

use super::*;
use crate::testing::{self, welcome};

pub(super) fn event(rev: u64) -> LogEntry {
    LogEntry::RuntimeEvent(RuntimeEvent {
        rev,
        ts: 1000 + rev,
        kind: "pulse".into(),
        data: json!({ "n": rev }),
    })
}

pub(super) fn change(rev: u64, path: &str, content: &str, edit_id: Option<&str>) -> LogEntry {
    LogEntry::FileChanged(FileChanged {
        rev,
        path: path.into(),
        content: content.into(),
        by: Some("p9".into()),
        edit_id: edit_id.map(Into::into),
        deleted: false,
    })
}

/// A state that joined generation `g1` with one file and three events.
pub(super) fn joined() -> RoomState {
    let mut s = RoomState::default();
    for action in testing::snapshot(
        "g1",
        0,
        &[("a.txt", "hi", 0)],
        Action::TreeWelcome,
        Action::Content,
    ) {
        s.apply(action);
    }
    s.apply(Action::Entries(vec![event(1), event(2), event(3)]));
    s.apply(Action::Synced { head: 3 });
    s
}

/// Saves `content` to `path` and marks it sent as `edit_id`, as the session
/// does while live.
pub(super) fn save_and_send(s: &mut RoomState, path: &str, content: &str, edit_id: &str) {
    s.apply(Action::Person(PersonAction::Save {
        path: path.into(),
        content: content.into(),
    }));
    s.apply(Action::Sent {
        path: path.into(),
        edit_id: edit_id.into(),
    });
}

/// The hub refuses the edit `edit_id` with `code`.
pub(super) fn refuse(
    s: &mut RoomState,
    edit_id: &str,
    code: ErrorCode,
    message: &str,
    current: Option<FileVersion>,
) {
    let mut error = ErrorFrame::new(code, message);
    error.edit_id = Some(edit_id.into());
    error.current = current;
    s.apply(Action::HubError(error));
}

fn event_revs(s: &RoomState) -> Vec<u64> {
    s.events.iter().map(|e| e.rev).collect()
}

#[test]
fn a_snapshot_fills_files_and_synced_connects() {
    let s = joined();
    assert_eq!(s.status, ConnectionStatus::Connected);
    assert_eq!(s.status, ConnectionStatus::Connected);
    assert_eq!(s.files["a.txt"].content.as_deref().unwrap(), "hi");
    assert_eq!(event_revs(&s), [1, 2, 3]);
    assert_eq!(s.last_seen_rev, 3);
    assert_eq!(s.last_event_ts, Some(1003));
    assert_eq!(
        s.project,
        Some(ProjectVersion {
            id: "g1".into(),
            rev: 0
        })
    );
}

#[test]
fn replayed_entries_are_applied_and_duplicates_ignored() {
    let mut s = joined();
    s.apply(Action::Status(ConnectionStatus::Reconnecting {
        attempt: 1,
        next_retry_at: None,
    }));
    assert_ne!(s.status, ConnectionStatus::Connected);
    s.apply(Action::Welcome(welcome("g1", 0, SyncMode::Replay)));
    // The hub replays 2..=5; 2 and 3 were already seen.
    s.apply(Action::Entries(vec![
        event(2),
        event(3),
        event(4),
        event(5),
    ]));
    s.apply(Action::Synced { head: 5 });
    assert_eq!(event_revs(&s), [1, 2, 3, 4, 5]);
    assert_eq!(
        s.files["a.txt"].content.as_deref().unwrap(),
        "hi",
        "a replay keeps the files"
    );
    assert_eq!(s.last_seen_rev, 5);
}

#[test]
fn a_new_generation_evicts_files_and_history_but_keeps_drafts_and_profile() {
    let mut s = joined();
    s.apply(Action::Person(PersonAction::SetProfile(PeerProfile {
        name: "Ada".into(),
        color: "#112233".into(),
    })));
    s.apply(Action::Person(PersonAction::Type {
        path: "a.txt".into(),
        content: "mine".into(),
    }));
    for action in testing::snapshot(
        "g2",
        0,
        &[("b.txt", "new", 0)],
        Action::TreeWelcome,
        Action::Content,
    ) {
        s.apply(action);
    }
    s.apply(Action::Entries(vec![event(1)]));
    assert_eq!(s.files.keys().collect::<Vec<_>>(), ["b.txt"]);
    assert_eq!(
        event_revs(&s),
        [1],
        "rev 1 of the new generation is not a duplicate"
    );
    assert_eq!(s.profile.name, "Ada");
    assert_eq!(s.drafts["a.txt"].content, "mine");
}

#[test]
fn a_changed_project_rev_is_evicted_like_a_new_generation() {
    let mut s = joined();
    for action in testing::snapshot(
        "g1",
        7,
        &[("a.txt", "v7", 7)],
        Action::TreeWelcome,
        Action::Content,
    ) {
        s.apply(action);
    }
    assert!(s.events.is_empty());
    assert_eq!(s.files["a.txt"].rev, 7);
    assert_eq!(s.last_seen_rev, 0);
}

#[test]
fn history_keeps_the_newest_thousand_events() {
    let mut s = RoomState::default();
    for action in testing::snapshot("g", 0, &[], Action::TreeWelcome, Action::Content) {
        s.apply(action);
    }
    s.apply(Action::Entries((1..=1500).map(event).collect()));
    assert_eq!(s.events.len(), 1000);
    assert_eq!(s.events.front().unwrap().rev, 501);
    assert_eq!(s.events.back().unwrap().rev, 1500);
}

#[test]
fn file_changes_update_files_and_project_rev_and_deletions_remove() {
    let mut s = joined();
    s.apply(Action::Entries(vec![change(4, "b.txt", "bee", None)]));
    assert_eq!(s.files["b.txt"].rev, 4);
    assert_eq!(s.project.as_ref().unwrap().rev, 4);
    s.apply(Action::Entries(vec![LogEntry::FileChanged(FileChanged {
        rev: 5,
        path: "b.txt".into(),
        content: String::new(),
        by: None,
        edit_id: None,
        deleted: true,
    })]));
    assert!(!s.files.contains_key("b.txt"));
    assert_eq!(s.project.as_ref().unwrap().rev, 5);
}

#[test]
fn a_saved_draft_is_acknowledged_by_its_edit_id() {
    let mut s = joined();
    s.apply(Action::Person(PersonAction::Save {
        path: "a.txt".into(),
        content: "hello".into(),
    }));
    assert_eq!(s.drafts["a.txt"].status, DraftStatus::Queued);
    assert_eq!(s.drafts["a.txt"].base_rev, 0);
    assert_eq!(s.drafts_to_send(), ["a.txt"]);
    s.apply(Action::Sent {
        path: "a.txt".into(),
        edit_id: "e1".into(),
    });
    // Someone else's change with another id is not our ack.
    s.apply(Action::Entries(vec![change(
        4,
        "a.txt",
        "theirs",
        Some("other"),
    )]));
    assert!(s.drafts.contains_key("a.txt"));
    s.apply(Action::Entries(vec![change(
        5,
        "a.txt",
        "hello",
        Some("e1"),
    )]));
    assert!(s.drafts.is_empty());
    assert_eq!(s.files["a.txt"].content.as_deref().unwrap(), "hello");
}

#[test]
fn typing_after_sending_keeps_the_newer_text_on_the_acknowledged_base() {
    let mut s = joined();
    save_and_send(&mut s, "a.txt", "v1", "e1");
    s.apply(Action::Person(PersonAction::Type {
        path: "a.txt".into(),
        content: "v1 and more".into(),
    }));
    s.apply(Action::Entries(vec![change(4, "a.txt", "v1", Some("e1"))]));
    let draft = &s.drafts["a.txt"];
    assert_eq!(draft.content, "v1 and more");
    assert_eq!(draft.base_rev, 4);
    assert_eq!(draft.status, DraftStatus::Editing);
}

#[test]
fn typing_back_to_the_hub_text_leaves_no_draft() {
    let mut s = joined();
    s.apply(Action::Person(PersonAction::Type {
        path: "a.txt".into(),
        content: "hix".into(),
    }));
    assert!(s.drafts.contains_key("a.txt"));
    s.apply(Action::Person(PersonAction::Type {
        path: "a.txt".into(),
        content: "hi".into(),
    }));
    assert!(s.drafts.is_empty());
}

#[test]
fn read_only_keeps_the_draft_and_raises_a_notice() {
    let mut s = joined();
    save_and_send(&mut s, "a.txt", "nope", "e1");
    refuse(&mut s, "e1", ErrorCode::ReadOnly, "view-only", None);
    assert_eq!(s.drafts["a.txt"].status, DraftStatus::ReadOnly);
    assert_eq!(s.drafts["a.txt"].content, "nope");
    assert_eq!(
        s.notices,
        [Notice::ReadOnly {
            path: "a.txt".into()
        }]
    );
    assert!(
        s.drafts_to_send().is_empty(),
        "a refused draft is not resent by itself"
    );
}

#[test]
fn a_conflict_keeps_both_versions_and_resolves_either_way() {
    let mut s = joined();
    for keep_mine in [true, false] {
        save_and_send(&mut s, "a.txt", "mine", "e1");
        refuse(
            &mut s,
            "e1",
            ErrorCode::Conflict,
            "changed",
            Some(FileVersion {
                rev: 9,
                content: "theirs".into(),
            }),
        );
        let theirs = FileVersion {
            rev: 9,
            content: "theirs".into(),
        };
        assert_eq!(s.drafts["a.txt"].status, DraftStatus::Conflict { theirs });
        assert_eq!(s.drafts["a.txt"].content, "mine");
        s.apply(Action::Person(PersonAction::ResolveConflict {
            path: "a.txt".into(),
            keep_mine,
        }));
        if keep_mine {
            let draft = &s.drafts["a.txt"];
            assert_eq!(
                (draft.status.clone(), draft.base_rev),
                (DraftStatus::Queued, 9)
            );
            s.apply(Action::Person(PersonAction::Discard {
                path: "a.txt".into(),
            }));
        } else {
            assert!(s.drafts.is_empty());
            assert_eq!(s.files["a.txt"].content.as_deref().unwrap(), "theirs");
            assert_eq!(s.files["a.txt"].rev, 9);
        }
    }
}

#[test]
fn a_conflict_with_our_own_text_is_an_acknowledgement() {
    let mut s = joined();
    save_and_send(&mut s, "a.txt", "same", "e1");
    refuse(
        &mut s,
        "e1",
        ErrorCode::Conflict,
        "changed",
        Some(FileVersion {
            rev: 4,
            content: "same".into(),
        }),
    );
    assert!(s.drafts.is_empty());
}

#[test]
fn an_in_flight_draft_already_in_a_snapshot_is_settled() {
    let mut s = joined();
    save_and_send(&mut s, "a.txt", "landed", "e1");
    save_and_send(&mut s, "b.txt", "did not", "e2");
    for action in testing::snapshot(
        "g1",
        4,
        &[("a.txt", "landed", 4)],
        Action::TreeWelcome,
        Action::Content,
    ) {
        s.apply(action);
    }
    assert!(!s.drafts.contains_key("a.txt"));
    assert!(s.drafts["b.txt"].wants_sending());
}

#[test]
fn oversize_content_is_kept_locally_with_a_notice() {
    let mut s = joined();
    let big = "x".repeat(MAX_CONTENT_BYTES + 1);
    s.apply(Action::Person(PersonAction::Save {
        path: "a.txt".into(),
        content: big.clone(),
    }));
    assert_eq!(s.drafts["a.txt"].status, DraftStatus::TooLarge);
    assert_eq!(s.drafts["a.txt"].content, big);
    assert!(s.drafts_to_send().is_empty());
    assert_eq!(
        s.notices,
        [Notice::TooLarge {
            path: "a.txt".into(),
            bytes: MAX_CONTENT_BYTES + 1
        }]
    );
}

#[test]
fn errors_for_unknown_edits_and_notices_are_handled() {
    let mut s = joined();
    refuse(&mut s, "unknown", ErrorCode::BadPath, "no", None);
    assert!(s.notices.is_empty());
    s.apply(Action::Notify(Notice::StorageFallback {
        reason: "quota".into(),
    }));
    s.apply(Action::Person(PersonAction::DismissNotice(5)));
    assert_eq!(s.notices.len(), 1);
    s.apply(Action::Person(PersonAction::DismissNotice(0)));
    assert!(s.notices.is_empty());
}

#[test]
fn other_refusals_keep_the_draft_with_the_hubs_reason() {
    let mut s = joined();
    save_and_send(&mut s, "../x", "x", "e1");
    refuse(
        &mut s,
        "e1",
        ErrorCode::BadPath,
        "the path must be relative",
        None,
    );
    assert!(matches!(
        &s.drafts["../x"].status,
        DraftStatus::Refused {
            code: ErrorCode::BadPath,
            ..
        }
    ));
    assert!(
        matches!(&s.notices[0], Notice::EditRefused { message, .. } if message.contains("relative"))
    );
}

#[test]
fn every_draft_status_reads_back_as_stored() {
    for status in [
        DraftStatus::Editing,
        DraftStatus::Queued,
        DraftStatus::InFlight {
            edit_id: "e1".into(),
            sent: None,
            saved_since: false,
        },
        DraftStatus::InFlight {
            edit_id: "e2".into(),
            sent: Some("sent".into()),
            saved_since: true,
        },
        DraftStatus::ReadOnly,
        DraftStatus::Conflict {
            theirs: FileVersion {
                rev: 4,
                content: "theirs".into(),
            },
        },
        DraftStatus::TooLarge,
        DraftStatus::Refused {
            code: ErrorCode::BadPath,
            message: "no".into(),
        },
    ] {
        let stored = serde_json::to_value(&status).unwrap();
        let read: DraftStatus = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(read, status, "{stored}");
    }
    // The stored shape, which earlier builds wrote too.
    assert_eq!(
        serde_json::to_value(DraftStatus::InFlight {
            edit_id: "e1".into(),
            sent: None,
            saved_since: false,
        })
        .unwrap(),
        json!({"state": "in-flight", "editId": "e1"})
    );
}

#[test]
fn an_unreadable_draft_status_keeps_the_text_as_editing() {
    for stored in [
        json!({"state": "from-a-newer-build"}),
        json!({"state": "in-flight"}),
        json!({"state": "conflict", "theirs": null}),
    ] {
        let draft: Draft = serde_json::from_value(json!({
            "content": "unsaved", "baseRev": 2, "status": stored
        }))
        .unwrap();
        assert_eq!(draft.status, DraftStatus::Editing);
        assert_eq!(draft.content, "unsaved");
    }
}

#[test]
fn the_page_lists_every_file_and_every_draft_once_in_path_order() {
    let mut s = RoomState::default();
    for action in testing::snapshot(
        "g1",
        0,
        &[("b.txt", "b", 0), ("d.txt", "d", 0), ("f.txt", "f", 0)],
        Action::TreeWelcome,
        Action::Content,
    ) {
        s.apply(action);
    }
    for path in ["a.txt", "d.txt", "e.txt", "g.txt"] {
        s.apply(Action::Person(PersonAction::Type {
            path: path.into(),
            content: "typed".into(),
        }));
    }
    let listed = ["a.txt", "b.txt", "d.txt", "e.txt", "f.txt", "g.txt"];
    assert_eq!(s.path_list(), listed);
    assert_eq!(s.paths(), listed, "owned, the same");
    assert!(RoomState::default().paths().is_empty());
}

#[test]
fn the_left_out_count_comes_with_the_welcome_and_follows_the_hub() {
    let mut s = RoomState::default();
    let notice = |files| room_protocol::LeftOut {
        files,
        limit: 200_000,
    };
    let mut w = welcome("g", 0, SyncMode::Snapshot);
    w.left_out = Some(notice(7));
    s.apply(Action::Welcome(w));
    assert_eq!(s.left_out, Some(notice(7)));
    s.apply(Action::LeftOut(notice(9)));
    assert_eq!(s.left_out, Some(notice(9)));
    s.apply(Action::LeftOut(notice(0)));
    assert_eq!(s.left_out, None, "none left out any more");
    s.apply(Action::LeftOut(notice(3)));
    s.apply(Action::Welcome(welcome("g", 0, SyncMode::Replay)));
    assert_eq!(s.left_out, None, "a welcome without the field means none");
}

#[test]
fn the_host_page_shares_the_edit_link_never_its_own_and_follows_replaced_links() {
    let token = |t: &str| Some(room_protocol::Token::new(t.to_owned()));
    let shared = |s: &RoomState| s.token_to_share().map(|t| t.expose().to_owned());
    let mut s = RoomState {
        token: token("HOST"),
        ..RoomState::default()
    };
    assert_eq!(
        shared(&s),
        None,
        "not before the hub says which link this is"
    );
    let mut w = welcome("g", 0, SyncMode::Snapshot);
    w.host = true;
    w.edit_token = Some("EDIT".into());
    w.read_only_token = Some("VIEW".into());
    s.apply(Action::Welcome(w));
    assert!(s.host);
    assert_eq!(shared(&s).as_deref(), Some("EDIT"));
    s.apply(Action::Links(room_protocol::Links {
        edit_token: Some("EDIT2".into()),
        read_only_token: None,
    }));
    assert_eq!(shared(&s).as_deref(), Some("EDIT2"));
    assert_eq!(s.read_only_token, None, "the view link is off");

    // An editor's page shares its own link, and follows the view link.
    let mut s = RoomState {
        token: token("EDIT"),
        ..RoomState::default()
    };
    let mut w = welcome("g", 0, SyncMode::Snapshot);
    w.read_only_token = Some("VIEW".into());
    s.apply(Action::Welcome(w));
    assert!(!s.host);
    assert_eq!(shared(&s).as_deref(), Some("EDIT"));
    s.apply(Action::Links(room_protocol::Links {
        edit_token: None,
        read_only_token: Some("VIEW2".into()),
    }));
    assert_eq!(
        s.read_only_token.as_ref().map(|t| t.expose()),
        Some("VIEW2")
    );
    assert_eq!(shared(&s).as_deref(), Some("EDIT"));
}
