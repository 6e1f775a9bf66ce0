//! Sharing: copy the room link, copy a view-only link, and download a
//! snapshot through a link signed in the page with Web Crypto, so the token
//! never appears in a URL and the browser streams the tar straight to disk.

use gloo_timers::callback::Interval;
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::clock::unix_secs;
use room_protocol::SNAPSHOT_LINK_SECONDS;
use yew::prelude::*;

use crate::ui::use_room;

/// `hex(HMAC-SHA256(key, message))` computed by the browser's Web Crypto.
pub async fn hmac_sha256_hex(key: &str, message: &str) -> Result<String, JsValue> {
    let subtle = web_sys::window()
        .ok_or_else(|| JsValue::from_str("no window"))?
        .crypto()?
        .subtle();
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &"HMAC".into())?;
    Reflect::set(&algorithm, &"hash".into(), &"SHA-256".into())?;
    let usages = js_sys::Array::of1(&"sign".into());
    let key_data = Uint8Array::from(key.as_bytes());
    let key = JsFuture::from(
        subtle.import_key_with_object("raw", &key_data, &algorithm, false, &usages)?,
    )
    .await?
    .dyn_into::<web_sys::CryptoKey>()?;
    let signature =
        JsFuture::from(subtle.sign_with_str_and_u8_array("HMAC", &key, message.as_bytes())?)
            .await?;
    let bytes = Uint8Array::new(&signature).to_vec();
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
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
        // Re-sign every few minutes so the link on screen never expires.
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
                        let exp = unix_secs() + SNAPSHOT_LINK_SECONDS;
                        let message = room_protocol::snapshot_signing_message(&room_id, exp);
                        if let Ok(sig) = hmac_sha256_hex(&key, &message).await {
                            let link =
                                room_protocol::urls::snapshot_link(&hub, &room_id, exp, &sig);
                            snapshot_href.set(Some(link));
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
