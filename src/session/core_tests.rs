//! The session state machine driven by hand with a fake clock.

use crate::intent::Intent;
use room_protocol::{decode_client_frame, ClientFrame};

use super::*;
use crate::state::DraftStatus;

const WELCOME_G1: &str = r#"{"type":"welcome","roomId":"r","project":{"id":"g1","rev":0},"head":2,
    "readOnly":false,"peerId":"p1","peers":[],"mode":"snapshot"}"#;

fn event(rev: u64) -> String {
    format!(r#"{{"type":"runtime-event","rev":{rev},"ts":{rev},"kind":"k","data":null}}"#)
}

fn synced(head: u64) -> String {
    format!(r#"{{"type":"synced","head":{head}}}"#)
}

fn sent(commands: &[Command]) -> Vec<ClientFrame> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Send(text) => Some(decode_client_frame(text).unwrap()),
            _ => None,
        })
        .collect()
}

/// A core that connected at t=0 and is live at t=100 with events 1 and 2.
fn live() -> SessionCore {
    let mut core = SessionCore::new(SessionOptions::default(), RoomState::default(), 42);
    core.handle(Input::Start, 0.0);
    core.handle(Input::Opened, 50.0);
    core.handle(Input::Text(WELCOME_G1.into()), 60.0);
    core.handle(Input::Tree(Ok(tree(&[("a.txt", 2)]))), 60.0);
    core.handle(Input::Text(event(1)), 61.0);
    core.handle(Input::Text(event(2)), 62.0);
    core.handle(Input::Text(synced(2)), 100.0);
    // The background fetch asked for a.txt when synced.
    core.handle(answer("a.txt", "hi"), 100.0);
    assert_eq!(core.state().status, ConnectionStatus::Connected);
    assert_eq!(core.state().files["a.txt"].content.as_deref(), Some("hi"));
    core
}

fn status(core: &SessionCore) -> ConnectionStatus {
    core.state().status.clone()
}

#[test]
fn first_hello_has_no_cache_and_a_reconnect_hello_has_the_last_seen_rev() {
    let mut core = SessionCore::new(SessionOptions::default(), RoomState::default(), 1);
    assert_eq!(core.handle(Input::Start, 0.0), [Command::Connect]);
    assert_eq!(status(&core), ConnectionStatus::Connecting);
    match &sent(&core.handle(Input::Opened, 5.0))[0] {
        ClientFrame::Hello(hello) => {
            assert_eq!(
                (
                    hello.last_seen_rev,
                    hello.project_id.as_deref(),
                    hello.project_rev
                ),
                (None, None, None)
            );
        }
        other => panic!("{other:?}"),
    }

    let mut core = live();
    core.handle(Input::Closed { code: 1006 }, 1000.0);
    core.handle(Input::Tick, 1500.0);
    match &sent(&core.handle(Input::Opened, 1600.0))[0] {
        ClientFrame::Hello(hello) => {
            assert_eq!(hello.last_seen_rev, Some(2));
            assert_eq!(hello.project_id.as_deref(), Some("g1"));
            assert_eq!(hello.project_rev, Some(0));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_drop_reconnects_on_the_schedule_and_synced_resets_it() {
    let mut core = live();
    assert!(core.handle(Input::Closed { code: 1006 }, 1000.0).is_empty());
    assert_eq!(
        status(&core),
        ConnectionStatus::Reconnecting {
            attempt: 1,
            next_retry_at: Some(1500.0)
        }
    );
    assert_eq!(core.next_deadline(), Some(1500.0));
    assert!(
        core.handle(Input::Tick, 1499.0).is_empty(),
        "not before its time"
    );
    assert_eq!(core.handle(Input::Tick, 1500.0), [Command::Connect]);
    assert_eq!(
        status(&core),
        ConnectionStatus::Reconnecting {
            attempt: 1,
            next_retry_at: None
        }
    );
    // That attempt fails too: the next waits 1 s.
    core.handle(Input::Closed { code: 1006 }, 1510.0);
    assert_eq!(
        status(&core),
        ConnectionStatus::Reconnecting {
            attempt: 2,
            next_retry_at: Some(2510.0)
        }
    );
    core.handle(Input::Tick, 2510.0);
    core.handle(Input::Opened, 2520.0);
    core.handle(Input::Text(r#"{"type":"welcome","roomId":"r","project":{"id":"g1","rev":0},"head":3,"readOnly":false,"peerId":"p2","peers":[],"mode":"replay"}"#.into()), 2530.0);
    core.handle(Input::Text(event(3)), 2531.0);
    core.handle(Input::Text(synced(3)), 2532.0);
    assert_eq!(status(&core), ConnectionStatus::Connected);
    let revs: Vec<u64> = core.state().events.iter().map(|e| e.rev).collect();
    assert_eq!(revs, [1, 2, 3]);
    // Reset: the next drop starts again at 0.5 s.
    core.handle(Input::Closed { code: 1001 }, 9000.0);
    assert_eq!(
        status(&core),
        ConnectionStatus::Reconnecting {
            attempt: 1,
            next_retry_at: Some(9500.0)
        }
    );
}

#[test]
fn terminal_close_codes_stop_after_one_attempt() {
    for (code, want) in [
        (4401, ConnectionStatus::Unauthorized),
        (4410, ConnectionStatus::LinkReplaced),
        (4404, ConnectionStatus::RoomGone),
        (4400, ConnectionStatus::ProtocolError),
        (1009, ConnectionStatus::ProtocolError),
    ] {
        let mut core = SessionCore::new(SessionOptions::default(), RoomState::default(), 1);
        core.handle(Input::Start, 0.0);
        core.handle(Input::Opened, 1.0);
        core.handle(Input::Closed { code }, 2.0);
        assert_eq!(status(&core), want);
        assert_eq!(core.next_deadline(), None);
        for t in [1000.0, 10_000.0, 200_000.0] {
            assert!(!core.handle(Input::Tick, t).contains(&Command::Connect));
        }
        assert!(core.handle(Input::Online, 3.0).is_empty());
        assert!(core.handle(Input::Retry, 4.0).is_empty());
        assert_eq!(core.attempts(), 1);
    }
}

#[test]
fn a_replaced_link_stops_the_page_for_good_and_keeps_its_drafts() {
    let mut core = live();
    core.handle(
        Input::from(Intent::Type {
            path: "a.txt".into(),
            content: "unsaved".into(),
        }),
        200.0,
    );
    core.handle(Input::Closed { code: 4410 }, 300.0);
    assert_eq!(status(&core), ConnectionStatus::LinkReplaced);
    assert!(status(&core).is_terminal() && status(&core).token_refused());
    assert_eq!(core.next_deadline(), None);
    // Nothing brings the old link back: not time, the network, the
    // person, nor a trip through the back-forward cache.
    for input in [
        Input::Tick,
        Input::Online,
        Input::Visible,
        Input::Retry,
        Input::PageHidden,
        Input::PageShown,
    ] {
        assert!(core.handle(input, 600_000.0).is_empty());
    }
    assert_eq!(core.attempts(), 1);
    assert_eq!(core.state().drafts["a.txt"].content, "unsaved");
}

#[test]
fn silence_for_the_dead_window_disconnects_and_reconnects() {
    let mut core = live();
    // Pings go out every 10 s while frames keep arriving.
    let out = core.handle(Input::Tick, 10_100.0);
    assert!(matches!(sent(&out)[..], [ClientFrame::Ping(_)]));
    core.handle(Input::Text(r#"{"type":"pong","t":10100}"#.into()), 10_105.0);
    // Then the network silently disappears: no frame after 10 105.
    let out = core.handle(Input::Tick, 20_105.0);
    assert!(
        matches!(sent(&out)[..], [ClientFrame::Ping(_)]),
        "still only pinging"
    );
    assert_eq!(status(&core), ConnectionStatus::Connected);
    assert_eq!(core.next_deadline(), Some(30_105.0));
    let out = core.handle(Input::Tick, 30_105.0);
    assert!(out.contains(&Command::Disconnect));
    assert_eq!(
        status(&core),
        ConnectionStatus::Reconnecting {
            attempt: 1,
            next_retry_at: Some(30_605.0)
        }
    );
    // A late close from the dead socket changes nothing.
    assert!(core
        .handle(Input::Closed { code: 1006 }, 30_200.0)
        .is_empty());
    assert_eq!(core.next_deadline(), Some(30_605.0));
}

#[test]
fn an_attempt_that_hangs_is_failed_by_the_dead_window() {
    let mut core = live();
    core.handle(Input::Closed { code: 1006 }, 1000.0);
    core.handle(Input::Tick, 1500.0);
    // The socket never opens (blackholed): 20 s later the attempt fails.
    assert_eq!(core.next_deadline(), Some(21_500.0));
    let out = core.handle(Input::Tick, 21_500.0);
    assert!(out.contains(&Command::Disconnect));
    assert_eq!(
        status(&core),
        ConnectionStatus::Reconnecting {
            attempt: 2,
            next_retry_at: Some(22_500.0)
        }
    );
}

#[test]
fn it_gives_up_after_two_minutes_and_retry_or_online_rearm() {
    let mut core = live();
    let mut now = 1000.0;
    core.handle(Input::Closed { code: 1006 }, now);
    let mut attempts = 0;
    while let Some(at) = core.next_deadline() {
        now = at;
        if core.handle(Input::Tick, now).contains(&Command::Connect) {
            attempts += 1;
            // Refused at once.
            core.handle(Input::Closed { code: 1006 }, now);
        }
    }
    assert_eq!(status(&core), ConnectionStatus::Lost);
    // 18 on the schedule, the last at 119.5 s, and one as the window
    // closes; its failure gives up exactly 2 minutes after the drop.
    assert_eq!(attempts, 19);
    assert_eq!(now - 1000.0, 120_000.0);
    // Visible does not rearm a lost session; Retry does.
    assert!(core.handle(Input::Visible, now + 1.0).is_empty());
    assert_eq!(core.handle(Input::Retry, now + 2.0), [Command::Connect]);
    core.handle(Input::Closed { code: 1006 }, now + 3.0);
    assert_eq!(
        status(&core),
        ConnectionStatus::Reconnecting {
            attempt: 1,
            next_retry_at: Some(now + 503.0)
        }
    );

    // And Online does too, after another give-up.
    let mut core = live();
    core.handle(Input::Closed { code: 1006 }, 0.0);
    while let Some(at) = core.next_deadline() {
        if core.handle(Input::Tick, at).contains(&Command::Connect) {
            core.handle(Input::Closed { code: 1006 }, at);
        }
    }
    assert_eq!(status(&core), ConnectionStatus::Lost);
    assert_eq!(core.handle(Input::Online, 500_000.0), [Command::Connect]);
}

#[test]
fn a_link_that_fell_silent_gives_up_two_minutes_after_its_last_frame() {
    let mut core = live();
    // The last frame at 10 s; then silence (pings go unanswered) until the
    // dead-connection timer notices, 20 s later.
    core.handle(Input::Text(event(3)), 10_000.0);
    let mut now = 10_000.0;
    while core.state().status == ConnectionStatus::Connected {
        now = core.next_deadline().unwrap();
        core.handle(Input::Tick, now);
    }
    assert_eq!(now, 10_000.0 + SessionOptions::default().dead_after_ms);
    assert!(matches!(
        status(&core),
        ConnectionStatus::Reconnecting { attempt: 1, .. }
    ));
    while let Some(at) = core.next_deadline() {
        now = at;
        if core.handle(Input::Tick, now).contains(&Command::Connect) {
            core.handle(Input::Closed { code: 1006 }, now);
        }
    }
    assert_eq!(status(&core), ConnectionStatus::Lost);
    assert_eq!(now, 10_000.0 + 120_000.0);
}

#[test]
fn online_and_visible_skip_the_wait() {
    for input in [Input::Online, Input::Visible, Input::Retry] {
        let mut core = live();
        core.handle(Input::Closed { code: 1006 }, 1000.0);
        core.handle(Input::Tick, 1500.0);
        core.handle(Input::Closed { code: 1006 }, 1600.0);
        core.handle(Input::Tick, 2600.0);
        core.handle(Input::Closed { code: 1006 }, 2700.0);
        assert_eq!(core.next_deadline(), Some(4700.0));
        assert_eq!(
            core.handle(input, 2800.0),
            [Command::Connect],
            "no waiting for 4700"
        );
    }
    // While connected they do nothing.
    let mut core = live();
    assert!(core.handle(Input::Online, 200.0).is_empty());
    assert!(core.handle(Input::Visible, 200.0).is_empty());
}

#[test]
fn an_edit_made_while_disconnected_is_sent_after_synced() {
    let mut core = live();
    core.handle(Input::Closed { code: 1006 }, 1000.0);
    let out = core.handle(
        Input::from(Intent::Save {
            path: "a.txt".into(),
            content: "offline edit".into(),
        }),
        1100.0,
    );
    assert!(sent(&out).is_empty(), "nothing is sent while disconnected");
    assert_eq!(core.state().drafts["a.txt"].status, DraftStatus::Queued);
    core.handle(Input::Tick, 1500.0);
    let hello = core.handle(Input::Opened, 1510.0);
    assert_eq!(sent(&hello).len(), 1, "only hello before synced");
    core.handle(Input::Text(r#"{"type":"welcome","roomId":"r","project":{"id":"g1","rev":0},"head":2,"readOnly":false,"peerId":"p2","peers":[],"mode":"replay"}"#.into()), 1520.0);
    let out = core.handle(Input::Text(synced(2)), 1530.0);
    let edit_id = match &sent(&out)[..] {
        [ClientFrame::FileEdit(edit)] => {
            assert_eq!(
                (edit.path.as_str(), edit.content.as_str(), edit.base_rev),
                ("a.txt", "offline edit", 0)
            );
            edit.edit_id.clone()
        }
        other => panic!("{other:?}"),
    };
    // The acknowledgement clears the draft.
    core.handle(
        Input::Text(format!(r#"{{"type":"file-changed","rev":3,"path":"a.txt","content":"offline edit","by":"p2","editId":"{edit_id}"}}"#)),
        1600.0,
    );
    assert!(core.state().drafts.is_empty());
}

#[test]
fn an_unacknowledged_edit_is_resent_with_the_same_id_after_a_drop() {
    let mut core = live();
    let out = core.handle(
        Input::from(Intent::Save {
            path: "a.txt".into(),
            content: "x".into(),
        }),
        200.0,
    );
    let [ClientFrame::FileEdit(first)] = &sent(&out)[..] else {
        panic!()
    };
    core.handle(Input::Closed { code: 1006 }, 300.0);
    core.handle(Input::Tick, 800.0);
    core.handle(Input::Opened, 810.0);
    core.handle(Input::Text(r#"{"type":"welcome","roomId":"r","project":{"id":"g1","rev":0},"head":2,"readOnly":false,"peerId":"p2","peers":[],"mode":"replay"}"#.into()), 820.0);
    let out = core.handle(Input::Text(synced(2)), 830.0);
    let [ClientFrame::FileEdit(again)] = &sent(&out)[..] else {
        panic!()
    };
    assert_eq!(again.edit_id, first.edit_id);
}

#[test]
fn edit_ids_are_unique_and_carry_the_seed() {
    let mut core = live();
    let a = sent(&core.handle(
        Input::from(Intent::Save {
            path: "a.txt".into(),
            content: "1".into(),
        }),
        200.0,
    ));
    let b = sent(&core.handle(
        Input::from(Intent::Save {
            path: "b.txt".into(),
            content: "2".into(),
        }),
        201.0,
    ));
    let (ClientFrame::FileEdit(a), ClientFrame::FileEdit(b)) = (&a[0], &b[0]) else {
        panic!()
    };
    assert_ne!(a.edit_id, b.edit_id);
    assert!(a.edit_id.starts_with("2a-"), "{}", a.edit_id);
}

#[test]
fn malformed_and_unknown_frames_are_logged_without_content_and_skipped() {
    let mut core = live();
    let secret = "SECRET-TOKEN-abcdefghijklmnop";
    let out = core.handle(
        Input::Text(format!(
            r#"{{"type":"welcome","readOnlyToken":"{secret}"}}"#
        )),
        200.0,
    );
    let [Command::Log(line)] = &out[..] else {
        panic!("{out:?}")
    };
    assert!(!line.contains(secret), "{line}");
    let out = core.handle(Input::Text(r#"{"type":"cursor","x":1}"#.into()), 201.0);
    assert!(matches!(&out[..], [Command::Log(l)] if l.contains("cursor")));
    let out = core.handle(Input::Text("\u{0}garbage".into()), 202.0);
    assert!(matches!(&out[..], [Command::Log(_)]));
    assert_eq!(status(&core), ConnectionStatus::Connected);
    assert_eq!(core.state().events.len(), 2);
}

#[test]
fn profile_changes_are_sent_while_live_and_ride_in_the_next_hello() {
    let mut core = live();
    let profile = room_protocol::PeerProfile {
        name: "Ada".into(),
        color: "#112233".into(),
    };
    let out = core.handle(Input::from(Intent::SetProfile(profile.clone())), 200.0);
    assert_eq!(sent(&out), [ClientFrame::PeerUpdate(profile.clone())]);
    core.handle(Input::Closed { code: 1006 }, 300.0);
    core.handle(Input::Tick, 800.0);
    let out = core.handle(Input::Opened, 810.0);
    let [ClientFrame::Hello(hello)] = &sent(&out)[..] else {
        panic!()
    };
    assert_eq!(hello.peer, profile);
}

#[test]
fn no_token_means_needs_token_and_nothing_else() {
    let mut core = SessionCore::new(SessionOptions::default(), RoomState::default(), 1);
    assert!(core.handle(Input::NoToken, 0.0).is_empty());
    assert_eq!(status(&core), ConnectionStatus::NeedsToken);
    assert_eq!(core.next_deadline(), None);
}

#[test]
fn state_snapshots_are_shared_until_the_next_change() {
    let mut core = live();
    assert!(core.take_changed());
    assert!(!core.take_changed());
    let a = core.state();
    let b = core.state();
    assert!(Rc::ptr_eq(&a, &b));
    core.handle(Input::Text(event(3)), 300.0);
    assert!(core.take_changed());
    assert_eq!(a.events.len(), 2, "a published snapshot never changes");
    assert_eq!(core.state().events.len(), 3);
}

#[test]
fn the_shell_waits_for_an_open_only_while_the_core_does() {
    let mut core = SessionCore::new(SessionOptions::default(), RoomState::default(), 1);
    assert!(!core.awaiting_open());
    core.handle(Input::Start, 0.0);
    assert!(core.awaiting_open());
    core.handle(Input::Opened, 10.0);
    assert!(!core.awaiting_open());
    // A failed attempt waits for the retry, not for an open.
    core.handle(Input::Closed { code: 1006 }, 20.0);
    assert!(!core.awaiting_open());
    core.handle(Input::Retry, 21.0);
    assert!(core.awaiting_open());
}

fn save(core: &mut SessionCore, content: &str, at: f64) -> Vec<Command> {
    core.handle(
        Input::from(Intent::Save {
            path: "a.txt".into(),
            content: content.into(),
        }),
        at,
    )
}

fn only_edit(out: &[Command]) -> room_protocol::FileEdit {
    match &sent(out)[..] {
        [ClientFrame::FileEdit(edit)] => edit.clone(),
        other => panic!("expected one edit, got {other:?}"),
    }
}

#[test]
fn a_refused_edit_that_merges_cleanly_is_sent_again_at_once_on_the_hubs_revision() {
    let mut core = live();
    core.handle(
        Input::Text(
            r#"{"type":"file-changed","rev":3,"path":"a.txt","content":"a\nb\nc\nd\n","by":"p2"}"#
                .into(),
        ),
        150.0,
    );
    let first = only_edit(&save(&mut core, "A\nb\nc\nd\n", 200.0));
    assert_eq!(first.base_rev, 3);
    let refusal = format!(
        r#"{{"type":"error","error":"conflict","message":"changed","editId":"{}","current":{{"rev":4,"content":"a\nb\nc\nD\n"}}}}"#,
        first.edit_id
    );
    let again = only_edit(&core.handle(Input::Text(refusal), 250.0));
    assert_eq!(
        (again.content.as_str(), again.base_rev),
        ("A\nb\nc\nD\n", 4)
    );
    assert_ne!(again.edit_id, first.edit_id);
}

#[test]
fn a_save_while_an_edit_is_in_flight_goes_after_its_acknowledgement() {
    let mut core = live();
    let first = only_edit(&save(&mut core, "v1", 200.0));
    assert!(
        sent(&save(&mut core, "v2", 210.0)).is_empty(),
        "one edit per file in flight"
    );
    let ack = format!(
        r#"{{"type":"file-changed","rev":3,"path":"a.txt","content":"v1","by":"p1","editId":"{}"}}"#,
        first.edit_id
    );
    let second = only_edit(&core.handle(Input::Text(ack), 250.0));
    assert_eq!((second.content.as_str(), second.base_rev), ("v2", 3));
}

#[test]
fn a_resent_edit_carries_the_text_that_was_saved_not_what_was_typed_since() {
    let mut core = live();
    let first = only_edit(&save(&mut core, "saved", 200.0));
    core.handle(
        Input::from(Intent::Type {
            path: "a.txt".into(),
            content: "saved and typed".into(),
        }),
        210.0,
    );
    core.handle(Input::Closed { code: 1006 }, 300.0);
    core.handle(Input::Tick, 800.0);
    core.handle(Input::Opened, 810.0);
    core.handle(Input::Text(r#"{"type":"welcome","roomId":"r","project":{"id":"g1","rev":0},"head":2,"readOnly":false,"peerId":"p2","peers":[],"mode":"replay"}"#.into()), 820.0);
    let again = only_edit(&core.handle(Input::Text(synced(2)), 830.0));
    assert_eq!(
        (again.edit_id, again.content),
        (first.edit_id, "saved".to_owned())
    );
    assert_eq!(core.state().drafts["a.txt"].content, "saved and typed");
}

fn open(core: &mut SessionCore, path: Option<&str>, at: f64) -> Vec<Command> {
    core.handle(
        Input::from(Intent::Open {
            path: path.map(Into::into),
        }),
        at,
    )
}

fn presences(out: &[Command]) -> Vec<Option<String>> {
    sent(out)
        .into_iter()
        .filter_map(|f| match f {
            ClientFrame::Presence(p) => Some(p.open),
            _ => None,
        })
        .collect()
}

#[test]
fn the_open_file_is_sent_at_most_every_quarter_second_and_the_last_one_wins() {
    // live() said hello (which told the hub) at t=50.
    let mut core = live();
    assert!(presences(&open(&mut core, Some("a.txt"), 200.0)).is_empty());
    assert_eq!(core.next_deadline(), Some(50.0 + PRESENCE_EVERY_MS));
    assert_eq!(
        presences(&core.handle(Input::Tick, 300.0)),
        [Some("a.txt".into())]
    );
    // Clicking through files: nothing until the window passes.
    assert!(presences(&open(&mut core, Some("b.txt"), 350.0)).is_empty());
    assert!(presences(&open(&mut core, Some("c.txt"), 400.0)).is_empty());
    assert!(presences(&core.handle(Input::Tick, 540.0)).is_empty());
    assert_eq!(
        presences(&core.handle(Input::Tick, 550.0)),
        [Some("c.txt".into())]
    );
    // A file opened after a quiet while goes at once.
    assert_eq!(
        presences(&open(&mut core, Some("d.txt"), 900.0)),
        [Some("d.txt".into())]
    );
    // Back to what the hub already has: nothing to send.
    open(&mut core, Some("e.txt"), 950.0);
    open(&mut core, Some("d.txt"), 960.0);
    assert!(presences(&core.handle(Input::Tick, 1200.0)).is_empty());
}

#[test]
fn hello_carries_the_person_and_the_open_file_after_a_reconnect() {
    let mut core = SessionCore::new(
        SessionOptions::default(),
        RoomState {
            person: Some("browser-1".into()),
            ..RoomState::default()
        },
        7,
    );
    core.handle(Input::Start, 0.0);
    open(&mut core, Some("a.txt"), 10.0);
    let hello = match &sent(&core.handle(Input::Opened, 20.0))[..] {
        [ClientFrame::Hello(hello)] => hello.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(hello.person.as_deref(), Some("browser-1"));
    assert_eq!(hello.open.as_deref(), Some("a.txt"));
    core.handle(Input::Text(WELCOME_G1.into()), 30.0);
    core.handle(Input::Tree(Ok(tree(&[("a.txt", 2)]))), 30.0);
    // The hub knows already: synced sends no presence.
    assert!(presences(&core.handle(Input::Text(synced(2)), 40.0)).is_empty());
}

fn hello_of(out: &[Command]) -> room_protocol::Hello {
    match &sent(out)[..] {
        [ClientFrame::Hello(hello)] => hello.clone(),
        other => panic!("expected one hello, got {other:?}"),
    }
}

#[test]
fn every_hello_of_the_tab_carries_its_client_id() {
    let mut core = SessionCore::new(SessionOptions::default(), RoomState::default(), 7)
        .with_client_id(Some("tab-1".into()));
    core.handle(Input::Start, 0.0);
    assert_eq!(
        hello_of(&core.handle(Input::Opened, 5.0))
            .client_id
            .as_deref(),
        Some("tab-1")
    );
    core.handle(Input::Closed { code: 1006 }, 1000.0);
    core.handle(Input::Tick, 1500.0);
    assert_eq!(
        hello_of(&core.handle(Input::Opened, 1600.0))
            .client_id
            .as_deref(),
        Some("tab-1"),
        "a reconnect of the same tab is recognised by the hub"
    );
}

#[test]
fn replaced_by_another_tab_with_the_same_id_it_takes_a_new_one_and_reconnects() {
    let mut core = live().with_client_id(Some("copied".into()));
    let out = core.handle(
        Input::Closed {
            code: room_protocol::CLOSE_REPLACED,
        },
        1000.0,
    );
    let kept: Vec<&String> = out
        .iter()
        .filter_map(|c| match c {
            Command::KeepClientId(id) => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(kept.len(), 1, "{out:?}");
    let new_id = kept[0].clone();
    assert_ne!(new_id, "copied");
    assert!(room_protocol::is_valid_id(&new_id), "{new_id}");
    assert_eq!(core.client_id(), Some(new_id.as_str()));
    // It retries like after any drop, not as a terminal close.
    assert!(matches!(
        status(&core),
        ConnectionStatus::Reconnecting { .. }
    ));
    assert_eq!(core.handle(Input::Tick, 1500.0), [Command::Connect]);
    assert_eq!(
        hello_of(&core.handle(Input::Opened, 1600.0)).client_id,
        Some(new_id)
    );
}

#[test]
fn a_retry_is_the_sessions_and_every_other_intent_is_the_persons() {
    assert_eq!(Input::from(Intent::Retry), Input::Retry);
    assert_eq!(
        Input::from(Intent::Save {
            path: "a.txt".into(),
            content: "x".into(),
        }),
        Input::Person(PersonAction::Save {
            path: "a.txt".into(),
            content: "x".into(),
        })
    );
    assert_eq!(
        Input::from(Intent::DismissNotice(2)),
        Input::Person(PersonAction::DismissNotice(2))
    );
}

#[test]
fn any_cache_failure_shows_the_storage_notice_saying_why_and_the_room_goes_on() {
    for error in [
        CacheError::QuotaExceeded,
        CacheError::CommitRefused,
        CacheError::Blocked,
        CacheError::Unavailable("no IndexedDB here".into()),
    ] {
        let mut core = live();
        let out = core.handle(Input::CacheFailed(error.clone()), 200.0);
        // Nothing to do with the connection: it stays live.
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(core.state().status, ConnectionStatus::Connected);
        assert_eq!(
            core.state().notices,
            [Notice::StorageFallback {
                reason: error.to_string()
            }]
        );
    }
}

#[test]
fn an_event_reads_the_same_live_and_from_the_cache() {
    // The hub relays what the host posted, `68.0` included; the cache (a
    // JavaScript object store) gives back `68`.
    let live_data =
        r#"{"n":68.0,"half":0.5,"big":1e300,"list":[1.0,-2.0],"deep":{"x":3.0},"s":"4.0"}"#;
    let cached_data = r#"{"n":68,"half":0.5,"big":1e300,"list":[1,-2],"deep":{"x":3},"s":"4.0"}"#;
    let mut core = live();
    let frame =
        format!(r#"{{"type":"runtime-event","rev":3,"ts":3,"kind":"pulse","data":{live_data}}}"#);
    core.handle(Input::Text(frame), 200.0);
    let shown_live = core.state().events.back().unwrap().data.to_string();

    let cached = crate::cache::CachedRoom {
        meta: Some(crate::cache::CacheMeta {
            project: core.state().project.clone().unwrap(),
            last_seen_rev: 3,
            last_event_ts: Some(3),
        }),
        events: vec![room_protocol::RuntimeEvent {
            rev: 3,
            ts: 3,
            kind: "pulse".into(),
            data: serde_json::from_str(cached_data).unwrap(),
        }],
        ..Default::default()
    };
    let shown_cached = RoomState::from_cache(cached, None).events[0]
        .data
        .to_string();
    assert_eq!(shown_live, shown_cached);
    assert_eq!(
        shown_live,
        r#"{"big":1e+300,"deep":{"x":3},"half":0.5,"list":[1,-2],"n":68,"s":"4.0"}"#
    );
}

const TREE_WELCOME: &str = r#"{"type":"welcome","roomId":"r","project":{"id":"g1","rev":0},"head":0,
    "readOnly":false,"peerId":"p1","peers":[],"mode":"snapshot"}"#;

fn tree(files: &[(&str, u64)]) -> Tree {
    let files: Vec<(&str, u64, u64)> = files.iter().map(|&(p, size)| (p, 0, size)).collect();
    crate::testing::tree_welcome("g1", 0, None, &files, &[]).1
}

fn requested(commands: &[Command]) -> Vec<Vec<String>> {
    sent(commands)
        .into_iter()
        .filter_map(|frame| match frame {
            ClientFrame::FileRequest(request) => Some(request.paths),
            _ => None,
        })
        .collect()
}

/// A core joined over a tree of `a.txt` (2 bytes) and `b.txt` (3 bytes),
/// with the commands `synced` gave.
fn joined_over_a_tree(options: SessionOptions) -> (SessionCore, Vec<Command>) {
    let mut core = SessionCore::new(options, RoomState::default(), 7);
    core.handle(Input::Start, 0.0);
    core.handle(Input::Opened, 5.0);
    assert!(core
        .handle(Input::Text(TREE_WELCOME.into()), 10.0)
        .is_empty());
    assert!(
        core.state().files.is_empty(),
        "the welcome waits for its tree"
    );
    core.handle(Input::Tree(Ok(tree(&[("a.txt", 2), ("b.txt", 3)]))), 11.0);
    assert_eq!(core.state().files.len(), 2);
    let commands = core.handle(Input::Text(synced(0)), 12.0);
    (core, commands)
}

fn answer(path: &str, content: &str) -> Input {
    Input::Text(format!(
        r#"{{"type":"file-content","path":"{path}","rev":0,"content":"{content}"}}"#
    ))
}

#[test]
fn a_tree_first_join_fetches_a_small_room_whole_in_the_background() {
    let (mut core, commands) = joined_over_a_tree(SessionOptions::default());
    assert_eq!(requested(&commands), [["a.txt", "b.txt"]]);
    assert!(requested(&core.handle(answer("a.txt", "hi"), 20.0)).is_empty());
    assert!(requested(&core.handle(answer("b.txt", "bye"), 21.0)).is_empty());
    let state = core.state();
    assert_eq!(state.files["a.txt"].content.as_deref(), Some("hi"));
    assert_eq!(state.files["b.txt"].content.as_deref(), Some("bye"));
}

#[test]
fn an_opened_file_is_fetched_at_once_whatever_the_budget() {
    let (mut core, commands) = joined_over_a_tree(SessionOptions::default().prefetch_bytes(0));
    assert!(requested(&commands).is_empty(), "no background fetching");
    let opened = core.handle(
        Intent::Open {
            path: Some("b.txt".into()),
        }
        .into(),
        30.0,
    );
    assert_eq!(requested(&opened), [["b.txt"]]);
    core.handle(answer("b.txt", "bye"), 31.0);
    assert_eq!(core.state().files["b.txt"].content.as_deref(), Some("bye"));
    assert_eq!(core.state().files["a.txt"].content, None);
}

#[test]
fn a_connection_that_drops_mid_fetch_asks_again_on_the_next() {
    let (mut core, commands) = joined_over_a_tree(SessionOptions::default());
    assert_eq!(requested(&commands).len(), 1);
    core.handle(answer("a.txt", "hi"), 20.0);
    core.handle(Input::Closed { code: 1006 }, 30.0);
    core.handle(Input::Tick, 600.0);
    core.handle(Input::Opened, 610.0);
    // The hub has nothing new: a replay, and b.txt is asked for again.
    core.handle(Input::Text(r#"{"type":"welcome","roomId":"r","project":{"id":"g1","rev":0},"head":0,"readOnly":false,"peerId":"p1","peers":[],"mode":"replay"}"#.into()), 620.0);
    let commands = core.handle(Input::Text(synced(0)), 621.0);
    assert_eq!(requested(&commands), [["b.txt"]]);
}

#[test]
fn a_tree_that_cannot_be_read_or_does_not_come_drops_the_connection() {
    for wrong in [Input::Tree(Err("not zlib".into())), Input::Text(synced(0))] {
        let mut core = SessionCore::new(SessionOptions::default(), RoomState::default(), 7);
        core.handle(Input::Start, 0.0);
        core.handle(Input::Opened, 5.0);
        core.handle(Input::Text(TREE_WELCOME.into()), 10.0);
        let commands = core.handle(wrong, 11.0);
        assert!(commands.contains(&Command::Disconnect), "{commands:?}");
        assert!(matches!(
            core.state().status,
            ConnectionStatus::Reconnecting { .. }
        ));
        assert!(core.state().files.is_empty());
    }
}

#[test]
fn a_page_put_in_the_back_forward_cache_closes_its_socket_and_rests_until_shown() {
    let mut core = live();
    assert_eq!(
        core.handle(Input::PageHidden, 1000.0),
        [Command::Disconnect]
    );
    assert_eq!(core.next_deadline(), None, "no timer runs in the cache");
    // Nothing wakes it but the page coming back: not time, not the
    // network, not the socket it closed, not a second pagehide.
    for input in [
        Input::Tick,
        Input::Online,
        Input::Visible,
        Input::Retry,
        Input::Closed { code: 1005 },
        Input::Text(event(3)),
        Input::PageHidden,
    ] {
        assert!(core.handle(input, 600_000.0).is_empty());
    }
    assert_eq!(
        status(&core),
        ConnectionStatus::Connected,
        "nothing was lost"
    );
    // Back: a connection at once (hours later, the give-up window is
    // fresh), whose hello asks for what came after rev 2.
    assert_eq!(
        core.handle(Input::PageShown, 9_000_000.0),
        [Command::Connect]
    );
    assert_eq!(status(&core), ConnectionStatus::Connecting);
    let hello = hello_of(&core.handle(Input::Opened, 9_000_050.0));
    assert_eq!(hello.last_seen_rev, Some(2));
    core.handle(Input::Text(r#"{"type":"welcome","roomId":"r","project":{"id":"g1","rev":0},"head":3,"readOnly":false,"peerId":"p1","peers":[],"mode":"replay"}"#.into()), 9_000_060.0);
    core.handle(Input::Text(event(3)), 9_000_061.0);
    core.handle(Input::Text(synced(3)), 9_000_070.0);
    assert_eq!(status(&core), ConnectionStatus::Connected);
    let revs: Vec<u64> = core.state().events.iter().map(|e| e.rev).collect();
    assert_eq!(revs, [1, 2, 3], "the event missed while away, once");
}

#[test]
fn a_page_shown_again_after_failing_to_connect_starts_a_fresh_schedule() {
    let mut core = live();
    core.handle(Input::Closed { code: 1006 }, 1000.0);
    // Hidden while waiting to retry: no socket to close, and the retry
    // does not fire in the cache.
    assert_eq!(
        core.handle(Input::PageHidden, 1100.0),
        [Command::Disconnect]
    );
    assert!(core.handle(Input::Tick, 200_000.0).is_empty());
    assert_eq!(core.handle(Input::PageShown, 300_000.0), [Command::Connect]);
    // Its attempt fails: the first step of a new window, not a give-up
    // for a loss that began minutes ago.
    core.handle(Input::Closed { code: 1006 }, 300_010.0);
    match status(&core) {
        ConnectionStatus::Reconnecting { attempt: 1, .. } => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_stopped_session_stays_stopped_through_the_back_forward_cache() {
    let mut core = SessionCore::new(SessionOptions::default(), RoomState::default(), 1);
    core.handle(Input::NoToken, 0.0);
    assert!(core.handle(Input::PageHidden, 10.0).is_empty());
    assert!(core.handle(Input::PageShown, 20.0).is_empty());
    assert_eq!(status(&core), ConnectionStatus::NeedsToken);

    let mut core = live();
    core.handle(Input::Closed { code: 4401 }, 1000.0);
    assert!(core.handle(Input::PageHidden, 1010.0).is_empty());
    assert!(core.handle(Input::PageShown, 1020.0).is_empty());
    assert_eq!(status(&core), ConnectionStatus::Unauthorized);
}

#[test]
fn an_attempt_the_browser_holds_back_past_the_window_gives_up_on_time() {
    let mut core = live();
    core.handle(Input::Closed { code: 1006 }, 1000.0);
    // Every attempt is refused at once, until the browser starts holding
    // them back (Firefox delays connections to a host that refused some):
    // the window's last attempt, started as it closes, never answers.
    let now = loop {
        let now = core.next_deadline().expect("a deadline while reconnecting");
        let out = core.handle(Input::Tick, now);
        if status(&core) == ConnectionStatus::Lost {
            assert!(out.contains(&Command::Disconnect), "{out:?}");
            break now;
        }
        if out.contains(&Command::Connect) && now - 1000.0 < 120_000.0 {
            core.handle(Input::Closed { code: 1006 }, now);
        }
    };
    assert_eq!(
        now - 1000.0,
        120_000.0 + crate::reconnect::LAST_ATTEMPT_GRACE_MS
    );
    assert_eq!(core.next_deadline(), None);
    // Its late refusal changes nothing.
    assert!(core
        .handle(Input::Closed { code: 1006 }, now + 5000.0)
        .is_empty());
    assert_eq!(status(&core), ConnectionStatus::Lost);
}
