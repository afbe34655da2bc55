//! Bundles: many instance entities in one uploaded file, the Rust analog of flytekit's
//! `PickledEntity` / `DefaultNotebookTaskResolver` (contract §2).
//!
//! A bundle holds [`InstanceTask`] values (each under its task's name) plus [`BundleMetadata`]:
//! the bundle format version, the SDK version, and the identity of the binary whose registered
//! code the entities need ([`BinaryIdentity`]: the SHA-256 of the executable, or an explicit build
//! id). It is uploaded once, content-addressed (`<prefix>/sha256-<hex>`), and every task in it
//! gets the loader args `bundle <uri> sha256 <hex> entity <name>` for the
//! [`BundleResolver`] (`--resolver flytekit.resolver.bundle`).
//!
//! At load the bundle is fetched through the [`PayloadCache`] (keyed by digest), its SHA-256 is
//! verified before anything in it is parsed, and its metadata is checked the way
//! `PickledEntityMetadata` checks Python's major.minor, but tighter: the format version, the SDK
//! version and the binary identity must all match this binary, and a mismatch names both sides
//! and says what to do (rebuild the image, or use fast registration so the bundle's binary runs).
//! An entity that is not in the bundle is reported with the list of those that are.
//!
//! # File format (version 1)
//! ```text
//! "FLYTEKIT-RS-BUNDLE\n"       19 bytes, the magic
//! format version               u32, little endian
//! metadata length              u32, little endian
//! metadata                     JSON: {"sdk_version": "...", "binary": {"executable_sha256": "..."} | {"build_id": "..."}}
//! entities                     zlib(MessagePack map: name -> {"type_tag": str, "payload": bin})
//! ```
//! Each entity payload is the value's MessagePack with field names (as in
//! [`encode_value`]). Nothing in a bundle is code: an entity can only
//! select a type the binary registered. The file is deterministic for the same entities and
//! metadata, so re-registering an unchanged bundle uploads nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::instance::{
    InstanceError, InstanceTask, MAX_OFFLOADED_LOADER_ARGS, PayloadCache, UploadOutcome,
    check_registered, compress, content_uri, decompress, encode_value, find_type, put_if_absent,
    sha256_hex, shorten, valid_sha256,
};
use crate::resolver::{ResolveError, TaskResolver};
use crate::settings::SerializationSettings;
use crate::storage::Storage;
use crate::task::Task;

/// The `--resolver` location of the bundle resolver.
pub const BUNDLE_RESOLVER_LOCATION: &str = "flytekit.resolver.bundle";

/// The bundle format this SDK writes and reads.
pub const BUNDLE_FORMAT_VERSION: u32 = 1;

/// This SDK's version (the `flytekit` crate's), recorded in bundles.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The environment variable that gives the running binary's build id (see
/// [`BinaryIdentity::BuildId`]); [`set_build_id`] takes precedence.
pub const BUILD_ID_ENV: &str = "FLYTEKIT_BUILD_ID";

const MAGIC: &[u8] = b"FLYTEKIT-RS-BUNDLE\n";

/// Which binary a bundle's entities need: they name registered types, which only the binary
/// that registered them (or one built from the same code) can rebuild.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryIdentity {
    /// The hex SHA-256 of the executable file: exact, needs no setup.
    ExecutableSha256(String),
    /// A build id chosen by the user (a git commit, a CI build number), compared with
    /// [`current_build_id`] in the container: survives rebuilds that are not byte-identical.
    BuildId(String),
}

impl std::fmt::Display for BinaryIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BinaryIdentity::ExecutableSha256(h) => write!(f, "executable sha256 {h}"),
            BinaryIdentity::BuildId(id) => write!(f, "build id '{id}'"),
        }
    }
}

static BUILD_ID: Mutex<Option<String>> = Mutex::new(None);

/// Sets this binary's build id (call it first thing in `main`, before `flytekit::main()`, e.g.
/// with `env!("GIT_COMMIT")`): bundles written by this binary then carry it, and bundles loaded
/// by it are checked against it.
pub fn set_build_id(id: impl Into<String>) {
    let mut g = BUILD_ID
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *g = Some(id.into());
}

/// This binary's build id: the one given to [`set_build_id`], else `$FLYTEKIT_BUILD_ID`.
pub fn current_build_id() -> Option<String> {
    let set = BUILD_ID
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    set.or_else(|| std::env::var(BUILD_ID_ENV).ok().filter(|s| !s.is_empty()))
}

/// The hex SHA-256 of the running executable (computed once per process).
pub fn current_executable_sha256() -> Result<String, BundleError> {
    static DIGEST: OnceLock<Result<String, String>> = OnceLock::new();
    DIGEST
        .get_or_init(|| {
            let exe = std::env::current_exe()
                .map_err(|e| format!("cannot locate the running executable: {e}"))?;
            file_sha256(&exe).map_err(|e| format!("cannot hash {}: {e}", exe.display()))
        })
        .clone()
        .map_err(BundleError::Identity)
}

fn file_sha256(path: &Path) -> std::io::Result<String> {
    use sha2::Digest as _;
    use std::io::Read as _;
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

impl BinaryIdentity {
    /// This binary's identity: its build id when one is set ([`current_build_id`]), else the
    /// SHA-256 of its executable.
    pub fn current() -> Result<Self, BundleError> {
        match current_build_id() {
            Some(id) => Ok(BinaryIdentity::BuildId(id)),
            None => current_executable_sha256().map(BinaryIdentity::ExecutableSha256),
        }
    }

    /// The identity of the executable at `path` (e.g. the binary that goes into the image, when
    /// the bundle is written by another program).
    pub fn of_file(path: impl AsRef<Path>) -> Result<Self, BundleError> {
        let path = path.as_ref();
        file_sha256(path)
            .map(BinaryIdentity::ExecutableSha256)
            .map_err(|e| BundleError::Identity(format!("cannot hash {}: {e}", path.display())))
    }

    /// A build-id identity.
    pub fn build_id(id: impl Into<String>) -> Self {
        BinaryIdentity::BuildId(id.into())
    }

    /// Checks that the running binary is the one this identity names.
    pub fn check_current(&self) -> Result<(), BundleError> {
        let here = match self {
            BinaryIdentity::ExecutableSha256(_) => {
                BinaryIdentity::ExecutableSha256(current_executable_sha256()?)
            }
            BinaryIdentity::BuildId(_) => match current_build_id() {
                Some(id) => BinaryIdentity::BuildId(id),
                None => {
                    return Err(BundleError::BinaryMismatch {
                        bundle: self.to_string(),
                        current: format!(
                            "no build id (neither set_build_id nor ${BUILD_ID_ENV} is set)"
                        ),
                    });
                }
            },
        };
        if &here == self {
            Ok(())
        } else {
            Err(BundleError::BinaryMismatch {
                bundle: self.to_string(),
                current: here.to_string(),
            })
        }
    }
}

/// What a bundle records about the code its entities need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleMetadata {
    /// The SDK (flytekit crate) version that wrote it.
    pub sdk_version: String,
    /// The binary whose registered types the entities need.
    pub binary: BinaryIdentity,
}

impl BundleMetadata {
    /// Metadata for this SDK and `binary`.
    pub fn new(binary: BinaryIdentity) -> Self {
        Self {
            sdk_version: SDK_VERSION.to_string(),
            binary,
        }
    }

    /// Checks the metadata against the running binary: SDK version, then binary identity.
    pub fn check_current(&self) -> Result<(), BundleError> {
        if self.sdk_version != SDK_VERSION {
            return Err(BundleError::SdkMismatch {
                bundle: self.sdk_version.clone(),
                current: SDK_VERSION.to_string(),
            });
        }
        self.binary.check_current()
    }
}

/// A byte string that MessagePack stores as `bin`, not as an array of integers.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RawBytes(Vec<u8>);

impl Serialize for RawBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for RawBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawBytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<RawBytes, E> {
                Ok(RawBytes(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<RawBytes, E> {
                Ok(RawBytes(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<RawBytes, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = a.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(RawBytes(out))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entity {
    type_tag: String,
    payload: RawBytes,
}

/// Collects instance entities into a bundle.
#[derive(Debug, Default)]
pub struct BundleBuilder {
    metadata: Option<BundleMetadata>,
    entities: BTreeMap<String, Entity>,
}

impl BundleBuilder {
    /// An empty bundle for the running binary ([`BinaryIdentity::current`], resolved at
    /// [`prepare`](Self::prepare)).
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `identity` as the binary the entities need (e.g. [`BinaryIdentity::of_file`] of
    /// the binary that goes into the image, or a [`BinaryIdentity::build_id`]).
    pub fn for_binary(mut self, identity: BinaryIdentity) -> Self {
        self.metadata = Some(BundleMetadata::new(identity));
        self
    }

    /// Replaces the whole metadata (for tooling that re-stamps bundles).
    pub fn with_metadata(mut self, metadata: BundleMetadata) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Adds `value` under its task's name, which is returned. Two entities may not share a name.
    pub fn add<T: InstanceTask>(&mut self, value: &T) -> Result<String, BundleError> {
        let task = value
            .task()
            .build()
            .map_err(|source| InstanceError::Build {
                tag: T::TYPE_TAG.to_string(),
                source,
            })?;
        let name = task.name().to_string();
        self.add_as(&name, value)?;
        Ok(name)
    }

    /// Adds `value` under `name` (the entity name in loader args; the task keeps its own name).
    pub fn add_as<T: InstanceTask>(&mut self, name: &str, value: &T) -> Result<(), BundleError> {
        check_registered::<T>()?;
        if self.entities.contains_key(name) {
            return Err(BundleError::DuplicateEntity(name.to_string()));
        }
        self.entities.insert(
            name.to_string(),
            Entity {
                type_tag: T::TYPE_TAG.to_string(),
                payload: RawBytes(encode_value(value)?),
            },
        );
        Ok(())
    }

    /// Adds the payload of the instance task `task` (made by
    /// [`task_of`](crate::instance::task_of)) under the task's name, which is returned.
    pub fn add_task(&mut self, task: &Task) -> Result<String, BundleError> {
        let payload = task.instance_payload().ok_or_else(|| {
            BundleError::Encode(format!(
                "task {} is not an instance task made by flytekit::instance::task_of",
                task.name()
            ))
        })?;
        find_type(payload.type_tag())?;
        let name = task.name().to_string();
        if self.entities.contains_key(&name) {
            return Err(BundleError::DuplicateEntity(name));
        }
        self.entities.insert(
            name.clone(),
            Entity {
                type_tag: payload.type_tag().to_string(),
                payload: RawBytes(payload.raw()?),
            },
        );
        Ok(name)
    }

    /// The entity names so far, sorted.
    pub fn names(&self) -> Vec<String> {
        self.entities.keys().cloned().collect()
    }

    /// Encodes the bundle for upload to `prefix` (`<prefix>/sha256-<hex>`). No I/O but hashing
    /// the executable; call [`PreparedBundle::upload`] before registering its tasks.
    pub fn prepare(self, prefix: &str) -> Result<PreparedBundle, BundleError> {
        if self.entities.is_empty() {
            return Err(BundleError::Empty);
        }
        let metadata = match self.metadata {
            Some(m) => m,
            None => BundleMetadata::new(BinaryIdentity::current()?),
        };
        let meta_json = serde_json::to_vec(&metadata)
            .map_err(|e| BundleError::Encode(format!("metadata: {e}")))?;
        let entities = rmp_serde::to_vec_named(&self.entities)
            .map_err(|e| BundleError::Encode(format!("entities: {e}")))?;
        let entities = compress(&entities)?;
        let mut bytes = Vec::with_capacity(MAGIC.len() + 8 + meta_json.len() + entities.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&BUNDLE_FORMAT_VERSION.to_le_bytes());
        let meta_len = u32::try_from(meta_json.len())
            .map_err(|_| BundleError::Encode("metadata over 4 GiB".into()))?;
        bytes.extend_from_slice(&meta_len.to_le_bytes());
        bytes.extend_from_slice(&meta_json);
        bytes.extend_from_slice(&entities);
        let sha256 = sha256_hex(&bytes);
        let uri = content_uri(prefix, &sha256);
        let names: Vec<String> = self.entities.keys().cloned().collect();
        // Each task is rebuilt from its encoded entity, exactly as the container will: a value
        // that does not survive its own encoding fails here, not at run time.
        let mut tasks = Vec::with_capacity(names.len());
        for (name, entity) in &self.entities {
            let args = bundle_loader_args(&uri, &sha256, name);
            let len: usize = args.iter().map(String::len).sum();
            if len > MAX_OFFLOADED_LOADER_ARGS {
                return Err(InstanceError::LoaderArgsTooLong {
                    task: name.clone(),
                    len,
                    limit: MAX_OFFLOADED_LOADER_ARGS,
                }
                .into());
            }
            tasks.push(entity_task(entity, args)?);
        }
        Ok(PreparedBundle {
            bytes: Bytes::from(bytes),
            sha256,
            uri,
            metadata,
            names,
            tasks,
        })
    }
}

/// Rebuilds the task of `entity` with the bundle resolver and `args`.
fn entity_task(entity: &Entity, args: Vec<String>) -> Result<Task, BundleError> {
    let ty = find_type(&entity.type_tag)?;
    Ok(ty
        .builder_from_payload(&entity.payload.0)?
        .resolver(BUNDLE_RESOLVER_LOCATION, args)
        .build()
        .map_err(|source| InstanceError::Build {
            tag: entity.type_tag.clone(),
            source,
        })?)
}

/// Loader args of a bundled entity: `bundle <uri> sha256 <hex> entity <name>`.
pub fn bundle_loader_args(uri: &str, sha256: &str, entity: &str) -> Vec<String> {
    vec![
        "bundle".into(),
        uri.into(),
        "sha256".into(),
        sha256.into(),
        "entity".into(),
        entity.into(),
    ]
}

/// An encoded bundle and its tasks, ready for upload and registration.
#[derive(Clone, Debug)]
#[must_use = "a bundle must be uploaded with `upload` before its tasks are registered"]
pub struct PreparedBundle {
    bytes: Bytes,
    sha256: String,
    uri: String,
    metadata: BundleMetadata,
    names: Vec<String>,
    tasks: Vec<Task>,
}

impl PreparedBundle {
    /// Where it goes: `<prefix>/sha256-<hex>`.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Its hex SHA-256.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether it is empty (never: a bundle holds at least one entity).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The encoded file.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Its metadata.
    pub fn metadata(&self) -> &BundleMetadata {
        &self.metadata
    }

    /// The entity names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The tasks, in the order of [`names`](Self::names), with their loader args.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The task of entity `name`.
    pub fn task(&self, name: &str) -> Option<Task> {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.tasks.get(i).cloned())
    }

    /// Uploads the bundle, unless an object of the same name and size is already there.
    pub async fn upload(&self, storage: &Storage) -> Result<UploadOutcome, BundleError> {
        Ok(put_if_absent(storage, &self.uri, self.bytes.clone()).await?)
    }
}

/// A bundle file read back: its metadata and entities (verified, not yet checked against the
/// running binary).
#[derive(Debug)]
pub struct DecodedBundle {
    /// The format version.
    pub format_version: u32,
    /// The metadata.
    pub metadata: BundleMetadata,
    entities: BTreeMap<String, Entity>,
}

impl DecodedBundle {
    /// Parses a bundle file. `uri` names it in errors.
    pub fn parse(data: &[u8], uri: &str) -> Result<Self, BundleError> {
        let not_a_bundle = |why: &str| BundleError::NotABundle {
            uri: uri.to_string(),
            why: why.to_string(),
        };
        let rest = data
            .strip_prefix(MAGIC)
            .ok_or_else(|| not_a_bundle("it does not start with the bundle magic"))?;
        let (version, rest) = split_u32(rest).ok_or_else(|| not_a_bundle("truncated header"))?;
        if version != BUNDLE_FORMAT_VERSION {
            return Err(BundleError::FormatMismatch {
                uri: uri.to_string(),
                bundle: version,
                current: BUNDLE_FORMAT_VERSION,
            });
        }
        let (meta_len, rest) = split_u32(rest).ok_or_else(|| not_a_bundle("truncated header"))?;
        let meta_len = meta_len as usize;
        if rest.len() < meta_len {
            return Err(not_a_bundle("truncated metadata"));
        }
        let (meta, rest) = rest.split_at(meta_len);
        let metadata: BundleMetadata = serde_json::from_slice(meta)
            .map_err(|e| not_a_bundle(&format!("bad metadata ({e})")))?;
        let entities = decompress(rest, &format!("the entities of bundle {uri}"))?;
        let entities: BTreeMap<String, Entity> = rmp_serde::from_slice(&entities)
            .map_err(|e| not_a_bundle(&format!("bad entity table ({e})")))?;
        Ok(Self {
            format_version: version,
            metadata,
            entities,
        })
    }

    /// The entity names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.entities.keys().cloned().collect()
    }

    /// The type tag of entity `name`.
    pub fn type_tag(&self, name: &str) -> Option<&str> {
        self.entities.get(name).map(|e| e.type_tag.as_str())
    }
}

fn split_u32(data: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = data.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}

/// The bundle resolver (`--resolver flytekit.resolver.bundle`).
pub struct BundleResolver;

/// The bundle resolver's instance.
pub static BUNDLE_RESOLVER: BundleResolver = BundleResolver;

crate::register_resolver!(BUNDLE_RESOLVER);

const EXPECTED: &str = "bundle <uri> sha256 <64 hex digits> entity <name>";

impl BundleResolver {
    /// Loads the entity of `args` with an explicit storage and cache: fetch (cache keyed by
    /// digest) and verify the bundle, check its metadata against this binary, find the entity,
    /// rebuild its value and task.
    pub async fn load_with(
        &self,
        storage: &Storage,
        cache: &PayloadCache,
        args: &[String],
    ) -> Result<Task, BundleError> {
        let [k1, uri, k2, sha256, k3, name] = args else {
            return Err(bad_args(args));
        };
        if k1 != "bundle" || k2 != "sha256" || k3 != "entity" || !valid_sha256(sha256) {
            return Err(bad_args(args));
        }
        let (data, _) = cache.fetch(storage, uri, sha256).await?;
        let bundle = DecodedBundle::parse(&data, uri)?;
        drop(data);
        bundle.metadata.check_current()?;
        let Some(entity) = bundle.entities.get(name) else {
            return Err(BundleError::EntityMissing {
                uri: uri.clone(),
                entity: name.clone(),
                held: bundle.names(),
            });
        };
        entity_task(entity, args.to_vec())
    }
}

fn bad_args(args: &[String]) -> BundleError {
    BundleError::Instance(InstanceError::BadLoaderArgs {
        args: shorten(args),
        expected: EXPECTED.to_string(),
    })
}

#[async_trait]
impl TaskResolver for BundleResolver {
    fn location(&self) -> &str {
        BUNDLE_RESOLVER_LOCATION
    }

    fn loader_args(
        &self,
        _settings: &SerializationSettings,
        task: &Task,
    ) -> Result<Vec<String>, ResolveError> {
        Err(ResolveError::Other(format!(
            "task {} names the bundle resolver but carries no loader args; build bundled tasks \
             with flytekit::bundle::BundleBuilder",
            task.name()
        )))
    }

    async fn load_task(&self, args: &[String]) -> Result<Task, ResolveError> {
        let storage = Storage::try_new().map_err(|e| ResolveError::Other(e.to_string()))?;
        self.load_with(&storage, &PayloadCache::from_env(), args)
            .await
            .map_err(|e| match e {
                BundleError::Instance(i) => ResolveError::from(i),
                other => ResolveError::Other(other.to_string()),
            })
    }
}

/// Why a bundle could not be written or loaded. Load errors become USER errors in `error.pb`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// An instance-level failure (encoding, download, digest, type tag, schema drift).
    #[error(transparent)]
    Instance(#[from] InstanceError),
    /// Nothing was added.
    #[error("the bundle is empty: add entities with BundleBuilder::add before prepare")]
    Empty,
    /// Two entities share a name.
    #[error(
        "the bundle already holds an entity named '{0}'; use BundleBuilder::add_as to give it another name"
    )]
    DuplicateEntity(String),
    /// The bundle could not be encoded.
    #[error("cannot encode the bundle: {0}")]
    Encode(String),
    /// The binary's identity could not be determined.
    #[error(
        "cannot determine this binary's identity: {0}; set a build id with flytekit::bundle::set_build_id or $FLYTEKIT_BUILD_ID"
    )]
    Identity(String),
    /// The object is not a bundle.
    #[error("{uri} is not a flytekit-rs bundle: {why}; re-register the tasks")]
    NotABundle {
        /// The URI.
        uri: String,
        /// What is wrong.
        why: String,
    },
    /// The bundle was written in another format.
    #[error(
        "bundle {uri} has format version {bundle}, this binary reads version {current}: rebuild the \
         image with the SDK that wrote the bundle, or re-register the tasks with this binary"
    )]
    FormatMismatch {
        /// The URI.
        uri: String,
        /// The bundle's format version.
        bundle: u32,
        /// This SDK's.
        current: u32,
    },
    /// The bundle was written by another SDK version.
    #[error(
        "the bundle was written by flytekit-rs {bundle}, but this binary has flytekit-rs {current}: \
         rebuild the image from the same build that wrote the bundle, or use fast registration so \
         that binary runs the tasks"
    )]
    SdkMismatch {
        /// The bundle's SDK version.
        bundle: String,
        /// This binary's.
        current: String,
    },
    /// The bundle's entities need another binary.
    #[error(
        "the bundle's entities need the binary with {bundle}, but this binary has {current}: the \
         image runs other code than the one that wrote the bundle. Rebuild the image from the build \
         that wrote the bundle, or use fast registration so that binary runs the tasks"
    )]
    BinaryMismatch {
        /// The bundle's identity.
        bundle: String,
        /// This binary's.
        current: String,
    },
    /// The entity is not in the bundle.
    #[error(
        "entity '{entity}' is not in bundle {uri}, which holds {}: {}; re-register the tasks, or \
         fix the entity name",
        held.len(),
        held.join(", ")
    )]
    EntityMissing {
        /// The URI.
        uri: String,
        /// The entity asked for.
        entity: String,
        /// The entities it holds.
        held: Vec<String>,
    },
}
