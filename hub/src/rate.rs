//! The per-connection limit on `presence` and `peer-update` frames: a
//! token bucket of [`PRESENCE_BURST`] refilled at
//! [`PRESENCE_FRAMES_PER_SECOND`]; a frame over it is dropped, and the
//! drops, with the same rate forgiven, are a second bucket that a flood
//! empties ([`PRESENCE_FLOOD_DROPS`]). Pure: the caller gives the time.

use std::time::Instant;

use room_protocol::{PRESENCE_BURST, PRESENCE_FLOOD_DROPS, PRESENCE_FRAMES_PER_SECOND};

/// What to do with one `presence` or `peer-update` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Apply it.
    Apply,
    /// Drop it, unseen.
    Drop,
    /// Drop it and close the connection: it floods.
    Flood,
}

/// The limit of one connection.
#[derive(Debug, Clone)]
pub struct PresenceLimit {
    /// Frames that may still go through now.
    allowance: f64,
    /// Drops not yet forgiven.
    drops: f64,
    at: Instant,
}

impl PresenceLimit {
    /// A connection's limit, full, at `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            allowance: f64::from(PRESENCE_BURST),
            drops: 0.0,
            at: now,
        }
    }

    /// The verdict on a frame that arrived at `now`.
    pub fn frame(&mut self, now: Instant) -> Verdict {
        let rate = f64::from(PRESENCE_FRAMES_PER_SECOND);
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now.max(self.at);
        self.allowance = (self.allowance + elapsed * rate).min(f64::from(PRESENCE_BURST));
        self.drops = (self.drops - elapsed * rate).max(0.0);
        if self.allowance >= 1.0 {
            self.allowance -= 1.0;
            return Verdict::Apply;
        }
        self.drops += 1.0;
        if self.drops >= f64::from(PRESENCE_FLOOD_DROPS) {
            Verdict::Flood
        } else {
            Verdict::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// `count` frames `every` apart from `start`, until a flood: the
    /// verdicts, counted, and the frame that was a flood.
    fn send(
        limit: &mut PresenceLimit,
        start: Instant,
        every: Duration,
        count: u32,
    ) -> (u32, u32, Option<u32>) {
        let (mut applied, mut dropped, mut flood_at) = (0, 0, None);
        for i in 0..count {
            match limit.frame(start + every * i) {
                Verdict::Apply => applied += 1,
                Verdict::Drop => dropped += 1,
                Verdict::Flood => {
                    // The connection closes here.
                    flood_at = Some(i);
                    break;
                }
            }
        }
        (applied, dropped, flood_at)
    }

    #[test]
    fn a_person_is_never_limited() {
        let start = Instant::now();
        let mut limit = PresenceLimit::new(start);
        // Five files a second for a minute, after a burst of the whole burst.
        let (applied, dropped, flood) = send(&mut limit, start, Duration::ZERO, PRESENCE_BURST);
        assert_eq!((applied, dropped, flood), (PRESENCE_BURST, 0, None));
        let later = start + Duration::from_secs(3);
        let (applied, dropped, flood) = send(&mut limit, later, Duration::from_millis(200), 300);
        assert_eq!((applied, dropped, flood), (300, 0, None));
    }

    #[test]
    fn past_the_rate_frames_are_dropped_and_a_sender_a_little_over_it_stays() {
        let start = Instant::now();
        let mut limit = PresenceLimit::new(start);
        // 20 a second for a minute: the burst, then 10 a second go through.
        let (applied, dropped, flood) = send(&mut limit, start, Duration::from_millis(50), 1200);
        assert_eq!(flood, None, "never closed");
        assert!((600..=625).contains(&applied), "{applied} applied");
        assert_eq!(applied + dropped, 1200);
    }

    #[test]
    fn a_flood_is_closed_within_half_a_second_having_shown_only_the_burst() {
        let start = Instant::now();
        let mut limit = PresenceLimit::new(start);
        // 1,000 a second.
        let (applied, _, flood) = send(&mut limit, start, Duration::from_millis(1), 2000);
        let flood = flood.expect("closed");
        assert!(flood < 500, "closed after {flood} ms");
        assert!(applied <= PRESENCE_BURST + 5, "{applied} applied");
    }

    #[test]
    fn time_going_backwards_gives_nothing() {
        let start = Instant::now() + Duration::from_secs(10);
        let mut limit = PresenceLimit::new(start);
        send(&mut limit, start, Duration::ZERO, PRESENCE_BURST);
        assert_eq!(limit.frame(start - Duration::from_secs(5)), Verdict::Drop);
    }
}
