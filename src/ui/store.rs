//! The room's current state as components share it. One store per
//! `RoomClient`, handed down in a context that never changes, so no
//! component re-renders merely because the room changed; each hook
//! subscribes to the part it reads and re-renders only when that part does
//! ([`super::use_room_select`]).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use crate::intent::Intent;
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

type Sink = Box<dyn Fn(Intent)>;

/// Holds intents until a session attaches, then hands each one over as it
/// comes. The handle exists from the first render, while the session
/// starts asynchronously (token bootstrap, cache open): intents issued
/// before it exists wait here and are applied, in order, the moment it
/// attaches; none is dropped.
#[derive(Default)]
pub(crate) struct IntentQueue {
    pending: RefCell<Vec<Intent>>,
    sink: RefCell<Option<Sink>>,
}

impl std::fmt::Debug for IntentQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntentQueue")
            .field("pending", &self.pending.borrow().len())
            .field("attached", &self.sink.borrow().is_some())
            .finish()
    }
}

impl IntentQueue {
    /// Hands `intent` to the session, or keeps it until one attaches.
    pub(crate) fn send(&self, intent: Intent) {
        match &*self.sink.borrow() {
            Some(sink) => sink(intent),
            None => self.pending.borrow_mut().push(intent),
        }
    }

    /// From now on intents go to `sink`; those waiting go first, in order.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn attach(&self, sink: impl Fn(Intent) + 'static) {
        let waiting = std::mem::take(&mut *self.pending.borrow_mut());
        for intent in waiting {
            sink(intent);
        }
        *self.sink.borrow_mut() = Some(Box::new(sink));
    }

    /// The session went away: intents wait again for the next one.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn detach(&self) {
        self.sink.borrow_mut().take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ConnectionStatus;

    fn typed(n: u32) -> Intent {
        Intent::Type {
            path: "a.txt".into(),
            content: format!("v{n}"),
        }
    }

    #[test]
    fn intents_before_the_session_wait_and_arrive_in_order_when_it_attaches() {
        let queue = IntentQueue::default();
        queue.send(typed(1));
        queue.send(Intent::Retry);
        queue.send(typed(2));
        let seen: Rc<RefCell<Vec<Intent>>> = Rc::default();
        let sink = Rc::clone(&seen);
        queue.attach(move |intent| sink.borrow_mut().push(intent));
        assert_eq!(*seen.borrow(), [typed(1), Intent::Retry, typed(2)]);
        // Afterwards, straight through.
        queue.send(typed(3));
        assert_eq!(seen.borrow().len(), 4);
        assert_eq!(seen.borrow()[3], typed(3));
    }

    #[test]
    fn after_the_session_goes_intents_wait_for_the_next_one() {
        let queue = IntentQueue::default();
        let first: Rc<RefCell<Vec<Intent>>> = Rc::default();
        let sink = Rc::clone(&first);
        queue.attach(move |intent| sink.borrow_mut().push(intent));
        queue.detach();
        queue.send(typed(1));
        assert!(first.borrow().is_empty());
        let second: Rc<RefCell<Vec<Intent>>> = Rc::default();
        let sink = Rc::clone(&second);
        queue.attach(move |intent| sink.borrow_mut().push(intent));
        assert_eq!(*second.borrow(), [typed(1)]);
    }

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
