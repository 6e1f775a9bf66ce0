//! The file list and the editor.

use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::page_event::use_window_listener;
use crate::file_tree::{visible_rows, RowKind, TreeRow, TreeView};
use crate::merge::{settle, Chunk, Side};
use crate::state::{Draft, DraftStatus};
use crate::ui::handle::use_room_context;
use crate::ui::RoomHandle;
use crate::ui::{use_file, use_room};

/// Properties of [`FileList`].
#[derive(Debug, Properties, PartialEq)]
pub struct FileListProps {
    /// The open file.
    #[prop_or_default]
    pub selected: Option<AttrValue>,
    /// Called with a path when a file is chosen (or created).
    pub on_select: Callback<AttrValue>,
}

/// Rows drawn above and below the ones in view, so a quick scroll does not
/// show a gap before the next render.
const OVERSCAN_ROWS: usize = 20;

/// Each row's height in CSS pixels (the stylesheet sets the same):
/// rendering only the rows in view needs to know where each one is. An
/// integer: formatting a float would add kilobytes to the bundle.
const ROW_PX: usize = 28;

/// Up to this many rows are all rendered; past it, only those in view.
const RENDER_ALL_UP_TO: usize = 300;

/// The room's files as a tree (folders open and close on click, Enter or
/// Space), with a marker on files that have a draft and a dot for each
/// person who has one open; a "Find a file" box (Ctrl+P and `/` focus it)
/// narrows the tree as you type, Enter opens the first match; and a field
/// to start a new file. Only the rows in view are rendered, so a tree of a
/// hundred thousand files scrolls like a short one.
#[component]
pub fn FileList(props: &FileListProps) -> Html {
    let room = use_room();
    let state = &room.state;
    let paths = state.path_list();
    let files = paths.len();
    // Folders, the Find box and the scroll position: one cell that the
    // callbacks change before asking for a render. (A state hook of its own
    // type would add 1.5 KB of hook code to the bundle; these two hooks are
    // in it already.)
    let view = use_mut_ref(TreeView::default);
    let redraw = use_force_update();
    // The open file shows, inside whatever folders hold it (decided while
    // rendering: no render of its own).
    view.borrow_mut().follow(props.selected.as_deref(), files);
    let change = {
        let view = view.clone();
        move |step: &dyn Fn(&mut TreeView)| {
            step(&mut view.borrow_mut());
            redraw.force_update();
        }
    };
    let (folders, query, scroll_top, viewport) = {
        let view = view.borrow();
        let query = view.query.clone();
        (view.folders(files), query, view.scroll_top, view.viewport)
    };
    let find_ref = use_node_ref();
    use_find_shortcuts(find_ref.clone());

    let rows = visible_rows(&paths, &folders, &query);
    let others: Vec<_> = state.people().into_iter().filter(|p| !p.me).collect();
    let row = |row: &TreeRow<'_>| -> Html {
        let path = row.path;
        let indent = format!("padding-left: {}em", row.depth);
        let open = match row.kind {
            RowKind::Folder { open } => Some(open),
            RowKind::File => None,
        };
        let selected = open.is_none() && props.selected.as_deref() == Some(path);
        let shown = AttrValue::from(path.to_owned());
        let onclick = {
            let (change, on_select) = (change.clone(), props.on_select.clone());
            let path = shown.clone();
            let folder = open.is_some();
            Callback::from(move |_: MouseEvent| {
                if folder {
                    change(&|view| view.toggle(&path, files));
                } else {
                    on_select.emit(path.clone());
                }
            })
        };
        let marker = state.drafts.get(path).map(|d| match d.status {
            DraftStatus::Conflict { .. } => ("conflict", "conflict: choose a version"),
            DraftStatus::ReadOnly | DraftStatus::TooLarge | DraftStatus::Refused { .. } => {
                ("refused", "not saved")
            }
            _ => ("draft", "unsaved changes"),
        });
        // Who else has it open, each in their colour.
        let viewers = others
            .iter()
            .filter(|p| open.is_none() && p.open.iter().any(|o| o == path))
            .map(|p| {
                let title = format!("{} has this open", p.name);
                html! {
                    <span class="viewer" style={format!("background:{}", p.color)}
                        title={title.clone()} aria-label={title}></span>
                }
            })
            .collect::<Html>();
        html! {
            <li key={path.to_owned()} style={indent}>
                <button class={classes!(if open.is_some() { "folder" } else { "file" }, selected.then_some("selected"))}
                    {onclick} aria-expanded={open.map(|open| if open { "true" } else { "false" })}
                    aria-current={selected.then_some("true")} data-path={shown.clone()} title={shown}>
                    if let Some(open) = open {
                        <span class="twisty" aria-hidden="true">{ if open { "▾" } else { "▸" } }</span>
                    }
                    <span class={open.is_none().then_some("path")}>{ row.name.to_owned() }</span>
                    { viewers }
                    if let Some((kind, title)) = marker {
                        <span class={classes!("marker", kind)} title={title} aria-label={title}>{ "●" }</span>
                    }
                </button>
            </li>
        }
    };
    // Only the rows in view (and a margin) are in the page; spacers keep
    // the scroll height of the whole tree.
    let (first, last) = if rows.len() <= RENDER_ALL_UP_TO {
        (0, rows.len())
    } else {
        let first = (scroll_top / ROW_PX).saturating_sub(OVERSCAN_ROWS);
        let count = viewport / ROW_PX + 2 * OVERSCAN_ROWS;
        (first.min(rows.len()), (first + count).min(rows.len()))
    };
    let spacer = |rows: usize| {
        (rows > 0).then(|| html! {
            <li class="spacer" aria-hidden="true" style={format!("height: {}px", rows * ROW_PX)}></li>
        })
    };
    let onscroll = {
        let change = change.clone();
        Callback::from(move |event: Event| {
            if let Some(list) = event.target_dyn_into::<web_sys::Element>() {
                let top = usize::try_from(list.scroll_top()).unwrap_or(0);
                let height = usize::try_from(list.client_height()).unwrap_or(0);
                change(&|view| (view.scroll_top, view.viewport) = (top, height));
            }
        })
    };

    let oninput = {
        let change = change.clone();
        Callback::from(move |event: InputEvent| {
            if let Some(input) = event.target_dyn_into::<HtmlInputElement>() {
                let query = input.value();
                change(&|view| view.query.clone_from(&query));
            }
        })
    };
    let first_match = rows
        .iter()
        .find(|r| r.kind == RowKind::File)
        .map(|r| AttrValue::from(r.path.to_owned()));
    let onkeydown = {
        let change = change.clone();
        let on_select = props.on_select.clone();
        Callback::from(move |event: KeyboardEvent| match event.key().as_str() {
            "Enter" => {
                event.prevent_default();
                if let Some(path) = &first_match {
                    on_select.emit(path.clone());
                }
            }
            "Escape" => {
                if let Some(input) = event.target_dyn_into::<HtmlInputElement>() {
                    input.set_value("");
                }
                change(&|view| view.query.clear());
            }
            _ => {}
        })
    };
    let finding = !query.trim().is_empty();
    let found = rows.iter().filter(|r| r.kind == RowKind::File).count();

    let new_ref = use_node_ref();
    let create = {
        let new_ref = new_ref.clone();
        let on_select = props.on_select.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if let Some(input) = new_ref.cast::<HtmlInputElement>() {
                let path = input.value().trim().to_owned();
                if room_protocol::RelPath::parse(&path).is_ok() {
                    input.set_value("");
                    on_select.emit(path.into());
                }
            }
        })
    };
    html! {
        <nav class="room-files" aria-label="Files">
            <input ref={find_ref} class="find" type="search" placeholder="Find a file (Ctrl+P or /)"
                aria-label="Find a file" {oninput} {onkeydown} />
            if finding {
                <p class="found" role="status">{ match found {
                    0 => "No file matches.".to_owned(),
                    1 => "1 file matches; Enter opens it.".to_owned(),
                    n => format!("{n} files match; Enter opens the first."),
                } }</p>
            }
            <ul class="tree" {onscroll}>
                { spacer(first) }
                { for rows[first..last].iter().map(row) }
                { spacer(rows.len() - last) }
            </ul>
            <form class="new-file" onsubmit={create}>
                <input ref={new_ref} type="text" placeholder="new/file.txt" aria-label="New file path" />
                <button type="submit">{ "Open" }</button>
            </form>
        </nav>
    }
}

/// Ctrl+P (Cmd+P) and `/` focus the Find box, as in editors, unless the
/// person is typing somewhere (`/` in a text is a slash).
#[hook]
fn use_find_shortcuts(find: NodeRef) {
    use_window_listener("keydown", move |event| {
        use wasm_bindgen::JsCast as _;
        let Some(event) = event.dyn_ref::<KeyboardEvent>() else {
            return;
        };
        let typing = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA")
                    || el.has_attribute("contenteditable")
            });
        let command = event.ctrl_key() || event.meta_key();
        let wanted = (command && event.key().eq_ignore_ascii_case("p"))
            || (!typing && !command && event.key() == "/");
        if wanted {
            if let Some(input) = find.cast::<HtmlInputElement>() {
                event.prevent_default();
                let _ = input.focus();
                input.select();
            }
        }
    });
}

/// Properties of [`Editor`].
#[derive(Debug, Properties, PartialEq)]
pub struct EditorProps {
    /// The file to edit.
    pub path: AttrValue,
}

/// A short machine name (for tests and styles) and a sentence.
fn draft_label(status: &DraftStatus) -> (&'static str, &'static str) {
    match status {
        DraftStatus::Editing => ("editing", "Unsaved changes"),
        DraftStatus::Queued => ("queued", "Saved here; will be sent when connected"),
        DraftStatus::InFlight { .. } => ("in-flight", "Sending…"),
        DraftStatus::ReadOnly => ("read-only", "View-only link: not saved, kept here"),
        DraftStatus::Conflict { .. } => ("conflict", "Changed by someone else meanwhile"),
        DraftStatus::TooLarge => ("too-large", "Over 1 MiB: not sent, kept here"),
        DraftStatus::Refused { .. } => ("refused", "Refused by the hub, kept here"),
    }
}

/// A monospace editor for one file. Typing keeps a draft; Save (or
/// Ctrl/Cmd+S) sends it. A conflict shows each conflicting hunk to pick
/// from, and the result to edit. Others see which file it shows.
#[component]
pub fn Editor(props: &EditorProps) -> Html {
    // Re-renders for this file only, not while events stream in.
    let room = use_room_context();
    let file = use_file(&props.path);
    let area = use_node_ref();
    let text = file.text();
    {
        // Others see which file this tab shows.
        let room = room.clone();
        use_effect_with(props.path.clone(), move |path| {
            room.set_open_file(Some(path));
            move || room.set_open_file(None)
        });
    }

    // The textarea is uncontrolled: its text is replaced only when the file
    // or the hub's version changes under it, so remote updates to other
    // files never move the cursor.
    {
        let area = area.clone();
        use_effect_with((props.path.clone(), text.clone()), move |(_, text)| {
            if let Some(el) = area.cast::<HtmlTextAreaElement>() {
                if el.value() != *text {
                    el.set_value(text);
                }
            }
        });
    }

    let current = {
        let area = area.clone();
        move || area.cast::<HtmlTextAreaElement>().map(|el| el.value())
    };
    let oninput = {
        let room = room.clone();
        let path = props.path.clone();
        let current = current.clone();
        Callback::from(move |_: InputEvent| {
            if let Some(value) = current() {
                room.type_text(&path, &value);
            }
        })
    };
    let save = {
        let room = room.clone();
        let path = props.path.clone();
        let current = current.clone();
        move || {
            if let Some(value) = current() {
                room.save(&path, &value);
            }
        }
    };
    let onkeydown = {
        let save = save.clone();
        Callback::from(move |event: KeyboardEvent| {
            if (event.ctrl_key() || event.meta_key()) && event.key().eq_ignore_ascii_case("s") {
                event.prevent_default();
                save();
            }
        })
    };
    let onsave = Callback::from(move |_: MouseEvent| save());
    let discard = {
        let room = room.clone();
        let path = props.path.clone();
        Callback::from(move |_: MouseEvent| room.discard_draft(&path))
    };

    // Picks are for one file's version in conflict: another starts over.
    let picks = use_state(|| (AttrValue::default(), 0_u64, Vec::<Side>::new()));
    let result_ref = use_node_ref();
    let chunks = file.draft.as_ref().and_then(Draft::conflict_chunks);
    let conflict = match (&file.draft, chunks) {
        (
            Some(Draft {
                status: DraftStatus::Conflict { theirs },
                ..
            }),
            Some(chunks),
        ) => hunk_picker(&HunkPicker {
            room: &room,
            path: &props.path,
            chunks: &chunks,
            rev: theirs.rev,
            picks: &picks,
            result_ref: &result_ref,
        }),
        _ => html! {},
    };

    let state_line = match &file.draft {
        Some(draft) => {
            let (kind, label) = draft_label(&draft.status);
            html! { <span class="draft-state" data-draft={kind}>{ label }</span> }
        }
        // Listed in the tree; its content is being fetched.
        None if file.loading => html! {
            <span class="draft-state" data-loading="true" role="status">{ "Loading…" }</span>
        },
        // Revision 0: as the hub found it on disk, changed by nobody since.
        None if file.content.is_some() && file.rev == 0 => {
            html! { <span class="draft-state" data-rev="0">{ "Not edited in this room yet" }</span> }
        }
        None if file.content.is_some() => html! {
            <span class="draft-state" data-rev={file.rev.to_string()}>{ format!("Revision {}", file.rev) }</span>
        },
        None => html! { <span class="draft-state">{ "New file" }</span> },
    };

    html! {
        <section class="room-editor" aria-label={format!("Editing {}", props.path)}>
            <div class="editor-bar">
                <strong class="path">{ props.path.clone() }</strong>
                { state_line }
                <span class="spacer"></span>
                if file.draft.is_some() {
                    <button class="quiet" onclick={discard}>{ "Discard" }</button>
                }
                <button class="primary" onclick={onsave} title="Save (Ctrl/Cmd+S)">{ "Save" }</button>
            </div>
            { conflict }
            // Nothing to type into until the content is here: a draft on an
            // empty text would replace the file.
            <textarea ref={area} class="code" spellcheck="false" {oninput} {onkeydown}
                readonly={file.loading && file.draft.is_none()} aria-busy={(file.loading && file.draft.is_none()).then_some("true")}
                aria-label={format!("Content of {}", props.path)} />
        </section>
    }
}

/// What the conflict view shows and acts on.
struct HunkPicker<'a> {
    room: &'a RoomHandle,
    path: &'a AttrValue,
    chunks: &'a [Chunk],
    /// The revision in conflict, which the picks belong to.
    rev: u64,
    /// The file and revision they were made for, and the picks.
    picks: &'a UseStateHandle<(AttrValue, u64, Vec<Side>)>,
    result_ref: &'a NodeRef,
}

/// The conflict view: mine or theirs for each conflicting hunk, and the
/// result, which the person may still edit, saved on the hub's revision.
/// A plain function of the editor's state rather than a component of its
/// own: a component type costs the bundle about a kilobyte.
fn hunk_picker(view: &HunkPicker<'_>) -> Html {
    let (path, rev, made) = &**view.picks;
    let picks: &[Side] = if path == view.path && *rev == view.rev {
        made
    } else {
        &[]
    };
    let mut conflict = 0;
    let hunks = view.chunks.iter().filter_map(|chunk| {
        let Chunk::Conflict { mine, theirs } = chunk else {
            return None;
        };
        let index = conflict;
        conflict += 1;
        let picked = picks.get(index).copied().unwrap_or(Side::Mine);
        let choose = |side: Side| {
            let (handle, path, rev) = (view.picks.clone(), view.path.clone(), view.rev);
            let mut next = picks.to_vec();
            next.resize(next.len().max(index + 1), Side::Mine);
            next[index] = side;
            Callback::from(move |_: MouseEvent| handle.set((path.clone(), rev, next.clone())))
        };
        Some(html! {
            <div class="hunk" role="group" aria-label={format!("Change {}", index + 1)}>
                <div class="versions">
                    <button class="version" aria-pressed={(picked == Side::Mine).to_string()}
                        onclick={choose(Side::Mine)}>{ "Yours" }<pre>{ mine.clone() }</pre></button>
                    <button class="version" aria-pressed={(picked == Side::Theirs).to_string()}
                        onclick={choose(Side::Theirs)}>{ "Theirs" }<pre>{ theirs.clone() }</pre></button>
                </div>
            </div>
        })
    });
    let hunks: Html = hunks.collect();
    // Written into the editable result whenever a pick changes; what the
    // person types there is what is saved.
    let result = settle(view.chunks, picks);
    let onsave = {
        let room = view.room.clone();
        let path = view.path.clone();
        let result_ref = view.result_ref.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(area) = result_ref.cast::<HtmlTextAreaElement>() {
                room.resolve_with(&path, &area.value());
            }
        })
    };
    html! {
        <section class="conflict" aria-label="Conflict">
            <p>{ "Someone changed this file after you started, in the same places as you. Choose a version of each change, or edit the result, then save it." }</p>
            { hunks }
            <label class="merge-result">{ "Result" }
                <textarea ref={view.result_ref.clone()} class="merge-text" spellcheck="false" value={result} />
            </label>
            <div class="actions">
                <button class="primary" onclick={onsave}>{ "Save the result" }</button>
            </div>
        </section>
    }
}
