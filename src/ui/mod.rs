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

mod banners;
mod files;
mod handle;
mod provider;
mod pulse;
mod share;
mod store;
mod topbar;
mod view;

pub use banners::Banners;
pub use files::{Editor, FileList};
pub use handle::{use_file, use_room, use_room_select, use_room_status, FileView, RoomHandle};
pub use provider::{RoomClient, RoomClientProps};
pub use pulse::{EventLog, PulseChart};
pub use share::SharePanel;
pub use topbar::TopBar;
pub use view::RoomView;
