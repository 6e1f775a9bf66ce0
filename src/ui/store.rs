//! The room's current state as components share it. One store per
//! `RoomClient`, handed down in a context that never changes, so no
//! component re-renders merely because the room changed; each hook
//! subscribes to the part it reads and re-renders only when that part does
//! ([`super::use_room_select`]).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use crate::intent::IntentQueue;
use crate::state::RoomState;

type Listener = Rc<dyn Fn()>;

/// The latest state, who listens, and where intents go.
pub(crate) struct RoomStore {
    state: RefCell<Rc<RoomState>>,
    listeners: RefCell<Vec<(u64, Listener)>>,
    next_listener: Cell<u64>,
    /// `None` in a preview: there is no session to act on.
    intents: Option<IntentQueue>,
}

impl std::fmt::Debug for RoomStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomStore")
            .field("status", &self.state.borrow().status)
            .field("listeners", &self.listeners.borrow().len())
            .finish_non_exhaustive()
    }
}

/// A store compared by identity, for hook dependencies.
#[derive(Clone)]
pub(crate) struct StoreRef(pub(crate) Rc<RoomStore>);

impl PartialEq for StoreRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// Stops a listener when dropped.
#[must_use = "dropping the subscription stops the listener at once"]
pub(crate) struct Subscription {
    store: Weak<RoomStore>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(store) = self.store.upgrade() {
            store
                .listeners
                .borrow_mut()
                .retain(|(id, _)| *id != self.id);
        }
    }
}

impl RoomStore {
    /// A store whose intents wait for a session.
    pub(crate) fn live(state: RoomState) -> Self {
        Self::new(state, Some(IntentQueue::default()))
    }

    /// A store over a fixed state, ignoring intents.
    pub(crate) fn preview(state: RoomState) -> Self {
        Self::new(state, None)
    }

    fn new(state: RoomState, intents: Option<IntentQueue>) -> Self {
        Self {
            state: RefCell::new(Rc::new(state)),
            listeners: RefCell::new(Vec::new()),
            next_listener: Cell::new(0),
            intents,
        }
    }

    pub(crate) fn state(&self) -> Rc<RoomState> {
        Rc::clone(&self.state.borrow())
    }

    pub(crate) fn intents(&self) -> Option<&IntentQueue> {
        self.intents.as_ref()
    }

    /// A new state: every listener hears of it.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn publish(&self, state: Rc<RoomState>) {
        *self.state.borrow_mut() = state;
        self.notify();
    }

    /// Calls `listener` after every change until the subscription drops.
    pub(crate) fn subscribe(store: &Rc<Self>, listener: impl Fn() + 'static) -> Subscription {
        let id = store.next_listener.get();
        store.next_listener.set(id + 1);
        store.listeners.borrow_mut().push((id, Rc::new(listener)));
        Subscription {
            store: Rc::downgrade(store),
            id,
        }
    }

    fn notify(&self) {
        // A listener may subscribe or unsubscribe others: call a copy.
        let listeners = self.listeners.borrow().clone();
        for (_, listener) in listeners {
            listener();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ConnectionStatus;

    #[test]
    fn listeners_hear_each_change_until_their_subscription_drops() {
        let store = Rc::new(RoomStore::live(RoomState::default()));
        let heard = Rc::new(Cell::new(0));
        let counter = Rc::clone(&heard);
        let subscription = RoomStore::subscribe(&store, move || counter.set(counter.get() + 1));
        store.publish(Rc::new(RoomState {
            status: ConnectionStatus::Connected,
            ..RoomState::default()
        }));
        store.publish(Rc::new(RoomState::default()));
        assert_eq!(heard.get(), 2);
        assert_eq!(store.state().status, ConnectionStatus::Connecting);
        drop(subscription);
        store.publish(Rc::new(RoomState::default()));
        assert_eq!(heard.get(), 2);
    }
}
