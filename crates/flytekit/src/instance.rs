//! Instance tasks: tasks built at run time from data, the Rust answer to flytekit's
//! `ExperimentalNaiveCloudPickleResolver` (contract §3) done right.
//!
//! Rust cannot pickle closures. The honest equivalent is *registered code plus serialized data*:
//! an instance task is a value of a type that implements [`InstanceTask`] (serde) and is
//! registered in the binary with [`register_instance_type!`](crate::register_instance_type). The
//! value is serialized at registration; inside the container, the [`InstanceResolver`] finds the
//! registered type by its [`TYPE_TAG`](InstanceTask::TYPE_TAG), deserializes the value and asks it
//! for its task again. Payloads are data, never code: nothing in them is executed, and a payload
//! can only select code that the binary already holds.
//!
//! ```no_run
//! use flytekit::instance::{InstanceTask, PayloadSettings, instance_task};
//! use flytekit::task::{TaskBuilder, read_input, write_output};
//! use flytekit::idl::core::LiteralMap;
//!
//! /// One task per configured factor.
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Scale { factor: i64 }
//!
//! impl InstanceTask for Scale {
//!     const TYPE_TAG: &'static str = "myapp.Scale";
//!     fn task(&self) -> TaskBuilder {
//!         let factor = self.factor;
//!         TaskBuilder::new(format!("myapp.scale_{factor}"))
//!             .input::<i64>("x", "the number to scale")
//!             .output::<i64>("o0", "x times the factor")
//!             .body(move |cx, inputs| async move {
//!                 let name = format!("myapp.scale_{factor}");
//!                 let x: i64 = read_input(&name, &inputs, "x", cx.conversion()).await?;
//!                 let mut out = LiteralMap::default();
//!                 write_output(&name, &mut out, "o0", &(x * factor), cx.conversion()).await?;
//!                 Ok(out)
//!             })
//!     }
//! }
//! flytekit::register_instance_type!(Scale);
//!
//! # async fn demo(storage: flytekit::storage::Storage) -> Result<(), Box<dyn std::error::Error>> {
//! let settings = PayloadSettings::default().offload_to("s3://my-bucket/flytekit-payloads");
//! let prepared = instance_task(&Scale { factor: 3 }, &settings)?;
//! prepared.upload(&storage).await?; // before Task::template / registration
//! let task = prepared.task();
//! # let _ = task; Ok(()) }
//! ```
//!
//! # Where the payload goes
//! The payload is the value in MessagePack with field names (so added fields with
//! `#[serde(default)]` and reordered fields keep old payloads loadable), compressed with zlib.
//! [`PayloadSettings`] chooses where it travels:
//!
//! | mode | loader args | when |
//! |------|-------------|------|
//! | [`PayloadMode::Auto`] (default) | `type <tag> inline <base64url>` | encoded payload up to the inline threshold ([`DEFAULT_INLINE_THRESHOLD`], 4 KiB) |
//! | | `type <tag> uri <uri> sha256 <hex>` | larger: uploaded to `<prefix>/sha256-<hex>` |
//! | [`PayloadMode::Offload`] | `type <tag> uri <uri> sha256 <hex>` | always |
//! | [`PayloadMode::Naive`] | `type <tag> inline <base64url>` | always, with a warning, up to [`INLINE_HARD_LIMIT`] |
//!
//! Offloaded loader args stay under [`MAX_OFFLOADED_LOADER_ARGS`] (512) bytes whatever the
//! payload size, so the `TaskTemplate` stays small in FlyteAdmin and in Propeller's memory. Inline
//! payloads are refused above [`INLINE_HARD_LIMIT`] (100 KiB): Linux does not even start a
//! process with a 128 KiB argument, and Propeller's 2 MiB send limit and gRPC's 4 MiB default
//! message size have left real workflows stuck in RUNNING when templates grew.
//!
//! # Loading
//! [`InstanceResolver::load_with`] downloads an offloaded payload through an on-disk
//! [`PayloadCache`] keyed by digest (safe under concurrent tasks on one node: files are written
//! to a temporary name and renamed), verifies its SHA-256 *before* deserializing it, and fails
//! with a [`InstanceError`] that says what to do: a missing object names its URI, a digest
//! mismatch names both digests, an unknown type tag lists the registered ones, and a payload that
//! no longer deserializes names the type and the field.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use base64::Engine as _;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::resolver::{ResolveError, TaskResolver};
use crate::storage::{Storage, StorageError};
use crate::task::{ConfigError, SerializationSettings, Task, TaskBuilder};

/// The `--resolver` location of the instance resolver.
pub const INSTANCE_RESOLVER_LOCATION: &str = "flytekit.resolver.instance";

/// The default inline threshold: encoded payloads (base64 characters) up to this size travel in
/// the loader args; larger ones are offloaded in [`PayloadMode::Auto`].
pub const DEFAULT_INLINE_THRESHOLD: usize = 4 * 1024;

/// No payload is ever inlined above this many base64 characters, in any mode (naive included).
/// Two limits set it: Linux refuses to start a process with a single argument of 128 KiB or more
/// (`MAX_ARG_STRLEN`), so the container would fail with `E2BIG` before any code runs; and the
/// `TaskTemplate` must stay far below Propeller's 2 MiB send limit and gRPC's 4 MiB default.
pub const INLINE_HARD_LIMIT: usize = 100 * 1024;

/// Offloaded loader args (all elements, bytes) never exceed this.
pub const MAX_OFFLOADED_LOADER_ARGS: usize = 512;

/// A payload never decompresses to more than this many bytes (a guard against corrupt or hostile
/// payloads that would exhaust memory).
pub const MAX_DECODED_PAYLOAD: u64 = 2 * 1024 * 1024 * 1024;

/// The environment variable naming the cache directory (shared with the local engine's cache);
/// payloads go to its `payloads/` subdirectory.
pub const CACHE_DIR_ENV: &str = crate::engine::CACHE_DIR_ENV;

/// A value that knows how to build a task from itself: the unit of an instance task.
///
/// Implement it for a serde type, register the type with
/// [`register_instance_type!`](crate::register_instance_type), and turn values into tasks with
/// [`instance_task`] (or put many of them in a [`bundle`](crate::bundle)).
pub trait InstanceTask: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The stable tag that names this type in loader args. It must be unique in the binary and
    /// should not change once tasks are registered (e.g. `"myapp.Scale"`).
    const TYPE_TAG: &'static str;

    /// The task this value stands for: name, interface and body (any other configuration —
    /// resources, retries, image — may be set too). The resolver and loader args are set by
    /// flytekit; do not call [`TaskBuilder::resolver`].
    fn task(&self) -> TaskBuilder;
}

/// A type registered as an instance-task type (see
/// [`register_instance_type!`](crate::register_instance_type)).
pub struct InstanceType {
    tag: &'static str,
    type_name: fn() -> &'static str,
    build: fn(&[u8]) -> Result<TaskBuilder, InstanceError>,
}

impl InstanceType {
    /// The registration of `T`.
    pub const fn of<T: InstanceTask>() -> Self {
        Self {
            tag: T::TYPE_TAG,
            type_name: std::any::type_name::<T>,
            build: build_from_msgpack::<T>,
        }
    }

    /// The type tag.
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// The Rust type's name.
    pub fn type_name(&self) -> &'static str {
        (self.type_name)()
    }

    /// Deserializes a value of this type from its (uncompressed) MessagePack payload and returns
    /// its task builder. A payload that does not fit the type is [`InstanceError::SchemaDrift`].
    pub fn builder_from_payload(&self, msgpack: &[u8]) -> Result<TaskBuilder, InstanceError> {
        (self.build)(msgpack)
    }
}

inventory::collect!(InstanceType);

/// Registers an [`InstanceTask`] type so the resolvers can rebuild its values inside the
/// container: `flytekit::register_instance_type!(Scale);` at module level.
#[macro_export]
macro_rules! register_instance_type {
    ($t:ty) => {
        $crate::inventory::submit! {
            $crate::instance::InstanceType::of::<$t>()
        }
    };
}

/// The instance-task types registered in this binary, as `(tag, Rust type)`, sorted by tag.
pub fn registered_types() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<_> = inventory::iter::<InstanceType>()
        .map(|t| (t.tag(), t.type_name()))
        .collect();
    all.sort();
    all
}

fn known_tags() -> String {
    let all = registered_types();
    if all.is_empty() {
        "none".to_string()
    } else {
        all.iter()
            .map(|(tag, ty)| format!("{tag} ({ty})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The registered type with tag `tag`.
pub fn find_type(tag: &str) -> Result<&'static InstanceType, InstanceError> {
    let mut found: Vec<&'static InstanceType> = inventory::iter::<InstanceType>()
        .filter(|t| t.tag() == tag)
        .collect();
    match found.len() {
        0 => Err(InstanceError::UnknownType {
            tag: tag.to_string(),
            known: known_tags(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(InstanceError::DuplicateTag {
            tag: tag.to_string(),
            types: found.iter().map(|t| t.type_name().to_string()).collect(),
        }),
    }
}

/// Checks at registration time that `T` is the one type registered under its tag.
pub(crate) fn check_registered<T: InstanceTask>() -> Result<(), InstanceError> {
    let wanted = std::any::type_name::<T>();
    match find_type(T::TYPE_TAG) {
        Ok(t) if t.type_name() == wanted => Ok(()),
        Ok(t) => Err(InstanceError::DuplicateTag {
            tag: T::TYPE_TAG.to_string(),
            types: vec![t.type_name().to_string(), wanted.to_string()],
        }),
        Err(InstanceError::UnknownType { .. }) => Err(InstanceError::NotRegistered {
            tag: T::TYPE_TAG.to_string(),
            type_name: wanted.to_string(),
        }),
        Err(e) => Err(e),
    }
}

fn build_from_msgpack<T: InstanceTask>(msgpack: &[u8]) -> Result<TaskBuilder, InstanceError> {
    decode_value::<T>(T::TYPE_TAG, msgpack).map(|v| v.task())
}

/// Deserializes a MessagePack payload into `T`; a mismatch is [`InstanceError::SchemaDrift`]
/// naming `tag`, the Rust type and the path of the field that failed.
pub fn decode_value<T: DeserializeOwned>(tag: &str, msgpack: &[u8]) -> Result<T, InstanceError> {
    let mut de = rmp_serde::Deserializer::new(msgpack);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        InstanceError::SchemaDrift {
            tag: tag.to_string(),
            type_name: std::any::type_name::<T>().to_string(),
            path: if path == "." { String::new() } else { path },
            message: {
                let m = e.into_inner().to_string();
                if m.starts_with("wrong msgpack marker") {
                    format!("{m} (the field holds a value of another type than the one declared)")
                } else {
                    m
                }
            },
        }
    })
}

/// Serializes `value` to MessagePack with field names (the uncompressed payload).
pub fn encode_value<T: Serialize>(value: &T) -> Result<Vec<u8>, InstanceError> {
    rmp_serde::to_vec_named(value).map_err(|e| InstanceError::Encode {
        type_name: std::any::type_name::<T>().to_string(),
        message: e.to_string(),
    })
}

/// The encoded payload of `value`: MessagePack with field names, zlib-compressed. This is what
/// travels inline (base64url) or is uploaded.
pub fn encode_payload<T: Serialize>(value: &T) -> Result<Vec<u8>, InstanceError> {
    compress(&encode_value(value)?)
}

pub(crate) fn compress(data: &[u8]) -> Result<Vec<u8>, InstanceError> {
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::default(),
    );
    enc.write_all(data)
        .and_then(|_| enc.finish())
        .map_err(|e| InstanceError::Encode {
            type_name: "payload".into(),
            message: format!("compression failed: {e}"),
        })
}

/// Decompresses an encoded payload (at most [`MAX_DECODED_PAYLOAD`] bytes). `what` names the
/// payload in errors.
pub(crate) fn decompress(data: &[u8], what: &str) -> Result<Vec<u8>, InstanceError> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(2).min(1 << 26));
    let mut dec = flate2::read::ZlibDecoder::new(data).take(MAX_DECODED_PAYLOAD + 1);
    dec.read_to_end(&mut out)
        .map_err(|e| InstanceError::Corrupt {
            what: what.to_string(),
            message: format!("not a zlib stream ({e})"),
        })?;
    if out.len() as u64 > MAX_DECODED_PAYLOAD {
        return Err(InstanceError::Corrupt {
            what: what.to_string(),
            message: format!("it decompresses to more than {MAX_DECODED_PAYLOAD} bytes"),
        });
    }
    Ok(out)
}

/// The hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

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

/// The URL-safe, unpadded base64 alphabet of inline payloads.
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Loader args of an inline payload: `type <tag> inline <base64url(encoded)>`.
pub fn inline_loader_args(tag: &str, encoded: &[u8]) -> Vec<String> {
    vec![
        "type".into(),
        tag.into(),
        "inline".into(),
        B64.encode(encoded),
    ]
}

/// Loader args of an offloaded payload: `type <tag> uri <uri> sha256 <hex>`.
pub fn offloaded_loader_args(tag: &str, uri: &str, sha256: &str) -> Vec<String> {
    vec![
        "type".into(),
        tag.into(),
        "uri".into(),
        uri.into(),
        "sha256".into(),
        sha256.into(),
    ]
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

/// Parsed instance-resolver loader args.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoaderArgs {
    /// `type <tag> inline <base64url>`.
    Inline {
        /// The type tag.
        tag: String,
        /// The encoded payload.
        payload: Vec<u8>,
    },
    /// `type <tag> uri <uri> sha256 <hex>`.
    Offloaded {
        /// The type tag.
        tag: String,
        /// Where the encoded payload is.
        uri: String,
        /// Its hex SHA-256.
        sha256: String,
    },
}

/// The shapes the instance resolver accepts.
const EXPECTED: &str =
    "type <tag> inline <base64url payload>, or type <tag> uri <uri> sha256 <64 hex digits>";

/// A loader-args list shortened for error messages (inline payloads can be large).
pub(crate) fn shorten(args: &[String]) -> Vec<String> {
    args.iter()
        .map(|a| {
            if a.len() > 96 {
                let cut = (0..=96).rev().find(|i| a.is_char_boundary(*i)).unwrap_or(0);
                format!("{}...({} bytes)", &a[..cut], a.len())
            } else {
                a.clone()
            }
        })
        .collect()
}

/// Checks that `hex` is a lowercase hex SHA-256 (it becomes a file name in the cache).
pub(crate) fn valid_sha256(hex: &str) -> bool {
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl LoaderArgs {
    /// Parses loader args.
    pub fn parse(args: &[String]) -> Result<Self, InstanceError> {
        let bad = || InstanceError::BadLoaderArgs {
            args: shorten(args),
            expected: EXPECTED.to_string(),
        };
        match args {
            [k, tag, m, payload] if k == "type" && m == "inline" => {
                let payload = B64.decode(payload.trim_end_matches('=')).map_err(|e| {
                    InstanceError::Corrupt {
                        what: format!("the inline payload of type {tag}"),
                        message: format!("not URL-safe base64 ({e})"),
                    }
                })?;
                Ok(LoaderArgs::Inline {
                    tag: tag.clone(),
                    payload,
                })
            }
            [k, tag, u, uri, s, sha] if k == "type" && u == "uri" && s == "sha256" => {
                if !valid_sha256(sha) {
                    return Err(bad());
                }
                Ok(LoaderArgs::Offloaded {
                    tag: tag.clone(),
                    uri: uri.clone(),
                    sha256: sha.clone(),
                })
            }
            _ => Err(bad()),
        }
    }

    /// The type tag.
    pub fn tag(&self) -> &str {
        match self {
            LoaderArgs::Inline { tag, .. } | LoaderArgs::Offloaded { tag, .. } => tag,
        }
    }
}

/// Whether a fetched object came from the cache or the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// Read from the on-disk cache (verified).
    Cache,
    /// Downloaded (verified, then cached).
    Download,
}

/// An on-disk cache of content-addressed objects, keyed by SHA-256: `<dir>/sha256-<hex>`.
///
/// Only verified content is written, under a temporary name that is renamed into place, so
/// concurrent tasks on one node never see a partial file; a cached file is verified again when
/// read, and a corrupt one is replaced by a fresh download. Failing to write the cache is not an
/// error (the load goes on without it). The cache is bounded: after a download, the least
/// recently used objects are removed until the directory holds at most
/// [`max_bytes`](Self::with_max_bytes) (a hit counts as a use). A reader that loses its file to
/// eviction simply downloads it again.
#[derive(Clone, Debug)]
pub struct PayloadCache {
    dir: PathBuf,
    max_bytes: u64,
}

/// The environment variable bounding the payload cache, in bytes.
pub const CACHE_MAX_BYTES_ENV: &str = "FLYTEKIT_PAYLOAD_CACHE_MAX_BYTES";

/// The payload cache's default bound: 1 GiB.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 1024 * 1024 * 1024;

impl PayloadCache {
    /// A cache in `dir`, bounded by [`DEFAULT_CACHE_MAX_BYTES`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_bytes: DEFAULT_CACHE_MAX_BYTES,
        }
    }

    /// The same cache, bounded by `max_bytes` (the object just downloaded always stays).
    pub fn with_max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The default cache: `$FLYTEKIT_CACHE_DIR/payloads`, else
    /// `$XDG_CACHE_HOME/flytekit-rs/payloads`, else `~/.cache/flytekit-rs/payloads`; bounded by
    /// `$FLYTEKIT_PAYLOAD_CACHE_MAX_BYTES` (an unparsable value is reported and ignored).
    pub fn from_env() -> Self {
        let cache = Self::new(crate::engine::default_cache_dir().join("payloads"));
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
        &self.dir
    }

    /// Where the object with digest `sha256` is cached.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("sha256-{sha256}"))
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
        let path = self.path(sha256);
        match tokio::fs::read(&path).await {
            Ok(data) => {
                if sha256_hex(&data) == sha256 {
                    tracing::info!("cache hit for {uri}: {}", path.display());
                    touch(&path);
                    return Ok((Bytes::from(data), Fetched::Cache));
                }
                tracing::warn!(
                    "cached {} does not match its digest; downloading {uri} again",
                    path.display()
                );
                let _ = tokio::fs::remove_file(&path).await;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("cannot read the cache file {}: {e}", path.display()),
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
        if let Err(e) = self.store(&path, &data).await {
            tracing::warn!("cannot cache {uri} at {}: {e}", path.display());
        }
        let (dir, max, keep) = (self.dir.clone(), self.max_bytes, path.clone());
        match tokio::task::spawn_blocking(move || evict(&dir, max, &keep)).await {
            Ok(Err(e)) => tracing::warn!("cannot trim the cache {}: {e}", self.dir.display()),
            Err(e) => tracing::warn!("cannot trim the cache {}: {e}", self.dir.display()),
            Ok(Ok(())) => {}
        }
        Ok((data, Fetched::Download))
    }

    /// Writes verified `data` to `path` through a temporary file in the same directory.
    async fn store(&self, path: &Path, data: &Bytes) -> std::io::Result<()> {
        let dir = self.dir.clone();
        let path = path.to_path_buf();
        let data = data.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let mut tmp = tempfile::Builder::new()
                .prefix(".download-")
                .tempfile_in(&dir)?;
            tmp.write_all(&data)?;
            tmp.as_file().sync_all()?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
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

/// The instance resolver (`--resolver flytekit.resolver.instance`): rebuilds instance tasks from
/// their loader args.
pub struct InstanceResolver;

/// The instance resolver's instance.
pub static INSTANCE_RESOLVER: InstanceResolver = InstanceResolver;

crate::register_resolver!(INSTANCE_RESOLVER);

impl InstanceResolver {
    /// Loads the task of `args` with an explicit storage and cache (what
    /// [`load_task`](TaskResolver::load_task) does with the environment's).
    pub async fn load_with(
        &self,
        storage: &Storage,
        cache: &PayloadCache,
        args: &[String],
    ) -> Result<Task, InstanceError> {
        let parsed = LoaderArgs::parse(args)?;
        // The type is looked up first: an unknown tag needs no download.
        let ty = find_type(parsed.tag())?;
        let encoded = match &parsed {
            LoaderArgs::Inline { payload, .. } => Bytes::from(payload.clone()),
            LoaderArgs::Offloaded { uri, sha256, .. } => cache.fetch(storage, uri, sha256).await?.0,
        };
        let what = match &parsed {
            LoaderArgs::Inline { tag, .. } => format!("the inline payload of type {tag}"),
            LoaderArgs::Offloaded { uri, .. } => format!("the payload at {uri}"),
        };
        let raw = decompress(&encoded, &what)?;
        drop(encoded);
        ty.builder_from_payload(&raw)?
            .resolver(INSTANCE_RESOLVER_LOCATION, args.to_vec())
            .build()
            .map_err(|source| InstanceError::Build {
                tag: ty.tag().to_string(),
                source,
            })
    }
}

#[async_trait]
impl TaskResolver for InstanceResolver {
    fn location(&self) -> &str {
        INSTANCE_RESOLVER_LOCATION
    }

    fn loader_args(
        &self,
        _settings: &SerializationSettings,
        task: &Task,
    ) -> Result<Vec<String>, String> {
        Err(format!(
            "task {} names the instance resolver but carries no loader args; build instance \
             tasks with flytekit::instance::instance_task",
            task.name()
        ))
    }

    async fn load_task(&self, args: &[String]) -> Result<Task, ResolveError> {
        let storage = Storage::try_new().map_err(|e| ResolveError::Other(e.to_string()))?;
        self.load_with(&storage, &PayloadCache::from_env(), args)
            .await
            .map_err(ResolveError::from)
    }
}

/// Why an instance task could not be serialized or loaded. Load errors become USER errors in
/// `error.pb`; each says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstanceError {
    /// The value could not be serialized.
    #[error("cannot serialize {type_name}: {message}")]
    Encode {
        /// The Rust type.
        type_name: String,
        /// serde's message.
        message: String,
    },
    /// The type is not registered in this binary, so no container could rebuild it.
    #[error(
        "instance type {type_name} (tag '{tag}') is not registered in this binary, so the container \
         could not rebuild it; add flytekit::register_instance_type!({type_name}) at module level"
    )]
    NotRegistered {
        /// The tag.
        tag: String,
        /// The Rust type.
        type_name: String,
    },
    /// Several types share a tag.
    #[error(
        "instance type tag '{tag}' is registered by several types ({}); give each type its own TYPE_TAG",
        types.join(", ")
    )]
    DuplicateTag {
        /// The tag.
        tag: String,
        /// The Rust types.
        types: Vec<String>,
    },
    /// The value's task could not be built.
    #[error("instance of type '{tag}': invalid task: {source}")]
    Build {
        /// The tag.
        tag: String,
        /// The configuration error.
        #[source]
        source: ConfigError,
    },
    /// The payload is too large to inline and no offload prefix is set.
    #[error(
        "task {task}: {reason}, and no offload prefix is set; call \
         PayloadSettings::offload_to(\"s3://<bucket>/<prefix>\") so it is uploaded at registration{}",
        if *forced { "" } else { ", or raise the inline threshold" },
        reason = if *forced {
            format!("the payload ({size} bytes encoded) must be offloaded (PayloadMode::Offload)")
        } else {
            format!("the payload is {size} bytes encoded, over the inline threshold of {threshold}")
        }
    )]
    NeedsOffload {
        /// The task.
        task: String,
        /// The encoded size (base64 characters).
        size: usize,
        /// The inline threshold in force.
        threshold: usize,
        /// Whether offloading was forced by the mode.
        forced: bool,
    },
    /// A naive (inline) payload is over the hard limit.
    #[error(
        "task {task}: the naive inline payload is {size} bytes of loader args, over the hard limit \
         of {limit} bytes: Linux does not start a container with a 128 KiB argument (E2BIG), and \
         templates that grow past Propeller's 2 MiB send limit or gRPC's 4 MiB default leave \
         workflows stuck in RUNNING; offload it instead with \
         PayloadSettings::default().offload_to(\"s3://<bucket>/<prefix>\")"
    )]
    NaiveTooLarge {
        /// The task.
        task: String,
        /// The encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Offloaded loader args would be too long (a very long prefix or tag).
    #[error(
        "task {task}: offloaded loader args would be {len} bytes, over {limit}; use a shorter \
         offload prefix or type tag"
    )]
    LoaderArgsTooLong {
        /// The task.
        task: String,
        /// Their length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The loader args do not have the resolver's shape.
    #[error("bad loader args {args:?}: expected {expected}")]
    BadLoaderArgs {
        /// The args received (long ones shortened).
        args: Vec<String>,
        /// The shapes accepted.
        expected: String,
    },
    /// No type with this tag is registered in the binary that runs the task.
    #[error(
        "unknown instance type tag '{tag}': this binary registers {known}; was the task serialized \
         by a different binary? Rebuild the image from the code that registered it (or use fast \
         registration so that binary runs)"
    )]
    UnknownType {
        /// The tag.
        tag: String,
        /// The registered tags and types.
        known: String,
    },
    /// The payload no longer deserializes into its type: the type changed since registration.
    #[error(
        "the payload of instance type '{tag}' no longer deserializes into {type_name}{}: {message}. \
         The type changed since the task was registered (schema drift): re-register the task with \
         this binary, or keep old payloads readable (#[serde(default)] on new fields, \
         #[serde(alias = \"old_name\")] on renamed ones)",
        if path.is_empty() { String::new() } else { format!(" at field `{path}`") }
    )]
    SchemaDrift {
        /// The tag.
        tag: String,
        /// The Rust type.
        type_name: String,
        /// The path of the field that failed (empty for the value itself).
        path: String,
        /// serde's message (it names a missing or unknown field).
        message: String,
    },
    /// There is no object at the payload's URI.
    #[error(
        "the payload object {uri} does not exist: it is uploaded at registration (PreparedTask::upload \
         / PreparedBundle::upload); re-register the task, and check that nothing deletes objects under \
         that prefix"
    )]
    Missing {
        /// The URI.
        uri: String,
    },
    /// The object's content does not have the digest the task was registered with.
    #[error(
        "the payload object {uri} has SHA-256 {actual}, but the task was registered with {expected}: \
         the object was modified after registration (tampering or corruption); it was not \
         deserialized. Re-register the task to upload it again, and check who can write to that prefix"
    )]
    DigestMismatch {
        /// The URI.
        uri: String,
        /// The digest in the loader args.
        expected: String,
        /// The digest of the content found.
        actual: String,
    },
    /// The payload is not a valid encoding.
    #[error("{what} is corrupt: {message}; re-register the task")]
    Corrupt {
        /// Which payload.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// The store failed.
    #[error("payload {uri}: {source}")]
    Storage {
        /// The URI.
        uri: String,
        /// The storage error (boxed: it is large).
        #[source]
        source: Box<StorageError>,
    },
}

impl From<InstanceError> for ResolveError {
    fn from(e: InstanceError) -> Self {
        match e {
            InstanceError::BadLoaderArgs { args, expected } => {
                ResolveError::BadLoaderArgs { args, expected }
            }
            other => ResolveError::Other(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flytekit_idl::core::LiteralMap;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Unit {
        factor: i64,
        note: String,
    }

    impl InstanceTask for Unit {
        const TYPE_TAG: &'static str = "flytekit.tests.Unit";
        fn task(&self) -> TaskBuilder {
            TaskBuilder::new(format!("tests.unit_{}", self.factor))
                .body(|_, _| async { Ok(LiteralMap::default()) })
        }
    }
    crate::register_instance_type!(Unit);

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Unregistered {
        x: i64,
    }

    impl InstanceTask for Unregistered {
        const TYPE_TAG: &'static str = "flytekit.tests.Unregistered";
        fn task(&self) -> TaskBuilder {
            TaskBuilder::new("tests.unregistered").body(|_, _| async { Ok(LiteralMap::default()) })
        }
    }

    fn unit(note_len: usize) -> Unit {
        // Incompressible-ish text so sizes are predictable.
        let mut s = 0x9e3779b97f4a7c15u64;
        let note = (0..note_len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (b'a' + (s % 26) as u8) as char
            })
            .collect();
        Unit { factor: 3, note }
    }

    /// The cache keeps at most its bound, dropping the least recently used objects first; the
    /// object just downloaded stays even when it alone exceeds the bound.
    #[tokio::test]
    async fn the_payload_cache_evicts_least_recently_used_objects() {
        let storage = Storage::new();
        let dir = tempfile::tempdir().unwrap();
        let cache = PayloadCache::new(dir.path()).with_max_bytes(2500);
        let mut objects = Vec::new();
        for i in 0..4u8 {
            let data = vec![i; 1000];
            let uri = format!("memory://cache-test/{i}");
            storage.put(&uri, data.clone()).await.unwrap();
            objects.push((uri, sha256_hex(&data)));
        }
        let fetch = |i: usize| {
            let (uri, sha) = objects[i].clone();
            let (storage, cache) = (storage.clone(), cache.clone());
            async move { cache.fetch(&storage, &uri, &sha).await.unwrap().1 }
        };
        let cached = |i: usize| cache.path(&objects[i].1).exists();
        assert_eq!(fetch(0).await, Fetched::Download);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(fetch(1).await, Fetched::Download);
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Using 0 again makes 1 the least recently used.
        assert_eq!(fetch(0).await, Fetched::Cache);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(fetch(2).await, Fetched::Download);
        assert!(cached(0) && !cached(1) && cached(2));
        assert_eq!(fetch(1).await, Fetched::Download);

        let tiny = PayloadCache::new(dir.path()).with_max_bytes(10);
        let (uri, sha) = objects[3].clone();
        assert_eq!(
            tiny.fetch(&storage, &uri, &sha).await.unwrap().1,
            Fetched::Download
        );
        assert!((0..3).all(|i| !cached(i)) && cached(3));
    }

    #[tokio::test]
    async fn small_payloads_inline_large_ones_offload_and_round_trip() {
        let storage = Storage::new();
        let cache_dir = tempfile::tempdir().unwrap();
        let cache = PayloadCache::new(cache_dir.path());
        let settings = PayloadSettings::default().offload_to("memory://payloads");

        let small = instance_task(&unit(10), &settings).unwrap();
        assert_eq!(small.placement(), &Placement::Inline);
        assert_eq!(small.loader_args()[..3], ["type", Unit::TYPE_TAG, "inline"]);
        assert_eq!(small.upload(&storage).await.unwrap(), UploadOutcome::Inline);
        let t = INSTANCE_RESOLVER
            .load_with(&storage, &cache, small.loader_args())
            .await
            .unwrap();
        assert_eq!(t.name(), "tests.unit_3");
        assert_eq!(t.explicit_loader_args(), Some(small.loader_args()));

        let big = instance_task(&unit(100_000), &settings).unwrap();
        let Placement::Offloaded { uri, sha256 } = big.placement().clone() else {
            panic!("not offloaded")
        };
        assert!(uri.ends_with(&format!("sha256-{sha256}")));
        let len: usize = big.loader_args().iter().map(String::len).sum();
        assert!(len < MAX_OFFLOADED_LOADER_ARGS, "{len}");
        assert!(matches!(
            big.upload(&storage).await.unwrap(),
            UploadOutcome::Uploaded { .. }
        ));
        assert!(matches!(
            big.upload(&storage).await.unwrap(),
            UploadOutcome::AlreadyPresent { .. }
        ));
        let (_, how) = cache.fetch(&storage, &uri, &sha256).await.unwrap();
        assert_eq!(how, Fetched::Download);
        let (_, how) = cache.fetch(&storage, &uri, &sha256).await.unwrap();
        assert_eq!(how, Fetched::Cache);
        INSTANCE_RESOLVER
            .load_with(&storage, &cache, big.loader_args())
            .await
            .unwrap();
    }

    #[test]
    fn placement_rules_and_their_errors() {
        // Auto without a prefix: fine while small, an error naming the fix when large.
        let none = PayloadSettings::default();
        assert!(instance_task(&unit(10), &none).is_ok());
        let e = instance_task(&unit(10_000), &none).unwrap_err();
        assert!(e.to_string().contains("offload_to"), "{e}");
        // Threshold is configurable.
        let p = instance_task(&unit(10_000), &none.clone().inline_threshold(1 << 15)).unwrap();
        assert_eq!(p.placement(), &Placement::Inline);
        // Forced offload.
        let e = instance_task(&unit(1), &none.clone().always_offload()).unwrap_err();
        assert!(
            matches!(e, InstanceError::NeedsOffload { forced: true, .. }),
            "{e}"
        );
        // Naive: inline whatever the threshold, refused past the hard limit.
        let p = instance_task(&unit(50_000), &none.clone().naive()).unwrap();
        assert_eq!(p.placement(), &Placement::Inline);
        let e = instance_task(&unit(200_000), &none.clone().naive()).unwrap_err();
        assert!(matches!(e, InstanceError::NaiveTooLarge { .. }), "{e}");
        assert!(e.to_string().contains("offload"), "{e}");
        // Too long a prefix.
        let long = none.offload_to(format!("s3://b/{}", "p".repeat(500)));
        let e = instance_task(&unit(1), &long.always_offload()).unwrap_err();
        assert!(matches!(e, InstanceError::LoaderArgsTooLong { .. }), "{e}");
        // Unregistered types are refused at registration.
        let e = instance_task(&Unregistered { x: 1 }, &PayloadSettings::default()).unwrap_err();
        assert!(e.to_string().contains("register_instance_type!"), "{e}");
    }

    #[tokio::test]
    async fn load_errors_say_what_is_wrong() {
        let storage = Storage::new();
        let cache = PayloadCache::new(tempfile::tempdir().unwrap().keep());
        let load = |args: Vec<String>| {
            let storage = storage.clone();
            let cache = cache.clone();
            async move { INSTANCE_RESOLVER.load_with(&storage, &cache, &args).await }
        };
        let payload = encode_payload(&unit(5)).unwrap();

        let e = load(inline_loader_args("no.such.Type", &payload))
            .await
            .unwrap_err();
        assert!(e.to_string().contains(Unit::TYPE_TAG), "{e}");

        #[derive(serde::Serialize)]
        struct Old {
            factor: String,
        }
        let old = encode_payload(&Old { factor: "x".into() }).unwrap();
        let e = load(inline_loader_args(Unit::TYPE_TAG, &old))
            .await
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("`factor`") && msg.contains("Unit"), "{msg}");

        let e = load(vec![
            "type".into(),
            Unit::TYPE_TAG.into(),
            "inline".into(),
            "@@".into(),
        ])
        .await
        .unwrap_err();
        assert!(matches!(e, InstanceError::Corrupt { .. }), "{e}");
        let e = load(inline_loader_args(Unit::TYPE_TAG, b"not zlib"))
            .await
            .unwrap_err();
        assert!(matches!(e, InstanceError::Corrupt { .. }), "{e}");

        let sha = sha256_hex(&payload);
        let uri = "memory://payloads/missing";
        let e = load(offloaded_loader_args(Unit::TYPE_TAG, uri, &sha))
            .await
            .unwrap_err();
        assert!(
            matches!(e, InstanceError::Missing { .. }) && e.to_string().contains(uri),
            "{e}"
        );

        storage
            .put("memory://payloads/tampered", b"other".to_vec())
            .await
            .unwrap();
        let e = load(offloaded_loader_args(
            Unit::TYPE_TAG,
            "memory://payloads/tampered",
            &sha,
        ))
        .await
        .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&sha) && msg.contains(&sha256_hex(b"other")),
            "{msg}"
        );

        // A digest that is not one (it would become a cache file name) is refused.
        let e = load(offloaded_loader_args(
            Unit::TYPE_TAG,
            uri,
            "../../etc/passwd",
        ))
        .await
        .unwrap_err();
        assert!(matches!(e, InstanceError::BadLoaderArgs { .. }), "{e}");
        let e = load(vec!["type".into()]).await.unwrap_err();
        assert!(matches!(e, InstanceError::BadLoaderArgs { .. }), "{e}");
    }
}
