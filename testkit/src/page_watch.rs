//! The page under test, watched: a copy of the built web app whose
//! `index.html` starts with a small script that reports the page's console
//! errors and uncaught exceptions to the kit. Every engine runs it the same
//! way (no driver has to support log events or init scripts: WebKitGTK's
//! driver supports neither), from the page's first script on, over reloads,
//! closed tabs and pages served by the offline shell's worker.
//!
//! What counts is what Playwright's `console` (type `error`) and
//! `pageerror` events report in Chromium: `console.error` calls, errors
//! nobody caught and promise rejections nobody handled. Messages the
//! browser itself prints (a socket that could not connect, a fetch that
//! failed) are not the page's errors and are not reported.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One error a page reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageError {
    /// `console`, `uncaught` or `unhandled rejection`.
    pub kind: String,
    /// The message, at most [`MAX_TEXT`] characters.
    pub text: String,
    /// The page's path (never its query: a share link's token is there
    /// until the page scrubs it).
    pub page: String,
}

/// The longest message kept of one report.
pub const MAX_TEXT: usize = 2000;

/// The watcher, with `REPORT_URL` where the kit takes reports. It never
/// throws, and a report that cannot be sent is dropped (the network may be
/// cut on purpose).
const WATCH_SCRIPT: &str = r#"<script>/* room-testkit: reports this page's errors to the kit */
(() => {
  const url = REPORT_URL;
  const say = (kind, what) => {
    try {
      const text = String(what instanceof Error ? `${what.name}: ${what.message}` : what).slice(0, MAX_TEXT);
      fetch(url, { method: 'POST', mode: 'no-cors', keepalive: true,
        body: JSON.stringify({ kind, text, page: location.pathname }) }).catch(() => {});
    } catch (_) { /* never the page's problem */ }
  };
  const error = console.error;
  console.error = function (...args) { say('console', args.map(String).join(' ')); return error.apply(this, args); };
  addEventListener('error', (e) => say('uncaught', e.error ?? e.message));
  addEventListener('unhandledrejection', (e) => say('unhandled rejection', e.reason));
})();
</script>"#;

/// `html` with the watcher first in its `<head>`, reporting to
/// `report_url`; `None` when the page has no `<head>` tag.
pub fn watched_page(html: &str, report_url: &str) -> Option<String> {
    let head = html.to_ascii_lowercase().find("<head")?;
    let open_end = head + html[head..].find('>')? + 1;
    let script = WATCH_SCRIPT
        .replace("REPORT_URL", &serde_json::to_string(report_url).ok()?)
        .replace("MAX_TEXT", &MAX_TEXT.to_string());
    Some(format!(
        "{}{script}{}",
        &html[..open_end],
        &html[open_end..]
    ))
}

/// Copies the built app `web` to `to` with the watcher in its
/// `index.html`.
pub fn watched_copy(web: &Path, to: &Path, report_url: &str) -> std::io::Result<()> {
    crate::hub::copy_tree(web, to)?;
    let index = to.join("index.html");
    let html = std::fs::read_to_string(&index)?;
    let watched = watched_page(&html, report_url).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} has no <head> to put the watcher in", index.display()),
        )
    })?;
    std::fs::write(index, watched)
}

/// A report as it arrived (a `no-cors` request's body is plain text), or
/// `None` when it is not one.
pub fn read_report(body: &str) -> Option<PageError> {
    let mut error: PageError = serde_json::from_str(body).ok()?;
    if error.text.chars().count() > MAX_TEXT {
        error.text = error.text.chars().take(MAX_TEXT).collect();
    }
    Some(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watcher_runs_before_anything_else_in_the_head() {
        let page = "<!DOCTYPE html>\n<html><HEAD lang=\"en\"><script src=\"app.js\"></script></head></html>";
        let watched = watched_page(page, "http://127.0.0.1:9/page-errors").unwrap();
        let watcher = watched.find("room-testkit: reports").unwrap();
        assert!(watched.find("<HEAD lang=\"en\">").unwrap() < watcher);
        assert!(watcher < watched.find("app.js").unwrap());
        assert!(watched.contains(r#"const url = "http://127.0.0.1:9/page-errors";"#));
        assert!(watched.contains(".slice(0, 2000)"));
        assert_eq!(watched_page("<p>no head</p>", "u"), None);
    }

    #[test]
    fn a_report_is_read_and_cut_to_length_and_anything_else_is_refused() {
        let long = "x".repeat(MAX_TEXT + 10);
        let body = format!(r#"{{"kind":"console","text":"{long}","page":"/rooms/r/"}}"#);
        let error = read_report(&body).unwrap();
        assert_eq!(error.text.len(), MAX_TEXT);
        assert_eq!(
            (error.kind.as_str(), error.page.as_str()),
            ("console", "/rooms/r/")
        );
        assert_eq!(read_report("not json"), None);
        assert_eq!(read_report(r#"{"kind":"console"}"#), None);
    }
}
