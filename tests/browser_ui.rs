//! Component tests in headless Chromium: render into a container, flush
//! the scheduler, look at the DOM. The embedding test talks to the real
//! hub that `scripts/test.sh` starts (room-testkit).

#![cfg(target_arch = "wasm32")]

use gloo_timers::future::TimeoutFuture;
use room_client::protocol::{FileVersion, PeerInfo};
use room_client::state::{ConnectionStatus, Draft, DraftStatus, FileEntry, Notice, RoomState};
use room_client::ui::{
    use_file, use_room, use_room_actions, use_room_status, Banners, RoomClient, RoomHandle,
    RoomView,
};
use room_client::RoomOptions;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

fn container() -> Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div
}

#[derive(Properties, PartialEq)]
struct PreviewProps {
    handle: RoomHandle,
    #[prop_or_default]
    full: bool,
}

/// Banners (or the whole view) over a fixed state.
#[component]
fn Preview(props: &PreviewProps) -> Html {
    html! {
        <ContextProvider<RoomHandle> context={props.handle.clone()}>
            if props.full { <RoomView /> } else { <Banners /> }
        </ContextProvider<RoomHandle>>
    }
}

async fn render(state: RoomState, full: bool) -> Element {
    let root = container();
    yew::Renderer::<Preview>::with_root_and_props(
        root.clone(),
        PreviewProps {
            handle: RoomHandle::preview(state, "demo"),
            full,
        },
    )
    .render();
    yew::scheduler::flush().await;
    root
}

fn banner(root: &Element, kind: &str) -> Option<Element> {
    root.query_selector(&format!("[data-banner=\"{kind}\"]"))
        .unwrap()
}

fn state_with(status: ConnectionStatus) -> RoomState {
    RoomState {
        status,
        ..RoomState::default()
    }
}

#[wasm_bindgen_test]
async fn reconnecting_shows_the_attempt_and_a_countdown() {
    let root = render(
        state_with(ConnectionStatus::Reconnecting {
            attempt: 3,
            next_retry_at: Some(now() + 3500.0),
        }),
        false,
    )
    .await;
    let el = banner(&root, "reconnecting").expect("the reconnecting banner");
    // The live region says the attempt; the countdown beside it is not in
    // the region, so it is not read out every second.
    let live = el
        .query_selector("[role=status][aria-atomic=true]")
        .unwrap()
        .expect("the connection's live region");
    assert_eq!(
        live.text_content().as_deref(),
        Some("Reconnecting… (attempt 3)")
    );
    let text = el.text_content().unwrap();
    assert!(
        text.contains("Reconnecting…")
            && text.contains("attempt 3")
            && text.contains("retrying in 4 s"),
        "{text}"
    );
    // The countdown ticks down by itself.
    TimeoutFuture::new(1100).await;
    yew::scheduler::flush().await;
    let text = banner(&root, "reconnecting")
        .unwrap()
        .text_content()
        .unwrap();
    assert!(text.contains("retrying in 3 s"), "{text}");
}

#[wasm_bindgen_test]
async fn the_connections_live_region_is_there_before_anything_happens() {
    // WCAG ARIA22: a region that exists, empty, while all is well, and
    // whose text changes; a region that appears with its text is often
    // not announced.
    for status in [ConnectionStatus::Connecting, ConnectionStatus::Connected] {
        let root = render(state_with(status.clone()), false).await;
        let live = root
            .query_selector(".room-connection [role=status][aria-atomic=true]")
            .unwrap()
            .unwrap_or_else(|| panic!("no live region when {status:?}"));
        assert_eq!(live.text_content().as_deref(), Some(""), "{status:?}");
        let notices = root
            .query_selector(".room-notices")
            .unwrap()
            .expect("the notices' region");
        assert_eq!(notices.get_attribute("role").as_deref(), Some("status"));
    }
}

#[wasm_bindgen_test]
async fn a_view_only_link_says_so_before_anything_is_typed() {
    let root = render(
        RoomState {
            status: ConnectionStatus::Connected,
            read_only: true,
            ..RoomState::default()
        },
        false,
    )
    .await;
    let notice = banner(&root, "view-only").expect("the view-only banner");
    assert!(
        notice
            .text_content()
            .unwrap()
            .contains("nothing you type here is saved"),
        "{:?}",
        notice.text_content()
    );
    let editable = render(state_with(ConnectionStatus::Connected), false).await;
    assert!(banner(&editable, "view-only").is_none());
}

#[wasm_bindgen_test]
async fn files_the_hubs_limit_leaves_out_are_said_with_their_numbers() {
    let root = render(
        RoomState {
            status: ConnectionStatus::Connected,
            left_out: Some(room_protocol::LeftOut {
                files: 31_456,
                limit: 200_000,
            }),
            ..RoomState::default()
        },
        false,
    )
    .await;
    let notice = banner(&root, "left-out").expect("the left-out banner");
    let text = notice.text_content().unwrap();
    assert!(
        text.contains("31,456 are left out") && text.contains("200,000 files"),
        "{text}"
    );
    let whole = render(state_with(ConnectionStatus::Connected), false).await;
    assert!(banner(&whole, "left-out").is_none());
}

#[wasm_bindgen_test]
async fn each_state_has_its_banner() {
    let cases = [
        (
            ConnectionStatus::Lost,
            "lost",
            "alert",
            "Lost connection — refresh to retry.",
        ),
        (
            ConnectionStatus::Unauthorized,
            "unauthorized",
            "alert",
            "This link is invalid or has expired",
        ),
        (
            ConnectionStatus::LinkReplaced,
            "link-replaced",
            "alert",
            "The host replaced this link. Ask them for the new one.",
        ),
        (
            ConnectionStatus::RoomGone,
            "room-gone",
            "alert",
            "This room has closed.",
        ),
        (
            ConnectionStatus::NeedsToken,
            "needs-token",
            "alert",
            "Open this room with its share link",
        ),
        (
            ConnectionStatus::ProtocolError,
            "protocol-error",
            "alert",
            "Refresh to load the current version",
        ),
    ];
    for (status, kind, role, words) in cases {
        let root = render(state_with(status.clone()), false).await;
        let el = banner(&root, kind).unwrap_or_else(|| panic!("no {kind} banner for {status:?}"));
        assert_eq!(el.get_attribute("role").as_deref(), Some(role), "{kind}");
        assert!(
            el.text_content().unwrap().contains(words),
            "{kind}: {:?}",
            el.text_content()
        );
        // Only that status banner.
        assert_eq!(
            root.query_selector_all("[role=alert]").unwrap().length(),
            1,
            "{kind}"
        );
    }
    let lost = render(state_with(ConnectionStatus::Lost), false).await;
    assert!(
        banner(&lost, "lost")
            .unwrap()
            .query_selector("button")
            .unwrap()
            .is_some(),
        "Lost has a Retry button"
    );
    let fine = render(state_with(ConnectionStatus::Connected), false).await;
    assert_eq!(
        fine.query_selector_all("[data-banner]").unwrap().length(),
        0,
        "no banner when connected"
    );
}

/// The text behind a `blob:` URL, as a download would save it.
async fn fetched(href: &str) -> String {
    let window = web_sys::window().unwrap();
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(href))
            .await
            .unwrap()
            .unchecked_into();
    wasm_bindgen_futures::JsFuture::from(response.text().unwrap())
        .await
        .unwrap()
        .as_string()
        .unwrap()
}

/// Runs `f` with links' `click()` caught: what each would have downloaded
/// (`[file name, blob: URL]`) instead of a download.
async fn downloads_of(f: impl FnOnce()) -> Vec<(String, String)> {
    let run = |body: &str| {
        js_sys::Function::new_no_args(body)
            .call0(&wasm_bindgen::JsValue::NULL)
            .unwrap()
    };
    run("const a = HTMLAnchorElement.prototype; window.__click = a.click; window.__downloads = []; \
         a.click = function () { window.__downloads.push([this.getAttribute('download'), this.getAttribute('href')]); };");
    f();
    yew::scheduler::flush().await;
    let caught = run("HTMLAnchorElement.prototype.click = window.__click; return JSON.stringify(window.__downloads);");
    serde_json::from_str(&caught.as_string().unwrap()).unwrap()
}

#[wasm_bindgen_test]
async fn a_page_that_cannot_save_offers_its_drafts_as_a_file_with_their_paths() {
    let draft = |content: &str| Draft {
        content: content.into(),
        base_rev: 4,
        base_project: None,
        base: None,
        status: DraftStatus::Editing,
    };
    let mut state = state_with(ConnectionStatus::LinkReplaced);
    state.drafts.insert("src/a.rs".into(), draft("fn a() {}\n"));
    state.drafts.insert("notes.md".into(), draft("# mine"));
    for status in [
        ConnectionStatus::LinkReplaced,
        ConnectionStatus::Unauthorized,
        ConnectionStatus::Lost,
    ] {
        let root = render(
            RoomState {
                status: status.clone(),
                ..state.clone()
            },
            false,
        )
        .await;
        let button = root
            .query_selector("[role=alert] button[data-action=download-unsaved]")
            .unwrap()
            .unwrap_or_else(|| panic!("no download in {status:?}"))
            .unchecked_into::<HtmlElement>();
        assert_eq!(
            button.text_content().as_deref(),
            Some("Download my unsaved changes")
        );
        let saved = downloads_of(|| button.click()).await;
        assert_eq!(saved.len(), 1, "{status:?}: one download");
        let (name, href) = &saved[0];
        assert_eq!(name, "demo-unsaved-changes.json");
        assert!(href.starts_with("blob:"), "{href}");
        let file: serde_json::Value = serde_json::from_str(&fetched(href).await).unwrap();
        let drafts: Vec<(String, String)> = file["drafts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["path"].as_str().unwrap().to_owned(),
                    d["content"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            drafts,
            [
                ("notes.md".to_owned(), "# mine".to_owned()),
                ("src/a.rs".to_owned(), "fn a() {}\n".to_owned())
            ]
        );
    }
    // Nothing unsaved, nothing to download.
    let root = render(state_with(ConnectionStatus::LinkReplaced), false).await;
    assert!(root
        .query_selector("[data-action=download-unsaved]")
        .unwrap()
        .is_none());
}

fn token(secret: &str) -> Option<room_client::protocol::Token> {
    Some(room_client::protocol::Token::new(secret))
}

#[wasm_bindgen_test]
async fn only_the_host_page_has_the_link_controls_and_regenerating_asks_first() {
    let welcomed = RoomState {
        status: ConnectionStatus::Connected,
        sync_mode: Some(room_client::protocol::SyncMode::Snapshot),
        read_only_token: token("VIEWTOKEN"),
        ..RoomState::default()
    };
    // An editor: the two copy buttons, no link controls.
    let editor = render(
        RoomState {
            token: token("EDITTOKEN"),
            ..welcomed.clone()
        },
        true,
    )
    .await;
    assert!(editor.query_selector(".room-host-links").unwrap().is_none());
    assert_eq!(
        node_texts(&editor, ".room-share button"),
        ["Copy room link", "Copy view-only link"]
    );

    // The host: both links in read-only fields, never the host token.
    let host = render(
        RoomState {
            token: token("HOSTTOKEN"),
            host: true,
            edit_token: token("EDITTOKEN"),
            ..welcomed
        },
        true,
    )
    .await;
    let field = |id: &str| {
        host.query_selector(&format!("#{id}"))
            .unwrap()
            .unwrap()
            .unchecked_into::<web_sys::HtmlInputElement>()
    };
    assert!(field("room-edit-link")
        .value()
        .ends_with("?token=EDITTOKEN"));
    assert!(field("room-view-link")
        .value()
        .ends_with("?token=VIEWTOKEN"));
    assert!(field("room-edit-link").read_only());
    assert!(!host.inner_html().contains("HOSTTOKEN"));
    // Each field has its label.
    let label = host
        .query_selector("label[for=room-edit-link]")
        .unwrap()
        .unwrap();
    assert_eq!(label.text_content().as_deref(), Some("Edit link"));

    // Regenerate asks first, with the focus on the confirmation.
    assert!(host.query_selector(".room-confirm").unwrap().is_none());
    host.query_selector("button[aria-label='Regenerate the edit link']")
        .unwrap()
        .unwrap()
        .unchecked_into::<HtmlElement>()
        .click();
    yew::scheduler::flush().await;
    let confirm = host.query_selector(".room-confirm").unwrap().unwrap();
    assert_eq!(
        node_texts(&confirm, "p"),
        ["Everyone using the old link will be disconnected."]
    );
    let focused = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .active_element()
        .unwrap();
    assert_eq!(
        focused.text_content().as_deref(),
        Some("Regenerate the edit link")
    );
    // Cancel changes nothing.
    node_with_text(&confirm, "button", "Cancel").click();
    yew::scheduler::flush().await;
    assert!(host.query_selector(".room-confirm").unwrap().is_none());
    assert!(field("room-edit-link")
        .value()
        .ends_with("?token=EDITTOKEN"));

    // With the view link off, it can be turned on; nothing to copy.
    let off = render(
        RoomState {
            status: ConnectionStatus::Connected,
            sync_mode: Some(room_client::protocol::SyncMode::Snapshot),
            token: token("HOSTTOKEN"),
            host: true,
            edit_token: token("EDITTOKEN"),
            ..RoomState::default()
        },
        true,
    )
    .await;
    assert!(off.query_selector("#room-view-link").unwrap().is_none());
    assert_eq!(node_texts(&off, "[data-link=view] button"), ["Turn on"]);
}

/// The first `selector` under `root` whose text is `text`.
fn node_with_text(root: &Element, selector: &str, text: &str) -> HtmlElement {
    let nodes = root.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .filter_map(|i| nodes.get(i))
        .map(|n| n.unchecked_into::<HtmlElement>())
        .find(|n| n.text_content().as_deref() == Some(text))
        .unwrap_or_else(|| panic!("no {selector} saying {text}"))
}

#[wasm_bindgen_test]
async fn notices_have_their_banners() {
    let state = RoomState {
        status: ConnectionStatus::Connected,
        notices: vec![
            Notice::ReadOnly {
                path: "a.txt".into(),
            },
            Notice::StorageFallback {
                reason: room_client::CacheError::QuotaExceeded.to_string(),
            },
            Notice::Merged {
                path: "b.txt".into(),
                with: Some("Ana".into()),
            },
        ],
        ..RoomState::default()
    };
    let root = render(state, false).await;
    // Inside the notices' live region, which was there before them.
    assert_eq!(
        root.query_selector_all(".room-notices[role=status] [data-banner]")
            .unwrap()
            .length(),
        3
    );
    let merged = banner(&root, "merged").expect("merged banner");
    assert_eq!(
        merged
            .query_selector("span")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        "Your changes to b.txt were merged with Ana's."
    );
    let read_only = banner(&root, "read-only").expect("read-only banner");
    assert_eq!(
        read_only
            .query_selector("span")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        "This link is view-only. Your edit was not saved; it is kept here."
    );
    let storage = banner(&root, "storage-fallback").expect("storage banner");
    assert_eq!(
        storage
            .query_selector("span")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        "Offline storage is full; this tab works from memory and forgets on close."
    );
}

/// The computed value of `property` on the first element `selector` finds.
fn computed(root: &Element, selector: &str, property: &str) -> String {
    let element = root.query_selector(selector).unwrap().unwrap();
    web_sys::window()
        .unwrap()
        .get_computed_style(&element)
        .unwrap()
        .unwrap()
        .get_property_value(property)
        .unwrap()
        .trim()
        .to_owned()
}

#[wasm_bindgen_test]
async fn room_view_carries_its_styles_and_an_apps_own_rules_win_over_them() {
    let root = render(RoomState::default(), true).await;
    // Styled with no stylesheet of the app's: the layout and the theme.
    assert_eq!(computed(&root, ".room", "display"), "grid");
    assert_eq!(computed(&root, ".room", "--room-accent"), "#3b5bdb");
    assert_eq!(computed(&root, ".room-topbar", "display"), "flex");
    // An app's rule, earlier in the document and no more specific, wins:
    // the room's rules are in a cascade layer.
    let document = web_sys::window().unwrap().document().unwrap();
    let app_rules = document.create_element("style").unwrap();
    app_rules.set_text_content(Some(
        ".room-topbar { display: block } :root { --room-accent: #0b7285 }",
    ));
    document
        .head()
        .unwrap()
        .prepend_with_node_1(&app_rules)
        .unwrap();
    assert_eq!(computed(&root, ".room-topbar", "display"), "block");
    assert_eq!(computed(&root, ".room", "--room-accent"), "#0b7285");
    app_rules.remove();
    // The rules reach only the room's parts: a button of the app outside
    // it keeps the browser's look.
    let outside = document.create_element("button").unwrap();
    document.body().unwrap().append_child(&outside).unwrap();
    let inside = computed(&root, ".room button", "border-radius");
    assert_eq!(inside, "6px");
    assert_ne!(
        web_sys::window()
            .unwrap()
            .get_computed_style(&outside)
            .unwrap()
            .unwrap()
            .get_property_value("border-radius")
            .unwrap(),
        "6px"
    );
    outside.remove();
}

#[wasm_bindgen_test]
async fn the_default_view_shows_files_drafts_peers_and_a_conflict() {
    let mut state = RoomState {
        status: ConnectionStatus::Connected,
        peer_id: Some("p1".into()),
        peers: vec![
            PeerInfo {
                peer_id: "p1".into(),
                name: "Ada".into(),
                color: "#112233".into(),
                read_only: false,
                person: None,
                open: None,
            },
            PeerInfo {
                peer_id: "p2".into(),
                name: "Bo".into(),
                color: "#445566".into(),
                read_only: true,
                person: None,
                open: None,
            },
        ],
        ..RoomState::default()
    };
    state.files.insert(
        "a.txt".into(),
        FileEntry::with_content("hub text".into(), 4, None),
    );
    state.files.insert(
        "b.txt".into(),
        FileEntry::with_content("other".into(), 1, None),
    );
    state.drafts.insert(
        "a.txt".into(),
        Draft {
            content: "my text".into(),
            base_rev: 2,
            base_project: None,
            base: None,
            status: DraftStatus::Conflict {
                theirs: FileVersion {
                    rev: 4,
                    content: "their text".into(),
                },
            },
        },
    );
    let root = render(state, true).await;
    let files: Vec<String> = node_texts(&root, ".room-files .path");
    assert_eq!(files, ["a.txt", "b.txt"]);
    assert!(
        root.query_selector(".room-files .marker.conflict")
            .unwrap()
            .is_some(),
        "draft marker"
    );
    let peers = node_texts(&root, ".room-peers .name");
    assert_eq!(peers, ["Ada (you)", "Bo"]);
    let area: web_sys::HtmlTextAreaElement = root
        .query_selector("textarea.code")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(area.value(), "my text", "the editor shows the draft");
    // A draft without a base: the whole texts are one hunk to choose from.
    let versions = node_texts(&root, ".conflict pre");
    assert_eq!(versions, ["my text", "their text"]);
    let buttons = node_texts(&root, ".conflict button");
    assert_eq!(
        buttons,
        ["Yoursmy text", "Theirstheir text", "Save the result"]
    );
    let result: web_sys::HtmlTextAreaElement = root
        .query_selector(".conflict textarea")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(
        result.value(),
        "my text",
        "mine until a pick says otherwise"
    );
}

/// A room of 5000 files, ten folders of ten folders of fifty files each.
fn large_room() -> RoomState {
    let mut state = state_with(ConnectionStatus::Connected);
    for i in 0..5000 {
        let path = format!("m{}/p{:02}/f{i}.rs", i / 500, (i / 50) % 10);
        state
            .files
            .insert(path, FileEntry::with_content("// code".into(), 0, None));
    }
    state
}

/// Sets the page's URL fragment (`""`: none), as a link would.
fn set_fragment(fragment: &str) {
    let window = web_sys::window().unwrap();
    let url = format!(
        "{}{}{fragment}",
        window.location().pathname().unwrap(),
        window.location().search().unwrap()
    );
    window
        .history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
        .unwrap();
}

fn count(root: &Element, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

fn find_box(root: &Element) -> web_sys::HtmlInputElement {
    root.query_selector(".room-files input.find")
        .unwrap()
        .expect("the Find box")
        .dyn_into()
        .unwrap()
}

async fn type_into(input: &web_sys::HtmlInputElement, text: &str) {
    input.set_value(text);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    yew::scheduler::flush().await;
}

async fn press(target: &Element, key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&event).unwrap();
    yew::scheduler::flush().await;
}

#[wasm_bindgen_test]
async fn a_large_tree_starts_closed_and_folders_open_on_click() {
    set_fragment("");
    let root = render(large_room(), true).await;
    // Closed but for the folders of the file shown first.
    assert_eq!(
        node_texts(&root, ".room-files .folder[aria-expanded=true]"),
        ["▾m0", "▾p00"]
    );
    assert_eq!(count(&root, ".room-files .folder"), 10 + 10);
    assert_eq!(count(&root, ".room-files .file"), 50);
    let m1: HtmlElement = root
        .query_selector(".room-files .folder[data-path=\"m1\"]")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    m1.click();
    yew::scheduler::flush().await;
    assert_eq!(m1.get_attribute("aria-expanded").as_deref(), Some("true"));
    assert_eq!(count(&root, ".room-files .folder[data-path^=\"m1/\"]"), 10);
    m1.click();
    yew::scheduler::flush().await;
    assert_eq!(count(&root, ".room-files .folder[data-path^=\"m1/\"]"), 0);
}

#[wasm_bindgen_test]
async fn finding_narrows_the_tree_renders_only_rows_in_view_and_enter_opens_the_first() {
    set_fragment("");
    let root = render(large_room(), true).await;
    let find = find_box(&root);
    // Every file matches: 5110 rows, of which only a screenful is drawn.
    type_into(&find, ".rs").await;
    assert!(
        node_texts(&root, ".room-files .found")[0].starts_with("5000 files match"),
        "{:?}",
        node_texts(&root, ".room-files .found")
    );
    let drawn = count(&root, ".room-files .tree li:not(.spacer)");
    assert!(drawn < 200, "{drawn} rows in the page");
    // A deep file by name.
    type_into(&find, "F4321").await;
    assert_eq!(node_texts(&root, ".room-files .file .path"), ["f4321.rs"]);
    press(&find, "Enter").await;
    yew::scheduler::flush().await;
    let shown = node_texts(&root, ".room-editor .path");
    assert_eq!(shown, ["m8/p06/f4321.rs"]);
    // The address names the file (and only the file).
    let hash = web_sys::window().unwrap().location().hash().unwrap();
    assert_eq!(hash, "#/m8/p06/f4321.rs");
    press(&find, "Escape").await;
    assert!(node_texts(&root, ".room-files .found").is_empty());
    // Its folders stay open once the Find box is cleared.
    assert_eq!(
        count(&root, ".room-files .file[data-path=\"m8/p06/f4321.rs\"]"),
        1
    );
    set_fragment("");
}

#[wasm_bindgen_test]
async fn a_link_to_a_file_opens_it() {
    set_fragment("#/m2/p03/f1150.rs");
    let root = render(large_room(), true).await;
    set_fragment("");
    assert_eq!(node_texts(&root, ".room-editor .path"), ["m2/p03/f1150.rs"]);
    assert_eq!(
        count(
            &root,
            ".room-files .file.selected[data-path=\"m2/p03/f1150.rs\"]"
        ),
        1
    );
}

fn node_texts(root: &Element, selector: &str) -> Vec<String> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().text_content().unwrap_or_default())
        .collect()
}

// --- Embedding, against the real hub ------------------------------------

/// What an embedding app renders inside `RoomClient`, using only the
/// public hooks.
#[component]
fn Probe() -> Html {
    let room = use_room();
    html! {
        <div>
            <p id="probe-status">{ format!("{:?}", room.state.status) }</p>
            <p id="probe-files">{ room.state.files.len() }</p>
            <SaveButton />
        </div>
    }
}

/// A component that only acts: it saves, and counts its own renders.
#[component]
fn SaveButton() -> Html {
    let room = use_room_actions();
    let renders = use_mut_ref(|| 0u32);
    *renders.borrow_mut() += 1;
    let onclick =
        Callback::from(move |_| room.save("embed/probe.txt", "written by an embedding app"));
    html! {
        <>
            <button id="probe-edit" {onclick}>{ "edit" }</button>
            <p id="probe-save-renders">{ *renders.borrow() }</p>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct EmbedProps {
    options: RoomOptions,
}

#[component]
fn EmbedApp(props: &EmbedProps) -> Html {
    html! { <RoomClient options={props.options.clone()}><Probe /></RoomClient> }
}

async fn wait_for_text(root: &Element, selector: &str, want: &str) {
    let deadline = now() + 10_000.0;
    loop {
        yew::scheduler::flush().await;
        let text = root
            .query_selector(selector)
            .unwrap()
            .and_then(|e| e.text_content())
            .unwrap_or_default();
        if text == want {
            return;
        }
        assert!(
            now() < deadline,
            "{selector} is {text:?}, waited for {want:?}"
        );
        TimeoutFuture::new(25).await;
    }
}

/// Options for an app embedding the testkit's room, and the session
/// storage holding its token (as after a share link was opened once).
async fn embedding_the_kits_room() -> (RoomOptions, web_sys::Storage, String) {
    let config = kit_get("/config").await;
    let room_id = config["roomId"].as_str().unwrap().to_owned();
    let proxy_http = config["proxyWs"]
        .as_str()
        .unwrap()
        .replace("ws://", "http://");
    let hub_url = proxy_http.split("/rooms/").next().unwrap().to_owned();
    let storage = web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap();
    storage
        .set_item(
            &room_client::token::storage_key(&room_id),
            config["editToken"].as_str().unwrap(),
        )
        .unwrap();
    let options = RoomOptions::default()
        .hub_url(hub_url)
        .room_id(room_id.clone())
        .cache(false);
    (options, storage, room_id)
}

/// Saves a file the moment it mounts: before the session exists.
#[component]
fn EarlyEdit() -> Html {
    let room = use_room();
    let before_session = use_mut_ref(|| None::<bool>);
    {
        let room = room.clone();
        let before_session = before_session.clone();
        use_effect_with((), move |_| {
            *before_session.borrow_mut() = Some(!room.state.hydrated);
            room.save("embed/early.txt", "sent before the session existed");
        });
    }
    let sent_early = *before_session.borrow();
    html! { <p id="early">{ format!("{sent_early:?} {:?}", room.state.status) }</p> }
}

#[component]
fn EarlyApp(props: &EmbedProps) -> Html {
    html! { <RoomClient options={props.options.clone()}><EarlyEdit /></RoomClient> }
}

#[wasm_bindgen_test]
async fn an_intent_sent_before_the_session_exists_waits_and_is_applied() {
    let (options, storage, room_id) = embedding_the_kits_room().await;
    let root = container();
    yew::Renderer::<EarlyApp>::with_root_and_props(root.clone(), EmbedProps { options }).render();
    // The edit was sent while nothing was hydrated yet...
    wait_for_text(&root, "#early", "Some(true) Connected").await;
    // ...and still reaches the hub's disk.
    let deadline = now() + 10_000.0;
    while kit_file("embed/early.txt").await.as_deref() != Some("sent before the session existed") {
        assert!(now() < deadline, "the early edit was dropped");
        TimeoutFuture::new(50).await;
    }
    storage
        .remove_item(&room_client::token::storage_key(&room_id))
        .unwrap();
}

#[wasm_bindgen_test]
async fn use_room_inside_an_embedding_app_follows_the_room_and_use_room_actions_saves_without_a_render(
) {
    let (options, storage, room_id) = embedding_the_kits_room().await;
    let root = container();
    yew::Renderer::<EmbedApp>::with_root_and_props(root.clone(), EmbedProps { options }).render();
    wait_for_text(&root, "#probe-status", "Connected").await;
    let files: usize = root
        .query_selector("#probe-files")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap()
        .parse()
        .unwrap();
    assert!(files >= 4, "the sample project's files arrived: {files}");

    root.query_selector("#probe-edit")
        .unwrap()
        .unwrap()
        .dyn_into::<HtmlElement>()
        .unwrap()
        .click();
    let deadline = now() + 10_000.0;
    while kit_file("embed/probe.txt").await.as_deref() != Some("written by an embedding app") {
        assert!(now() < deadline, "the edit never reached the hub's disk");
        TimeoutFuture::new(50).await;
    }
    // And the state the app sees follows: the new file is there.
    wait_for_text(&root, "#probe-files", &(files + 1).to_string()).await;
    // The button that only acts rendered once, through the join, the
    // files arriving and its own save.
    wait_for_text(&root, "#probe-save-renders", "1").await;
    storage
        .remove_item(&room_client::token::storage_key(&room_id))
        .unwrap();
}

#[wasm_bindgen_test]
async fn a_remote_update_to_another_file_keeps_the_cursor_and_the_typed_text() {
    let mut state = RoomState {
        status: ConnectionStatus::Connected,
        ..RoomState::default()
    };
    state.files.insert(
        "a.txt".into(),
        FileEntry::with_content("hello world".into(), 1, None),
    );
    state.files.insert(
        "b.txt".into(),
        FileEntry::with_content("other".into(), 1, None),
    );
    let root = container();
    let mut app = yew::Renderer::<Preview>::with_root_and_props(
        root.clone(),
        PreviewProps {
            handle: RoomHandle::preview(state.clone(), "demo"),
            full: true,
        },
    )
    .render();
    yew::scheduler::flush().await;
    let area: web_sys::HtmlTextAreaElement = root
        .query_selector("textarea")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap();
    assert_eq!(area.value(), "hello world");
    area.focus().unwrap();
    area.set_selection_range(5, 5).unwrap();

    // Someone else changes b.txt: the open editor (a.txt) is re-rendered
    // with a new state, and its cursor must not move.
    state.files.insert(
        "b.txt".into(),
        FileEntry::with_content("changed remotely".into(), 2, None),
    );
    app.update(PreviewProps {
        handle: RoomHandle::preview(state.clone(), "demo"),
        full: true,
    });
    yew::scheduler::flush().await;
    assert_eq!(area.value(), "hello world");
    assert_eq!(
        (
            area.selection_start().unwrap(),
            area.selection_end().unwrap()
        ),
        (Some(5), Some(5))
    );

    // A remote change to the open file with no draft does replace the text.
    state.files.insert(
        "a.txt".into(),
        FileEntry::with_content("hello there".into(), 3, None),
    );
    app.update(PreviewProps {
        handle: RoomHandle::preview(state, "demo"),
        full: true,
    });
    yew::scheduler::flush().await;
    assert_eq!(area.value(), "hello there");
}

// --- Selective hooks: renders counted while the room changes ------------

thread_local! {
    static FILE_RENDERS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    static STATUS_RENDERS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Shows one file; counts its renders.
#[component]
fn OneFile() -> Html {
    FILE_RENDERS.with(|n| n.set(n.get() + 1));
    let file = use_file("README.md");
    html! { <p id="one-file">{ format!("rev {}", file.rev) }</p> }
}

/// Shows the status; counts its renders.
#[component]
fn StatusOnly() -> Html {
    STATUS_RENDERS.with(|n| n.set(n.get() + 1));
    let status = use_room_status();
    html! { <p id="status-only">{ format!("{status:?}") }</p> }
}

/// Follows everything, to know when the changes have arrived.
#[component]
fn Everything() -> Html {
    let room = use_room();
    let newest = room.state.events.back().map_or(0, |e| e.rev);
    let todo = room
        .state
        .files
        .get("todo.txt")
        .and_then(|f| f.content.as_deref().map(str::to_owned))
        .unwrap_or_default();
    html! { <><p id="newest-event">{ newest }</p><p id="todo">{ todo }</p></> }
}

#[component]
fn SelectiveApp(props: &EmbedProps) -> Html {
    html! {
        <RoomClient options={props.options.clone()}>
            <OneFile /><StatusOnly /><Everything />
        </RoomClient>
    }
}

fn renders() -> (u32, u32) {
    (
        FILE_RENDERS.with(|n| n.get()),
        STATUS_RENDERS.with(|n| n.get()),
    )
}

#[wasm_bindgen_test]
async fn use_file_and_use_room_status_do_not_re_render_for_events_or_other_files() {
    let (options, storage, room_id) = embedding_the_kits_room().await;
    let root = container();
    yew::Renderer::<SelectiveApp>::with_root_and_props(root.clone(), EmbedProps { options })
        .render();
    wait_for_text(&root, "#status-only", "Connected").await;
    TimeoutFuture::new(200).await;
    yew::scheduler::flush().await;
    let before = renders();

    // 100 runtime events and an external change to another file.
    let newest = kit_events(100, "selective").await;
    let text = format!("changed beside README.md at {}\n", now());
    let response = gloo_net::http::Request::put(&kit("/file/todo.txt").await)
        .body(text.clone())
        .unwrap()
        .send()
        .await
        .unwrap();
    assert!(response.ok());
    wait_for_text(&root, "#newest-event", &newest.to_string()).await;
    wait_for_text(&root, "#todo", &text).await;
    TimeoutFuture::new(100).await;
    yew::scheduler::flush().await;

    assert_eq!(
        renders(),
        before,
        "(use_file, use_room_status) renders before and after the changes"
    );
    storage
        .remove_item(&room_client::token::storage_key(&room_id))
        .unwrap();
}
