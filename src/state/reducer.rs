//! The reducer: every [`Action`] applied to a [`RoomState`] in place.
//! What it does to drafts is in `draft.rs`.

use room_protocol::{
    ErrorCode, ErrorFrame, FileChanged, FileContent, FileVersion, LogEntry, SyncMode, Tree,
    Welcome, SNAPSHOT_EVENT_LIMIT,
};

use super::draft::Trigger;
use super::{
    Action, ConnectionStatus, DraftStatus, FileEntry, Notice, PathMap, PersonAction, RoomState,
};

impl RoomState {
    /// Applies one action in place.
    #[cfg_attr(feature = "testing", visibility::make(pub))]
    pub(crate) fn apply(&mut self, action: Action) {
        match action {
            Action::Status(status) => self.status = status,
            Action::Welcome(welcome) => self.apply_welcome(welcome, None),
            Action::TreeWelcome(welcome, tree) => self.apply_welcome(welcome, Some(tree)),
            Action::Content(answer) => self.apply_content(answer),
            Action::Entries(entries) => {
                for entry in entries {
                    self.apply_entry(entry);
                }
            }
            Action::Synced { head } => {
                // `Connected` is what having received `synced` means.
                self.last_seen_rev = self.last_seen_rev.max(head);
                self.status = ConnectionStatus::Connected;
            }
            Action::Peers(peers) => self.peers = peers,
            Action::LeftOut(left_out) => self.left_out = (left_out.files > 0).then_some(left_out),
            Action::Links(links) => {
                self.edit_token = links.edit_token.map(room_protocol::Token::new);
                self.read_only_token = links.read_only_token.map(room_protocol::Token::new);
            }
            Action::HubError(error) => self.apply_error(error),
            Action::Sent { path, edit_id } => {
                if let Some(draft) = self.drafts.get_mut(&path) {
                    let resent = matches!(&draft.status, DraftStatus::InFlight { edit_id: id, .. } if *id == edit_id);
                    if !resent {
                        draft.status = DraftStatus::InFlight {
                            edit_id,
                            sent: None,
                            saved_since: false,
                        };
                    }
                }
            }
            Action::Person(action) => self.apply_person(action),
            Action::Notify(notice) => self.notices.push(notice),
        }
    }

    fn apply_person(&mut self, action: PersonAction) {
        match action {
            PersonAction::Type { path, content } => self.type_text(path, content),
            PersonAction::Save { path, content } => self.save(path, content),
            PersonAction::Discard { path } => {
                self.drafts.remove(&path);
            }
            PersonAction::ResolveConflict { path, keep_mine } => self.resolve(path, keep_mine),
            PersonAction::ResolveWith { path, content } => self.resolve_with(path, content),
            PersonAction::SetProfile(profile) => self.profile = profile,
            PersonAction::Open { path } => self.open = path,
            PersonAction::DismissNotice(index) => {
                if index < self.notices.len() {
                    self.notices.remove(index);
                }
            }
        }
    }

    fn apply_welcome(&mut self, welcome: Welcome, tree: Option<Tree>) {
        self.sync_mode = Some(welcome.mode);
        self.peer_id = Some(welcome.peer_id);
        self.peers = welcome.peers;
        self.read_only = welcome.read_only;
        self.left_out = welcome.left_out;
        self.read_only_token = welcome.read_only_token.map(room_protocol::Token::new);
        self.host = welcome.host;
        self.edit_token = welcome.edit_token.map(room_protocol::Token::new);
        let same_project = self.project.as_ref() == Some(&welcome.project);
        let held = self.project.replace(welcome.project);
        if welcome.mode == SyncMode::Snapshot || !same_project {
            // A snapshot makes the state identical to a fresh client's:
            // revisions may restart (a new generation), and the events that
            // follow are the hub's newest, so what we held is replaced.
            // Drafts and the profile stay.
            self.events.clear();
            self.last_seen_rev = 0;
            self.last_event_ts = None;
            self.epoch += 1;
            let same_generation = held
                .as_ref()
                .zip(self.project.as_ref())
                .is_some_and(|(held, now)| held.id == now.id);
            self.files = match tree {
                Some(tree) => {
                    let delta = tree.since.is_some();
                    self.files_from_tree(tree, delta && same_generation, same_generation)
                }
                // A snapshot with no tree: a room without files.
                None => PathMap::new(),
            };
            // On the welcome's generation: a draft moved now builds on it.
            self.settle_drafts_against_files();
        }
    }

    /// The file table a tree makes: a delta applied to the files held, or
    /// a whole tree that replaces them. A content the page holds stays
    /// where the tree lists its file at the same revision of the same
    /// generation; every other file waits for its content.
    fn files_from_tree(
        &mut self,
        tree: Tree,
        delta: bool,
        same_generation: bool,
    ) -> PathMap<FileEntry> {
        let held = std::mem::take(&mut self.files);
        let content_at = |held: &PathMap<FileEntry>, path: &str, rev: u64| {
            held.get(path)
                .filter(|f| same_generation && f.rev == rev)
                .and_then(|f| f.content.clone())
        };
        // A delta changes the files held; a whole tree starts a new table
        // (its files in path order, so each insert goes at the end), taking
        // contents from the old one.
        let (mut table, held) = if delta {
            (held, PathMap::new())
        } else {
            (PathMap::new(), held)
        };
        for path in &tree.deleted {
            table.remove(path);
        }
        for file in tree.files {
            let source = if delta { &table } else { &held };
            let content = content_at(source, &file.path, file.rev);
            let new = FileEntry {
                content,
                rev: file.rev,
                size: file.size,
                by: None,
            };
            table.insert(file.path, new);
        }
        table
    }

    /// A content the page asked for: kept if the file is still at that
    /// revision (an older answer is stale: a newer change came since), and
    /// a draft waiting for its file's content settles on it (an edit in
    /// flight, sent on this connection, waits for its own answer unless
    /// the content is its text).
    fn apply_content(&mut self, answer: FileContent) {
        let Some(content) = answer.content else {
            return;
        };
        if self.hold_content(&answer.path, answer.rev, content) {
            self.settle_draft(&answer.path, Trigger::Arrived);
        }
    }

    /// Keeps `content` as `path`'s if the file is at `rev` and the page
    /// holds no content of it yet; whether it was kept.
    pub(crate) fn hold_content(&mut self, path: &str, rev: u64, content: String) -> bool {
        let Some(file) = self.files.get_mut(path) else {
            return false;
        };
        if file.rev != rev || file.content.is_some() {
            return false;
        }
        file.size = content.len() as u64;
        file.content = Some(content.into());
        true
    }

    fn apply_entry(&mut self, entry: LogEntry) {
        if entry.rev() <= self.last_seen_rev {
            return;
        }
        self.last_seen_rev = entry.rev();
        match entry {
            LogEntry::FileChanged(change) => self.apply_file_change(change),
            LogEntry::RuntimeEvent(event) => {
                self.last_event_ts = Some(event.ts);
                self.events.push_back(event);
                while self.events.len() > SNAPSHOT_EVENT_LIMIT {
                    self.events.pop_front();
                }
            }
        }
    }

    fn apply_file_change(&mut self, change: FileChanged) {
        if let Some(project) = &mut self.project {
            project.rev = change.rev;
        }
        let ours = match &change.edit_id {
            Some(edit_id) => self.acknowledge(&change.path, edit_id, &change.content, change.rev),
            None => false,
        };
        if change.deleted {
            self.files.remove(&change.path);
            return;
        }
        self.files.insert(
            change.path.clone(),
            FileEntry::with_content(
                change.content.as_str().into(),
                change.rev,
                change.by.clone(),
            ),
        );
        if !ours {
            let theirs = FileVersion {
                rev: change.rev,
                content: change.content,
            };
            self.move_draft(&change.path, theirs, change.by.as_deref(), Trigger::Arrived);
        }
    }

    fn apply_error(&mut self, error: ErrorFrame) {
        let Some(edit_id) = error.edit_id.as_deref() else {
            return;
        };
        let Some(path) = self.in_flight_path(edit_id) else {
            return;
        };
        let Some(draft) = self.drafts.get_mut(&path) else {
            return;
        };
        match error.error {
            ErrorCode::ReadOnly => {
                draft.status = DraftStatus::ReadOnly;
                self.notices.push(Notice::ReadOnly { path });
            }
            ErrorCode::Conflict => {
                let theirs = error.current.unwrap_or(FileVersion {
                    rev: 0,
                    content: String::new(),
                });
                // The hub already has exactly this text (our own edit,
                // whose ack was lost): nothing to resolve. Otherwise mine
                // goes on top of theirs, merged, or the person chooses.
                let by = self
                    .files
                    .get(&path)
                    .filter(|f| f.rev == theirs.rev)
                    .and_then(|f| f.by.clone());
                self.move_draft(&path, theirs, by.as_deref(), Trigger::Refused);
            }
            ErrorCode::TooLarge => {
                let bytes = draft.content.len();
                draft.status = DraftStatus::TooLarge;
                self.notices.push(Notice::TooLarge { path, bytes });
            }
            code => {
                draft.status = DraftStatus::Refused {
                    code,
                    message: error.message.clone(),
                };
                self.notices.push(Notice::EditRefused {
                    path,
                    message: error.message,
                });
            }
        }
    }
}
