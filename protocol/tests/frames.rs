//! Encode/decode tests of protocol v1. The same file runs natively
//! (`cargo test`) and in headless Chromium (`cargo test --target
//! wasm32-unknown-unknown`), so the browser's build of the codec is checked
//! against the same expectations as the hub's.

use room_protocol::*;
use serde_json::{json, Value};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

// The same `#[test]` marks a test for both harnesses: on wasm32 it names
// wasm-bindgen-test's attribute. (A macro around the tests would hide them
// from rustfmt.)
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn as_json<T: serde::Serialize>(frame: &T) -> Value {
    serde_json::from_str(&encode(frame)).unwrap()
}

#[test]
fn hello_has_the_documented_shape() {
    let hello = ClientFrame::Hello(Hello {
        last_seen_rev: Some(7),
        project_id: Some("g1".into()),
        project_rev: Some(3),
        peer: PeerProfile {
            name: "Ada".into(),
            color: "#112233".into(),
        },
        person: Some("b7f3".into()),
        open: Some("src/main.rs".into()),
        client_id: Some("t9c2".into()),
    });
    assert_eq!(
        as_json(&hello),
        json!({"type": "hello", "lastSeenRev": 7, "projectId": "g1", "projectRev": 3,
               "peer": {"name": "Ada", "color": "#112233"}, "person": "b7f3", "open": "src/main.rs",
               "clientId": "t9c2"})
    );
    assert_eq!(decode_client_frame(&encode(&hello)).unwrap(), hello);
}

#[test]
fn first_visit_hello_sends_nulls_and_decodes_without_them() {
    let hello = ClientFrame::Hello(Hello::default());
    let v = as_json(&hello);
    assert_eq!(v["lastSeenRev"], Value::Null);
    assert_eq!(v["projectId"], Value::Null);
    // A script may leave every optional field out.
    assert_eq!(decode_client_frame(r#"{"type":"hello"}"#).unwrap(), hello);
}

#[test]
fn file_edit_round_trips_with_camel_case_fields() {
    let edit = ClientFrame::FileEdit(FileEdit {
        edit_id: "e1".into(),
        path: "src/a.txt".into(),
        content: "line\n\"quoted\" ünïcödé".into(),
        base_rev: 12,
        base_project: Some("g1".into()),
    });
    let v = as_json(&edit);
    assert_eq!(v["type"], "file-edit");
    assert_eq!(v["editId"], "e1");
    assert_eq!(v["baseRev"], 12);
    assert_eq!(v["baseProject"], "g1");
    assert_eq!(decode_client_frame(&encode(&edit)).unwrap(), edit);
    // A client that does not send it is not checked.
    let older: ClientFrame = decode_client_frame(
        r#"{"type":"file-edit","editId":"e1","path":"a.txt","content":"x","baseRev":3}"#,
    )
    .unwrap();
    assert!(matches!(
        older,
        ClientFrame::FileEdit(FileEdit {
            base_project: None,
            ..
        })
    ));
}

#[test]
fn peer_update_and_ping_round_trip() {
    let update = ClientFrame::PeerUpdate(PeerProfile {
        name: "Bo".into(),
        color: "#abcdef".into(),
    });
    assert_eq!(
        as_json(&update),
        json!({"type": "peer-update", "name": "Bo", "color": "#abcdef"})
    );
    assert_eq!(decode_client_frame(&encode(&update)).unwrap(), update);
    let presence = ClientFrame::Presence(Presence {
        open: Some("src/a.rs".into()),
    });
    assert_eq!(
        as_json(&presence),
        json!({"type": "presence", "open": "src/a.rs"})
    );
    assert_eq!(decode_client_frame(&encode(&presence)).unwrap(), presence);
    let closed = ClientFrame::Presence(Presence { open: None });
    assert_eq!(as_json(&closed), json!({"type": "presence"}));
    assert_eq!(
        decode_client_frame(r#"{"type":"presence","open":null}"#).unwrap(),
        closed
    );
    let ping = ClientFrame::Ping(Ping { t: 1234.5 });
    assert_eq!(as_json(&ping), json!({"type": "ping", "t": 1234.5}));
    assert_eq!(decode_client_frame(&encode(&ping)).unwrap(), ping);
}

#[test]
fn welcome_in_snapshot_mode_round_trips() {
    let welcome = ServerFrame::Welcome(Welcome {
        room_id: "r1".into(),
        project: ProjectVersion {
            id: "g1".into(),
            rev: 4,
        },
        head: 9,
        read_only: false,
        peer_id: "p1".into(),
        peers: vec![PeerInfo {
            peer_id: "p1".into(),
            name: "Ada".into(),
            color: "#112233".into(),
            read_only: false,
            person: None,
            open: None,
        }],
        mode: SyncMode::Snapshot,
        left_out: Some(LeftOut {
            files: 12,
            limit: 200_000,
        }),
        read_only_token: Some("ro".into()),
        host: true,
        edit_token: Some("ed".into()),
    });
    let v = as_json(&welcome);
    assert_eq!(v["host"], true);
    assert_eq!(v["editToken"], "ed");
    assert_eq!(v["type"], "welcome");
    assert_eq!(v["mode"], "snapshot");
    assert_eq!(v["project"], json!({"id": "g1", "rev": 4}));
    assert_eq!(v["readOnlyToken"], "ro");
    assert_eq!(v["leftOut"], json!({"files": 12, "limit": 200_000}));
    assert_eq!(v["peers"][0]["peerId"], "p1");
    assert_eq!(decode_server_frame(&encode(&welcome)).unwrap(), welcome);
}

#[test]
fn links_carry_what_the_connection_may_share_and_leave_out_what_is_off() {
    let to_host = ServerFrame::Links(Links {
        edit_token: Some("ed".into()),
        read_only_token: Some("ro".into()),
    });
    assert_eq!(
        as_json(&to_host),
        json!({"type": "links", "editToken": "ed", "readOnlyToken": "ro"})
    );
    assert_eq!(decode_server_frame(&encode(&to_host)).unwrap(), to_host);
    let view_off = decode_server_frame(r#"{"type":"links"}"#).unwrap();
    assert_eq!(view_off, ServerFrame::Links(Links::default()));
}

#[test]
fn welcome_in_replay_mode_leaves_out_files_and_token() {
    let welcome = ServerFrame::Welcome(Welcome {
        room_id: "r1".into(),
        project: ProjectVersion {
            id: "g1".into(),
            rev: 0,
        },
        head: 0,
        read_only: true,
        peer_id: "p2".into(),
        peers: vec![],
        mode: SyncMode::Replay,
        left_out: None,
        read_only_token: None,
        host: false,
        edit_token: None,
    });
    let v = as_json(&welcome);
    assert_eq!(v["mode"], "replay");
    assert!(v.get("host").is_none() && v.get("editToken").is_none());
    assert!(v.get("files").is_none());
    assert!(v.get("leftOut").is_none());
    assert!(v.get("readOnlyToken").is_none());
    assert_eq!(decode_server_frame(&encode(&welcome)).unwrap(), welcome);
}

#[test]
fn file_request_and_content_have_the_documented_shape() {
    let request = ClientFrame::FileRequest(FileRequest {
        paths: vec!["a.txt".into(), "src/b.rs".into()],
    });
    assert_eq!(
        as_json(&request),
        json!({"type": "file-request", "paths": ["a.txt", "src/b.rs"]})
    );
    assert_eq!(decode_client_frame(&encode(&request)).unwrap(), request);
    let content = ServerFrame::FileContent(FileContent {
        path: "a.txt".into(),
        rev: 4,
        content: Some("hi".into()),
    });
    assert_eq!(
        as_json(&content),
        json!({"type": "file-content", "path": "a.txt", "rev": 4, "content": "hi"})
    );
    assert_eq!(decode_server_frame(&encode(&content)).unwrap(), content);
    let missing = r#"{"type":"file-content","path":"gone.txt","rev":0}"#;
    assert!(matches!(
        decode_server_frame(missing).unwrap(),
        ServerFrame::FileContent(FileContent {
            content: None,
            rev: 0,
            ..
        })
    ));
}

#[test]
fn a_tree_lists_files_as_path_rev_size_triples() {
    let tree = Tree {
        since: None,
        files: vec![TreeEntry {
            path: "src/a.rs".into(),
            rev: 3,
            size: 120,
        }],
        deleted: vec!["old.rs".into()],
    };
    let text = encode(&tree);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"files": [["src/a.rs", 3, 120]], "deleted": ["old.rs"]})
    );
    assert_eq!(serde_json::from_str::<Tree>(&text).unwrap(), tree);
    let whole: Tree = serde_json::from_str(r#"{"files":[]}"#).unwrap();
    assert!(whole.deleted.is_empty());
    let delta = Tree {
        since: Some(7),
        ..Tree::default()
    };
    assert_eq!(
        serde_json::from_str::<Value>(&encode(&delta)).unwrap(),
        json!({"since": 7, "files": []})
    );
}

#[test]
fn left_out_round_trips() {
    let notice = ServerFrame::LeftOut(LeftOut { files: 0, limit: 5 });
    assert_eq!(
        as_json(&notice),
        json!({"type": "left-out", "files": 0, "limit": 5})
    );
    assert_eq!(decode_server_frame(&encode(&notice)).unwrap(), notice);
}

#[test]
fn log_entries_round_trip() {
    let changed = ServerFrame::FileChanged(FileChanged {
        rev: 5,
        path: "a.txt".into(),
        content: "x".into(),
        by: Some("p1".into()),
        edit_id: Some("e1".into()),
        deleted: false,
    });
    let v = as_json(&changed);
    assert_eq!(
        v,
        json!({"type": "file-changed", "rev": 5, "path": "a.txt", "content": "x", "by": "p1", "editId": "e1"})
    );
    assert_eq!(decode_server_frame(&encode(&changed)).unwrap(), changed);

    let deleted = ServerFrame::FileChanged(FileChanged {
        rev: 6,
        path: "a.txt".into(),
        content: String::new(),
        by: None,
        edit_id: None,
        deleted: true,
    });
    assert_eq!(as_json(&deleted)["deleted"], true);
    assert_eq!(decode_server_frame(&encode(&deleted)).unwrap(), deleted);

    let event = ServerFrame::RuntimeEvent(RuntimeEvent {
        rev: 7,
        ts: 1_700_000_000_000,
        kind: "stdout".into(),
        data: json!({"line": "ok"}),
    });
    assert_eq!(
        as_json(&event),
        json!({"type": "runtime-event", "rev": 7, "ts": 1_700_000_000_000_u64, "kind": "stdout", "data": {"line": "ok"}})
    );
    assert_eq!(decode_server_frame(&encode(&event)).unwrap(), event);
    assert_eq!(event.as_log_entry().unwrap().rev(), 7);
    assert_eq!(event.as_log_entry().unwrap().to_frame(), event);
}

#[test]
fn errors_carry_code_edit_and_current_version() {
    let edit = FileEdit {
        edit_id: "e9".into(),
        path: "a.txt".into(),
        content: "mine".into(),
        base_rev: 1,
        base_project: None,
    };
    let mut err = ErrorFrame::new(ErrorCode::Conflict, "changed since").for_edit(&edit);
    err.current = Some(FileVersion {
        rev: 3,
        content: "theirs".into(),
    });
    let frame = ServerFrame::Error(err);
    let v = as_json(&frame);
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"], "conflict");
    assert_eq!(v["editId"], "e9");
    assert_eq!(v["current"], json!({"rev": 3, "content": "theirs"}));
    assert_eq!(decode_server_frame(&encode(&frame)).unwrap(), frame);

    let read_only = as_json(&ServerFrame::Error(
        ErrorFrame::new(ErrorCode::ReadOnly, "view-only").for_edit(&edit),
    ));
    assert_eq!(read_only["error"], "read-only");
    assert_eq!(ErrorCode::ReadOnly.as_str(), "read-only");
}

#[test]
fn an_error_code_from_a_newer_hub_decodes_as_other() {
    let frame =
        decode_server_frame(r#"{"type":"error","error":"rate-limited","message":"slow down"}"#)
            .unwrap();
    assert!(matches!(frame, ServerFrame::Error(e) if e.error == ErrorCode::Other));
}

#[test]
fn every_error_code_decodes_to_itself() {
    for code in [
        ErrorCode::BadFrame,
        ErrorCode::UnknownType,
        ErrorCode::HelloFirst,
        ErrorCode::ReadOnly,
        ErrorCode::Conflict,
        ErrorCode::BadPath,
        ErrorCode::TooLarge,
        ErrorCode::WriteFailed,
    ] {
        let wire = serde_json::to_string(&code).unwrap();
        assert_eq!(wire, format!("\"{}\"", code.as_str()));
        assert_eq!(
            serde_json::from_str::<ErrorCode>(&wire).unwrap(),
            code,
            "{wire}"
        );
    }
    assert!(
        serde_json::from_str::<ErrorCode>("7").is_err(),
        "only strings are codes"
    );
}

#[test]
fn synced_peers_and_pong_round_trip() {
    for frame in [
        ServerFrame::Synced(Synced { head: 42 }),
        ServerFrame::Peers(Peers {
            peers: vec![PeerInfo {
                peer_id: "p".into(),
                name: "n".into(),
                color: "#000000".into(),
                read_only: true,
                person: Some("me".into()),
                open: Some("src/a.rs".into()),
            }],
        }),
        ServerFrame::Pong(Ping { t: 9.0 }),
    ] {
        assert_eq!(decode_server_frame(&encode(&frame)).unwrap(), frame);
    }
}

#[test]
fn unknown_types_are_told_apart_from_malformed_frames() {
    assert_eq!(
        decode_client_frame(r#"{"type":"dance","x":1}"#),
        Err(DecodeError::UnknownType("dance".into()))
    );
    assert_eq!(
        decode_server_frame(r#"{"type":"hello"}"#),
        Err(DecodeError::UnknownType("hello".into()))
    );
    for malformed in [
        "",
        "not json",
        "{",
        "[]",
        "42",
        r#"{"no":"type"}"#,
        r#"{"type":7}"#,
        // A known type with fields of the wrong shape is malformed, not unknown.
        r#"{"type":"file-edit","path":"a"}"#,
        r#"{"type":"hello","lastSeenRev":"seven"}"#,
    ] {
        assert!(
            matches!(
                decode_client_frame(malformed),
                Err(DecodeError::Malformed(_))
            ),
            "{malformed:?}"
        );
    }
}

#[test]
fn decode_error_details_stay_short_whatever_the_input() {
    let long_type = format!(r#"{{"type":"{}"}}"#, "x".repeat(10_000));
    match decode_client_frame(&long_type) {
        Err(DecodeError::UnknownType(t)) => assert!(t.chars().count() <= 161),
        other => panic!("{other:?}"),
    }
    let long_bad = format!(r#"{{"type":"ping","t":"{}"}}"#, "y".repeat(10_000));
    match decode_client_frame(&long_bad) {
        Err(DecodeError::Malformed(m)) => assert!(m.chars().count() <= 161),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tokens_travel_in_the_subprotocol_header() {
    let token = Token::new("abcDEF123-_abcDEF123-_ab");
    assert_eq!(token.subprotocol(), "room.token.abcDEF123-_abcDEF123-_ab");
    let header = format!("{SUBPROTOCOL}, {}", token.subprotocol());
    assert_eq!(token_from_subprotocols(&header), Some(token.expose()));
    assert!(offers_protocol(&header));
    assert!(!offers_protocol("room.v2, room.token.x"));
    assert_eq!(token_from_subprotocols("room.v1"), None);
    assert_eq!(token_from_subprotocols("room.v1, room.token."), None);
    assert!(token.matches("abcDEF123-_abcDEF123-_ab"));
    assert!(!token.matches("abcDEF123-_abcDEF123-_aB"));
    assert!(!token.matches(""));
    // Debug and Display never show the secret.
    assert!(!format!("{token:?} {token}").contains("abcDEF"));
}

#[test]
fn token_and_room_id_shapes() {
    assert!(is_token_shaped("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert!(!is_token_shaped("short"));
    assert!(!is_token_shaped("has space in it but is long enough"));
    assert!(is_valid_room_id("demo-room_1"));
    assert!(!is_valid_room_id(""));
    assert!(!is_valid_room_id("a/b"));
    assert!(!is_valid_room_id(&"a".repeat(65)));
}

#[test]
fn snapshot_message_binds_room_and_expiry() {
    assert_eq!(
        snapshot_signing_message("r1", 1700000000),
        "/rooms/r1/snapshot.tar?exp=1700000000"
    );
}

#[test]
fn hostile_paths_are_refused() {
    let cases: &[(&str, PathError)] = &[
        ("", PathError::Empty),
        ("../x", PathError::NotNormal),
        ("a/../../x", PathError::NotNormal),
        ("a/./b", PathError::NotNormal),
        ("a//b", PathError::NotNormal),
        ("a/", PathError::NotNormal),
        ("/etc/passwd", PathError::Absolute),
        ("C:\\x", PathError::Absolute),
        ("c:/x", PathError::Absolute),
        ("a\\..\\x", PathError::ForbiddenCharacter),
        ("a\0b", PathError::ForbiddenCharacter),
        ("a\nb", PathError::ForbiddenCharacter),
        ("file:stream", PathError::ForbiddenCharacter),
        (".git/config", PathError::Ignored),
        ("src/.env", PathError::Ignored),
        ("target/debug/x", PathError::Ignored),
        ("node_modules/x/index.js", PathError::Ignored),
    ];
    for (raw, want) in cases {
        assert_eq!(RelPath::parse(raw).as_ref(), Err(want), "{raw:?}");
    }
    assert!(matches!(
        RelPath::parse(&"a".repeat(MAX_PATH_BYTES + 1)),
        Err(PathError::TooLong { .. })
    ));
    let deep = |n: usize| vec!["d"; n].join("/");
    assert!(
        RelPath::parse(&deep(MAX_PATH_DEPTH)).is_ok(),
        "at the limit"
    );
    assert_eq!(
        RelPath::parse(&deep(MAX_PATH_DEPTH + 1)),
        Err(PathError::TooDeep {
            max: MAX_PATH_DEPTH
        })
    );
    // The finding: 511 folders in 1023 bytes.
    assert!(matches!(
        RelPath::parse(&deep(512)),
        Err(PathError::TooDeep { .. })
    ));
}

#[test]
fn normal_paths_are_accepted() {
    for ok in [
        "a.txt",
        "src/main.rs",
        "dir/sub/file name.md",
        "ünï/cödé.txt",
        "a..b",
        "x.y.z",
    ] {
        let p = RelPath::parse(ok).unwrap();
        assert_eq!(p.as_str(), ok);
    }
    assert_eq!(
        RelPath::parse("a/b/c")
            .unwrap()
            .components()
            .collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
}

#[test]
fn peer_profiles_are_sanitized() {
    let p = PeerProfile {
        name: "  Ada\u{0007} ".into(),
        color: "#ABCDEF".into(),
    }
    .sanitized("Guest", "p1");
    assert_eq!(
        p,
        PeerProfile {
            name: "Ada".into(),
            color: "#abcdef".into()
        }
    );
    let p = PeerProfile {
        name: "x".repeat(500),
        color: "red; background:url(x)".into(),
    }
    .sanitized("Guest", "p1");
    assert_eq!(p.name.chars().count(), MAX_PEER_NAME_CHARS);
    assert!(is_hex_color(&p.color));
    assert_eq!(p.color, fallback_color("p1"));
    let p = PeerProfile::default().sanitized("Guest 3", "p3");
    assert_eq!(p.name, "Guest 3");
}

#[test]
fn guest_names_are_stable_per_person_and_spread_over_people() {
    use room_protocol::guest_name;
    // The same seed, the same name, every time (and on every platform:
    // FNV-1a of the bytes, no randomized hasher).
    assert_eq!(guest_name("browser-a"), guest_name("browser-a"));
    let name = guest_name("0f3c9a2b-1d4e-4f60-8a7b-9c0d1e2f3a4b");
    let words: Vec<&str> = name.split(' ').collect();
    assert_eq!(words.len(), 2, "{name}");
    assert!(name.chars().count() <= MAX_PEER_NAME_CHARS);
    // 200 people in the shape of the page's person ids get many names.
    let names: std::collections::BTreeSet<String> = (0..200)
        .map(|i| guest_name(&format!("{i:08x}-7c1e-4b2a-9f3d-5e6a7b8c9d0e")))
        .collect();
    assert!(names.len() >= 150, "{} distinct names of 200", names.len());
}
