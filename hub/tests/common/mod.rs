//! Helpers for the hub's integration tests: a hub on port 0 over a temporary
//! project, and a WebSocket client that speaks protocol v1.

#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use room_hub::{start, Config, RunningHub};
use room_protocol::{
    decode_server_frame, encode, ClientFrame, FileEdit, Hello, PeerProfile, ServerFrame, Welcome,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for any one frame.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// A temporary project folder with a few files.
pub fn sample_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README.md"), "# Sample\n").unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/main.rs"), "fn main() {}\n").unwrap();
    dir
}

/// A hub on a free port over `project`, with a read-only token.
pub async fn hub_over(project: &Path) -> RunningHub {
    hub_with(project, |_| {}).await
}

/// Like [`hub_over`], with settings adjusted by `adjust`.
pub async fn hub_with(project: &Path, adjust: impl FnOnce(&mut Config)) -> RunningHub {
    let mut config = Config {
        project: project.to_owned(),
        port: 0,
        read_only_token: true,
        ..Config::default()
    };
    adjust(&mut config);
    start(config).await.unwrap()
}

pub fn edit_token(hub: &RunningHub) -> String {
    hub.room.secrets().edit_token.expose().to_owned()
}

pub fn read_only_token(hub: &RunningHub) -> String {
    hub.room
        .secrets()
        .read_only_token
        .as_ref()
        .unwrap()
        .expose()
        .to_owned()
}

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How to present the token.
pub enum Auth<'a> {
    Subprotocol(&'a str),
    Query(&'a str),
    None,
}

/// Opens a WebSocket to `room_id`; returns it and the selected subprotocol.
pub async fn open(hub: &RunningHub, room_id: &str, auth: Auth<'_>) -> (Socket, Option<String>) {
    let base = room_protocol::urls::socket_url(&format!("http://{}", hub.addr), room_id);
    let url = match auth {
        Auth::Query(token) => format!("{base}?token={token}"),
        _ => base,
    };
    let mut request = url.into_client_request().unwrap();
    let offered = match auth {
        Auth::Subprotocol(token) => format!("room.v1, room.token.{token}"),
        _ => "room.v1".to_owned(),
    };
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_str(&offered).unwrap(),
    );
    let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    let selected = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .map(|v| v.to_str().unwrap().to_owned());
    (socket, selected)
}

/// A connected client that has said hello and read up to `synced`.
pub struct Client {
    pub socket: Socket,
    pub welcome: Welcome,
    /// The tree that followed a tree-first welcome, and its size on the
    /// wire.
    pub tree: Option<(room_protocol::Tree, usize)>,
    /// Entries (file-changed, runtime-event) received before `synced`.
    pub catch_up: Vec<ServerFrame>,
}

impl Client {
    pub async fn join(hub: &RunningHub, token: &str, hello: Hello) -> Client {
        let (mut socket, _) = open(hub, hub.room.id(), Auth::Subprotocol(token)).await;
        send(&mut socket, &ClientFrame::Hello(hello)).await;
        let welcome = match recv(&mut socket).await {
            ServerFrame::Welcome(w) => w,
            other => panic!("expected welcome, got {other:?}"),
        };
        // A snapshot is followed by its tree, one binary frame.
        let tree = if welcome.mode == room_protocol::SyncMode::Snapshot {
            let bytes = recv_binary(&mut socket).await;
            let mut json = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::ZlibDecoder::new(&bytes[..]),
                &mut json,
            )
            .unwrap();
            let tree: room_protocol::Tree = serde_json::from_str(&json).unwrap();
            Some((tree, bytes.len()))
        } else {
            None
        };
        let mut catch_up = Vec::new();
        loop {
            match recv(&mut socket).await {
                ServerFrame::Synced(s) => {
                    assert_eq!(s.head, welcome.head);
                    break;
                }
                ServerFrame::Peers(_) => {}
                entry => catch_up.push(entry),
            }
        }
        Client {
            socket,
            welcome,
            tree,
            catch_up,
        }
    }

    pub async fn fresh(hub: &RunningHub, token: &str) -> Client {
        Self::join(hub, token, hello_as("tester")).await
    }

    /// The paths of the tree that followed the welcome.
    pub fn paths(&self) -> Vec<String> {
        let (tree, _) = self.tree.as_ref().expect("a snapshot welcome's tree");
        tree.files.iter().map(|f| f.path.clone()).collect()
    }

    /// Asks for `paths` in one `file-request` and returns the
    /// `file-content` answers, in order (file changes that come first are
    /// skipped; any other frame fails the test).
    pub async fn request(&mut self, paths: &[&str]) -> Vec<room_protocol::FileContent> {
        self.send(&ClientFrame::FileRequest(room_protocol::FileRequest {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }))
        .await;
        let mut answers = Vec::new();
        while answers.len() < paths.len() {
            match self.next().await {
                ServerFrame::FileContent(answer) => answers.push(answer),
                ServerFrame::FileChanged(_) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
        answers
    }

    /// Asks for `path`'s content and returns it.
    pub async fn content(&mut self, path: &str) -> Option<String> {
        self.request(&[path]).await.remove(0).content
    }

    pub async fn send(&mut self, frame: &ClientFrame) {
        send(&mut self.socket, frame).await;
    }

    pub async fn edit(&mut self, edit_id: &str, path: &str, content: &str, base_rev: u64) {
        self.send(&ClientFrame::FileEdit(FileEdit {
            edit_id: edit_id.into(),
            path: path.into(),
            content: content.into(),
            base_rev,
            base_project: None,
        }))
        .await;
    }

    /// The next frame that is not a `peers` update.
    pub async fn next(&mut self) -> ServerFrame {
        loop {
            match recv(&mut self.socket).await {
                ServerFrame::Peers(_) => continue,
                frame => return frame,
            }
        }
    }

    /// The file's rev in the tree that followed the welcome.
    ///
    /// # Panics
    ///
    /// Without a tree, or when the tree does not list `path`.
    pub fn file_rev(&self, path: &str) -> u64 {
        let (tree, _) = self.tree.as_ref().expect("a snapshot welcome and its tree");
        tree.files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{path} is not in the tree"))
            .rev
    }
}

pub fn hello_as(name: &str) -> Hello {
    Hello {
        peer: PeerProfile {
            name: name.into(),
            color: "#123456".into(),
        },
        ..Hello::default()
    }
}

pub async fn send(socket: &mut Socket, frame: &ClientFrame) {
    socket.send(Message::text(encode(frame))).await.unwrap();
}

/// The next frame that is not a ping or pong; panics on close or timeout.
async fn next_message(socket: &mut Socket) -> Message {
    loop {
        let message = tokio::time::timeout(FRAME_TIMEOUT, socket.next())
            .await
            .expect("timed out waiting for a frame")
            .expect("connection ended")
            .expect("connection failed");
        if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
            return message;
        }
    }
}

/// The next text frame, decoded; panics on close, timeout or junk.
pub async fn recv(socket: &mut Socket) -> ServerFrame {
    match next_message(socket).await {
        Message::Text(text) => decode_server_frame(&text).unwrap(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// The next binary frame; panics on anything else.
pub async fn recv_binary(socket: &mut Socket) -> Vec<u8> {
    match next_message(socket).await {
        Message::Binary(bytes) => bytes.to_vec(),
        other => panic!("expected a binary frame, got {other:?}"),
    }
}

/// Reads until the hub closes; returns the close code and every text frame
/// seen before it.
pub async fn read_until_close(socket: &mut Socket) -> (Option<u16>, Vec<String>) {
    let mut texts = Vec::new();
    loop {
        let message = tokio::time::timeout(FRAME_TIMEOUT, socket.next())
            .await
            .expect("timed out waiting for close");
        match message {
            Some(Ok(Message::Close(frame))) => {
                return (frame.map(|f| u16::from(f.code)), texts);
            }
            Some(Ok(Message::Text(text))) => texts.push(text.to_string()),
            Some(Ok(_)) => {}
            None | Some(Err(_)) => return (None, texts),
        }
    }
}

pub fn code(c: CloseCode) -> u16 {
    u16::from(c)
}

/// The health route (`urls::HEALTH_ROUTE`) over a plain HTTP/1.1 request.
pub async fn healthz(hub: &room_hub::RunningHub) -> serde_json::Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        room_protocol::urls::HEALTH_ROUTE
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    serde_json::from_str(body).unwrap()
}
