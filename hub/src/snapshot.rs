//! Signed snapshot downloads: `GET /rooms/{id}/snapshot.tar?exp=…&sig=…`.
//!
//! The link is signed with a token (HMAC-SHA256): the hub signs one for a
//! page that asks with its token in a header (`POST …/snapshot-link`), so
//! the token never appears in the URL, and the browser streams the tar to
//! disk. The hub streams it too: the `tar` crate
//! writes one file at a time into a small pipe, never the whole archive in
//! memory.

use std::io::{self, Read as _, Write};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use room_protocol::{snapshot_signing_message, RelPath, MAX_SNAPSHOT_LINK_SECONDS};
use sha2::Sha256;
use tokio::io::DuplexStream;
use tokio_util::io::SyncIoBridge;

use crate::error::HttpError;
use crate::project::ProjectDir;
use crate::room::Room;

/// Bytes buffered between the tar writer and the HTTP body.
const PIPE_BYTES: usize = 64 * 1024;

/// Checks `sig` (hex) over the room's signing message with each token, in
/// constant time, then `exp` against the clock: not past, and not further
/// ahead than [`MAX_SNAPSHOT_LINK_SECONDS`].
pub fn verify_link(room: &Room, exp: u64, sig_hex: &str, now_secs: u64) -> Result<(), HttpError> {
    let Some(sig) = decode_hex(sig_hex) else {
        return Err(HttpError::LinkBadSignature);
    };
    let message = snapshot_signing_message(room.id(), exp);
    let valid = room.secrets().tokens().any(|token| {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(token.expose().as_bytes()) else {
            return false;
        };
        mac.update(message.as_bytes());
        mac.verify_slice(&sig).is_ok()
    });
    if !valid {
        Err(HttpError::LinkBadSignature)
    } else if exp < now_secs {
        Err(HttpError::LinkExpired)
    } else if exp - now_secs > MAX_SNAPSHOT_LINK_SECONDS {
        Err(HttpError::LinkTooLong)
    } else {
        Ok(())
    }
}

/// `hex(HMAC-SHA256(key, message))`: what a client computes for a link.
pub fn sign_hex(key: &str, message: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key length");
    mac.update(message.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Starts writing the room's tar into a pipe and returns the reading end.
pub fn stream_tar(room: Arc<Room>) -> DuplexStream {
    let (reader, writer) = tokio::io::duplex(PIPE_BYTES);
    tokio::spawn(async move {
        let paths = room.file_paths().await;
        let project = room.project().clone();
        // The tar crate writes synchronously; the bridge blocks this
        // blocking-pool thread, never the runtime, while the pipe is full.
        let out = SyncIoBridge::new(writer);
        let written = tokio::task::spawn_blocking(move || write_tar(&project, &paths, out)).await;
        if let Ok(Err(e)) = written {
            // The client went away or a file vanished mid-way; the archive
            // ends early and the browser reports a failed download.
            tracing::debug!(error = %e, "snapshot stream ended early");
        }
    });
    reader
}

/// Writes every plain file among `paths` into a tar on `out`. Paths longer
/// than a tar header holds get a GNU long-name entry, so none is left out.
fn write_tar(project: &ProjectDir, paths: &[RelPath], out: impl Write) -> io::Result<()> {
    let mtime = now_secs();
    let mut tar = tar::Builder::new(out);
    for path in paths {
        let Some((file, size)) = project.open_plain(path)? else {
            continue;
        };
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        // Exactly `size` bytes: a file that shrank since it was measured is
        // padded with zeros, so the archive stays well-formed.
        let data = file.take(size).chain(io::repeat(0)).take(size);
        tar.append_data(&mut header, path.as_str(), data)?;
    }
    let mut out = tar.into_inner()?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decoding_accepts_only_64_hex_digits() {
        assert_eq!(decode_hex(&"ab".repeat(32)).unwrap().len(), 32);
        assert!(decode_hex("abc").is_none());
        assert!(decode_hex(&"zz".repeat(32)).is_none());
        assert!(decode_hex(&"é".repeat(32)).is_none());
    }

    #[test]
    fn signatures_match_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
