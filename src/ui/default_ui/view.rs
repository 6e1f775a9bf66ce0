//! The default room UI: what a person sees after opening a share link.

use yew::prelude::*;

use super::page_event::use_window_listener;
use crate::ui::use_room;
use crate::ui::{Banners, Editor, EventLog, FileList, PulseChart, SharePanel, TopBar};

/// The default UI's stylesheet (`room.css` in the crate): every rule in
/// the cascade layer `room-client`, so the app's own rules win; themed by
/// the `--room-*` variables; reaching only elements inside class
/// `room-ui`. [`RoomView`] carries it with feature `bundled-styles`
/// (default); an app without that feature serves it itself.
pub const ROOM_CSS: &str = include_str!("room.css");

/// [`ROOM_CSS`] as a `<style>` element, for an app that lays out the
/// parts itself (inside an element of class `room-ui`). [`RoomView`]
/// renders it already with feature `bundled-styles`.
#[component]
pub fn RoomStyles() -> Html {
    html! { <style>{ ROOM_CSS }</style> }
}

/// Top bar, banners, files and editor, the pulse, and sharing: the page a
/// share link opens, styled with feature `bundled-styles` (default).
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
    let styles = if cfg!(feature = "bundled-styles") {
        html! { <RoomStyles /> }
    } else {
        Html::default()
    };
    html! {
        <div class="room room-ui">
            { styles }
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
