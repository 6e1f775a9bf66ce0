//! File contents in the hub's memory: only a byte-bounded cache of them.
//! The room's file table holds each file's size and [`ContentHash`]; a
//! content is read from disk when someone asks for it and the cache does
//! not hold it, and checked against the hash before it is sent, so a file
//! changed on disk behind the room's back is never served under an old
//! revision.

use std::fmt;
use std::sync::Arc;

use lru::LruCache;
use sha2::{Digest, Sha256};

/// Bytes of file content the hub keeps in memory by default
/// ([`ContentCache::new`]'s bound). Past it the least recently used
/// contents are dropped and read from disk again when asked for.
pub const DEFAULT_CONTENT_CACHE_BYTES: usize = 64 << 20;

/// A file content's identity: the first 128 bits of its SHA-256.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash([u8; 16]);

impl ContentHash {
    /// The hash of `content`.
    pub fn of(content: &str) -> Self {
        let digest = Sha256::digest(content.as_bytes());
        let mut first = [0; 16];
        first.copy_from_slice(&digest[..16]);
        Self(first)
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0[..4] {
            write!(f, "{byte:02x}")?;
        }
        f.write_str("…")
    }
}

/// Contents by hash, least recently used dropped first once they hold more
/// than the bound. A content larger than the whole bound is not kept.
#[derive(Debug)]
pub struct ContentCache {
    entries: LruCache<ContentHash, Arc<str>>,
    bytes: usize,
    bound: usize,
}

impl Default for ContentCache {
    /// Bounded by [`DEFAULT_CONTENT_CACHE_BYTES`].
    fn default() -> Self {
        Self::new(DEFAULT_CONTENT_CACHE_BYTES)
    }
}

impl ContentCache {
    /// An empty cache holding at most `bound` bytes of content.
    pub fn new(bound: usize) -> Self {
        Self {
            entries: LruCache::unbounded(),
            bytes: 0,
            bound,
        }
    }

    /// The content with `hash`, if held; it becomes the most recently used.
    pub fn get(&mut self, hash: &ContentHash) -> Option<Arc<str>> {
        self.entries.get(hash).cloned()
    }

    /// Keeps `content` under `hash` (which must be its hash), dropping the
    /// least recently used contents until the bound holds again.
    pub fn put(&mut self, hash: ContentHash, content: Arc<str>) {
        if content.len() > self.bound {
            return;
        }
        self.bytes += content.len();
        if let Some(old) = self.entries.put(hash, content) {
            self.bytes -= old.len();
        }
        while self.bytes > self.bound {
            match self.entries.pop_lru() {
                Some((_, dropped)) => self.bytes -= dropped.len(),
                None => break,
            }
        }
    }

    /// Bytes of content held now.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(cache: &mut ContentCache, text: &str) -> ContentHash {
        let hash = ContentHash::of(text);
        cache.put(hash, text.into());
        hash
    }

    #[test]
    fn the_hash_tells_contents_apart_and_is_stable() {
        assert_eq!(ContentHash::of("a"), ContentHash::of("a"));
        assert_ne!(ContentHash::of("a"), ContentHash::of("b"));
        assert_eq!(format!("{:?}", ContentHash::of("")), "e3b0c442…");
    }

    #[test]
    fn the_least_recently_used_go_first_and_the_bound_always_holds() {
        let mut cache = ContentCache::new(10);
        let a = put(&mut cache, "aaaa");
        let b = put(&mut cache, "bbbb");
        assert!(cache.get(&a).is_some(), "a is now the most recent");
        let c = put(&mut cache, "cccc");
        assert_eq!(cache.bytes(), 8);
        assert!(cache.get(&b).is_none(), "b was the least recently used");
        assert_eq!(cache.get(&a).as_deref(), Some("aaaa"));
        assert_eq!(cache.get(&c).as_deref(), Some("cccc"));
        put(&mut cache, "the whole bound and more");
        assert_eq!(cache.bytes(), 8, "too large to keep at all");
        put(&mut cache, "aaaa");
        assert_eq!(cache.bytes(), 8, "the same content counts once");
    }
}
