//! Where an instance task's payload travels — inline in the loader args, or offloaded to a
//! content-addressed store — and the prepared task that carries it to registration.

use bytes::Bytes;

use super::codec::{compress, encode_value, sha256_hex};
use super::loader_args::{inline_loader_args, offloaded_loader_args};
use super::registry::{InstanceTask, check_registered};
use super::{
    INLINE_HARD_LIMIT, INSTANCE_RESOLVER_LOCATION, InstanceError, MAX_OFFLOADED_LOADER_ARGS,
};
use crate::settings::{PayloadMode, PayloadSettings};
use crate::storage::{Storage, StorageError};
use crate::task::Task;

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
    let (placement, args) = place(T::TYPE_TAG, &name, &payload, settings)?;
    if settings.mode == PayloadMode::Naive {
        warn_naive(&name, payload.len());
    }
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

/// Warns that the payload of task `name` (`encoded_len` bytes) is inlined in naive mode.
pub(crate) fn warn_naive(name: &str, encoded_len: usize) {
    let b64_len = base64::encoded_len(encoded_len, false).unwrap_or(usize::MAX);
    tracing::warn!(
        "task {name}: naive instance payload ({b64_len} bytes) is inlined in the loader args, so \
         it lives in every TaskTemplate in FlyteAdmin and Propeller's memory; offload it to a \
         payload store instead (PayloadSettings::offload_to, or `package --payload-store`)"
    );
}

/// Where the encoded `payload` of the task `name` (type `tag`) travels under `settings`, and the
/// loader args that name it there: inline up to the threshold (always in naive mode, up to
/// [`INLINE_HARD_LIMIT`]; callers warn, see [`warn_naive`]), else offloaded to
/// `<prefix>/sha256-<hex>`.
pub(crate) fn place(
    tag: &str,
    name: &str,
    payload: &[u8],
    settings: &PayloadSettings,
) -> Result<(Placement, Vec<String>), InstanceError> {
    let b64_len = base64::encoded_len(payload.len(), false).unwrap_or(usize::MAX);
    let inline = match settings.mode {
        PayloadMode::Naive => {
            if b64_len > INLINE_HARD_LIMIT {
                return Err(InstanceError::NaiveTooLarge {
                    task: name.to_string(),
                    size: b64_len,
                    limit: INLINE_HARD_LIMIT,
                });
            }
            true
        }
        PayloadMode::Auto => b64_len <= settings.inline_threshold.min(INLINE_HARD_LIMIT),
        PayloadMode::Offload => false,
    };
    if inline {
        return Ok((Placement::Inline, inline_loader_args(tag, payload)));
    }
    let Some(prefix) = settings.offload_prefix.as_deref() else {
        return Err(InstanceError::NeedsOffload {
            task: name.to_string(),
            size: b64_len,
            threshold: settings.inline_threshold.min(INLINE_HARD_LIMIT),
            forced: settings.mode == PayloadMode::Offload,
        });
    };
    let sha256 = sha256_hex(payload);
    let uri = content_uri(prefix, &sha256);
    let args = offloaded_loader_args(tag, &uri, &sha256);
    let len: usize = args.iter().map(String::len).sum();
    if len > MAX_OFFLOADED_LOADER_ARGS {
        return Err(InstanceError::LoaderArgsTooLong {
            task: name.to_string(),
            len,
            limit: MAX_OFFLOADED_LOADER_ARGS,
        });
    }
    Ok((Placement::Offloaded { uri, sha256 }, args))
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
