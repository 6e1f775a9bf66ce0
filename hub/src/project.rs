//! The project folder on disk: which files belong to the room, reading them,
//! and writing edits so that a crash never leaves a half-written file.
//!
//! Every read and write goes through folder handles opened one component at
//! a time from the root without following symlinks (`cap-std`, with
//! `open_dir_nofollow`), and the file itself is opened with no-follow
//! semantics in the handle of its folder. So a folder swapped for a symlink
//! mid-edit cannot send a write, or a read, outside the project: the
//! handle keeps pointing at the folder that was checked. Walking the folder
//! is this module's job alone.
//!
//! Everything here is blocking file I/O; async callers run it on the
//! blocking pool.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cap_fs_ext::{DirExt as _, FollowSymlinks, OpenOptionsFollowExt as _};
use cap_std::fs::{Dir, File, OpenOptions};
use room_protocol::{is_ignored_name, RelPath, MAX_CONTENT_BYTES, MAX_PATH_DEPTH};

use crate::error::{HubError, WriteError};
use crate::tokens::random_base64url;

/// Most files the room loads; more are left out with a warning, so a huge
/// folder cannot exhaust the hub's memory.
pub const MAX_FILES: usize = 10_000;

/// The name prefix of a write in progress. A dot name: the loader and the
/// watcher ignore it, so a leftover never shows up in the room, and the
/// start-up walk removes leftovers of a crash.
pub const TEMP_PREFIX: &str = ".room-tmp-";

/// A project folder, canonicalised and opened at start, so every later
/// access is relative to the folder that was checked.
#[derive(Debug, Clone)]
pub struct ProjectDir {
    root: PathBuf,
    dir: Arc<Dir>,
}

/// Why a path could not be reached as plain folders and a plain file.
enum Unreachable {
    /// A component is a symlink, or a file where a folder is needed.
    NotPlain,
    /// The file system refused.
    Io(io::Error),
}

impl From<io::Error> for Unreachable {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl ProjectDir {
    /// Opens `root`, which must be an existing folder.
    pub fn open(root: &Path) -> Result<Self, HubError> {
        let unreadable = |source| HubError::ProjectUnreadable {
            path: root.to_owned(),
            source,
        };
        let root = std::fs::canonicalize(root).map_err(unreadable)?;
        if !std::fs::metadata(&root).map_err(unreadable)?.is_dir() {
            return Err(unreadable(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a folder",
            )));
        }
        let dir = Dir::open_ambient_dir(&root, cap_std::ambient_authority()).map_err(unreadable)?;
        Ok(Self {
            root,
            dir: Arc::new(dir),
        })
    }

    /// The folder's canonical path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Maps an absolute path (from the watcher) back to a room path, if it
    /// is inside the folder and not ignored.
    pub fn relative(&self, abs: &Path) -> Option<RelPath> {
        let rest = abs.strip_prefix(&self.root).ok()?;
        let parts: Option<Vec<&str>> = rest.components().map(|c| c.as_os_str().to_str()).collect();
        RelPath::parse(&parts?.join("/")).ok()
    }

    /// Every file that belongs to the room: regular UTF-8 files up to
    /// [`MAX_CONTENT_BYTES`], not under an ignored name, not reached through
    /// a symlink, at most [`MAX_PATH_DEPTH`] components deep. Sorted by
    /// path. Called at start, it also removes the temporary files a crash
    /// left behind ([`TEMP_PREFIX`]).
    pub fn load_all(&self) -> Result<BTreeMap<RelPath, String>, HubError> {
        let mut files = BTreeMap::new();
        self.walk("", &mut files, Leftovers::Remove)
            .map_err(|source| HubError::ProjectUnreadable {
                path: self.root.clone(),
                source,
            })?;
        Ok(files)
    }

    /// Every room file now, by the rules of [`Self::load_all`], for a
    /// rescan while the hub runs (temporary files are left alone: a write
    /// may be in progress).
    pub fn read_all(&self) -> io::Result<BTreeMap<RelPath, String>> {
        let mut files = BTreeMap::new();
        self.walk("", &mut files, Leftovers::Keep)?;
        Ok(files)
    }

    /// The room files at `paths` now: each path that is a room file, and
    /// every room file under each path that is a folder. A path that is
    /// missing or not a room file is simply not in the result.
    pub fn read_changed(&self, paths: &BTreeSet<RelPath>) -> io::Result<BTreeMap<RelPath, String>> {
        let mut files = BTreeMap::new();
        for path in paths {
            let components: Vec<&str> = path.components().collect();
            if self.folder_to_read(&components)?.is_some() {
                self.walk(path.as_str(), &mut files, Leftovers::Keep)?;
            } else if let Some(content) = self.read(path)? {
                files.insert(path.clone(), content);
            }
        }
        Ok(files)
    }

    /// The room's view of one path now: its content if it is a room file,
    /// `None` if it is absent or not a room file (too big, not UTF-8, a
    /// symlink, under a symlinked folder).
    pub fn read(&self, rel: &RelPath) -> io::Result<Option<String>> {
        let (folders, name) = split(rel);
        match self.folder_to_read(&folders)? {
            Some(folder) => read_room_file(&folder, name),
            None => Ok(None),
        }
    }

    /// Writes `content` to `rel` durably: a temporary file in the same
    /// folder, fsync, rename over the target, fsync the folder. A crash at
    /// any point leaves either the old or the new content, never a mix.
    /// Missing parent folders are created, and removed again if the write
    /// fails; symlinks are never followed.
    pub fn write_durably(&self, rel: &RelPath, content: &str) -> Result<(), WriteError> {
        let (folders, name) = split(rel);
        let not_plain = || WriteError::NotPlain(rel.to_string());
        let mut created = CreatedFolders::default();
        let folder = match self.open_or_create_folders(&folders, &mut created) {
            Ok(folder) => folder,
            Err(unreachable) => {
                created.remove_if_empty();
                return Err(match unreachable {
                    Unreachable::NotPlain => not_plain(),
                    Unreachable::Io(e) => e.into(),
                });
            }
        };
        let written = match write_in(&folder, name, content) {
            Ok(()) => return Ok(()),
            Err(Unreachable::NotPlain) => Err(not_plain()),
            Err(Unreachable::Io(e)) => Err(e.into()),
        };
        drop(folder);
        created.remove_if_empty();
        written
    }

    /// Opens `rel` for reading if it is a plain file reached without
    /// symlinks, with its size at the moment of opening.
    pub fn open_plain(&self, rel: &RelPath) -> io::Result<Option<(std::fs::File, u64)>> {
        let (folders, name) = split(rel);
        let Some(folder) = self.folder_to_read(&folders)? else {
            return Ok(None);
        };
        let Some(file) = open_plain_file(&folder, name)? else {
            return Ok(None);
        };
        let size = file.metadata()?.len();
        Ok(Some((file.into_std(), size)))
    }

    /// Removes `rel` from disk, if it is there and plain.
    pub fn remove(&self, rel: &RelPath) -> Result<(), WriteError> {
        let (folders, name) = split(rel);
        let not_plain = || WriteError::NotPlain(rel.to_string());
        let folder = match self.open_folder(&folders) {
            Ok(Some(folder)) => folder,
            Ok(None) => return Ok(()),
            Err(Unreachable::NotPlain) => return Err(not_plain()),
            Err(Unreachable::Io(e)) => return Err(e.into()),
        };
        match folder.symlink_metadata(name) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => return Err(not_plain()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        folder.remove_file(name)?;
        sync_folder(&folder)?;
        Ok(())
    }

    /// Opens the folder at `components` below the root, each one a real
    /// folder (not a symlink). `Ok(None)` when one is missing.
    fn open_folder(&self, components: &[&str]) -> Result<Option<Dir>, Unreachable> {
        let mut folder = self.dir.try_clone()?;
        for name in components {
            match open_child_folder(&folder, name)? {
                Some(child) => folder = child,
                None => return Ok(None),
            }
        }
        Ok(Some(folder))
    }

    /// [`Self::open_folder`] as a reader sees it: a folder that is missing
    /// or not plain (a symlink, a file) holds no room files.
    fn folder_to_read(&self, components: &[&str]) -> io::Result<Option<Dir>> {
        match self.open_folder(components) {
            Ok(folder) => Ok(folder),
            Err(Unreachable::NotPlain) => Ok(None),
            Err(Unreachable::Io(e)) => Err(e),
        }
    }

    /// Like [`Self::open_folder`], creating the folders that are missing
    /// and noting each one in `created`.
    fn open_or_create_folders(
        &self,
        components: &[&str],
        created: &mut CreatedFolders,
    ) -> Result<Dir, Unreachable> {
        let mut folder = self.dir.try_clone()?;
        for name in components {
            let child = match open_child_folder(&folder, name)? {
                Some(child) => child,
                None => {
                    match folder.create_dir(name) {
                        Ok(()) => created.0.push((folder.try_clone()?, (*name).to_owned())),
                        // Someone else made it in between; use theirs.
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(e.into()),
                    }
                    open_child_folder(&folder, name)?.ok_or(Unreachable::NotPlain)?
                }
            };
            folder = child;
        }
        Ok(folder)
    }

    /// Collects every room file at or below the folder `start` (a room
    /// path, or `""` for the root) into `files`.
    fn walk(
        &self,
        start: &str,
        files: &mut BTreeMap<RelPath, String>,
        leftovers: Leftovers,
    ) -> io::Result<()> {
        // Folders are kept as paths, not open handles, so a wide tree never
        // holds many descriptors; each is opened again without following.
        let mut stack = vec![start.to_owned()];
        while let Some(prefix) = stack.pop() {
            let components: Vec<&str> = prefix.split('/').filter(|c| !c.is_empty()).collect();
            let depth = components.len();
            // Removed or swapped for a link while we walk: not there.
            let Some(folder) = self.folder_to_read(&components)? else {
                continue;
            };
            for entry in folder.entries()? {
                let entry = entry?;
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                // file_type() does not follow symlinks: links are skipped.
                let kind = entry.file_type()?;
                if leftovers == Leftovers::Remove && kind.is_file() && name.starts_with(TEMP_PREFIX)
                {
                    match folder.remove_file(name) {
                        Ok(()) => {
                            tracing::info!(folder = %prefix, "removed a temporary file left by a crash")
                        }
                        Err(e) => {
                            tracing::warn!(folder = %prefix, error = %e, "could not remove a temporary file left by a crash")
                        }
                    }
                    continue;
                }
                if is_ignored_name(name) {
                    continue;
                }
                let path = if prefix.is_empty() {
                    name.to_owned()
                } else {
                    format!("{prefix}/{name}")
                };
                if kind.is_dir() {
                    // A file in it would have depth + 2 components.
                    if depth + 2 <= MAX_PATH_DEPTH {
                        stack.push(path);
                    }
                } else if kind.is_file() {
                    if files.len() >= MAX_FILES {
                        tracing::warn!(
                            limit = MAX_FILES,
                            "project has too many files; the rest are left out"
                        );
                        return Ok(());
                    }
                    if let (Ok(rel), Some(content)) =
                        (RelPath::parse(&path), read_room_file(&folder, name)?)
                    {
                        files.insert(rel, content);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether a walk removes the temporary files a crash left behind: only at
/// start, when no write of this hub can be in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leftovers {
    Remove,
    Keep,
}

/// Folders a write created, each with the handle of its parent, so a failed
/// write can take them away again.
#[derive(Default)]
struct CreatedFolders(Vec<(Dir, String)>);

impl CreatedFolders {
    /// Removes the created folders, deepest first, where they are still
    /// empty (someone else may have written into one meanwhile).
    fn remove_if_empty(self) {
        for (parent, name) in self.0.into_iter().rev() {
            let _ = parent.remove_dir(&name);
        }
    }
}

/// A room path's folders and its file name.
fn split(rel: &RelPath) -> (Vec<&str>, &str) {
    let mut components: Vec<&str> = rel.components().collect();
    let name = components.pop().unwrap_or_default();
    (components, name)
}

/// Opens the folder `name` inside `parent` if it is a real folder.
fn open_child_folder(parent: &Dir, name: &str) -> Result<Option<Dir>, Unreachable> {
    match parent.open_dir_nofollow(name) {
        Ok(child) => Ok(Some(child)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        // The answer to this very open decides: checking again afterwards
        // would race with whoever is swapping the folder.
        Err(e) if is_link_or_file_in_the_way(&e) => Err(Unreachable::NotPlain),
        Err(e) => Err(Unreachable::Io(e)),
    }
}

/// Whether opening a folder without following failed because a symlink
/// (`ELOOP`) or a non-folder (`ENOTDIR`) is there.
fn is_link_or_file_in_the_way(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        matches!(Errno::from_io_error(e), Some(Errno::LOOP | Errno::NOTDIR))
    }
    #[cfg(not(unix))]
    {
        e.kind() == io::ErrorKind::NotADirectory
    }
}

/// Opens `name` in `folder` for reading if it is a regular file, without
/// following a symlink and without blocking on a FIFO.
fn open_plain_file(folder: &Dir, name: &str) -> io::Result<Option<File>> {
    let mut options = OpenOptions::new();
    options.read(true).follow(FollowSymlinks::No);
    #[cfg(unix)]
    {
        use cap_std::fs::OpenOptionsExt as _;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    match folder.open_with(name, &options) {
        Ok(file) if file.metadata()?.is_file() => Ok(Some(file)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        // A symlink, which is not a room file.
        Err(e) if is_link_or_file_in_the_way(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads `name` in `folder` if it qualifies as a room file: a regular file
/// of at most [`MAX_CONTENT_BYTES`] of valid UTF-8.
fn read_room_file(folder: &Dir, name: &str) -> io::Result<Option<String>> {
    let Some(file) = open_plain_file(folder, name)? else {
        return Ok(None);
    };
    let size = file.metadata()?.len();
    if size > MAX_CONTENT_BYTES as u64 {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // A file that grew since it was measured is still cut off at the limit.
    file.take(MAX_CONTENT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_CONTENT_BYTES {
        return Ok(None);
    }
    Ok(String::from_utf8(bytes).ok())
}

/// Writes `content` to `name` in `folder` through a temporary file and a
/// rename, both inside the folder's handle.
fn write_in(folder: &Dir, name: &str, content: &str) -> Result<(), Unreachable> {
    match folder.symlink_metadata(name) {
        Ok(meta) if !meta.is_file() => return Err(Unreachable::NotPlain),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    let tmp = format!(
        "{TEMP_PREFIX}{}",
        random_base64url(9).map_err(io::Error::other)?
    );
    let result = (|| {
        // create_new (O_EXCL) never follows a symlink.
        let mut file = folder.open_with(&tmp, OpenOptions::new().write(true).create_new(true))?;
        file.write_all(content.as_bytes())?;
        file.sync_all()?;
        folder.rename(&tmp, folder, name)?;
        sync_folder(folder)
    })();
    if result.is_err() {
        let _ = folder.remove_file(&tmp);
    }
    Ok(result?)
}

/// Makes a rename in `folder` durable. The handle may be a path-only one
/// (`O_PATH`), which cannot be synced, so the folder is opened for reading
/// through it first.
fn sync_folder(folder: &Dir) -> io::Result<()> {
    #[cfg(unix)]
    {
        use rustix::fs::{openat, Mode, OFlags};
        let readable = openat(
            folder,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        rustix::fs::fsync(&readable)?;
    }
    #[cfg(not(unix))]
    let _ = folder;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn rel(s: &str) -> RelPath {
        RelPath::parse(s).unwrap()
    }

    #[test]
    fn loads_only_room_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("src")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::create_dir_all(root.join("target")).unwrap();
        fs::write(root.join("a.txt"), "a").unwrap();
        fs::write(root.join("src/b.rs"), "b").unwrap();
        fs::write(root.join(".git/config"), "secret").unwrap();
        fs::write(root.join(".env"), "secret").unwrap();
        fs::write(root.join("target/out"), "x").unwrap();
        fs::write(root.join("binary.bin"), [0xff, 0xfe, 0x00]).unwrap();
        fs::write(root.join("big.txt"), "x".repeat(MAX_CONTENT_BYTES + 1)).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc/hostname", root.join("link.txt")).unwrap();
        let project = ProjectDir::open(root).unwrap();
        let files = project.load_all().unwrap();
        let paths: Vec<&str> = files.keys().map(RelPath::as_str).collect();
        assert_eq!(paths, ["a.txt", "src/b.rs"]);
    }

    #[test]
    fn files_deeper_than_a_room_path_can_reach_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let folders = |n: usize| vec!["d"; n].join("/");
        let at_limit = format!("{}/ok.txt", folders(MAX_PATH_DEPTH - 1));
        let too_deep = format!("{}/deep.txt", folders(MAX_PATH_DEPTH));
        for path in [&at_limit, &too_deep] {
            let file = root.join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, "x").unwrap();
        }
        let project = ProjectDir::open(root).unwrap();
        let files = project.load_all().unwrap();
        let paths: Vec<&str> = files.keys().map(RelPath::as_str).collect();
        assert_eq!(paths, [at_limit.as_str()]);
    }

    #[test]
    fn durable_write_replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let project = ProjectDir::open(dir.path()).unwrap();
        project.write_durably(&rel("a.txt"), "one").unwrap();
        project.write_durably(&rel("a.txt"), "two").unwrap();
        project
            .write_durably(&rel("new/deep/c.txt"), "three")
            .unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("a.txt")).unwrap(), "two");
        assert_eq!(
            fs::read_to_string(dir.path().join("new/deep/c.txt")).unwrap(),
            "three"
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".room-tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_never_followed_for_writes() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("victim"), "keep").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("victim"), dir.path().join("v.txt"))
            .unwrap();
        let project = ProjectDir::open(dir.path()).unwrap();
        assert!(matches!(
            project.write_durably(&rel("out/victim"), "x"),
            Err(WriteError::NotPlain(_))
        ));
        assert!(matches!(
            project.write_durably(&rel("out/new"), "x"),
            Err(WriteError::NotPlain(_))
        ));
        assert!(matches!(
            project.write_durably(&rel("v.txt"), "x"),
            Err(WriteError::NotPlain(_))
        ));
        assert_eq!(
            fs::read_to_string(outside.path().join("victim")).unwrap(),
            "keep"
        );
        assert!(!outside.path().join("new").exists());
        assert_eq!(project.read(&rel("out/victim")).unwrap(), None);
    }

    #[test]
    fn temporary_files_left_by_a_crash_are_removed_at_start_only() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("src")).unwrap();
        fs::write(dir.path().join("src/a.rs"), "a").unwrap();
        let leftovers = [".room-tmp-AAAAAAAAAAAA", "src/.room-tmp-BBBBBBBBBBBB"];
        for leftover in leftovers {
            fs::write(dir.path().join(leftover), "half a write").unwrap();
        }
        let project = ProjectDir::open(dir.path()).unwrap();
        // While the hub runs, a temporary file may be a write in progress.
        project.read_all().unwrap();
        assert!(leftovers.iter().all(|l| dir.path().join(l).exists()));
        let files = project.load_all().unwrap();
        assert_eq!(
            files.keys().map(RelPath::as_str).collect::<Vec<_>>(),
            ["src/a.rs"]
        );
        for leftover in leftovers {
            assert!(
                !dir.path().join(leftover).exists(),
                "{leftover} is still there"
            );
        }
        assert!(dir.path().join("src/a.rs").exists());
    }

    #[test]
    fn a_failed_write_leaves_no_new_folders_behind() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("kept")).unwrap();
        let project = ProjectDir::open(dir.path()).unwrap();
        // The folders can be made, but no file system takes a 300-byte name.
        let too_long = format!("kept/new/deeper/{}.txt", "n".repeat(300));
        let err = project.write_durably(&rel(&too_long), "x").unwrap_err();
        assert!(matches!(err, WriteError::Io(_)), "{err}");
        assert!(
            dir.path().join("kept").is_dir(),
            "a folder that was there stays"
        );
        assert!(
            !dir.path().join("kept/new").exists(),
            "new folders are removed"
        );
        let names: Vec<_> = fs::read_dir(dir.path().join("kept")).unwrap().collect();
        assert!(names.is_empty(), "no temporary file either");
    }

    #[test]
    fn read_changed_reads_the_paths_and_what_is_under_folders() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        fs::write(dir.path().join("a/b/c.txt"), "c").unwrap();
        fs::write(dir.path().join("a/d.txt"), "d").unwrap();
        fs::write(dir.path().join("e.txt"), "e").unwrap();
        fs::write(dir.path().join("untouched.txt"), "u").unwrap();
        let project = ProjectDir::open(dir.path()).unwrap();
        let asked: BTreeSet<RelPath> = ["a", "e.txt", "gone.txt"].into_iter().map(rel).collect();
        let found = project.read_changed(&asked).unwrap();
        let paths: Vec<&str> = found.keys().map(RelPath::as_str).collect();
        assert_eq!(paths, ["a/b/c.txt", "a/d.txt", "e.txt"]);
    }

    #[test]
    fn relative_maps_back_only_room_paths() {
        let dir = tempfile::tempdir().unwrap();
        let project = ProjectDir::open(dir.path()).unwrap();
        let root = project.root().to_owned();
        assert_eq!(
            project.relative(&root.join("a/b.txt")),
            Some(rel("a/b.txt"))
        );
        assert_eq!(project.relative(&root.join(".git/x")), None);
        assert_eq!(project.relative(Path::new("/etc/passwd")), None);
        assert_eq!(project.relative(&root), None);
    }
}
