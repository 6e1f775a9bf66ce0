//! A folder swapped for a symlink while edits are written: no write may
//! land outside the project, and no read may reach a file there (issue 17,
//! finding 3).
//!
//! A local process flips `race/` between a real folder and a symlink to a
//! folder outside the project with `renameat2(RENAME_EXCHANGE)`, an atomic
//! swap, while the hub writes `race/n.txt` files. Any check-then-use on
//! paths loses this race; only handles opened without following links win.

#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use room_hub::ProjectDir;
use room_protocol::RelPath;
use rustix::fs::{renameat_with, RenameFlags, CWD};

/// Writes attempted while the flipper runs; the race was won by the
/// attacker 6 to 15 times in 10 to 15 s before the fix.
const WRITES: usize = 3000;

#[test]
fn writes_never_escape_through_a_folder_swapped_for_a_symlink() {
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let project_root = dir.path().join("project");
    std::fs::create_dir_all(project_root.join("race")).unwrap();
    // The swap partner lives in the project under an ignored name.
    std::os::unix::fs::symlink(outside.path(), project_root.join(".swap")).unwrap();
    std::fs::write(outside.path().join("secret.txt"), "outside").unwrap();
    let project = ProjectDir::open(&project_root).unwrap();
    let secret = RelPath::parse("race/secret.txt").unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let stop = Arc::clone(&stop);
        let (race, swap) = (project_root.join("race"), project_root.join(".swap"));
        std::thread::spawn(move || {
            let mut flips = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                renameat_with(CWD, &race, CWD, &swap, RenameFlags::EXCHANGE).unwrap();
                flips += 1;
            }
            // Leave the real folder at `race` for the check below.
            if flips % 2 == 1 {
                renameat_with(CWD, &race, CWD, &swap, RenameFlags::EXCHANGE).unwrap();
            }
            flips
        })
    };
    let (mut written, mut leaked) = (0, 0);
    for i in 0..WRITES {
        if project.read(&secret).unwrap().is_some()
            || project.open_plain(&secret).unwrap().is_some()
        {
            leaked += 1;
        }
        let path = RelPath::parse(&format!("race/n{i}.txt")).unwrap();
        if project.write_durably(&path, "client content").is_ok() {
            written += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let flips = flipper.join().unwrap();

    assert_eq!(leaked, 0, "reads reached a file outside the project");
    let escaped: Vec<_> = std::fs::read_dir(outside.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|name| name != "secret.txt")
        .collect();
    assert!(
        escaped.is_empty(),
        "{} of {WRITES} writes ({written} reported written, {flips} flips) landed outside: {:?}",
        escaped.len(),
        &escaped[..escaped.len().min(5)]
    );
    assert!(flips > 100, "the flipper ran ({flips} flips)");
    assert!(
        written > 0,
        "some writes got through while the folder was real"
    );
    // Whatever was written is inside the project.
    let inside = std::fs::read_dir(project_root.join("race"))
        .unwrap()
        .count();
    assert_eq!(inside, written, "every reported write is in race/");
}
