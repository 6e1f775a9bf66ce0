//! The file list as a tree: which rows show, given the room's paths, the
//! folders the person opened or closed, and what they typed in the Find
//! box. Pure; the default UI renders only the rows in view.
//!
//! Paths come in byte order, so each folder's files are one contiguous run
//! and a closed folder is skipped in one pass. Siblings keep that order:
//! `a.txt` comes before the folder `a/` (`.` sorts before `/`).

/// One row of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow<'a> {
    /// The folder's or file's path.
    pub path: &'a str,
    /// Its last component.
    pub name: &'a str,
    /// How many folders hold it.
    pub depth: usize,
    /// A folder (open or not) or a file.
    pub kind: RowKind,
}

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A folder, showing its contents or not.
    Folder {
        /// Whether its contents show.
        open: bool,
    },
    /// A file.
    File,
}

/// Which folders are open: all or none by default, and the ones the
/// person flipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folders {
    /// Whether a folder nobody flipped is open.
    pub open_by_default: bool,
    /// A list, not a set: a person flips a handful of folders, and a set
    /// type of its own would add kilobytes to the bundle.
    flipped: Vec<String>,
}

/// Rooms with at most this many files start with every folder open; larger
/// ones start closed, so a repository's tree starts short.
pub const OPEN_ALL_UP_TO: usize = 200;

impl Folders {
    /// Every folder open, or every folder closed.
    pub fn new(open_by_default: bool) -> Self {
        Self {
            open_by_default,
            flipped: Vec::new(),
        }
    }

    /// Whether `folder` shows its contents.
    pub fn is_open(&self, folder: &str) -> bool {
        self.open_by_default != self.flipped.iter().any(|f| f == folder)
    }

    /// Opens a closed folder, closes an open one.
    pub fn toggle(&mut self, folder: &str) {
        match self.flipped.iter().position(|f| f == folder) {
            Some(at) => {
                self.flipped.swap_remove(at);
            }
            None => self.flipped.push(folder.to_owned()),
        }
    }

    /// Opens every folder that holds `path`, so it shows.
    pub fn reveal(&mut self, path: &str) {
        for (i, _) in path.match_indices('/') {
            let folder = &path[..i];
            if !self.is_open(folder) {
                self.toggle(folder);
            }
        }
    }
}

/// What the tree shows besides the files: the folders the person opened or
/// closed (`None` until they do), the Find box's text, and the part of the
/// list in view. One value, so the component keeps one piece of state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeView {
    /// The person's folders; `None`: the room's default.
    pub chosen: Option<Folders>,
    /// What is typed in the Find box.
    pub query: String,
    /// How far the list is scrolled, in CSS pixels.
    pub scroll_top: usize,
    /// The list's visible height, in CSS pixels (800 until measured).
    pub viewport: usize,
    /// The open file whose folders were last opened for it.
    revealed: Option<String>,
}

impl Default for TreeView {
    fn default() -> Self {
        Self {
            chosen: None,
            query: String::new(),
            scroll_top: 0,
            viewport: 800,
            revealed: None,
        }
    }
}

impl TreeView {
    /// The folders in effect for a room of `files` files: the person's, or
    /// every one open in a small room and closed in a large one.
    pub fn folders(&self, files: usize) -> Folders {
        self.chosen
            .clone()
            .unwrap_or_else(|| Folders::new(files <= OPEN_ALL_UP_TO))
    }

    /// Opens or closes `folder`.
    pub fn toggle(&mut self, folder: &str, files: usize) {
        let mut folders = self.folders(files);
        folders.toggle(folder);
        self.chosen = Some(folders);
    }

    /// Shows the open file: the first time `open` is the open file, opens
    /// the folders that hold it (later, the person may close them again).
    pub fn follow(&mut self, open: Option<&str>, files: usize) {
        if self.revealed.as_deref() != open {
            self.revealed = open.map(str::to_owned);
            if let Some(path) = open {
                self.reveal(path, files);
            }
        }
    }

    /// Opens the folders that hold `path`; whether any was closed.
    pub fn reveal(&mut self, path: &str, files: usize) -> bool {
        let before = self.folders(files);
        let mut folders = before.clone();
        folders.reveal(path);
        let changed = folders != before;
        if changed {
            self.chosen = Some(folders);
        }
        changed
    }
}

/// Whether `path` matches the Find box's `query`: every word of it is
/// somewhere in the path, ASCII letters in any case. (Full Unicode case
/// folding would add its tables, kilobytes, to the bundle.)
pub fn matches(path: &str, query: &str) -> bool {
    // Compared byte window by byte window: no lowered copy of each of a
    // hundred thousand paths, and no substring searcher in the bundle.
    let path = path.as_bytes();
    query.split_whitespace().all(|word| {
        path.windows(word.len())
            .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
    })
}

/// The rows that show, in order. With a `query`, only the files that match
/// and the folders that hold them (open, whatever the person chose);
/// without, every file and folder not inside a closed folder.
pub fn visible_rows<'a>(paths: &[&'a str], folders: &Folders, query: &str) -> Vec<TreeRow<'a>> {
    let finding = !query.trim().is_empty();
    let mut rows = Vec::new();
    // The folders of the previous row that shows, outermost first.
    let mut shown: Vec<&'a str> = Vec::new();
    let mut closed: Option<&'a str> = None;
    for &path in paths {
        if finding && !matches(path, query) {
            continue;
        }
        if let Some(folder) = closed {
            if is_inside(path, folder) {
                continue;
            }
            closed = None;
        }
        let components: Vec<(usize, &'a str)> = folder_ends(path).collect();
        // Folders shared with the previous row stay; the rest are new.
        let common = shown
            .iter()
            .zip(&components)
            .take_while(|(shown, (end, _))| **shown == &path[..*end])
            .count();
        shown.truncate(common);
        let mut hidden = false;
        for &(end, name) in &components[common..] {
            let folder = &path[..end];
            let open = finding || folders.is_open(folder);
            rows.push(TreeRow {
                path: folder,
                name,
                depth: shown.len(),
                kind: RowKind::Folder { open },
            });
            shown.push(folder);
            if !open {
                closed = Some(folder);
                hidden = true;
                break;
            }
        }
        if hidden {
            continue;
        }
        rows.push(TreeRow {
            path,
            name: path.rfind('/').map_or(path, |slash| &path[slash + 1..]),
            depth: shown.len(),
            kind: RowKind::File,
        });
    }
    rows
}

/// Each folder of `path`: the byte offset where its path ends, and its
/// name.
fn folder_ends(path: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    path.match_indices('/').map(move |(end, _)| {
        let name = &path[start..end];
        start = end + 1;
        (end, name)
    })
}

/// Whether `path` is inside `folder`.
fn is_inside(path: &str, folder: &str) -> bool {
    path.len() > folder.len() && path.starts_with(folder) && path.as_bytes()[folder.len()] == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHS: [&str; 6] = [
        "README.md",
        "docs/guide.md",
        "src/a.rs",
        "src/net/socket.rs",
        "src/net/tls.rs",
        "src/z.rs",
    ];

    fn shown(rows: &[TreeRow<'_>]) -> Vec<String> {
        rows.iter()
            .map(|row| {
                let mark = match row.kind {
                    RowKind::Folder { open: true } => "v ",
                    RowKind::Folder { open: false } => "> ",
                    RowKind::File => "",
                };
                format!("{}{mark}{}", "  ".repeat(row.depth), row.name)
            })
            .collect()
    }

    #[test]
    fn open_folders_show_their_files_beneath_them() {
        let rows = visible_rows(&PATHS, &Folders::new(true), "");
        assert_eq!(
            shown(&rows),
            [
                "README.md",
                "v docs",
                "  guide.md",
                "v src",
                "  a.rs",
                "  v net",
                "    socket.rs",
                "    tls.rs",
                "  z.rs"
            ]
        );
        assert_eq!(rows[5].path, "src/net");
        assert_eq!(rows[6].path, "src/net/socket.rs");
    }

    #[test]
    fn a_closed_folder_hides_everything_inside_it() {
        let mut folders = Folders::new(true);
        folders.toggle("src/net");
        let rows = visible_rows(&PATHS, &folders, "");
        assert_eq!(shown(&rows)[3..], ["v src", "  a.rs", "  > net", "  z.rs"]);
        let closed = visible_rows(&PATHS, &Folders::new(false), "");
        assert_eq!(shown(&closed), ["README.md", "> docs", "> src"]);
    }

    #[test]
    fn revealing_a_file_opens_exactly_its_folders() {
        let mut folders = Folders::new(false);
        folders.reveal("src/net/tls.rs");
        assert!(folders.is_open("src") && folders.is_open("src/net"));
        assert!(!folders.is_open("docs"));
        folders.reveal("src/net/tls.rs");
        assert!(folders.is_open("src/net"), "revealing twice keeps it open");
        let rows = visible_rows(&PATHS, &folders, "");
        assert!(rows.iter().any(|r| r.path == "src/net/tls.rs"));
    }

    #[test]
    fn finding_narrows_to_matching_files_and_the_folders_that_hold_them() {
        let rows = visible_rows(&PATHS, &Folders::new(false), "NET s");
        assert_eq!(
            shown(&rows),
            ["v src", "  v net", "    socket.rs", "    tls.rs"]
        );
        let rows = visible_rows(&PATHS, &Folders::new(false), "sock");
        assert_eq!(rows.last().map(|r| r.path), Some("src/net/socket.rs"));
        assert!(visible_rows(&PATHS, &Folders::new(true), "nothing").is_empty());
    }

    #[test]
    fn a_folder_name_that_is_a_prefix_of_another_is_not_confused_with_it() {
        let paths = ["a/x", "ab/y"];
        let mut folders = Folders::new(true);
        folders.toggle("a");
        assert_eq!(
            shown(&visible_rows(&paths, &folders, "")),
            ["> a", "v ab", "  y"]
        );
    }

    #[test]
    fn a_hundred_thousand_paths_make_a_short_tree_when_closed() {
        let paths: Vec<String> = (0..100_000)
            .map(|i| format!("m{}/p{}/f{i}.rs", i / 10_000, (i / 100) % 100))
            .collect();
        let mut sorted: Vec<&str> = paths.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        let rows = visible_rows(&sorted, &Folders::new(false), "");
        assert_eq!(rows.len(), 10);
        let found = visible_rows(&sorted, &Folders::new(false), "f99999.rs");
        assert_eq!(found.len(), 3);
    }

    #[test]
    fn a_view_starts_from_the_rooms_default_and_keeps_the_persons_choices() {
        let mut view = TreeView::default();
        assert!(view.folders(OPEN_ALL_UP_TO).is_open("src"));
        assert!(!view.folders(OPEN_ALL_UP_TO + 1).is_open("src"));
        view.toggle("src", OPEN_ALL_UP_TO + 1);
        assert!(view.folders(OPEN_ALL_UP_TO + 1).is_open("src"));
        // Revealing a file inside open folders changes nothing.
        assert!(!view.reveal("src/main.rs", OPEN_ALL_UP_TO + 1));
        assert!(view.reveal("docs/deep/a.md", OPEN_ALL_UP_TO + 1));
        let folders = view.folders(OPEN_ALL_UP_TO + 1);
        assert!(folders.is_open("docs") && folders.is_open("docs/deep"));
        assert!(!folders.is_open("tests"));
    }

    #[test]
    fn the_open_file_shows_once_and_its_folder_may_be_closed_after() {
        let large = OPEN_ALL_UP_TO + 1;
        let mut view = TreeView::default();
        view.follow(Some("src/net/tls.rs"), large);
        assert!(view.folders(large).is_open("src/net"));
        view.toggle("src/net", large);
        view.follow(Some("src/net/tls.rs"), large);
        assert!(
            !view.folders(large).is_open("src/net"),
            "the person closed it"
        );
        view.follow(Some("docs/guide.md"), large);
        assert!(view.folders(large).is_open("docs"));
    }
}
