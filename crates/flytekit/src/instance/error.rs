//! Why an instance task could not be serialized or loaded.

use crate::resolver::ResolveError;
use crate::storage::StorageError;
use crate::task::ConfigError;

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
        "task {task}: {reason}, and no offload prefix is set; name a payload store (`package \
         --payload-store s3://<bucket>/<prefix>`, or PayloadSettings::offload_to) so it is \
         uploaded at registration{}",
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
        "the payload object {uri} does not exist: it is uploaded at registration (`package \
         --payload-store`, or PreparedTask::upload / PreparedBundle::upload); package and re-register \
         the task, and check that nothing deletes objects under that prefix"
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
