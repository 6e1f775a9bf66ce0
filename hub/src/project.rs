//! The project folder on disk: which files belong to the room, reading them,
//! and writing edits so that a crash never leaves a half-written file.
//!
//! Everything here is blocking file I/O; async callers run it on the
//! blocking pool.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use room_protocol::{is_ignored_name, RelPath, MAX_CONTENT_BYTES, MAX_PATH_DEPTH};

use crate::error::{HubError, WriteError};
use crate::tokens::random_base64url;

/// Most files the room loads; more are left out with a warning, so a huge
/// folder cannot exhaust the hub's memory.
pub const MAX_FILES: usize = 10_000;

/// A project folder, canonicalised at start so every later check compares
/// against the real location.
#[derive(Debug, Clone)]
pub struct ProjectDir {
    root: PathBuf,
}

impl ProjectDir {
    /// Opens `root`, which must be an existing folder.
    pub fn open(root: &Path) -> Result<Self, HubError> {
        let unreadable = |source| HubError::ProjectUnreadable {
            path: root.to_owned(),
            source,
        };
        let root = fs::canonicalize(root).map_err(unreadable)?;
        if !fs::metadata(&root).map_err(unreadable)?.is_dir() {
            return Err(unreadable(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a folder",
            )));
        }
        Ok(Self { root })
    }

    /// The folder's canonical path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The on-disk location of `rel` (not checked for symlinks).
    pub fn join(&self, rel: &RelPath) -> PathBuf {
        rel.components()
            .fold(self.root.clone(), |path, part| path.join(part))
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
    /// a symlink. Sorted by path.
    pub fn load_all(&self) -> Result<BTreeMap<RelPath, String>, HubError> {
        let mut files = BTreeMap::new();
        self.load_under(&self.root, &mut files)
            .map_err(|source| HubError::ProjectUnreadable {
                path: self.root.clone(),
                source,
            })?;
        Ok(files)
    }

    /// Every room file at or below `start` (a folder inside the root).
    pub fn load_under(
        &self,
        start: &Path,
        files: &mut BTreeMap<RelPath, String>,
    ) -> io::Result<()> {
        // Folders below the deepest a room path can reach are not walked.
        let depth_of = |dir: &Path| {
            dir.strip_prefix(&self.root)
                .map_or(0, |r| r.components().count())
        };
        let mut stack = vec![start.to_owned()];
        while let Some(dir) = stack.pop() {
            let depth = depth_of(&dir);
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                // A folder removed while we walk is simply not there.
                Err(e) if e.kind() == io::ErrorKind::NotFound && dir != self.root => continue,
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if is_ignored_name(name) {
                    continue;
                }
                let path = entry.path();
                // file_type() does not follow symlinks: links are skipped.
                let kind = entry.file_type()?;
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
                    if let (Some(rel), Some(content)) =
                        (self.relative(&path), read_room_file(&path)?)
                    {
                        files.insert(rel, content);
                    }
                }
            }
        }
        Ok(())
    }

    /// The room's view of one path now: its content if it is a room file,
    /// `None` if it is absent or not a room file (too big, not UTF-8, a
    /// symlink, under a symlinked folder).
    pub fn read(&self, rel: &RelPath) -> io::Result<Option<String>> {
        match self.plain_location(rel) {
            Ok(Some(path)) => read_room_file(&path),
            Ok(None) | Err(PlainError::NotPlain) => Ok(None),
            Err(PlainError::Io(e)) => Err(e),
        }
    }

    /// Writes `content` to `rel` durably: a temporary file in the same
    /// folder, fsync, rename over the target, fsync the folder. A crash at
    /// any point leaves either the old or the new content, never a mix.
    /// Missing parent folders are created; symlinks are never followed.
    pub fn write_durably(&self, rel: &RelPath, content: &str) -> Result<(), WriteError> {
        let target = match self.plain_location(rel) {
            Ok(Some(existing)) => existing,
            Ok(None) => self.create_parents(rel)?,
            Err(PlainError::NotPlain) => return Err(WriteError::NotPlain(rel.to_string())),
            Err(PlainError::Io(e)) => return Err(e.into()),
        };
        let dir = target.parent().unwrap_or(&self.root);
        // A dot name: the loader and watcher ignore it, and a leftover from
        // a crash never shows up in the room.
        let tmp = dir.join(format!(
            ".room-tmp-{}",
            random_base64url(9).map_err(io::Error::other)?
        ));
        let result = (|| {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            file.write_all(content.as_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, &target)?;
            sync_dir(dir)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        Ok(result?)
    }

    /// Opens `rel` for reading if it is a plain file reached without
    /// symlinks, with its size at the moment of opening.
    pub fn open_plain(&self, rel: &RelPath) -> io::Result<Option<(fs::File, u64)>> {
        match self.plain_location(rel) {
            Ok(Some(path)) => match fs::File::open(&path) {
                Ok(file) => {
                    let size = file.metadata()?.len();
                    Ok(Some((file, size)))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            },
            Ok(None) | Err(PlainError::NotPlain) => Ok(None),
            Err(PlainError::Io(e)) => Err(e),
        }
    }

    /// Removes `rel` from disk, if it is there and plain.
    pub fn remove(&self, rel: &RelPath) -> Result<(), WriteError> {
        match self.plain_location(rel) {
            Ok(Some(path)) => {
                fs::remove_file(&path)?;
                sync_dir(path.parent().unwrap_or(&self.root))?;
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(PlainError::NotPlain) => Err(WriteError::NotPlain(rel.to_string())),
            Err(PlainError::Io(e)) => Err(e.into()),
        }
    }

    /// Walks `rel` from the root without following anything: every folder
    /// on the way must be a real folder and the last component, if it
    /// exists, a regular file. `Ok(None)` when some component is missing.
    fn plain_location(&self, rel: &RelPath) -> Result<Option<PathBuf>, PlainError> {
        let mut path = self.root.clone();
        let parts: Vec<&str> = rel.components().collect();
        for (i, part) in parts.iter().enumerate() {
            path.push(part);
            let last = i + 1 == parts.len();
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => return Err(PlainError::NotPlain),
                Ok(meta) if !last && !meta.is_dir() => return Err(PlainError::NotPlain),
                Ok(meta) if last && !meta.is_file() => return Err(PlainError::NotPlain),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(PlainError::Io(e)),
            }
        }
        Ok(Some(path))
    }

    /// Creates the folders on the way to `rel`, refusing to pass through
    /// anything but real folders, and returns the target's location.
    fn create_parents(&self, rel: &RelPath) -> Result<PathBuf, WriteError> {
        let mut path = self.root.clone();
        let parts: Vec<&str> = rel.components().collect();
        let (file_name, folders) = parts.split_last().unwrap_or((&"", &[]));
        for part in folders {
            path.push(part);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() && !meta.file_type().is_symlink() => {}
                Ok(_) => return Err(WriteError::NotPlain(rel.to_string())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&path)?,
                Err(e) => return Err(e.into()),
            }
        }
        path.push(file_name);
        Ok(path)
    }
}

enum PlainError {
    NotPlain,
    Io(io::Error),
}

/// Reads a file if it qualifies as a room file: at most
/// [`MAX_CONTENT_BYTES`] and valid UTF-8.
fn read_room_file(path: &Path) -> io::Result<Option<String>> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !meta.is_file() || meta.len() > MAX_CONTENT_BYTES as u64 {
        return Ok(None);
    }
    match fs::read(path) {
        Ok(bytes) if bytes.len() <= MAX_CONTENT_BYTES => Ok(String::from_utf8(bytes).ok()),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    // Makes the rename itself durable. Opening a folder for reading is
    // allowed on Unix; elsewhere this is a no-op.
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
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
