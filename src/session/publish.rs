//! When the session shows a new state. A replay arrives as thousands of
//! messages, each its own browser task; showing each would cost a render
//! apiece. So the session publishes at most once per display frame, except
//! for the person's own actions, which come at a human pace and are shown
//! (and become what `pagehide` copies) at once. Pure: the shell asks and
//! obeys.

/// Shortest time between two publications of hub-driven changes: one
/// display frame.
pub(crate) const PUBLISH_EVERY_MS: f64 = 16.0;

use super::throttle::Throttle;

/// Decides when changes are published.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Publisher(Throttle);

impl Default for Publisher {
    fn default() -> Self {
        Self(Throttle::new(PUBLISH_EVERY_MS))
    }
}

impl Publisher {
    /// Whether to publish now, at `now_ms`, given whether the state changed
    /// since the last publication and whether the person caused it. When
    /// not yet, a publication becomes due (see [`Self::due_ms`]).
    pub(crate) fn decide(&mut self, changed: bool, personal: bool, now_ms: f64) -> bool {
        self.0.ready(changed, personal, now_ms)
    }

    /// When the shell must wake to publish what is pending, if anything.
    pub(crate) fn due_ms(&self) -> Option<f64> {
        self.0.due_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_published_once_now_and_once_a_frame_later() {
        let mut p = Publisher::default();
        assert!(
            p.decide(true, false, 100.0),
            "the first change shows at once"
        );
        // A thousand frames within 5 ms: none shows, one is due.
        for i in 0..1000 {
            assert!(!p.decide(true, false, 100.0 + f64::from(i) * 0.005));
        }
        assert_eq!(p.due_ms(), Some(116.0));
        // The shell wakes at the due time.
        assert!(p.decide(true, false, 116.0));
        assert_eq!(p.due_ms(), None);
    }

    #[test]
    fn the_persons_actions_show_at_once() {
        let mut p = Publisher::default();
        assert!(p.decide(true, false, 0.0));
        assert!(p.decide(true, true, 1.0), "typed: no frame of delay");
        assert!(p.decide(true, true, 2.0));
        assert_eq!(p.due_ms(), None);
    }

    #[test]
    fn nothing_changed_means_nothing_to_publish() {
        let mut p = Publisher::default();
        assert!(!p.decide(false, false, 0.0));
        assert!(!p.decide(false, true, 1.0));
        assert_eq!(p.due_ms(), None);
        // A due time that finds nothing new is dropped.
        assert!(p.decide(true, false, 50.0));
        assert!(!p.decide(true, false, 55.0));
        assert_eq!(p.due_ms(), Some(66.0));
        assert!(!p.decide(false, false, 70.0));
        assert_eq!(p.due_ms(), None);
    }

    #[test]
    fn a_quiet_room_publishes_each_change_as_it_comes() {
        let mut p = Publisher::default();
        for t in [0.0, 20.0, 40.0, 100.0] {
            assert!(p.decide(true, false, t), "{t}");
        }
    }
}
