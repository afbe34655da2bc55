//! Where flytekit-rs keeps things between runs, and an on-disk cache of content-addressed
//! objects: bounded, least recently used first out, safe under concurrent processes.
//!
//! The directory is `$FLYTEKIT_CACHE_DIR`, else `$XDG_CACHE_HOME/flytekit-rs`, else
//! `~/.cache/flytekit-rs`: the local engine's cache and downloaded instance payloads live there.

use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha2::{Digest, Sha256};

/// Environment variable that moves the cache directory (tests use a fresh temporary one).
pub const CACHE_DIR_ENV: &str = "FLYTEKIT_CACHE_DIR";

/// The default cache directory (see the module docs).
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("flytekit-rs");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("flytekit-rs"),
        None => std::env::temp_dir().join("flytekit-rs-cache"),
    }
}

/// The hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// An on-disk cache of objects keyed by their SHA-256: `<dir>/sha256-<hex>`.
///
/// Only verified content is written, under a temporary name that is renamed into place, so
/// concurrent readers never see a partial file; a cached file is verified again when read, and a
/// corrupt one is removed. The cache is bounded: after a write, the least recently used objects
/// are removed until the directory holds at most `max_bytes` (a hit counts as a use). A reader
/// that loses its file to eviction simply misses.
#[derive(Clone, Debug)]
pub struct DigestCache {
    dir: PathBuf,
    max_bytes: u64,
}

impl DigestCache {
    /// A cache in `dir` holding at most `max_bytes`.
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> Self {
        Self {
            dir: dir.into(),
            max_bytes,
        }
    }

    /// The same cache with another bound (the object just written always stays).
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the object with digest `sha256` is kept.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("sha256-{sha256}"))
    }

    /// The cached object with digest `sha256`, verified; `None` when absent or corrupt (a
    /// corrupt file is removed).
    pub async fn get(&self, sha256: &str) -> Option<Bytes> {
        let path = self.path(sha256);
        match tokio::fs::read(&path).await {
            Ok(data) => {
                if sha256_hex(&data) == sha256 {
                    touch(&path);
                    return Some(Bytes::from(data));
                }
                tracing::warn!(
                    "cached {} does not match its digest; removing it",
                    path.display()
                );
                let _ = tokio::fs::remove_file(&path).await;
                None
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                tracing::warn!("cannot read the cache file {}: {e}", path.display());
                None
            }
        }
    }

    /// Keeps `data`, whose digest the caller verified to be `sha256`, then trims the cache to its
    /// bound.
    pub async fn put(&self, sha256: &str, data: &Bytes) -> std::io::Result<()> {
        let dir = self.dir.clone();
        let path = self.path(sha256);
        let data = data.clone();
        let max = self.max_bytes;
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let mut tmp = tempfile::Builder::new()
                .prefix(".download-")
                .tempfile_in(&dir)?;
            tmp.write_all(&data)?;
            tmp.as_file().sync_all()?;
            tmp.persist(&path).map_err(|e| e.error)?;
            evict(&dir, max, &path)
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

/// Marks a cached object as just used (best effort).
fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

/// Removes the least recently used objects of `dir` (by modification time) until the objects
/// take at most `max_bytes`; `keep` is never removed.
fn evict(dir: &Path, max_bytes: u64, keep: &Path) -> std::io::Result<()> {
    let mut objects = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_name().to_string_lossy().starts_with("sha256-") {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let used = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        objects.push((used, meta.len(), entry.path()));
    }
    let mut total: u64 = objects.iter().map(|(_, len, _)| len).sum();
    objects.sort();
    for (_, len, path) in objects {
        if total <= max_bytes {
            break;
        }
        if path == keep {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                tracing::info!("evicted {} ({len} bytes) from the cache", path.display());
                total -= len;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => total -= len,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
