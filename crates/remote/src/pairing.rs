//! The paired server: its id, its addresses and the token, in `server.json` in the app's
//! config folder, readable by the user alone (0600).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::{Api, ApiError, ServerStatus};

/// What pairing stores.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pairing {
    /// The server's own id (`/api/v1/status`): two addresses with one id are one server.
    pub server_id: String,
    /// Every address the server was paired by, the first added first.
    pub urls: Vec<String>,
    pub token: String,
}

impl std::fmt::Debug for Pairing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("Pairing")
            .field("server_id", &self.server_id)
            .field("urls", &self.urls)
            .finish()
    }
}

/// Why pairing failed, in words for the Settings dialog.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    #[error("“{0}” is not a server address (it should look like http://192.168.1.20:4533)")]
    BadUrl(String),
    #[error("the token is empty")]
    NoToken,
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error("a different server ({0}) is already paired: unpair it first")]
    OtherServer(String),
    #[error("cannot save the pairing in {path}: {source}")]
    Save {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Normalizes what a user typed into a base URL: `host:port` gets `http://`, a trailing
/// slash goes.
pub fn normalize_url(input: &str) -> Result<String, PairError> {
    let trimmed = input.trim();
    let trimmed = match trimmed.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.trim_end_matches('/')),
        None => trimmed.trim_end_matches('/').to_owned(),
    };
    if trimmed.is_empty() || trimmed.contains(char::is_whitespace) {
        return Err(PairError::BadUrl(input.trim().to_owned()));
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed
    } else {
        format!("http://{trimmed}")
    };
    let (scheme, rest) = with_scheme
        .split_once("://")
        .ok_or_else(|| PairError::BadUrl(input.trim().to_owned()))?;
    if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.starts_with('/') {
        return Err(PairError::BadUrl(input.trim().to_owned()));
    }
    Ok(with_scheme)
}

/// Checks `url` + `token` against the server's status endpoint, and returns the pairing to
/// store: `existing` with this address added when it is the same server (a LAN and a WAN
/// address), a new one when nothing is paired.
pub async fn pair(
    existing: Option<&Pairing>,
    url: &str,
    token: &str,
) -> Result<(Pairing, ServerStatus), PairError> {
    let url = normalize_url(url)?;
    let token = token.trim();
    if token.is_empty() {
        return Err(PairError::NoToken);
    }
    let api = Api::new(std::slice::from_ref(&url), token)?;
    let status = api.status().await?;
    let pairing = match existing {
        Some(p) if p.server_id == status.server_id => {
            let mut p = p.clone();
            if !p.urls.contains(&url) {
                p.urls.push(url);
            }
            // The token that just worked is the one to keep.
            p.token = token.to_owned();
            p
        }
        Some(p) => return Err(PairError::OtherServer(p.server_id.clone())),
        None => Pairing {
            server_id: status.server_id.clone(),
            urls: vec![url],
            token: token.to_owned(),
        },
    };
    Ok((pairing, status))
}

/// `server.json`: the stored pairing.
#[derive(Debug, Clone)]
pub struct PairingFile {
    path: PathBuf,
}

impl PairingFile {
    pub fn new(config_dir: &Path) -> PairingFile {
        PairingFile {
            path: config_dir.join("server.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored pairing; `Ok(None)` when there is none. A file that does not parse is an
    /// error (the caller says so and runs unpaired), never silently replaced.
    pub fn load(&self) -> Result<Option<Pairing>, String> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{} is not a pairing: {e}", self.path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", self.path.display())),
        }
    }

    /// Writes the pairing atomically, readable and writable by the user alone.
    pub fn save(&self, pairing: &Pairing) -> Result<(), PairError> {
        let save = || -> std::io::Result<()> {
            let dir = self.path.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)?;
            let tmp = self.path.with_extension("json.tmp");
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp)?;
            // A file left from before with wider permissions is narrowed too.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            file.write_all(&serde_json::to_vec_pretty(pairing).map_err(std::io::Error::other)?)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        save().map_err(|source| PairError::Save {
            path: self.path.clone(),
            source,
        })
    }

    /// Unpairs: the file goes.
    pub fn remove(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn typed_addresses_become_base_urls() {
        assert_eq!(
            normalize_url("192.168.1.2:4533/").unwrap(),
            "http://192.168.1.2:4533"
        );
        assert_eq!(
            normalize_url(" https://music.example.org ").unwrap(),
            "https://music.example.org"
        );
        assert_eq!(normalize_url("[::1]:4533").unwrap(), "http://[::1]:4533");
        assert!(normalize_url("").is_err());
        assert!(normalize_url("ftp://x").is_err());
        assert!(normalize_url("http://").is_err());
        assert!(normalize_url("two words").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_pairing_is_saved_for_the_user_alone_and_removed_on_unpair() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = PairingFile::new(dir.path());
        assert_eq!(file.load().unwrap(), None);
        let pairing = Pairing {
            server_id: "abc".into(),
            urls: vec!["http://127.0.0.1:1".into()],
            token: "secret".into(),
        };
        file.save(&pairing).unwrap();
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(file.load().unwrap(), Some(pairing.clone()));
        assert!(!format!("{pairing:?}").contains("secret"));
        file.remove().unwrap();
        assert_eq!(file.load().unwrap(), None);
        file.remove().unwrap();
        std::fs::write(file.path(), b"{not json").unwrap();
        assert!(file.load().is_err());
    }
}
