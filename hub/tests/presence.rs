//! Presence: everyone learns who is connected, with names and colours.

mod common;

use common::*;
use room_protocol::{ClientFrame, PeerInfo, PeerProfile, Presence, ServerFrame};

async fn next_peers(client: &mut Client) -> Vec<PeerInfo> {
    loop {
        match recv(&mut client.socket).await {
            ServerFrame::Peers(p) => return p.peers,
            _ => continue,
        }
    }
}

#[tokio::test]
async fn peers_are_announced_on_join_update_and_leave() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut ada = Client::join(&hub, &edit_token(&hub), hello_as("Ada")).await;
    assert_eq!(ada.welcome.peers.len(), 1);
    assert_eq!(ada.welcome.peers[0].name, "Ada");
    assert_eq!(ada.welcome.peers[0].color, "#123456");

    let viewer = Client::join(&hub, &read_only_token(&hub), hello_as("Vi")).await;
    let peers = next_peers(&mut ada).await;
    assert_eq!(peers.len(), 2);
    let vi = peers
        .iter()
        .find(|p| p.peer_id == viewer.welcome.peer_id)
        .unwrap();
    assert_eq!((vi.name.as_str(), vi.read_only), ("Vi", true));

    let mut viewer = viewer;
    viewer
        .send(&ClientFrame::PeerUpdate(PeerProfile {
            name: "  Violet  ".into(),
            color: "not-a-colour".into(),
        }))
        .await;
    let peers = next_peers(&mut ada).await;
    let vi = peers
        .iter()
        .find(|p| p.peer_id == viewer.welcome.peer_id)
        .unwrap();
    assert_eq!(vi.name, "Violet");
    assert!(
        room_protocol::is_hex_color(&vi.color),
        "a bad colour is replaced: {}",
        vi.color
    );

    drop(viewer);
    let peers = next_peers(&mut ada).await;
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].peer_id, ada.welcome.peer_id);
}

#[tokio::test]
async fn a_person_without_a_name_keeps_one_default_name_and_colour_over_reconnects_and_tabs() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let as_person = |person: &str| room_protocol::Hello {
        person: Some(person.into()),
        ..room_protocol::Hello::default()
    };
    let me = |c: &Client| {
        let own = c
            .welcome
            .peers
            .iter()
            .find(|p| p.peer_id == c.welcome.peer_id);
        let own = own.unwrap();
        (own.name.clone(), own.color.clone())
    };
    let first = Client::join(&hub, &edit_token(&hub), as_person("browser-a")).await;
    let shown = me(&first);
    assert_eq!(shown.0, room_protocol::guest_name("browser-a"));
    assert_eq!(shown.1, room_protocol::fallback_color("browser-a"));
    drop(first);
    // A reload is a new connection (a new peer id), then a second tab.
    let again = Client::join(&hub, &edit_token(&hub), as_person("browser-a")).await;
    let tab = Client::join(&hub, &edit_token(&hub), as_person("browser-a")).await;
    assert_ne!(again.welcome.peer_id, tab.welcome.peer_id);
    assert_eq!(me(&again), shown);
    assert_eq!(me(&tab), shown);
    // Another browser is someone else.
    let other = Client::join(&hub, &edit_token(&hub), as_person("browser-b")).await;
    assert_ne!(me(&other).0, shown.0);
    // Without a person id the peer id names the peer.
    let anonymous = Client::join(&hub, &edit_token(&hub), room_protocol::Hello::default()).await;
    assert_eq!(
        me(&anonymous).0,
        room_protocol::guest_name(&anonymous.welcome.peer_id)
    );
}

#[tokio::test]
async fn clearing_a_chosen_name_brings_the_default_name_back() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let hello = room_protocol::Hello {
        person: Some("browser-c".into()),
        ..hello_as("Cy")
    };
    let mut cy = Client::join(&hub, &edit_token(&hub), hello).await;
    let peer_id = cy.welcome.peer_id.clone();
    cy.send(&ClientFrame::PeerUpdate(PeerProfile {
        name: "  ".into(),
        color: String::new(),
    }))
    .await;
    let peers = next_peers(&mut cy).await;
    let shown = peers.iter().find(|p| p.peer_id == peer_id).unwrap();
    assert_eq!(shown.name, room_protocol::guest_name("browser-c"));
    assert_eq!(shown.color, room_protocol::fallback_color("browser-c"));
}

#[tokio::test]
async fn the_open_file_and_the_person_travel_in_peers_and_bad_ones_are_dropped() {
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut ada = Client::join(&hub, &edit_token(&hub), hello_as("Ada")).await;
    let bo = Client::join(
        &hub,
        &edit_token(&hub),
        room_protocol::Hello {
            person: Some("browser-1".into()),
            open: Some("README.md".into()),
            ..hello_as("Bo")
        },
    )
    .await;
    let mut bo = bo;
    let bo_id = bo.welcome.peer_id.clone();
    let find = |peers: Vec<PeerInfo>| peers.into_iter().find(|p| p.peer_id == bo_id).unwrap();
    let joined = find(next_peers(&mut ada).await);
    assert_eq!(joined.person.as_deref(), Some("browser-1"));
    assert_eq!(joined.open.as_deref(), Some("README.md"));

    bo.send(&ClientFrame::Presence(Presence {
        open: Some("src/main.rs".into()),
    }))
    .await;
    assert_eq!(
        find(next_peers(&mut ada).await).open.as_deref(),
        Some("src/main.rs")
    );
    // A path from the wire that is not a relative path counts as none.
    bo.send(&ClientFrame::Presence(Presence {
        open: Some("../../etc/passwd".into()),
    }))
    .await;
    assert_eq!(find(next_peers(&mut ada).await).open, None);

    // A person id of the wrong shape is not passed on.
    let odd = Client::join(
        &hub,
        &edit_token(&hub),
        room_protocol::Hello {
            person: Some("has spaces and <tags>".into()),
            ..hello_as("Odd")
        },
    )
    .await;
    let odd_id = odd.welcome.peer_id.clone();
    let peers = next_peers(&mut ada).await;
    let odd_info = peers.iter().find(|p| p.peer_id == odd_id).unwrap();
    assert_eq!(odd_info.person, None);
}

#[tokio::test]
async fn a_peer_renaming_itself_a_thousand_times_a_second_is_dropped_then_closed_and_the_others_see_only_the_burst(
) {
    use std::time::Duration;
    let project = sample_project();
    let hub = hub_over(project.path()).await;
    let mut ada = Client::join(&hub, &edit_token(&hub), hello_as("Ada")).await;
    let mallory = Client::join(&hub, &edit_token(&hub), hello_as("Mallory")).await;
    assert_eq!(next_peers(&mut ada).await.len(), 2);

    // Mallory renames herself 1,000 times a second for a second and a half
    // (her frames after the close go nowhere).
    let Client { mut socket, .. } = mallory;
    for sent in 0..1500u32 {
        let frame = ClientFrame::PeerUpdate(PeerProfile {
            name: format!("Mallory {sent}"),
            color: "#123456".into(),
        });
        use futures_util::SinkExt as _;
        let text = tokio_tungstenite::tungstenite::Message::text(room_protocol::encode(&frame));
        if socket.send(text).await.is_err() {
            break;
        }
        if sent % 10 == 9 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let (code, _) = read_until_close(&mut socket).await;
    assert_eq!(
        code,
        Some(room_protocol::CLOSE_POLICY_VIOLATION),
        "the flood is closed"
    );

    // Ada saw at most the burst of renames, then Mallory leave.
    let mut renames = 0;
    loop {
        let peers = next_peers(&mut ada).await;
        if peers.len() == 1 {
            break;
        }
        renames += 1;
    }
    assert!(
        renames <= room_protocol::PRESENCE_BURST as usize + 10,
        "{renames} of 1,500 renames reached the others"
    );

    // A person opening files at a person's pace is never limited.
    let mut bo = Client::join(&hub, &edit_token(&hub), hello_as("Bo")).await;
    let _ = next_peers(&mut ada).await;
    for (i, path) in ["README.md", "todo.txt", "docs/notes.md"]
        .iter()
        .cycle()
        .take(30)
        .enumerate()
    {
        bo.send(&ClientFrame::Presence(Presence {
            open: Some((*path).to_owned()),
        }))
        .await;
        let peers = next_peers(&mut ada).await;
        let seen = peers
            .iter()
            .find(|p| p.peer_id == bo.welcome.peer_id)
            .unwrap();
        assert_eq!(seen.open.as_deref(), Some(*path), "presence {i} arrived");
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
}
