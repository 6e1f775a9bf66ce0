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

/// A URL on room-testkit's control API. The kit's address is read at run
/// time: `scripts/testkit.sh` writes it to `out/testkit.json`, and
/// wasm-bindgen's test runner serves the package directory beside the test
/// page, so the page fetches it from its own origin.
pub async fn kit(path: &str) -> String {
    thread_local! {
        static BASE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    }
    if let Some(base) = BASE.with(|b| b.borrow().clone()) {
        return format!("{base}{path}");
    }
    let response = Request::get("/out/testkit.json").send().await.unwrap();
    assert!(
        response.ok(),
        "out/testkit.json is written by scripts/testkit.sh, which starts room-testkit"
    );
    let found: Value = response.json().await.unwrap();
    let base = found["control"].as_str().unwrap().to_owned();
    BASE.with(|b| *b.borrow_mut() = Some(base.clone()));
    format!("{base}{path}")
}

pub async fn kit_get(path: &str) -> Value {
    Request::get(&kit(path).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub async fn kit_post(path: &str) -> Value {
    let response = Request::post(&kit(path).await).send().await.unwrap();
    assert!(response.ok(), "{path}: {}", response.status());
    response.json().await.unwrap()
}

/// Has the kit's hub emit `count` runtime events of `kind`; the newest rev.
pub async fn kit_events(count: u64, kind: &str) -> u64 {
    let posted = kit_post(&format!("/events/{count}?kind={kind}")).await;
    posted["revs"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_u64()
        .unwrap()
}

/// A file of the kit's project folder as it is on disk now.
pub async fn kit_file(path: &str) -> Option<String> {
    let response = Request::get(&kit(&format!("/file/{path}")).await)
        .send()
        .await
        .unwrap();
    if response.status() == 404 {
        return None;
    }
    Some(response.text().await.unwrap())
}
