//! Where the shell keeps the room: the persister task over the cache, the
//! drafts' copy taken at `pagehide`, and the last profile used.

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender};
use room_protocol::PeerProfile;

use crate::cache::{self, CopyWrite, RoomCache, UnloadCopy};
use crate::error::CacheError;
use crate::random::{mint_id, random_bits};
use crate::state::RoomState;

/// Writes published states to the cache ([`cache::persist_states`]); on a
/// failure, tells the shell and stops: the room carries on in memory,
/// which already holds everything.
pub(super) async fn persister(
    cache: Rc<dyn RoomCache>,
    persisted: Rc<RoomState>,
    states: UnboundedReceiver<Rc<RoomState>>,
    failures: UnboundedSender<CacheError>,
    mut hooks: PersisterHooks,
) {
    let result = cache::persist_states(&*cache, persisted, states, &mut hooks).await;
    #[cfg(feature = "testing")]
    hooks.probes().cache_transactions.set(cache.transactions());
    if let Err(e) = result {
        #[cfg(feature = "testing")]
        hooks
            .probes()
            .cache_kind
            .set(Some(cache::CacheKind::Memory));
        let _ = failures.unbounded_send(e);
    }
}

pub(super) struct PersisterHooks {
    /// For the test probes (feature `testing`).
    #[cfg(feature = "testing")]
    pub(super) shared: Rc<super::Shared>,
    #[cfg(feature = "testing")]
    pub(super) cache: Rc<dyn RoomCache>,
    /// The localStorage key of the `pagehide` copy, and what this page
    /// decides about it (`cache::UnloadCopy`): whether to remove it once
    /// the cache holds what it held.
    pub(super) unload: Option<(String, Rc<RefCell<UnloadCopy>>)>,
}

#[cfg(feature = "testing")]
impl PersisterHooks {
    fn probes(&self) -> &super::Probes {
        &self.shared.probes
    }
}

impl cache::PersistHooks for PersisterHooks {
    fn writing(&mut self, batch: &cache::CacheWrite) {
        if let Some(profile) = &batch.profile {
            remember_profile(profile);
        }
    }

    #[cfg_attr(not(feature = "testing"), allow(unused_variables))]
    fn committed(&mut self, state: &RoomState) {
        #[cfg(feature = "testing")]
        {
            self.probes()
                .cache_transactions
                .set(self.cache.transactions());
            self.probes().persisted_rev.set(state.last_seen_rev);
        }
        if let Some((key, unload)) = &self.unload {
            if unload.borrow_mut().persisted() {
                local_remove(key);
            }
        }
    }
}

/// This browser's person id (localStorage `room-client.person`), made
/// once: every tab of the browser sends the same one, so others show one
/// person. `None` without localStorage.
pub(super) fn person_id() -> Option<String> {
    const KEY: &str = "room-client.person";
    let storage = local_storage()?;
    let stored = storage.get_item(KEY).ok().flatten();
    if let Some(id) = stored.filter(|id| room_protocol::is_valid_id(id)) {
        return Some(id);
    }
    let id = mint_id(random_bits);
    storage.set_item(KEY, &id).ok()?;
    Some(id)
}

/// Where a tab keeps its client id.
const CLIENT_ID_KEY: &str = "room-client.tab";

/// This tab's client id (sessionStorage `room-client.tab`), made once per
/// tab and sent in every `hello`, so a reconnect replaces the connection a
/// silent drop left at the hub. A duplicated tab starts with a copy; the
/// hub's 4409 sorts that out (see `SessionCore`). Without sessionStorage
/// the id lasts as long as the page.
pub(super) fn client_id() -> String {
    let storage = session_storage();
    let stored = storage
        .as_ref()
        .and_then(|s| s.get_item(CLIENT_ID_KEY).ok().flatten());
    if let Some(id) = stored.filter(|id| room_protocol::is_valid_id(id)) {
        return id;
    }
    let id = mint_id(random_bits);
    keep_client_id(&id);
    id
}

/// Keeps `id` as this tab's client id.
pub(super) fn keep_client_id(id: &str) {
    if let Some(storage) = session_storage() {
        let _ = storage.set_item(CLIENT_ID_KEY, id);
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

pub(super) fn local_get(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok().flatten()
}

fn local_remove(key: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(key);
    }
}

/// Carries out what `cache::UnloadCopy` decided for the copy at `key`.
pub(super) fn write_unload_copy(key: &str, write: CopyWrite) {
    let Some(storage) = local_storage() else {
        return;
    };
    let result = match write {
        CopyWrite::Store(copy) => storage.set_item(key, &copy),
        CopyWrite::Remove => storage.remove_item(key),
        CopyWrite::Keep => Ok(()),
    };
    if result.is_err() {
        web_sys::console::warn_1(
            &"room-client: no room in localStorage for the drafts' copy".into(),
        );
    }
}

const LAST_PROFILE_KEY: &str = "room-client.last-profile";

/// The profile last used in any room of this origin.
pub(super) fn last_profile() -> Option<PeerProfile> {
    serde_json::from_str(&local_get(LAST_PROFILE_KEY)?).ok()
}

fn remember_profile(profile: &PeerProfile) {
    if let (Some(storage), Ok(text)) = (local_storage(), serde_json::to_string(profile)) {
        let _ = storage.set_item(LAST_PROFILE_KEY, &text);
    }
}
