//! When to try again after a connection drops: a pure policy with no
//! timers or sockets, so every rule is pinned by a native test.
//!
//! Delays double from `base_delay_ms` up to `max_delay_ms`: 0.5, 1, 2, 4, 8,
//! 8, … s by default, each counted from the failure before it. The window
//! of `give_up_after_ms` is counted from the loss itself: an attempt that
//! would start after the window closes starts as it closes instead, and
//! the first failure at or after that moment gives up
//! ([`Decision::GiveUp`]). So the page gives up one failed attempt after
//! 2 minutes, however long each failure took to come (on a busy machine
//! they add up: counted from the failures alone, the give-up moved by a
//! whole 8 s step). A connection that reaches `synced` resets it.

use room_protocol::{
    CLOSE_LINK_REPLACED, CLOSE_MESSAGE_TOO_BIG, CLOSE_PROTOCOL_ERROR, CLOSE_REPLACED,
    CLOSE_ROOM_NOT_FOUND, CLOSE_UNAUTHORIZED,
};

/// Settings of the reconnect policy. Build it from
/// [`ReconnectOptions::default`] and the setters (fields may be added, so
/// it has no struct literal outside this crate).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ReconnectOptions {
    /// Delay before the first retry, in milliseconds. Default 500.
    pub base_delay_ms: f64,
    /// Largest delay between retries, in milliseconds. Default 8000.
    pub max_delay_ms: f64,
    /// How long after the connection was lost to keep trying, in
    /// milliseconds: the last attempt starts at most this long after the
    /// loss (one due later is moved to that moment), and a failure after
    /// that gives up. Default 120 000.
    pub give_up_after_ms: f64,
    /// Spread each delay downwards by up to this fraction (0 to 1) to keep
    /// many clients from reconnecting in lockstep after a hub restart.
    /// Default 0: exactly the schedule above.
    pub jitter_ratio: f64,
}

impl Default for ReconnectOptions {
    fn default() -> Self {
        Self {
            base_delay_ms: 500.0,
            max_delay_ms: 8000.0,
            give_up_after_ms: 120_000.0,
            jitter_ratio: 0.0,
        }
    }
}

impl ReconnectOptions {
    /// Sets [`Self::base_delay_ms`].
    pub fn base_delay_ms(mut self, ms: f64) -> Self {
        self.base_delay_ms = ms;
        self
    }

    /// Sets [`Self::max_delay_ms`].
    pub fn max_delay_ms(mut self, ms: f64) -> Self {
        self.max_delay_ms = ms;
        self
    }

    /// Sets [`Self::give_up_after_ms`].
    pub fn give_up_after_ms(mut self, ms: f64) -> Self {
        self.give_up_after_ms = ms;
        self
    }

    /// Sets [`Self::jitter_ratio`] (0 to 1).
    pub fn jitter_ratio(mut self, ratio: f64) -> Self {
        self.jitter_ratio = ratio;
        self
    }
}

/// What a close code means for retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseClass {
    /// 4401: the token is missing or wrong.
    Unauthorized,
    /// 4410: the host replaced the link this connection was admitted with;
    /// retrying with the same token can only be refused.
    LinkReplaced,
    /// 4404: the hub has no such room.
    RoomGone,
    /// 4400 or 1009: this client broke the protocol; retrying repeats it.
    ProtocolError,
    /// 4409: a newer connection with this tab's client id took over, so
    /// another tab has the same id; retry under a new one.
    Replaced,
    /// Anything else: network trouble, hub restart, idle timeout.
    Retry,
}

/// Sorts a close code into the six bands.
pub fn classify_close(code: u16) -> CloseClass {
    match code {
        CLOSE_UNAUTHORIZED => CloseClass::Unauthorized,
        CLOSE_LINK_REPLACED => CloseClass::LinkReplaced,
        CLOSE_ROOM_NOT_FOUND => CloseClass::RoomGone,
        CLOSE_PROTOCOL_ERROR | CLOSE_MESSAGE_TOO_BIG => CloseClass::ProtocolError,
        CLOSE_REPLACED => CloseClass::Replaced,
        _ => CloseClass::Retry,
    }
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Try again: attempt number `attempt` (1 for the first retry) at
    /// `at_ms`, which is `delay_ms` from now.
    Wait {
        /// 1-based retry number.
        attempt: u32,
        /// How long to wait.
        delay_ms: f64,
        /// When to start it (same clock as `now_ms`).
        at_ms: f64,
    },
    /// The give-up window has passed.
    GiveUp,
}

/// How long an attempt under way when the reconnect window closes may
/// still take: the window's last attempt starts as it closes.
pub const LAST_ATTEMPT_GRACE_MS: f64 = 1000.0;

/// The policy's state: when the connection was lost and how many retries
/// have been scheduled since.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    options: ReconnectOptions,
    lost_at_ms: Option<f64>,
    retries: u32,
}

impl ReconnectPolicy {
    /// A policy with these options, connected (nothing lost yet).
    pub fn new(options: ReconnectOptions) -> Self {
        Self {
            options,
            lost_at_ms: None,
            retries: 0,
        }
    }

    /// How many retries have been scheduled since the connection was lost.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The undisturbed delay before retry number `attempt` (1-based).
    pub fn delay_for(&self, attempt: u32) -> f64 {
        let doublings = attempt.saturating_sub(1).min(30);
        (self.options.base_delay_ms * f64::from(1_u32 << doublings)).min(self.options.max_delay_ms)
    }

    /// Records a failure (a drop, or an attempt that did not reach
    /// `synced`) at `now_ms` and decides what comes next. `random` is a
    /// number in `[0, 1)` used only when jitter is on.
    pub fn on_failure(&mut self, now_ms: f64, random: f64) -> Decision {
        let lost_at = *self.lost_at_ms.get_or_insert(now_ms);
        let closes_at = lost_at + self.options.give_up_after_ms;
        if now_ms >= closes_at {
            return Decision::GiveUp;
        }
        let attempt = self.retries + 1;
        let jitter = self.options.jitter_ratio.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
        let at_ms = (now_ms + self.delay_for(attempt) * (1.0 - jitter)).min(closes_at);
        self.retries = attempt;
        Decision::Wait {
            attempt,
            delay_ms: at_ms - now_ms,
            at_ms,
        }
    }

    /// The connection was last known to work at `at_ms` (its last frame),
    /// earlier than the failure that reports it (a silent link is noticed
    /// only by a timer): the window counts from then. No effect while a
    /// loss is already being counted.
    pub fn lost_since(&mut self, at_ms: f64) {
        self.lost_at_ms.get_or_insert(at_ms);
    }

    /// The connection reached `synced`: forget the failures.
    pub fn on_synced(&mut self) {
        self.lost_at_ms = None;
        self.retries = 0;
    }

    /// After giving up, a person pressed Retry or the browser came back
    /// online: open a fresh window starting now.
    pub fn rearm(&mut self, now_ms: f64) {
        self.lost_at_ms = Some(now_ms);
        self.retries = 0;
    }

    /// When the connection was lost, if it is.
    pub fn lost_at_ms(&self) -> Option<f64> {
        self.lost_at_ms
    }

    /// While a loss is counted: when an attempt still under way is given
    /// up, the window's end plus [`LAST_ATTEMPT_GRACE_MS`]. The window's
    /// last attempt starts as it closes; a browser may hold an attempt back
    /// on its own (Firefox delays connections to a host that has refused
    /// some), and the person is told "Lost" on time all the same.
    pub fn attempt_deadline_ms(&self) -> Option<f64> {
        self.lost_at_ms
            .map(|lost_at| lost_at + self.options.give_up_after_ms + LAST_ATTEMPT_GRACE_MS)
    }
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self::new(ReconnectOptions::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails every attempt `fails_after_ms` after it starts, from a first
    /// failure at `start`, until the policy gives up. Returns when each
    /// attempt started, and when the policy gave up.
    fn attempts_until_give_up(
        policy: &mut ReconnectPolicy,
        start: f64,
        fails_after_ms: f64,
    ) -> (Vec<f64>, f64) {
        let mut now = start;
        let mut starts = Vec::new();
        while let Decision::Wait { at_ms, .. } = policy.on_failure(now, 0.0) {
            starts.push(at_ms);
            now = at_ms + fails_after_ms;
        }
        (starts, now)
    }

    /// Fails immediately at every scheduled time, as a hub that refuses
    /// connections would, and returns the delays until the policy gives up.
    fn schedule_until_give_up(policy: &mut ReconnectPolicy, start: f64) -> Vec<f64> {
        let (starts, _) = attempts_until_give_up(policy, start, 0.0);
        let mut before = start;
        starts
            .into_iter()
            .map(|at| at - std::mem::replace(&mut before, at))
            .collect()
    }

    #[test]
    fn the_schedule_doubles_from_half_a_second_to_eight() {
        let mut policy = ReconnectPolicy::default();
        let delays = schedule_until_give_up(&mut policy, 1000.0);
        assert_eq!(
            &delays[..7],
            &[500.0, 1000.0, 2000.0, 4000.0, 8000.0, 8000.0, 8000.0]
        );
        // Capped at 8 s up to the last, which the window's end shortens.
        let (last, capped) = delays[4..].split_last().unwrap();
        assert!(capped.iter().all(|&d| d == 8000.0));
        assert!(*last <= 8000.0);
    }

    #[test]
    fn a_last_attempt_starts_as_the_120_s_window_closes_and_its_failure_gives_up() {
        let mut policy = ReconnectPolicy::default();
        let delays = schedule_until_give_up(&mut policy, 0.0);
        // 0.5 + 1 + 2 + 4 = 7.5 s, then 8 s steps: 7.5 + 14 × 8 = 119.5 s;
        // the next, due at 127.5 s, starts at 120 s instead.
        assert_eq!(delays.len(), 19);
        assert_eq!(delays[17], 8000.0);
        assert_eq!(delays[18], 500.0);
        assert_eq!(delays.iter().sum::<f64>(), 120_000.0);
    }

    #[test]
    fn failures_that_take_time_to_come_do_not_move_the_give_up() {
        // A busy machine: each refused attempt is noticed 60 ms after it
        // starts. Counted from the failures alone, 18 attempts drift by
        // 1 s, and the one due at 119.5 s would fall out of the window.
        let mut policy = ReconnectPolicy::default();
        let (starts, gave_up) = attempts_until_give_up(&mut policy, 0.0, 60.0);
        assert_eq!(
            starts.last(),
            Some(&120_000.0),
            "the last attempt as the window closes"
        );
        assert_eq!(gave_up, 120_060.0, "gave up at its failure");
        assert!(starts.windows(2).all(|w| w[1] - w[0] <= 8060.0));
    }

    #[test]
    fn a_silent_link_counts_its_window_from_the_last_frame() {
        let mut policy = ReconnectPolicy::default();
        // The last frame came at 10 s; the dead-connection timer notices at
        // 30 s.
        policy.lost_since(10_000.0);
        assert!(matches!(
            policy.on_failure(30_000.0, 0.0),
            Decision::Wait { attempt: 1, at_ms, .. } if at_ms == 30_500.0
        ));
        assert_eq!(policy.lost_at_ms(), Some(10_000.0));
        let delays = schedule_until_give_up(&mut policy, 30_500.0);
        assert_eq!(30_500.0 + delays.iter().sum::<f64>(), 130_000.0);
        // Already counting: a later hint changes nothing.
        policy.lost_since(50_000.0);
        assert_eq!(policy.lost_at_ms(), Some(10_000.0));
    }

    #[test]
    fn an_attempt_exactly_at_120_s_is_still_made() {
        let mut policy = ReconnectPolicy::new(ReconnectOptions {
            base_delay_ms: 1000.0,
            max_delay_ms: 1000.0,
            give_up_after_ms: 3000.0,
            jitter_ratio: 0.0,
        });
        assert!(
            matches!(policy.on_failure(0.0, 0.0), Decision::Wait { at_ms, .. } if at_ms == 1000.0)
        );
        assert!(
            matches!(policy.on_failure(1000.0, 0.0), Decision::Wait { at_ms, .. } if at_ms == 2000.0)
        );
        assert!(
            matches!(policy.on_failure(2000.0, 0.0), Decision::Wait { at_ms, .. } if at_ms == 3000.0)
        );
        assert_eq!(policy.on_failure(3000.0, 0.0), Decision::GiveUp);
    }

    #[test]
    fn slow_failing_attempts_count_against_the_same_window() {
        // Each attempt hangs 20 s before the dead-connection timer fails it.
        let mut policy = ReconnectPolicy::default();
        let (starts, gave_up) = attempts_until_give_up(&mut policy, 0.0, 20_000.0);
        // Each wait follows the schedule (0.5, 1, 2, 4, 8 s) from the
        // previous failure; the next start, 115.5 + 8 = 123.5 s, would be
        // past the 2-minute window measured from the loss, so it starts as
        // the window closes, and its failure, 20 s later, gives up.
        assert_eq!(
            starts,
            [500.0, 21_500.0, 43_500.0, 67_500.0, 95_500.0, 120_000.0]
        );
        assert_eq!(gave_up, 140_000.0, "it gave up at the sixth failure");
    }

    #[test]
    fn close_codes_fall_into_six_bands() {
        assert_eq!(classify_close(4409), CloseClass::Replaced);
        assert_eq!(classify_close(4401), CloseClass::Unauthorized);
        assert_eq!(classify_close(4410), CloseClass::LinkReplaced);
        assert_eq!(classify_close(4404), CloseClass::RoomGone);
        assert_eq!(classify_close(4400), CloseClass::ProtocolError);
        assert_eq!(classify_close(1009), CloseClass::ProtocolError);
        for code in [1000, 1001, 1006, 1011, 1012, 1013, 4408, 4000, 3000] {
            assert_eq!(classify_close(code), CloseClass::Retry, "{code}");
        }
    }

    #[test]
    fn reaching_synced_resets_the_schedule() {
        let mut policy = ReconnectPolicy::default();
        policy.on_failure(0.0, 0.0);
        policy.on_failure(500.0, 0.0);
        assert_eq!(policy.retries(), 2);
        policy.on_synced();
        assert_eq!(policy.lost_at_ms(), None);
        assert!(matches!(
            policy.on_failure(100_000.0, 0.0),
            Decision::Wait { attempt: 1, delay_ms, .. } if delay_ms == 500.0
        ));
        // The window is measured from the new loss, not the old one.
        assert_eq!(policy.lost_at_ms(), Some(100_000.0));
    }

    #[test]
    fn rearming_after_giving_up_opens_a_fresh_window() {
        let mut policy = ReconnectPolicy::default();
        let _ = schedule_until_give_up(&mut policy, 0.0);
        assert_eq!(policy.on_failure(130_000.0, 0.0), Decision::GiveUp);
        policy.rearm(200_000.0);
        assert!(matches!(
            policy.on_failure(200_000.0, 0.0),
            Decision::Wait { attempt: 1, delay_ms, .. } if delay_ms == 500.0
        ));
        let delays = schedule_until_give_up(&mut policy, 200_500.0);
        assert_eq!(
            delays.len(),
            18,
            "a whole new window, minus the attempt above"
        );
    }

    #[test]
    fn jitter_only_shortens_delays_and_stays_within_its_ratio() {
        let mut policy = ReconnectPolicy::new(ReconnectOptions {
            jitter_ratio: 0.25,
            ..ReconnectOptions::default()
        });
        match policy.on_failure(0.0, 0.999) {
            Decision::Wait { delay_ms, .. } => {
                assert!((375.0..500.0).contains(&delay_ms), "{delay_ms}")
            }
            other => panic!("{other:?}"),
        }
        match policy.on_failure(0.0, 0.0) {
            Decision::Wait { delay_ms, .. } => assert_eq!(delay_ms, 1000.0),
            other => panic!("{other:?}"),
        }
    }
}
