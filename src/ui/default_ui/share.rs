//! Sharing: copy the room link, copy a view-only link, and download a
//! snapshot through a link the hub mints for the page's token (asked for
//! with the token in a header), so the token never appears in a URL, the
//! page needs no Web Crypto (which plain-http origins lack), and the
//! browser streams the tar straight to disk.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::clock::unix_secs;
use room_protocol::{urls, SnapshotLink, SNAPSHOT_LINK_SECONDS};
use yew::prelude::*;

use super::host_links::HostLinks;
use super::page_event::use_interval;
use crate::error::ClientError;
use crate::ui::hub_requests::{field, hub_request};
use crate::ui::use_room;

/// Asks the hub at `hub` for a snapshot link for `token`; the link's full
/// URL.
async fn fetch_snapshot_link(hub: &str, room_id: &str, token: &str) -> Result<String, ClientError> {
    let path = urls::snapshot_link_path(room_id);
    let answer = hub_request(hub, &path, "POST", token).await?;
    let path = field(&answer, SnapshotLink::PATH_FIELD)?;
    Ok(format!("{}{path}", hub.trim_end_matches('/')))
}

/// What the page tells the person after a copy button was pressed.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Copied {
    /// The link is on the clipboard.
    Done,
    /// The browser would not copy: the link is shown, selected, to copy
    /// by hand.
    ByHand(String),
}

/// The async clipboard, where the browser has one: only in a secure
/// context (https or localhost), so not on a plain-http LAN link.
fn async_clipboard() -> Option<web_sys::Clipboard> {
    let navigator = web_sys::window()?.navigator();
    let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).ok()?;
    clipboard.dyn_into().ok()
}

/// Copies `text` the way every browser still allows inside a click: a
/// selected, off-screen text field and `execCommand("copy")`. Whether it
/// worked.
fn copy_by_selection(text: &str) -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return false;
    };
    let Some(body) = document.body() else {
        return false;
    };
    let Ok(field) = document
        .create_element("textarea")
        .map(JsCast::unchecked_into::<web_sys::HtmlTextAreaElement>)
    else {
        return false;
    };
    field.set_value(text);
    let _ = field.set_attribute("readonly", "");
    let _ = field.set_attribute("style", "position:fixed;top:0;left:-9999px;opacity:0");
    if body.append_child(&field).is_err() {
        return false;
    }
    field.select();
    let copied = document
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()
        .and_then(|d| d.exec_command("copy").ok())
        .unwrap_or(false);
    field.remove();
    copied
}

/// Copies `link` and reports what happened through `done`: the async
/// clipboard where there is one, else (or if it refuses) the selection
/// fallback, else the link shown to copy by hand. Never throws.
/// (`done` is boxed so the two panels share one copy of this code.)
pub(super) fn copy_link(link: String, done: Box<dyn Fn(Copied)>) {
    let by_selection = move |link: String| {
        if copy_by_selection(&link) {
            Copied::Done
        } else {
            Copied::ByHand(link)
        }
    };
    match async_clipboard() {
        Some(clipboard) => {
            let promise = clipboard.write_text(&link);
            wasm_bindgen_futures::spawn_local(async move {
                let copied = match JsFuture::from(promise).await {
                    Ok(_) => Copied::Done,
                    Err(_) => by_selection(link),
                };
                done(copied);
            });
        }
        None => done(by_selection(link)),
    }
}

/// Copy links and download a snapshot.
#[component]
pub fn SharePanel() -> Html {
    let room = use_room();
    let snapshot_href = use_state(|| None::<String>);
    let refresh = use_force_update();
    // Ask again every few minutes so the link on screen never expires.
    use_interval(((SNAPSHOT_LINK_SECONDS / 2) * 1000) as u32, move || {
        refresh.force_update()
    });
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
    // Which button was pressed last, and what came of it.
    let copied = use_state(|| None::<(&'static str, Copied)>);
    let by_hand = use_node_ref();
    {
        // A link to copy by hand is selected as soon as it is shown.
        let by_hand = by_hand.clone();
        use_effect_with((*copied).clone(), move |_| {
            if let Some(field) = by_hand.cast::<web_sys::HtmlInputElement>() {
                let _ = field.focus();
                field.select();
            }
        });
    }
    let button = |label: &'static str, link: Option<String>| {
        link.map(|link| {
            let copied = copied.setter();
            let onclick = Callback::from(move |_: MouseEvent| {
                let copied = copied.clone();
                copy_link(
                    link.clone(),
                    Box::new(move |result| copied.set(Some((label, result)))),
                );
            });
            html! { <button {onclick}>{ label }</button> }
        })
    };
    let own_label = if room.state.read_only {
        "Copy view-only link"
    } else {
        "Copy room link"
    };
    let feedback = match &*copied {
        None => html! {},
        Some((_, Copied::Done)) => html! { { "Copied" } },
        Some((label, Copied::ByHand(link))) => html! {
            <label>
                { "Select and copy this link: " }
                <input ref={by_hand.clone()} class="copy-by-hand" readonly=true value={link.clone()}
                    aria-label={format!("{label}: the link to copy")} />
            </label>
        },
    };
    html! {
        <section class="room-share" aria-label="Share">
            if room.is_host() {
                <HostLinks />
            } else {
                { button(own_label, room.share_link()) }
                { button("Copy view-only link", room.view_only_link()) }
            }
            if let Some(href) = (*snapshot_href).clone() {
                <a class="button" {href} download={format!("{}.tar", room.room_id)}>{ "Download snapshot" }</a>
            }
            // A live region that is always there, so what it says is read out.
            <span class="copy-feedback" role="status" aria-atomic="true">{ feedback }</span>
        </section>
    }
}
