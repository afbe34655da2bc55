//! Blob storage: where inputs, outputs, decks, files and directories live.
//!
//! One concrete [`Storage`] type routes a URI to an [`object_store::ObjectStore`]:
//!
//! | URI | store |
//! |-----|-------|
//! | `/abs/path`, `rel/path`, `file:///abs/path` | the local filesystem (writes: temporary file, then rename) |
//! | `memory://any/key` | one in-process store shared by the clones of a `Storage` (tests) |
//! | `s3://bucket/key` (also `s3a://`) | AWS S3 or an S3-compatible server (MinIO, Garage, ...) |
//! | `gs://bucket/key` | Google Cloud Storage |
//! | `abfs[s]://container@account.dfs.core.windows.net/key`, `az://container/key` | Azure |
//!
//! Remote stores are configured by a [`StorageConfig`] (flytekit's environment variables and the
//! flytectl YAML), built lazily on first use, one per bucket, and cached. Users can plug in their
//! own [`ObjectStore`] for a bucket with [`Storage::register_store`].
//!
//! Writes are atomic: readers see the old object or the new one, never a part (object stores
//! publish a PUT or a completed multipart upload at once; locally a temporary file is renamed).
//! Objects from [`StorageConfig::multipart_threshold`] up are uploaded in parts, and downloads to
//! files stream, so large blobs never sit in memory whole. Transient failures are retried with
//! exponential backoff ([`RetrySettings`]); errors name the URI and the operation and, when the
//! user can fix them, the setting to check.

mod config;
mod error;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use config::{
    AzureConfig, DEFAULT_DEADLINE, DEFAULT_PART_SIZE, GcsConfig, RetrySettings, S3Config,
    StorageConfig, env,
};
pub use error::StorageError;

use error::{ErrorContext, classify, deadline_exceeded};

/// How many extra times a download is restarted when the connection drops mid-body (failed
/// requests themselves are retried by the store client per [`RetrySettings`]).
const BODY_RETRIES: usize = 2;

/// The size and version of a stored object.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectInfo {
    /// Size in bytes.
    pub size: u64,
    /// When the object was last written.
    pub last_modified: chrono::DateTime<chrono::Utc>,
    /// The store's entity tag, if it has one.
    pub e_tag: Option<String>,
}

/// The blob store used by the entrypoint and the type engine. Cheap to clone: clones share the
/// configuration, the cached remote stores and the `memory://` store.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

struct Inner {
    config: StorageConfig,
    /// Why the environment's configuration could not be read ([`Storage::new`] is infallible;
    /// remote URIs report this error when used).
    config_error: Option<String>,
    local: Arc<LocalFileSystem>,
    memory: Arc<InMemory>,
    remotes: Mutex<HashMap<String, Arc<Remote>>>,
}

/// A cached store for one bucket.
struct Remote {
    store: Arc<dyn ObjectStore>,
    endpoint: Option<String>,
    /// Whether credentials are configured (else an S3 client asks the metadata service).
    has_credentials: bool,
    /// Whether the bucket is known to exist (a HEAD answer of 404 cannot tell a missing object
    /// from a missing bucket, so the first one is followed by a bucket check).
    bucket_seen: AtomicBool,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Default for Storage {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a URI lives: the store, the path inside it, and what error messages need.
struct Target<'a> {
    uri: &'a str,
    store: Arc<dyn ObjectStore>,
    /// [`StorageConfig::deadline`].
    deadline: std::time::Duration,
    path: ObjectPath,
    scheme: String,
    bucket: String,
    remote: Option<Arc<Remote>>,
}

impl Target<'_> {
    fn err(&self, op: &'static str, source: object_store::Error) -> StorageError {
        let endpoint = self.remote.as_ref().and_then(|r| r.endpoint.as_deref());
        classify(
            &ErrorContext {
                op,
                uri: self.uri,
                scheme: &self.scheme,
                bucket: &self.bucket,
                endpoint,
                has_credentials: self.remote.as_ref().is_none_or(|r| r.has_credentials),
            },
            source,
        )
    }

    /// The storage deadline of one step against this target: none for local and memory stores.
    fn deadline(&self) -> Option<std::time::Duration> {
        self.remote.as_ref().map(|_| self.deadline)
    }

    fn is_local(&self) -> bool {
        self.remote.is_none()
    }
}

impl Storage {
    /// A storage configured from the environment ([`StorageConfig::from_env`]). It serves local
    /// paths, `file://` and `memory://` URIs whatever the configuration; if the configuration is
    /// invalid, remote URIs fail with [`StorageError::Config`] when used.
    pub fn new() -> Self {
        match StorageConfig::from_env() {
            Ok(config) => Self::from_config(config),
            Err(e) => {
                let mut storage = Self::from_config(StorageConfig::default());
                if let Some(inner) = Arc::get_mut(&mut storage.inner) {
                    inner.config_error = Some(e.to_string());
                }
                storage
            }
        }
    }

    /// [`Storage::new`], but an invalid environment configuration is an error now.
    pub fn try_new() -> Result<Self, StorageError> {
        StorageConfig::from_env().map(Self::from_config)
    }

    /// A storage with an explicit configuration.
    pub fn from_config(config: StorageConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                config_error: None,
                local: Arc::new(LocalFileSystem::new()),
                memory: Arc::new(InMemory::new()),
                remotes: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &StorageConfig {
        &self.inner.config
    }

    /// Serves every URI under `base` (`scheme://bucket`, e.g. `s3://my-bucket`) from `store`
    /// instead of building one from the configuration. Replaces an earlier store for that bucket.
    pub fn register_store(
        &self,
        base: &str,
        store: Arc<dyn ObjectStore>,
    ) -> Result<(), StorageError> {
        let (scheme, authority, _) = split_remote(base)?;
        let key = format!("{scheme}://{authority}");
        let remote = Arc::new(Remote {
            store,
            endpoint: None,
            has_credentials: true,
            bucket_seen: AtomicBool::new(false),
        });
        self.remotes().insert(key, remote);
        Ok(())
    }

    fn remotes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Remote>>> {
        // A panic while holding the lock cannot leave the map inconsistent (single inserts).
        self.inner
            .remotes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Resolves a URI to its store and the object path within it.
    fn route<'a>(&self, uri: &'a str) -> Result<Target<'a>, StorageError> {
        let invalid = |reason: String| StorageError::InvalidPath {
            uri: uri.to_string(),
            reason,
        };
        if let Some(rest) = uri.strip_prefix("memory://") {
            let path = ObjectPath::parse(rest.trim_end_matches('/'))
                .map_err(|e| invalid(e.to_string()))?;
            let store: Arc<dyn ObjectStore> = self.inner.memory.clone();
            return Ok(Target {
                uri,
                store,
                deadline: self.inner.config.deadline,
                path,
                scheme: "memory".into(),
                bucket: String::new(),
                remote: None,
            });
        }
        if is_local(uri) {
            let local = local_path(uri).map_err(|e| invalid(e.to_string()))?;
            let path =
                ObjectPath::from_absolute_path(&local).map_err(|e| invalid(e.to_string()))?;
            let store: Arc<dyn ObjectStore> = self.inner.local.clone();
            return Ok(Target {
                uri,
                store,
                deadline: self.inner.config.deadline,
                path,
                scheme: "file".into(),
                bucket: String::new(),
                remote: None,
            });
        }
        let (scheme, authority, key) = split_remote(uri)?;
        let path =
            ObjectPath::parse(key.trim_end_matches('/')).map_err(|e| invalid(e.to_string()))?;
        let cache_key = format!("{scheme}://{authority}");
        let cached = self.remotes().get(&cache_key).cloned();
        let remote = match cached {
            Some(remote) => remote,
            None => {
                // Built outside the lock; if two callers race, the first insert wins.
                let built = Arc::new(self.build_remote(uri, scheme, authority)?);
                self.remotes().entry(cache_key).or_insert(built).clone()
            }
        };
        let bucket = authority.split('@').next().unwrap_or(authority).to_string();
        Ok(Target {
            uri,
            store: remote.store.clone(),
            deadline: self.inner.config.deadline,
            path,
            scheme: scheme.to_string(),
            bucket,
            remote: Some(remote),
        })
    }

    /// The store and object path behind `uri`, for readers that drive the store themselves
    /// (Parquet's async reader fetches footers and column chunks by range).
    pub(crate) fn object_store(
        &self,
        uri: &str,
    ) -> Result<(Arc<dyn ObjectStore>, ObjectPath), StorageError> {
        let target = self.route(uri)?;
        Ok((target.store, target.path))
    }

    /// A failure of `op` on `uri` reported by the store itself, classified as this storage
    /// classifies its own failures.
    pub(crate) fn store_error(
        &self,
        uri: &str,
        op: &'static str,
        source: object_store::Error,
    ) -> StorageError {
        match self.route(uri) {
            Ok(target) => target.err(op, source),
            Err(e) => e,
        }
    }

    fn build_remote(
        &self,
        uri: &str,
        scheme: &str,
        authority: &str,
    ) -> Result<Remote, StorageError> {
        if let Some(message) = &self.inner.config_error {
            return Err(StorageError::Config {
                message: message.clone(),
            });
        }
        let cfg = &self.inner.config;
        let client = object_store::ClientOptions::new()
            .with_connect_timeout(cfg.connect_timeout)
            .with_timeout(cfg.request_timeout);
        let retry = cfg.retry.to_object_store();
        let config_err = |what: &str, hint: &str, e: object_store::Error| StorageError::Config {
            message: format!("cannot set up {what} for {uri}: {e}; {hint}"),
        };
        match scheme {
            "s3" => {
                let s3 = &cfg.s3;
                let virtual_hosted = s3.virtual_hosted_style.unwrap_or(false);
                let mut builder = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(authority)
                    .with_client_options(client)
                    .with_retry(retry)
                    .with_virtual_hosted_style_request(virtual_hosted);
                let endpoint = s3
                    .endpoint
                    .as_deref()
                    .map(|e| normalize_endpoint(e, s3.allow_http.unwrap_or(false)));
                let allow_http = s3.allow_http.unwrap_or(false)
                    || endpoint
                        .as_deref()
                        .is_some_and(|e| e.starts_with("http://"));
                builder = builder.with_allow_http(allow_http);
                if let Some(endpoint) = &endpoint {
                    let endpoint = if virtual_hosted {
                        bucket_host_endpoint(endpoint, authority)
                    } else {
                        endpoint.clone()
                    };
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(region) = &s3.region {
                    builder = builder.with_region(region);
                }
                if !s3.iam_only
                    && let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key)
                {
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret);
                    if let Some(token) = &s3.session_token {
                        builder = builder.with_token(token);
                    }
                }
                let store = builder.build().map_err(|e| {
                    config_err(
                        "S3",
                        "check FLYTE_AWS_ENDPOINT / FLYTE_AWS_ACCESS_KEY_ID / FLYTE_AWS_SECRET_ACCESS_KEY (or AWS_*) \
                         and the storage section of the flytectl config",
                        e,
                    )
                })?;
                let ambient = [
                    "AWS_WEB_IDENTITY_TOKEN_FILE",
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                ]
                .iter()
                .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
                Ok(Remote {
                    store: Arc::new(store),
                    endpoint,
                    has_credentials: s3.iam_only
                        || ambient
                        || (s3.access_key_id.is_some() && s3.secret_access_key.is_some()),
                    bucket_seen: AtomicBool::new(false),
                })
            }
            "gs" => {
                let mut builder = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(authority)
                    .with_client_options(client)
                    .with_retry(retry);
                if let Some(path) = &cfg.gcs.service_account_path {
                    builder = builder.with_service_account_path(path);
                }
                if let Some(key) = &cfg.gcs.service_account_key {
                    builder = builder.with_service_account_key(key);
                }
                let store = builder.build().map_err(|e| {
                    config_err(
                        "Google Cloud Storage",
                        "check GOOGLE_APPLICATION_CREDENTIALS / GOOGLE_SERVICE_ACCOUNT",
                        e,
                    )
                })?;
                Ok(Remote {
                    store: Arc::new(store),
                    endpoint: None,
                    has_credentials: true,
                    bucket_seen: AtomicBool::new(false),
                })
            }
            _ => {
                let az = &cfg.azure;
                let scheme_for_url = if scheme == "az" { "az" } else { "abfs" };
                let mut builder = object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_url(format!("{scheme_for_url}://{authority}"))
                    .with_client_options(client)
                    .with_retry(retry);
                if let Some(account) = &az.account_name {
                    builder = builder.with_account(account);
                }
                if let Some(key) = &az.account_key {
                    builder = builder.with_access_key(key);
                }
                if let (Some(id), Some(secret), Some(tenant)) =
                    (&az.client_id, &az.client_secret, &az.tenant_id)
                {
                    builder = builder.with_client_secret_authorization(id, secret, tenant);
                }
                let store = builder.build().map_err(|e| {
                    config_err(
                        "Azure storage",
                        "check FLYTE_AZURE_STORAGE_ACCOUNT_NAME / FLYTE_AZURE_STORAGE_ACCOUNT_KEY (or the AZURE_* variables)",
                        e,
                    )
                })?;
                Ok(Remote {
                    store: Arc::new(store),
                    endpoint: None,
                    has_credentials: true,
                    bucket_seen: AtomicBool::new(false),
                })
            }
        }
    }

    /// Reads a whole object into memory. Use [`download_file`](Self::download_file) for large ones.
    pub async fn get(&self, uri: &str) -> Result<Bytes, StorageError> {
        let target = self.route(uri)?;
        let result = self.get_target(&target).await;
        self.directory_check(&target, "read", result).await
    }

    async fn get_target(&self, target: &Target<'_>) -> Result<Bytes, StorageError> {
        let deadline = target.deadline();
        retry_body(|| async {
            let result = within(deadline, target.store.get(&target.path)).await?;
            if deadline.is_none() {
                return result.bytes().await;
            }
            // Remote bodies are read chunk by chunk, each within the deadline.
            let size = usize::try_from(result.meta.size).unwrap_or(0);
            let mut body = bytes::BytesMut::with_capacity(size);
            let mut stream = result.into_stream();
            while let Some(chunk) =
                within(deadline, async { stream.next().await.transpose() }).await?
            {
                body.extend_from_slice(&chunk);
            }
            Ok(body.freeze())
        })
        .await
        .map_err(|e| target.err("read", e))
    }

    /// Writes a whole object, replacing any previous one. Readers never see a partial object.
    /// Objects from [`StorageConfig::multipart_threshold`] up are uploaded in parts.
    pub async fn put(&self, uri: &str, data: impl Into<Bytes>) -> Result<(), StorageError> {
        let data = data.into();
        let target = self.route(uri)?;
        if !target.is_local() && data.len() >= self.inner.config.multipart_threshold {
            let part = self.inner.config.part_size;
            let chunks = (0..data.len())
                .step_by(part)
                .map(|start| data.slice(start..(start + part).min(data.len())));
            return self
                .put_parts(&target, futures::stream::iter(chunks.map(Ok)))
                .await;
        }
        within(
            target.deadline(),
            target.store.put(&target.path, data.into()),
        )
        .await
        .map_err(|e| target.err("write", e))?;
        Ok(())
    }

    /// Uploads a stream of chunks as one multipart object; aborts the upload on any failure so
    /// that nothing is published.
    async fn put_parts(
        &self,
        target: &Target<'_>,
        chunks: impl futures::Stream<Item = Result<Bytes, StorageError>>,
    ) -> Result<(), StorageError> {
        let concurrency = self.inner.config.upload_concurrency.max(1);
        let deadline = target.deadline();
        let mut upload = within(deadline, target.store.put_multipart(&target.path))
            .await
            .map_err(|e| target.err("start upload", e))?;
        let mut chunks = std::pin::pin!(chunks);
        let outcome: Result<(), StorageError> = async {
            let mut in_flight: futures::stream::FuturesUnordered<object_store::UploadPart> =
                futures::stream::FuturesUnordered::new();
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk?;
                while in_flight.len() >= concurrency {
                    if let Some(done) = within(deadline, async { Ok(in_flight.next().await) })
                        .await
                        .map_err(|e| target.err("upload part", e))?
                    {
                        done.map_err(|e| target.err("upload part", e))?;
                    }
                }
                in_flight.push(upload.put_part(chunk.into()));
            }
            while let Some(done) = within(deadline, async { Ok(in_flight.next().await) })
                .await
                .map_err(|e| target.err("upload part", e))?
            {
                done.map_err(|e| target.err("upload part", e))?;
            }
            drop(in_flight);
            within(deadline, upload.complete())
                .await
                .map_err(|e| target.err("complete upload", e))?;
            Ok(())
        }
        .await;
        if outcome.is_err() {
            // Parts already stored are invisible until completion; abort frees them (best effort:
            // the store may be the thing that failed).
            if let Err(abort) = within(deadline, upload.abort()).await {
                tracing::warn!(
                    "could not abort the multipart upload to {}: {abort}",
                    target.uri
                );
            }
        }
        outcome
    }

    /// Whether an object exists at `uri`. A missing bucket is an error, not `false`.
    pub async fn exists(&self, uri: &str) -> Result<bool, StorageError> {
        let target = self.route(uri)?;
        match within(target.deadline(), target.store.head(&target.path)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => {
                self.check_bucket(&target).await?;
                Ok(false)
            }
            Err(e) => Err(target.err("stat", e)),
        }
    }

    /// The size and version of the object at `uri`.
    pub async fn metadata(&self, uri: &str) -> Result<ObjectInfo, StorageError> {
        let target = self.route(uri)?;
        match within(target.deadline(), target.store.head(&target.path)).await {
            Ok(meta) => Ok(ObjectInfo {
                size: meta.size,
                last_modified: meta.last_modified,
                e_tag: meta.e_tag,
            }),
            Err(e @ object_store::Error::NotFound { .. }) => {
                self.check_bucket(&target).await?;
                Err(target.err("stat", e))
            }
            Err(e) => Err(target.err("stat", e)),
        }
    }

    /// Deletes the object at `uri`; deleting a missing object is not an error.
    pub async fn delete(&self, uri: &str) -> Result<(), StorageError> {
        let target = self.route(uri)?;
        match within(target.deadline(), target.store.delete(&target.path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(target.err("delete", e)),
        }
    }

    /// A failed read of `target` that reported the object missing, or that a local read hit a
    /// directory, becomes [`StorageError::NotAFile`] when `target` names a directory (a prefix
    /// holding objects, remotely): the caller gave a directory where a file is expected.
    async fn directory_check<T>(
        &self,
        target: &Target<'_>,
        op: &'static str,
        result: Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let Err(err) = result else {
            return result;
        };
        let suspicious = match &err {
            StorageError::NotFound { .. } => true,
            StorageError::Store { .. } | StorageError::Io { .. } => target.is_local(),
            _ => false,
        };
        if !suspicious {
            return Err(err);
        }
        let is_dir = if target.is_local() {
            target.scheme == "file" && local_path(target.uri).map(|p| p.is_dir()).unwrap_or(false)
        } else {
            let prefix = target.path.clone();
            matches!(
                within(target.deadline(), target.store.list_with_delimiter(Some(&prefix))).await,
                Ok(l) if !l.objects.is_empty() || !l.common_prefixes.is_empty()
            )
        };
        if is_dir {
            Err(StorageError::NotAFile {
                op,
                uri: target.uri.to_string(),
            })
        } else {
            Err(err)
        }
    }

    /// After a 404 on HEAD (which has no body to say why), makes sure the bucket exists, once per
    /// bucket, so a misspelt bucket reads as [`StorageError::BucketNotFound`], not "no object".
    async fn check_bucket(&self, target: &Target<'_>) -> Result<(), StorageError> {
        let Some(remote) = &target.remote else {
            return Ok(());
        };
        if remote.bucket_seen.load(Ordering::Relaxed) {
            return Ok(());
        }
        let probe = ObjectPath::from("flytekit-bucket-probe");
        match within(
            target.deadline(),
            target.store.list_with_delimiter(Some(&probe)),
        )
        .await
        {
            Ok(_) => {
                remote.bucket_seen.store(true, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => match target.err("stat", e) {
                e @ StorageError::BucketNotFound { .. } => Err(e),
                // Listing may be forbidden where reading is allowed: then trust the 404.
                _ => Ok(()),
            },
        }
    }

    /// Lists the URIs of all objects under `prefix` (recursively), sorted. A missing prefix lists
    /// nothing; a missing bucket is an error.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let target = self.route(prefix)?;
        let list_prefix = (!target.path.as_ref().is_empty()).then_some(&target.path);
        let deadline = target.deadline();
        let mut listing = target.store.list(list_prefix);
        let metas: Vec<_> = match async {
            let mut metas = Vec::new();
            while let Some(meta) =
                within(deadline, async { listing.next().await.transpose() }).await?
            {
                metas.push(meta);
            }
            Ok(metas)
        }
        .await
        {
            Ok(m) => m,
            Err(e) => match target.err("list", e) {
                StorageError::NotFound { .. } => Vec::new(),
                e => return Err(e),
            },
        };
        let base = prefix.trim_end_matches('/');
        let mut out: Vec<String> = metas
            .into_iter()
            .filter_map(|m| {
                let full = m.location.as_ref().to_string();
                let rel = full
                    .strip_prefix(target.path.as_ref())?
                    .trim_start_matches('/')
                    .to_string();
                Some(format!("{base}/{rel}"))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Downloads the object at `uri` into the local file `dest` (parent directories are created).
    /// The body is streamed to a temporary file next to `dest`, which is renamed into place when
    /// complete: `dest` never holds a partial download.
    pub async fn download_file(&self, uri: &str, dest: &Path) -> Result<(), StorageError> {
        let target = self.route(uri)?;
        let result = self.download_target(&target, dest).await;
        self.directory_check(&target, "read", result).await
    }

    async fn download_target(&self, target: &Target<'_>, dest: &Path) -> Result<(), StorageError> {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        tokio::fs::create_dir_all(&parent)
            .await
            .map_err(|e| io_error("create directory", &parent, e))?;
        let file_name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "download".into());
        let temp = parent.join(format!(
            ".{file_name}.{}.part",
            uuid::Uuid::new_v4().simple()
        ));
        let result = async {
            retry_body(|| async {
                let mut file = tokio::fs::File::create(&temp)
                    .await
                    .map_err(|e| local_store_error(&temp, e))?;
                let deadline = target.deadline();
                let mut stream = within(deadline, target.store.get(&target.path))
                    .await?
                    .into_stream();
                while let Some(chunk) =
                    within(deadline, async { stream.next().await.transpose() }).await?
                {
                    file.write_all(&chunk)
                        .await
                        .map_err(|e| local_store_error(&temp, e))?;
                }
                file.flush()
                    .await
                    .map_err(|e| local_store_error(&temp, e))?;
                file.sync_all()
                    .await
                    .map_err(|e| local_store_error(&temp, e))?;
                Ok(())
            })
            .await
            .map_err(|e| target.err("read", e))?;
            tokio::fs::rename(&temp, dest)
                .await
                .map_err(|e| io_error("rename into", dest, e))
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result
    }

    /// Uploads the local file `src` to `uri`, streaming it in parts when it is at least
    /// [`StorageConfig::multipart_threshold`] bytes (locally: into a staging file that is renamed
    /// when complete).
    pub async fn upload_file(&self, src: &Path, uri: &str) -> Result<(), StorageError> {
        let target = self.route(uri)?;
        let file = tokio::fs::File::open(src)
            .await
            .map_err(|e| io_error("open", src, e))?;
        let len = file
            .metadata()
            .await
            .map_err(|e| io_error("stat", src, e))?
            .len();
        let threshold = u64::try_from(self.inner.config.multipart_threshold).unwrap_or(u64::MAX);
        if len < threshold {
            drop(file);
            let data = tokio::fs::read(src)
                .await
                .map_err(|e| io_error("read", src, e))?;
            within(
                target.deadline(),
                target.store.put(&target.path, Bytes::from(data).into()),
            )
            .await
            .map_err(|e| target.err("write", e))?;
            return Ok(());
        }
        self.put_parts(
            &target,
            file_chunks(file, src.to_path_buf(), self.inner.config.part_size),
        )
        .await
    }

    /// Downloads every object under `prefix` into `dest`, keeping relative paths.
    pub async fn download_dir(&self, prefix: &str, dest: &Path) -> Result<(), StorageError> {
        let base = prefix.trim_end_matches('/');
        for uri in self.list(prefix).await? {
            let rel = uri
                .strip_prefix(base)
                .unwrap_or(&uri)
                .trim_start_matches('/');
            self.download_file(&uri, &dest.join(rel)).await?;
        }
        Ok(())
    }

    /// Uploads every file under the local directory `src` to `prefix`, keeping relative paths.
    pub async fn upload_dir(&self, src: &Path, prefix: &str) -> Result<(), StorageError> {
        let base = prefix.trim_end_matches('/');
        let mut stack = vec![src.to_path_buf()];
        while let Some(dir) = stack.pop() {
            let mut entries = tokio::fs::read_dir(&dir)
                .await
                .map_err(|e| io_error("list", &dir, e))?;
            while let Some(entry) = entries
                .next_entry()
                .await
                .map_err(|e| io_error("list", &dir, e))?
            {
                let path = entry.path();
                let kind = entry
                    .file_type()
                    .await
                    .map_err(|e| io_error("stat", &path, e))?;
                if kind.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(src).unwrap_or(&path);
                    let rel = rel
                        .to_string_lossy()
                        .replace(std::path::MAIN_SEPARATOR, "/");
                    self.upload_file(&path, &format!("{base}/{rel}")).await?;
                }
            }
        }
        Ok(())
    }

    /// Stores `data` under `<prefix>/sha256-<hex>` and returns `(uri, hex digest)`. When an object
    /// already exists at that name the upload is skipped: the name is the content.
    ///
    /// Existence is checked with a HEAD, not a conditional PUT (`If-None-Match` is ignored by
    /// some S3-compatible servers); a race between two writers is harmless because both write
    /// the same bytes.
    pub async fn put_content_addressed(
        &self,
        prefix: &str,
        data: impl Into<Bytes>,
    ) -> Result<(String, String), StorageError> {
        let data = data.into();
        let digest = hex::encode(Sha256::digest(&data));
        let uri = content_uri(prefix, &digest);
        if self.exists(&uri).await? {
            tracing::debug!("{uri} already exists; skipping the upload");
        } else {
            self.put(&uri, data).await?;
        }
        Ok((uri, digest))
    }

    /// [`put_content_addressed`](Self::put_content_addressed) for a local file: the digest is
    /// computed by streaming the file, and the upload (if needed) streams too.
    pub async fn put_file_content_addressed(
        &self,
        prefix: &str,
        src: &Path,
    ) -> Result<(String, String), StorageError> {
        let mut file = tokio::fs::File::open(src)
            .await
            .map_err(|e| io_error("open", src, e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file
                .read(&mut buf)
                .await
                .map_err(|e| io_error("read", src, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let digest = hex::encode(hasher.finalize());
        let uri = content_uri(prefix, &digest);
        if self.exists(&uri).await? {
            tracing::debug!("{uri} already exists; skipping the upload");
        } else {
            self.upload_file(src, &uri).await?;
        }
        Ok((uri, digest))
    }
}

fn content_uri(prefix: &str, digest: &str) -> String {
    join(prefix, &format!("sha256-{digest}"))
}

/// Reads a file as a stream of `part_size` chunks.
fn file_chunks(
    file: tokio::fs::File,
    path: PathBuf,
    part_size: usize,
) -> impl futures::Stream<Item = Result<Bytes, StorageError>> {
    let part_size = part_size.max(1);
    futures::stream::try_unfold((file, path), move |(mut file, path)| async move {
        let mut buf = Vec::with_capacity(part_size);
        while buf.len() < part_size {
            let read = (&mut file)
                .take((part_size - buf.len()) as u64)
                .read_to_end(&mut buf)
                .await
                .map_err(|e| io_error("read", &path, e))?;
            if read == 0 {
                break;
            }
        }
        if buf.is_empty() {
            Ok(None)
        } else {
            Ok(Some((Bytes::from(buf), (file, path))))
        }
    })
}

/// Runs one step of a storage operation against a remote store within `deadline` (`None`: no
/// deadline, for local and memory stores); a step that outlives it fails with the error
/// [`classify`] turns into [`StorageError::Deadline`].
async fn within<T>(
    deadline: Option<std::time::Duration>,
    step: impl std::future::Future<Output = Result<T, object_store::Error>>,
) -> Result<T, object_store::Error> {
    match deadline {
        None => step.await,
        Some(d) => match tokio::time::timeout(d, step).await {
            Ok(result) => result,
            Err(_) => Err(deadline_exceeded(d)),
        },
    }
}

/// Runs `attempt` again (up to [`BODY_RETRIES`] times, with a short exponential backoff) when it
/// fails because the connection broke after the request was answered: the store client retries
/// failed requests itself but cannot resume a body it already handed over.
async fn retry_body<T, F, Fut>(mut attempt: F) -> Result<T, object_store::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, object_store::Error>>,
{
    let mut delay = std::time::Duration::from_millis(200);
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(e) if tries < BODY_RETRIES && error::is_body_failure(&e) => {
                tries += 1;
                tracing::info!(
                    "retrying after a broken transfer ({e}), attempt {tries} of {BODY_RETRIES}"
                );
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
}

/// Splits `scheme://authority/key` for the remote schemes, normalising scheme aliases.
fn split_remote(uri: &str) -> Result<(&'static str, &str, &str), StorageError> {
    let Some((raw_scheme, rest)) = uri.split_once("://") else {
        return Err(StorageError::InvalidPath {
            uri: uri.to_string(),
            reason: "expected scheme://bucket/key".into(),
        });
    };
    let scheme = match raw_scheme.to_ascii_lowercase().as_str() {
        "s3" | "s3a" => "s3",
        "gs" | "gcs" => "gs",
        "abfs" | "abfss" => "abfs",
        "az" | "azure" => "az",
        _ => {
            return Err(StorageError::UnsupportedScheme {
                uri: uri.to_string(),
                scheme: raw_scheme.to_string(),
            });
        }
    };
    let (authority, key) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.is_empty() {
        return Err(StorageError::InvalidPath {
            uri: uri.to_string(),
            reason: "the bucket name is empty".into(),
        });
    }
    Ok((scheme, authority, key))
}

/// Adds a scheme to an endpoint given as `host:port` (flytectl allows that with `disable-ssl`).
fn normalize_endpoint(endpoint: &str, allow_http: bool) -> String {
    let endpoint = endpoint.trim_end_matches('/');
    if endpoint.contains("://") {
        endpoint.to_string()
    } else if allow_http {
        format!("http://{endpoint}")
    } else {
        format!("https://{endpoint}")
    }
}

/// `http://host:port` -> `http://bucket.host:port` for virtual-hosted-style requests.
fn bucket_host_endpoint(endpoint: &str, bucket: &str) -> String {
    match endpoint.split_once("://") {
        Some((scheme, host)) => format!("{scheme}://{bucket}.{host}"),
        None => format!("{bucket}.{endpoint}"),
    }
}

/// Joins a prefix (local path or URI) and a relative name with exactly one `/`. An empty prefix
/// is the current directory, as for flytekit (`--output-prefix ""` writes `./outputs.pb`).
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        return name.trim_start_matches('/').to_string();
    }
    format!(
        "{}/{}",
        prefix.trim_end_matches('/'),
        name.trim_start_matches('/')
    )
}

/// Whether `uri` names local storage (a path or a `file://` URI).
pub fn is_local(uri: &str) -> bool {
    uri.starts_with("file://") || !uri.contains("://")
}

/// The absolute local path for a local path or `file://` URI. `.` and `..` components are
/// resolved the way the operating system resolves them (through the symlinks on the way), as
/// flytekit leaves such paths to the OS: `../x/inputs.pb` is the `x` beside the current
/// directory.
pub fn local_path(uri: &str) -> std::io::Result<PathBuf> {
    let raw = uri.strip_prefix("file://").unwrap_or(uri);
    let path = Path::new(raw);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let dotted = absolute.components().any(|c| {
        matches!(
            c,
            std::path::Component::ParentDir | std::path::Component::CurDir
        )
    }) || raw.split('/').any(|s| s == ".");
    if dotted {
        Ok(resolve_dots(&absolute))
    } else {
        Ok(absolute)
    }
}

/// `path` (absolute) without `.` or `..` components: its longest existing ancestor is
/// canonicalized by the OS (so `link/..` is the link target's parent, as `open` sees it) and the
/// rest, which does not exist yet, is normalized lexically.
fn resolve_dots(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut existing = path.to_path_buf();
    let mut rest: Vec<std::ffi::OsString> = Vec::new();
    let base = loop {
        if let Ok(canonical) = std::fs::canonicalize(&existing) {
            break canonical;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            // Ends in `..` or `.` (not a name) or reached the root: normalize lexically.
            _ => {
                let mut out = PathBuf::new();
                for c in existing.components() {
                    match c {
                        Component::ParentDir => {
                            out.pop();
                        }
                        Component::CurDir => {}
                        other => out.push(other),
                    }
                }
                break out;
            }
        }
    };
    let mut out = base;
    for name in rest.iter().rev() {
        match Path::new(name).components().next() {
            Some(Component::ParentDir) => {
                out.pop();
            }
            Some(Component::CurDir) | None => {}
            Some(_) => out.push(name),
        }
    }
    out
}

fn io_error(op: &'static str, path: &Path, source: std::io::Error) -> StorageError {
    StorageError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// A local write failure inside a download, carried through the store-error path.
fn local_store_error(path: &Path, source: std::io::Error) -> object_store::Error {
    object_store::Error::Generic {
        store: "local file",
        source: format!("writing {}: {source}", path.display()).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_round_trip_and_missing_object() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::from_config(StorageConfig::default());
        let uri = format!("file://{}/a/b.bin", dir.path().display());
        storage
            .put(&uri, Bytes::from_static(b"hello"))
            .await
            .expect("put");
        assert_eq!(
            storage.get(&uri).await.expect("get"),
            Bytes::from_static(b"hello")
        );
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
        let storage = Storage::from_config(StorageConfig::default());
        storage
            .upload_dir(src.path(), "memory://bucket/dir")
            .await
            .expect("upload");
        let listed = storage.list("memory://bucket/dir").await.expect("list");
        assert_eq!(
            listed,
            vec![
                "memory://bucket/dir/top.txt",
                "memory://bucket/dir/x/y/f.txt"
            ]
        );
        let dest = tempfile::tempdir().expect("tempdir");
        storage
            .download_dir("memory://bucket/dir", dest.path())
            .await
            .expect("download");
        assert_eq!(
            std::fs::read_to_string(dest.path().join("x/y/f.txt")).expect("read"),
            "1"
        );
    }

    #[test]
    fn unsupported_scheme_is_named() {
        let err = Storage::from_config(StorageConfig::default())
            .route("s4://b/k")
            .err()
            .expect("unsupported");
        assert!(err.to_string().contains("s4"), "{err}");
    }

    #[test]
    fn remote_uris_split_and_endpoints_normalise() {
        assert_eq!(
            split_remote("s3a://b/k/x").expect("split"),
            ("s3", "b", "k/x")
        );
        assert_eq!(
            split_remote("abfss://c@acct.dfs.core.windows.net/p")
                .expect("split")
                .1,
            "c@acct.dfs.core.windows.net"
        );
        assert!(split_remote("s3:///k").is_err());
        assert_eq!(
            normalize_endpoint("localhost:9000", true),
            "http://localhost:9000"
        );
        assert_eq!(normalize_endpoint("https://h/", false), "https://h");
        assert_eq!(bucket_host_endpoint("http://h:1", "b"), "http://b.h:1");
    }

    #[tokio::test]
    async fn content_addressed_puts_are_named_by_digest() {
        let storage = Storage::from_config(StorageConfig::default());
        let (uri, digest) = storage
            .put_content_addressed("memory://cas/", Bytes::from_static(b"abc"))
            .await
            .expect("put");
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(uri, format!("memory://cas/sha256-{digest}"));
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, b"abc").expect("write");
        let (uri2, digest2) = storage
            .put_file_content_addressed("memory://cas", &file)
            .await
            .expect("put file");
        assert_eq!((uri2, digest2), (uri, digest));
    }
}
