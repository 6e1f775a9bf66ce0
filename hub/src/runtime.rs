//! Sources of runtime events: a child process (`--run`) and a synthetic
//! pulse for demos (`--pulse`).

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;

use crate::room::Room;
use crate::AbortOnDrop;

/// Longest line forwarded as one event; longer lines are cut (and say so),
/// so a runaway program cannot push megabyte events to every peer.
pub const MAX_LINE_CHARS: usize = 4096;

/// Runs `command` through `sh -c` in the project folder and appends each
/// stdout/stderr line as a `stdout`/`stderr` event and its exit as `exit`.
/// The child is killed when the handle is dropped.
pub fn spawn_command(room: Arc<Room>, command: String) -> AbortOnDrop {
    AbortOnDrop(tokio::spawn(async move {
        let child = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(room.project().root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) => {
                room.append_event("exit", json!({"code": null, "error": e.to_string()}))
                    .await;
                return;
            }
        };
        let stdout = child
            .stdout
            .take()
            .map(|s| forward_lines(Arc::clone(&room), "stdout", s));
        let stderr = child
            .stderr
            .take()
            .map(|s| forward_lines(Arc::clone(&room), "stderr", s));
        if let Some(task) = stdout {
            let _ = task.await;
        }
        if let Some(task) = stderr {
            let _ = task.await;
        }
        let code = child.wait().await.ok().and_then(|status| status.code());
        room.append_event("exit", json!({ "code": code })).await;
    }))
}

fn forward_lines(
    room: Arc<Room>,
    kind: &'static str,
    stream: impl AsyncRead + Unpin + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let line = if line.chars().count() > MAX_LINE_CHARS {
                let mut cut: String = line.chars().take(MAX_LINE_CHARS).collect();
                cut.push('…');
                cut
            } else {
                line
            };
            room.append_event(kind, json!({ "line": line })).await;
        }
    })
}

/// Appends a synthetic `pulse` event every `every`: a counter and a value
/// that wanders smoothly, so a demo chart has something to draw.
pub fn spawn_pulse(room: Arc<Room>, every: Duration) -> AbortOnDrop {
    AbortOnDrop(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every.max(Duration::from_millis(1)));
        let mut n: u64 = 0;
        loop {
            ticker.tick().await;
            n += 1;
            let phase = n as f64 / 20.0;
            let value = (50.0 + 30.0 * phase.sin() + 10.0 * (phase * 2.7).cos()).round();
            room.append_event("pulse", json!({ "n": n, "value": value }))
                .await;
        }
    }))
}
