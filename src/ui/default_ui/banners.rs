//! The banners that tell a person what the connection and the hub are
//! doing, written for screen readers as WCAG technique ARIA22 asks: the
//! connection's live region (`role="status"`, `aria-atomic`) and the
//! notices' (`role="status"`) are in the page from the start, so what
//! appears in them is announced. A lost connection and a link that cannot
//! work are alerts (`role="alert"`), announced as they appear.

use gloo_timers::callback::Interval;
use yew::prelude::*;

use super::unsaved::UnsavedDownload;
use crate::clock::now_ms;
use crate::state::{ConnectionStatus, Notice};
use crate::ui::use_room;

/// Re-renders every second while `active`, for countdowns.
#[hook]
fn use_ticker(active: bool) {
    let force = use_force_update();
    use_effect_with(active, move |&active| {
        let interval = active.then(|| Interval::new(1000, move || force.force_update()));
        move || drop(interval)
    });
}

/// A terminal problem: nothing to do but read it, and take away what the
/// page could not save.
fn alert(kind: &'static str, text: &'static str) -> Html {
    html! {
        <div class="room-banner alert" role="alert" data-banner={kind}>
            <span>{ text }</span>
            <UnsavedDownload />
        </div>
    }
}

/// Every banner the state calls for.
#[component]
pub fn Banners() -> Html {
    let room = use_room();
    let state = &room.state;
    let waiting_at = match &state.status {
        ConnectionStatus::Reconnecting {
            next_retry_at: Some(at),
            ..
        } => Some(*at),
        _ => None,
    };
    use_ticker(waiting_at.is_some());

    // The live region holds the sentence that matters (the attempt); the
    // countdown beside it changes every second and would be read out as
    // often.
    let (live, reconnecting) = match &state.status {
        ConnectionStatus::Reconnecting {
            attempt,
            next_retry_at,
        } => {
            let when = match next_retry_at {
                Some(at) => {
                    // Whole seconds, formatted as an integer (float
                    // formatting would pull kilobytes into the bundle).
                    let seconds = ((at - now_ms()) / 1000.0).ceil().max(0.0) as u64;
                    format!("retrying in {seconds} s")
                }
                None => "connecting now".to_owned(),
            };
            let retry = {
                let room = room.clone();
                Callback::from(move |_| room.retry())
            };
            (
                format!("Reconnecting… (attempt {attempt})"),
                html! {
                    <>
                        <span class="countdown">{ when }</span>
                        <button onclick={retry}>{ "Retry now" }</button>
                    </>
                },
            )
        }
        _ => (String::new(), Html::default()),
    };
    let active = !live.is_empty();
    let connection = html! {
        <div class={classes!("room-connection", active.then_some("room-banner"), active.then_some("warn"))}
            data-banner={active.then_some("reconnecting")}>
            <span class="live" role="status" aria-atomic="true">{ live }</span>
            { reconnecting }
        </div>
    };
    let problem = match &state.status {
        ConnectionStatus::Connecting
        | ConnectionStatus::Connected
        | ConnectionStatus::Reconnecting { .. } => html! {},
        ConnectionStatus::Lost => {
            let retry = {
                let room = room.clone();
                Callback::from(move |_| room.retry())
            };
            html! {
                <div class="room-banner alert" role="alert" data-banner="lost">
                    <span>{ "Lost connection — refresh to retry." }</span>
                    <button onclick={retry}>{ "Retry" }</button>
                    <UnsavedDownload />
                </div>
            }
        }
        ConnectionStatus::Unauthorized => alert(
            "unauthorized",
            "This link is invalid or has expired. Ask the host for a new one.",
        ),
        ConnectionStatus::LinkReplaced => alert(
            "link-replaced",
            "The host replaced this link. Ask them for the new one.",
        ),
        ConnectionStatus::RoomGone => alert("room-gone", "This room has closed."),
        ConnectionStatus::NeedsToken => alert(
            "needs-token",
            "Open this room with its share link: the link carries the key to the room.",
        ),
        ConnectionStatus::ProtocolError => alert(
            "protocol-error",
            "This page and the hub do not understand each other. Refresh to load the current version.",
        ),
    };

    let notices = state.notices.iter().enumerate().map(|(index, notice)| {
        let (kind, text) = match notice {
            Notice::ReadOnly { .. } => (
                "read-only",
                "This link is view-only. Your edit was not saved; it is kept here.".to_owned(),
            ),
            Notice::TooLarge { path, bytes } => (
                "too-large",
                format!(
                    "{path} is {} KiB, over the 1 MiB limit. It was not sent; it is kept here.",
                    bytes / 1024
                ),
            ),
            Notice::EditRefused { path, message } => (
                "edit-refused",
                format!("The hub refused your edit to {path}: {message}. It is kept here."),
            ),
            Notice::Merged { path, with } => (
                "merged",
                match with {
                    Some(name) => format!("Your changes to {path} were merged with {name}'s."),
                    None => format!("Your changes to {path} were merged with a newer version."),
                },
            ),
            Notice::StorageFallback { reason } => (
                "storage-fallback",
                // The reason is a whole clause ("offline storage is full").
                format!(
                    "{}; this tab works from memory and forgets on close.",
                    capitalized(reason)
                ),
            ),
        };
        let dismiss = {
            let room = room.clone();
            Callback::from(move |_| room.dismiss_notice(index))
        };
        html! {
            <div class="room-banner notice" data-banner={kind}>
                <span>{ text }</span>
                <button class="quiet" onclick={dismiss} aria-label="Dismiss">{ "×" }</button>
            </div>
        }
    });

    html! {
        <div class="room-banners">
            { connection }
            { problem }
            <div class="room-notices" role="status">
                // Said before the first keystroke, and for as long as it holds.
                if state.read_only {
                    <div class="room-banner notice" data-banner="view-only">
                        <span>{ "This link is view-only: you can read along, and nothing you type here is saved." }</span>
                    </div>
                }
                if let Some(left_out) = state.left_out {
                    <div class="room-banner notice" data-banner="left-out">
                        <span>{ format!(
                            "This project has more files than the room holds: {} are left out. The room shows {} files, the hub's limit.",
                            grouped(left_out.files), grouped(left_out.limit)
                        ) }</span>
                    </div>
                }
                { for notices }
            </div>
        </div>
    }
}

/// `n` with its digits in groups of three (`231,456`), as English writes
/// counts.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The sentence with its first letter in upper case. ASCII only: the
/// reasons are this crate's own English sentences, and full Unicode case
/// mapping would add its tables (about 6 KB gzipped) to the bundle.
fn capitalized(sentence: &str) -> String {
    let mut text = sentence.to_owned();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn counts_are_grouped_by_thousands() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (200_000, "200,000"),
            (1_234_567, "1,234,567"),
        ];
        for (n, text) in cases {
            assert_eq!(grouped(n), text);
        }
    }
}
