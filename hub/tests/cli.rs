//! The `room-hub` binary: prints its share links once, then never a token.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use room_protocol::{ClientFrame, ServerFrame};
use tokio_tungstenite::tungstenite::Message;

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `POST {path}` to the running binary with the host's token as a bearer,
/// over a real socket: the status line's code and the body.
fn post_as_host(base: &str, path: &str, host_token: &str) -> (u16, String) {
    let authority = base.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {host_token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let code = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (code, body)
}

#[tokio::test]
async fn the_binary_prints_links_once_and_never_logs_tokens() {
    let project = sample_project();
    let token_file = project.path().join(".tokens.json");
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_room-hub"))
            .args(["--project"])
            .arg(project.path())
            .args([
                "--port",
                "0",
                "--token",
                "READONLY",
                "--room-id",
                "cli-room",
                "--token-file",
            ])
            .arg(&token_file)
            .env("ROOM_HUB_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..5 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line.trim().to_owned());
    }
    let base = lines[0]
        .strip_prefix("room-hub listening on ")
        .unwrap()
        .to_owned();
    assert_eq!(lines[1], "room id: cli-room");
    let edit_link = lines[2].strip_prefix("share link (can edit): ").unwrap();
    let view_link = lines[3].strip_prefix("share link (view only): ").unwrap();
    assert!(edit_link.starts_with(&format!("{base}/rooms/cli-room/?token=")));
    let edit_token = edit_link.rsplit('=').next().unwrap().to_owned();
    let view_token = view_link.rsplit('=').next().unwrap().to_owned();
    assert_eq!(edit_token.len(), 32);
    // The host link on a line of its own, labelled so that nobody shares it.
    let host_link = lines[4]
        .strip_prefix("host link (keep it to yourself: it replaces and turns off the links): ")
        .unwrap();
    assert!(host_link.starts_with(&format!("{base}/rooms/cli-room/?token=")));
    let host_token = host_link.rsplit('=').next().unwrap().to_owned();
    assert!(host_token != edit_token && host_token != view_token);

    // Exercise the hub: a good connection with an edit, and a bad token.
    let ws = format!("{}/rooms/cli-room/ws", base.replace("http://", "ws://"));
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws.as_str())
            .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        format!("room.v1, room.token.{edit_token}").parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    send(&mut socket, &ClientFrame::Hello(hello_as("cli"))).await;
    assert!(matches!(recv(&mut socket).await, ServerFrame::Welcome(_)));
    socket.send(Message::text(format!(r#"{{"type":"file-edit","editId":"e","path":"x.txt","content":"{edit_token}","baseRev":0}}"#))).await.unwrap();
    let wrong = format!("{ws}?token={}", "B".repeat(32));
    let (mut refused, _) = tokio_tungstenite::connect_async(wrong).await.unwrap();
    let (code, _) = read_until_close(&mut refused).await;
    assert_eq!(code, Some(room_protocol::CLOSE_UNAUTHORIZED));
    drop(socket);

    // The host replaces both links: the log says so, and names no token.
    let mut new_tokens = Vec::new();
    for kind in ["view", "edit"] {
        let (code, body) = post_as_host(
            &base,
            &room_protocol::urls::link_path("cli-room", kind),
            &host_token,
        );
        assert_eq!(code, 200, "POST {kind}: {body}");
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        let link = answer["link"].as_str().unwrap();
        new_tokens.push(link.rsplit('=').next().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    let _ = child.0.kill();
    let _ = child.0.wait();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let tokens = [&edit_token, &view_token, &host_token]
        .into_iter()
        .chain(&new_tokens);
    for token in tokens {
        assert!(
            !rest.contains(token.as_str()),
            "stdout repeats a token: {rest}"
        );
        assert!(
            !stderr.contains(token.as_str()),
            "stderr logs a token: {stderr}"
        );
    }
    assert!(
        stderr.contains("peer joined"),
        "trace logging was on: {stderr}"
    );
    assert_eq!(
        stderr.matches("the host replaced a link").count(),
        2,
        "each replacement is logged: {stderr}"
    );
}

#[test]
fn a_bad_token_flag_is_a_usage_error() {
    let project = sample_project();
    let status = Command::new(env!("CARGO_BIN_EXE_room-hub"))
        .args(["--project"])
        .arg(project.path())
        .args(["--port", "0", "--token", "please"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
}

#[test]
fn bound_to_every_interface_the_links_name_addresses_others_can_open() {
    let project = sample_project();
    let mut child = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_room-hub"))
            .args(["--project"])
            .arg(project.path())
            .args(["--bind", "0.0.0.0", "--port", "0", "--token", "READONLY"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let line = line.trim().to_owned();
        let done = line.starts_with("share link (view only)");
        lines.push(line);
        if done {
            break;
        }
    }
    let links: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("share link (can edit): "))
        .collect();
    assert!(!links.is_empty(), "{lines:?}");
    // What the machine offers decides what may be printed: localhost only
    // when it has no other address and no name.
    let (interfaces, host_name) = (
        if_addrs::get_if_addrs().unwrap(),
        std::fs::read_to_string("/proc/sys/kernel/hostname").ok(),
    );
    let others_can_reach = interfaces
        .iter()
        .any(|i| i.ip().is_ipv4() && !i.is_loopback() && !i.is_link_local())
        || host_name.is_some_and(|n| !n.trim().is_empty() && n.trim() != "localhost");
    for line in &lines {
        assert!(!line.contains("0.0.0.0"), "{line}");
        if others_can_reach {
            assert!(!line.contains("localhost"), "{line}");
        }
    }
    for link in links {
        assert!(link.starts_with("http://"), "{link}");
    }
}
