//! The offline shell of a built web app: `room-hub --write-shell`, a trunk
//! `post_build` hook, writes it into the build trunk has just staged, so
//! any app that embeds room-client gets what the demo has.
//!
//! In the build's folder it
//! - computes the build's id: a hash of every file's name and bytes, the
//!   page, and the worker's source (a new build, or a new worker, is a new
//!   id);
//! - writes the worker ([`room_protocol::urls::SHELL_WORKER_FILE`]): the
//!   constants `BUILD` and `SHELL` (every file but the page and the worker,
//!   under the build's public URL), then `shell/sw.js`;
//! - names both in the page's head: `<meta name="room-shell-build">` and
//!   `<meta name="room-shell-worker">`, which room-client reads to register
//!   the worker and to know when a newer build has taken over. Metas an
//!   earlier run wrote are replaced, so running it twice changes nothing.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

use room_protocol::urls::{SHELL_BUILD_META, SHELL_WORKER_FILE, SHELL_WORKER_META};
use sha2::{Digest, Sha256};

/// The worker's source, below the constants written for each build.
const WORKER_SOURCE: &str = include_str!("../shell/sw.js");

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shell {
    /// The build's id (16 hex digits).
    pub build: String,
    /// How many files the worker precaches (besides the page).
    pub files: usize,
}

/// Writes the offline shell into the build in `dir`, whose files are
/// served under `public_url` (trunk's `TRUNK_PUBLIC_URL`, `/` by default).
pub fn write_shell(dir: &Path, public_url: &str) -> io::Result<Shell> {
    let page_path = dir.join("index.html");
    let page = fs::read_to_string(&page_path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", page_path.display())))?;
    let build_dir = cap_std::fs::Dir::open_ambient_dir(dir, cap_std::ambient_authority())?;
    let mut files = crate::web::regular_files(&build_dir)?;
    files.retain(|f| f != Path::new("index.html") && f != Path::new(SHELL_WORKER_FILE));
    files.sort();
    let mut hash = Sha256::new();
    for file in &files {
        hash.update(file.to_string_lossy().as_bytes());
        hash.update([0]);
        hash.update(Sha256::digest(fs::read(dir.join(file))?));
    }
    let page = without_shell_metas(&page);
    hash.update(page.as_bytes());
    hash.update(WORKER_SOURCE.as_bytes());
    let build: String = hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let public = if public_url.ends_with('/') {
        public_url.to_owned()
    } else {
        format!("{public_url}/")
    };
    let mut worker = String::from("// Written by `room-hub --write-shell` for this build.\n");
    let _ = writeln!(worker, "const BUILD = '{build}';\nconst SHELL = [");
    for file in &files {
        // Names as trunk writes them: no quote or backslash to escape, but
        // a name that has one is written escaped, never breaking the script.
        let url = format!("{public}{}", file.to_string_lossy().replace('\\', "/"));
        let _ = writeln!(
            worker,
            "  {},",
            serde_json::to_string(&url).unwrap_or_default()
        );
    }
    worker.push_str("];\n\n");
    worker.push_str(WORKER_SOURCE);
    fs::write(dir.join(SHELL_WORKER_FILE), worker)?;

    let metas = format!(
        "<meta name=\"{SHELL_BUILD_META}\" content=\"{build}\"><meta name=\"{SHELL_WORKER_META}\" content=\"{}\">",
        html_attribute(&format!("{public}{SHELL_WORKER_FILE}"))
    );
    let Some(head_end) = page.find("</head>") else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: no </head> to put the shell's <meta> in",
                page_path.display()
            ),
        ));
    };
    let page = format!("{}{metas}{}", &page[..head_end], &page[head_end..]);
    fs::write(&page_path, page)?;
    Ok(Shell {
        build,
        files: files.len(),
    })
}

/// The page without the metas an earlier run wrote (one line of them).
fn without_shell_metas(page: &str) -> String {
    let marker = format!("<meta name=\"{SHELL_BUILD_META}\"");
    let Some(start) = page.find(&marker) else {
        return page.to_owned();
    };
    let worker = format!("<meta name=\"{SHELL_WORKER_META}\"");
    let end = page[start..]
        .find(&worker)
        .and_then(|w| page[start + w..].find('>').map(|e| start + w + e + 1))
        .unwrap_or(start);
    format!("{}{}", &page[..start], &page[end..])
}

fn html_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("index.html"),
            "<html><head><title>App</title></head><body></body></html>",
        )
        .unwrap();
        fs::write(dir.path().join("app-0123_bg.wasm"), [0u8, 97, 115, 109]).unwrap();
        fs::write(dir.path().join("app-0123.js"), "export {}").unwrap();
        fs::create_dir(dir.path().join("snippets")).unwrap();
        fs::write(dir.path().join("snippets/shell.js"), "export {}").unwrap();
        dir
    }

    fn page(dir: &Path) -> String {
        fs::read_to_string(dir.join("index.html")).unwrap()
    }

    #[test]
    fn the_worker_lists_every_file_under_the_public_url_and_the_page_names_it() {
        let dir = build();
        let shell = write_shell(dir.path(), "/app").unwrap();
        assert_eq!(shell.files, 3);
        assert_eq!(shell.build.len(), 16);
        let worker = fs::read_to_string(dir.path().join(SHELL_WORKER_FILE)).unwrap();
        assert!(worker.starts_with("// Written by `room-hub --write-shell`"));
        assert!(worker.contains(&format!("const BUILD = '{}';", shell.build)));
        for url in [
            "/app/app-0123.js",
            "/app/app-0123_bg.wasm",
            "/app/snippets/shell.js",
        ] {
            assert!(
                worker.contains(&format!("  \"{url}\",")),
                "{url} in {worker}"
            );
        }
        assert!(
            !worker.contains("index.html\","),
            "the page is not a shell file"
        );
        assert!(worker.ends_with(WORKER_SOURCE));
        let page = page(dir.path());
        assert!(page.contains(&format!(
            "<meta name=\"room-shell-build\" content=\"{}\"><meta name=\"room-shell-worker\" content=\"/app/sw.js\"></head>",
            shell.build
        )), "{page}");
    }

    #[test]
    fn the_build_id_follows_the_files_and_a_second_run_changes_nothing() {
        let dir = build();
        let first = write_shell(dir.path(), "/").unwrap();
        let page_once = page(dir.path());
        // Run again (trunk runs the hook once per build; a person may too).
        assert_eq!(write_shell(dir.path(), "/").unwrap(), first);
        assert_eq!(page(dir.path()), page_once, "one set of metas");
        // A changed file is a new build.
        fs::write(dir.path().join("app-0123.js"), "export { changed }").unwrap();
        let second = write_shell(dir.path(), "/").unwrap();
        assert_ne!(second.build, first.build);
        assert_eq!(page(dir.path()).matches("room-shell-build").count(), 1);
    }

    #[test]
    fn a_build_without_a_page_or_a_head_is_a_clear_error() {
        let empty = tempfile::tempdir().unwrap();
        let error = write_shell(empty.path(), "/").unwrap_err();
        assert!(error.to_string().contains("index.html"), "{error}");
        let headless = build();
        fs::write(headless.path().join("index.html"), "<p>no head</p>").unwrap();
        let error = write_shell(headless.path(), "/").unwrap_err();
        assert!(error.to_string().contains("</head>"), "{error}");
    }
}
