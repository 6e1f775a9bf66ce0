//! The built web app over real HTTP: `--web` serves it compressed once,
//! with cache headers that match trunk's content hashes, and validators;
//! a rebuild under the running hub is served from the next request on.

mod common;

use std::io::Read;

use common::*;
use room_hub::{IMMUTABLE, NO_CACHE, SERVICE_WORKER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WASM: &str = "room-app-0123456789abcdef_bg.wasm";
const JS: &str = "room-app-0123456789abcdef.js";
const CSS: &str = "style-fedcba9876543210.css";

/// A trunk build in miniature: a page and content-hashed assets that
/// compress well.
fn built_app() -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let wasm: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8 / 3).collect();
    std::fs::write(
        dir.path().join("index.html"),
        "<!DOCTYPE html><title>Room</title>",
    )
    .unwrap();
    std::fs::write(dir.path().join(WASM), &wasm).unwrap();
    std::fs::write(dir.path().join(JS), "export function f() {}\n".repeat(500)).unwrap();
    std::fs::write(dir.path().join(CSS), "body { margin: 0 }\n".repeat(200)).unwrap();
    std::fs::write(
        dir.path().join(&SERVICE_WORKER[1..]),
        "self.addEventListener('fetch', () => {});\n",
    )
    .unwrap();
    (dir, wasm)
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 GET on a fresh connection.
async fn get(hub: &room_hub::RunningHub, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

#[tokio::test]
async fn assets_go_out_compressed_cached_for_a_year_and_revalidate_with_304() {
    let project = sample_project();
    let (web, wasm) = built_app();
    let web_path = web.path().to_owned();
    let hub = hub_with(project.path(), |c| c.web_dir = Some(web_path)).await;
    let asset = format!("/{WASM}");

    // Brotli when the browser accepts it, once the background compression
    // has written it (gzip until then); the content is the file.
    let mut br = get(&hub, &asset, &[("Accept-Encoding", "gzip, deflate, br")]).await;
    for _ in 0..600 {
        if br.header("content-encoding") == Some("br") {
            break;
        }
        assert_eq!(
            br.header("content-encoding"),
            Some("gzip"),
            "gzip meanwhile"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        br = get(&hub, &asset, &[("Accept-Encoding", "gzip, deflate, br")]).await;
    }
    assert_eq!(br.status, 200);
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert!(br
        .header("vary")
        .unwrap()
        .to_ascii_lowercase()
        .contains("accept-encoding"));
    assert_eq!(br.header("cache-control"), Some(IMMUTABLE));
    let mut plain = Vec::new();
    brotli::Decompressor::new(&br.body[..], 4096)
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(plain, wasm);
    assert!(
        br.body.len() * 4 < wasm.len(),
        "{} bytes of brotli",
        br.body.len()
    );

    let gz = get(&hub, &asset, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(plain, wasm);

    let identity = get(&hub, &asset, &[]).await;
    assert_eq!(identity.header("content-encoding"), None);
    assert_eq!(identity.body, wasm);

    for path in [format!("/{JS}"), format!("/{CSS}")] {
        let reply = get(&hub, &path, &[("Accept-Encoding", "gzip")]).await;
        assert_eq!(reply.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(reply.header("cache-control"), Some(IMMUTABLE), "{path}");
    }

    // A revalidation of an unchanged asset costs no body.
    let modified = br.header("last-modified").expect("a validator").to_owned();
    let again = get(
        &hub,
        &asset,
        &[("Accept-Encoding", "br"), ("If-Modified-Since", &modified)],
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    // A missing asset is not cached for a year.
    let missing = get(&hub, "/room-app-ffffffffffffffff_bg.wasm", &[]).await;
    assert_eq!(missing.status, 404);
    assert_ne!(missing.header("cache-control"), Some(IMMUTABLE));

    // The folder given is never written to.
    let mut names: Vec<String> = std::fs::read_dir(web.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["index.html", JS, WASM, CSS, &SERVICE_WORKER[1..]]);
}

#[tokio::test]
async fn the_page_and_its_worker_are_revalidated_every_time_so_a_new_build_is_picked_up() {
    let project = sample_project();
    let (web, _) = built_app();
    let web_path = web.path().to_owned();
    let hub = hub_with(project.path(), |c| c.web_dir = Some(web_path)).await;
    let room = hub.room.id().to_owned();
    for path in [
        room_protocol::urls::page_path(&room),
        "/".to_owned(),
        "/index.html".to_owned(),
        SERVICE_WORKER.to_owned(),
    ] {
        let reply = get(&hub, &path, &[("Accept-Encoding", "gzip")]).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("cache-control"), Some(NO_CACHE), "{path}");
        let modified = reply
            .header("last-modified")
            .expect("a validator")
            .to_owned();
        let again = get(&hub, &path, &[("If-Modified-Since", &modified)]).await;
        assert_eq!(again.status, 304, "{path}");
    }
}

#[tokio::test]
async fn a_web_folder_without_a_page_is_a_clear_error_at_start() {
    let project = sample_project();
    let empty = tempfile::tempdir().unwrap();
    let config = room_hub::Config {
        project: project.path().to_owned(),
        port: 0,
        web_dir: Some(empty.path().to_owned()),
        ..room_hub::Config::default()
    };
    let Err(error) = room_hub::start(config).await else {
        panic!("a web folder without index.html was accepted");
    };
    let text = error.to_string();
    assert!(
        text.contains("cannot serve the web app") && text.contains("index.html"),
        "{text}"
    );
}

#[tokio::test]
async fn a_rebuild_under_a_running_hub_is_served_on_the_next_request_compressed_and_cached_right() {
    let project = sample_project();
    let (web, _) = built_app();
    let web_path = web.path().to_owned();
    let hub = hub_with(project.path(), |c| c.web_dir = Some(web_path)).await;
    let page = room_protocol::urls::page_path(hub.room.id());
    let gunzip = |reply: &Reply| {
        assert_eq!(reply.header("content-encoding"), Some("gzip"));
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&reply.body[..])
            .read_to_end(&mut plain)
            .unwrap();
        plain
    };
    assert_eq!(
        gunzip(&get(&hub, &page, &[("Accept-Encoding", "gzip")]).await),
        b"<!DOCTYPE html><title>Room</title>"
    );

    // A rebuild as trunk makes one: a new page naming a new hashed asset,
    // the old asset gone, and the worker changed in place.
    let new_wasm: Vec<u8> = (0..150_000u32).map(|i| (i % 13) as u8).collect();
    let new_name = "room-app-aaaaaaaaaaaaaaaa_bg.wasm";
    let new_page =
        format!("<!DOCTYPE html><title>Room, rebuilt</title><link href=\"/{new_name}\">");
    std::fs::write(web.path().join(new_name), &new_wasm).unwrap();
    std::fs::write(web.path().join("index.html"), &new_page).unwrap();
    std::fs::remove_file(web.path().join(WASM)).unwrap();
    std::fs::write(web.path().join(&SERVICE_WORKER[1..]), "// the next build\n").unwrap();

    // The next requests get the new build, with no restart.
    for path in [page.clone(), "/".to_owned(), "/index.html".to_owned()] {
        let reply = get(&hub, &path, &[("Accept-Encoding", "gzip, br")]).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.header("cache-control"), Some(NO_CACHE), "{path}");
        assert_eq!(gunzip(&reply), new_page.as_bytes(), "{path}");
    }
    let worker = get(&hub, SERVICE_WORKER, &[]).await;
    assert_eq!(worker.body, b"// the next build\n");
    assert_eq!(worker.header("cache-control"), Some(NO_CACHE));
    let asset = get(
        &hub,
        &format!("/{new_name}"),
        &[("Accept-Encoding", "gzip, br")],
    )
    .await;
    assert_eq!(asset.status, 200);
    assert_eq!(asset.header("cache-control"), Some(IMMUTABLE));
    assert_eq!(gunzip(&asset), new_wasm);
    assert!(asset.body.len() * 4 < new_wasm.len(), "compressed");
    assert_eq!(get(&hub, &format!("/{new_name}"), &[]).await.body, new_wasm);
    // The old asset is gone, in every encoding (its brotli variant too).
    for encoding in ["br", "gzip", "identity"] {
        let old = get(&hub, &format!("/{WASM}"), &[("Accept-Encoding", encoding)]).await;
        assert_eq!(old.status, 404, "{encoding}");
    }
    // A page that changes again is served again; an unchanged one costs a stat.
    std::fs::write(
        web.path().join("index.html"),
        "<!DOCTYPE html><title>third</title>",
    )
    .unwrap();
    assert_eq!(
        get(&hub, "/", &[]).await.body,
        b"<!DOCTYPE html><title>third</title>"
    );

    // No request path reaches outside the folder, encoded or not.
    let outside = "/../../../../../../etc/passwd";
    for path in [
        outside,
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    ] {
        let reply = get(&hub, path, &[]).await;
        assert_ne!(reply.status, 200, "{path}");
        assert!(
            !String::from_utf8_lossy(&reply.body).contains("root:"),
            "{path}"
        );
    }
}
