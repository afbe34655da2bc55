//! Container images for Rust tasks (contract §5).
//!
//! - [`config`]: [`Image`] and [`ImageConfig`] (default and named images from `--image`, the
//!   config file and `FLYTE_INTERNAL_IMAGE`) and [`get_registerable_container_image`], which
//!   resolves `{{.image.NAME.fqn}}`-style placeholders exactly like flytekit.
//! - [`spec`]: [`ImageSpec`], a declarative image with a deterministic, content-derived tag, and
//!   [`BinaryCopy`], whether the binary's content is in that tag (copy handling: hashed without
//!   fast registration, kept out of the tag with it; see [`ImageSpec::for_settings`]).
//! - [`spec_file`]: an [`ImageSpec`] in a YAML file, for `--image spec.yaml` on the command line.
//! - [`builder`]: the [`ImageBuilder`] trait and the [`ImageBuildEngine`] registry, with the
//!   daemonless `oci` builder (default), the `dockerfile` builder and the `noop` builder.
//! - [`rootfs`]: images pulled and unpacked into a cache keyed by manifest digest (whiteouts
//!   honoured), for the in-image sandbox and the preflight checks.
//! - [`preflight`]: checks before pushing (task binary, its loader, libraries and glibc symbol
//!   versions read from the ELF file by [`elf`], CA certificates, declared files).
//! - [`registry`]: the OCI distribution API over `oci-client`, with [`credentials`] found the way
//!   users have them (`FLYTEKIT_REGISTRY_*`, Docker's `config.json` and credential helpers).
//!
//! ```no_run
//! # async fn demo() -> Result<(), flytekit::image::ImageError> {
//! use flytekit::image::{ImageBuildEngine, ImageSpec};
//! let spec = ImageSpec::new("my-tasks")
//!     .with_registry("localhost:5000")
//!     .with_base_image("localhost:5000/base:bookworm")
//!     .with_binary("target/release/my-tasks");
//! let outcome = ImageBuildEngine::global().build(&spec).await?;
//! println!("{} (built: {})", outcome.image_name, outcome.built);
//! // The image a task with this spec registers with for the given settings (with fast
//! // registration its tag does not change when only the binary does):
//! let settings = flytekit::SerializationSettings::new("p", "development", "v1");
//! let outcome = ImageBuildEngine::global().build_for(&spec, &settings).await?;
//! # Ok(()) }
//! ```

pub mod builder;
pub mod config;
pub mod credentials;
pub mod elf;
pub mod preflight;
pub mod registry;
pub mod rootfs;
pub mod spec;
pub mod spec_file;

pub use builder::{BuildOutcome, ImageBuildEngine, ImageBuilder};
pub use config::{
    DEFAULT_IMAGE_NAME, FLYTE_INTERNAL_IMAGE_ENV, Image, ImageConfig,
    get_registerable_container_image,
};
pub use registry::{Existence, Reference, RegistryClient};
pub use spec::{BaseImage, BinaryCopy, CopyEntry, ImageSpec};

use std::path::PathBuf;

/// Errors from image configuration, specs, registries and builders.
///
/// Messages that flytekit also produces (placeholders, `--image`, builder registry, fast fail)
/// are identical to flytekit's.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// An image configuration or placeholder problem (flytekit's message).
    #[error("{0}")]
    Config(String),
    /// An invalid [`ImageSpec`] field; the message says which and how to fix it.
    #[error("{0}")]
    Spec(String),
    /// An image reference that cannot be parsed.
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The registry has no such image.
    #[error("image {0} was not found in its registry; check the name, or build and push it first")]
    NotFound(String),
    /// The registry answered with an error.
    #[error("registry request {url} failed: {message}")]
    Registry {
        /// The request URL.
        url: String,
        /// Status and body, with a hint.
        message: String,
    },
    /// The registry could not be reached.
    #[error(
        "cannot reach the registry {registry} ({url}): {message}; is it running, and is the registry part \
         of the image name (ImageSpec registry, --image) right?"
    )]
    Unreachable {
        /// The registry host.
        registry: String,
        /// The API URL tried.
        url: String,
        /// The transport error and its causes.
        message: String,
    },
    /// The registry refused access, or there were no credentials for it.
    #[error("registry {registry}: {message}")]
    Auth {
        /// The registry host.
        registry: String,
        /// What was refused, where the credentials came from and how to fix it.
        message: String,
    },
    /// Credentials for a registry could not be read.
    #[error("registry {registry}: credentials from {setting}: {message}")]
    Credentials {
        /// The registry host.
        registry: String,
        /// The variable, file entry or helper that failed.
        setting: String,
        /// What went wrong and how to fix it.
        message: String,
    },
    /// The registry could not be reached (a transport error of a request).
    #[error("cannot reach the registry ({url}): {source}; is it running and is the address right?")]
    Http {
        /// The request URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// Downloaded content does not match its digest.
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        /// What was downloaded.
        what: String,
        /// The expected digest.
        expected: String,
        /// The computed digest.
        actual: String,
    },
    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Builder registry problems (flytekit's messages).
    #[error("{0}")]
    Builder(String),
    /// A build failed; the message says why.
    #[error("{0}")]
    Build(String),
    /// The preflight checks found problems that would only show on a cluster.
    #[error("image {image} would fail on a cluster:\n  {}", problems.join("\n  "))]
    Preflight {
        /// The image.
        image: String,
        /// Each problem, with its fix.
        problems: Vec<String>,
    },
    /// The `dockerfile` builder needs Docker.
    #[error(
        "the dockerfile builder needs `docker` with buildx on PATH, and it was not found; install Docker, \
         or use the daemonless `oci` builder (ImageSpec::with_builder(\"oci\"))"
    )]
    DockerNotFound,
}
