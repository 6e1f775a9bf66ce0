//! Sharing: copy the room link, copy a view-only link, and download a
//! snapshot through a link the hub mints for the page's token (asked for
//! with the token in a header), so the token never appears in a URL, the
//! page needs no Web Crypto (which plain-http origins lack), and the
//! browser streams the tar straight to disk.

use gloo_timers::callback::Interval;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::clock::unix_secs;
use room_protocol::{urls, SnapshotLink, SNAPSHOT_LINK_SECONDS};
use yew::prelude::*;

use crate::ui::use_room;

/// Asks the hub at `hub` for a snapshot link for `token`; the link's full
/// URL, or why not (never with the token). Plain `fetch`: an HTTP client
/// library would cost the bundle more than this one request needs.
async fn fetch_snapshot_link(hub: &str, room_id: &str, token: &str) -> Result<String, String> {
    let hub = hub.trim_end_matches('/');
    let url = format!("{hub}{}", urls::snapshot_link_path(room_id));
    let browser = |e: JsValue| format!("{e:?}").replace(token, "…");
    let window = web_sys::window().ok_or("no window")?;
    let headers = web_sys::Headers::new().map_err(browser)?;
    headers
        .set("Authorization", &format!("Bearer {token}"))
        .map_err(browser)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .and_then(|r| r.dyn_into())
        .map_err(|_| "the hub did not answer".to_owned())?;
    if !response.ok() {
        return Err(format!("the hub answered {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(browser)?)
        .await
        .map_err(browser)?
        .as_string()
        .unwrap_or_default();
    // Read as a JSON value, whose decoder the page has anyway (event
    // data), rather than by a derived decoder of `SnapshotLink`'s own.
    let answer: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("unexpected answer: {e}"))?;
    let path = answer[SnapshotLink::PATH_FIELD]
        .as_str()
        .ok_or("unexpected answer: no path")?;
    Ok(format!("{hub}{path}"))
}

fn copy_to_clipboard(text: String) {
    if let Some(window) = web_sys::window() {
        let clipboard = window.navigator().clipboard();
        let _ = clipboard.write_text(&text);
    }
}

/// Copy links and download a snapshot.
#[component]
pub fn SharePanel() -> Html {
    let room = use_room();
    let snapshot_href = use_state(|| None::<String>);
    let refresh = use_force_update();
    {
        // Ask again every few minutes so the link on screen never expires.
        use_effect_with((), move |_| {
            let interval = Interval::new(((SNAPSHOT_LINK_SECONDS / 2) * 1000) as u32, move || {
                refresh.force_update()
            });
            move || drop(interval)
        });
    }
    {
        let snapshot_href = snapshot_href.setter();
        let key = room.token().map(|t| t.expose().to_owned());
        let room_id = room.room_id.to_string();
        let hub = room.hub_url.to_string();
        let minute = unix_secs() / (SNAPSHOT_LINK_SECONDS / 2);
        use_effect_with(
            (key, room_id, hub, minute),
            move |(key, room_id, hub, _)| {
                if let Some(key) = key.clone() {
                    let (room_id, hub) = (room_id.clone(), hub.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        match fetch_snapshot_link(&hub, &room_id, &key).await {
                            Ok(link) => snapshot_href.set(Some(link)),
                            Err(why) => web_sys::console::warn_1(
                                &format!("room-client: no snapshot link: {why}").into(),
                            ),
                        }
                    });
                }
            },
        );
    }
    let copy_link = room
        .share_link()
        .map(|link| Callback::from(move |_: MouseEvent| copy_to_clipboard(link.clone())));
    let copy_view = room
        .view_only_link()
        .map(|link| Callback::from(move |_: MouseEvent| copy_to_clipboard(link.clone())));
    html! {
        <section class="room-share" aria-label="Share">
            if let Some(onclick) = copy_link {
                <button {onclick}>{ if room.state.read_only { "Copy view-only link" } else { "Copy room link" } }</button>
            }
            if let Some(onclick) = copy_view {
                <button {onclick}>{ "Copy view-only link" }</button>
            }
            if let Some(href) = (*snapshot_href).clone() {
                <a class="button" {href} download={format!("{}.tar", room.room_id)}>{ "Download snapshot" }</a>
            }
        </section>
    }
}
