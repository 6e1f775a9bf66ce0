//! The default room UI: what a person sees after opening a share link.

use yew::prelude::*;

use crate::ui::use_room;
use crate::ui::{Banners, Editor, EventLog, FileList, PulseChart, SharePanel, TopBar};

/// Top bar, banners, files and editor, the pulse, and sharing.
#[component]
pub fn RoomView() -> Html {
    let room = use_room();
    let selected = use_state(|| None::<AttrValue>);
    // Open the first file once files are known, so the page never starts
    // empty-handed.
    let shown = (*selected).clone().or_else(|| {
        room.state
            .files
            .keys()
            .next()
            .map(|p| AttrValue::from(p.clone()))
    });
    let on_select = {
        let selected = selected.setter();
        Callback::from(move |path: AttrValue| selected.set(Some(path)))
    };
    html! {
        <div class="room">
            <TopBar />
            <Banners />
            <main class="room-main">
                <FileList selected={shown.clone()} {on_select} />
                if let Some(path) = shown {
                    <Editor {path} />
                } else {
                    <section class="room-editor empty"><p>{ "No files yet." }</p></section>
                }
            </main>
            <section class="room-side">
                <PulseChart />
                <EventLog />
                <SharePanel />
            </section>
        </div>
    }
}
