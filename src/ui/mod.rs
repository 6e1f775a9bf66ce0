//! The Yew surface: [`RoomClient`] owns the session and the cache and
//! provides a [`RoomHandle`] as context; [`use_room`] and smaller hooks
//! read it; [`RoomView`] is the default room UI.
//!
//! ```
//! use room_client::ui::{use_room, RoomClient};
//! use yew::prelude::*;
//!
//! #[component]
//! fn Status() -> Html {
//!     let room = use_room();
//!     html! { <p>{ format!("{:?}", room.state.status) }</p> }
//! }
//!
//! #[component]
//! fn App() -> Html {
//!     html! { <RoomClient><Status /></RoomClient> }
//! }
//! ```

mod handle;
mod hub_requests;
mod provider;
mod store;

pub use handle::{
    use_file, use_room, use_room_actions, use_room_select, use_room_status, FileView, RoomActions,
    RoomHandle,
};
pub use provider::{RoomClient, RoomClientProps};

/// The default room UI and its parts (feature `default-ui`, on by
/// default).
#[cfg(feature = "default-ui")]
mod default_ui {
    pub(super) mod banners;
    pub(super) mod files;
    mod host_links;
    mod page_event;
    pub(super) mod pulse;
    pub(super) mod share;
    pub(super) mod topbar;
    mod unsaved;
    pub(super) mod view;
}

#[cfg(feature = "default-ui")]
pub use default_ui::{
    banners::Banners,
    files::{Editor, FileList},
    pulse::{EventLog, PulseChart},
    share::SharePanel,
    topbar::TopBar,
    view::{RoomStyles, RoomView, ROOM_CSS},
};
