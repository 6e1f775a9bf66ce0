//! The components on a server: `RoomClient` and the hooks compile and
//! render natively (yew's `ServerRenderer`), with no browser to call.

#![cfg(not(target_arch = "wasm32"))]

use room_client::ui::{use_file, use_room, use_room_status, RoomClient, RoomClientProps};
use room_client::RoomOptions;
use yew::prelude::*;

fn render(props: impl FnOnce() -> RoomClientProps + Send + 'static) -> String {
    futures_executor::block_on(yew::ServerRenderer::<RoomClient>::with_props(props).render())
}

#[test]
fn the_default_ui_renders_a_calm_placeholder() {
    let html = render(|| RoomClientProps {
        options: RoomOptions::default(),
        children: Children::default(),
    });
    assert!(html.contains("Connecting…"), "{html}");
    assert!(html.contains(r#"role="status""#), "{html}");
    assert!(!html.contains("cannot join"), "{html}");
}

#[component]
fn Summary() -> Html {
    let room = use_room();
    let status = use_room_status();
    let file = use_file("notes.md");
    html! {
        <p class="summary">
            { format!("{} in {}: {status:?}, {} files, notes: {:?}", room.room_id, room.hub_url, room.state.files.len(), file.text()) }
        </p>
    }
}

#[test]
fn an_apps_own_ui_renders_with_the_room_before_it_connects() {
    let html = render(|| RoomClientProps {
        options: RoomOptions::default()
            .room_id("team")
            .hub_url("https://hub.example"),
        children: Children::new(vec![html! { <Summary /> }]),
    });
    assert!(
        html.contains(r#"team in https://hub.example: Connecting, 0 files, notes: """#),
        "{html}"
    );
}
