//! The handle an embedding app gets from `use_room()`.

use std::rc::Rc;

use room_protocol::urls::LinkKind;
use room_protocol::{PeerProfile, Token};
use yew::prelude::*;

use super::hub_requests;
use super::store::{RoomStore, StoreRef};
use crate::error::ClientError;
use crate::intent::Intent;
use crate::state::{ConnectionStatus, Draft, RoomState};

/// The room as a component sees it: the current state, and (through
/// [`RoomActions`], which it dereferences to) the methods that act on it.
/// Cheap to clone; compares equal while nothing changed.
///
/// Get it from [`use_room`] (or read less with [`use_room_status`],
/// [`use_file`], [`use_room_select`]): the hooks subscribe to the room and
/// re-render with a fresh handle. A component that only acts takes
/// [`use_room_actions`] and never re-renders for the room. The context
/// value itself never changes, so a component that reads it with
/// `use_context` sees the state of when the room started.
#[derive(Clone)]
pub struct RoomHandle {
    /// Everything the page shows.
    pub state: Rc<RoomState>,
    /// The room id.
    pub room_id: Rc<str>,
    /// The hub's HTTP base URL (for links), e.g. `http://127.0.0.1:8787`.
    pub hub_url: Rc<str>,
    actions: RoomActions,
}

/// What a component can ask of the room: save, type, resolve, retry… Cheap
/// to clone, and always equal to itself, so a prop or a dependency holding
/// it never causes a render. Get it from [`use_room_actions`] (no
/// subscription) or from any [`RoomHandle`].
#[derive(Clone)]
pub struct RoomActions {
    store: Rc<RoomStore>,
}

impl std::fmt::Debug for RoomActions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomActions").finish_non_exhaustive()
    }
}

impl PartialEq for RoomActions {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.store, &other.store)
    }
}

impl std::ops::Deref for RoomHandle {
    type Target = RoomActions;

    fn deref(&self) -> &RoomActions {
        &self.actions
    }
}

impl std::fmt::Debug for RoomHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomHandle")
            .field("room_id", &self.room_id)
            .field("status", &self.state.status)
            .finish_non_exhaustive()
    }
}

impl PartialEq for RoomHandle {
    fn eq(&self, other: &Self) -> bool {
        self.actions == other.actions
            && Rc::ptr_eq(&self.state, &other.state)
            && self.room_id == other.room_id
            && self.hub_url == other.hub_url
    }
}

impl RoomHandle {
    pub(crate) fn new(store: Rc<RoomStore>, room_id: Rc<str>, hub_url: Rc<str>) -> Self {
        Self {
            state: store.state(),
            room_id,
            hub_url,
            actions: RoomActions { store },
        }
    }

    /// A handle over a fixed state with no session behind it: for previews,
    /// style guides and component tests. Its methods do nothing.
    pub fn preview(state: RoomState, room_id: &str) -> Self {
        Self::new(
            Rc::new(RoomStore::preview(state)),
            room_id.into(),
            "http://localhost".into(),
        )
    }

    /// This handle with the room's state as it is now.
    fn refreshed(&self) -> Self {
        Self {
            state: self.actions.store.state(),
            ..self.clone()
        }
    }

    /// The room link to share: with this page's token, or on the host's
    /// page with the edit token (the host link is never offered). `None`
    /// until the hub has said which link the page holds
    /// ([`RoomState::token_to_share`]).
    pub fn share_link(&self) -> Option<String> {
        let token = self.state.token_to_share()?;
        Some(self.link_with(token.expose()))
    }

    /// Whether this page was opened with the host link: it may replace
    /// the edit and view links ([`Self::replace_link`]).
    pub fn is_host(&self) -> bool {
        self.state.host
    }

    /// A view-only link, when the hub shared the read-only token (the host
    /// and editors, while the view link is on).
    pub fn view_only_link(&self) -> Option<String> {
        let token = self.state.read_only_token.as_ref()?;
        Some(self.link_with(token.expose()))
    }

    fn link_with(&self, token: &str) -> String {
        room_protocol::urls::share_link(&self.hub_url, &self.room_id, token)
    }

    pub(crate) fn token(&self) -> Option<&Token> {
        self.state.token.as_ref()
    }

    /// Replaces the `kind` link with a new one (the host's page only; the
    /// hub answers 403 to any other): everyone using the old link is
    /// disconnected at once, and the hub tells every page that shares
    /// links the new one. Turns the view link on if it was off. Resolves
    /// to the new share link, as the hub names it.
    pub async fn replace_link(&self, kind: LinkKind) -> Result<String, ClientError> {
        let answer = self.host_request(kind, "POST").await?;
        hub_requests::field(&answer, LinkKind::ANSWER_FIELD)
    }

    /// Turns the view-only link off (the host's page only): everyone
    /// watching through it is disconnected, and nobody can join with it.
    /// [`Self::replace_link`] with [`LinkKind::View`] turns it on again,
    /// with a new token.
    pub async fn turn_off_view_link(&self) -> Result<(), ClientError> {
        self.host_request(LinkKind::View, "DELETE").await.map(drop)
    }

    /// `method` on the hub's route for the `kind` link, with this page's
    /// token: the answer's JSON.
    pub(crate) async fn host_request(
        &self,
        kind: LinkKind,
        method: &str,
    ) -> Result<serde_json::Value, ClientError> {
        let token = self.token().ok_or(ClientError::HubStatus(401))?;
        let path = room_protocol::urls::link_path(&self.room_id, kind.name());
        hub_requests::hub_request(&self.hub_url, &path, method, token.expose()).await
    }
}

impl RoomActions {
    /// Asks the room for `intent`. Before the session has started (the
    /// token and the cache are read asynchronously) it waits, and is
    /// applied in order once the session exists. A preview ignores it.
    pub fn send(&self, intent: Intent) {
        if let Some(intents) = self.store.intents() {
            intents.send(intent);
        }
    }

    /// Saves `content` as the new text of `path`: sent to the hub now when
    /// connected, else at the next connection; until the hub takes it, it
    /// is the file's draft, marked queued (and kept in the cache).
    pub fn save(&self, path: &str, content: &str) {
        self.send(Intent::Save {
            path: path.to_owned(),
            content: content.to_owned(),
        });
    }

    /// Keeps `content` as the unsaved draft of `path`, as an editor does
    /// while the person types: nothing goes to the hub until [`Self::save`];
    /// the draft survives reconnects and refreshes.
    pub fn type_text(&self, path: &str, content: &str) {
        self.send(Intent::Type {
            path: path.to_owned(),
            content: content.to_owned(),
        });
    }

    /// Drops the draft of `path`.
    pub fn discard_draft(&self, path: &str) {
        self.send(Intent::Discard {
            path: path.to_owned(),
        });
    }

    /// Settles a conflict: resend the local text, or take the hub's.
    pub fn resolve_conflict(&self, path: &str, keep_mine: bool) {
        self.send(Intent::ResolveConflict {
            path: path.to_owned(),
            keep_mine,
        });
    }

    /// Settles a conflict with `content` (for example the hunks of
    /// [`Draft::conflict_chunks`] as picked, or edited): sent on the hub's
    /// revision it was in conflict with.
    pub fn resolve_with(&self, path: &str, content: &str) {
        self.send(Intent::ResolveWith {
            path: path.to_owned(),
            content: content.to_owned(),
        });
    }

    /// Tells others which file this tab shows (`None`: none); the default
    /// UI's editor does it for the file it shows.
    pub fn set_open_file(&self, path: Option<&str>) {
        self.send(Intent::Open {
            path: path.map(str::to_owned),
        });
    }

    /// Changes how this person appears to others (and saves it).
    pub fn set_profile(&self, name: &str, color: &str) {
        self.send(Intent::SetProfile(PeerProfile {
            name: name.to_owned(),
            color: color.to_owned(),
        }));
    }

    /// Tries to reconnect now.
    pub fn retry(&self) {
        self.send(Intent::Retry);
    }

    /// Hides the notice at `index`.
    pub fn dismiss_notice(&self, index: usize) {
        self.send(Intent::DismissNotice(index));
    }
}

/// What `select` picks from the room of the nearest `RoomClient`. The
/// component re-renders when that selection changes, and only then: a
/// component that shows one file does not re-render while events stream in
/// or other files change.
///
/// ```
/// use room_client::prelude::*;
/// use yew::prelude::*;
///
/// #[component]
/// fn People() -> Html {
///     // Re-renders when someone comes, goes or opens another file; not
///     // for events or edits. `people()` and `paths()` are owned.
///     let people = use_room_select(|room| room.state.people());
///     let files = use_room_select(|room| room.state.paths().len());
///     html! {
///         <p>
///             { format!("{files} files; ") }
///             { for people.iter().map(|p| html! { <b style={format!("color:{}", p.color)}>{ &p.name }</b> }) }
///         </p>
///     }
/// }
/// ```
///
/// # Panics
///
/// Outside a `RoomClient` (or a context holding a [`RoomHandle`]).
#[hook]
pub fn use_room_select<T, F>(select: F) -> T
where
    T: PartialEq + Clone + 'static,
    F: Fn(&RoomHandle) -> T + 'static,
{
    let context = use_room_context();
    use_handle_select(&context, select)
}

/// The context's handle, without subscribing: its methods act on the live
/// room, its `state` is the one of when the room started. For components
/// that only send intents, beside a selective hook for what they show.
#[hook]
pub(crate) fn use_room_context() -> RoomHandle {
    use_context::<RoomHandle>().expect("room hooks must be called inside <RoomClient>")
}

/// [`use_room_select`] over a given handle (the provider has no context
/// above it).
#[hook]
pub(crate) fn use_handle_select<T, F>(handle: &RoomHandle, select: F) -> T
where
    T: PartialEq + Clone + 'static,
    F: Fn(&RoomHandle) -> T + 'static,
{
    let value = select(&handle.refreshed());
    // The comparison of this render replaces the last one's; it holds the
    // value it compares with, so no state of its own is needed per `T`.
    let rendered = value.clone();
    use_rerender_when(handle, Rc::new(move |room| rendered != select(room)));
    value
}

/// Re-renders the component whenever `changed` says the room's change
/// concerns it. Not generic, so each selection adds only its comparison to
/// the bundle.
#[hook]
fn use_rerender_when(handle: &RoomHandle, changed: Rc<dyn Fn(&RoomHandle) -> bool>) {
    let latest = use_mut_ref(|| Rc::clone(&changed));
    *latest.borrow_mut() = changed;
    let force = use_force_update();
    let handle = handle.clone();
    use_effect_with(StoreRef(Rc::clone(&handle.actions.store)), move |store| {
        let check = move || {
            if (latest.borrow())(&handle.refreshed()) {
                force.force_update();
            }
        };
        // Whatever changed between the render and now counts too.
        check();
        let subscription = RoomStore::subscribe(&store.0, check);
        move || drop(subscription)
    });
}

/// The room handle from the nearest `RoomClient`; the component re-renders
/// on every change of the room.
///
/// # Panics
///
/// Outside a `RoomClient`.
#[hook]
pub fn use_room() -> RoomHandle {
    use_room_select(RoomHandle::clone)
}

/// The room's actions, without subscribing: the component never
/// re-renders for the room (for a button that saves, a form that sets the
/// profile). Read what it shows with [`use_room_select`] and friends.
///
/// # Panics
///
/// Outside a `RoomClient`.
#[hook]
pub fn use_room_actions() -> RoomActions {
    use_room_context().actions
}

/// Just the connection status; re-renders only when it changes.
#[hook]
pub fn use_room_status() -> ConnectionStatus {
    use_room_select(|room| room.state.status.clone())
}

/// A file as the page shows it: the hub's content and any local draft.
#[derive(Debug, Clone, PartialEq)]
pub struct FileView {
    /// The hub's content, if the file exists there and the page has it.
    pub content: Option<Rc<str>>,
    /// The file exists at the hub and its content is on its way: the page
    /// fetches it when the file is opened (and within its prefetch budget
    /// before).
    pub loading: bool,
    /// The hub's revision (0 if absent).
    pub rev: u64,
    /// The local draft, if any.
    pub draft: Option<Draft>,
}

impl FileView {
    /// What the editor shows: the draft if there is one, else the hub's
    /// content.
    pub fn text(&self) -> String {
        match (&self.draft, &self.content) {
            (Some(draft), _) => draft.content.clone(),
            (None, Some(content)) => content.to_string(),
            (None, None) => String::new(),
        }
    }
}

impl FileView {
    fn of(state: &RoomState, path: &str) -> Self {
        let file = state.files.get(path);
        FileView {
            content: file.and_then(|f| f.content.clone()),
            loading: file.is_some_and(|f| f.content.is_none()),
            rev: file.map_or(0, |f| f.rev),
            draft: state.drafts.get(path).cloned(),
        }
    }
}

/// One file of the room, with its draft; re-renders only when that file
/// or its draft changes.
#[hook]
pub fn use_file(path: &str) -> FileView {
    let path = path.to_owned();
    use_room_select(move |room| FileView::of(&room.state, &path))
}
