//! `room-testkit`'s library: what its three binaries share. The harness
//! browser tests talk to (`room-testkit`, `src/main.rs`) and the hub's two
//! benchmarks (`room-bench-hub`, `room-soak-hub`, `src/bin/`) are built on
//! these modules.
//!
//! - `hub`: `room-hub` as a real child process over a scratch project.
//! - `proxy`: the fault-injecting TCP proxy in front of it.
//! - `http1`: a minimal HTTP/1.1 client for the hub's plain routes.
//! - `measure`: the benchmarks' probes (RSS, CPU, bytes read, health, a
//!   timed join).
//! - `page_watch`: the page under test, reporting its console errors and
//!   uncaught exceptions to the kit.

pub mod http1;
pub mod hub;
pub mod measure;
pub mod page_watch;
pub mod proxy;
