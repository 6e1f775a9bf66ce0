//! The project folder on disk: which files belong to the room, reading them,
//! and writing edits so that a crash never leaves a half-written file.
//!
//! Every read and write goes through folder handles opened one component at
//! a time from the root without following symlinks (`cap-std`, with
//! `open_dir_nofollow`), and the file itself is opened with no-follow
//! semantics in the handle of its folder. So a folder swapped for a symlink
//! mid-edit cannot send a write, or a read, outside the project: the
//! handle keeps pointing at the folder that was checked. Walking the folder
//! is this module's job alone, and so is reading its ignore files (through
//! the same handles) into the [`IgnoreRules`] that the walk, single reads,
//! writes and the watcher all ask.
//!
//! Everything here is blocking file I/O; async callers run it on the
//! blocking pool.

use std::collections::BTreeSet;
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use cap_fs_ext::{DirExt as _, FollowSymlinks, OpenOptionsFollowExt as _};
use cap_std::fs::{Dir, File, OpenOptions};
use room_protocol::{RelPath, MAX_CONTENT_BYTES, MAX_PATH_DEPTH};

use crate::error::{HubError, WriteError};
use crate::ignore_rules::{IgnoreRules, SkippedLines, EXCLUDE_FILE, RULE_FILES};
use crate::tokens::random_base64url;

/// Most files a room holds unless the host says otherwise (`--max-files`).
/// Past it, the rest are left out, counted, and the page and the log say
/// so: a huge folder cannot exhaust the hub's memory, and nothing is
/// dropped silently.
pub const DEFAULT_FILE_LIMIT: usize = 200_000;

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
    /// The folder's ignore files as last read; every walk of a folder
    /// reads that folder's again.
    rules: Arc<RwLock<IgnoreRules>>,
    /// Most files a walk returns; see [`DEFAULT_FILE_LIMIT`].
    file_limit: usize,
}

/// What a walk hands each room file it reads to: the caller keeps what it
/// needs (a hash, the content) and the walk holds nothing.
pub type FileSink<'a> = &'a mut dyn FnMut(RelPath, String);

/// What a walk found besides the files it handed over.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Walked {
    /// Files handed over.
    pub files: usize,
    /// Room files found past the file limit, counted and not read.
    pub left_out: usize,
}

/// What a change the watcher saw touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// A path that may be a room file or hold some.
    Path(RelPath),
    /// An ignore file of this folder (a room path, or "" for the root and
    /// `.git/info/exclude`): everything at or below it must be looked at
    /// again under the new rules.
    Rules(String),
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
            rules: Arc::default(),
            file_limit: DEFAULT_FILE_LIMIT,
        })
    }

    /// The same folder with another file limit (the default is
    /// [`DEFAULT_FILE_LIMIT`]).
    pub fn with_file_limit(mut self, limit: usize) -> Self {
        self.file_limit = limit;
        self
    }

    /// Most files the room holds.
    pub fn file_limit(&self) -> usize {
        self.file_limit
    }

    /// Whether the project's rules leave `rel` out of the room (as a file),
    /// by its own name or pattern or through a folder above it.
    pub fn leaves_out(&self, rel: &RelPath) -> bool {
        self.rules().leaves_out(rel.as_str(), false)
    }

    fn rules(&self) -> std::sync::RwLockReadGuard<'_, IgnoreRules> {
        // A panic while the rules were being replaced leaves whole rules
        // (each folder's are swapped in one insert): still usable.
        self.rules.read().unwrap_or_else(|e| e.into_inner())
    }

    fn rules_mut(&self) -> std::sync::RwLockWriteGuard<'_, IgnoreRules> {
        self.rules.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The folder's canonical path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What an absolute path the watcher reports touches: a room path, an
    /// ignore file's folder, or nothing the room cares about.
    pub fn touched(&self, abs: &Path) -> Option<Touched> {
        let rest = abs.strip_prefix(&self.root).ok()?;
        let parts: Vec<&str> = rest
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect::<Option<_>>()?;
        if parts == EXCLUDE_FILE {
            return Some(Touched::Rules(String::new()));
        }
        let (name, folders) = parts.split_last()?;
        if RULE_FILES.contains(name) {
            let folder = folders.join("/");
            // The root's, or a folder that is a room path.
            let valid = folders.is_empty() || RelPath::parse(&folder).is_ok();
            return valid.then_some(Touched::Rules(folder));
        }
        RelPath::parse(&parts.join("/")).ok().map(Touched::Path)
    }

    /// Every file that belongs to the room: regular UTF-8 files up to
    /// [`MAX_CONTENT_BYTES`], not left out by a name or an ignore file, not
    /// reached through a symlink, at most [`MAX_PATH_DEPTH`] components
    /// deep, up to the file limit (the rest are counted). Called at start,
    /// it also removes the temporary files a crash left behind
    /// ([`TEMP_PREFIX`]).
    pub fn load_all(&self, sink: FileSink<'_>) -> Result<Walked, HubError> {
        self.walk_all(sink, Leftovers::Remove)
            .map_err(|source| HubError::ProjectUnreadable {
                path: self.root.clone(),
                source,
            })
    }

    /// Every room file now, by the rules of [`Self::load_all`], for a
    /// rescan while the hub runs (temporary files are left alone: a write
    /// may be in progress). The ignore files are read again.
    pub fn read_all(&self, sink: FileSink<'_>) -> io::Result<Walked> {
        self.walk_all(sink, Leftovers::Keep)
    }

    fn walk_all(&self, sink: FileSink<'_>, leftovers: Leftovers) -> io::Result<Walked> {
        let exclude = self.read_exclude()?;
        let skipped = self.rules_mut().set_exclude(exclude.as_deref());
        log_skipped(".git/info/exclude", skipped);
        let mut walked = Walked::default();
        self.walk("", sink, &mut walked, leftovers)?;
        Ok(walked)
    }

    /// The room files at `paths` now: each path that is a room file, and
    /// every room file under each path that is a folder (whose ignore files
    /// are read again). A path that is missing or not a room file is simply
    /// not in the result.
    pub fn read_changed(
        &self,
        paths: &BTreeSet<RelPath>,
        sink: FileSink<'_>,
    ) -> io::Result<Walked> {
        let mut walked = Walked::default();
        for path in paths {
            let components: Vec<&str> = path.components().collect();
            if self.folder_to_read(&components)?.is_some() {
                if !self.rules().leaves_out(path.as_str(), true) {
                    self.walk(path.as_str(), sink, &mut walked, Leftovers::Keep)?;
                }
            } else if let Some(content) = self.read(path)? {
                walked.files += 1;
                sink(path.clone(), content);
            }
        }
        Ok(walked)
    }

    /// The room's view of one path now: its content if it is a room file,
    /// `None` if it is absent or not a room file (left out by the rules,
    /// too big, not UTF-8, a symlink, under a symlinked folder).
    pub fn read(&self, rel: &RelPath) -> io::Result<Option<String>> {
        if self.leaves_out(rel) {
            return Ok(None);
        }
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
    /// fails; symlinks are never followed. A path the rules leave out is
    /// refused: the room never writes a file it would not show.
    pub fn write_durably(&self, rel: &RelPath, content: &str) -> Result<(), WriteError> {
        if self.leaves_out(rel) {
            return Err(WriteError::LeftOut(rel.to_string()));
        }
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
    /// path, or `""` for the root, itself not left out) into `walked`,
    /// reading the ignore files of each folder it enters first. A folder's
    /// files come before its subfolders, each in name order, so which files
    /// a limit leaves out does not depend on the order the file system
    /// lists them in.
    fn walk(
        &self,
        start: &str,
        sink: FileSink<'_>,
        walked: &mut Walked,
        leftovers: Leftovers,
    ) -> io::Result<()> {
        // Rules of folders that are gone must not linger; those still there
        // are read again below.
        self.rules_mut().forget_below(start);
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
            let texts = RULE_FILES.map(|name| read_room_file(&folder, name));
            let [ignore, gitignore] = texts;
            let (ignore, gitignore) = (ignore?, gitignore?);
            let skipped = self
                .rules_mut()
                .set_folder(&prefix, [ignore.as_deref(), gitignore.as_deref()]);
            log_skipped(&prefix, skipped);
            let mut entries = Vec::new();
            for entry in folder.entries()? {
                let entry = entry?;
                // file_type() does not follow symlinks: links are skipped.
                let kind = entry.file_type()?;
                if let Ok(name) = entry.file_name().into_string() {
                    entries.push((name, kind));
                }
            }
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let mut folders = Vec::new();
            let rules = self.rules();
            for (name, kind) in entries {
                if leftovers == Leftovers::Remove && kind.is_file() && name.starts_with(TEMP_PREFIX)
                {
                    remove_leftover(&folder, &name, &prefix);
                    continue;
                }
                let path = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}/{name}")
                };
                if rules.leaves_out_entry(&path, kind.is_dir()) {
                    continue;
                }
                if kind.is_dir() {
                    // A file in it would have depth + 2 components.
                    if depth + 2 <= MAX_PATH_DEPTH {
                        folders.push(path);
                    }
                } else if kind.is_file() {
                    let Ok(rel) = RelPath::parse(&path) else {
                        continue;
                    };
                    if walked.files >= self.file_limit {
                        walked.left_out += 1;
                    } else if let Some(content) = read_room_file(&folder, &name)? {
                        walked.files += 1;
                        sink(rel, content);
                    }
                }
            }
            drop(rules);
            // Popped in name order.
            stack.extend(folders.into_iter().rev());
        }
        Ok(())
    }

    /// The text of the root's `.git/info/exclude`, if there is one.
    fn read_exclude(&self) -> io::Result<Option<String>> {
        let [folders @ .., name] = EXCLUDE_FILE;
        match self.folder_to_read(&folders)? {
            Some(folder) => read_room_file(&folder, name),
            None => Ok(None),
        }
    }
}

/// Removes a temporary file a crash left in `folder`.
fn remove_leftover(folder: &Dir, name: &str, prefix: &str) {
    match folder.remove_file(name) {
        Ok(()) => tracing::info!(folder = %prefix, "removed a temporary file left by a crash"),
        Err(e) => {
            tracing::warn!(folder = %prefix, error = %e, "could not remove a temporary file left by a crash")
        }
    }
}

/// Says in the log that an ignore file has lines that are not patterns.
fn log_skipped(folder: &str, skipped: SkippedLines) {
    if skipped.0 > 0 {
        tracing::warn!(
            folder = %if folder.is_empty() { "." } else { folder },
            lines = skipped.0,
            "an ignore file has lines that are not valid patterns; they are skipped"
        );
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
    use std::collections::BTreeMap;
    use std::fs;

    use super::*;

    fn rel(s: &str) -> RelPath {
        RelPath::parse(s).unwrap()
    }

    type Files = BTreeMap<RelPath, String>;

    fn load(project: &ProjectDir) -> (Files, Walked) {
        let mut files = Files::new();
        let walked = project
            .load_all(&mut |path, content| {
                files.insert(path, content);
            })
            .unwrap();
        assert_eq!(walked.files, files.len());
        (files, walked)
    }

    fn changed(project: &ProjectDir, paths: &BTreeSet<RelPath>) -> (Files, Walked) {
        let mut files = Files::new();
        let walked = project
            .read_changed(paths, &mut |path, content| {
                files.insert(path, content);
            })
            .unwrap();
        (files, walked)
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
        let files = load(&project).0;
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
        let files = load(&project).0;
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
        project.read_all(&mut |_, _| {}).unwrap();
        assert!(leftovers.iter().all(|l| dir.path().join(l).exists()));
        let files = load(&project).0;
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
        let found = changed(&project, &asked).0;
        let paths: Vec<&str> = found.keys().map(RelPath::as_str).collect();
        assert_eq!(paths, ["a/b/c.txt", "a/d.txt", "e.txt"]);
    }

    #[test]
    fn touched_maps_back_room_paths_and_ignore_files() {
        let dir = tempfile::tempdir().unwrap();
        let project = ProjectDir::open(dir.path()).unwrap();
        let root = project.root().to_owned();
        let touched = |p: &Path| project.touched(p);
        assert_eq!(
            touched(&root.join("a/b.txt")),
            Some(Touched::Path(rel("a/b.txt")))
        );
        assert_eq!(touched(&root.join(".git/x")), None);
        assert_eq!(touched(Path::new("/etc/passwd")), None);
        assert_eq!(touched(&root), None);
        assert_eq!(
            touched(&root.join(".gitignore")),
            Some(Touched::Rules(String::new()))
        );
        assert_eq!(
            touched(&root.join("web/app/.ignore")),
            Some(Touched::Rules("web/app".into()))
        );
        assert_eq!(
            touched(&root.join(".git/info/exclude")),
            Some(Touched::Rules(String::new()))
        );
        assert_eq!(touched(&root.join("node_modules/x/.gitignore")), None);
    }

    /// Writes `files` (path, content) under `root`, making folders.
    fn write_all(root: &Path, files: &[(&str, &str)]) {
        for (path, content) in files {
            let file = root.join(path);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(file, content).unwrap();
        }
    }

    fn paths(files: &Files) -> Vec<&str> {
        files.keys().map(RelPath::as_str).collect()
    }

    #[test]
    fn the_walk_follows_gitignore_at_every_level_ignore_and_exclude() {
        let dir = tempfile::tempdir().unwrap();
        write_all(
            dir.path(),
            &[
                (".gitignore", "*.log\n/dist/\nvenv/\n!keep.log\n"),
                (".git/info/exclude", "scratch.txt\n"),
                ("src/main.rs", "fn main() {}"),
                ("src/debug.log", "x"),
                ("keep.log", "kept by a negation"),
                ("dist/app.js", "x"),
                ("src/dist/kept.js", "/dist/ is anchored"),
                ("venv/lib/site.py", "x"),
                ("scratch.txt", "x"),
                ("web/.gitignore", "build/\n!*.log\n"),
                ("web/build/out.js", "x"),
                ("web/trace.log", "a deeper negation wins"),
                ("gen/.ignore", "*.rs\n"),
                ("gen/.gitignore", "!*.rs\n"),
                ("gen/out.rs", ".ignore wins over .gitignore"),
                ("gen/notes.md", "x"),
            ],
        );
        let project = ProjectDir::open(dir.path()).unwrap();
        let (files, walked) = load(&project);
        assert_eq!(
            paths(&files),
            [
                "gen/notes.md",
                "keep.log",
                "src/dist/kept.js",
                "src/main.rs",
                "web/trace.log"
            ]
        );
        assert_eq!(walked.left_out, 0);
        // Single reads and writes ask the same rules.
        assert_eq!(project.read(&rel("src/debug.log")).unwrap(), None);
        assert_eq!(project.read(&rel("venv/lib/site.py")).unwrap(), None);
        assert!(matches!(
            project.write_durably(&rel("venv/new.py"), "x"),
            Err(WriteError::LeftOut(_))
        ));
        assert!(!dir.path().join("venv/new.py").exists());
    }

    #[test]
    fn a_changed_ignore_file_is_read_again_by_the_next_walk_of_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        write_all(
            dir.path(),
            &[
                ("web/.gitignore", "*.js\n"),
                ("web/a.js", "a"),
                ("web/b.css", "b"),
                ("web/old/.gitignore", "*\n"),
                ("web/old/c.txt", "c"),
            ],
        );
        let project = ProjectDir::open(dir.path()).unwrap();
        assert_eq!(paths(&load(&project).0), ["web/b.css"]);
        fs::write(dir.path().join("web/.gitignore"), "*.css\n").unwrap();
        fs::remove_dir_all(dir.path().join("web/old")).unwrap();
        fs::create_dir(dir.path().join("web/old")).unwrap();
        fs::write(dir.path().join("web/old/c.txt"), "c").unwrap();
        let asked: BTreeSet<RelPath> = [rel("web")].into();
        let (files, _) = changed(&project, &asked);
        assert_eq!(paths(&files), ["web/a.js", "web/old/c.txt"]);
        assert_eq!(project.read(&rel("web/b.css")).unwrap(), None);
    }

    #[test]
    fn past_the_file_limit_files_are_counted_not_read_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        write_all(
            dir.path(),
            &[
                ("b/2.txt", "x"),
                ("a/1.txt", "x"),
                ("c.txt", "x"),
                ("a/0.txt", "x"),
                ("ignored.log", "x"),
                (".gitignore", "*.log\n"),
            ],
        );
        let project = ProjectDir::open(dir.path()).unwrap().with_file_limit(2);
        let (files, walked) = load(&project);
        // A folder's own files come before its subfolders', names in order.
        assert_eq!(paths(&files), ["a/0.txt", "c.txt"]);
        assert_eq!(
            walked.left_out, 2,
            "a/1.txt and b/2.txt; not the ignored file"
        );
    }
}
