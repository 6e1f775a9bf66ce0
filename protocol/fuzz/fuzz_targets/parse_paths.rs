//! Any path from the wire: parsing never panics, and an accepted path is
//! always plain: relative, no `..` or `.`, no backslash, colon or control
//! character, no hidden component.
#![no_main]

use libfuzzer_sys::fuzz_target;
use room_protocol::{is_ignored_name, RelPath};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(path) = RelPath::parse(text) {
        let s = path.as_str();
        assert!(!s.starts_with('/'));
        assert!(!s.contains('\\') && !s.contains(':') && !s.chars().any(char::is_control));
        for component in path.components() {
            assert!(!component.is_empty() && component != "." && component != "..");
            assert!(!is_ignored_name(component));
        }
    }
});
