//! Every URL shape of a room, in one place: the hub routes them, the client
//! builds them. Room ids are checked by [`crate::is_valid_room_id`] before
//! they reach a URL, so nothing here needs escaping. Also the one other
//! name a room goes by: its IndexedDB database in the browser.

/// The hub's route of a room's page (a share link opens it).
pub const PAGE_ROUTE: &str = "/rooms/{room_id}/";
/// The hub's route of a room's WebSocket.
pub const SOCKET_ROUTE: &str = "/rooms/{room_id}/ws";
/// The hub's route for runtime events posted by a local process.
pub const EVENTS_ROUTE: &str = "/rooms/{room_id}/events";
/// The hub's route of a room's signed snapshot download.
pub const SNAPSHOT_ROUTE: &str = "/rooms/{room_id}/snapshot.tar";
/// The hub's route where a token holder gets a signed snapshot link
/// (`POST`, the token in `Authorization: Bearer`).
pub const SNAPSHOT_LINK_ROUTE: &str = "/rooms/{room_id}/snapshot-link";

/// The hub's route where the host replaces the edit link (`POST`, the host
/// token in `Authorization: Bearer`; answers `{"link": …}`).
pub const EDIT_LINK_ROUTE: &str = "/rooms/{room_id}/links/edit";
/// The hub's route where the host replaces the view link (`POST`, as
/// [`EDIT_LINK_ROUTE`]) or turns it off (`DELETE`, 204).
pub const VIEW_LINK_ROUTE: &str = "/rooms/{room_id}/links/view";

/// A link the host can replace: the edit link, or the view-only one
/// (which the host can also turn off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// The edit link.
    Edit,
    /// The view-only link.
    View,
}

impl LinkKind {
    /// The field of the hub's answer to a `POST` on a link route that holds
    /// the new share link.
    pub const ANSWER_FIELD: &'static str = "link";

    /// Its name in URLs and logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Edit => "edit",
            Self::View => "view",
        }
    }
}

/// The path of a room's link of `kind` (`edit` or `view`,
/// [`LinkKind::name`]).
pub fn link_path(room_id: &str, kind: &str) -> String {
    format!("/rooms/{room_id}/links/{kind}")
}

/// The hub's health route: `{"ok": true, "rooms": …}`, counters for tests
/// and operators.
pub const HEALTH_ROUTE: &str = "/healthz";

/// The offline shell's worker, a file at the root of a build:
/// `room-hub --write-shell` writes it into a trunk build, and the hub
/// serves it revalidated (`no-cache`).
pub const SHELL_WORKER_FILE: &str = "sw.js";
/// The `<meta>` of a page with an offline shell that names its build (the
/// id the worker reports, so the page knows a newer build took over).
pub const SHELL_BUILD_META: &str = "room-shell-build";
/// The `<meta>` of a page with an offline shell that names the worker's
/// URL (under the build's public URL).
pub const SHELL_WORKER_META: &str = "room-shell-worker";

/// The name of a room's IndexedDB database in a browser,
/// `solaro-room-{id}`: the client's cache opens it, and tools that look
/// into a page's cache (the end-to-end tests) take the name from here.
pub fn cache_database_name(room_id: &str) -> String {
    format!("solaro-room-{room_id}")
}

/// The path of a room's page: `/rooms/{id}/`.
pub fn page_path(room_id: &str) -> String {
    format!("/rooms/{room_id}/")
}

/// The path a local process posts runtime events to.
pub fn events_path(room_id: &str) -> String {
    format!("/rooms/{room_id}/events")
}

/// The path of a room's snapshot download, before its query.
pub fn snapshot_path(room_id: &str) -> String {
    format!("/rooms/{room_id}/snapshot.tar")
}

/// The path where a token holder asks for a signed snapshot link.
pub fn snapshot_link_path(room_id: &str) -> String {
    format!("/rooms/{room_id}/snapshot-link")
}

/// A share link: the room's page on the hub at `base` (`http(s)://host`),
/// carrying `token`. It holds a secret: show it to the person, never log it.
pub fn share_link(base: &str, room_id: &str, token: &str) -> String {
    format!(
        "{}{}?{}={token}",
        base.trim_end_matches('/'),
        page_path(room_id),
        crate::TOKEN_QUERY_PARAM
    )
}

/// A signed snapshot link on the hub at `base` (empty for the path alone):
/// the signed message ([`crate::snapshot_signing_message`]) and its
/// signature `sig` (lowercase hex).
pub fn snapshot_link(base: &str, room_id: &str, exp: u64, sig: &str) -> String {
    format!(
        "{}{}&sig={sig}",
        base.trim_end_matches('/'),
        crate::snapshot_signing_message(room_id, exp)
    )
}

/// The WebSocket URL of a room on the hub at `base`: `ws://` for an
/// `http://` hub, `wss://` for `https://` (a `ws(s)://` base is kept).
pub fn socket_url(base: &str, room_id: &str) -> String {
    let base = base.trim_end_matches('/');
    let ws_base = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    format!("{ws_base}/rooms/{room_id}/ws")
}

/// The room id in a page path of the form `/…/rooms/{id}/…` (an app may
/// mount the page below a prefix). `None` when there is none or it is not a
/// valid room id.
pub fn room_id_from_path(path: &str) -> Option<String> {
    let mut parts = path.split('/');
    while let Some(part) = parts.next() {
        if part == "rooms" {
            let id = parts.next()?;
            return crate::is_valid_room_id(id).then(|| id.to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_links_carry_the_signed_message_and_the_signature() {
        assert_eq!(
            snapshot_link("http://h:8787/", "r", 17, "ab12"),
            "http://h:8787/rooms/r/snapshot.tar?exp=17&sig=ab12"
        );
        assert_eq!(
            snapshot_link("", "r", 17, "ab12"),
            "/rooms/r/snapshot.tar?exp=17&sig=ab12"
        );
    }

    #[test]
    fn socket_urls_follow_the_hub_scheme() {
        assert_eq!(socket_url("http://h:8787", "r"), "ws://h:8787/rooms/r/ws");
        assert_eq!(socket_url("https://h/", "r"), "wss://h/rooms/r/ws");
        assert_eq!(socket_url("ws://h:1", "r"), "ws://h:1/rooms/r/ws");
    }

    #[test]
    fn share_links_open_the_room_page_with_the_token() {
        assert_eq!(
            share_link("http://10.0.0.5:8787/", "demo", "abc"),
            "http://10.0.0.5:8787/rooms/demo/?token=abc"
        );
    }

    #[test]
    fn the_routes_and_the_builders_agree() {
        let fill = |route: &str| route.replace("{room_id}", "r");
        assert_eq!(fill(PAGE_ROUTE), page_path("r"));
        assert_eq!(fill(SNAPSHOT_ROUTE), snapshot_path("r"));
        assert_eq!(fill(EVENTS_ROUTE), events_path("r"));
        assert!(socket_url("http://h", "r").ends_with(&fill(SOCKET_ROUTE)));
    }

    #[test]
    fn room_ids_come_from_the_path() {
        assert_eq!(room_id_from_path("/rooms/demo/").as_deref(), Some("demo"));
        assert_eq!(
            room_id_from_path("/app/rooms/x-1/files").as_deref(),
            Some("x-1")
        );
        assert_eq!(room_id_from_path("/rooms/"), None);
        assert_eq!(room_id_from_path("/rooms/bad%20id/"), None);
        assert_eq!(room_id_from_path("/elsewhere"), None);
    }
}

/// The page's URL fragment that opens the file `path` (`#/src/main.rs`),
/// so a person can share a link to a file. Each byte outside letters,
/// digits, `-._~` and `/` is percent-encoded, so a name with `#`, `%` or a
/// space reads back the same. It names a path only: the token never goes
/// into it.
pub fn file_fragment(path: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut fragment = String::with_capacity(path.len() + 2);
    fragment.push_str("#/");
    for &byte in path.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            fragment.push(char::from(byte));
        } else {
            fragment.push('%');
            fragment.push(char::from(HEX[usize::from(byte >> 4)]));
            fragment.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    fragment
}

/// The file a URL fragment opens (see [`file_fragment`]): `None` unless it
/// is `#/` and a valid room path ([`crate::RelPath`]), percent-decoded.
pub fn path_from_fragment(fragment: &str) -> Option<String> {
    // One hex digit's value (by hand: the parser of integers is kilobytes
    // of the browser bundle for two digits).
    fn digit(byte: u8) -> Option<u8> {
        match byte {
            b'0'..=b'9' => Some(byte - b'0'),
            b'a'..=b'f' => Some(byte - b'a' + 10),
            b'A'..=b'F' => Some(byte - b'A' + 10),
            _ => None,
        }
    }
    let mut encoded = fragment.strip_prefix("#/")?.bytes();
    let mut bytes = Vec::with_capacity(fragment.len());
    while let Some(byte) = encoded.next() {
        bytes.push(if byte == b'%' {
            digit(encoded.next()?)? << 4 | digit(encoded.next()?)?
        } else {
            byte
        });
    }
    let path = String::from_utf8(bytes).ok()?;
    crate::RelPath::parse(&path).ok()?;
    Some(path)
}

#[cfg(test)]
mod fragment_tests {
    use super::*;

    #[test]
    fn a_file_fragment_reads_back_the_same_path() {
        for path in [
            "src/main.rs",
            "docs/a b#c%d.md",
            "ünï/cödé.txt",
            "a+b=c&d?.txt",
        ] {
            let fragment = file_fragment(path);
            assert!(fragment.starts_with("#/"));
            assert!(!fragment[1..].contains(['#', ' ', '?']), "{fragment}");
            assert_eq!(path_from_fragment(&fragment).as_deref(), Some(path));
        }
        assert_eq!(file_fragment("src/main.rs"), "#/src/main.rs");
    }

    #[test]
    fn only_a_valid_room_path_comes_out_of_a_fragment() {
        for fragment in [
            "",
            "#",
            "#/",
            "src/main.rs",
            "#src/main.rs",
            "#/../etc/passwd",
            "#/.git/config",
            "#/a%2",
            "#/a%zz",
            "#/%ff",
        ] {
            assert_eq!(path_from_fragment(fragment), None, "{fragment}");
        }
    }
}
