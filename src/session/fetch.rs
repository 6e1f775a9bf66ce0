//! Which file contents to ask the hub for, and when: the open file at
//! once, then, in the background, the rest in path order while the
//! contents the page holds stay within the prefetch budget. One background
//! request waits for its answers at a time, within the hub's bounds
//! ([`MAX_REQUEST_PATHS`], and [`PREFETCH_BATCH_BYTES`] of the hub's 4 MiB), so the answers never
//! crowd the hub's queue for this peer or the live frames behind them.
//!
//! Pure: the session feeds it the state and each answer, and sends what it
//! returns.

use room_protocol::{FileContent, FileRequest, MAX_REQUEST_PATHS};

use crate::state::RoomState;

/// Most bytes of content one background request asks for: well under the
/// hub's bound, so that a file the person opens meanwhile, whose answer
/// queues behind it on the socket, waits for little. Each answer is a frame
/// the page handles in turn: 128 KiB of 4 KB files, about 30 frames, keep
/// that wait near 10 ms (at 512 KiB it was up to 200 ms in a 20,000-file
/// room), and a 16 MiB budget still arrives in 128 round trips.
pub(crate) const PREFETCH_BATCH_BYTES: u64 = 128 << 10;

/// What the session has asked for on the current connection.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ContentFetch {
    /// Paths asked for in the background and not answered yet.
    prefetching: Vec<String>,
    /// The first path of the background request out now.
    lead: Option<String>,
    /// The open file, asked for on its own and not answered yet.
    opening: Option<String>,
    /// Files the hub could not give at this revision although they led
    /// their request (a read error at the hub): not asked for again until
    /// their revision changes.
    unavailable: Vec<(String, u64)>,
}

impl ContentFetch {
    /// Forgets what was asked: the connection is gone, and its answers
    /// with it.
    pub(crate) fn reset(&mut self) {
        self.prefetching.clear();
        self.lead = None;
        self.opening = None;
    }

    /// Notes an answer. Returns whether it belonged to a request of ours.
    pub(crate) fn answered(&mut self, answer: &FileContent) -> bool {
        let led = self.lead.as_ref() == Some(&answer.path);
        let was_open = self.opening.as_deref() == Some(answer.path.as_str());
        if was_open {
            self.opening = None;
        }
        let position = self.prefetching.iter().position(|p| *p == answer.path);
        if let Some(at) = position {
            self.prefetching.remove(at);
        }
        // The first file of a request always gets its content if the hub
        // can read it; without it, asking again would loop. (A file gone
        // from the room is answered at rev 0, and its deletion comes.)
        if answer.content.is_none() && (led || was_open) {
            self.unavailable.push((answer.path.clone(), answer.rev));
        }
        was_open || position.is_some()
    }

    /// The requests to send now: the open file if the page lacks its
    /// content, and the next background batch if none is out and the
    /// budget allows.
    pub(crate) fn next(&mut self, state: &RoomState, budget: u64) -> Vec<FileRequest> {
        let mut requests = Vec::new();
        if let Some(open) = state.open.as_deref() {
            let asked =
                self.opening.as_deref() == Some(open) || self.prefetching.iter().any(|p| p == open);
            if !asked && self.wants(state, open) {
                self.opening = Some(open.to_owned());
                requests.push(FileRequest {
                    paths: vec![open.to_owned()],
                });
            }
        }
        if self.prefetching.is_empty() {
            if let Some(batch) = self.batch(state, budget) {
                self.prefetching.clone_from(&batch.paths);
                self.lead = batch.paths.first().cloned();
                requests.push(batch);
            }
        }
        requests
    }

    /// Whether the page should ask for `path`'s content: a file it lacks
    /// the content of, which the hub has not said it cannot give.
    fn wants(&self, state: &RoomState, path: &str) -> bool {
        state.files.get(path).is_some_and(|file| {
            file.content.is_none()
                && !self
                    .unavailable
                    .iter()
                    .any(|(p, rev)| p == path && *rev == file.rev)
        })
    }

    /// The next background request: files without content in path order,
    /// while what the page holds plus the batch stays within `budget`.
    fn batch(&self, state: &RoomState, budget: u64) -> Option<FileRequest> {
        let held: u64 = state
            .files
            .iter()
            .filter(|(_, f)| f.content.is_some())
            .map(|(_, f)| f.size)
            .sum();
        let mut room = budget.saturating_sub(held);
        let mut bytes = 0_u64;
        let mut paths = Vec::new();
        for (path, file) in state.files.iter() {
            if paths.len() == MAX_REQUEST_PATHS {
                break;
            }
            if !self.wants(state, path) || self.opening.as_deref() == Some(path.as_str()) {
                continue;
            }
            // Within the budget, and within a batch (the first file always
            // goes: the hub's bound is larger than any file).
            let fits_answer = paths.is_empty() || bytes + file.size <= PREFETCH_BATCH_BYTES;
            if file.size > room || !fits_answer {
                break;
            }
            room -= file.size;
            bytes += file.size;
            paths.push(path.clone());
        }
        (!paths.is_empty()).then_some(FileRequest { paths })
    }
}

#[cfg(test)]
mod tests {
    use room_protocol::MAX_REQUEST_BYTES;

    use super::*;
    use crate::state::{Action, PersonAction};
    use crate::testing::tree_welcome;

    /// A state listing `files` (path, size) without contents.
    fn listed(files: &[(&str, u64)]) -> RoomState {
        let files: Vec<(&str, u64, u64)> = files.iter().map(|&(p, size)| (p, 0, size)).collect();
        let (welcome, tree) = tree_welcome("g", 0, None, &files, &[]);
        let mut state = RoomState::default();
        state.apply(Action::TreeWelcome(welcome, tree));
        state
    }

    fn answer(state: &mut RoomState, fetch: &mut ContentFetch, path: &str, with: bool) {
        let answer = FileContent {
            path: path.into(),
            rev: state.files.get(path).map_or(0, |f| f.rev),
            content: with.then(|| "x".repeat(state.files[path].size as usize)),
        };
        assert!(fetch.answered(&answer), "{path} was asked for");
        state.apply(Action::Content(answer));
    }

    fn paths(requests: &[FileRequest]) -> Vec<Vec<&str>> {
        requests
            .iter()
            .map(|r| r.paths.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn a_small_room_is_fetched_whole_one_request_at_a_time() {
        let mut state = listed(&[("a", 10), ("b", 20), ("c", 30)]);
        let mut fetch = ContentFetch::default();
        let first = fetch.next(&state, 1 << 20);
        assert_eq!(paths(&first), [["a", "b", "c"]]);
        assert!(fetch.next(&state, 1 << 20).is_empty(), "one at a time");
        for path in ["a", "b", "c"] {
            answer(&mut state, &mut fetch, path, true);
        }
        assert!(fetch.next(&state, 1 << 20).is_empty(), "all held");
    }

    #[test]
    fn the_budget_counts_what_the_page_holds_and_stops_the_background() {
        let mut state = listed(&[("a", 40), ("b", 40), ("c", 40)]);
        let mut fetch = ContentFetch::default();
        assert_eq!(paths(&fetch.next(&state, 100)), [["a", "b"]]);
        answer(&mut state, &mut fetch, "a", true);
        answer(&mut state, &mut fetch, "b", true);
        assert!(
            fetch.next(&state, 100).is_empty(),
            "80 held, c would pass 100"
        );
        // Opening c fetches it whatever the budget.
        state.apply(Action::Person(PersonAction::Open {
            path: Some("c".into()),
        }));
        assert_eq!(paths(&fetch.next(&state, 100)), [["c"]]);
        assert!(fetch.next(&state, 100).is_empty(), "asked once");
    }

    #[test]
    fn the_open_file_goes_at_once_beside_a_background_request() {
        let mut state = listed(&[("a", 1), ("b", 1), ("z", 1)]);
        let mut fetch = ContentFetch::default();
        assert_eq!(paths(&fetch.next(&state, 2)), [["a", "b"]]);
        state.apply(Action::Person(PersonAction::Open {
            path: Some("z".into()),
        }));
        assert_eq!(paths(&fetch.next(&state, 2)), [["z"]]);
    }

    #[test]
    fn a_request_stays_within_the_hubs_bounds() {
        let many: Vec<(String, u64)> = (0..300).map(|i| (format!("f{i:03}"), 1)).collect();
        let many: Vec<(&str, u64)> = many.iter().map(|(p, s)| (p.as_str(), *s)).collect();
        let state = listed(&many);
        let requests = ContentFetch::default().next(&state, u64::MAX);
        assert_eq!(requests[0].paths.len(), MAX_REQUEST_PATHS);

        let third = PREFETCH_BATCH_BYTES / 3 + 1;
        let state = listed(&[("a", third), ("b", third), ("c", third)]);
        let requests = ContentFetch::default().next(&state, u64::MAX);
        assert_eq!(paths(&requests), [["a", "b"]], "c would pass a batch");
        // A file larger than a batch goes alone.
        let state = listed(&[("big", PREFETCH_BATCH_BYTES * 2), ("small", 1)]);
        let requests = ContentFetch::default().next(&state, u64::MAX);
        assert_eq!(paths(&requests), [["big"]]);
        assert!(PREFETCH_BATCH_BYTES * 2 <= MAX_REQUEST_BYTES as u64);
    }

    #[test]
    fn an_answer_past_the_bound_is_asked_again_but_an_unavailable_file_is_not() {
        let mut state = listed(&[("a", 1), ("b", 1)]);
        let mut fetch = ContentFetch::default();
        fetch.next(&state, 10);
        // a led its request and came without content: the hub cannot give
        // it; b was past the bound.
        answer(&mut state, &mut fetch, "a", false);
        answer(&mut state, &mut fetch, "b", false);
        assert_eq!(paths(&fetch.next(&state, 10)), [["b"]]);
    }

    #[test]
    fn a_dropped_connection_forgets_what_was_asked() {
        let state = listed(&[("a", 1)]);
        let mut fetch = ContentFetch::default();
        assert_eq!(fetch.next(&state, 10).len(), 1);
        assert!(fetch.next(&state, 10).is_empty());
        fetch.reset();
        assert_eq!(paths(&fetch.next(&state, 10)), [["a"]]);
    }
}
