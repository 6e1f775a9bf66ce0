//! A map from paths to values, kept in path order.

use std::fmt;
use std::ops::Index;

/// Values by path, iterated in path order (byte order, like `BTreeMap<String, V>`).
///
/// A sorted `Vec` searched by bisection: a room holds hundreds of files, not
/// millions, and a `BTreeMap` compiles to kilobytes of wasm for each value
/// type (insert, remove, rebalancing, clone), where this is a few hundred
/// bytes. Inserting or removing moves the entries after it; lookups are
/// O(log n).
#[derive(Clone, PartialEq, Eq)]
pub struct PathMap<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for PathMap<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: fmt::Debug> fmt::Debug for PathMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> PathMap<V> {
    /// An empty map.
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    fn find(&self, path: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(p, _)| p.as_str().cmp(path))
    }

    /// The value at `path`.
    pub fn get(&self, path: &str) -> Option<&V> {
        self.find(path).ok().map(|i| &self.entries[i].1)
    }

    /// The value at `path`, to change it.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut V> {
        self.find(path).ok().map(|i| &mut self.entries[i].1)
    }

    /// Whether `path` has a value.
    pub fn contains_key(&self, path: &str) -> bool {
        self.find(path).is_ok()
    }

    /// Sets the value at `path`; returns the one it replaces.
    pub fn insert(&mut self, path: String, value: V) -> Option<V> {
        match self.find(&path) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (path, value));
                None
            }
        }
    }

    /// Removes the value at `path` and returns it.
    pub fn remove(&mut self, path: &str) -> Option<V> {
        self.find(path).ok().map(|i| self.entries.remove(i).1)
    }

    /// Keeps only the entries for which `keep` says yes.
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut V) -> bool) {
        self.entries.retain_mut(|(path, value)| keep(path, value));
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// How many paths have a value.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no path has a value.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in path order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(path, value)| (path, value))
    }

    /// The entries in path order, values to change.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (&String, &mut V)> + ExactSizeIterator {
        self.entries.iter_mut().map(|(path, value)| (&*path, value))
    }

    /// The paths in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.entries.iter().map(|(path, _)| path)
    }

    /// The values in path order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, value)| value)
    }
}

impl<V> Extend<(String, V)> for PathMap<V> {
    fn extend<I: IntoIterator<Item = (String, V)>>(&mut self, entries: I) {
        for (path, value) in entries {
            self.insert(path, value);
        }
    }
}

impl<V> FromIterator<(String, V)> for PathMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(entries: I) -> Self {
        let mut map = Self::new();
        map.extend(entries);
        map
    }
}

impl<V, const N: usize> From<[(String, V); N]> for PathMap<V> {
    fn from(entries: [(String, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<V> IntoIterator for PathMap<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;

    /// The entries in path order.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, V> IntoIterator for &'a PathMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, V)>,
        fn(&'a (String, V)) -> (&'a String, &'a V),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(path, value)| (path, value))
    }
}

impl<V> Index<&str> for PathMap<V> {
    type Output = V;

    /// The value at `path`.
    ///
    /// # Panics
    /// When `path` has none.
    fn index(&self, path: &str) -> &V {
        match self.get(path) {
            Some(value) => value,
            None => panic!("no entry at this path"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PathMap;

    fn paths<V>(map: &PathMap<V>) -> Vec<&str> {
        map.keys().map(String::as_str).collect()
    }

    #[test]
    fn entries_come_out_in_path_order_whatever_order_they_went_in() {
        let mut map = PathMap::new();
        for path in [
            "src/b.rs",
            "README.md",
            "src/a.rs",
            "Cargo.toml",
            "src/a/b.rs",
        ] {
            assert_eq!(map.insert(path.to_owned(), path.len()), None);
        }
        // Byte order, as BTreeMap<String, _> iterates: upper case first,
        // and "src/a.rs" before "src/a/b.rs" since '.' < '/'.
        assert_eq!(
            paths(&map),
            [
                "Cargo.toml",
                "README.md",
                "src/a.rs",
                "src/a/b.rs",
                "src/b.rs"
            ]
        );
        assert_eq!(map.len(), 5);
    }

    #[test]
    fn a_path_has_one_value_and_insert_returns_the_one_it_replaces() {
        let mut map = PathMap::new();
        assert_eq!(map.insert("a".to_owned(), 1), None);
        assert_eq!(map.insert("a".to_owned(), 2), Some(1));
        assert_eq!(map.len(), 1);
        assert_eq!(map.get("a"), Some(&2));
        assert_eq!(map["a"], 2);
        *map.get_mut("a").unwrap() += 1;
        assert_eq!(map.get("a"), Some(&3));
        assert!(map.contains_key("a"));
        assert!(!map.contains_key("b"));
        assert_eq!(map.get("b"), None);
    }

    #[test]
    fn remove_retain_and_clear_keep_the_rest_in_order() {
        let mut map: PathMap<u32> = (0..10).map(|n| (format!("f{n}"), n)).collect();
        assert_eq!(map.remove("f3"), Some(3));
        assert_eq!(map.remove("f3"), None);
        map.retain(|_, n| *n % 2 == 0);
        assert_eq!(paths(&map), ["f0", "f2", "f4", "f6", "f8"]);
        for (_, n) in map.iter_mut() {
            *n *= 10;
        }
        assert_eq!(
            map.values().copied().collect::<Vec<_>>(),
            [0, 20, 40, 60, 80]
        );
        let owned: Vec<(String, u32)> = map.clone().into_iter().collect();
        assert_eq!(owned[1], ("f2".to_owned(), 20));
        map.clear();
        assert!(map.is_empty());
    }

    #[test]
    fn it_agrees_with_a_btree_map_over_a_long_mixed_run() {
        use std::collections::BTreeMap;
        let mut map = PathMap::new();
        let mut model = BTreeMap::new();
        // A small linear congruential generator: the same run every time.
        let mut seed: u32 = 7;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            seed >> 16
        };
        for step in 0..5000 {
            let path = format!("dir{}/file{}", next() % 7, next() % 40);
            match next() % 3 {
                0 | 1 => assert_eq!(map.insert(path.clone(), step), model.insert(path, step)),
                _ => assert_eq!(map.remove(&path), model.remove(&path)),
            }
        }
        let ours: Vec<_> = map.iter().collect();
        let theirs: Vec<_> = model.iter().collect();
        assert_eq!(ours, theirs);
        assert_eq!(format!("{map:?}"), format!("{model:?}"));
    }
}
