//! The browser core against a real room-hub process, in headless Chromium.
//!
//! `scripts/test.sh` starts `room-testkit` (hub + fault proxy), whose
//! control URL the tests read at run time (`tests/common`: `kit`). The
//! tests share one hub and run one after another; each leaves the proxy
//! passing.

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use room_client::intent::Intent;
use room_client::protocol::{SyncMode, Token};
use room_client::session::{CacheChoice, Session, SessionConfig};
use room_client::state::{ConnectionStatus, DraftStatus, Notice, RoomState};
use room_client::token::{self, TokenOutcome, TokenResponder, TokenSource};
use room_client::SessionOptions;
use wasm_bindgen_test::*;

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

struct Config {
    room: String,
    edit: String,
    read_only: String,
    proxy_ws: String,
}

async fn config() -> Config {
    let c = kit_get("/config").await;
    Config {
        room: c["roomId"].as_str().unwrap().into(),
        edit: c["editToken"].as_str().unwrap().into(),
        read_only: c["readOnlyToken"].as_str().unwrap().into(),
        proxy_ws: c["proxyWs"].as_str().unwrap().into(),
    }
}

/// Waits until `check` holds for the session's state, or fails after
/// `timeout_ms` with the last state.
async fn until(session: &Session, timeout_ms: f64, what: &str, check: impl Fn(&RoomState) -> bool) {
    let deadline = now() + timeout_ms;
    loop {
        let state = session.state();
        if check(&state) {
            return;
        }
        assert!(
            now() < deadline,
            "timed out waiting for {what}; status {:?}",
            state.status
        );
        TimeoutFuture::new(20).await;
    }
}

fn start(url: &str, token: &str) -> Session {
    Session::start(SessionConfig {
        url: url.into(),
        token: Some(Token::new(token)),
        options: SessionOptions::default(),
        cache: CacheChoice::Memory,
    })
}

async fn connected(url: &str, token: &str) -> Session {
    let session = start(url, token);
    until(&session, 10_000.0, "connected", |s| {
        s.status == ConnectionStatus::Connected
    })
    .await;
    session
}

/// A fresh client to compare with: connected, and holding every file's
/// content (the sample room is within the prefetch budget, and the
/// background fetch ends a little after `synced`, later in some engines).
async fn fresh_client(url: &str, token: &str) -> Session {
    let session = connected(url, token).await;
    until(&session, 10_000.0, "every content fetched", |s| {
        s.files.iter().all(|(_, f)| f.content.is_some())
    })
    .await;
    session
}

/// Records every status a session passes through, with the time.
fn record_statuses(session: &Session) -> Rc<RefCell<Vec<(f64, ConnectionStatus)>>> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&log);
    session.subscribe(move |state| {
        let mut log = sink.borrow_mut();
        if log.last().map(|(_, s)| s) != Some(&state.status) {
            log.push((now(), state.status.clone()));
        }
    });
    log
}

fn event_revs(state: &RoomState) -> Vec<u64> {
    state.events.iter().map(|e| e.rev).collect()
}

fn files(state: &RoomState) -> Vec<(String, String, u64)> {
    state
        .files
        .iter()
        .map(|(p, f)| {
            let content = f.content.as_deref().unwrap_or("(not fetched)");
            (p.clone(), content.to_owned(), f.rev)
        })
        .collect()
}

fn session_storage() -> web_sys::Storage {
    web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap()
}

#[wasm_bindgen_test]
async fn bootstrap_moves_the_token_from_the_url_into_session_storage() {
    let c = config().await;
    let window = web_sys::window().unwrap();
    let history = window.history().unwrap();
    let original = window.location().href().unwrap();
    let path = window.location().pathname().unwrap();
    history
        .replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}?keep=1&token={}&also=2#frag", c.edit)),
        )
        .unwrap();
    session_storage()
        .remove_item(&token::storage_key(&c.room))
        .unwrap();

    let outcome = token::bootstrap(&c.room).await.unwrap();
    assert_eq!(
        outcome,
        TokenOutcome::Found(Token::new(c.edit.clone()), TokenSource::Url)
    );
    let href = window.location().href().unwrap();
    assert!(
        !href.contains(&c.edit),
        "the address bar still has the token: {href}"
    );
    assert!(
        href.ends_with(&format!("{path}?keep=1&also=2#frag")),
        "{href}"
    );
    assert_eq!(
        session_storage()
            .get_item(&token::storage_key(&c.room))
            .unwrap()
            .as_deref(),
        Some(c.edit.as_str())
    );

    // A refresh finds it in sessionStorage.
    let again = token::bootstrap(&c.room).await.unwrap();
    assert_eq!(
        again,
        TokenOutcome::Found(Token::new(c.edit.clone()), TokenSource::SessionStorage)
    );

    // The token travels only in the subprotocol: checked on the wire, in
    // the upgrade request the proxy saw.
    let before = kit_get("/stats").await;
    let since_ms = js_sys::Date::now() as u64;
    let session = connected(&c.proxy_ws, &c.edit).await;
    let after = kit_get("/stats").await;
    assert_eq!(
        after["hub"]["connections"]["welcomed"].as_u64().unwrap(),
        before["hub"]["connections"]["welcomed"].as_u64().unwrap() + 1
    );
    let requests = kit_get("/proxy/socket-requests").await;
    let ours: Vec<_> = requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["atMs"].as_u64().unwrap() >= since_ms)
        .collect();
    assert!(!ours.is_empty(), "the proxy saw no upgrade request");
    for upgrade in ours {
        let target = upgrade["target"].as_str().unwrap();
        assert!(
            !target.contains(&c.edit) && !target.contains("token"),
            "the request target carries a token: {target}"
        );
        let mut in_protocol = false;
        for header in upgrade["headers"].as_array().unwrap() {
            let (name, value) = (header[0].as_str().unwrap(), header[1].as_str().unwrap());
            if name.eq_ignore_ascii_case("sec-websocket-protocol") {
                let offered: Vec<&str> = value.split(',').map(str::trim).collect();
                in_protocol = offered.contains(&format!("room.token.{}", c.edit).as_str());
            } else {
                assert!(
                    !value.contains(&c.edit),
                    "the token is in the {name} header"
                );
            }
        }
        assert!(
            in_protocol,
            "the token is not among the offered subprotocols"
        );
    }
    drop(session);
    history
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&original))
        .unwrap();
}

#[wasm_bindgen_test]
async fn a_second_context_gets_the_token_from_a_tab_that_holds_it() {
    let room = "bc-room";
    let key = token::storage_key(room);
    session_storage().remove_item(&key).unwrap();
    let holder =
        TokenResponder::start(room, &Token::new("held-by-the-first-tab-0123456789")).unwrap();

    // Three callers at once share one request.
    let posted_before = token::requests_posted();
    let (a, b, c) = futures_util::join!(
        token::request_from_other_tabs(room),
        token::request_from_other_tabs(room),
        token::request_from_other_tabs(room),
    );
    assert_eq!(token::requests_posted(), posted_before + 1, "single-flight");
    for answer in [a, b, c] {
        assert_eq!(answer.as_deref(), Some("held-by-the-first-tab-0123456789"));
    }

    let outcome = token::bootstrap(room).await.unwrap();
    assert_eq!(
        outcome,
        TokenOutcome::Found(
            Token::new("held-by-the-first-tab-0123456789"),
            TokenSource::OtherTab
        )
    );
    assert!(
        session_storage().get_item(&key).unwrap().is_some(),
        "kept for the next refresh"
    );
    session_storage().remove_item(&key).unwrap();
    drop(holder);

    // A responder for another room does not answer.
    let _other =
        TokenResponder::start("some-other-room", &Token::new("not-this-one-0123456789")).unwrap();
    assert_eq!(token::request_from_other_tabs(room).await, None);
}

#[wasm_bindgen_test]
async fn with_no_holder_it_reaches_needs_token_in_about_200_ms() {
    let room = "nobody-holds-this";
    session_storage()
        .remove_item(&token::storage_key(room))
        .unwrap();
    let started = now();
    let outcome = token::bootstrap(room).await.unwrap();
    let took = now() - started;
    assert_eq!(outcome, TokenOutcome::NeedsToken);
    assert!((180.0..700.0).contains(&took), "took {took} ms");

    let session = Session::start(SessionConfig {
        url: "ws://127.0.0.1:9/unused".into(),
        token: None,
        options: SessionOptions::default(),
        cache: CacheChoice::Memory,
    });
    until(&session, 1000.0, "NeedsToken", |s| {
        s.status == ConnectionStatus::NeedsToken
    })
    .await;
    assert_eq!(session.attempts(), 0);
}

#[wasm_bindgen_test]
async fn a_wrong_token_is_unauthorized_after_exactly_one_attempt() {
    let c = config().await;
    let before = kit_get("/stats").await;
    let session = start(&c.proxy_ws, &"W".repeat(32));
    until(&session, 5000.0, "Unauthorized", |s| {
        s.status == ConnectionStatus::Unauthorized
    })
    .await;
    // Longer than the first backoff step: no retry may follow.
    TimeoutFuture::new(1500).await;
    assert_eq!(session.state().status, ConnectionStatus::Unauthorized);
    assert_eq!(session.attempts(), 1);
    let after = kit_get("/stats").await;
    let diff = |k: &str| {
        after["hub"]["connections"][k].as_u64().unwrap()
            - before["hub"]["connections"][k].as_u64().unwrap()
    };
    assert_eq!(
        diff("attempts"),
        1,
        "the hub saw exactly one connection attempt"
    );
    assert_eq!(diff("unauthorized"), 1);
    assert_eq!(
        after["proxy"]["accepted"].as_u64().unwrap()
            - before["proxy"]["accepted"].as_u64().unwrap(),
        1
    );
}

#[wasm_bindgen_test]
async fn a_cut_connection_reconnects_on_the_schedule_and_replays_exactly_what_was_missed() {
    let c = config().await;
    let session = connected(&c.proxy_ws, &c.edit).await;
    let statuses = record_statuses(&session);
    let posted = kit_post("/events/3?kind=before").await;
    let last_before = posted["revs"][2].as_u64().unwrap();
    until(&session, 5000.0, "the first events", |s| {
        s.last_seen_rev >= last_before
    })
    .await;
    let seen_before = event_revs(&session.state());

    // Cut the connection and keep the door shut while 5 events happen.
    kit_post("/proxy/mode/refuse").await;
    let cut_at = now();
    // The proxy's clock is the wall clock.
    let cut_wall_ms = js_sys::Date::now();
    kit_post("/proxy/reset").await;
    until(&session, 5000.0, "Reconnecting", |s| {
        matches!(s.status, ConnectionStatus::Reconnecting { .. })
    })
    .await;
    let missed = kit_post("/events/5?kind=missed").await;
    let missed: Vec<u64> = missed["revs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_u64().unwrap())
        .collect();
    TimeoutFuture::new(1200).await;
    kit_post("/proxy/mode/pass").await;
    until(&session, 10_000.0, "reconnected", |s| {
        s.status == ConnectionStatus::Connected
    })
    .await;

    let state = session.state();
    assert_eq!(state.sync_mode, Some(SyncMode::Replay));
    let revs = event_revs(&state);
    assert!(
        revs.windows(2).all(|w| w[0] < w[1]),
        "no duplicates, in order: {revs:?}"
    );
    let new: Vec<u64> = revs
        .iter()
        .copied()
        .filter(|r| !seen_before.contains(r))
        .collect();
    assert_eq!(new, missed, "exactly the missed entries");

    // The schedule: first retry 0.5 s after the cut, the next 1 s later.
    let log = statuses.borrow().clone();
    let waits: Vec<(u32, f64)> = log
        .iter()
        .filter_map(|(_, s)| match s {
            ConnectionStatus::Reconnecting {
                attempt,
                next_retry_at: Some(at),
            } => Some((*attempt, *at)),
            _ => None,
        })
        .collect();
    assert!(waits.len() >= 2, "{log:?}");
    assert_eq!(waits[0].0, 1);
    assert!(
        (waits[0].1 - cut_at - 500.0).abs() < 250.0,
        "first retry at +{} ms",
        waits[0].1 - cut_at
    );
    assert_eq!(waits[1].0, 2);

    // And on the wire: the attempts that reached the proxy. The first comes
    // 0.5 s after the cut and is refused at once; the second 1 s after
    // that. The bounds leave a loaded machine 300 ms either way, less than
    // the difference between neighbouring steps (0.5 s), so a policy that
    // skipped a step, repeated one, or waited from the wrong moment fails.
    let attempts: Vec<f64> = kit_get("/proxy/socket-requests")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["atMs"].as_f64().unwrap())
        .filter(|&at| at >= cut_wall_ms)
        .collect();
    assert!(attempts.len() >= 2, "attempts after the cut: {attempts:?}");
    let first = attempts[0] - cut_wall_ms;
    let second = attempts[1] - attempts[0];
    assert!(
        (first - 500.0).abs() <= 300.0,
        "the first attempt reached the proxy {first} ms after the cut"
    );
    assert!(
        (second - 1000.0).abs() <= 300.0,
        "the second attempt came {second} ms after the first"
    );

    // Identical to a fresh client.
    let fresh = fresh_client(&c.proxy_ws, &c.edit).await;
    assert_eq!(files(&fresh.state()), files(&state));
    assert_eq!(event_revs(&fresh.state()), revs);
}

#[wasm_bindgen_test]
async fn a_restarted_hub_sends_a_snapshot_and_the_session_ends_identical_to_a_fresh_client() {
    let c = config().await;
    let session = connected(&c.proxy_ws, &c.edit).await;
    kit_post("/events/4?kind=old").await;
    until(&session, 5000.0, "old events", |s| s.events.len() >= 4).await;
    let old_generation = session.state().project.clone().unwrap().id;

    kit_post("/hub/restart").await;
    until(
        &session,
        20_000.0,
        "reconnected to the new generation",
        |s| {
            s.status == ConnectionStatus::Connected
                && s.project.as_ref().is_some_and(|p| p.id != old_generation)
        },
    )
    .await;
    let state = session.state();
    assert_eq!(state.sync_mode, Some(SyncMode::Snapshot));
    kit_post("/events/2?kind=new").await;
    until(&session, 5000.0, "new events", |s| {
        s.events.len() >= 2 && s.events.iter().all(|e| e.kind == "new")
    })
    .await;

    let fresh = fresh_client(&c.proxy_ws, &c.edit).await;
    let (mine, theirs) = (session.state(), fresh.state());
    assert_eq!(files(&mine), files(&theirs));
    assert_eq!(event_revs(&mine), event_revs(&theirs));
    assert_eq!(mine.project, theirs.project);
    assert!(
        mine.events.iter().all(|e| e.kind == "new"),
        "old-generation events were evicted"
    );
}

#[wasm_bindgen_test]
async fn a_read_only_edit_comes_back_refused_and_the_draft_stays() {
    let c = config().await;
    let before = kit_file("todo.txt").await.unwrap();
    let session = connected(&c.proxy_ws, &c.read_only).await;
    assert!(session.state().read_only);
    session.apply(Intent::Save {
        path: "todo.txt".into(),
        content: "a viewer's vandalism".into(),
    });
    until(&session, 5000.0, "the read-only refusal", |s| {
        s.drafts
            .get("todo.txt")
            .is_some_and(|d| d.status == DraftStatus::ReadOnly)
    })
    .await;
    let state = session.state();
    assert_eq!(state.drafts["todo.txt"].content, "a viewer's vandalism");
    assert!(state.notices.contains(&Notice::ReadOnly {
        path: "todo.txt".into()
    }));
    assert_eq!(
        kit_file("todo.txt").await.unwrap(),
        before,
        "nothing was written"
    );
}

#[wasm_bindgen_test]
async fn an_edit_made_while_the_hub_is_down_lands_after_reconnect() {
    let c = config().await;
    let session = connected(&c.proxy_ws, &c.edit).await;
    kit_post("/hub/stop").await;
    until(&session, 10_000.0, "Reconnecting", |s| {
        matches!(s.status, ConnectionStatus::Reconnecting { .. })
    })
    .await;
    session.apply(Intent::Save {
        path: "offline/note.txt".into(),
        content: "written while the hub was down".into(),
    });
    TimeoutFuture::new(300).await;
    assert_eq!(
        session.state().drafts["offline/note.txt"].status,
        DraftStatus::Queued
    );
    assert_eq!(kit_file("offline/note.txt").await, None);

    kit_post("/hub/start").await;
    until(&session, 20_000.0, "the edit acknowledged", |s| {
        s.status == ConnectionStatus::Connected && s.drafts.is_empty()
    })
    .await;
    assert_eq!(
        kit_file("offline/note.txt").await.as_deref(),
        Some("written while the hub was down")
    );
    assert_eq!(
        session.state().files["offline/note.txt"].content.as_deref(),
        Some("written while the hub was down")
    );
}

#[wasm_bindgen_test]
async fn a_cached_session_paints_before_connecting_and_resumes_by_replay() {
    let c = config().await;
    let cache_room = format!("{}-{:x}", c.room, (js_sys::Math::random() * 1e15) as u64);
    let cached = |url: &str| {
        Session::start(SessionConfig {
            url: url.into(),
            token: Some(Token::new(c.edit.clone())),
            options: SessionOptions::default(),
            cache: CacheChoice::IndexedDb {
                room_id: cache_room.clone(),
                options: room_client::cache::IndexedDbOptions::default(),
            },
        })
    };
    let first = cached(&c.proxy_ws);
    until(&first, 10_000.0, "connected", |s| {
        s.status == ConnectionStatus::Connected
    })
    .await;
    let posted = kit_post("/events/3?kind=cached").await;
    let last = posted["revs"][2].as_u64().unwrap();
    until(&first, 5000.0, "events", |s| s.last_seen_rev >= last).await;
    // Let the persister catch up: it writes after each publication.
    let settle = now() + 3000.0;
    let mut seen = first.cache_transactions();
    loop {
        TimeoutFuture::new(150).await;
        let t = first.cache_transactions();
        if t == seen || now() > settle {
            break;
        }
        seen = t;
    }
    let online = first.state();
    drop(first);

    // Offline: the hub is unreachable, yet files and history are there.
    let offline = cached("ws://127.0.0.1:9/rooms/x/ws");
    let deadline = now() + 3000.0;
    while !offline.hydrated() {
        assert!(now() < deadline, "never hydrated");
        TimeoutFuture::new(10).await;
    }
    // The tree paints first; the contents are read from the cache just
    // after (later in some engines than in others).
    let deadline = now() + 3000.0;
    while files(&offline.state()) != files(&online) && now() < deadline {
        TimeoutFuture::new(10).await;
    }
    let painted = offline.state();
    assert_ne!(painted.status, ConnectionStatus::Connected);
    assert_eq!(files(&painted), files(&online));
    assert_eq!(event_revs(&painted), event_revs(&online));
    assert_eq!(painted.last_seen_rev, online.last_seen_rev);
    drop(offline);

    // Online again: the hello carries the cached position, so a replay.
    let again = cached(&c.proxy_ws);
    until(&again, 10_000.0, "connected", |s| {
        s.status == ConnectionStatus::Connected
    })
    .await;
    assert_eq!(again.state().sync_mode, Some(SyncMode::Replay));
}
