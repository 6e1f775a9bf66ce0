//! Minting, persisting and checking room tokens.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use room_protocol::urls::LinkKind;
use room_protocol::{is_valid_room_id, Token};
use serde::{Deserialize, Serialize};

use crate::error::HubError;

/// Bytes of CSPRNG output in a token (base64url makes 32 characters).
pub const TOKEN_BYTES: usize = 24;

/// `n` random bytes from the OS, base64url without padding.
pub fn random_base64url(n: usize) -> Result<String, HubError> {
    let mut buf = vec![0_u8; n];
    getrandom::fill(&mut buf).map_err(|e| HubError::Random(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// A new token: [`TOKEN_BYTES`] bytes from the OS CSPRNG.
pub fn mint_token() -> Result<Token, HubError> {
    random_base64url(TOKEN_BYTES).map(Token::new)
}

/// What a connection may do, decided by its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Holds the host token: edits, and manages the links.
    Host,
    /// Holds the edit token.
    Edit,
    /// Holds the read-only token.
    ReadOnly,
}

impl Access {
    /// Whether its holder may edit files.
    pub fn can_edit(self) -> bool {
        self != Self::ReadOnly
    }
}

impl Access {
    /// The access a token of the link `kind` grants.
    pub fn granted_by(kind: LinkKind) -> Self {
        match kind {
            LinkKind::Edit => Self::Edit,
            LinkKind::View => Self::ReadOnly,
        }
    }
}

/// A room's identity and secrets.
#[derive(Debug, Clone)]
pub struct RoomSecrets {
    /// The room id in URLs.
    pub room_id: String,
    /// The host's: everything an editor may, and managing the links.
    pub host_token: Token,
    /// Lets its holder edit.
    pub edit_token: Token,
    /// Lets its holder watch, if the host asked for one (or turned the
    /// view link on).
    pub read_only_token: Option<Token>,
}

impl RoomSecrets {
    /// Which access `candidate` grants, if any. Every token is always
    /// compared, in constant time, so timing tells nothing about which one
    /// came close.
    pub fn access_for(&self, candidate: &str) -> Option<Access> {
        let host = self.host_token.matches(candidate);
        let edit = self.edit_token.matches(candidate);
        let read_only = self
            .read_only_token
            .as_ref()
            .is_some_and(|t| t.matches(candidate));
        match (host, edit, read_only) {
            (true, _, _) => Some(Access::Host),
            (false, true, _) => Some(Access::Edit),
            (false, false, true) => Some(Access::ReadOnly),
            (false, false, false) => None,
        }
    }

    /// The links a connection with `access` may share, as `welcome` and
    /// `links` give them: the host both, an editor the view-only one, a
    /// viewer none.
    pub fn links_for(&self, access: Access) -> room_protocol::Links {
        let expose = |token: &Token| token.expose().to_owned();
        match access {
            Access::Host => room_protocol::Links {
                edit_token: Some(expose(&self.edit_token)),
                read_only_token: self.read_only_token.as_ref().map(expose),
            },
            Access::Edit => room_protocol::Links {
                edit_token: None,
                read_only_token: self.read_only_token.as_ref().map(expose),
            },
            Access::ReadOnly => room_protocol::Links::default(),
        }
    }

    /// Every token of the room, for checking signatures made with any.
    pub fn tokens(&self) -> impl Iterator<Item = &Token> {
        [&self.host_token, &self.edit_token]
            .into_iter()
            .chain(self.read_only_token.as_ref())
    }

    /// These secrets with a new token for `kind` (`None`: the view link
    /// turned off).
    pub fn with_link(&self, kind: LinkKind, token: Option<Token>) -> Result<Self, HubError> {
        let mut next = self.clone();
        match (kind, token) {
            (LinkKind::Edit, Some(token)) => next.edit_token = token,
            (LinkKind::View, token) => next.read_only_token = token,
            (LinkKind::Edit, None) => return Err(HubError::EditLinkRequired),
        }
        Ok(next)
    }
}

#[derive(Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct TokenFileContent {
    room_id: String,
    /// Absent in files written before host links: minted then, and stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host_token: Option<String>,
    edit_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    read_only_token: Option<String>,
}

/// How the host asked for the room's identity.
#[derive(Debug, Clone, Default)]
pub struct SecretsRequest {
    /// `--room-id`: keep this id.
    pub room_id: Option<String>,
    /// `--token READONLY`: also mint a read-only token.
    pub want_read_only: bool,
    /// `--token-file`: reuse the id and tokens stored here, and store new
    /// ones here.
    pub token_file: Option<PathBuf>,
}

/// Builds the room's secrets: from the token file where it has them, minted
/// where not; then, if that changed anything, writes the file back (mode
/// 0600, atomically) so the next start reuses them.
pub fn load_or_mint(req: &SecretsRequest) -> Result<RoomSecrets, HubError> {
    let stored = match &req.token_file {
        Some(path) if path.exists() => Some(read_token_file(path)?),
        _ => None,
    };
    let room_id = match (&req.room_id, &stored) {
        (Some(id), _) => id.clone(),
        (None, Some(s)) => s.room_id.clone(),
        (None, None) => random_base64url(9)?,
    };
    if !is_valid_room_id(&room_id) {
        return Err(HubError::InvalidRoomId);
    }
    let host_token = match stored.as_ref().and_then(|s| s.host_token.clone()) {
        Some(t) => Token::new(t),
        None => mint_token()?,
    };
    let edit_token = match &stored {
        Some(s) => Token::new(s.edit_token.clone()),
        None => mint_token()?,
    };
    let read_only_token = match stored.as_ref().and_then(|s| s.read_only_token.clone()) {
        Some(t) => Some(Token::new(t)),
        None if req.want_read_only => Some(mint_token()?),
        None => None,
    };
    let secrets = RoomSecrets {
        room_id,
        host_token,
        edit_token,
        read_only_token,
    };
    if let Some(path) = &req.token_file {
        write_token_file(path, &secrets, stored.as_ref())?;
    }
    Ok(secrets)
}

fn read_token_file(path: &Path) -> Result<TokenFileContent, HubError> {
    let fail = |reason: String| HubError::TokenFile {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    // serde's message could quote the file; report only where it failed.
    let content: TokenFileContent = serde_json::from_str(&text)
        .map_err(|e| fail(format!("not valid JSON at line {}", e.line())))?;
    if !room_protocol::is_token_shaped(&content.edit_token)
        || [&content.host_token, &content.read_only_token]
            .into_iter()
            .flatten()
            .any(|t| !room_protocol::is_token_shaped(t))
    {
        return Err(fail("a token is not 16-128 base64url characters".into()));
    }
    Ok(content)
}

/// Stores `secrets` in the token file unless it already holds exactly
/// them. The new content goes to a temporary file beside it (mode 0600),
/// is synced, and is renamed over the old one, so a crash at any moment
/// leaves either the old file or the new one, never a broken one.
/// Stores `secrets` in the token file (mode 0600, atomically): after the
/// host replaced a link, before anyone is told.
pub fn store(path: &Path, secrets: &RoomSecrets) -> Result<(), HubError> {
    write_token_file(path, secrets, None)
}

fn write_token_file(
    path: &Path,
    secrets: &RoomSecrets,
    stored: Option<&TokenFileContent>,
) -> Result<(), HubError> {
    let content = TokenFileContent {
        room_id: secrets.room_id.clone(),
        host_token: Some(secrets.host_token.expose().to_owned()),
        edit_token: secrets.edit_token.expose().to_owned(),
        read_only_token: secrets
            .read_only_token
            .as_ref()
            .map(|t| t.expose().to_owned()),
    };
    if stored == Some(&content) {
        return Ok(());
    }
    let fail = |e: std::io::Error| HubError::TokenFile {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let json = serde_json::to_string_pretty(&content).unwrap_or_default();
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy());
    // One fixed name: a leftover of a crash is simply overwritten next time.
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| {
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        std::io::Write::write_all(&mut file, json.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::File::open(folder)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written.map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_are_24_random_bytes_in_base64url() {
        let a = mint_token().unwrap();
        let b = mint_token().unwrap();
        assert_eq!(a.expose().len(), 32);
        assert!(room_protocol::is_token_shaped(a.expose()));
        assert_ne!(a, b);
    }

    #[test]
    fn access_is_decided_by_which_token_matches() {
        let secrets = RoomSecrets {
            room_id: "r".into(),
            host_token: Token::new("h".repeat(32)),
            edit_token: Token::new("e".repeat(32)),
            read_only_token: Some(Token::new("r".repeat(32))),
        };
        assert_eq!(secrets.access_for(&"h".repeat(32)), Some(Access::Host));
        assert_eq!(secrets.access_for(&"e".repeat(32)), Some(Access::Edit));
        assert_eq!(secrets.access_for(&"r".repeat(32)), Some(Access::ReadOnly));
        assert_eq!(secrets.access_for(&"x".repeat(32)), None);
        assert_eq!(secrets.access_for(""), None);
    }

    #[test]
    fn a_token_file_keeps_id_and_tokens_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tokens.json");
        let req = SecretsRequest {
            room_id: Some("demo".into()),
            want_read_only: true,
            token_file: Some(file.clone()),
        };
        let first = load_or_mint(&req).unwrap();
        let again = load_or_mint(&SecretsRequest {
            room_id: None,
            ..req
        })
        .unwrap();
        assert_eq!(again.room_id, "demo");
        assert_eq!(again.host_token, first.host_token);
        assert_eq!(again.edit_token, first.edit_token);
        assert_eq!(again.read_only_token, first.read_only_token);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "token file must not be readable by others");
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_token_file_is_rewritten_only_when_it_changes_and_then_by_rename() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tokens.json");
        let req = |room_id: &str| SecretsRequest {
            room_id: Some(room_id.into()),
            want_read_only: false,
            token_file: Some(file.clone()),
        };
        load_or_mint(&req("one")).unwrap();
        let first = std::fs::metadata(&file).unwrap();
        load_or_mint(&req("one")).unwrap();
        let same = std::fs::metadata(&file).unwrap();
        assert_eq!(
            (same.ino(), same.mtime_nsec(), same.mtime()),
            (first.ino(), first.mtime_nsec(), first.mtime()),
            "an unchanged start does not touch the file"
        );
        load_or_mint(&req("two")).unwrap();
        let changed = std::fs::metadata(&file).unwrap();
        assert_ne!(
            changed.ino(),
            first.ino(),
            "a change is a new file renamed into place"
        );
        assert_eq!(changed.mode() & 0o077, 0);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
    }

    #[test]
    fn a_broken_token_file_is_reported_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tokens.json");
        std::fs::write(&file, r#"{"roomId":"x","editToken":"SECRET"}"#).unwrap();
        let err = load_or_mint(&SecretsRequest {
            token_file: Some(file),
            ..Default::default()
        })
        .unwrap_err();
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }

    #[test]
    fn invalid_room_ids_are_refused() {
        let err = load_or_mint(&SecretsRequest {
            room_id: Some("../x".into()),
            ..Default::default()
        });
        assert!(matches!(err, Err(HubError::InvalidRoomId)));
    }
}
