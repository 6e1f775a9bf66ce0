//! The built web app the hub serves with `--web DIR` (a trunk build), as a
//! production server would:
//!
//! - compressed once: at start-up the files are copied into a private
//!   directory beside a gzip variant (`.gz`, level 9, milliseconds) of each
//!   text or wasm file; a brotli variant (`.br`, quality 11, seconds for a
//!   wasm file) follows in the background, each written whole and then
//!   renamed into place. tower-http's `ServeDir` picks the best variant that
//!   exists and the browser accepts (brotli, else gzip) and says so in
//!   `Content-Encoding`, so the hub serves at once and brotli as soon as it
//!   is there. The given directory is never written to.
//! - live: each request first looks at its file in the given directory (a
//!   `stat`, through a `cap-std` handle, so no request path leaves it). A
//!   file that changed or appeared since it was copied (a rebuild under a
//!   running hub, `trunk build` or `trunk watch`) is copied and gzipped
//!   again before it is served, and its brotli variant dropped (a dev loop
//!   does not wait seconds for brotli); a file gone from the directory is
//!   gone from the copy (404). So the next request after a build gets the
//!   new build, with no restart.
//! - cached as trunk's content hashes allow: every file but the page is
//!   named by its content, so it is `immutable` for a year; the page
//!   (`index.html`, `/rooms/{id}/`) is `no-cache`, so a new build is picked
//!   up at once, and so is the offline shell's worker (`/sw.js`), whose
//!   name stays while its content changes. `Last-Modified` lets a
//!   revalidation answer `304`.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, Response};
use axum::middleware::Next;
use axum::Router;
use cap_std::fs::Dir;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeader;

/// `Cache-Control` of the content-hashed assets.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of the page and the worker.
pub const NO_CACHE: &str = "no-cache";
/// The offline shell's service worker, [`room_protocol::urls::SHELL_WORKER_FILE`]
/// at the root (`room-hub --write-shell` writes it into the build): like
/// the page, one name whose content changes with each build, so it is
/// revalidated, never `immutable`.
pub const SERVICE_WORKER: &str = "/sw.js";

/// Extensions worth compressing (text and wasm; images are compressed
/// already).
const COMPRESSIBLE: [&str; 8] = ["wasm", "js", "mjs", "css", "html", "svg", "json", "txt"];

/// A prepared copy of the web app, removed when dropped.
#[derive(Debug)]
pub struct WebApp {
    /// The given directory, which requests look into (never written to).
    source: Dir,
    dir: tempfile::TempDir,
    /// The copies that have variants (gzip now, brotli to come).
    compressible: Vec<PathBuf>,
    /// What each copy was made from, by path relative to the root: the
    /// source file's length and modification time. The lock also makes
    /// one refresh at a time.
    copied: Mutex<HashMap<PathBuf, Stamp>>,
}

/// A source file as it was when copied: its length and modification time.
type Stamp = (u64, Option<SystemTime>);

impl WebApp {
    /// Copies the app in `source` (regular files only; symlinks are not
    /// followed) and writes the gzip variants beside the copies. Brotli
    /// comes from [`Self::compress_brotli`].
    pub fn prepare(source: &Path) -> io::Result<Self> {
        if !source.join("index.html").is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "the web app directory has no index.html",
            ));
        }
        let dir = tempfile::Builder::new().prefix("room-hub-web-").tempdir()?;
        let source = Dir::open_ambient_dir(source, cap_std::ambient_authority())?;
        let mut compressible = Vec::new();
        let mut copied = HashMap::new();
        for relative in regular_files(&source)? {
            // A file gone (or turned into a symlink) since the listing is
            // left out, as a request for it would find it.
            let Some(stamp) = stamp_of(&source, &relative) else {
                continue;
            };
            let target = write_copy(dir.path(), &relative, &source.read(&relative)?)?;
            if is_compressible(&target) {
                compressible.push(target);
            }
            copied.insert(relative, stamp);
        }
        Ok(Self {
            source,
            dir,
            compressible,
            copied: Mutex::new(copied),
        })
    }

    /// Brings the copy of the file `request_path` names up to date with the
    /// given directory (blocking: run it off the async threads): copied and
    /// gzipped again if it changed or is new, removed if it is gone. A path
    /// that names no file of the directory (`..`, a folder, a symlink) is
    /// left alone; the copy then answers as it would.
    pub fn refresh(&self, request_path: &str, page_route: &str) {
        let Some(relative) = file_of(request_path, page_route) else {
            return;
        };
        let mut copied = self.copied.lock().unwrap_or_else(PoisonError::into_inner);
        let now = stamp_of(&self.source, &relative);
        if now.is_some() && copied.get(&relative) == now.as_ref() {
            return;
        }
        let target = self.root().join(&relative);
        // The brotli variant would be of the old content.
        let _ = fs::remove_file(with_suffix(&target, ".br"));
        let Some(stamp) = now else {
            if copied.remove(&relative).is_some() {
                let _ = fs::remove_file(with_suffix(&target, ".gz"));
                let _ = fs::remove_file(&target);
            }
            return;
        };
        let written = self
            .source
            .read(&relative)
            .and_then(|bytes| write_copy(self.root(), &relative, &bytes));
        match written {
            Ok(_) => {
                copied.insert(relative, stamp);
            }
            Err(e) => tracing::warn!(
                "the web app's {} was not refreshed: {e}",
                relative.display()
            ),
        }
    }

    /// The copies that get a brotli variant from [`Self::compress_brotli`].
    pub fn compressible(&self) -> &[PathBuf] {
        &self.compressible
    }

    /// Writes the brotli variants of `files` ([`Self::compressible`]), one
    /// at a time (blocking: run it off the async threads). A file that
    /// cannot be compressed keeps its gzip variant.
    pub fn compress_brotli(files: &[PathBuf]) {
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        let modified = |path: &Path| fs::metadata(path).and_then(|m| m.modified()).ok();
        for path in files {
            let before = modified(path);
            let Ok(bytes) = fs::read(path) else { continue };
            let mut brotli = Vec::new();
            if brotli::BrotliCompress(&mut &bytes[..], &mut brotli, &params).is_err() {
                continue;
            }
            // A copy refreshed meanwhile gets no variant of its old content.
            if modified(path) == before {
                let _ = write_whole(&with_suffix(path, ".br"), &brotli);
            }
        }
    }

    /// Where the prepared files are.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The routes of the app: the page at `page_route` (and `/`,
    /// `/index.html`), the offline shell's worker at [`SERVICE_WORKER`],
    /// every other file from the root.
    pub fn routes<S: Clone + Send + Sync + 'static>(
        self: &Arc<Self>,
        page_route: &'static str,
    ) -> Router<S> {
        let page = || self.revalidated("index.html");
        let assets = ServeDir::new(self.root())
            .precompressed_br()
            .precompressed_gzip();
        let assets = varies_by_encoding(SetResponseHeader::overriding(
            assets,
            header::CACHE_CONTROL,
            immutable,
        ));
        Router::new()
            .route_service(page_route, page())
            .route_service("/", page())
            .route_service("/index.html", page())
            .route_service(SERVICE_WORKER, self.revalidated(&SERVICE_WORKER[1..]))
            .fallback_service(assets)
            .layer(axum::middleware::from_fn_with_state(
                (Arc::clone(self), page_route),
                serve_live,
            ))
    }

    /// The file `name`, `no-cache`: a name that stays while what it holds
    /// changes with each build.
    fn revalidated(
        &self,
        name: &str,
    ) -> SetResponseHeader<SetResponseHeader<ServeFile, HeaderValue>, HeaderValue> {
        let file = ServeFile::new(self.root().join(name))
            .precompressed_br()
            .precompressed_gzip();
        varies_by_encoding(SetResponseHeader::overriding(
            file,
            header::CACHE_CONTROL,
            HeaderValue::from_static(NO_CACHE),
        ))
    }
}

/// `Cache-Control: immutable` on what was found; nothing on errors (a 404
/// must not be cached for a year).
fn immutable<B>(response: &Response<B>) -> Option<HeaderValue> {
    response
        .status()
        .is_success()
        .then(|| HeaderValue::from_static(IMMUTABLE))
}

/// `Vary: accept-encoding`: the same URL answers brotli, gzip or plain.
fn varies_by_encoding<S>(service: S) -> SetResponseHeader<S, HeaderValue> {
    SetResponseHeader::appending(
        service,
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
    )
}

/// Before a GET or HEAD is served: its file as the directory has it now.
async fn serve_live(
    State((web, page_route)): State<(Arc<WebApp>, &'static str)>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        let path = request.uri().path().to_owned();
        let _ = tokio::task::spawn_blocking(move || web.refresh(&path, page_route)).await;
    }
    next.run(request).await
}

/// The file a request path names, relative to the root: the page for `/`
/// and the page route, else the path itself (percent-decoded). `None` for
/// a path that could leave the root or names no file.
fn file_of(request_path: &str, page_route: &str) -> Option<PathBuf> {
    if request_path == "/" || matches_route(request_path, page_route) {
        return Some(PathBuf::from("index.html"));
    }
    let decoded = percent_encoding::percent_decode_str(request_path)
        .decode_utf8()
        .ok()?;
    let relative = PathBuf::from(decoded.trim_start_matches('/'));
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    (plain && !decoded.ends_with('/') && relative.components().next().is_some()).then_some(relative)
}

/// Whether `path` matches `route` (axum's syntax: `{name}` matches one
/// segment).
fn matches_route(path: &str, route: &str) -> bool {
    let (mut path, mut route) = (path.split('/'), route.split('/'));
    loop {
        match (path.next(), route.next()) {
            (None, None) => return true,
            (Some(p), Some(r)) if r.starts_with('{') && r.ends_with('}') && !p.is_empty() => {}
            (Some(p), Some(r)) if p == r => {}
            _ => return false,
        }
    }
}

/// Every regular file under `dir`, relative to it, in no set order;
/// symlinks are not followed (folders are opened by handle).
pub(crate) fn regular_files(dir: &Dir) -> io::Result<Vec<PathBuf>> {
    fn walk(dir: &Dir, prefix: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
        for entry in dir.entries()? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let name = prefix.join(entry.file_name());
            if kind.is_dir() {
                walk(&entry.open_dir()?, &name, files)?;
            } else if kind.is_file() {
                files.push(name);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, Path::new(""), &mut files)?;
    Ok(files)
}

/// What a copy of `relative` would be made from now: the source file's
/// length and modification time, if it is a regular file of `source`.
fn stamp_of(source: &Dir, relative: &Path) -> Option<Stamp> {
    let metadata = source.symlink_metadata(relative).ok()?;
    metadata.is_file().then(|| {
        (
            metadata.len(),
            metadata.modified().ok().map(|t| t.into_std()),
        )
    })
}

/// Writes `bytes` as the copy of `relative` under `root`, and its gzip
/// variant when compressible, each whole and then renamed into place.
/// Returns the copy's path.
fn write_copy(root: &Path, relative: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let target = root.join(relative);
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent)?;
    }
    if is_compressible(&target) {
        write_gzip(&target, bytes)?;
    }
    write_whole(&target, bytes)?;
    Ok(target)
}

/// Writes `bytes` beside `path`, then renames into place: a half-written
/// file is never served.
fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let partial = with_suffix(path, ".partial");
    fs::write(&partial, bytes)?;
    fs::rename(&partial, path)
}

fn is_compressible(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| COMPRESSIBLE.contains(&e))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn write_gzip(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(bytes)?;
    write_whole(&with_suffix(path, ".gz"), &gzip.finish()?)
}
