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

/// The link's name at the start of a sentence, and inside one (written
/// out: `to_lowercase` would add Unicode's case tables to the bundle).
fn label_of(kind: LinkKind) -> (&'static str, &'static str) {
    match kind {
        LinkKind::Edit => ("Edit link", "edit link"),
        LinkKind::View => ("View-only link", "view-only link"),
    }
}

/// The host's two links and their controls.
#[component]
pub(super) fn HostLinks() -> Html {
    let room = use_room();
    let asking = use_state(|| None::<Change>);
    let busy = use_state(|| false);
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

    let carry_out = {
        let room = room.clone();
        let (asking, busy, said) = (asking.setter(), busy.setter(), said.setter());
        move |change: Change| {
            let room = room.clone();
            let (asking, busy, said) = (asking.clone(), busy.clone(), said.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = match change {
                    Change::Regenerate(kind) => room.replace_link(kind).await.map(drop),
                    Change::TurnOffView => room.turn_off_view_link().await,
                };
                said.set(match result {
                    Ok(()) => change.done().to_owned(),
                    Err(why) => format!("The link was not changed: {why}."),
                });
                asking.set(None);
                busy.set(false);
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
            copy_link(link.clone(), move |copied| {
                said.set(match copied {
                    Copied::Done => format!("{} copied.", label_of(kind).0),
                    Copied::ByHand(_) => format!(
                        "This browser would not copy: select the {} field and copy it.",
                        label_of(kind).1
                    ),
                });
            });
        })
    };

    let row = |kind: LinkKind, link: Option<String>| {
        let id = format!("room-{}-link", kind.name());
        let (label, in_sentence) = label_of(kind);
        match link {
            Some(link) => html! {
                <div class="room-link" data-link={kind.name()}>
                    <label for={id.clone()}>{ label }</label>
                    <input {id} class="room-link-field" readonly=true value={link.clone()}
                        onfocus={Callback::from(|e: FocusEvent| {
                            if let Some(field) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                                field.select();
                            }
                        })} />
                    <button onclick={copy(kind, link)} aria-label={format!("Copy the {in_sentence}")}>{ "Copy" }</button>
                    <button onclick={ask(Change::Regenerate(kind))} disabled={*busy}
                        aria-label={format!("Regenerate the {in_sentence}")}>{ "Regenerate" }</button>
                    if kind == LinkKind::View {
                        <button onclick={ask(Change::TurnOffView)} disabled={*busy}>{ "Turn off" }</button>
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
                        <span>{ format!("{label}: off") }</span>
                        <button onclick={on} disabled={*busy}>{ "Turn on" }</button>
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
                <button ref={confirm_ref.clone()} class="danger" onclick={confirm} disabled={*busy}>
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
