//! "Download my unsaved changes": a button that saves the page's drafts,
//! each with its path ([`crate::state::UnsavedChanges`]), as a file. It
//! is offered where the page cannot save them for the person (its link
//! was replaced or refused, the room closed, the connection was lost).

use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::state::UnsavedChanges;
use crate::ui::use_room;

/// Hands `file` to the browser's downloads: a `blob:` URL on a link that
/// is clicked and let go. Whether the browser took it.
fn download(file: &UnsavedChanges) -> Option<()> {
    let parts = js_sys::Array::of1(&file.json.as_str().into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let document = web_sys::window()?.document()?;
    let link: web_sys::HtmlElement = document.create_element("a").ok()?.dyn_into().ok()?;
    link.set_attribute("href", &url).ok()?;
    link.set_attribute("download", &file.file_name).ok()?;
    link.click();
    // The blob stays until the next download from this page replaces it:
    // revoked at once, Firefox may not have started reading it yet.
    LAST_DOWNLOAD.with(|last| {
        if let Some(old) = last.replace(Some(url)) {
            let _ = web_sys::Url::revoke_object_url(&old);
        }
    });
    Some(())
}

thread_local! {
    /// The `blob:` URL of this page's last download.
    static LAST_DOWNLOAD: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The download button, when the page has drafts; nothing otherwise.
#[component]
pub(super) fn UnsavedDownload() -> Html {
    let room = use_room();
    if room.state.drafts.is_empty() {
        return html! {};
    }
    let onclick = Callback::from(move |_: MouseEvent| {
        if let Some(file) = room.state.unsaved_changes(&room.room_id) {
            if download(&file).is_none() {
                web_sys::console::warn_1(&"room-client: the browser refused the download".into());
            }
        }
    });
    html! {
        <button {onclick} data-action="download-unsaved">{ "Download my unsaved changes" }</button>
    }
}
