//! The connection to the hub: a pure core and, in the browser, its shell.

mod core;
mod fetch;
mod publish;
mod throttle;

pub use self::core::{Command, Input, SessionCore};

#[cfg(target_arch = "wasm32")]
mod browser;

#[cfg(target_arch = "wasm32")]
pub use browser::{CacheChoice, Session, SessionConfig};
