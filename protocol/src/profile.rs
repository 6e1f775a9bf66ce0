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
    // FNV-1a: tiny, stable across platforms and versions, good enough to
    // spread a handful of peers over eight colours.
    let hash = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    FALLBACK_COLORS[(hash % FALLBACK_COLORS.len() as u64) as usize]
}
