//! What the hub benchmarks share: a release hub over a scratch project,
//! what they read about its process (memory, CPU and bytes read from
//! `/proc`, `/healthz`), and a timed join.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::hub::{HubProcess, ROOM_ID};

/// A hub process over a project in a scratch folder of its own, removed
/// with it.
#[derive(Debug)]
pub struct ScratchHub {
    /// The process.
    pub process: HubProcess,
    /// Its edit token.
    pub token: String,
    _scratch: tempfile::TempDir,
}

impl ScratchHub {
    /// Starts `binary` with `extra` arguments over a project that `fill`
    /// writes into an empty folder.
    pub async fn start(
        binary: &Path,
        fill: impl FnOnce(&Path) -> std::io::Result<()>,
        extra: Vec<String>,
    ) -> std::io::Result<Self> {
        let scratch = tempfile::tempdir()?;
        let project: PathBuf = scratch.path().join("project");
        std::fs::create_dir_all(&project)?;
        fill(&project)?;
        let mut process = HubProcess::new(
            binary.to_owned(),
            project,
            scratch.path().join("tokens.json"),
            None,
            None,
        )?;
        process.extra_args = extra;
        process.start().await?;
        let token = process.tokens()?["editToken"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok(Self {
            process,
            token,
            _scratch: scratch,
        })
    }
}

/// A WebSocket to the hub.
pub type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Unix time in milliseconds.
pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The number after `key` on its line of `/proc/{pid}/{file}`, 0 if
/// unknown.
fn proc_number(pid: u32, file: &str, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The process's resident memory, in KiB (0 if unknown).
pub fn rss_kib(pid: u32) -> u64 {
    proc_number(pid, "status", "VmRSS:")
}

/// Bytes the process has read through system calls so far (`rchar`:
/// from the page cache or the disk alike), 0 if unknown.
pub fn bytes_read(pid: u32) -> u64 {
    proc_number(pid, "io", "rchar:")
}

/// CPU time the process has used so far (user and system), in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    // Fields 14 and 15 of /proc/PID/stat, in clock ticks (100 per second
    // on Linux), counted after the command name in parentheses.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

/// The hub's health (`urls::HEALTH_ROUTE`) on `port`, `Null` if it does
/// not answer.
pub async fn health(port: u16) -> serde_json::Value {
    let route = room_protocol::urls::HEALTH_ROUTE;
    match crate::http1::request(port, "GET", route, None, None).await {
        Ok((200, body)) => serde_json::from_str(&body).unwrap_or_default(),
        _ => serde_json::Value::Null,
    }
}

/// Opens a WebSocket to the room with `token` and says hello; frames of
/// any size are accepted (a snapshot of a big project is one frame).
pub async fn connect(port: u16, token: &str) -> std::io::Result<Socket> {
    let url = room_protocol::urls::socket_url(&format!("http://127.0.0.1:{port}"), ROOM_ID);
    let mut request = url.into_client_request().map_err(std::io::Error::other)?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        format!("room.v1, room.token.{token}")
            .parse()
            .map_err(std::io::Error::other)?,
    );
    let config = WebSocketConfig::default()
        .max_message_size(None)
        .max_frame_size(None);
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), true)
        .await
        .map_err(std::io::Error::other)?;
    socket
        .send(Message::text(
            r##"{"type":"hello","peer":{"name":"bench","color":"#000000"}}"##,
        ))
        .await
        .map_err(std::io::Error::other)?;
    Ok(socket)
}

/// Reads until `synced`; `Err` if the socket ends first or `within` runs out.
pub async fn until_synced(socket: &mut Socket, within: Duration) -> std::io::Result<()> {
    let read = async {
        while let Some(message) = socket.next().await {
            match message.map_err(std::io::Error::other)? {
                Message::Text(text) if text.starts_with(r#"{"type":"synced""#) => return Ok(()),
                Message::Close(_) => break,
                _ => {}
            }
        }
        Err(std::io::Error::other("the socket ended before synced"))
    };
    tokio::time::timeout(within, read)
        .await
        .map_err(|_| std::io::Error::other("no synced in time"))?
}

/// How long a fresh client takes from connecting to `synced`.
pub async fn timed_join(port: u16, token: &str) -> std::io::Result<Duration> {
    let started = Instant::now();
    let mut socket = connect(port, token).await?;
    until_synced(&mut socket, Duration::from_secs(60)).await?;
    Ok(started.elapsed())
}
