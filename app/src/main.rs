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
    // The hub is the page's own origin, except in the development loop,
    // where the options' default is the `ROOM_HUB_URL` trunk built with.
    yew::Renderer::<RoomClient>::with_props(RoomClientProps {
        options: room_client::RoomOptions::default(),
        children: Default::default(),
    })
    .render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    // The app only runs in a browser; natively this target builds empty so
    // `cargo build --workspace` keeps working.
}
