//! Notices changes made to the project folder by anything but the hub (an
//! editor, `git checkout`) and turns them into `file-changed` entries.
//!
//! Events are gathered for a short moment and reconciled together: the room
//! re-reads each touched path and appends an entry only where the disk now
//! differs from what the room holds. The hub's own writes therefore produce
//! nothing, and a burst of events for one file produces one entry.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use notify::event::{EventKind, ModifyKind};
use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use room_protocol::RelPath;

use crate::error::HubError;
use crate::project;
use crate::room::Room;
use crate::AbortOnDrop;

/// How long events are gathered before the room re-reads them.
pub const SETTLE: Duration = Duration::from_millis(75);

/// Keeps the folder watched until dropped.
#[derive(Debug)]
pub struct FolderWatch {
    _watcher: RecommendedWatcher,
    _task: AbortOnDrop,
}

enum Touched {
    Paths(Vec<std::path::PathBuf>),
    /// The OS lost events (queue overflow): rescan everything.
    Rescan,
}

/// Starts watching the room's project folder.
pub fn watch(room: Arc<Room>) -> Result<FolderWatch, HubError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Touched>();
    let mut watcher = notify::recommended_watcher(move |result: notify::Result<Event>| {
        let touched = match result {
            Ok(event) if event.need_rescan() => Touched::Rescan,
            // Opening or reading a file (the hub's own reconcile does) or
            // touching its metadata changes no content: acting on those
            // would feed the watcher its own reads forever.
            Ok(event) if !changes_content(&event.kind) => return,
            Ok(event) => Touched::Paths(event.paths),
            Err(e) => {
                tracing::warn!(error = %e, "folder watcher error; rescanning");
                Touched::Rescan
            }
        };
        let _ = tx.send(touched);
    })
    .map_err(|e| HubError::Watch(e.to_string()))?;
    watcher
        .watch(room.project().root(), RecursiveMode::Recursive)
        .map_err(|e| HubError::Watch(e.to_string()))?;

    let task = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            tokio::time::sleep(SETTLE).await;
            let mut rescan = false;
            let mut paths = BTreeSet::new();
            let mut take = |touched: Touched| match touched {
                Touched::Rescan => rescan = true,
                Touched::Paths(list) => {
                    for touched in list.iter().filter_map(|p| room.project().touched(p)) {
                        match touched {
                            project::Touched::Path(path) => {
                                paths.insert(path);
                            }
                            // An ignore file changed: its folder is walked
                            // again under the new rules (the whole project
                            // for the root's).
                            project::Touched::Rules(folder) => match RelPath::parse(&folder) {
                                Ok(folder) => {
                                    paths.insert(folder);
                                }
                                Err(_) => rescan = true,
                            },
                        }
                    }
                }
            };
            take(first);
            while let Ok(more) = rx.try_recv() {
                take(more);
            }
            if rescan {
                room.rescan().await;
            } else if !paths.is_empty() {
                room.reconcile(paths).await;
            }
        }
    });
    Ok(FolderWatch {
        _watcher: watcher,
        _task: AbortOnDrop(task),
    })
}

/// Whether an event can mean that a file's content, or the set of files,
/// changed: creation, removal, renames and data writes do; opening, reading,
/// closing and metadata changes do not. Kinds the platform cannot tell
/// apart count as changes.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Modify(_) => true,
        EventKind::Any | EventKind::Other => true,
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, MetadataKind, RenameMode};

    use super::*;

    #[test]
    fn only_events_that_can_change_content_count() {
        for quiet in [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Read),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)),
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::Permissions)),
        ] {
            assert!(!changes_content(&quiet), "{quiet:?}");
        }
        for change in [
            EventKind::Create(CreateKind::File),
            EventKind::Create(CreateKind::Folder),
            EventKind::Remove(notify::event::RemoveKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Content)),
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            EventKind::Modify(ModifyKind::Any),
            EventKind::Any,
        ] {
            assert!(changes_content(&change), "{change:?}");
        }
    }
}
