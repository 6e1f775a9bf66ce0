//! "Download my unsaved changes": a link to a file of the page's drafts,
//! each with its path ([`crate::state::UnsavedChanges`]), offered where the
//! page cannot save them for the person (its link was replaced or refused,
//! the room closed, the connection was lost). A real link to a `blob:`
//! URL, so it works by keyboard and "Save link as" as well as by click.

use yew::prelude::*;

use crate::ui::use_room;

/// A `blob:` URL holding `json`, or `None` if the browser would not make
/// one. Revoke it with `Url::revoke_object_url` when done.
fn object_url(json: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&json.into());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// The download link, when the page has drafts; nothing otherwise.
#[component]
pub(super) fn UnsavedDownload() -> Html {
    let room = use_room();
    let file = room.state.unsaved_changes(&room.room_id);
    let href = use_state(|| None::<String>);
    {
        let href = href.setter();
        use_effect_with(file.clone(), move |file| {
            let url = file.as_ref().and_then(|file| object_url(&file.json));
            href.set(url.clone());
            move || {
                if let Some(url) = url {
                    let _ = web_sys::Url::revoke_object_url(&url);
                }
            }
        });
    }
    match (file, (*href).clone()) {
        (Some(file), Some(href)) => html! {
            <a class="button" {href} download={file.file_name} data-action="download-unsaved">
                { "Download my unsaved changes" }
            </a>
        },
        _ => html! {},
    }
}
