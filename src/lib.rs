//! `room-client`: Yew components that let a browser tab join a live
//! collaborative room hosted by `room-hub`, and stay in it through flaky
//! networks, refreshes and outages without losing work.
//!
//! This crate is being built in stages (see `ARCHITECTURE.md`). Today it
//! re-exports the wire protocol it speaks.

pub use room_protocol as protocol;
