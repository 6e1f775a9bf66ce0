//! `room-client`: Yew components that let a browser tab join a live
//! collaborative room hosted by `room-hub`, and stay in it through flaky
//! networks, refreshes and outages without losing work.
//!
//! An app puts [`ui::RoomClient`] around its components. It finds the
//! room's token (the share link, this tab's sessionStorage, or another
//! tab), opens the room's IndexedDB cache and paints from it, connects,
//! reconnects with backoff, and keeps every unsaved edit. Components read
//! the room through hooks and act on it through [`ui::RoomHandle`], whose
//! methods send the person's [`intent::Intent`]s; what the hub says never
//! passes through the public API.
//!
//! Everything an app needs is in [`prelude`]. The app picks yew's renderer
//! (`csr` in the browser); the components and hooks also compile and render
//! natively (server rendering, an app's own unit tests), where they show a
//! calm "Connecting…". Feature `default-ui` (on by default) brings the
//! room UI a share link opens ([`ui::RoomView`]), and feature
//! `bundled-styles` (on by default) its stylesheet
//! ([`ui::ROOM_CSS`], in the cascade layer `room-client`). The README's
//! "Embedding" section is the whole path of a new app: its `Cargo.toml`,
//! `index.html`, `Trunk.toml` (the offline shell, `room-hub
//! --write-shell`) and `main.rs`.
//!
//! # Walkthrough
//!
//! ```
//! use room_client::prelude::*;
//! use yew::prelude::*;
//!
//! /// The room's status and one file; re-renders only when they change,
//! /// not for every runtime event.
//! #[component]
//! fn Notes() -> Html {
//!     let status = use_room_status();
//!     let notes = use_file("NOTES.md");
//!     // Acting needs no subscription: this hook never re-renders `Notes`.
//!     let room = use_room_actions();
//!     let sign = Callback::from(move |_| {
//!         // Sent now when connected; queued (and kept in the cache) until
//!         // the next connection otherwise, even before the session started.
//!         room.save("NOTES.md", &format!("{}- signed\n", notes.text()));
//!     });
//!     html! {
//!         <p>
//!             { format!("{status:?}") }
//!             <button onclick={sign}>{ "Sign the notes" }</button>
//!         </p>
//!     }
//! }
//!
//! #[component]
//! fn App() -> Html {
//!     // A room at a route of the app's own, on a hub elsewhere.
//!     let options = RoomOptions::default()
//!         .hub_url("https://hub.example:8787")
//!         .room_id("team");
//!     html! { <RoomClient {options}><Notes /></RoomClient> }
//! }
//!
//! // In the browser the app mounts it (`yew::Renderer::<App>::new().render()`,
//! // with yew's `csr`). Rendered anywhere else, before any connection:
//! let html = futures_executor::block_on(yew::ServerRenderer::<App>::new().render());
//! assert!(html.contains("Connecting"));
//! ```

#![deny(missing_docs)]
// Natively there is no browser shell to drive the core (the components
// render their placeholder), so what only the shell uses is unused there.
// Dead code is found on wasm32, the target the product runs on.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code, unused_imports))]

mod clock;
pub mod error;
pub mod intent;
pub mod marks;
pub mod merge;
mod options;
mod random;
pub mod state;
#[cfg(test)]
mod testing;
pub mod ui;

// The internals below are `pub` for the project's own tests and benchmarks
// (feature `testing`), crate-private otherwise. Each is declared twice,
// under opposite `cfg`s, rather than through a macro: rustfmt and clippy
// see every module's code only when it is declared plainly.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod cache;
#[cfg(not(feature = "testing"))]
mod cache;
/// Events per second, for the default UI's pulse chart.
#[cfg(all(feature = "default-ui", feature = "testing"))]
#[doc(hidden)]
pub mod chart;
#[cfg(all(feature = "default-ui", not(feature = "testing")))]
mod chart;
/// The default UI's file tree: which rows show.
#[cfg(feature = "default-ui")]
mod file_tree;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod reconnect;
#[cfg(not(feature = "testing"))]
mod reconnect;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod session;
#[cfg(not(feature = "testing"))]
mod session;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod token;
#[cfg(not(feature = "testing"))]
mod token;

pub use error::{CacheError, ClientError};
pub use options::{RoomOptions, SessionOptions};
pub use reconnect::ReconnectOptions;
#[doc(inline)]
pub use room_protocol as protocol;

// The README's embedding example compiles, as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

/// What an app needs, in one import: `use room_client::prelude::*;`.
pub mod prelude {
    pub use crate::error::{CacheError, ClientError};
    pub use crate::intent::Intent;
    pub use crate::options::{RoomOptions, SessionOptions};
    pub use crate::reconnect::ReconnectOptions;
    pub use crate::state::{
        ConnectionStatus, Draft, DraftStatus, FileEntry, Notice, Person, RoomState,
    };
    pub use crate::ui::{
        use_file, use_room, use_room_actions, use_room_select, use_room_status, FileView,
        RoomActions, RoomClient, RoomClientProps, RoomHandle,
    };
    #[cfg(feature = "default-ui")]
    pub use crate::ui::{RoomStyles, RoomView};
}
