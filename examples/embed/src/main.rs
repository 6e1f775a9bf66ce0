//! A minimal app that embeds a room with its own UI.
//!
//! `RoomClient` does the hard parts (token, reconnects, cache); this app
//! only reads the room through `use_room()` and acts on it. Serve it from a
//! hub (`room-hub --web examples/embed/dist`) and open a share link.
//!
//! It brings its own UI, so it depends on room-client without the
//! `default-ui` feature. The components compile on every target; only
//! mounting the app needs the browser (and yew's `csr`).

// Natively nothing mounts the app, so it is unused there.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod app {
    use room_client::prelude::*;
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
        // The file's text as this page has it (or its draft); a room's
        // contents come on demand, so it may still be on its way.
        let notes = use_file("NOTES.md");
        let note = {
            let room = room.clone();
            let current = notes.text();
            Callback::from(move |_| {
                let line = format!("- visited at {}\n", visited_at());
                room.save("NOTES.md", &format!("{current}{line}"));
            })
        };
        html! {
            <main style="font-family: system-ui; max-width: 40rem; margin: 2rem auto;">
                <h1>{ "My project dashboard" }</h1>
                <p>{ format!("Room {} is {status}.", room.room_id) }</p>
                <p>{ format!("{} files, {} recent events, {} people here.",
                    state.files.len(), state.events.len(), state.peers.len()) }</p>
                <button onclick={note} disabled={notes.loading}>{ "Sign the notes file" }</button>
                if !state.drafts.is_empty() {
                    <p>{ format!("{} edit(s) waiting for the hub.", state.drafts.len()) }</p>
                }
            </main>
        }
    }

    #[cfg(target_arch = "wasm32")]
    fn visited_at() -> String {
        String::from(js_sys::Date::new_0().to_iso_string())
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn visited_at() -> String {
        "an unknown time".into()
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
