//! The on-disk cache of downloaded payloads, keyed and verified by digest.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::InstanceError;
use super::codec::{sha256_hex, valid_sha256};
use crate::disk_cache::{DigestCache, default_cache_dir};
use crate::storage::{Storage, StorageError};

/// Whether a fetched object came from the cache or the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// Read from the on-disk cache (verified).
    Cache,
    /// Downloaded (verified, then cached).
    Download,
}

/// Downloaded payloads, on disk and keyed by digest: a hit is verified again,
/// a corrupt file is replaced by a fresh download, and failing to write the cache is not an error
/// (the load goes on without it).
#[derive(Clone, Debug)]
pub struct PayloadCache {
    cache: DigestCache,
}

/// The environment variable bounding the payload cache, in bytes.
pub const CACHE_MAX_BYTES_ENV: &str = "FLYTEKIT_PAYLOAD_CACHE_MAX_BYTES";

/// The payload cache's default bound: 1 GiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 1024 * 1024 * 1024;

impl PayloadCache {
    /// A cache in `dir`, bounded by [`DEFAULT_CACHE_MAX_BYTES`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            cache: DigestCache::new(dir, DEFAULT_CACHE_MAX_BYTES),
        }
    }

    /// The same cache, bounded by `max_bytes` (the object just downloaded always stays).
    pub fn with_max_bytes(self, max_bytes: u64) -> Self {
        Self {
            cache: self.cache.with_max_bytes(max_bytes),
        }
    }

    /// The default cache: `$FLYTEKIT_CACHE_DIR/payloads`, else
    /// `$XDG_CACHE_HOME/flytekit-rs/payloads`, else `~/.cache/flytekit-rs/payloads`; bounded by
    /// `$FLYTEKIT_PAYLOAD_CACHE_MAX_BYTES` (an unparsable value is reported and ignored).
    pub fn from_env() -> Self {
        let cache = Self::new(default_cache_dir().join("payloads"));
        match std::env::var(CACHE_MAX_BYTES_ENV) {
            Err(_) => cache,
            Ok(v) => match v.trim().parse::<u64>() {
                Ok(n) => cache.with_max_bytes(n),
                Err(_) => {
                    tracing::warn!(
                        "{CACHE_MAX_BYTES_ENV}={v:?} is not a number of bytes; using {DEFAULT_CACHE_MAX_BYTES}"
                    );
                    cache
                }
            },
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        self.cache.dir()
    }

    /// Where the object with digest `sha256` is cached.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.cache.path(sha256)
    }

    /// The verified content of `uri`, whose SHA-256 must be `sha256`: from the cache when it holds
    /// it, else downloaded, verified and cached. Errors: [`InstanceError::Missing`] when there is
    /// no object at `uri`, [`InstanceError::DigestMismatch`] when its content has another digest.
    pub async fn fetch(
        &self,
        storage: &Storage,
        uri: &str,
        sha256: &str,
    ) -> Result<(Bytes, Fetched), InstanceError> {
        if !valid_sha256(sha256) {
            return Err(InstanceError::BadLoaderArgs {
                args: vec![sha256.to_string()],
                expected: "a SHA-256 of 64 lowercase hex digits".into(),
            });
        }
        if let Some(data) = self.cache.get(sha256).await {
            tracing::info!("cache hit for {uri}: {}", self.path(sha256).display());
            return Ok((data, Fetched::Cache));
        }
        let data = storage.get(uri).await.map_err(|e| match e {
            StorageError::NotFound { .. } => InstanceError::Missing {
                uri: uri.to_string(),
            },
            source => InstanceError::Storage {
                uri: uri.to_string(),
                source: Box::new(source),
            },
        })?;
        let actual = sha256_hex(&data);
        if actual != sha256 {
            return Err(InstanceError::DigestMismatch {
                uri: uri.to_string(),
                expected: sha256.to_string(),
                actual,
            });
        }
        tracing::info!("downloaded {uri} ({} bytes)", data.len());
        if let Err(e) = self.cache.put(sha256, &data).await {
            tracing::warn!("cannot cache {uri} in {}: {e}", self.dir().display());
        }
        Ok((data, Fetched::Download))
    }
}
