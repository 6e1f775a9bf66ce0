//! Drafts: local edits the hub has not acknowledged, with the text each
//! started from, and how a draft follows its file when the file moves on
//! under it (rebased, merged, in conflict) or its own edit lands.

use room_protocol::{ErrorCode, FileVersion, MAX_CONTENT_BYTES};
use serde::{Deserialize, Serialize};

use super::{FileEntry, Notice, RoomState};

/// Where a local edit stands. Stored in the cache as `{"state": …}` plus
/// the variant's fields; a state this version cannot read comes back as
/// [`DraftStatus::Editing`], so the text is kept and nothing is sent
/// until the person saves it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "state",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum DraftStatus {
    /// Typed but not saved yet.
    Editing,
    /// Saved; waits for a connection to send it.
    Queued,
    /// Sent as `edit_id`; waits for its acknowledgement. One edit per file
    /// is in flight at a time: what the person types or saves meanwhile
    /// waits for the answer, and goes on top of it.
    InFlight {
        /// The `editId` it was sent with.
        edit_id: String,
        /// The text that was sent, once the draft has moved on from it
        /// (`None`: the draft's content is what was sent).
        #[serde(skip_serializing_if = "Option::is_none")]
        sent: Option<String>,
        /// Whether the person saved again since: the newer text is sent
        /// once this edit is answered.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        saved_since: bool,
    },
    /// The hub refused it: this connection is read-only.
    ReadOnly,
    /// The file changed since `base_rev`; `theirs` is the hub's version.
    Conflict {
        /// The hub's current version.
        theirs: FileVersion,
    },
    /// Over the content limit; never sent.
    TooLarge,
    /// Refused for another reason (`bad-path`, `write-failed`, …).
    Refused {
        /// The error code.
        code: ErrorCode,
        /// The hub's sentence.
        message: String,
    },
}

/// The stored form of a [`DraftStatus`], read field by field. By hand
/// because serde's derived reader for internally tagged enums buffers the
/// whole value first and costs the browser bundle 9 KB.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredStatus {
    state: String,
    edit_id: Option<String>,
    sent: Option<String>,
    saved_since: Option<bool>,
    theirs: Option<FileVersion>,
    code: Option<ErrorCode>,
    message: Option<String>,
}

impl<'de> Deserialize<'de> for DraftStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let StoredStatus {
            state,
            edit_id,
            sent,
            saved_since,
            theirs,
            code,
            message,
        } = StoredStatus::deserialize(deserializer)?;
        Ok(match (state.as_str(), edit_id, theirs, code) {
            ("queued", ..) => Self::Queued,
            ("in-flight", Some(edit_id), ..) => Self::InFlight {
                edit_id,
                sent,
                saved_since: saved_since.unwrap_or(false),
            },
            ("read-only", ..) => Self::ReadOnly,
            ("conflict", _, Some(theirs), _) => Self::Conflict { theirs },
            ("too-large", ..) => Self::TooLarge,
            ("refused", _, _, Some(code)) => Self::Refused {
                code,
                message: message.unwrap_or_default(),
            },
            _ => Self::Editing,
        })
    }
}

/// A local edit that the hub has not acknowledged. Drafts survive
/// reconnects and are never dropped except by acknowledgement or discard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    /// The text as the person left it.
    pub content: String,
    /// The file's `rev` the edit started from.
    pub base_rev: u64,
    /// The generation (`project.id`) `base_rev` belongs to, sent with the
    /// edit so that a restarted hub, whose revisions start from 0 again,
    /// never takes it for one of its own. `None` for drafts stored before
    /// it was kept (sent unchecked, as then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_project: Option<String>,
    /// The file's text at `base_rev`, which a newer version is merged
    /// against. `None` for drafts stored before bases were kept: those
    /// are not merged, and a conflict offers a choice of sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// Where it stands.
    pub status: DraftStatus,
}

impl Draft {
    /// Whether the session should send it on the next `synced`.
    pub fn wants_sending(&self) -> bool {
        matches!(
            self.status,
            DraftStatus::Queued | DraftStatus::InFlight { .. }
        )
    }

    /// The text of the edit in flight (`None` when none is).
    fn sent_text(&self) -> Option<&str> {
        match &self.status {
            DraftStatus::InFlight { sent, .. } => Some(sent.as_deref().unwrap_or(&self.content)),
            _ => None,
        }
    }

    /// Whether the person asked for this text to be saved (and not only
    /// typed it): queued, in conflict, or in flight with nothing typed
    /// since but a save.
    fn saved(&self) -> bool {
        match &self.status {
            DraftStatus::Queued | DraftStatus::Conflict { .. } => true,
            DraftStatus::InFlight {
                sent, saved_since, ..
            } => sent.is_none() || *saved_since,
            _ => false,
        }
    }

    /// The conflict between this draft and the version it is in conflict
    /// with, hunk by hunk (`None` when it is not in conflict). A draft
    /// without a base (stored by an earlier build), or too large to merge,
    /// is one hunk: the two whole texts.
    pub fn conflict_chunks(&self) -> Option<Vec<crate::merge::Chunk>> {
        use crate::merge::{merge, Chunk, Merged};
        let DraftStatus::Conflict { theirs } = &self.status else {
            return None;
        };
        let merged = self
            .base
            .as_deref()
            .map(|base| merge(base, &self.content, &theirs.content));
        Some(match merged {
            Some(Merged::Conflicts(chunks)) => chunks,
            _ => vec![Chunk::Conflict {
                mine: self.content.clone(),
                theirs: theirs.content.clone(),
            }],
        })
    }

    /// While an edit is in flight the person moves on: `content` becomes
    /// the draft, the text that was sent is kept beside it, and with
    /// `saved` it goes once the edit is answered. Typing after such a save
    /// makes the draft unsaved again, as typing after a queued save does:
    /// nothing the person did not save is ever sent. Nothing for other
    /// states.
    fn supersede_in_flight(&mut self, content: String, saved: bool) {
        if let DraftStatus::InFlight {
            sent, saved_since, ..
        } = &mut self.status
        {
            let before = std::mem::replace(&mut self.content, content);
            sent.get_or_insert(before);
            *saved_since = saved;
        }
    }

    /// Our edit of `text` landed as `rev`: what the person did since stays
    /// on top of it (queued, if they saved it). Whether anything is left
    /// (`false`: the draft is exactly that text and can go).
    fn landed(&mut self, text: &str, rev: u64, project: Option<&str>) -> bool {
        if self.content == text {
            return false;
        }
        let saved_since = matches!(
            self.status,
            DraftStatus::InFlight {
                saved_since: true,
                ..
            }
        );
        self.status = if saved_since {
            DraftStatus::Queued
        } else {
            DraftStatus::Editing
        };
        self.base = Some(text.to_owned());
        self.base_rev = rev;
        self.base_project = project.map(str::to_owned);
        true
    }

    /// Moves this draft onto `theirs`, a newer version of its file in
    /// generation `project`: what the person changed since the base is
    /// kept, on top of it.
    fn rebase(&mut self, theirs: &FileVersion, project: Option<&str>) -> Rebase {
        if self.content == theirs.content {
            return Rebase::Same;
        }
        let outcome = match self.base.as_deref() {
            // The file moved (a new generation, say) but its text did not.
            Some(base) if *base == theirs.content => Rebase::Moved,
            Some(base) => match crate::merge::merge(base, &self.content, &theirs.content) {
                crate::merge::Merged::Clean(text) if text == theirs.content => Rebase::Same,
                crate::merge::Merged::Clean(text) => {
                    self.content = text;
                    Rebase::Merged
                }
                _ => return Rebase::Conflict,
            },
            None => return Rebase::Conflict,
        };
        self.base = Some(theirs.content.clone());
        self.base_rev = theirs.rev;
        self.base_project = project.map(str::to_owned);
        outcome
    }
}

/// What became of a draft whose file moved on under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rebase {
    /// The file now holds exactly the draft's text.
    Same,
    /// Only the revision changed: the draft now builds on the new one.
    Moved,
    /// Both changes merged cleanly into the draft.
    Merged,
    /// The changes overlap (or cannot be merged).
    Conflict,
}

/// Why a draft is being moved onto a newer version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    /// The hub refused its edit with the file's current version.
    Refused,
    /// A newer version arrived in the log, or a content the page asked
    /// for on this connection (an edit in flight waits for its own answer).
    Arrived,
    /// A snapshot replaced the files (the connection that carried any edit
    /// in flight is gone; the edit is sent again unless its file moved on).
    Snapshot,
}

/// What the reducer does with drafts.
impl RoomState {
    /// The path of the draft whose edit in flight is `edit_id`, if any.
    pub(crate) fn in_flight_path(&self, edit_id: &str) -> Option<String> {
        self.drafts
            .iter()
            .find(|(_, d)| matches!(&d.status, DraftStatus::InFlight { edit_id: id, .. } if id == edit_id))
            .map(|(path, _)| path.clone())
    }

    /// Paths of drafts that should be (re)sent after `synced`.
    pub(crate) fn drafts_to_send(&self) -> Vec<String> {
        self.drafts
            .iter()
            .filter(|(_, d)| d.wants_sending())
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// After a snapshot (revisions may have restarted, in a new generation)
    /// every draft is moved onto its file as the hub has it now: one whose
    /// text the hub already has was applied (its acknowledgement was lost
    /// with the old connection); one whose sent text the hub has builds on
    /// it; the others are merged.
    pub(super) fn settle_drafts_against_files(&mut self) {
        let paths: Vec<String> = self.drafts.keys().cloned().collect();
        for path in paths {
            self.settle_draft(&path, Trigger::Snapshot);
        }
    }

    /// Moves the draft of `path` onto its file as the page has it now, as
    /// [`Self::settle_drafts_against_files`] does for each (`trigger`:
    /// [`Trigger::Snapshot`]), or when the file's content arrives
    /// ([`Trigger::Arrived`]: an edit in flight was sent on this connection
    /// and waits for its answer). A file whose content the page has not
    /// fetched yet leaves its draft as it is until the content arrives.
    pub(super) fn settle_draft(&mut self, path: &str, trigger: Trigger) {
        let Some(file) = self.files.get(path) else {
            return;
        };
        let Some(content) = &file.content else {
            return;
        };
        let theirs = FileVersion {
            rev: file.rev,
            content: content.to_string(),
        };
        self.move_draft(path, theirs, None, trigger);
    }

    /// Moves the draft of `path` onto `theirs` (made by peer `by`, if
    /// known) and settles what that means: gone, merged (with a notice),
    /// or in conflict.
    pub(super) fn move_draft(
        &mut self,
        path: &str,
        theirs: FileVersion,
        by: Option<&str>,
        trigger: Trigger,
    ) {
        let project = self.project.as_ref().map(|p| p.id.as_str());
        let Some(draft) = self.drafts.get_mut(path) else {
            return;
        };
        // The file holds the text this page sent: that is its own edit,
        // however the acknowledgement went missing (lost with a connection,
        // or the hub restarted after writing it), never someone else's
        // change. What the person did since stays on top of it.
        if draft.sent_text() == Some(theirs.content.as_str()) {
            if !draft.landed(&theirs.content, theirs.rev, project) {
                self.drafts.remove(path);
            }
            return;
        }
        let movable = match &draft.status {
            DraftStatus::Editing | DraftStatus::Queued | DraftStatus::Conflict { .. } => true,
            // An edit in flight keeps its id until it is answered, so its
            // acknowledgement is still recognised: only its refusal moves
            // it; a snapshot moves it only when the file moved on since its
            // base (the hub would refuse it), and otherwise it is sent again
            // as it was.
            DraftStatus::InFlight { .. } => match trigger {
                Trigger::Refused => true,
                Trigger::Snapshot => theirs.rev != draft.base_rev,
                Trigger::Arrived => draft.content == theirs.content,
            },
            _ => false,
        };
        // A draft stored before bases were kept is left as it was, except
        // when its edit is refused: then the person chooses.
        if !movable
            || (draft.base.is_none()
                && trigger != Trigger::Refused
                && draft.content != theirs.content)
        {
            return;
        }
        let saved = draft.saved();
        match draft.rebase(&theirs, project) {
            Rebase::Same => {
                self.drafts.remove(path);
            }
            outcome @ (Rebase::Moved | Rebase::Merged) => {
                let in_flight = matches!(draft.status, DraftStatus::InFlight { .. });
                if saved {
                    draft.status = DraftStatus::Queued;
                } else if in_flight && outcome == Rebase::Merged {
                    // Typed on since its save, and merged: unsaved.
                    draft.status = DraftStatus::Editing;
                }
                // Typed on since its save, on a file that holds its base
                // still: the edit in flight is good on the new revision
                // and goes again as it is (the session sends it again on
                // its refusal); what was typed stays unsaved on top.
                if outcome == Rebase::Merged {
                    let with = by.and_then(|id| self.peers.iter().find(|p| p.peer_id == id));
                    self.notices.push(Notice::Merged {
                        path: path.to_owned(),
                        with: with.map(|p| p.name.clone()),
                    });
                }
            }
            Rebase::Conflict => draft.status = DraftStatus::Conflict { theirs },
        }
    }

    /// Our edit `edit_id` landed as `rev`. The draft goes, unless the
    /// person typed on since sending: then the newer text stays a draft on
    /// top of the acknowledged revision (and is sent, if they saved it).
    /// Whether the change was this draft's edit.
    pub(super) fn acknowledge(
        &mut self,
        path: &str,
        edit_id: &str,
        content: &str,
        rev: u64,
    ) -> bool {
        let project = self.project.as_ref().map(|p| p.id.as_str());
        let Some(draft) = self.drafts.get_mut(path) else {
            return false;
        };
        let ours =
            matches!(&draft.status, DraftStatus::InFlight { edit_id: id, .. } if id == edit_id);
        if !ours {
            return false;
        }
        if !draft.landed(content, rev, project) {
            self.drafts.remove(path);
        }
        true
    }

    /// A new draft of `path` with `content`, on the file as the page has
    /// it now (an absent file: an empty base at revision 0).
    pub(super) fn new_draft(&self, path: &str, content: String, status: DraftStatus) -> Draft {
        let file = self.files.get(path);
        Draft {
            content,
            base_rev: file.map_or(0, |f| f.rev),
            base_project: self.project.as_ref().map(|p| p.id.clone()),
            // A file whose content the page does not have yet: no base to
            // merge against, so a conflict offers a choice of sides.
            base: match file {
                None => Some(String::new()),
                Some(file) => file.content.as_deref().map(str::to_owned),
            },
            status,
        }
    }

    pub(super) fn type_text(&mut self, path: String, content: String) {
        let file = self.files.get(&path);
        let Some(draft) = self.drafts.get_mut(&path) else {
            let unchanged = file.is_some_and(|f| f.holds(&content));
            if !unchanged {
                let draft = self.new_draft(&path, content, DraftStatus::Editing);
                self.drafts.insert(path, draft);
            }
            return;
        };
        let unchanged = file.is_some_and(|f| f.holds(&content) && f.rev == draft.base_rev);
        match draft.status {
            // An in-flight edit keeps its status so its acknowledgement is
            // still recognised; the text that was sent is kept beside.
            DraftStatus::InFlight { .. } => draft.supersede_in_flight(content, false),
            DraftStatus::Conflict { .. } => draft.content = content,
            // Typing back to the hub's text leaves nothing to save.
            _ if unchanged => {
                self.drafts.remove(&path);
            }
            _ => {
                draft.content = content;
                draft.status = DraftStatus::Editing;
            }
        }
    }

    pub(super) fn save(&mut self, path: String, content: String) {
        if content.len() > MAX_CONTENT_BYTES {
            let bytes = content.len();
            self.set_draft(path.clone(), content, DraftStatus::TooLarge);
            self.notices.push(Notice::TooLarge { path, bytes });
            return;
        }
        // One edit per file in flight: this one goes once that one is
        // answered, on top of it.
        let in_flight = self
            .drafts
            .get_mut(&path)
            .filter(|d| matches!(d.status, DraftStatus::InFlight { .. }));
        if let Some(draft) = in_flight {
            draft.supersede_in_flight(content, true);
            return;
        }
        // Even a read-only connection sends: the hub is the authority, and
        // its refusal is what the page reports.
        self.set_draft(path, content, DraftStatus::Queued);
    }

    /// Sets the draft of `path` to `content` with `status`, keeping the
    /// base it started from (or starting a new one).
    pub(super) fn set_draft(&mut self, path: String, content: String, status: DraftStatus) {
        match self.drafts.get_mut(&path) {
            Some(draft) => {
                draft.content = content;
                draft.status = status;
            }
            None => {
                let draft = self.new_draft(&path, content, status);
                self.drafts.insert(path, draft);
            }
        }
    }

    pub(super) fn resolve(&mut self, path: String, keep_mine: bool) {
        if keep_mine {
            self.keep_on_theirs(&path, None);
            return;
        }
        let Some(draft) = self.drafts.get(&path) else {
            return;
        };
        let DraftStatus::Conflict { theirs } = &draft.status else {
            return;
        };
        let theirs = theirs.clone();
        self.drafts.remove(&path);
        let newer = self.files.get(&path).is_none_or(|f| f.rev < theirs.rev);
        if newer && theirs.rev > 0 {
            self.files.insert(
                path,
                FileEntry::with_content(theirs.content.into(), theirs.rev, None),
            );
        }
    }

    /// Settles a conflict with `content` (picked hunk by hunk, or edited):
    /// it is sent on the revision of the version it was in conflict with,
    /// unless it is that version: then there is nothing to send.
    pub(super) fn resolve_with(&mut self, path: String, content: String) {
        let Some(draft) = self.drafts.get(&path) else {
            return;
        };
        let DraftStatus::Conflict { theirs } = &draft.status else {
            return;
        };
        if content == theirs.content {
            self.resolve(path, false);
            return;
        }
        self.keep_on_theirs(&path, Some(content));
    }

    /// Queues the draft of `path` (with `content`, if given) on the version
    /// it is in conflict with. That version's generation is vouched for
    /// when the page's file is that very version; otherwise the draft keeps
    /// its own, and a hub that restarted since refuses it and says what it
    /// has now.
    fn keep_on_theirs(&mut self, path: &str, content: Option<String>) {
        let project = self.project.as_ref().map(|p| p.id.clone());
        let files = &self.files;
        let Some(draft) = self.drafts.get_mut(path) else {
            return;
        };
        let DraftStatus::Conflict { theirs } = &draft.status else {
            return;
        };
        if files
            .get(path)
            .is_some_and(|f| f.rev == theirs.rev && f.holds(&theirs.content))
        {
            draft.base_project = project;
        }
        draft.base_rev = theirs.rev;
        draft.base = Some(theirs.content.clone());
        if let Some(content) = content {
            draft.content = content;
        }
        draft.status = DraftStatus::Queued;
    }
}
