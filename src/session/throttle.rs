//! At most one of something per interval, and the latest of what was held
//! back once the interval is over: the rule behind publishing states (one
//! per display frame) and telling the hub the open file (one per 250 ms).
//! Pure: the caller says what is pending and the time, and acts when told.

/// Decides when a pending change may go out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Throttle {
    every_ms: f64,
    last_ms: f64,
    due_ms: Option<f64>,
}

impl Throttle {
    /// At most one action per `every_ms`.
    pub(crate) fn new(every_ms: f64) -> Self {
        Self {
            every_ms,
            last_ms: f64::NEG_INFINITY,
            due_ms: None,
        }
    }

    /// Whether to act now, at `now_ms`, given whether something is
    /// `pending`; `now` acts at once whatever the interval. When not yet,
    /// the action becomes due at the end of the interval ([`Self::due_ms`]),
    /// and the caller then acts on what is current.
    pub(crate) fn ready(&mut self, pending: bool, now: bool, now_ms: f64) -> bool {
        let due = self.due_ms.is_some_and(|at| now_ms >= at);
        if now || due || now_ms - self.last_ms >= self.every_ms {
            self.due_ms = None;
            if pending {
                self.last_ms = now_ms;
            }
            return pending;
        }
        if pending && self.due_ms.is_none() {
            self.due_ms = Some(self.last_ms + self.every_ms);
        }
        false
    }

    /// Counts an action taken at `now_ms` by other means (a `hello` that
    /// carries the open file): the interval starts again, nothing is due.
    pub(crate) fn acted(&mut self, now_ms: f64) {
        self.last_ms = now_ms;
        self.due_ms = None;
    }

    /// When the caller must wake to act on what is held back, if anything.
    pub(crate) fn due_ms(&self) -> Option<f64> {
        self.due_ms
    }
}
