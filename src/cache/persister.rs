//! The persister: writes the session's published states to a
//! [`RoomCache`], one batch per write. While a write is in flight, newer
//! states pile up in the stream and the next write covers them all, so a
//! replay of thousands of entries costs a handful of transactions however
//! fast it arrives. Plain async Rust over any stream, so the rule that ships
//! is the rule the native tests run.

use std::rc::Rc;

use futures_util::{FutureExt, Stream, StreamExt};

use super::{diff, CacheWrite, RoomCache};
use crate::error::CacheError;
use crate::state::RoomState;

/// What the persister tells the session about its writes.
pub trait PersistHooks {
    /// `batch` is about to be written.
    fn writing(&mut self, batch: &CacheWrite);
    /// The cache now holds `state`.
    fn committed(&mut self, state: &RoomState);
}

/// Persists every state `states` yields, starting from `persisted` (what the
/// cache holds now). Ends with `Ok` when the stream ends, or with the first
/// failed write's error (the session then carries on in memory).
pub async fn persist_states<S, H>(
    cache: &dyn RoomCache,
    mut persisted: Rc<RoomState>,
    mut states: S,
    hooks: &mut H,
) -> Result<(), CacheError>
where
    S: Stream<Item = Rc<RoomState>> + Unpin,
    H: PersistHooks + ?Sized,
{
    while let Some(mut latest) = states.next().await {
        // Everything already waiting is covered by the newest of it.
        while let Some(Some(newer)) = states.next().now_or_never() {
            latest = newer;
        }
        let batch = diff(&persisted, &latest);
        if batch.is_empty() {
            continue;
        }
        hooks.writing(&batch);
        cache.write(batch).await?;
        hooks.committed(&latest);
        persisted = latest;
    }
    Ok(())
}
