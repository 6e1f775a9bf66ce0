//! `room-bench-hub`: the hub's figures, measured in one run on loopback
//! (run by `scripts/bench.sh`, never by CI).
//!
//! - Fan-out: N WebSocket clients, the hub appending 1000 events/s
//!   (`--pulse 1`): delivery latency p50/p99, events/s each client
//!   sustained, clients dropped, hub RSS.
//! - Replay memory: hub RSS with an empty log and with a full 5000-entry
//!   buffer of typical `stdout` lines.
//!
//! Prints a table and one JSON line (`{"hub": …}`) for the bench script.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::StreamExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use room_testkit::hub::{copy_tree, ROOM_ID};
use room_testkit::measure::{health, now_ms, rss_kib, ScratchHub};

/// Measure the hub's fan-out and replay memory.
#[derive(Debug, Parser)]
struct Cli {
    /// The room-hub binary (a release build).
    #[arg(long)]
    hub_bin: PathBuf,
    /// The project folder to copy.
    #[arg(long)]
    project: PathBuf,
    /// WebSocket clients.
    #[arg(long, default_value_t = 200)]
    clients: usize,
    /// Seconds to measure after everyone joined.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

/// `ts` of a runtime-event frame without a full JSON parse: the bench must
/// not be slower than the hub it measures.
fn event_ts(text: &str) -> Option<f64> {
    if !text.starts_with(r#"{"type":"runtime-event""#) {
        return None;
    }
    let start = text.find(r#""ts":"#)? + 5;
    let end = text[start..].find(|c: char| !c.is_ascii_digit())? + start;
    text[start..end].parse().ok()
}

/// A hub over a copy of the project given.
async fn start_hub(cli: &Cli, extra: Vec<String>) -> std::io::Result<ScratchHub> {
    ScratchHub::start(
        &cli.hub_bin,
        |project| copy_tree(&cli.project, project),
        extra,
    )
    .await
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();

    // --- Replay memory -------------------------------------------------
    let empty = start_hub(&cli, vec![]).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_empty = rss_kib(empty.process.pid().unwrap_or(0));
    drop(empty);
    let lines = "i=0; while [ $i -lt 5000 ]; do i=$((i+1)); echo \"   Compiling crate-number-$i v0.1.0 (/home/user/project/crates/crate-number-$i)\"; done";
    let mut full = start_hub(&cli, vec!["--run".into(), lines.into()]).await?;
    let port = full.process.port;
    let deadline = Instant::now() + Duration::from_secs(60);
    let head = loop {
        let health = health(port).await;
        let head = health["rooms"][ROOM_ID]["head"].as_u64().unwrap_or(0);
        if head >= 5001 || Instant::now() > deadline {
            break head;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_full = rss_kib(full.process.pid().unwrap_or(0));
    full.process.stop().await?;

    // --- Fan-out -------------------------------------------------------
    let hub = start_hub(&cli, vec!["--pulse".into(), "1".into()]).await?;
    let port = hub.process.port;
    let token = hub.token.clone();
    let measuring = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..cli.clients {
        let mut socket = room_testkit::measure::connect(port, &token).await?;
        let measuring = Arc::clone(&measuring);
        let dropped = Arc::clone(&dropped);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut received = 0_u64;
            let mut synced = false;
            while let Some(message) = socket.next().await {
                match message {
                    Ok(Message::Text(text)) => {
                        if !synced {
                            synced = text.starts_with(r#"{"type":"synced""#);
                            continue;
                        }
                        match measuring.load(Ordering::Relaxed) {
                            0 => {}
                            1 => {
                                if let Some(ts) = event_ts(&text) {
                                    received += 1;
                                    // ts is whole milliseconds: count from the middle.
                                    latencies.push(now_ms() - (ts + 0.5));
                                }
                            }
                            _ => break,
                        }
                    }
                    Ok(Message::Close(_)) | Err(_) => {
                        dropped.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Ok(_) => {}
                }
            }
            (latencies, received)
        }));
    }
    // Everyone joined; let the stream settle, then measure.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let head_before = health(port).await["rooms"][ROOM_ID]["head"]
        .as_u64()
        .unwrap_or(0);
    measuring.store(1, Ordering::Relaxed);
    let started = Instant::now();
    let mut rss_peak = 0;
    while started.elapsed() < Duration::from_secs(cli.seconds) {
        rss_peak = rss_peak.max(rss_kib(hub.process.pid().unwrap_or(0)));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    measuring.store(2, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    let head_after = health(port).await["rooms"][ROOM_ID]["head"]
        .as_u64()
        .unwrap_or(0);
    // Nudge every client once more so each loop sees the stop flag.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut latencies = Vec::new();
    let mut per_client = Vec::new();
    for task in tasks {
        if let Ok((l, received)) = task.await {
            latencies.extend(l);
            per_client.push(received as f64 / elapsed);
        }
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    per_client.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let appended_per_s = (head_after - head_before) as f64 / elapsed;
    let report = json!({
        "hub": {
            "clients": cli.clients,
            "appendedPerSecond": appended_per_s.round(),
            "deliveredPerClientPerSecondMin": per_client.first().copied().unwrap_or(0.0).round(),
            "deliveredPerClientPerSecondMedian": percentile(&per_client, 0.5).round(),
            "latencyMsP50": (percentile(&latencies, 0.5) * 100.0).round() / 100.0,
            "latencyMsP99": (percentile(&latencies, 0.99) * 100.0).round() / 100.0,
            "latencySamples": latencies.len(),
            "droppedClients": dropped.load(Ordering::Relaxed),
            "hubRssPeakKiB": rss_peak,
            "replayMemory": {
                "rssEmptyKiB": rss_empty,
                "rssWith5000EntriesKiB": rss_full,
                "entries": head.min(5000),
                "bytesPerEntry": ((rss_full.saturating_sub(rss_empty)) * 1024) / head.clamp(1, 5000),
            },
        }
    });
    #[allow(clippy::print_stdout)]
    {
        println!(
            "hub fan-out: {} clients, {:.0} events/s appended for {:.1} s",
            cli.clients, appended_per_s, elapsed
        );
        println!(
            "  delivered per client: min {:.0}/s, median {:.0}/s",
            per_client.first().copied().unwrap_or(0.0),
            percentile(&per_client, 0.5)
        );
        println!(
            "  latency: p50 {:.2} ms, p99 {:.2} ms over {} deliveries",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            latencies.len()
        );
        println!(
            "  dropped clients: {}; hub RSS peak {} KiB",
            dropped.load(Ordering::Relaxed),
            rss_peak
        );
        println!("replay memory: RSS {rss_empty} KiB empty, {rss_full} KiB with a full 5000-entry buffer");
        println!("{report}");
    }
    Ok(())
}
