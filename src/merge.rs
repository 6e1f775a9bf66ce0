//! Three-way merge of a draft with a newer version of its file, line by
//! line, through `diffy`'s merge.
//!
//! diffy reports conflicts only as text with conflict markers, and those
//! markers could appear in a file itself. So each distinct line of the
//! three texts is first replaced by its number (`"17\n"`): diffy merges the
//! numbered texts exactly as it would merge the lines (equal lines, equal
//! numbers), and its output has only numbers and markers, which read back
//! without ambiguity. Lines keep their own endings, so CRLF files and a
//! last line without a newline come back byte for byte.
//!
//! Each of the two diffs (base to mine, base to theirs) sets aside the
//! lines its texts share at the start and the end, so a large file with
//! small changes merges as cheaply as a small one. What is left between
//! the first and the last difference is capped at [`MAX_MERGE_LINES`];
//! beyond it, the person chooses a side instead.

use diffy::{ConflictStyle, MergeOptions};
use hashbrown::HashMap;

/// The most lines (of both texts together) that may lie between the first
/// and the last difference of either diff for a merge to be tried. Myers'
/// diff costs up to the square of it.
pub const MAX_MERGE_LINES: usize = 4000;

/// A stretch of a merge.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Chunk {
    /// Text the merge settled: unchanged, or changed on one side only, or
    /// changed the same way on both.
    Agreed(String),
    /// Where both sides changed the same lines differently.
    Conflict {
        /// The draft's lines here.
        mine: String,
        /// The newer version's lines here.
        theirs: String,
    },
}

/// What merging a draft with a newer version gives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Merged {
    /// Both changes apply: the merged text.
    Clean(String),
    /// Some changes overlap: the text in chunks, at least one of them a
    /// [`Chunk::Conflict`].
    Conflicts(Vec<Chunk>),
    /// A changed region is over [`MAX_MERGE_LINES`]: not tried.
    TooLarge,
}

/// Merges the change from `base` to `mine` with the change from `base` to
/// `theirs`.
pub fn merge(base: &str, mine: &str, theirs: &str) -> Merged {
    let mut lines = Lines::default();
    let base = lines.number(base);
    let mine = lines.number(mine);
    let theirs = lines.number(theirs);
    if changed_span(&base, &mine) > MAX_MERGE_LINES
        || changed_span(&base, &theirs) > MAX_MERGE_LINES
    {
        return Merged::TooLarge;
    }
    let merged = MergeOptions::new()
        .set_conflict_style(ConflictStyle::Merge)
        .merge_bytes(&numbered(&base), &numbered(&mine), &numbered(&theirs));
    let clean = merged.is_ok();
    let output = merged.unwrap_or_else(|conflicted| conflicted);
    let mut chunks = Chunks::default();
    chunks.read_diffy_output(&output, &lines);
    if clean {
        Merged::Clean(chunks.into_text())
    } else {
        Merged::Conflicts(chunks.0)
    }
}

/// How many lines of `a` and `b` together lie between their common start
/// and their common end: what the diff of the two has to search (diffy
/// sets the common start and end aside itself, and its search costs up to
/// the square of the rest).
fn changed_span(a: &[u64], b: &[u64]) -> usize {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let shortest = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(shortest)
        .take_while(|(x, y)| x == y)
        .count();
    a.len() + b.len() - 2 * (prefix + suffix)
}

/// Which side a conflict takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Side {
    /// The draft's lines.
    Mine,
    /// The newer version's lines.
    Theirs,
}

/// The text of `chunks` with each conflict settled by the matching entry
/// of `picks` (in order; a conflict without one keeps mine).
pub fn settle(chunks: &[Chunk], picks: &[Side]) -> String {
    let mut picks = picks.iter();
    let mut text = String::new();
    for chunk in chunks {
        match chunk {
            Chunk::Agreed(agreed) => text.push_str(agreed),
            Chunk::Conflict { mine, theirs } => match picks.next() {
                Some(Side::Theirs) => text.push_str(theirs),
                Some(Side::Mine) | None => text.push_str(mine),
            },
        }
    }
    text
}

/// Each distinct line of the texts, numbered in order of appearance.
#[derive(Default)]
struct Lines<'a> {
    numbers: HashMap<&'a str, u64>,
    lines: Vec<&'a str>,
}

impl<'a> Lines<'a> {
    /// `text` as the numbers of its lines (each with its ending).
    fn number(&mut self, text: &'a str) -> Vec<u64> {
        text.split_inclusive('\n')
            .map(|line| {
                *self.numbers.entry(line).or_insert_with(|| {
                    self.lines.push(line);
                    self.lines.len() as u64 - 1
                })
            })
            .collect()
    }

    /// The line numbered by the decimal `digits` (diffy copies lines from
    /// its inputs, which hold only our numbers).
    fn line(&self, digits: &[u8]) -> &'a str {
        let id = digits.iter().fold(0_usize, |id, digit| {
            id.wrapping_mul(10)
                .wrapping_add(usize::from(digit.wrapping_sub(b'0')))
        });
        self.lines.get(id).copied().unwrap_or_default()
    }
}

/// The numbered form of a text diffy merges: one number per line.
fn numbered(ids: &[u64]) -> Vec<u8> {
    let mut text = String::new();
    for id in ids {
        text.push_str(&id.to_string());
        text.push('\n');
    }
    text.into_bytes()
}

/// Chunks as they are read, adjacent agreed text joined.
#[derive(Default)]
struct Chunks(Vec<Chunk>);

impl Chunks {
    fn agreed(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some(Chunk::Agreed(last)) => last.push_str(text),
            _ => self.0.push(Chunk::Agreed(text.to_owned())),
        }
    }

    /// Reads diffy's merge of numbered texts: numbers, and conflicts as
    /// `<<<<<<< ours`, mine, `=======`, theirs, `>>>>>>> theirs`.
    fn read_diffy_output(&mut self, output: &[u8], lines: &Lines<'_>) {
        enum In {
            Agreed,
            Mine,
            Theirs,
        }
        let mut place = In::Agreed;
        let (mut mine, mut theirs) = (String::new(), String::new());
        for line in output.split(|&b| b == b'\n') {
            match line.first() {
                Some(b'<') => place = In::Mine,
                Some(b'=') => place = In::Theirs,
                Some(b'>') => {
                    self.0.push(Chunk::Conflict {
                        mine: std::mem::take(&mut mine),
                        theirs: std::mem::take(&mut theirs),
                    });
                    place = In::Agreed;
                }
                None => {}
                Some(_) => {
                    let text = lines.line(line);
                    match place {
                        In::Agreed => self.agreed(text),
                        In::Mine => mine.push_str(text),
                        In::Theirs => theirs.push_str(text),
                    }
                }
            }
        }
    }

    fn into_text(self) -> String {
        settle(&self.0, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(base: &str, mine: &str, theirs: &str) -> String {
        match merge(base, mine, theirs) {
            Merged::Clean(text) => text,
            other => panic!("expected a clean merge, got {other:?}"),
        }
    }

    fn conflicts(base: &str, mine: &str, theirs: &str) -> Vec<Chunk> {
        match merge(base, mine, theirs) {
            Merged::Conflicts(chunks) => chunks,
            other => panic!("expected conflicts, got {other:?}"),
        }
    }

    fn agreed(text: &str) -> Chunk {
        Chunk::Agreed(text.into())
    }

    fn conflict(mine: &str, theirs: &str) -> Chunk {
        Chunk::Conflict {
            mine: mine.into(),
            theirs: theirs.into(),
        }
    }

    #[test]
    fn changes_to_lines_apart_merge() {
        let base = "a\nb\nc\nd\ne\n";
        assert_eq!(
            clean(base, "A\nb\nc\nd\ne\n", "a\nb\nc\nd\nE\n"),
            "A\nb\nc\nd\nE\n"
        );
    }

    #[test]
    fn changes_to_adjacent_lines_conflict_as_in_git() {
        // diff3 and git treat touching changes as one region.
        let chunks = conflicts("a\nb\nc\nd\n", "a\nB\nc\nd\n", "a\nb\nC\nd\n");
        assert_eq!(
            chunks,
            [agreed("a\n"), conflict("B\nc\n", "b\nC\n"), agreed("d\n")]
        );
    }

    #[test]
    fn different_changes_to_the_same_line_conflict_and_can_be_settled_per_hunk() {
        let base = "one\ntwo\nthree\nfour\nfive\n";
        let chunks = conflicts(
            base,
            "ONE\ntwo\nthree\nfour\nmine\n",
            "uno\ntwo\nthree\nfour\ntheirs\n",
        );
        assert_eq!(
            chunks,
            [
                conflict("ONE\n", "uno\n"),
                agreed("two\nthree\nfour\n"),
                conflict("mine\n", "theirs\n"),
            ]
        );
        assert_eq!(
            settle(&chunks, &[Side::Theirs, Side::Mine]),
            "uno\ntwo\nthree\nfour\nmine\n"
        );
        assert_eq!(settle(&chunks, &[]), "ONE\ntwo\nthree\nfour\nmine\n");
    }

    #[test]
    fn the_same_change_on_both_sides_is_no_conflict() {
        assert_eq!(clean("a\nb\n", "a\nB\n", "a\nB\n"), "a\nB\n");
    }

    #[test]
    fn a_deletion_against_an_edit_of_the_same_line_conflicts() {
        let chunks = conflicts("a\nb\nc\n", "a\nc\n", "a\nB\nc\n");
        assert_eq!(chunks, [agreed("a\n"), conflict("", "B\n"), agreed("c\n")]);
    }

    #[test]
    fn a_deletion_merges_with_an_edit_elsewhere() {
        assert_eq!(
            clean("a\nb\nc\nd\ne\n", "a\nc\nd\ne\n", "a\nb\nc\nd\nE\n"),
            "a\nc\nd\nE\n"
        );
    }

    #[test]
    fn a_last_line_without_a_newline_comes_back_as_it_was() {
        assert_eq!(clean("a\nb\nc", "A\nb\nc", "a\nb\nC"), "A\nb\nC");
        // Adding a newline at the end is a change of the last line.
        assert_eq!(clean("a\nb\nc", "A\nb\nc", "a\nb\nc\n"), "A\nb\nc\n");
        let chunks = conflicts("a\nb", "a\nmine", "a\ntheirs");
        assert_eq!(chunks, [agreed("a\n"), conflict("mine", "theirs")]);
    }

    #[test]
    fn crlf_line_endings_are_kept() {
        assert_eq!(
            clean(
                "a\r\nb\r\nc\r\nd\r\n",
                "A\r\nb\r\nc\r\nd\r\n",
                "a\r\nb\r\nc\r\nD\r\n"
            ),
            "A\r\nb\r\nc\r\nD\r\n"
        );
    }

    #[test]
    fn a_file_both_created_merges_when_equal_and_conflicts_otherwise() {
        assert_eq!(clean("", "same\n", "same\n"), "same\n");
        assert_eq!(
            conflicts("", "mine\n", "theirs\n"),
            [conflict("mine\n", "theirs\n")]
        );
        assert_eq!(clean("", "", "theirs\n"), "theirs\n");
    }

    #[test]
    fn conflict_markers_in_the_files_are_only_text() {
        let base = "<<<<<<< ours\n=======\n>>>>>>> theirs\nx\n";
        let mine = "<<<<<<< ours\n=======\n>>>>>>> theirs\nmine\n";
        let theirs = "<<<<<<< ours\n=======\n>>>>>>> theirs\ntheirs\n";
        assert_eq!(
            conflicts(base, mine, theirs),
            [
                agreed("<<<<<<< ours\n=======\n>>>>>>> theirs\n"),
                conflict("mine\n", "theirs\n")
            ]
        );
    }

    #[test]
    fn a_large_file_with_small_changes_merges() {
        let base: String = (0..100_000).map(|i| format!("line {i}\n")).collect();
        let mine = base.replacen("line 10\n", "mine 10\n", 1);
        let theirs = base.replacen("line 99990\n", "theirs 99990\n", 1);
        let both = mine.replacen("line 99990\n", "theirs 99990\n", 1);
        assert_eq!(clean(&base, &mine, &theirs), both);
    }

    #[test]
    fn a_changed_region_over_the_cap_is_not_tried() {
        let half = MAX_MERGE_LINES / 2;
        let lines =
            |n: usize, tag: &str| -> String { (0..n).map(|i| format!("{tag}{i}\n")).collect() };
        // Every line changed: base and mine together span the cap + 2.
        let (base, mine) = (lines(half + 1, ""), lines(half + 1, "m"));
        assert_eq!(merge(&base, &mine, &base), Merged::TooLarge);
        assert_eq!(merge(&base, &base, &mine), Merged::TooLarge);
        // At the cap it is tried, even between unchanged lines around it.
        let (base, mine) = (lines(half, ""), lines(half, "m"));
        let around = lines(50_000, "x");
        let base = format!("{around}{base}{around}");
        let mine = format!("{around}{mine}{around}");
        assert!(matches!(merge(&base, &mine, &base), Merged::Clean(text) if text == mine));
    }

    #[test]
    fn nothing_changed_on_one_side_gives_the_other() {
        let base = "a\nb\n";
        assert_eq!(clean(base, base, "a\nB\n"), "a\nB\n");
        assert_eq!(clean(base, "A\nb\n", base), "A\nb\n");
    }
}
