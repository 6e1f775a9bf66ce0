//! Signed snapshot downloads: `GET /rooms/{id}/snapshot.tar?exp=…&sig=…`.
//!
//! The link is signed in the browser with the token the page already holds
//! (Web Crypto HMAC-SHA256), so the token never appears in the URL, and the
//! browser streams the tar to disk. The hub streams it too: one file at a
//! time through a small pipe, never the whole archive in memory.

use std::io;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use room_protocol::{snapshot_signing_message, RelPath};
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, DuplexStream};

use crate::room::Room;

/// Bytes buffered between the tar writer and the HTTP body.
const PIPE_BYTES: usize = 64 * 1024;

/// Why a signed link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// `exp` is in the past.
    Expired,
    /// The signature does not match either token.
    BadSignature,
}

/// Checks `sig` (hex) over the room's signing message with each token, in
/// constant time, and `exp` against the clock.
pub fn verify_link(room: &Room, exp: u64, sig_hex: &str, now_secs: u64) -> Result<(), LinkError> {
    let Some(sig) = decode_hex(sig_hex) else {
        return Err(LinkError::BadSignature);
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
        Err(LinkError::BadSignature)
    } else if exp < now_secs {
        Err(LinkError::Expired)
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
    let (reader, mut writer) = tokio::io::duplex(PIPE_BYTES);
    tokio::spawn(async move {
        if let Err(e) = write_tar(&room, &mut writer).await {
            // The client went away or a file vanished mid-way; the archive
            // ends early and the browser reports a failed download.
            tracing::debug!(error = %e, "snapshot stream ended early");
        }
    });
    reader
}

async fn write_tar(room: &Room, out: &mut DuplexStream) -> io::Result<()> {
    let mtime = now_secs();
    for path in room.file_paths().await {
        let Some((file, size)) = open_plain(room, &path).await? else {
            continue;
        };
        let mut header = tar::Header::new_ustar();
        if header.set_path(path.as_str()).is_err() {
            tracing::warn!(path = %path, "path too long for a tar entry; left out of the snapshot");
            continue;
        }
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        out.write_all(header.as_bytes()).await?;
        let copied = tokio::io::copy(&mut file.take(size), out).await?;
        // A file that shrank since we measured it is padded, so the archive
        // stays well-formed.
        let padding = (size - copied) + (512 - size % 512) % 512;
        write_zeros(out, padding).await?;
    }
    write_zeros(out, 1024).await?;
    out.shutdown().await
}

async fn open_plain(
    room: &Room,
    path: &RelPath,
) -> io::Result<Option<(impl AsyncRead + Unpin, u64)>> {
    let project = room.project().clone();
    let path = path.clone();
    let opened = tokio::task::spawn_blocking(move || project.open_plain(&path))
        .await
        .map_err(io::Error::other)??;
    Ok(opened.map(|(file, size)| (tokio::fs::File::from_std(file), size)))
}

async fn write_zeros(out: &mut DuplexStream, mut n: u64) -> io::Result<()> {
    let zeros = [0_u8; 512];
    while n > 0 {
        let chunk = n.min(512) as usize;
        out.write_all(&zeros[..chunk]).await?;
        n -= chunk as u64;
    }
    Ok(())
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
