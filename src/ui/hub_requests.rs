//! The page's HTTP requests to the hub: a snapshot link, and the host's
//! link changes. Each carries the page's token in `Authorization: Bearer`,
//! never in the URL, and no error it returns contains the token. Plain
//! `fetch`: an HTTP client library would cost the bundle more than these
//! few requests need.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::error::ClientError;

/// Sends `method` to `path` on the hub at `hub` with `token`, and returns
/// the answer's JSON body (`Null` for an empty one, as a 204 has).
pub(crate) async fn hub_request(
    hub: &str,
    path: &str,
    method: &str,
    token: &str,
) -> Result<serde_json::Value, ClientError> {
    let url = format!("{}{path}", hub.trim_end_matches('/'));
    let browser = |e: JsValue| ClientError::Browser(format!("{e:?}").replace(token, "…"));
    let window = web_sys::window().ok_or(ClientError::NoWindow)?;
    let headers = web_sys::Headers::new().map_err(browser)?;
    headers
        .set("Authorization", &format!("Bearer {token}"))
        .map_err(browser)?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    init.set_headers(&headers);
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .and_then(|r| r.dyn_into())
        .map_err(|_| ClientError::HubUnreachable)?;
    if !response.ok() {
        return Err(ClientError::HubStatus(response.status()));
    }
    let text = JsFuture::from(response.text().map_err(browser)?)
        .await
        .map_err(browser)?
        .as_string()
        .unwrap_or_default();
    if text.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    // Read as a JSON value, whose decoder the page has anyway (event
    // data), rather than by derived decoders of their own.
    serde_json::from_str(&text).map_err(|e| ClientError::HubAnswer(e.to_string()))
}

/// The string field `field` of a hub's answer.
pub(crate) fn field(answer: &serde_json::Value, field: &str) -> Result<String, ClientError> {
    answer[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ClientError::HubAnswer(format!("no {field}")))
}
