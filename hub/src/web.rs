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
//!   is there. The given directory is never written to, and a later change
//!   to it is not served until the hub restarts (a new build means a new
//!   hub process).
//! - cached as trunk's content hashes allow: every file but the page is
//!   named by its content, so it is `immutable` for a year; the page
//!   (`index.html`, `/rooms/{id}/`) is `no-cache`, so a new build is picked
//!   up at once, and so is the offline shell's worker (`/sw.js`), whose
//!   name stays while its content changes. `Last-Modified` lets a
//!   revalidation answer `304`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use axum::http::{header, HeaderValue, Response};
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeader;

/// `Cache-Control` of the content-hashed assets.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of the page and the worker.
pub const NO_CACHE: &str = "no-cache";
/// The offline shell's service worker (`app/shell/build.sh` writes it into
/// the build): like the page, one name whose content changes with each
/// build, so it is revalidated, never `immutable`.
pub const SERVICE_WORKER: &str = "/sw.js";

/// Extensions worth compressing (text and wasm; images are compressed
/// already).
const COMPRESSIBLE: [&str; 8] = ["wasm", "js", "mjs", "css", "html", "svg", "json", "txt"];

/// A prepared copy of the web app, removed when dropped.
#[derive(Debug)]
pub struct WebApp {
    dir: tempfile::TempDir,
    /// The copies that have variants (gzip now, brotli to come).
    compressible: Vec<PathBuf>,
}

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
        let mut compressible = Vec::new();
        copy_tree(source, dir.path(), &mut compressible)?;
        Ok(Self { dir, compressible })
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
        for path in files {
            let Ok(bytes) = fs::read(path) else { continue };
            let mut brotli = Vec::new();
            if brotli::BrotliCompress(&mut &bytes[..], &mut brotli, &params).is_err() {
                continue;
            }
            // Whole, then renamed: a half-written variant is never served.
            let partial = with_suffix(path, ".br.partial");
            if fs::write(&partial, brotli).is_ok() {
                let _ = fs::rename(&partial, with_suffix(path, ".br"));
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
    pub fn routes<S: Clone + Send + Sync + 'static>(&self, page_route: &str) -> Router<S> {
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

/// Copies regular files and folders, writes the gzip variants, and notes
/// the copies that have them in `compressible`.
fn copy_tree(from: &Path, to: &Path, compressible: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            fs::create_dir(&target)?;
            copy_tree(&entry.path(), &target, compressible)?;
        } else if kind.is_file() {
            let bytes = fs::read(entry.path())?;
            fs::write(&target, &bytes)?;
            if is_compressible(&target) {
                write_gzip(&target, &bytes)?;
                compressible.push(target);
            }
        }
    }
    Ok(())
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
    fs::write(with_suffix(path, ".gz"), gzip.finish()?)
}
