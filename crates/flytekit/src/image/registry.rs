//! The OCI distribution API (registry v2) as the image code uses it: check that an image
//! exists, pull a base image's manifest, config and layers, and push blobs and manifests.
//!
//! - Transport and authentication are `oci-client`'s (the ORAS project's client): the Bearer
//!   token flow of common registries (`WWW-Authenticate` challenge, token endpoint with the
//!   user's credentials), Basic auth, monolithic and mounted uploads.
//! - Credentials per registry host, the way users have them ([`credentials`](super::credentials)):
//!   `FLYTEKIT_REGISTRY_USERNAME` / `FLYTEKIT_REGISTRY_PASSWORD`, else Docker's `config.json`
//!   (`auths`, `credHelpers`, `credsStore`), else anonymous.
//! - Plain HTTP is used for loopback registries (`localhost`, `127.0.0.1`, `[::1]`) and when the
//!   client is [`insecure`](RegistryClient::insecure); HTTPS otherwise.
//! - Errors name the registry and the setting to change: [`ImageError::Unreachable`],
//!   [`ImageError::Auth`] (with where the refused credentials came from), [`ImageError::NotFound`].
//! - Docker Hub names are normalized (`debian:bookworm` is `registry-1.docker.io/library/debian`).
//! - The manifest and index types are ours: the builder writes byte-stable manifests and keeps
//!   a base image's config as it is.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::ImageError;
use super::credentials::{self, CredentialSource};

/// OCI image manifest media type.
pub const MEDIA_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const MEDIA_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest (schema 2) media type.
pub const MEDIA_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list media type.
pub const MEDIA_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI image config media type.
pub const MEDIA_OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI gzipped layer media type.
pub const MEDIA_OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Docker gzipped layer media type.
pub const MEDIA_DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// Blobs at least this large get a progress bar (on a terminal) and an info log line.
const PROGRESS_THRESHOLD: u64 = 8 << 20;

/// A parsed image reference: `registry/repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host (and port), e.g. `ghcr.io`, `127.0.0.1:5000`, `docker.io`.
    pub registry: String,
    /// Repository path, e.g. `org/img` (`library/debian` on Docker Hub).
    pub repository: String,
    /// Tag, when given.
    pub tag: Option<String>,
    /// Digest (`sha256:…`), when given.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses an image name the way Docker does: the first path component is a registry when it
    /// contains `.` or `:` or is `localhost`; otherwise the image is on Docker Hub.
    pub fn parse(name: &str) -> Result<Reference, ImageError> {
        let invalid = |why: &str| ImageError::InvalidReference {
            reference: name.to_string(),
            reason: why.to_string(),
        };
        let (rest, digest) = match name.split_once('@') {
            Some((rest, digest)) => {
                if !digest.starts_with("sha256:") || digest.len() != 71 {
                    return Err(invalid("the digest must be sha256:<64 hex characters>"));
                }
                (rest, Some(digest.to_string()))
            }
            None => (name, None),
        };
        let (rest, tag) = match rest.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t.to_string())),
            _ => (rest, None),
        };
        if let Some(tag) = &tag {
            let valid = !tag.is_empty()
                && tag.len() <= 128
                && !tag.starts_with(['.', '-'])
                && tag
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !valid {
                return Err(invalid(
                    "the tag must be 1-128 of [A-Za-z0-9_.-], not starting with . or -",
                ));
            }
        }
        let (registry, repository) = match rest.split_once('/') {
            Some((first, path))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), path.to_string())
            }
            _ => ("docker.io".to_string(), rest.to_string()),
        };
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let valid_repo = !repository.is_empty()
            && repository.split('/').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            });
        if !valid_repo {
            return Err(invalid(
                "the repository must be lowercase [a-z0-9._-] components separated by /",
            ));
        }
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// What goes after `/manifests/`: the digest, else the tag, else `latest`.
    pub fn reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The same repository pinned to `digest`.
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// The host the API is served from (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> &str {
        if self.registry == "docker.io" || self.registry == "index.docker.io" {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }

    /// The same reference in `oci-client`'s terms (the API host as its registry).
    pub(crate) fn to_oci(&self) -> oci_client::Reference {
        let host = self.api_host().to_string();
        let repo = self.repository.clone();
        match (&self.tag, &self.digest) {
            (Some(t), Some(d)) => {
                oci_client::Reference::with_tag_and_digest(host, repo, t.clone(), d.clone())
            }
            (None, Some(d)) => oci_client::Reference::with_digest(host, repo, d.clone()),
            (Some(t), None) => oci_client::Reference::with_tag(host, repo, t.clone()),
            (None, None) => oci_client::Reference::with_tag(host, repo, "latest".into()),
        }
    }

    /// Whether the registry is on the loopback interface (plain HTTP is allowed there).
    pub fn is_loopback(&self) -> bool {
        let host = self
            .registry
            .rsplit_once(':')
            .map_or(self.registry.as_str(), |(h, _)| h);
        matches!(host, "localhost" | "127.0.0.1" | "[::1]")
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: String,
    /// `sha256:<hex>` of the content.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Platform (index entries only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// A platform in an image index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture, e.g. `amd64`.
    pub architecture: String,
    /// Operating system, e.g. `linux`.
    pub os: String,
    /// Architecture variant, e.g. `v8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]`, e.g. `linux/amd64`.
    pub fn parse(s: &str) -> Result<Platform, ImageError> {
        let mut parts = s.split('/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(os), Some(arch), variant, None) if !os.is_empty() && !arch.is_empty() => {
                Ok(Platform {
                    os: os.to_string(),
                    architecture: arch.to_string(),
                    variant: variant.map(str::to_string),
                })
            }
            _ => Err(ImageError::Spec(format!(
                "invalid platform {s:?}: expected os/arch[/variant], e.g. linux/amd64"
            ))),
        }
    }
}

/// An image manifest (OCI or Docker schema 2, which share this shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The image config blob.
    pub config: Descriptor,
    /// Layer blobs, base first.
    pub layers: Vec<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An image index / manifest list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Always 2.
    pub schema_version: u32,
    /// The index's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// One manifest per platform.
    pub manifests: Vec<Descriptor>,
}

/// Whether an image exists in its registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existence {
    /// The registry has the manifest.
    Present,
    /// The registry answered that the manifest or repository does not exist.
    Absent,
    /// The check failed (network, permissions, …); the reason says why.
    Unknown(String),
}

/// Where a blob to push comes from.
#[derive(Debug, Clone)]
pub enum BlobSource<'a> {
    /// In memory.
    Bytes(Bytes),
    /// A local file of the given size, streamed.
    File(&'a Path, u64),
}

/// A client for OCI registries over `oci-client` (the ORAS project's distribution client: the
/// Bearer token flow, Basic auth, monolithic and mounted uploads). Credentials are found per
/// registry host ([`credentials`](super::credentials)); one connection per host, each caching its
/// tokens. Cheap to share by reference.
pub struct RegistryClient {
    insecure: bool,
    explicit: Option<(String, String)>,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

impl fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryClient")
            .field("insecure", &self.insecure)
            .field("explicit_credentials", &self.explicit.is_some())
            .finish()
    }
}

/// One registry host: its client, the credentials to present and where they came from.
struct Host {
    client: oci_client::Client,
    auth: oci_client::secrets::RegistryAuth,
    source: Option<CredentialSource>,
    /// `(repository, push)` scopes authenticated so far (the token flow runs once per scope).
    authenticated: Mutex<std::collections::HashSet<(String, bool)>>,
}

impl RegistryClient {
    /// A client finding credentials per registry ([`credentials::lookup`]): the
    /// `FLYTEKIT_REGISTRY_USERNAME` / `FLYTEKIT_REGISTRY_PASSWORD` variables, else Docker's
    /// `config.json` (`auths`, `credHelpers`, `credsStore`), else anonymous.
    pub fn new() -> Result<RegistryClient, ImageError> {
        Ok(RegistryClient {
            insecure: false,
            explicit: None,
            hosts: Mutex::new(HashMap::new()),
        })
    }

    /// Use plain HTTP for every registry (not only loopback ones).
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Authenticate with these credentials (Basic, or to obtain Bearer tokens) everywhere.
    pub fn with_credentials(mut self, username: &str, password: &str) -> Self {
        self.explicit = Some((username.to_string(), password.to_string()));
        self
    }

    /// The connection to `r`'s registry, made (and its credentials looked up) on first use.
    fn host(&self, r: &Reference) -> Result<Arc<Host>, ImageError> {
        let key = r.api_host().to_string();
        if let Some(h) = self.hosts.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(h);
        }
        let credentials = match &self.explicit {
            Some((username, password)) => Some(credentials::Credentials {
                username: username.clone(),
                password: password.clone(),
                source: CredentialSource::Explicit,
            }),
            None => credentials::lookup(&r.registry)?,
        };
        let protocol = if self.insecure || r.is_loopback() {
            oci_client::client::ClientProtocol::Http
        } else {
            oci_client::client::ClientProtocol::Https
        };
        let config = oci_client::client::ClientConfig {
            protocol,
            use_monolithic_push: true,
            connect_timeout: Some(std::time::Duration::from_secs(30)),
            user_agent: concat!("flytekit-rs/", env!("CARGO_PKG_VERSION")),
            platform_resolver: None,
            ..Default::default()
        };
        let client = oci_client::Client::try_from(config).map_err(|e| ImageError::Registry {
            url: key.clone(),
            message: format!("cannot create the registry client: {e}"),
        })?;
        let (auth, source) = match credentials {
            Some(c) => (
                oci_client::secrets::RegistryAuth::Basic(c.username, c.password),
                Some(c.source),
            ),
            None => (oci_client::secrets::RegistryAuth::Anonymous, None),
        };
        let host = Arc::new(Host {
            client,
            auth,
            source,
            authenticated: Mutex::new(Default::default()),
        });
        if let Ok(mut m) = self.hosts.lock() {
            m.insert(key, host.clone());
        }
        Ok(host)
    }

    /// The connection for `r`, authenticated for `op` (the token flow runs once per scope and
    /// is cached by the client).
    async fn connect(
        &self,
        r: &Reference,
        op: oci_client::RegistryOperation,
    ) -> Result<(Arc<Host>, oci_client::Reference), ImageError> {
        let host = self.host(r)?;
        let oref = r.to_oci();
        host.client
            .store_auth_if_needed(oref.resolve_registry(), &host.auth)
            .await;
        let push = matches!(op, oci_client::RegistryOperation::Push);
        let scope = (r.repository.clone(), push);
        let known = host
            .authenticated
            .lock()
            .map(|a| a.contains(&scope))
            .unwrap_or(false);
        if !known && !matches!(host.auth, oci_client::secrets::RegistryAuth::Anonymous) {
            // Explicitly, so a refused token request is reported (oci-client would otherwise go
            // on anonymously and report only the registry's 401).
            let verb = if push { "push to" } else { "pull" };
            host.client
                .auth(&oref, &host.auth, op)
                .await
                .map_err(|e| self.error(r, &host, verb, e))?;
            if let Ok(mut a) = host.authenticated.lock() {
                a.insert(scope);
            }
        }
        Ok((host, oref))
    }

    /// An `oci-client` error as an [`ImageError`] that names the registry and what to change.
    fn error(
        &self,
        r: &Reference,
        host: &Host,
        what: &str,
        e: oci_client::errors::OciDistributionError,
    ) -> ImageError {
        use oci_client::errors::{OciDistributionError as E, OciErrorCode as C};
        let scheme = if self.insecure || r.is_loopback() {
            "http"
        } else {
            "https"
        };
        let url = format!("{scheme}://{}/v2/{}", r.api_host(), r.repository);
        let denied = |detail: String| {
            let hint = match &host.source {
                Some(source) => format!(
                    "the registry refused the credentials from {source}; check them (docker login {}) \
                     and that they may {what} {}",
                    r.registry, r.repository
                ),
                None => format!(
                    "no credentials were found for {} (looked at {}); log in (docker login {}) or set \
                     FLYTEKIT_REGISTRY_USERNAME and FLYTEKIT_REGISTRY_PASSWORD",
                    r.registry,
                    credentials::searched_places(),
                    r.registry
                ),
            };
            ImageError::Auth {
                registry: r.registry.clone(),
                message: format!("{hint} ({detail})"),
            }
        };
        match e {
            E::RequestError(source) => ImageError::Unreachable {
                registry: r.registry.clone(),
                url,
                message: error_chain(&source),
            },
            E::UnauthorizedError { url } => denied(format!("HTTP 401 for {url}")),
            E::AuthenticationFailure(reason) => {
                denied(format!("the token endpoint said: {}", clip(&reason)))
            }
            E::ServerError { code, url, message } if code == 401 || code == 403 => {
                denied(format!("HTTP {code} for {url}: {}", clip(&message)))
            }
            E::RegistryError { envelope, url }
                if envelope
                    .errors
                    .iter()
                    .any(|e| matches!(e.code, C::Unauthorized | C::Denied)) =>
            {
                denied(format!("{envelope} for {url}"))
            }
            E::RegistryError { envelope, .. }
                if envelope.errors.iter().all(|e| {
                    matches!(e.code, C::ManifestUnknown | C::NameUnknown | C::NotFound)
                }) =>
            {
                ImageError::NotFound(r.to_string())
            }
            E::ServerError { code: 404, .. } => ImageError::NotFound(r.to_string()),
            E::DigestError(d) => ImageError::DigestMismatch {
                what: url,
                expected: r.digest.clone().unwrap_or_default(),
                actual: d.to_string(),
            },
            other => ImageError::Registry {
                url,
                message: format!("{what}: {}", clip(&other.to_string())),
            },
        }
    }

    /// Whether the manifest `r` exists (HEAD). Errors become [`Existence::Unknown`].
    pub async fn manifest_exists(&self, r: &Reference) -> Existence {
        match self.head_manifest(r).await {
            Ok(Some(_)) => Existence::Present,
            Ok(None) => Existence::Absent,
            Err(e) => Existence::Unknown(e.to_string()),
        }
    }

    /// HEADs the manifest `r`: `Some(digest)`, `None` when the registry says it does not exist.
    pub async fn head_manifest(&self, r: &Reference) -> Result<Option<String>, ImageError> {
        let (host, oref) = self.connect(r, oci_client::RegistryOperation::Pull).await?;
        match host.client.fetch_manifest_digest(&oref, &host.auth).await {
            Ok(digest) => Ok(Some(digest)),
            Err(e) => match self.error(r, &host, "pull", e) {
                ImageError::NotFound(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    /// GETs the manifest `r`: `(bytes, media type, digest)`. The digest is computed from the
    /// bytes and checked against a digest reference.
    pub async fn get_manifest(&self, r: &Reference) -> Result<(Bytes, String, String), ImageError> {
        let (host, oref) = self.connect(r, oci_client::RegistryOperation::Pull).await?;
        let (body, _) = host
            .client
            .pull_manifest_raw(&oref, &host.auth, MANIFEST_MEDIA_TYPES)
            .await
            .map_err(|e| self.error(r, &host, "pull", e))?;
        let actual = sha256_digest(&body);
        if let Some(want) = &r.digest
            && *want != actual
        {
            return Err(ImageError::DigestMismatch {
                what: r.to_string(),
                expected: want.clone(),
                actual,
            });
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Typed {
            media_type: Option<String>,
            manifests: Option<serde_json::Value>,
        }
        let typed: Typed = serde_json::from_slice(&body).map_err(|e| ImageError::Registry {
            url: r.to_string(),
            message: format!("the manifest is not JSON: {e}"),
        })?;
        let media_type = typed.media_type.unwrap_or_else(|| {
            if typed.manifests.is_some() {
                MEDIA_OCI_INDEX.to_string()
            } else {
                MEDIA_OCI_MANIFEST.to_string()
            }
        });
        Ok((body, media_type, actual))
    }

    /// Whether the repository of `r` has the blob `digest` (HEAD).
    pub async fn blob_exists(&self, r: &Reference, digest: &str) -> Result<bool, ImageError> {
        let (host, oref) = self.connect(r, oci_client::RegistryOperation::Pull).await?;
        host.client
            .blob_exists(&oref, digest)
            .await
            .map_err(|e| self.error(r, &host, "pull", e))
    }

    /// GETs a small blob (such as an image config) into memory, verifying its digest.
    pub async fn get_blob(&self, r: &Reference, digest: &str) -> Result<Bytes, ImageError> {
        let (host, oref) = self.connect(r, oci_client::RegistryOperation::Pull).await?;
        let mut out = Vec::new();
        host.client
            .pull_blob(&oref, digest, &mut out)
            .await
            .map_err(|e| self.error(r, &host, "pull", e))?;
        let actual = sha256_digest(&out);
        if actual != digest {
            return Err(ImageError::DigestMismatch {
                what: format!("{r} blob"),
                expected: digest.to_string(),
                actual,
            });
        }
        Ok(Bytes::from(out))
    }

    /// Streams the blob `digest` into the file `dest`, verifying its digest.
    pub async fn download_blob(
        &self,
        r: &Reference,
        digest: &str,
        size: u64,
        dest: &Path,
    ) -> Result<(), ImageError> {
        let (host, oref) = self.connect(r, oci_client::RegistryOperation::Pull).await?;
        let io_err = |source| ImageError::Io {
            path: dest.to_path_buf(),
            source,
        };
        let mut stream = host
            .client
            .pull_blob_stream(&oref, digest)
            .await
            .map_err(|e| self.error(r, &host, "pull", e))?;
        let mut file = tokio::fs::File::create(dest).await.map_err(io_err)?;
        let bar = progress_bar(size, &format!("pull {}", short(digest)));
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ImageError::Registry {
                url: format!("{r} blob {digest}"),
                message: format!("the download was interrupted: {e}"),
            })?;
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(io_err)?;
            bar.inc(chunk.len() as u64);
        }
        file.flush().await.map_err(io_err)?;
        bar.finish_and_clear();
        let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
        if actual != digest {
            return Err(ImageError::DigestMismatch {
                what: format!("{r} blob"),
                expected: digest.to_string(),
                actual,
            });
        }
        Ok(())
    }

    /// Asks the registry to mount `digest` from repository `from` into `r`'s repository
    /// (same registry only). `true` when mounted; `false` when the registry would rather have
    /// it uploaded.
    pub async fn mount_blob(
        &self,
        r: &Reference,
        digest: &str,
        from: &str,
    ) -> Result<bool, ImageError> {
        let (host, oref) = self.connect(r, oci_client::RegistryOperation::Push).await?;
        let source = Reference {
            repository: from.to_string(),
            tag: None,
            digest: None,
            ..r.clone()
        }
        .to_oci();
        match host.client.mount_blob(&oref, &source, digest).await {
            Ok(()) => Ok(true),
            Err(e) => match self.error(r, &host, "push to", e) {
                e @ (ImageError::Auth { .. } | ImageError::Unreachable { .. }) => Err(e),
                other => {
                    tracing::debug!("mounting {digest} from {from} into {r}: {other}; uploading");
                    Ok(false)
                }
            },
        }
    }

    /// Pushes a blob with a monolithic upload (POST, then PUT with the digest).
    pub async fn push_blob(
        &self,
        r: &Reference,
        digest: &str,
        source: BlobSource<'_>,
    ) -> Result<(), ImageError> {
        let (host, oref) = self.connect(r, oci_client::RegistryOperation::Push).await?;
        let pushed = match source {
            BlobSource::Bytes(bytes) => host.client.push_blob(&oref, bytes, digest).await,
            BlobSource::File(path, size) => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(|source| ImageError::Io {
                        path: path.to_path_buf(),
                        source,
                    })?;
                let bar = progress_bar(size, &format!("push {}", short(digest)));
                let result = host
                    .client
                    .push_blob_stream(&oref, file_stream(file, bar.clone()), digest, Some(size))
                    .await;
                bar.finish_and_clear();
                result
            }
        };
        pushed
            .map(|_| ())
            .map_err(|e| self.error(r, &host, "push to", e))
    }

    /// PUTs a manifest under `r`'s tag (or digest); returns its digest.
    pub async fn put_manifest(
        &self,
        r: &Reference,
        body: Bytes,
        media_type: &str,
    ) -> Result<String, ImageError> {
        let (host, oref) = self.connect(r, oci_client::RegistryOperation::Push).await?;
        let content_type = reqwest::header::HeaderValue::from_str(media_type).map_err(|e| {
            ImageError::Registry {
                url: r.to_string(),
                message: format!("invalid media type {media_type:?}: {e}"),
            }
        })?;
        let digest = sha256_digest(&body);
        host.client
            .push_manifest_raw(&oref, body, content_type)
            .await
            .map_err(|e| self.error(r, &host, "push to", e))?;
        Ok(digest)
    }
}

/// The manifest media types we accept, preferred first.
const MANIFEST_MEDIA_TYPES: &[&str] = &[
    MEDIA_OCI_MANIFEST,
    MEDIA_OCI_INDEX,
    MEDIA_DOCKER_MANIFEST,
    MEDIA_DOCKER_LIST,
];

/// An error and its causes, `: `-separated (a connection error's cause says "refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// At most 300 characters of a registry's answer.
fn clip(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.to_string()
    }
}

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

fn short(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    hex.chars().take(12).collect()
}

/// A progress bar on stderr for blobs of at least [`PROGRESS_THRESHOLD`] bytes; hidden otherwise
/// (and by indicatif when stderr is not a terminal).
fn progress_bar(size: u64, what: &str) -> indicatif::ProgressBar {
    if size < PROGRESS_THRESHOLD {
        return indicatif::ProgressBar::hidden();
    }
    tracing::info!("{what}: {:.1} MiB", size as f64 / (1u64 << 20) as f64);
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(size),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// A stream reading `file` in 1 MiB chunks and advancing `bar`.
fn file_stream(
    file: tokio::fs::File,
    bar: indicatif::ProgressBar,
) -> impl futures::Stream<Item = oci_client::errors::Result<Bytes>> + Send + 'static {
    futures::stream::try_unfold((file, bar), |(mut file, bar)| async move {
        let mut buf = vec![0u8; 1 << 20];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        bar.inc(n as u64);
        Ok(Some((Bytes::from(buf), (file, bar))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let r = Reference::parse("debian:bookworm-slim").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("docker.io", "library/debian", Some("bookworm-slim"))
        );
        assert_eq!(r.api_host(), "registry-1.docker.io");
        let r = Reference::parse("127.0.0.1:5000/a/b:t").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "a/b", Some("t"))
        );
        assert!(r.is_loopback());
        assert_eq!(r.to_string(), "127.0.0.1:5000/a/b:t");
        let r = Reference::parse("localhost:5000/x").unwrap();
        assert_eq!(r.reference(), "latest");
        assert!(Reference::parse("ghcr.io/Org/x:1").is_err());
        assert!(Reference::parse("x@sha256:12").is_err());
    }
}
