//! A minimal app that embeds a room with its own UI.
//!
//! `RoomClient` does the hard parts (token, reconnects, cache); this app
//! only reads the room through `use_room()` and acts on it. Serve it from a
//! hub (`room-hub --web examples/embed/dist`) and open a share link.

#[cfg(target_arch = "wasm32")]
mod app {
    use room_client::state::ConnectionStatus;
    use room_client::ui::{use_room, RoomClient};
    use yew::prelude::*;

    /// A one-line summary of the room and a button that appends to a
    /// notes file.
    #[component]
    fn Dashboard() -> Html {
        let room = use_room();
        let state = &room.state;
        let status = match &state.status {
            ConnectionStatus::Connected => "live".to_owned(),
            ConnectionStatus::Reconnecting { attempt, .. } => {
                format!("reconnecting (attempt {attempt})")
            }
            other => format!("{other:?}").to_lowercase(),
        };
        let note = {
            let room = room.clone();
            let current = state
                .files
                .get("NOTES.md")
                .map(|f| f.content.to_string())
                .unwrap_or_default();
            Callback::from(move |_| {
                let line = format!("- visited at {}\n", js_sys::Date::new_0().to_iso_string());
                room.edit("NOTES.md", &format!("{current}{line}"));
            })
        };
        html! {
            <main style="font-family: system-ui; max-width: 40rem; margin: 2rem auto;">
                <h1>{ "My project dashboard" }</h1>
                <p>{ format!("Room {} is {status}.", room.room_id) }</p>
                <p>{ format!("{} files, {} recent events, {} people here.",
                    state.files.len(), state.events.len(), state.peers.len()) }</p>
                <button onclick={note}>{ "Sign the notes file" }</button>
                if !state.drafts.is_empty() {
                    <p>{ format!("{} edit(s) waiting for the hub.", state.drafts.len()) }</p>
                }
            </main>
        }
    }

    #[component]
    pub(crate) fn App() -> Html {
        html! {
            <RoomClient>
                <Dashboard />
            </RoomClient>
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<app::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
