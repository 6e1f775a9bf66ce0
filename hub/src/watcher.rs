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

use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use crate::error::HubError;
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
                    paths.extend(list.iter().filter_map(|p| room.project().relative(p)));
                }
            };
            take(first);
            while let Ok(more) = rx.try_recv() {
                take(more);
            }
            if rescan {
                room.reconcile(BTreeSet::new()).await;
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
