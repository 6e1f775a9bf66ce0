//! Presence as the page shows it: one entry per person.

use room_protocol::PeerInfo;

use super::*;

fn peer(
    id: &str,
    person: Option<&str>,
    name: &str,
    open: Option<&str>,
    read_only: bool,
) -> PeerInfo {
    PeerInfo {
        peer_id: id.into(),
        name: name.into(),
        color: "#123456".into(),
        read_only,
        person: person.map(Into::into),
        open: open.map(Into::into),
    }
}

#[test]
fn tabs_of_one_person_are_one_person_with_every_file_they_show() {
    let state = RoomState {
        peer_id: Some("p1".into()),
        person: Some("me".into()),
        peers: vec![
            peer("p1", Some("me"), "Ada", Some("a.txt"), false),
            peer("p2", Some("bo"), "Bo", Some("b.txt"), false),
            peer("p3", Some("me"), "Ada", Some("c.txt"), false),
            peer("p4", Some("bo"), "Bo", Some("b.txt"), true),
            peer("p5", None, "Old client", None, true),
            peer("p6", None, "Old client", None, false),
        ],
        ..RoomState::default()
    };
    let people = state.people();
    let names: Vec<(&str, bool)> = people.iter().map(|p| (p.name.as_str(), p.me)).collect();
    assert_eq!(
        names,
        [
            ("Ada", true),
            ("Bo", false),
            ("Old client", false),
            ("Old client", false)
        ],
        "tabs without a person id stay apart"
    );
    assert_eq!(people[0].open, ["a.txt", "c.txt"]);
    assert_eq!(people[1].open, ["b.txt"], "a file open in two tabs once");
    assert!(!people[1].read_only, "one tab can edit");
    assert!(people[2].read_only);
}

#[test]
fn this_page_is_marked_by_its_peer_id_before_the_hub_knows_its_person() {
    let state = RoomState {
        peer_id: Some("p2".into()),
        peers: vec![
            peer("p1", None, "A", None, false),
            peer("p2", None, "B", None, false),
        ],
        ..RoomState::default()
    };
    let me: Vec<bool> = state.people().iter().map(|p| p.me).collect();
    assert_eq!(me, [false, true]);
}
