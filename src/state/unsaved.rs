//! What a person can take away when the page cannot save for them (the
//! host replaced their link, the link is refused, the hub is gone): every
//! draft with its path, as one JSON file they download.

use serde::Serialize;

use super::RoomState;

/// A file of the page's unsaved changes, ready to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsavedChanges {
    /// The name to save it under: `{room}-unsaved-changes.json`.
    pub file_name: String,
    /// Its content: `{"room", "project", "drafts": [{"path", "baseRev",
    /// "content"}]}`, drafts in path order, the text as typed.
    pub json: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct File<'a> {
    room: &'a str,
    /// The project generation the drafts were made in, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<&'a str>,
    drafts: Vec<DraftRecord<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DraftRecord<'a> {
    path: &'a str,
    base_rev: u64,
    content: &'a str,
}

impl RoomState {
    /// The page's drafts as a file to download, or `None` when it has
    /// none. `room_id` names the room in the file and its name.
    pub fn unsaved_changes(&self, room_id: &str) -> Option<UnsavedChanges> {
        if self.drafts.is_empty() {
            return None;
        }
        let file = File {
            room: room_id,
            project: self.project.as_ref().map(|p| p.id.as_str()),
            drafts: self
                .drafts
                .iter()
                .map(|(path, draft)| DraftRecord {
                    path,
                    base_rev: draft.base_rev,
                    content: &draft.content,
                })
                .collect(),
        };
        Some(UnsavedChanges {
            file_name: format!("{room_id}-unsaved-changes.json"),
            json: serde_json::to_string(&file).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Draft, DraftStatus};
    use super::*;

    fn draft(content: &str, base_rev: u64) -> Draft {
        Draft {
            content: content.into(),
            base_rev,
            base_project: None,
            base: Some("old".into()),
            status: DraftStatus::Editing,
        }
    }

    #[test]
    fn no_drafts_no_file() {
        assert_eq!(RoomState::default().unsaved_changes("r1"), None);
    }

    #[test]
    fn every_draft_is_in_the_file_with_its_path_as_typed() {
        let mut state = RoomState {
            project: Some(room_protocol::ProjectVersion {
                id: "g1".into(),
                rev: 3,
            }),
            ..RoomState::default()
        };
        state
            .drafts
            .insert("src/z.rs".into(), draft("fn z() {}\n\"quoted\"\n", 7));
        state.drafts.insert("a b.txt".into(), draft("ünïcode", 0));
        let file = state.unsaved_changes("r1").unwrap();
        assert_eq!(file.file_name, "r1-unsaved-changes.json");
        let read: serde_json::Value = serde_json::from_str(&file.json).unwrap();
        assert_eq!(
            read,
            serde_json::json!({
                "room": "r1",
                "project": "g1",
                "drafts": [
                    {"path": "a b.txt", "baseRev": 0, "content": "ünïcode"},
                    {"path": "src/z.rs", "baseRev": 7, "content": "fn z() {}\n\"quoted\"\n"},
                ]
            })
        );
    }
}
