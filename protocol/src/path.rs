//! Paths from the wire.
//!
//! A path is never trusted: it must be a plain relative path made of normal
//! components before the hub even looks at the file system. The same rule
//! decides which files on disk belong to the room, so a client can never
//! address a file the room does not show (`.git/config`, `target/…`).

use std::fmt;

use crate::error::PathError;
use crate::limits::{MAX_PATH_BYTES, MAX_PATH_DEPTH};

/// Folder and file names the room never shows, besides every name starting
/// with a dot.
pub const IGNORED_NAMES: &[&str] = &["target", "node_modules"];

/// A validated project path: relative, `/`-separated, every component a
/// normal, visible name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(String);

impl RelPath {
    /// Validates `raw`; see [`PathError`] for the reasons it can fail.
    pub fn parse(raw: &str) -> Result<Self, PathError> {
        if raw.is_empty() {
            return Err(PathError::Empty);
        }
        if raw.len() > MAX_PATH_BYTES {
            return Err(PathError::TooLong {
                max: MAX_PATH_BYTES,
            });
        }
        if raw.starts_with('/') || has_drive_prefix(raw) {
            return Err(PathError::Absolute);
        }
        // A backslash is a separator on Windows, a colon starts a drive or
        // an alternate data stream, and NUL ends a C string early: each can
        // make the OS see a different path than the one validated here.
        if raw.chars().any(|c| c == '\\' || c == ':' || c.is_control()) {
            return Err(PathError::ForbiddenCharacter);
        }
        if raw.split('/').count() > MAX_PATH_DEPTH {
            return Err(PathError::TooDeep {
                max: MAX_PATH_DEPTH,
            });
        }
        for component in raw.split('/') {
            if component.is_empty() || component == "." || component == ".." {
                return Err(PathError::NotNormal);
            }
            if is_ignored_name(component) {
                return Err(PathError::Ignored);
            }
        }
        Ok(Self(raw.to_owned()))
    }

    /// The path as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path's components, outermost first.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a file or folder name is left out of the room: dotfiles (which
/// include `.git` and the hub's own temporary files) and [`IGNORED_NAMES`].
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.') || IGNORED_NAMES.contains(&name)
}

fn has_drive_prefix(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}
