//! [`ImageSpec`]: a declarative image for Rust tasks, with a deterministic, content-derived tag
//! (the Rust counterpart of flytekit's `ImageSpec`, contract §5.3).
//!
//! # Identity
//! - [`ImageSpec::id`] identifies the *declaration*: the URL-safe base64 (no padding) of the first
//!   16 bytes of SHA-256 over a canonical JSON of the spec's fields. Host paths of the binary and
//!   copied files are not part of it (only where they go in the image), nor are `builder` and
//!   `insecure_registry`; a nested base spec counts by its image name. Builders bake it into
//!   the image as `_F_IMG_ID`.
//! - [`ImageSpec::tag`] identifies the *content*: the same hash over the canonical JSON extended
//!   with the SHA-256 and mode (0755/0644) of every shipped file (the binary and each copied file,
//!   directories expanded file by file) and the base image's name (a nested base spec's
//!   [`image_name`](ImageSpec::image_name)), with `-` replaced by `_` (22 characters, like
//!   flytekit's tags). Only shipped bytes are read: never a whole build directory. Mtimes,
//!   owners, host paths and the order in which files were declared do not matter.
//! - `tag_format` (e.g. `"{spec_hash}-dev"`) formats the tag; `{spec_hash}` is the hash.
//!
//! # Copy handling (flytekit's `update_image_spec_copy_handling`, contract §5.4)
//! How the task binary enters the tag is [`ImageSpec::binary_copy`] ([`BinaryCopy`]):
//! - [`BinaryCopy::Current`]: the binary is copied and its SHA-256 is hashed into the tag, so a
//!   changed binary is a new image. This is what a spec with no mode does on its own
//!   ([`tag`](ImageSpec::tag), [`ImageBuildEngine::build`](super::ImageBuildEngine::build)).
//! - [`BinaryCopy::Stable`]: the binary is still copied (the image must be able to run
//!   `fast-execute`), but only its destination enters the tag, marked as stable: a changed binary
//!   keeps the tag, and an image that exists under it is reused as is. The current code travels
//!   as the fast-registration bundle. Copied files (`copy`) are hashed in both modes.
//! - No mode (`None`): decided by the serialization settings ([`ImageSpec::for_settings`]),
//!   exactly as flytekit decides when `source_copy_mode` is `None`: without fast registration
//!   `Current`, with fast registration `Stable`. An explicit mode always wins.
//!
//! The mode is not part of [`ImageSpec::id`]: both modes describe the same declaration, so
//! `_F_IMG_ID` and [`ImageSpec::is_container`] agree whichever way the binary was handled.
//! A nested base spec is not touched by [`for_settings`](ImageSpec::for_settings) (as in
//! flytekit); with no mode of its own it hashes its binary.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use base64::Engine as _;
use regex::Regex;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::ImageError;
use super::registry::{Existence, Platform, Reference, RegistryClient};

/// Environment variable holding the spec id inside a built image.
pub const IMAGE_ID_ENV: &str = "_F_IMG_ID";
/// Forces a rebuild and push even when the image exists (flytekit's switch).
pub const FORCE_PUSH_ENV: &str = "FLYTE_FORCE_PUSH_IMAGE_SPEC";
/// Fails instead of assuming the image exists when existence cannot be checked.
pub const FAST_FAIL_ENV: &str = "FLYTE_IMG_FAST_FAIL";
/// Where the binary goes when no destination is given: `/usr/local/bin/<file name>`.
pub const DEFAULT_BINARY_DIR: &str = "/usr/local/bin";
/// Default working directory (flytekit's `DEFAULT_IN_CONTAINER_SRC_PATH`).
pub const DEFAULT_WORKDIR: &str = "/root";
/// Base image when none is given: distroless `cc` (Debian 12): glibc 2.36, libgcc, CA
/// certificates, tzdata, `/etc/passwd` with `root` and `nonroot`, nothing else (no shell, no
/// package manager). A Rust task binary built on glibc 2.36 or older needs no more, and the
/// storage client needs the CA certificates. flytekit's default builder uses
/// `debian:bookworm-slim`, which lacks them; that remains the default of a spec that installs
/// `apt_packages` or runs `commands` ([`DEFAULT_APT_BASE_IMAGE`]).
pub const DEFAULT_BASE_IMAGE: &str = "gcr.io/distroless/cc-debian12";
/// Base image when none is given and the spec installs `apt_packages` or runs `commands` (they
/// need `apt-get` and a shell, which the distroless default has not).
pub const DEFAULT_APT_BASE_IMAGE: &str = "debian:bookworm-slim";

static REGISTRY_REGEX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(localhost:\d{1,5}|([a-z\d\._-]+)(:\d{1,5})?)(/[\w\.-]+)*$")
        .expect("the registry regex is valid")
});

/// The base of an image: a reference, or another spec that is built first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BaseImage {
    /// An image reference such as `debian:bookworm-slim`.
    Name(String),
    /// Another spec; its [`image_name`](ImageSpec::image_name) is the base.
    Spec(Box<ImageSpec>),
}

impl From<&str> for BaseImage {
    fn from(s: &str) -> Self {
        BaseImage::Name(s.to_string())
    }
}

impl From<String> for BaseImage {
    fn from(s: String) -> Self {
        BaseImage::Name(s)
    }
}

impl From<ImageSpec> for BaseImage {
    fn from(s: ImageSpec) -> Self {
        BaseImage::Spec(Box::new(s))
    }
}

/// How the task binary enters an image and its tag (see the [module docs](self)).
///
/// The Rust meaning of flytekit's `CopyFileDetection` for the one artifact a Rust task image
/// ships: the binary. `None` in [`ImageSpec::binary_copy`] leaves the choice to the
/// serialization settings ([`ImageSpec::for_settings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryCopy {
    /// Copy the current binary and hash its content into the tag: every code change is a new
    /// image (the default without fast registration).
    Current,
    /// Copy a binary able to run `fast-execute`, hashing only where it goes: the tag does not
    /// change with the binary's content, and the current code ships as the fast-registration
    /// bundle (the default with fast registration).
    Stable,
}

/// A local file or directory to ship, and where it goes in the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyEntry {
    /// Path on the build machine. A directory is copied recursively.
    pub src: PathBuf,
    /// Absolute path in the image, or relative to the working directory.
    pub dest: String,
}

/// A declarative container image for Rust tasks.
///
/// ```
/// use flytekit::image::ImageSpec;
/// let spec = ImageSpec::new("my-tasks")
///     .with_registry("ghcr.io/org")
///     .with_base_image("debian:bookworm-slim")
///     .with_env("RUST_LOG", "info")
///     .with_tag_format("{spec_hash}-dev");
/// assert_eq!(spec.platform, "linux/amd64");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageSpec {
    /// Image (repository) name; lowercased.
    pub name: String,
    /// Registry and namespace, e.g. `ghcr.io/org` or `localhost:30000`; lowercased.
    pub registry: Option<String>,
    /// The base image; [`DEFAULT_BASE_IMAGE`] when `None` ([`DEFAULT_APT_BASE_IMAGE`] with
    /// `apt_packages` or `commands`).
    pub base_image: Option<BaseImage>,
    /// `os/arch[/variant]`, default `linux/amd64`.
    pub platform: String,
    /// Debian packages to install (Dockerfile builder only).
    pub apt_packages: Vec<String>,
    /// Environment variables of the image.
    pub env: BTreeMap<String, String>,
    /// Files and directories to ship.
    pub copy: Vec<CopyEntry>,
    /// Shell commands to run at build time (Dockerfile builder only).
    pub commands: Vec<String>,
    /// Entrypoint; `None` keeps the base image's.
    pub entrypoint: Option<Vec<String>>,
    /// Working directory; `None` means [`DEFAULT_WORKDIR`].
    pub workdir: Option<String>,
    /// Tag format with `{spec_hash}`, e.g. `"{spec_hash}-dev"`.
    pub tag_format: Option<String>,
    /// Builder name; `None` means the highest-priority registered builder.
    pub builder: Option<String>,
    /// The task binary: source path and destination in the image.
    pub binary: Option<CopyEntry>,
    /// How the binary enters the image's tag; `None` means decided by the serialization
    /// settings ([`for_settings`](Self::for_settings): `Current` without fast registration,
    /// `Stable` with it) and `Current` when the spec is tagged or built on its own. Not part of
    /// [`id`](Self::id).
    pub binary_copy: Option<BinaryCopy>,
    /// Talk plain HTTP to the registry even when it is not on loopback. Not part of the hash.
    pub insecure_registry: bool,
}

impl Default for ImageSpec {
    fn default() -> Self {
        ImageSpec {
            name: "flytekit".into(),
            registry: None,
            base_image: None,
            platform: "linux/amd64".into(),
            apt_packages: Vec::new(),
            env: BTreeMap::new(),
            copy: Vec::new(),
            commands: Vec::new(),
            entrypoint: None,
            workdir: None,
            tag_format: None,
            builder: None,
            binary: None,
            binary_copy: None,
            insecure_registry: false,
        }
    }
}

/// A file the image ships, resolved: where it comes from, where it goes, what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedFile {
    /// Source on the build machine.
    pub src: PathBuf,
    /// Absolute, normalized path in the image (no leading `/`… it starts with `/`).
    pub dest: String,
    /// `0o755` or `0o644`.
    pub mode: u32,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// A spec with everything a builder needs computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSpec {
    /// The spec (a nested base spec replaced by its image name).
    pub spec: ImageSpec,
    /// [`ImageSpec::id`].
    pub id: String,
    /// [`ImageSpec::tag`].
    pub tag: String,
    /// `registry/name:tag`.
    pub image_name: String,
    /// The base image reference.
    pub base_image: String,
    /// Shipped files sorted by destination, the binary included.
    pub files: Vec<ShippedFile>,
    /// The binary's path in the image, when there is one.
    pub binary_dest: Option<String>,
    /// The working directory.
    pub workdir: String,
    /// The parsed platform.
    pub platform: Platform,
}

impl ImageSpec {
    /// A spec called `name` (lowercased) with flytekit's defaults.
    pub fn new(name: impl Into<String>) -> ImageSpec {
        ImageSpec {
            name: name.into().to_lowercase(),
            ..ImageSpec::default()
        }
    }

    /// Sets the registry (lowercased; validated by [`validate`](Self::validate)).
    pub fn with_registry(mut self, registry: impl Into<String>) -> Self {
        self.registry = Some(registry.into().to_lowercase());
        self
    }

    /// Sets the base image: a reference or another spec.
    pub fn with_base_image(mut self, base: impl Into<BaseImage>) -> Self {
        self.base_image = Some(base.into());
        self
    }

    /// Sets the platform, `os/arch[/variant]`.
    pub fn with_platform(mut self, platform: impl Into<String>) -> Self {
        self.platform = platform.into();
        self
    }

    /// Adds Debian packages (Dockerfile builder only).
    pub fn with_apt_packages<I: IntoIterator<Item = S>, S: Into<String>>(mut self, p: I) -> Self {
        self.apt_packages.extend(p.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable.
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Ships a file or directory to `dest` (absolute, or relative to the working directory).
    pub fn with_copy(mut self, src: impl Into<PathBuf>, dest: impl Into<String>) -> Self {
        self.copy.push(CopyEntry {
            src: src.into(),
            dest: dest.into(),
        });
        self
    }

    /// Adds a build-time shell command (Dockerfile builder only).
    pub fn with_command(mut self, command: impl Into<String>) -> Self {
        self.commands.push(command.into());
        self
    }

    /// Sets the entrypoint.
    pub fn with_entrypoint<I: IntoIterator<Item = S>, S: Into<String>>(mut self, e: I) -> Self {
        self.entrypoint = Some(e.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the working directory.
    pub fn with_workdir(mut self, dir: impl Into<String>) -> Self {
        self.workdir = Some(dir.into());
        self
    }

    /// Sets the tag format, e.g. `"{spec_hash}-dev"`.
    pub fn with_tag_format(mut self, format: impl Into<String>) -> Self {
        self.tag_format = Some(format.into());
        self
    }

    /// Chooses the builder by name.
    pub fn with_builder(mut self, builder: impl Into<String>) -> Self {
        self.builder = Some(builder.into());
        self
    }

    /// Ships the task binary to `/usr/local/bin/<file name>`.
    pub fn with_binary(self, src: impl Into<PathBuf>) -> Self {
        let src = src.into();
        let name = src
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.with_binary_at(src, format!("{DEFAULT_BINARY_DIR}/{name}"))
    }

    /// Ships the task binary to `dest` in the image.
    pub fn with_binary_at(mut self, src: impl Into<PathBuf>, dest: impl Into<String>) -> Self {
        self.binary = Some(CopyEntry {
            src: src.into(),
            dest: dest.into(),
        });
        self
    }

    /// Sets how the binary enters the tag explicitly, overriding the serialization settings'
    /// default (see [`BinaryCopy`]).
    pub fn with_binary_copy(mut self, mode: BinaryCopy) -> Self {
        self.binary_copy = Some(mode);
        self
    }

    /// The mode this spec uses for serialization settings with (`fast = true`) or without fast
    /// registration: the explicit [`binary_copy`](Self::binary_copy), else `Stable` with fast
    /// registration and `Current` without.
    pub fn binary_copy_for(&self, fast: bool) -> BinaryCopy {
        match (self.binary_copy, fast) {
            (Some(mode), _) => mode,
            (None, true) => BinaryCopy::Stable,
            (None, false) => BinaryCopy::Current,
        }
    }

    /// Whether the binary's content stays out of the tag: a binary is shipped and the mode is
    /// [`BinaryCopy::Stable`].
    fn stable_binary(&self) -> bool {
        self.binary.is_some() && self.binary_copy == Some(BinaryCopy::Stable)
    }

    /// Allows plain HTTP to a non-loopback registry.
    pub fn with_insecure_registry(mut self, insecure: bool) -> Self {
        self.insecure_registry = insecure;
        self
    }

    /// The working directory in the image.
    pub fn workdir(&self) -> &str {
        self.workdir.as_deref().unwrap_or(DEFAULT_WORKDIR)
    }

    /// Checks the fields; every other method calls it first.
    pub fn validate(&self) -> Result<(), ImageError> {
        let bad = |msg: String| Err(ImageError::Spec(msg));
        if self.name.is_empty()
            || self.name != self.name.to_lowercase()
            || !self.name.split('/').all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            })
        {
            return bad(format!(
                "invalid image name {:?}: use lowercase letters, digits, `.`, `_`, `-` and `/`",
                self.name
            ));
        }
        if let Some(registry) = &self.registry
            && !REGISTRY_REGEX.is_match(registry)
        {
            return bad(format!(
                "Invalid container registry name: '{registry}'.\n Expected formats:\n\
                     - 'localhost:30000' (for local registries)\n\
                     - 'ghcr.io/username' (for GitHub Container Registry)\n\
                     - 'docker.io/username' (for docker hub)\n"
            ));
        }
        Platform::parse(&self.platform)?;
        for key in self.env.keys() {
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return bad(format!("invalid environment variable name {key:?}"));
            }
        }
        for e in self.copy.iter().chain(self.binary.iter()) {
            image_path(self.workdir(), &e.dest)?;
        }
        if !self.workdir().starts_with('/') {
            return bad(format!(
                "the working directory {:?} must be absolute",
                self.workdir()
            ));
        }
        if let Some(BaseImage::Spec(base)) = &self.base_image {
            base.validate()?;
        }
        Ok(())
    }

    /// The declaration id (module docs); baked into images as `_F_IMG_ID`.
    pub fn id(&self) -> Result<String, ImageError> {
        self.validate()?;
        let canonical = self.canonical(None, None)?;
        Ok(short_hash(canonical.as_bytes()))
    }

    /// The content-derived tag (module docs). Reads every shipped file once; with
    /// [`BinaryCopy::Stable`] the binary is only checked to be a file, not read.
    pub fn tag(&self) -> Result<String, ImageError> {
        self.validate()?;
        let files = self.collect_files(!self.stable_binary())?;
        self.tag_with(&files, &self.base_image_name()?)
    }

    fn tag_with(&self, files: &[ShippedFile], base: &str) -> Result<String, ImageError> {
        let canonical = self.canonical(Some(files), Some(base))?;
        let hash = short_hash(canonical.as_bytes()).replace('-', "_");
        let tag = match &self.tag_format {
            Some(format) => format.replace("{spec_hash}", &hash),
            None => hash,
        };
        let valid = tag.len() <= 128
            && !tag.starts_with(['.', '-'])
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !valid {
            return Err(ImageError::Spec(format!(
                "tag_format {:?} gives the invalid tag {tag:?}: tags are up to 128 of [A-Za-z0-9_.-]",
                self.tag_format.as_deref().unwrap_or_default()
            )));
        }
        Ok(tag)
    }

    /// `registry/name:tag` (`name:tag` without a registry).
    pub fn image_name(&self) -> Result<String, ImageError> {
        let tag = self.tag()?;
        Ok(self.name_with_tag(&tag))
    }

    fn name_with_tag(&self, tag: &str) -> String {
        match &self.registry {
            Some(registry) => format!("{registry}/{}:{tag}", self.name),
            None => format!("{}:{tag}", self.name),
        }
    }

    /// The base image reference: the given name, a nested spec's image name, or
    /// [`DEFAULT_BASE_IMAGE`] ([`DEFAULT_APT_BASE_IMAGE`] for a spec with `apt_packages` or
    /// `commands`).
    pub fn base_image_name(&self) -> Result<String, ImageError> {
        match &self.base_image {
            None if !self.apt_packages.is_empty() || !self.commands.is_empty() => {
                Ok(DEFAULT_APT_BASE_IMAGE.to_string())
            }
            None => Ok(DEFAULT_BASE_IMAGE.to_string()),
            Some(BaseImage::Name(name)) => Ok(name.clone()),
            Some(BaseImage::Spec(spec)) => spec.image_name(),
        }
    }

    /// Everything a builder needs, computed once (files read once).
    pub fn resolve(&self) -> Result<ResolvedSpec, ImageError> {
        self.validate()?;
        let files = self.shipped_files()?;
        let base_image = self.base_image_name()?;
        let tag = self.tag_with(&files, &base_image)?;
        let mut spec = self.clone();
        spec.base_image = Some(BaseImage::Name(base_image.clone()));
        Ok(ResolvedSpec {
            id: self.id()?,
            image_name: self.name_with_tag(&tag),
            tag,
            base_image,
            files,
            binary_dest: self
                .binary
                .as_ref()
                .map(|b| image_path(self.workdir(), &b.dest))
                .transpose()?,
            workdir: self.workdir().to_string(),
            platform: Platform::parse(&self.platform)?,
            spec,
        })
    }

    /// Whether the image exists in its registry (HEAD of its manifest).
    pub async fn exists(&self, client: &RegistryClient) -> Existence {
        let name = match self.image_name() {
            Ok(n) => n,
            Err(e) => return Existence::Unknown(e.to_string()),
        };
        match Reference::parse(&name) {
            Ok(r) => client.manifest_exists(&r).await,
            Err(e) => Existence::Unknown(e.to_string()),
        }
    }

    /// Whether this process runs in the image built from this spec: `_F_IMG_ID` equals
    /// [`id`](Self::id). (flytekit also answers `true` outside task executions; the caller knows
    /// the execution mode.)
    pub fn is_container(&self) -> bool {
        match (std::env::var(IMAGE_ID_ENV), self.id()) {
            (Ok(env), Ok(id)) => env == id,
            _ => false,
        }
    }

    /// Whether the image should be built for the given existence, with
    /// `FLYTE_FORCE_PUSH_IMAGE_SPEC` and `FLYTE_IMG_FAST_FAIL` read from the environment
    /// (flytekit's `ImageSpecBuilder.should_build`).
    pub fn should_build(&self, existence: &Existence) -> Result<bool, ImageError> {
        should_build(existence, BuildSwitches::from_env())
    }

    /// The shipped files: the binary and every copied file (directories walked in sorted
    /// order), sorted by destination. Two files with one destination is an error.
    pub fn shipped_files(&self) -> Result<Vec<ShippedFile>, ImageError> {
        self.collect_files(true)
    }

    /// [`shipped_files`](Self::shipped_files); with `hash_binary = false` the binary's entry has
    /// an empty `sha256` (for a tag that does not depend on it).
    fn collect_files(&self, hash_binary: bool) -> Result<Vec<ShippedFile>, ImageError> {
        let mut out: BTreeMap<String, ShippedFile> = BTreeMap::new();
        let mut add = |src: PathBuf, dest: String, hash: bool| -> Result<(), ImageError> {
            let file = if hash {
                hash_file(&src, dest)?
            } else {
                stat_file(&src, dest)?
            };
            if let Some(prev) = out.get(&file.dest) {
                return Err(ImageError::Spec(format!(
                    "{} and {} both go to {} in the image",
                    prev.src.display(),
                    file.src.display(),
                    file.dest
                )));
            }
            out.insert(file.dest.clone(), file);
            Ok(())
        };
        if let Some(bin) = &self.binary {
            let meta = std::fs::metadata(&bin.src).map_err(|source| ImageError::Io {
                path: bin.src.clone(),
                source,
            })?;
            if !meta.is_file() {
                return Err(ImageError::Spec(format!(
                    "the binary {} is not a file; build it first (cargo build --release)",
                    bin.src.display()
                )));
            }
            add(
                bin.src.clone(),
                image_path(self.workdir(), &bin.dest)?,
                hash_binary,
            )?;
        }
        for entry in &self.copy {
            let dest = image_path(self.workdir(), &entry.dest)?;
            let meta = std::fs::metadata(&entry.src).map_err(|source| ImageError::Io {
                path: entry.src.clone(),
                source,
            })?;
            if meta.is_dir() {
                let mut files = Vec::new();
                walk(&entry.src, &mut files)?;
                for f in files {
                    let rel = f
                        .strip_prefix(&entry.src)
                        .map_err(|_| {
                            ImageError::Spec(format!("{} escaped its directory", f.display()))
                        })?
                        .to_string_lossy()
                        .replace(std::path::MAIN_SEPARATOR, "/");
                    add(
                        f.clone(),
                        format!("{}/{rel}", dest.trim_end_matches('/')),
                        true,
                    )?;
                }
            } else {
                add(entry.src.clone(), dest, true)?;
            }
        }
        Ok(out.into_values().collect())
    }

    /// The canonical JSON hashed by [`id`](Self::id) (no files) and [`tag`](Self::tag).
    fn canonical(
        &self,
        files: Option<&[ShippedFile]>,
        base: Option<&str>,
    ) -> Result<String, ImageError> {
        #[derive(Serialize)]
        struct Canonical<'a> {
            version: u32,
            name: &'a str,
            registry: Option<&'a str>,
            base_image: String,
            platform: &'a str,
            apt_packages: &'a [String],
            env: &'a BTreeMap<String, String>,
            copy: Vec<String>,
            commands: &'a [String],
            entrypoint: Option<&'a [String]>,
            workdir: &'a str,
            tag_format: Option<&'a str>,
            binary: Option<String>,
            files: Vec<(&'a str, u32, &'a str)>,
            // Only in tags, only for a stable binary: absent otherwise, so `Current` tags are
            // the tags specs had before copy modes existed.
            #[serde(skip_serializing_if = "Option::is_none")]
            binary_copy: Option<&'static str>,
        }
        // A nested base spec counts by its image name, so a spec and its flattened copy (base
        // replaced by that name, as the build engine does) have the same id and tag.
        let base_image = match base {
            Some(b) => b.to_string(),
            None => self.base_image_name()?,
        };
        let mut copy = self
            .copy
            .iter()
            .map(|c| image_path(self.workdir(), &c.dest))
            .collect::<Result<Vec<_>, _>>()?;
        copy.sort();
        // A stable binary is hashed by destination only (its entry leaves the file list).
        let stable = files.is_some() && self.stable_binary();
        let binary = self
            .binary
            .as_ref()
            .map(|b| image_path(self.workdir(), &b.dest))
            .transpose()?;
        let canonical = Canonical {
            version: 1,
            name: &self.name,
            registry: self.registry.as_deref(),
            base_image,
            platform: &self.platform,
            apt_packages: &self.apt_packages,
            env: &self.env,
            copy,
            commands: &self.commands,
            entrypoint: self.entrypoint.as_deref(),
            workdir: self.workdir(),
            tag_format: self.tag_format.as_deref(),
            files: files
                .unwrap_or_default()
                .iter()
                .filter(|f| !(stable && Some(&f.dest) == binary.as_ref()))
                .map(|f| (f.dest.as_str(), f.mode, f.sha256.as_str()))
                .collect(),
            binary,
            binary_copy: stable.then_some("stable"),
        };
        serde_json::to_string(&canonical)
            .map_err(|e| ImageError::Spec(format!("cannot serialize the spec: {e}")))
    }
}

/// The force-push and fast-fail switches of [`should_build`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildSwitches {
    /// Build and push even when the image exists.
    pub force_push: bool,
    /// Fail when existence is unknown instead of assuming the image exists.
    pub fast_fail: bool,
}

impl BuildSwitches {
    /// Reads `FLYTE_FORCE_PUSH_IMAGE_SPEC` and `FLYTE_IMG_FAST_FAIL` with flytekit's `str2bool`
    /// (set and not one of `false`, `0`, `off`, `no`, any case, means true).
    pub fn from_env() -> Self {
        let flag = |name| {
            std::env::var(name)
                .map(|v| !matches!(v.to_lowercase().as_str(), "false" | "0" | "off" | "no"))
                .unwrap_or(false)
        };
        BuildSwitches {
            force_push: flag(FORCE_PUSH_ENV),
            fast_fail: flag(FAST_FAIL_ENV),
        }
    }
}

/// flytekit's `should_build`: absent → build; present → skip unless force-push; unknown →
/// assume present (skip), or fail with fast-fail.
pub fn should_build(existence: &Existence, switches: BuildSwitches) -> Result<bool, ImageError> {
    match existence {
        Existence::Absent => Ok(true),
        Existence::Present => Ok(switches.force_push),
        Existence::Unknown(reason) => {
            if switches.fast_fail {
                Err(ImageError::Build(format!(
                    "Build failed as ImageSpec failed to check if the image exists due to a permission issue or other reason. \n\
                     Note, this fast failure is configured with the env var `FLYTE_IMG_FAST_FAIL`. ({reason})"
                )))
            } else {
                tracing::warn!(
                    "cannot check whether the image exists ({reason}); assuming it does"
                );
                Ok(false)
            }
        }
    }
}

/// `dest` as an absolute, normalized image path (relative ones under `workdir`).
pub(crate) fn image_path(workdir: &str, dest: &str) -> Result<String, ImageError> {
    let joined = if dest.starts_with('/') {
        dest.to_string()
    } else {
        format!("{}/{dest}", workdir.trim_end_matches('/'))
    };
    let mut parts = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(ImageError::Spec(format!(
                    "the image path {dest:?} has a `..` component"
                )));
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(ImageError::Spec(format!(
            "the image path {dest:?} names the root directory; give a file path"
        )));
    }
    Ok(format!("/{}", parts.join("/")))
}

fn hash_file(src: &Path, dest: String) -> Result<ShippedFile, ImageError> {
    let io = |source| ImageError::Io {
        path: src.to_path_buf(),
        source,
    };
    let mut file = File::open(src).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok(ShippedFile {
        src: src.to_path_buf(),
        dest,
        mode: crate::fast::file_mode(&meta),
        sha256: hex::encode(hasher.finalize()),
        size,
    })
}

/// A shipped file's mode and size, without reading it (`sha256` empty).
fn stat_file(src: &Path, dest: String) -> Result<ShippedFile, ImageError> {
    let meta = std::fs::metadata(src).map_err(|source| ImageError::Io {
        path: src.to_path_buf(),
        source,
    })?;
    Ok(ShippedFile {
        src: src.to_path_buf(),
        dest,
        mode: crate::fast::file_mode(&meta),
        sha256: String::new(),
        size: meta.len(),
    })
}

/// Regular files under `dir` (symlinks to files followed), sorted by path.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ImageError> {
    let io = |path: &Path, source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| io(dir, e))?;
    entries.sort();
    for path in entries {
        let link = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
        let meta = std::fs::metadata(&path).map_err(|e| io(&path, e))?;
        if meta.is_dir() {
            if link.file_type().is_symlink() {
                return Err(ImageError::Spec(format!(
                    "{} is a symlink to a directory; copy its target explicitly",
                    path.display()
                )));
            }
            walk(&path, out)?;
        } else if meta.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// URL-safe base64 (no padding) of the first 16 bytes of SHA-256: 22 characters.
fn short_hash(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_validation() {
        for ok in [
            "localhost:30000",
            "ghcr.io/org",
            "docker.io/u",
            "127.0.0.1:5000/a/b",
        ] {
            ImageSpec::new("x").with_registry(ok).validate().unwrap();
        }
        for bad in ["localhost:300000", "ghcr.io//x", "a b"] {
            let err = ImageSpec::new("x")
                .with_registry(bad)
                .validate()
                .unwrap_err();
            assert!(
                err.to_string().contains("Invalid container registry name"),
                "{bad}"
            );
        }
    }

    #[test]
    fn tags_and_names() {
        let spec = ImageSpec::new("Img").with_registry("ghcr.io/org");
        let tag = spec.tag().unwrap();
        assert_eq!(tag.len(), 22);
        assert!(!tag.contains('-'));
        assert_eq!(spec.image_name().unwrap(), format!("ghcr.io/org/img:{tag}"));
        let dev = spec.clone().with_tag_format("{spec_hash}-dev");
        assert!(dev.tag().unwrap().ends_with("-dev"));
        assert_ne!(spec.with_env("A", "1").tag().unwrap(), tag);
    }

    #[test]
    fn switches() {
        let on = BuildSwitches {
            force_push: true,
            fast_fail: true,
        };
        let off = BuildSwitches::default();
        assert!(should_build(&Existence::Absent, off).unwrap());
        assert!(!should_build(&Existence::Present, off).unwrap());
        assert!(should_build(&Existence::Present, on).unwrap());
        assert!(!should_build(&Existence::Unknown("x".into()), off).unwrap());
        assert!(
            should_build(&Existence::Unknown("x".into()), on)
                .unwrap_err()
                .to_string()
                .contains("FLYTE_IMG_FAST_FAIL")
        );
    }

    /// A spec shipping `dir/bin` (holding `content`) and `dir/data.txt` (holding `data`).
    fn copy_spec(dir: &Path, content: &str, data: &str) -> ImageSpec {
        std::fs::write(dir.join("bin"), content).unwrap();
        std::fs::write(dir.join("data.txt"), data).unwrap();
        ImageSpec::new("tasks")
            .with_registry("ghcr.io/org")
            .with_base_image("ghcr.io/org/base:1")
            .with_binary(dir.join("bin"))
            .with_copy(dir.join("data.txt"), "data.txt")
    }

    #[test]
    fn copy_handling_rule() {
        use crate::settings::{FastSerializationSettings, SerializationSettings};
        let dir = tempfile::tempdir().unwrap();
        let plain = SerializationSettings::new("p", "d", "v");
        let fast = plain
            .clone()
            .with_fast(FastSerializationSettings::default());
        let tags = |spec: &ImageSpec| {
            (
                spec.for_settings(&plain).tag().unwrap(),
                spec.for_settings(&fast).tag().unwrap(),
            )
        };

        let v1 = copy_spec(dir.path(), "binary v1", "data");
        let (plain1, fast1) = tags(&v1);
        // No mode on its own is today's behaviour: the binary is hashed.
        assert_eq!(v1.tag().unwrap(), plain1);
        assert_ne!(plain1, fast1, "the two modes never share a tag");
        // The mode is not part of the declaration id.
        assert_eq!(v1.for_settings(&fast).id().unwrap(), v1.id().unwrap());

        // A changed binary: a new tag without fast registration, the same tag with it.
        let v2 = copy_spec(dir.path(), "binary v2", "data");
        let (plain2, fast2) = tags(&v2);
        assert_ne!(plain2, plain1);
        assert_eq!(fast2, fast1);

        // Declared files still count with fast registration.
        let other = tempfile::tempdir().unwrap();
        let v3 = copy_spec(other.path(), "binary v2", "other data");
        assert_ne!(tags(&v3).1, fast1);

        // An explicit mode wins over the settings.
        let pinned = v2.clone().with_binary_copy(BinaryCopy::Current);
        assert_eq!(tags(&pinned), (plain2.clone(), plain2.clone()));
        let stable = v2.clone().with_binary_copy(BinaryCopy::Stable);
        assert_eq!(tags(&stable), (fast1.clone(), fast1.clone()));
        assert_eq!(stable.tag().unwrap(), fast1);

        // The stable binary must still exist (the image has to be able to run it), and the
        // resolved spec still ships it, hashed, for the builder.
        let resolved = v2.for_settings(&fast).resolve().unwrap();
        assert_eq!(resolved.tag, fast1);
        let bin = resolved
            .files
            .iter()
            .find(|f| f.dest.ends_with("/bin"))
            .unwrap();
        assert_eq!(bin.sha256, hex::encode(Sha256::digest(b"binary v2")));
        std::fs::remove_file(dir.path().join("bin")).unwrap();
        assert!(v2.for_settings(&fast).tag().is_err());

        // Without a binary both modes are the same image.
        let no_bin = ImageSpec::new("x").with_registry("ghcr.io/org");
        assert_eq!(
            no_bin
                .clone()
                .with_binary_copy(BinaryCopy::Stable)
                .tag()
                .unwrap(),
            no_bin.tag().unwrap()
        );
    }

    #[test]
    fn image_paths() {
        assert_eq!(image_path("/root", "a/b").unwrap(), "/root/a/b");
        assert_eq!(image_path("/root", "/x//y/").unwrap(), "/x/y");
        assert!(image_path("/root", "../x").is_err());
        assert!(image_path("/root", "/").is_err());
    }
}
