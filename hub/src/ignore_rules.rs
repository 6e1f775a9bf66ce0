//! Which paths of the project folder the room leaves out, by the folder's
//! own ignore files: `.gitignore` and `.ignore` at every level, and
//! `.git/info/exclude` at the root, with git's rules (negations, folder-only
//! patterns, anchoring) as ripgrep's `ignore` crate implements them. The
//! name rules every room has (dot names, `target`, `node_modules`) come
//! first and cannot be negated.
//!
//! This is the pure part: it holds the parsed rules and answers questions.
//! Reading the rule files (through the folder's no-follow handles) is
//! [`crate::project`]'s job; the walk and the watcher ask the same rules.
//!
//! Precedence follows ripgrep: a `.ignore` match wins over a `.gitignore`
//! match, which wins over `.git/info/exclude`; within each kind the
//! deepest folder's file that matches decides, and within one file the last
//! matching line. As in git, nothing under an ignored folder comes back,
//! whatever a deeper negation says. Unlike ripgrep's default, `.gitignore`
//! applies without a `.git` folder too: a shared folder that is not a
//! repository still means what its `.gitignore` says.

use std::collections::HashMap;
use std::fmt;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use room_protocol::is_ignored_name;

/// The names of the per-folder rule files, most important first.
pub const RULE_FILES: [&str; 2] = [".ignore", ".gitignore"];

/// The root's exclude file, as components below the root.
pub const EXCLUDE_FILE: [&str; 3] = [".git", "info", "exclude"];

/// The ignore rules of one project folder tree.
#[derive(Default)]
pub struct IgnoreRules {
    /// Each folder that has rule files ("" for the root), with one matcher
    /// per [`RULE_FILES`] entry, in the same order.
    folders: HashMap<String, [Gitignore; 2]>,
    /// `.git/info/exclude`.
    exclude: Option<Gitignore>,
}

impl fmt::Debug for IgnoreRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IgnoreRules")
            .field("folders", &self.folders.len())
            .field("exclude", &self.exclude.is_some())
            .finish()
    }
}

/// A rule file's text that could not all be used: the lines that are not
/// valid patterns are skipped, and the walk says so in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLines(pub usize);

impl IgnoreRules {
    /// Sets the rules of `folder` ("" for the root) from the texts of its
    /// [`RULE_FILES`] (`None` where a file is absent), replacing what it had.
    /// Returns how many lines were not valid patterns.
    pub fn set_folder(&mut self, folder: &str, texts: [Option<&str>; 2]) -> SkippedLines {
        let mut skipped = 0;
        if texts.iter().all(Option::is_none) {
            self.folders.remove(folder);
            return SkippedLines(0);
        }
        let matchers = texts.map(|text| {
            let (matcher, bad) = parse(text.unwrap_or_default());
            skipped += bad;
            matcher
        });
        self.folders.insert(folder.to_owned(), matchers);
        SkippedLines(skipped)
    }

    /// Sets the root's `.git/info/exclude` (`None` when absent).
    pub fn set_exclude(&mut self, text: Option<&str>) -> SkippedLines {
        let Some(text) = text else {
            self.exclude = None;
            return SkippedLines(0);
        };
        let (matcher, bad) = parse(text);
        self.exclude = Some(matcher);
        SkippedLines(bad)
    }

    /// Forgets the rules of every folder at or below `folder`, before a
    /// walk of it reads them again (a folder that was removed keeps none).
    pub fn forget_below(&mut self, folder: &str) {
        self.folders
            .retain(|known, _| !is_at_or_under(known, folder));
    }

    /// Whether the entry `path` (room-relative, `/`-separated) is left out,
    /// given that every folder above it is not: what a walk asks of each
    /// entry it meets, top-down.
    pub fn leaves_out_entry(&self, path: &str, is_dir: bool) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        is_ignored_name(name) || self.matched(path, is_dir).is_ignore()
    }

    /// Whether `path` is left out, itself or through any folder above it:
    /// what the watcher and an edit ask of a single path.
    pub fn leaves_out(&self, path: &str, is_dir: bool) -> bool {
        let folders_above = path.match_indices('/').map(|(i, _)| &path[..i]);
        for folder in folders_above {
            if self.leaves_out_entry(folder, true) {
                return true;
            }
        }
        self.leaves_out_entry(path, is_dir)
    }

    /// The decision of the rule files alone for `path`, its folders taken
    /// as not left out.
    fn matched(&self, path: &str, is_dir: bool) -> Match<()> {
        for kind in 0..RULE_FILES.len() {
            // The folders holding `path`, deepest first, down to the root.
            let mut folder = parent(path);
            loop {
                if let Some(matchers) = self.folders.get(folder) {
                    let below = below(folder, path);
                    let found = matchers[kind].matched(below, is_dir);
                    if !found.is_none() {
                        return found.map(|_| ());
                    }
                }
                if folder.is_empty() {
                    break;
                }
                folder = parent(folder);
            }
        }
        match &self.exclude {
            Some(exclude) => exclude.matched(path, is_dir).map(|_| ()),
            None => Match::None,
        }
    }
}

/// Parses a rule file's text; returns the matcher and how many lines were
/// not valid patterns (they are skipped, as git does).
fn parse(text: &str) -> (Gitignore, usize) {
    // Root "." strips nothing: paths are always given relative to the
    // folder that holds the file.
    let mut builder = GitignoreBuilder::new(".");
    let mut bad = 0;
    for line in text.lines() {
        if builder.add_line(None, line).is_err() {
            bad += 1;
        }
    }
    match builder.build() {
        Ok(matcher) => (matcher, bad),
        // Every line parsed alone, so this is not expected; ignoring
        // nothing keeps every file in the room rather than losing some.
        Err(_) => (Gitignore::empty(), text.lines().count()),
    }
}

/// The folder holding `path` ("" for a top-level entry).
fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// `path` relative to `folder`, which holds it.
fn below<'a>(folder: &str, path: &'a str) -> &'a str {
    if folder.is_empty() {
        path
    } else {
        &path[folder.len() + 1..]
    }
}

/// Whether `path` is `folder` or inside it ("" holds everything).
pub fn is_at_or_under(path: &str, folder: &str) -> bool {
    folder.is_empty()
        || path == folder
        || (path.starts_with(folder) && path.as_bytes().get(folder.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(folders: &[(&str, &'static str, &'static str)]) -> IgnoreRules {
        let mut rules = IgnoreRules::default();
        for &(folder, ignore, gitignore) in folders {
            let text = |t: &'static str| (!t.is_empty()).then_some(t);
            let texts = [text(ignore), text(gitignore)];
            assert_eq!(rules.set_folder(folder, texts), SkippedLines(0));
        }
        rules
    }

    #[test]
    fn the_names_every_room_leaves_out_come_first() {
        let rules = rules(&[("", "", "!target\n!.env\n")]);
        for path in [".env", "target", "a/node_modules", "a/.git"] {
            assert!(rules.leaves_out_entry(path, true), "{path}");
        }
        assert!(rules.leaves_out("a/target/x.rs", false));
        assert!(!rules.leaves_out("a/b.rs", false));
    }

    #[test]
    fn a_root_gitignore_applies_at_every_depth_and_anchors_with_a_slash() {
        let rules = rules(&[("", "", "*.log\n/build/\nvenv\n")]);
        assert!(rules.leaves_out("app.log", false));
        assert!(rules.leaves_out("deep/er/app.log", false));
        assert!(rules.leaves_out("build/out.js", false));
        assert!(
            !rules.leaves_out("src/build/keep.js", false),
            "/build/ is anchored at the root"
        );
        assert!(
            !rules.leaves_out("build", false),
            "build/ names folders only"
        );
        assert!(rules.leaves_out("py/venv/lib/site.py", false));
        assert!(!rules.leaves_out("src/main.rs", false));
    }

    #[test]
    fn a_nested_gitignore_applies_below_its_folder_only() {
        let rules = rules(&[("", "", "*.tmp\n"), ("web", "", "dist/\n*.map\n")]);
        assert!(rules.leaves_out("web/dist/app.js", false));
        assert!(rules.leaves_out("web/src/app.js.map", false));
        assert!(!rules.leaves_out("dist/app.js", false));
        assert!(!rules.leaves_out("app.js.map", false));
        assert!(
            rules.leaves_out("web/x.tmp", false),
            "the root's rule still holds"
        );
    }

    #[test]
    fn a_negation_brings_a_file_back_and_a_deeper_file_wins() {
        let rules = rules(&[
            ("", "", "*.log\n!keep.log\n"),
            ("logs", "", "!*.log\n"),
            ("quiet", "", "keep.log\n"),
        ]);
        assert!(rules.leaves_out("a.log", false));
        assert!(!rules.leaves_out("keep.log", false));
        assert!(
            !rules.leaves_out("logs/a.log", false),
            "the deeper negation wins"
        );
        assert!(
            rules.leaves_out("quiet/keep.log", false),
            "the deeper rule wins"
        );
    }

    #[test]
    fn nothing_under_an_ignored_folder_comes_back() {
        let rules = rules(&[("", "", "out/\n!out/keep.txt\n")]);
        assert!(rules.leaves_out("out", true));
        assert!(rules.leaves_out("out/keep.txt", false));
    }

    #[test]
    fn dot_ignore_wins_over_gitignore_and_exclude_comes_last() {
        let mut rules = rules(&[("", "!gen.rs\n", "gen.rs\nold.rs\n")]);
        assert_eq!(
            rules.set_exclude(Some("secret.txt\nold.rs\n")),
            SkippedLines(0)
        );
        assert!(
            !rules.leaves_out("gen.rs", false),
            ".ignore's negation wins"
        );
        assert!(rules.leaves_out("old.rs", false));
        assert!(rules.leaves_out("secret.txt", false));
        let mut overruled = IgnoreRules::default();
        overruled.set_folder("", [None, Some("!secret.txt\n")]);
        overruled.set_exclude(Some("secret.txt\n"));
        assert!(
            !overruled.leaves_out("secret.txt", false),
            ".gitignore wins over exclude"
        );
    }

    #[test]
    fn replacing_or_forgetting_a_folders_rules_takes_effect() {
        let mut rules = rules(&[("a", "", "*.txt\n"), ("a/b", "", "*.md\n")]);
        assert!(rules.leaves_out("a/x.txt", false));
        rules.set_folder("a", [None, Some("*.rs\n")]);
        assert!(!rules.leaves_out("a/x.txt", false));
        assert!(rules.leaves_out("a/x.rs", false));
        rules.forget_below("a");
        assert!(!rules.leaves_out("a/x.rs", false));
        assert!(!rules.leaves_out("a/b/y.md", false));
        rules.set_folder("ab", [None, Some("*\n")]);
        rules.forget_below("a");
        assert!(
            rules.leaves_out("ab/z", false),
            "a sibling with a longer name stays"
        );
    }

    #[test]
    fn lines_that_are_not_patterns_are_counted_and_the_rest_still_apply() {
        let mut rules = IgnoreRules::default();
        let skipped = rules.set_folder("", [None, Some("a{b\n*.log\n")]);
        assert_eq!(skipped, SkippedLines(1));
        assert!(rules.leaves_out("x.log", false));
    }
}
