//! An idle hub does no file I/O (issue 17, finding 1): the watcher's own
//! reads must not set it off again. Its own test binary, so the process's
//! read counter (`/proc/self/io`) measures only this hub.

mod common;

use std::time::Duration;

use common::*;

/// Bytes this process has read through system calls so far.
fn bytes_read() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").expect("/proc/self/io");
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("rchar")
}

// /proc/self/io is Linux's.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn after_a_large_external_edit_an_idle_hub_reads_nothing() {
    let project = sample_project();
    for dir in ["a/b/c", "d/e"] {
        std::fs::create_dir_all(project.path().join(dir)).unwrap();
        std::fs::write(project.path().join(dir).join("f.txt"), "x").unwrap();
    }
    let hub = hub_over(project.path()).await;
    let mut c = Client::fresh(&hub, &edit_token(&hub)).await;
    // One 1 MB edit, as an editor would save it.
    std::fs::write(project.path().join("a/b/c/big.txt"), "y".repeat(1 << 20)).unwrap();
    loop {
        if let room_protocol::ServerFrame::FileChanged(f) = c.next().await {
            if f.path == "a/b/c/big.txt" {
                break;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = bytes_read();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Less this check's own read of /proc.
    let read = (bytes_read() - before).saturating_sub(4096);
    assert!(read < 64 * 1024, "an idle hub read {read} bytes in 3 s");
}
