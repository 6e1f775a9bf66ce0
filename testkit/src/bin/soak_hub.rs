//! `room-soak-hub`: the hub left running in the field, measured in one run
//! on loopback (run by `scripts/bench.sh`, never by CI).
//!
//! - Idle over a big project: a generated 200 MB project in 10 subfolders;
//!   after one 1 MB edit, 30 idle seconds: the hub's CPU seconds and bytes
//!   read (target: about zero). Also the time a fresh client takes to join
//!   it (its snapshot is the whole project), and the hub's RSS during ten
//!   snapshot downloads that each take 64 KiB a second.
//! - A peer that never reads: 60 s of 1000 events/s with one such peer:
//!   the hub's RSS, sampled every second (target: bounded), and when it
//!   dropped the peer (it answers no ping, so the silence limit does, if
//!   its queue's 16 MiB have not filled first).
//! - A flood of silent connections: join time of an honest client while
//!   1000 TCP connections that never send a request are open, against the
//!   same join with none (target: about the same).
//!
//! Prints a table and one JSON line (`{"hubSoak": …}`) for the bench script.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use room_testkit::measure::{
    bytes_read, connect, cpu_seconds, health, rss_kib, timed_join, until_synced, ScratchHub,
};

/// Measure the hub over a big project, with a peer that never reads, and
/// under a flood of silent connections.
#[derive(Debug, Parser)]
struct Cli {
    /// The room-hub binary (a release build).
    #[arg(long)]
    hub_bin: PathBuf,
    /// Megabytes of the generated project.
    #[arg(long, default_value_t = 200)]
    project_mb: usize,
    /// Idle seconds measured after the edit.
    #[arg(long, default_value_t = 30)]
    idle_seconds: u64,
    /// Seconds of 1000 events/s with a peer that never reads.
    #[arg(long, default_value_t = 60)]
    flood_seconds: u64,
    /// Silent TCP connections held open during the join.
    #[arg(long, default_value_t = 1000)]
    silent: usize,
}

/// Files of the generated project: 512 KiB of text each, under 10
/// subfolders.
const FILE_BYTES: usize = 512 * 1024;
const FOLDERS: usize = 10;

fn generate_project(root: &Path, megabytes: usize) -> std::io::Result<usize> {
    let files = (megabytes << 20) / FILE_BYTES;
    let line = "let value = compute(input, 42); // a typical line of source text\n";
    let content: String = line.repeat(FILE_BYTES / line.len() + 1)[..FILE_BYTES].to_owned();
    for i in 0..files {
        let folder = root.join(format!("module-{}", i % FOLDERS));
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(format!("file-{i}.rs")), &content)?;
    }
    Ok(files)
}

/// Ten snapshot downloads of the whole project that each take 64 KiB a
/// second, for 10 s: the hub's RSS before and at its peak meanwhile.
async fn slow_downloads(port: u16, token: &str, pid: u32) -> std::io::Result<(u64, u64)> {
    use hmac::{Hmac, Mac};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exp = (room_testkit::measure::now_ms() / 1000.0) as u64 + 600;
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).map_err(std::io::Error::other)?;
    mac.update(room_protocol::snapshot_signing_message(room_testkit::hub::ROOM_ID, exp).as_bytes());
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let path = room_protocol::urls::snapshot_link("", room_testkit::hub::ROOM_ID, exp, &sig);
    let before = rss_kib(pid);
    let mut readers = Vec::new();
    for _ in 0..10 {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await?;
        readers.push(tokio::spawn(async move {
            let mut buf = vec![0_u8; 64 * 1024];
            let mut total = 0;
            for _ in 0..10 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => total += n,
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            total
        }));
    }
    let mut peak = before;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak = peak.max(rss_kib(pid));
    }
    let mut read = 0;
    for reader in readers {
        read += reader.await.unwrap_or(0);
    }
    if read == 0 {
        return Err(std::io::Error::other("no snapshot download got any bytes"));
    }
    Ok((before, peak))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Raises this process's open-file limit, so it can hold the silent flood.
fn allow_many_files() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    let _ = setrlimit(Resource::Nofile, limit);
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    allow_many_files();

    // --- Idle over a big project --------------------------------------
    let mut files = 0;
    let big = ScratchHub::start(
        &cli.hub_bin,
        |root| {
            files = generate_project(root, cli.project_mb)?;
            Ok(())
        },
        vec![],
    )
    .await?;
    let port = big.process.port;
    let pid = big.process.pid().unwrap_or(0);
    let join_big = timed_join(port, &big.token).await?;
    let rss_loaded = rss_kib(pid);
    // One 1 MB edit, acknowledged, then nothing.
    let mut editor = connect(port, &big.token).await?;
    until_synced(&mut editor, Duration::from_secs(60)).await?;
    let content = "x".repeat(1_000_000);
    let edit = json!({"type": "file-edit", "editId": "soak-1", "path": "module-0/edited.txt",
        "content": content, "baseRev": 0});
    editor
        .send(Message::text(edit.to_string()))
        .await
        .map_err(std::io::Error::other)?;
    let acked = Instant::now() + Duration::from_secs(30);
    while health(port).await["rooms"][room_testkit::hub::ROOM_ID]["head"].as_u64() < Some(1) {
        if Instant::now() > acked {
            return Err(std::io::Error::other("the 1 MB edit was not applied"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The watcher settles for 75 ms; give it a second, then measure.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (cpu_before, read_before) = (cpu_seconds(pid), bytes_read(pid));
    tokio::time::sleep(Duration::from_secs(cli.idle_seconds)).await;
    let idle_cpu = cpu_seconds(pid) - cpu_before;
    let idle_read = bytes_read(pid) - read_before;
    drop(editor);
    let (rss_before_downloads, rss_during_downloads) =
        slow_downloads(port, &big.token, pid).await?;
    drop(big);

    // --- A peer that never reads, at 1000 events/s ---------------------
    let flood =
        ScratchHub::start(&cli.hub_bin, |_| Ok(()), vec!["--pulse".into(), "1".into()]).await?;
    let port = flood.process.port;
    let pid = flood.process.pid().unwrap_or(0);
    let mut silent_peer = connect(port, &flood.token).await?;
    until_synced(&mut silent_peer, Duration::from_secs(10)).await?;
    // From here on it never reads.
    let mut rss = Vec::new();
    let mut peers_at_end = 0;
    let mut dropped_after = None;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(cli.flood_seconds) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        rss.push(rss_kib(pid));
        peers_at_end = health(port).await["rooms"][room_testkit::hub::ROOM_ID]["peers"]
            .as_u64()
            .unwrap_or(0);
        if peers_at_end == 0 && dropped_after.is_none() {
            dropped_after = Some(started.elapsed().as_secs());
        }
    }
    let head = health(port).await["rooms"][room_testkit::hub::ROOM_ID]["head"]
        .as_u64()
        .unwrap_or(0);
    let rss_first = rss.first().copied().unwrap_or(0);
    let rss_peak = rss.iter().copied().max().unwrap_or(0);
    let rss_last = rss.last().copied().unwrap_or(0);
    drop(silent_peer);
    drop(flood);

    // --- Joins during a flood of silent connections --------------------
    let quiet = ScratchHub::start(&cli.hub_bin, |_| Ok(()), vec![]).await?;
    let port = quiet.process.port;
    let mut alone = Vec::new();
    for _ in 0..10 {
        alone.push(timed_join(port, &quiet.token).await?.as_secs_f64() * 1000.0);
    }
    let mut silent = Vec::with_capacity(cli.silent);
    for _ in 0..cli.silent {
        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(stream) => silent.push(stream),
            Err(_) => break,
        }
    }
    let mut flooded = Vec::new();
    let mut failed = 0;
    for _ in 0..10 {
        match timed_join(port, &quiet.token).await {
            Ok(took) => flooded.push(took.as_secs_f64() * 1000.0),
            Err(_) => failed += 1,
        }
    }
    let opened = silent.len();
    drop(silent);
    let (alone_ms, flooded_ms) = (median(alone), median(flooded));

    let report = json!({
        "hubSoak": {
            "bigProject": {
                "megabytes": cli.project_mb,
                "files": files,
                "folders": FOLDERS,
                "joinMs": round2(join_big.as_secs_f64() * 1000.0),
                "rssLoadedKiB": rss_loaded,
                "idleSeconds": cli.idle_seconds,
                "idleCpuSeconds": round2(idle_cpu),
                "idleBytesRead": idle_read,
                "rssBeforeSlowDownloadsKiB": rss_before_downloads,
                "rssPeakDuringTenSlowDownloadsKiB": rss_during_downloads,
            },
            "peerThatNeverReads": {
                "seconds": cli.flood_seconds,
                "events": head,
                "rssFirstKiB": rss_first,
                "rssPeakKiB": rss_peak,
                "rssLastKiB": rss_last,
                "peersAtEnd": peers_at_end,
                "droppedAfterSeconds": dropped_after,
            },
            "silentFlood": {
                "silentConnections": opened,
                "joinMsMedianAlone": round2(alone_ms),
                "joinMsMedianDuringFlood": round2(flooded_ms),
                "floodedOverAlone": round2(flooded_ms / alone_ms),
                "failedJoins": failed,
            },
        }
    });
    #[allow(clippy::print_stdout)]
    {
        println!(
            "hub idle over {} MB ({files} files in {FOLDERS} folders): join {:.0} ms, RSS {} MiB; \
             {} s after a 1 MB edit: {:.2} CPU s, {} bytes read",
            cli.project_mb,
            join_big.as_secs_f64() * 1000.0,
            rss_loaded / 1024,
            cli.idle_seconds,
            idle_cpu,
            idle_read
        );
        println!(
            "ten slow snapshot downloads of it: RSS {} → peak {} MiB",
            rss_before_downloads / 1024,
            rss_during_downloads / 1024
        );
        println!(
            "peer that never reads, {} s at 1000 events/s ({head} events): RSS {} → peak {} → {} KiB; \
             {}",
            cli.flood_seconds,
            rss_first,
            rss_peak,
            rss_last,
            dropped_after.map_or("not dropped".to_owned(), |s| format!("dropped after {s} s"))
        );
        println!(
            "join with {opened} silent connections open: median {flooded_ms:.1} ms vs {alone_ms:.1} ms alone ({failed} failed)"
        );
        println!("{report}");
    }
    Ok(())
}
