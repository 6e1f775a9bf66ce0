//! Helpers shared by the browser test crates (`tests/*.rs`): the clock,
//! waiting, room-testkit's control API, and throwaway databases. Each test
//! crate uses a part of them.

#![allow(dead_code)]

#[path = "../../src/testing.rs"]
pub mod testing;

use gloo_net::http::Request;
use gloo_timers::future::TimeoutFuture;
use room_client::cache::IndexedDbCache;
use serde_json::Value;

/// Milliseconds on the page's clock.
pub fn now() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

/// Waits until `check` holds, polling every millisecond or so; fails with
/// `what` after `timeout_ms`.
pub async fn wait_until(what: &str, timeout_ms: f64, check: impl Fn() -> bool) {
    let deadline = now() + timeout_ms;
    while !check() {
        assert!(now() < deadline, "timed out waiting for {what}");
        TimeoutFuture::new(1).await;
    }
}

/// A room id no other test (or earlier run) uses.
pub fn fresh_room(label: &str) -> String {
    format!("{label}-{:x}", (js_sys::Math::random() * 1e15) as u64)
}

/// Deletes a room's database; a blocked delete completes once connections
/// close, but a test does not wait for that forever.
pub async fn delete_database(room: &str) {
    let _ = futures_util::future::select(
        Box::pin(IndexedDbCache::delete(room)),
        TimeoutFuture::new(2000),
    )
    .await;
}

/// A URL on room-testkit's control API. `scripts/test.sh` (and
/// `scripts/bench.sh`) start the kit and pass its address at compile time.
pub fn kit(path: &str) -> String {
    let Some(base) = option_env!("ROOM_TESTKIT_URL") else {
        panic!("ROOM_TESTKIT_URL is set by scripts/test.sh, which starts room-testkit");
    };
    format!("{base}{path}")
}

pub async fn kit_get(path: &str) -> Value {
    Request::get(&kit(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn kit_post(path: &str) -> Value {
    let response = Request::post(&kit(path)).send().await.unwrap();
    assert!(response.ok(), "{path}: {}", response.status());
    response.json().await.unwrap()
}

/// A file of the kit's project folder as it is on disk now.
pub async fn kit_file(path: &str) -> Option<String> {
    let response = Request::get(&kit(&format!("/file/{path}")))
        .send()
        .await
        .unwrap();
    if response.status() == 404 {
        return None;
    }
    Some(response.text().await.unwrap())
}
