//! Where an instance task's payload travels — inline in the loader args, or offloaded to a
//! content-addressed store — and the prepared task that carries it to registration.

use bytes::Bytes;

use super::codec::{compress, encode_value, sha256_hex};
use super::loader_args::{inline_loader_args, offloaded_loader_args};
use super::registry::{InstanceTask, check_registered};
use super::{
    DEFAULT_INLINE_THRESHOLD, INLINE_HARD_LIMIT, INSTANCE_RESOLVER_LOCATION, InstanceError,
    MAX_OFFLOADED_LOADER_ARGS,
};
use crate::storage::{Storage, StorageError};
use crate::task::Task;

/// Where payloads travel (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PayloadMode {
    /// Inline up to the inline threshold, offloaded above it (needs an offload prefix).
    #[default]
    Auto,
    /// Always offloaded (needs an offload prefix).
    Offload,
    /// Always inline, like flytekit's `ExperimentalNaiveCloudPickleResolver`: every registration
    /// logs a warning, and payloads over [`INLINE_HARD_LIMIT`] are refused. Opt in explicitly.
    Naive,
}

/// How [`instance_task`] places payloads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadSettings {
    /// The mode.
    pub mode: PayloadMode,
    /// Inline payloads up to this many base64 characters in [`PayloadMode::Auto`] (default
    /// [`DEFAULT_INLINE_THRESHOLD`]; values over [`INLINE_HARD_LIMIT`] act as the hard limit).
    pub inline_threshold: usize,
    /// Where offloaded payloads are uploaded (`s3://bucket/prefix`, `gs://...`, a local path):
    /// each to `<prefix>/sha256-<hex>`.
    pub offload_prefix: Option<String>,
}

impl Default for PayloadSettings {
    fn default() -> Self {
        Self {
            mode: PayloadMode::Auto,
            inline_threshold: DEFAULT_INLINE_THRESHOLD,
            offload_prefix: None,
        }
    }
}

impl PayloadSettings {
    /// The defaults: [`PayloadMode::Auto`], 4 KiB threshold, no offload prefix.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offloads payloads to `prefix` (each to `<prefix>/sha256-<hex>`).
    pub fn offload_to(mut self, prefix: impl Into<String>) -> Self {
        self.offload_prefix = Some(prefix.into());
        self
    }

    /// Sets the inline threshold (base64 characters).
    pub fn inline_threshold(mut self, bytes: usize) -> Self {
        self.inline_threshold = bytes;
        self
    }

    /// Sets the mode.
    pub fn mode(mut self, mode: PayloadMode) -> Self {
        self.mode = mode;
        self
    }

    /// Always offload (needs [`offload_to`](Self::offload_to)).
    pub fn always_offload(self) -> Self {
        self.mode(PayloadMode::Offload)
    }

    /// The naive mode: everything inline, with a warning and a hard size limit.
    pub fn naive(self) -> Self {
        self.mode(PayloadMode::Naive)
    }
}

/// Where a prepared payload travels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// In the loader args.
    Inline,
    /// In a content-addressed object.
    Offloaded {
        /// `<prefix>/sha256-<hex>`.
        uri: String,
        /// The hex SHA-256 of the encoded payload.
        sha256: String,
    },
}

/// What an upload did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadOutcome {
    /// Nothing to upload: the payload is inline.
    Inline,
    /// The object was written.
    Uploaded {
        /// Its URI.
        uri: String,
        /// Its size.
        bytes: u64,
    },
    /// An object of the same name and size was already there (names are digests): skipped.
    AlreadyPresent {
        /// Its URI.
        uri: String,
    },
}

/// An instance task ready for registration: its [`Task`] (with loader args) and, when
/// offloaded, the payload that [`upload`](Self::upload) must put in place first.
#[derive(Clone, Debug)]
#[must_use = "an offloaded payload must be uploaded with `upload` before the task is registered"]
pub struct PreparedTask {
    task: Task,
    tag: &'static str,
    placement: Placement,
    payload: Bytes,
    raw_len: usize,
}

impl PreparedTask {
    /// The task (its template names the payload; upload it first when offloaded).
    pub fn task(&self) -> Task {
        self.task.clone()
    }

    /// The type tag.
    pub fn type_tag(&self) -> &'static str {
        self.tag
    }

    /// The loader args.
    pub fn loader_args(&self) -> &[String] {
        self.task.explicit_loader_args().unwrap_or(&[])
    }

    /// Where the payload travels.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    /// The encoded (compressed) payload size in bytes.
    pub fn payload_len(&self) -> usize {
        self.payload.len()
    }

    /// The serialized (uncompressed MessagePack) size in bytes.
    pub fn raw_len(&self) -> usize {
        self.raw_len
    }

    /// Puts an offloaded payload in place; does nothing for inline ones. An object of the same
    /// name and size is left alone (re-registering an unchanged payload uploads nothing).
    pub async fn upload(&self, storage: &Storage) -> Result<UploadOutcome, InstanceError> {
        match &self.placement {
            Placement::Inline => Ok(UploadOutcome::Inline),
            Placement::Offloaded { uri, .. } => {
                put_if_absent(storage, uri, self.payload.clone()).await
            }
        }
    }
}

/// Writes `data` at the content-addressed `uri` unless an object of the same size is there.
pub(crate) async fn put_if_absent(
    storage: &Storage,
    uri: &str,
    data: Bytes,
) -> Result<UploadOutcome, InstanceError> {
    let storage_err = |source: StorageError| InstanceError::Storage {
        uri: uri.to_string(),
        source: Box::new(source),
    };
    match storage.metadata(uri).await {
        Ok(info) if info.size == data.len() as u64 => {
            tracing::debug!("{uri} already exists; skipping the upload");
            return Ok(UploadOutcome::AlreadyPresent {
                uri: uri.to_string(),
            });
        }
        Ok(info) => tracing::warn!(
            "{uri} exists but has {} bytes instead of {}; uploading it again",
            info.size,
            data.len()
        ),
        Err(StorageError::NotFound { .. }) => {}
        Err(e) => return Err(storage_err(e)),
    }
    let bytes = data.len() as u64;
    storage.put(uri, data).await.map_err(storage_err)?;
    Ok(UploadOutcome::Uploaded {
        uri: uri.to_string(),
        bytes,
    })
}

/// Uploads every offloaded payload of `tasks` (see [`PreparedTask::upload`]).
pub async fn upload_payloads(
    storage: &Storage,
    tasks: &[PreparedTask],
) -> Result<Vec<UploadOutcome>, InstanceError> {
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.upload(storage).await?);
    }
    Ok(out)
}

/// The URI of a content-addressed object: `<prefix>/sha256-<hex>`.
pub fn content_uri(prefix: &str, sha256: &str) -> String {
    crate::storage::join(prefix, &format!("sha256-{sha256}"))
}

/// Serializes `value` and places its payload per `settings`. No I/O happens here: an offloaded
/// payload must then be put in place with [`PreparedTask::upload`] before the task is registered
/// (its loader args already name the content-addressed URI).
///
/// The value's task is built once now, so an invalid task fails at registration rather than in
/// the container.
pub fn instance_task<T: InstanceTask>(
    value: &T,
    settings: &PayloadSettings,
) -> Result<PreparedTask, InstanceError> {
    check_registered::<T>()?;
    let name = value
        .task()
        .build()
        .map_err(|source| InstanceError::Build {
            tag: T::TYPE_TAG.to_string(),
            source,
        })?
        .name()
        .to_string();
    let raw = encode_value(value)?;
    let raw_len = raw.len();
    let payload = compress(&raw)?;
    drop(raw);
    let b64_len = base64::encoded_len(payload.len(), false).unwrap_or(usize::MAX);
    let inline = match settings.mode {
        PayloadMode::Naive => {
            if b64_len > INLINE_HARD_LIMIT {
                return Err(InstanceError::NaiveTooLarge {
                    task: name,
                    size: b64_len,
                    limit: INLINE_HARD_LIMIT,
                });
            }
            tracing::warn!(
                "task {name}: naive instance payload ({b64_len} bytes) is inlined in the loader \
                 args, so it lives in every TaskTemplate in FlyteAdmin and Propeller's memory; \
                 offload it with PayloadSettings::offload_to(<prefix>) instead"
            );
            true
        }
        PayloadMode::Auto => b64_len <= settings.inline_threshold.min(INLINE_HARD_LIMIT),
        PayloadMode::Offload => false,
    };
    let (placement, args) = if inline {
        (Placement::Inline, inline_loader_args(T::TYPE_TAG, &payload))
    } else {
        let Some(prefix) = settings.offload_prefix.as_deref() else {
            return Err(InstanceError::NeedsOffload {
                task: name,
                size: b64_len,
                threshold: settings.inline_threshold.min(INLINE_HARD_LIMIT),
                forced: settings.mode == PayloadMode::Offload,
            });
        };
        let sha256 = sha256_hex(&payload);
        let uri = content_uri(prefix, &sha256);
        let args = offloaded_loader_args(T::TYPE_TAG, &uri, &sha256);
        let len: usize = args.iter().map(String::len).sum();
        if len > MAX_OFFLOADED_LOADER_ARGS {
            return Err(InstanceError::LoaderArgsTooLong {
                task: name,
                len,
                limit: MAX_OFFLOADED_LOADER_ARGS,
            });
        }
        (Placement::Offloaded { uri, sha256 }, args)
    };
    let task = value
        .task()
        .resolver(INSTANCE_RESOLVER_LOCATION, args)
        .build()
        .map_err(|source| InstanceError::Build {
            tag: T::TYPE_TAG.to_string(),
            source,
        })?;
    Ok(PreparedTask {
        task,
        tag: T::TYPE_TAG,
        placement,
        payload: Bytes::from(payload),
        raw_len,
    })
}

/// [`instance_task`] followed by [`PreparedTask::upload`]: the task, ready for `Task::template`.
pub async fn instance_task_uploaded<T: InstanceTask>(
    value: &T,
    settings: &PayloadSettings,
    storage: &Storage,
) -> Result<Task, InstanceError> {
    let prepared = instance_task(value, settings)?;
    prepared.upload(storage).await?;
    Ok(prepared.task())
}
