//! The host's links: on a page opened with the host link, the share panel
//! shows the edit link and the view-only link, each in a read-only field
//! with Copy and Regenerate (after a confirmation, since everyone using
//! the old link is disconnected), and turns the view link off and on.
//! The fields follow the room's state, which the hub's `links` frame
//! updates for every host tab at once.

use room_protocol::urls::LinkKind;
use web_sys::HtmlElement;
use yew::prelude::*;

use super::share::{copy_link, Copied};

use crate::ui::use_room;

/// What the host asked for and must confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// A new token for this link.
    Regenerate(LinkKind),
    /// The view link off.
    TurnOffView,
}

impl Change {
    fn question(self) -> &'static str {
        match self {
            Self::Regenerate(_) => "Everyone using the old link will be disconnected.",
            Self::TurnOffView => {
                "Everyone using the view-only link will be disconnected, and nobody can join with it."
            }
        }
    }

    fn confirm_label(self) -> &'static str {
        match self {
            Self::Regenerate(LinkKind::Edit) => "Regenerate the edit link",
            Self::Regenerate(LinkKind::View) => "Regenerate the view-only link",
            Self::TurnOffView => "Turn the view-only link off",
        }
    }

    fn done(self) -> &'static str {
        match self {
            Self::Regenerate(LinkKind::Edit) => {
                "A new edit link is ready; the old one no longer works."
            }
            Self::Regenerate(LinkKind::View) => {
                "A new view-only link is ready; the old one no longer works."
            }
            Self::TurnOffView => "The view-only link is off.",
        }
    }
}

/// What the panel says of a link, written out (no `format!` at run time,
/// and no `to_lowercase`, which would add Unicode's case tables).
struct Words {
    /// The field's label.
    label: &'static str,
    /// The field's id.
    id: &'static str,
    /// The Copy button's accessible name.
    copy: &'static str,
    /// The Regenerate button's accessible name.
    regenerate: &'static str,
    /// What the panel says once it is copied.
    copied: &'static str,
    /// What it says when the browser would not copy.
    copy_by_hand: &'static str,
}

fn words(kind: LinkKind) -> &'static Words {
    match kind {
        LinkKind::Edit => &Words {
            label: "Edit link",
            id: "room-edit-link",
            copy: "Copy the edit link",
            regenerate: "Regenerate the edit link",
            copied: "Edit link copied.",
            copy_by_hand: "This browser would not copy: select the edit link field and copy it.",
        },
        LinkKind::View => &Words {
            label: "View-only link",
            id: "room-view-link",
            copy: "Copy the view-only link",
            regenerate: "Regenerate the view-only link",
            copied: "View-only link copied.",
            copy_by_hand:
                "This browser would not copy: select the view-only link field and copy it.",
        },
    }
}

/// The host's two links and their controls.
#[component]
pub(super) fn HostLinks() -> Html {
    let room = use_room();
    let asking = use_state(|| None::<Change>);
    // What the last action came to, in a live region.
    let said = use_state(String::new);
    let confirm_ref = use_node_ref();
    {
        // The confirmation takes the focus as it appears.
        let confirm_ref = confirm_ref.clone();
        use_effect_with(*asking, move |asking| {
            if asking.is_some() {
                if let Some(button) = confirm_ref.cast::<HtmlElement>() {
                    let _ = button.focus();
                }
            }
        });
    }

    // The confirmation closes at once; a second request meanwhile is the
    // host's to make (it replaces the link again).
    let carry_out = {
        let room = room.clone();
        let (asking, said) = (asking.setter(), said.setter());
        move |change: Change| {
            let room = room.clone();
            let said = said.clone();
            asking.set(None);
            said.set("Changing the link…".to_owned());
            wasm_bindgen_futures::spawn_local(async move {
                // One request for all three (the field follows the hub's
                // `links` frame, not the answer).
                let result = match change {
                    Change::Regenerate(kind) => room.host_request(kind, "POST"),
                    Change::TurnOffView => room.host_request(LinkKind::View, "DELETE"),
                }
                .await;
                said.set(match result {
                    Ok(_) => change.done().to_owned(),
                    Err(why) => format!("The link was not changed: {why}."),
                });
            });
        }
    };

    let ask = |change: Change| {
        let (asking, said) = (asking.setter(), said.setter());
        Callback::from(move |_: MouseEvent| {
            said.set(String::new());
            asking.set(Some(change));
        })
    };
    let copy = |kind: LinkKind, link: String| {
        let said = said.setter();
        Callback::from(move |_: MouseEvent| {
            let said = said.clone();
            copy_link(
                link.clone(),
                Box::new(move |copied| {
                    let words = words(kind);
                    said.set(
                        match copied {
                            Copied::Done => words.copied,
                            Copied::ByHand(_) => words.copy_by_hand,
                        }
                        .to_owned(),
                    )
                }),
            );
        })
    };

    let row = |kind: LinkKind, link: Option<String>| {
        let words = words(kind);
        match link {
            Some(link) => html! {
                <div class="room-link" data-link={kind.name()}>
                    <label for={words.id}>{ words.label }</label>
                    <input id={words.id} class="room-link-field" readonly=true value={link.clone()} />
                    <button onclick={copy(kind, link)} aria-label={words.copy}>{ "Copy" }</button>
                    <button onclick={ask(Change::Regenerate(kind))} aria-label={words.regenerate}>
                        { "Regenerate" }
                    </button>
                    if kind == LinkKind::View {
                        <button onclick={ask(Change::TurnOffView)}>{ "Turn off" }</button>
                    }
                </div>
            },
            None => {
                // Only the view link can be off; turning it on disconnects
                // nobody, so it needs no confirmation.
                let carry_out = carry_out.clone();
                let on = Callback::from(move |_: MouseEvent| {
                    carry_out(Change::Regenerate(LinkKind::View))
                });
                html! {
                    <div class="room-link" data-link={kind.name()}>
                        <span>{ "View-only link: off" }</span>
                        <button onclick={on}>{ "Turn on" }</button>
                    </div>
                }
            }
        }
    };

    let confirmation = (*asking).map(|change| {
        let carry_out = carry_out.clone();
        let confirm = Callback::from(move |_: MouseEvent| carry_out(change));
        let cancel = {
            let asking = asking.setter();
            Callback::from(move |_: MouseEvent| asking.set(None))
        };
        html! {
            <div class="room-confirm" role="group" aria-label="Confirm" data-confirm="link">
                <p>{ change.question() }</p>
                <button ref={confirm_ref.clone()} class="danger" onclick={confirm}>
                    { change.confirm_label() }
                </button>
                <button onclick={cancel}>{ "Cancel" }</button>
            </div>
        }
    });

    html! {
        <div class="room-host-links" role="group" aria-label="Links (host)">
            { row(LinkKind::Edit, room.share_link()) }
            { row(LinkKind::View, room.view_only_link()) }
            { for confirmation }
            <span class="room-host-said" role="status" aria-atomic="true">{ (*said).clone() }</span>
        </div>
    }
}
