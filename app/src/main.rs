//! The page a person opens from a share link: the default room UI, with
//! the room id taken from the address (`/rooms/{id}/`) and the hub on the
//! page's own origin. Built by trunk (`index.html`).

/// The heap: talc rather than the default dlmalloc (see `Cargo.toml`).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
fn main() {
    use room_client::ui::{RoomClient, RoomClientProps};
    // The hub is the page's own origin, except in the development loop:
    // `ROOM_HUB_URL=http://127.0.0.1:8787 trunk serve` bakes in a hub on
    // another port while trunk serves (and live-reloads) the page.
    let mut options = room_client::RoomOptions::default();
    options.hub_url = option_env!("ROOM_HUB_URL").map(String::from);
    yew::Renderer::<RoomClient>::with_props(RoomClientProps {
        options,
        children: Default::default(),
    })
    .render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    // The app only runs in a browser; natively this target builds empty so
    // `cargo build --workspace` keeps working.
}
