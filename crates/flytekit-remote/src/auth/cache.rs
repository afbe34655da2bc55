//! The token cache of the interactive flows (PKCE, device flow): one JSON file per endpoint in
//! `$XDG_CACHE_HOME/flytekit-rs/tokens/` (default `~/.cache/...`), readable only by its owner.
//!
//! flytekit keeps these tokens in the system keyring; a file works on every machine (servers
//! and CI have no keyring). Delete the file to sign out.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Credentials;
use crate::config::Secret;

#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    /// The metadata key FlyteAdmin wants the token in, so a cached token is sent right away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    header_key: Option<String>,
}

/// The cache file of `endpoint`, when a cache directory can be found.
pub fn path(endpoint: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let name: String = endpoint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Some(
        base.join("flytekit-rs")
            .join("tokens")
            .join(format!("{name}.json")),
    )
}

/// The cached credentials of `endpoint` and the header they go in, if any.
pub(crate) fn load(endpoint: &str) -> Option<(Credentials, Option<String>)> {
    let text = std::fs::read_to_string(path(endpoint)?).ok()?;
    let s: Stored = match serde_json::from_str(&text) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("ignoring the unreadable token cache of {endpoint}: {e}");
            return None;
        }
    };
    let creds = Credentials {
        access_token: Secret::new(s.access_token),
        refresh_token: s.refresh_token.map(Secret::new),
        expires_at: s.expires_at,
    };
    Some((creds, s.header_key))
}

/// Stores `creds` (sent in `header_key`) for `endpoint` (atomically, mode 0600); failures are
/// warnings.
pub(crate) fn store(endpoint: &str, creds: &Credentials, header_key: &str) {
    let Some(path) = path(endpoint) else {
        return;
    };
    let stored = Stored {
        access_token: creds.access_token.expose().to_string(),
        refresh_token: creds.refresh_token.as_ref().map(|s| s.expose().to_string()),
        expires_at: creds.expires_at,
        header_key: Some(header_key.to_string()),
    };
    let write = || -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(std::path::Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = tempfile_in(dir)?;
        std::fs::write(&tmp, serde_json::to_vec(&stored).unwrap_or_default())?;
        std::fs::rename(&tmp, &path)
    };
    if let Err(e) = write() {
        tracing::warn!("cannot cache the token in {}: {e}", path.display());
    }
}

/// Removes the cached credentials of `endpoint`.
pub(crate) fn remove(endpoint: &str) {
    if let Some(p) = path(endpoint) {
        let _ = std::fs::remove_file(p);
    }
}

/// A new empty file in `dir` that only its owner can read.
fn tempfile_in(dir: &std::path::Path) -> std::io::Result<PathBuf> {
    let p = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(&p)?;
    Ok(p)
}
