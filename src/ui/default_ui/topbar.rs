//! The top bar: room, connection, peers, and this person's profile.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::state::ConnectionStatus;
use crate::ui::handle::use_room_context;
use crate::ui::{use_room, use_room_select};

fn status_text(status: &ConnectionStatus) -> (&'static str, &'static str) {
    match status {
        ConnectionStatus::Connecting => ("connecting", "Connecting…"),
        ConnectionStatus::Connected => ("connected", "Connected"),
        ConnectionStatus::Reconnecting { .. } => ("reconnecting", "Reconnecting…"),
        ConnectionStatus::Lost => ("lost", "Offline"),
        ConnectionStatus::Unauthorized => ("error", "Invalid link"),
        ConnectionStatus::LinkReplaced => ("error", "Link replaced"),
        ConnectionStatus::RoomGone => ("error", "Room closed"),
        ConnectionStatus::NeedsToken => ("error", "Needs link"),
        ConnectionStatus::ProtocolError => ("error", "Incompatible"),
    }
}

/// Room id, status, peers and the profile editor.
#[component]
pub fn TopBar() -> Html {
    let room = use_room();
    let state = &room.state;
    let (status_class, status_label) = status_text(&state.status);
    // One entry per person, however many tabs they have open.
    let peers = state.people().into_iter().map(|person| {
        let style = format!("background:{}", person.color);
        let suffix = if person.me { " (you)" } else { "" };
        let title = if person.read_only {
            " · view only"
        } else {
            ""
        };
        html! {
            <li class="peer" title={format!("{}{suffix}{title}", person.name)}>
                <span class="dot" style={style}></span>
                <span class="name">{ format!("{}{suffix}", person.name) }</span>
            </li>
        }
    });
    html! {
        <header class="room-topbar">
            <div class="room-title">
                <span class="label">{ "Room" }</span>
                <strong class="room-id">{ room.room_id.to_string() }</strong>
                if state.read_only {
                    <span class="badge">{ "view only" }</span>
                }
            </div>
            <div class={classes!("room-status", status_class)} data-status={status_class}>
                <span class="dot"></span>{ status_label }
            </div>
            <ul class="room-peers" aria-label="People in the room">{ for peers }</ul>
            <ProfileEditor />
        </header>
    }
}

/// Name and colour, saved to the cache and sent to the hub.
#[component]
fn ProfileEditor() -> Html {
    // Yew writes `value` back into the inputs on every render: rendering
    // only when the saved profile changes keeps what the person is typing
    // while events stream in.
    let room = use_room_context();
    let profile = use_room_select(|room| room.state.profile.clone());
    let name_ref = use_node_ref();
    let color_ref = use_node_ref();
    let save = {
        let room = room.clone();
        let name_ref = name_ref.clone();
        let color_ref = color_ref.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let name = name_ref
                .cast::<HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            let color = color_ref
                .cast::<HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            room.set_profile(name.trim(), &color);
        })
    };
    let color = if profile.color.is_empty() {
        "#4c6ef5".to_owned()
    } else {
        profile.color.clone()
    };
    html! {
        <form class="room-profile" onsubmit={save}>
            <input ref={name_ref} type="text" placeholder="Your name" maxlength="40"
                value={profile.name.clone()} aria-label="Your name" />
            <input ref={color_ref} type="color" value={color} aria-label="Your colour" />
            <button type="submit">{ "Save" }</button>
        </form>
    }
}
