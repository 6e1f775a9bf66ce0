//! The default room UI: what a person sees after opening a share link.

use yew::prelude::*;

use super::page_event::use_window_listener;
use crate::ui::use_room;
use crate::ui::{Banners, Editor, EventLog, FileList, PulseChart, SharePanel, TopBar};

/// Top bar, banners, files and editor, the pulse, and sharing.
#[component]
pub fn RoomView() -> Html {
    let room = use_room();
    // A link to a file (`#/src/main.rs`) opens it.
    let selected = use_state(|| fragment_path().map(AttrValue::from));
    use_file_fragment(selected.clone());
    // Open the first file once files are known, so the page never starts
    // empty-handed.
    let shown = (*selected).clone().or_else(|| {
        room.state
            .files
            .keys()
            .next()
            .map(|p| AttrValue::from(p.clone()))
    });
    let on_select = {
        let selected = selected.setter();
        Callback::from(move |path: AttrValue| selected.set(Some(path)))
    };
    html! {
        <div class="room">
            <TopBar />
            <Banners />
            <main class="room-main">
                <FileList selected={shown.clone()} {on_select} />
                if let Some(path) = shown {
                    <Editor {path} />
                } else {
                    <section class="room-editor empty"><p>{ "No files yet." }</p></section>
                }
            </main>
            <section class="room-side">
                <PulseChart />
                <EventLog />
                <SharePanel />
            </section>
        </div>
    }
}

/// The file the page's URL fragment names, if any.
fn fragment_path() -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        let hash = web_sys::window()?.location().hash().ok()?;
        room_protocol::urls::path_from_fragment(&hash)
    }
    #[cfg(not(target_arch = "wasm32"))]
    None
}

/// Keeps the URL fragment on the open file, so the address bar is a link
/// to it (replaced, not pushed: Back leaves the room, as before), and
/// opens the file a changed fragment names (a link pasted into this tab).
#[hook]
fn use_file_fragment(selected: UseStateHandle<Option<AttrValue>>) {
    let open = (*selected).clone();
    use_effect_with(open, |open| {
        #[cfg(target_arch = "wasm32")]
        if let (Some(path), Some(window)) = (open, web_sys::window()) {
            let fragment = room_protocol::urls::file_fragment(path);
            let current = window.location().hash().unwrap_or_default();
            if current != fragment {
                if let Ok(history) = window.history() {
                    let _ = history.replace_state_with_url(
                        &wasm_bindgen::JsValue::NULL,
                        "",
                        Some(&fragment),
                    );
                }
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        let _ = open;
    });
    use_window_listener("hashchange", move |_| {
        if let Some(path) = fragment_path() {
            selected.set(Some(path.into()));
        }
    });
}
