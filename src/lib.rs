//! `room-client`: Yew components that let a browser tab join a live
//! collaborative room hosted by `room-hub`, and stay in it through flaky
//! networks, refreshes and outages without losing work.
//!
//! The crate is a pure core with a thin browser shell:
//!
//! - [`reconnect`]: when to retry (backoff, give-up window, close codes);
//! - [`state`]: the room as the page sees it, a yew `Reducible`;
//! - [`session::SessionCore`]: the session as a state machine that turns
//!   socket events, timer ticks and the person's actions into commands;
//! - [`token`]: where the share-link token comes from and where it goes;
//!
//! all plain Rust with native tests. In the browser (wasm32),
//! `session::Session` runs the core over a real WebSocket and timers, and
//! `token::bootstrap` moves the token from the URL into sessionStorage.
//!
//! # Walkthrough
//!
//! The core can be driven by hand, which is how its tests work:
//!
//! ```
//! use room_client::intent::Intent;
//! use room_client::session::{Command, Input, SessionCore};
//! use room_client::state::{Action, ConnectionStatus, RoomState};
//! use room_client::SessionOptions;
//!
//! let mut core = SessionCore::new(SessionOptions::default(), RoomState::default(), 7);
//! assert_eq!(core.handle(Input::Start, 0.0), [Command::Connect]);
//! // The socket opened: the core says hello.
//! let sent = core.handle(Input::Opened, 10.0);
//! assert!(matches!(&sent[0], Command::Send(text) if text.contains(r#""type":"hello""#)));
//! // The hub answers; after `synced` the room is live.
//! core.handle(Input::Text(r#"{"type":"welcome","roomId":"r","project":{"id":"g","rev":0},
//!     "head":0,"readOnly":false,"peerId":"p1","peers":[],"mode":"snapshot",
//!     "files":[{"path":"a.txt","content":"hi","rev":0}]}"#.into()), 20.0);
//! core.handle(Input::Text(r#"{"type":"synced","head":0}"#.into()), 21.0);
//! assert_eq!(core.state().status, ConnectionStatus::Connected);
//! // Saving sends the edit at once while live.
//! let save = Intent::Save { path: "a.txt".into(), content: "hello".into() };
//! let sent = core.handle(Input::Act(Action::Person(save)), 30.0);
//! assert!(matches!(&sent[0], Command::Send(text) if text.contains(r#""type":"file-edit""#)));
//! ```

pub mod cache;
pub mod chart;
mod clock;
pub mod error;
pub mod intent;
pub mod marks;
mod options;
pub mod reconnect;
pub mod session;
pub mod state;
#[cfg(test)]
mod testing;
pub mod token;
pub mod ui;

pub use error::{CacheError, ClientError};

// The README's embedding example compiles, as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

/// What an app needs, in one import: `use room_client::prelude::*;`.
pub mod prelude {
    pub use crate::error::{CacheError, ClientError};
    pub use crate::intent::Intent;
    pub use crate::options::{RoomOptions, SessionOptions};
    pub use crate::state::{ConnectionStatus, Draft, DraftStatus, FileEntry, Notice, RoomState};
    #[cfg(feature = "default-ui")]
    pub use crate::ui::RoomView;
    pub use crate::ui::{
        use_file, use_room, use_room_select, use_room_status, FileView, RoomClient,
        RoomClientProps, RoomHandle,
    };
}
pub use options::{socket_url, RoomOptions, SessionOptions};
pub use room_protocol as protocol;
