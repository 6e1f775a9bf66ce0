//! The handle an embedding app gets from `use_room()`.

use std::rc::Rc;

use room_protocol::{PeerProfile, Token};
use yew::prelude::*;

use crate::session::Session;
use crate::state::{Action, ConnectionStatus, Draft, RoomState};

/// The room as a component sees it: the current state, and methods that
/// act on it. Cheap to clone; compares equal while nothing changed.
#[derive(Clone)]
pub struct RoomHandle {
    /// Everything the page shows.
    pub state: Rc<RoomState>,
    /// The room id.
    pub room_id: Rc<str>,
    /// The hub's HTTP base URL (for links), e.g. `http://127.0.0.1:8787`.
    pub hub_url: Rc<str>,
    token: Option<Token>,
    session: Option<Rc<Session>>,
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
        Rc::ptr_eq(&self.state, &other.state)
            && self.room_id == other.room_id
            && self.hub_url == other.hub_url
            && self.token == other.token
            && match (&self.session, &other.session) {
                (Some(a), Some(b)) => Rc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

impl RoomHandle {
    pub(crate) fn new(
        state: Rc<RoomState>,
        room_id: Rc<str>,
        hub_url: Rc<str>,
        token: Option<Token>,
        session: Option<Rc<Session>>,
    ) -> Self {
        Self {
            state,
            room_id,
            hub_url,
            token,
            session,
        }
    }

    /// A handle over a fixed state with no session behind it: for previews,
    /// style guides and component tests. Its methods do nothing.
    pub fn preview(state: RoomState, room_id: &str) -> Self {
        Self::new(
            Rc::new(state),
            room_id.into(),
            "http://localhost".into(),
            None,
            None,
        )
    }

    /// The session behind this handle, if any (none in previews).
    fn session(&self) -> Option<&Session> {
        self.session.as_deref()
    }

    /// Saves `content` as the new text of `path`.
    pub fn edit(&self, path: &str, content: &str) {
        if let Some(session) = self.session() {
            session.edit(path, content);
        }
    }

    /// Keeps unsaved text of `path` as a draft (survives reconnects and
    /// refreshes).
    pub fn type_text(&self, path: &str, content: &str) {
        if let Some(session) = self.session() {
            session.type_text(path, content);
        }
    }

    /// Drops the draft of `path`.
    pub fn discard_draft(&self, path: &str) {
        if let Some(session) = self.session() {
            session.discard_draft(path);
        }
    }

    /// Settles a conflict: resend the local text, or take the hub's.
    pub fn resolve_conflict(&self, path: &str, keep_mine: bool) {
        if let Some(session) = self.session() {
            session.resolve_conflict(path, keep_mine);
        }
    }

    /// Changes how this person appears to others (and saves it).
    pub fn set_profile(&self, name: &str, color: &str) {
        if let Some(session) = self.session() {
            session.set_profile(PeerProfile {
                name: name.to_owned(),
                color: color.to_owned(),
            });
        }
    }

    /// Tries to reconnect now.
    pub fn retry(&self) {
        if let Some(session) = self.session() {
            session.retry();
        }
    }

    /// Hides the notice at `index`.
    pub fn dismiss_notice(&self, index: usize) {
        if let Some(session) = self.session() {
            session.dispatch(Action::DismissNotice(index));
        }
    }

    /// The share link with this page's token, if it has one.
    pub fn share_link(&self) -> Option<String> {
        let token = self.token.as_ref()?;
        Some(self.link_with(token.expose()))
    }

    /// A view-only link, when the hub shared the read-only token (editors
    /// only).
    pub fn view_only_link(&self) -> Option<String> {
        let token = self.state.read_only_token.as_ref()?;
        Some(self.link_with(token.expose()))
    }

    fn link_with(&self, token: &str) -> String {
        format!(
            "{}/rooms/{}/?token={token}",
            self.hub_url.trim_end_matches('/'),
            self.room_id
        )
    }

    pub(crate) fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }
}

/// The room handle from the nearest `RoomClient`.
///
/// # Panics
///
/// Outside a `RoomClient`.
#[hook]
pub fn use_room() -> RoomHandle {
    use_context::<RoomHandle>().expect("use_room() must be called inside <RoomClient>")
}

/// Just the connection status.
#[hook]
pub fn use_room_status() -> ConnectionStatus {
    use_room().state.status.clone()
}

/// A file as the page shows it: the hub's content and any local draft.
#[derive(Debug, Clone, PartialEq)]
pub struct FileView {
    /// The hub's content, if the file exists there.
    pub content: Option<Rc<str>>,
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

/// One file of the room, with its draft.
#[hook]
pub fn use_file(path: &str) -> FileView {
    let room = use_room();
    let file = room.state.files.get(path);
    FileView {
        content: file.map(|f| Rc::clone(&f.content)),
        rev: file.map_or(0, |f| f.rev),
        draft: room.state.drafts.get(path).cloned(),
    }
}
