//! Binning runtime events for the pulse chart: pure, so tested natively.

use std::collections::VecDeque;

use room_protocol::RuntimeEvent;

/// Events per second for the `seconds` seconds ending at `end_ms`, oldest
/// first. Walks from the newest event and stops at the first one older than
/// the window, so it costs O(events in the window).
pub fn per_second(events: &VecDeque<RuntimeEvent>, end_ms: u64, seconds: u64) -> Vec<u32> {
    let mut bins = vec![0_u32; seconds as usize];
    let start_ms = end_ms.saturating_sub(seconds * 1000);
    for event in events.iter().rev() {
        if event.ts < start_ms {
            break;
        }
        if event.ts >= end_ms {
            continue;
        }
        let index = ((event.ts - start_ms) / 1000) as usize;
        if let Some(bin) = bins.get_mut(index) {
            *bin += 1;
        }
    }
    bins
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn at(ts: u64) -> RuntimeEvent {
        RuntimeEvent {
            rev: ts,
            ts,
            kind: "k".into(),
            data: Value::Null,
        }
    }

    #[test]
    fn events_fall_into_one_second_bins() {
        let events: VecDeque<_> = [500, 1500, 1600, 2999, 3000].into_iter().map(at).collect();
        assert_eq!(per_second(&events, 3000, 3), [1, 2, 1]);
        assert_eq!(per_second(&events, 4000, 2), [1, 1]);
        assert_eq!(per_second(&VecDeque::new(), 4000, 2), [0, 0]);
    }
}
