//! Blob storage: where inputs, outputs, decks, files and directories live.
//!
//! One concrete [`Storage`] type routes a URI to an [`object_store::ObjectStore`]: local paths and
//! `file://` URIs go to the local filesystem (writes are atomic: a temporary file then a rename),
//! `memory://` to an in-process store for tests. Object stores (`s3://`, `gs://`, `abfs://`) plug
//! in behind the same type; users extend storage by implementing `ObjectStore`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::{ObjectStore, ObjectStoreExt};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;

/// Why a storage operation failed. Every variant names the URI and the operation.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The object does not exist.
    #[error("{op} {uri}: not found")]
    NotFound {
        /// The operation (`read`, `write`, `list`, ...).
        op: &'static str,
        /// The URI it was applied to.
        uri: String,
    },
    /// The URI's scheme has no configured store.
    #[error("{uri}: unsupported storage scheme '{scheme}' (supported: local paths, file://, memory://)")]
    UnsupportedScheme {
        /// The URI.
        uri: String,
        /// Its scheme.
        scheme: String,
    },
    /// The URI could not be parsed into a store path.
    #[error("{uri}: invalid storage path: {reason}")]
    InvalidPath {
        /// The URI.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store reported an error.
    #[error("{op} {uri}: {source}")]
    Store {
        /// The operation.
        op: &'static str,
        /// The URI.
        uri: String,
        /// The underlying error.
        #[source]
        source: object_store::Error,
    },
    /// A local file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The local path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The blob store used by the entrypoint and the type engine. Cheap to clone.
#[derive(Clone)]
pub struct Storage {
    local: Arc<LocalFileSystem>,
    memory: Arc<InMemory>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage").finish_non_exhaustive()
    }
}

impl Default for Storage {
    fn default() -> Self {
        Self::new()
    }
}

impl Storage {
    /// A storage that serves local paths, `file://` and `memory://` URIs.
    pub fn new() -> Self {
        Self { local: Arc::new(LocalFileSystem::new()), memory: Arc::new(InMemory::new()) }
    }

    /// Resolves a URI to its store and the object path within it.
    fn route(&self, uri: &str) -> Result<(Arc<dyn ObjectStore>, ObjectPath), StorageError> {
        let invalid = |reason: String| StorageError::InvalidPath { uri: uri.to_string(), reason };
        if let Some(rest) = uri.strip_prefix("memory://") {
            let path = ObjectPath::parse(rest).map_err(|e| invalid(e.to_string()))?;
            return Ok((self.memory.clone(), path));
        }
        if let Some((scheme, _)) = uri.split_once("://") {
            if scheme != "file" {
                return Err(StorageError::UnsupportedScheme { uri: uri.to_string(), scheme: scheme.to_string() });
            }
        }
        let local = local_path(uri).map_err(|e| invalid(e.to_string()))?;
        let path = ObjectPath::from_absolute_path(&local).map_err(|e| invalid(e.to_string()))?;
        Ok((self.local.clone(), path))
    }

    /// Reads a whole object.
    pub async fn get(&self, uri: &str) -> Result<Bytes, StorageError> {
        let (store, path) = self.route(uri)?;
        let result = store.get(&path).await.map_err(|e| store_error("read", uri, e))?;
        result.bytes().await.map_err(|e| store_error("read", uri, e))
    }

    /// Writes a whole object, replacing any previous one. Readers never see a partial object.
    pub async fn put(&self, uri: &str, data: impl Into<Bytes>) -> Result<(), StorageError> {
        let (store, path) = self.route(uri)?;
        store.put(&path, data.into().into()).await.map_err(|e| store_error("write", uri, e))?;
        Ok(())
    }

    /// Whether an object exists at `uri`.
    pub async fn exists(&self, uri: &str) -> Result<bool, StorageError> {
        let (store, path) = self.route(uri)?;
        match store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_error("stat", uri, e)),
        }
    }

    /// Lists the URIs of all objects under `prefix` (recursively), sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        use futures::TryStreamExt;
        let (store, path) = self.route(prefix)?;
        let metas: Vec<_> = match store.list(Some(&path)).try_collect().await {
            Ok(m) => m,
            Err(object_store::Error::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(store_error("list", prefix, e)),
        };
        let base = prefix.trim_end_matches('/');
        let mut out: Vec<String> = metas
            .into_iter()
            .filter_map(|m| {
                let full = m.location.as_ref().to_string();
                let rel = full.strip_prefix(path.as_ref())?.trim_start_matches('/').to_string();
                Some(format!("{base}/{rel}"))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Downloads the object at `uri` into the local file `dest` (parent directories are created).
    pub async fn download_file(&self, uri: &str, dest: &Path) -> Result<(), StorageError> {
        let data = self.get(uri).await?;
        if let Some(parent) = dest.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(|e| io_error("create directory", parent, e))?;
        }
        tokio::fs::write(dest, &data).await.map_err(|e| io_error("write", dest, e))
    }

    /// Uploads the local file `src` to `uri`.
    pub async fn upload_file(&self, src: &Path, uri: &str) -> Result<(), StorageError> {
        let data = tokio::fs::read(src).await.map_err(|e| io_error("read", src, e))?;
        self.put(uri, data).await
    }

    /// Downloads every object under `prefix` into `dest`, keeping relative paths.
    pub async fn download_dir(&self, prefix: &str, dest: &Path) -> Result<(), StorageError> {
        let base = prefix.trim_end_matches('/');
        for uri in self.list(prefix).await? {
            let rel = uri.strip_prefix(base).unwrap_or(&uri).trim_start_matches('/');
            self.download_file(&uri, &dest.join(rel)).await?;
        }
        Ok(())
    }

    /// Uploads every file under the local directory `src` to `prefix`, keeping relative paths.
    pub async fn upload_dir(&self, src: &Path, prefix: &str) -> Result<(), StorageError> {
        let base = prefix.trim_end_matches('/');
        let mut stack = vec![src.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let mut entries = tokio::fs::read_dir(&dir).await.map_err(|e| io_error("list", &dir, e))?;
            while let Some(entry) = entries.next_entry().await.map_err(|e| io_error("list", &dir, e))? {
                let path = entry.path();
                let kind = entry.file_type().await.map_err(|e| io_error("stat", &path, e))?;
                if kind.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(src).unwrap_or(&path);
                    let rel = rel.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
                    self.upload_file(&path, &format!("{base}/{rel}")).await?;
                }
            }
        }
        Ok(())
    }
}

/// Joins a prefix (local path or URI) and a relative name with exactly one `/`.
pub fn join(prefix: &str, name: &str) -> String {
    format!("{}/{}", prefix.trim_end_matches('/'), name.trim_start_matches('/'))
}

/// Whether `uri` names local storage (a path or a `file://` URI).
pub fn is_local(uri: &str) -> bool {
    uri.starts_with("file://") || !uri.contains("://")
}

/// The absolute local path for a local path or `file://` URI.
pub fn local_path(uri: &str) -> std::io::Result<PathBuf> {
    let raw = uri.strip_prefix("file://").unwrap_or(uri);
    let path = Path::new(raw);
    if path.is_absolute() { Ok(path.to_path_buf()) } else { Ok(std::env::current_dir()?.join(path)) }
}

fn store_error(op: &'static str, uri: &str, source: object_store::Error) -> StorageError {
    match source {
        object_store::Error::NotFound { .. } => StorageError::NotFound { op, uri: uri.to_string() },
        source => StorageError::Store { op, uri: uri.to_string(), source },
    }
}

fn io_error(op: &'static str, path: &Path, source: std::io::Error) -> StorageError {
    StorageError::Io { op, path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_round_trip_and_missing_object() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::new();
        let uri = format!("file://{}/a/b.bin", dir.path().display());
        storage.put(&uri, Bytes::from_static(b"hello")).await.expect("put");
        assert_eq!(storage.get(&uri).await.expect("get"), Bytes::from_static(b"hello"));
        assert!(storage.exists(&uri).await.expect("exists"));
        let missing = format!("{}/nope", dir.path().display());
        let err = storage.get(&missing).await.expect_err("missing object");
        assert!(matches!(err, StorageError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[tokio::test]
    async fn directories_round_trip_through_memory() {
        let src = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(src.path().join("x/y")).expect("mkdir");
        std::fs::write(src.path().join("x/y/f.txt"), "1").expect("write");
        std::fs::write(src.path().join("top.txt"), "2").expect("write");
        let storage = Storage::new();
        storage.upload_dir(src.path(), "memory://bucket/dir").await.expect("upload");
        let listed = storage.list("memory://bucket/dir").await.expect("list");
        assert_eq!(listed, vec!["memory://bucket/dir/top.txt", "memory://bucket/dir/x/y/f.txt"]);
        let dest = tempfile::tempdir().expect("tempdir");
        storage.download_dir("memory://bucket/dir", dest.path()).await.expect("download");
        assert_eq!(std::fs::read_to_string(dest.path().join("x/y/f.txt")).expect("read"), "1");
    }

    #[test]
    fn unsupported_scheme_is_named() {
        let err = Storage::new().route("s4://b/k").expect_err("unsupported");
        assert!(err.to_string().contains("s4"), "{err}");
    }
}
