//! Cleaning up what peers say about themselves.

use crate::frames::PeerProfile;
use crate::limits::MAX_PEER_NAME_CHARS;

/// Colours given to peers that did not choose a valid one, picked by a
/// stable hash of the peer id so a peer keeps its colour across reconnects.
pub const FALLBACK_COLORS: &[&str] = &[
    "#4c6ef5", "#12b886", "#f59f00", "#e64980", "#7950f2", "#15aabf", "#82c91e", "#fd7e14",
];

impl PeerProfile {
    /// The profile as the hub shows it to others: the name trimmed of
    /// whitespace and control characters and cut to
    /// [`MAX_PEER_NAME_CHARS`] (or `fallback_name` if nothing is left), and
    /// the colour kept only if it is `#rrggbb`.
    pub fn sanitized(&self, fallback_name: &str, fallback_seed: &str) -> PeerProfile {
        let name: String = self
            .name
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>()
            .trim()
            .chars()
            .take(MAX_PEER_NAME_CHARS)
            .collect();
        let name = if name.is_empty() {
            fallback_name.to_owned()
        } else {
            name
        };
        let color = if is_hex_color(&self.color) {
            self.color.to_ascii_lowercase()
        } else {
            fallback_color(fallback_seed).to_owned()
        };
        PeerProfile { name, color }
    }
}

/// Whether `s` is a CSS colour of the form `#rrggbb`.
pub fn is_hex_color(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 7 && b[0] == b'#' && b[1..].iter().all(u8::is_ascii_hexdigit)
}

/// A colour from [`FALLBACK_COLORS`] chosen by a stable hash of `seed`.
pub fn fallback_color(seed: &str) -> &'static str {
    FALLBACK_COLORS[(stable_hash(seed) % FALLBACK_COLORS.len() as u64) as usize]
}

/// The first word of a [`guest_name`].
const GUEST_ADJECTIVES: [&str; 32] = [
    "Amber", "Brave", "Bright", "Calm", "Clever", "Cosy", "Curious", "Daring", "Eager", "Gentle",
    "Golden", "Happy", "Jolly", "Kind", "Lively", "Lucky", "Merry", "Mild", "Nimble", "Patient",
    "Plucky", "Polite", "Quick", "Quiet", "Silver", "Steady", "Sunny", "Swift", "Tidy", "Witty",
    "Wise", "Zesty",
];

/// The second word of a [`guest_name`].
const GUEST_ANIMALS: [&str; 32] = [
    "Badger", "Beaver", "Bison", "Crane", "Dolphin", "Falcon", "Ferret", "Finch", "Fox", "Gecko",
    "Heron", "Ibis", "Koala", "Lemur", "Lynx", "Marten", "Moose", "Newt", "Otter", "Owl", "Panda",
    "Puffin", "Quail", "Raven", "Robin", "Seal", "Stoat", "Swan", "Tapir", "Walrus", "Wombat",
    "Yak",
];

/// The name shown for a person who has not chosen one, from a stable hash
/// of `seed` (the person id every tab of one browser shares): the same
/// person keeps the same name in every tab, over reloads and reconnects.
/// Two words of 32 each: 1,024 names, so two guests in a small room rarely
/// share one.
pub fn guest_name(seed: &str) -> String {
    let hash = stable_hash(seed);
    let adjective = GUEST_ADJECTIVES[(hash % 32) as usize];
    let animal = GUEST_ANIMALS[((hash >> 5) % 32) as usize];
    format!("{adjective} {animal}")
}

/// FNV-1a: tiny, stable across platforms and versions, good enough to
/// spread a handful of peers over a few names and colours.
fn stable_hash(seed: &str) -> u64 {
    seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
