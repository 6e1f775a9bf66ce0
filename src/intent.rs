//! What a person asks of the room, and the queue that carries it to the
//! session. An app reaches the room only through [`Intent`]s (by way of
//! [`crate::ui::RoomHandle`]'s methods); what the hub says never passes
//! through here.
//!
//! The handle exists from the first render, while the session starts
//! asynchronously (token bootstrap, cache open). Intents issued before the
//! session exists wait in a queue and are applied, in order,
//! the moment it attaches; none is dropped.

use std::cell::RefCell;

use room_protocol::PeerProfile;

use crate::session::Input;
use crate::state::Action;

/// One thing the person asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Intent {
    /// Save `content` as the new text of `path`: sent when connected, after
    /// the next `synced` otherwise; a draft until the hub acknowledges it.
    Save {
        /// The file.
        path: String,
        /// The whole text.
        content: String,
    },
    /// Keep unsaved text of `path` as a draft.
    Type {
        /// The file.
        path: String,
        /// The whole text.
        content: String,
    },
    /// Drop the draft of `path`.
    Discard {
        /// The file.
        path: String,
    },
    /// Settle a conflict on `path`: resend mine on the hub's revision, or
    /// take theirs.
    ResolveConflict {
        /// The file.
        path: String,
        /// Whether to keep the local text.
        keep_mine: bool,
    },
    /// Settle a conflict on `path` with `content` (chosen hunk by hunk from
    /// [`crate::state::Draft::conflict_chunks`], or edited): sent on the
    /// hub's revision it was in conflict with.
    ResolveWith {
        /// The file.
        path: String,
        /// The settled text.
        content: String,
    },
    /// Change how this person appears to others.
    SetProfile(PeerProfile),
    /// Tell others which file this tab shows (`None`: none).
    Open {
        /// The file.
        path: Option<String>,
    },
    /// Hide the notice at this index.
    DismissNotice(usize),
    /// Try to reconnect now (after `Lost`, or to skip a backoff wait).
    Retry,
}

impl Intent {
    /// The session core's input for this intent.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn into_input(self) -> Input {
        match self {
            Intent::Retry => Input::Retry,
            intent => Input::Act(Action::Person(intent)),
        }
    }
}

type Sink = Box<dyn Fn(Intent)>;

/// Holds intents until a session attaches, then hands each one over as it
/// comes.
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
    use std::rc::Rc;

    use super::*;

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
    fn each_intent_is_the_matching_input() {
        assert_eq!(Intent::Retry.into_input(), Input::Retry);
        assert_eq!(typed(1).into_input(), Input::Act(Action::Person(typed(1))));
    }
}
