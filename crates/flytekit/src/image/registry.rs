//! A small client for the OCI distribution API (registry v2): enough to check that an image
//! exists, pull a base image's manifest, config and layers, and push blobs and manifests.
//!
//! - Plain HTTP is used for loopback registries (`localhost`, `127.0.0.1`, `[::1]`) and when the
//!   client is [`insecure`](RegistryClient::insecure); HTTPS otherwise.
//! - Authentication: anonymous, or the `Bearer` token flow (`WWW-Authenticate` challenge) and
//!   `Basic`, with credentials from [`RegistryClient::with_credentials`] or the environment
//!   variables `FLYTEKIT_REGISTRY_USERNAME` / `FLYTEKIT_REGISTRY_PASSWORD`.
//! - Docker Hub names are normalized (`debian:bookworm` is `registry-1.docker.io/library/debian`).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::ImageError;

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

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

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

/// A client for OCI registries. Cheap to share by reference; caches bearer tokens per host.
#[derive(Debug)]
pub struct RegistryClient {
    http: reqwest::Client,
    insecure: bool,
    credentials: Option<(String, String)>,
    tokens: Mutex<HashMap<String, String>>,
}

impl RegistryClient {
    /// A client with credentials from `FLYTEKIT_REGISTRY_USERNAME` / `FLYTEKIT_REGISTRY_PASSWORD`
    /// when both are set.
    pub fn new() -> Result<RegistryClient, ImageError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("flytekit-rs/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| ImageError::Http {
                url: String::new(),
                source: e,
            })?;
        let credentials = match (
            std::env::var("FLYTEKIT_REGISTRY_USERNAME"),
            std::env::var("FLYTEKIT_REGISTRY_PASSWORD"),
        ) {
            (Ok(u), Ok(p)) if !u.is_empty() => Some((u, p)),
            _ => None,
        };
        Ok(RegistryClient {
            http,
            insecure: false,
            credentials,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// Use plain HTTP for every registry (not only loopback ones).
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Authenticate with these credentials (Basic, or to obtain Bearer tokens).
    pub fn with_credentials(mut self, username: &str, password: &str) -> Self {
        self.credentials = Some((username.to_string(), password.to_string()));
        self
    }

    fn base(&self, r: &Reference) -> String {
        let scheme = if self.insecure || r.is_loopback() {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}/v2/{}", r.api_host(), r.repository)
    }

    /// Sends the request built by `make`, attaching a cached token; on `401` obtains a token
    /// from the challenge and retries once.
    async fn send(
        &self,
        r: &Reference,
        url: &str,
        make: impl Fn() -> Result<reqwest::RequestBuilder, ImageError>,
    ) -> Result<reqwest::Response, ImageError> {
        let host = r.api_host().to_string();
        let http_err = |source| ImageError::Http {
            url: url.to_string(),
            source,
        };
        let auth = self.cached_auth(&host);
        let mut req = make()?;
        if let Some(auth) = &auth {
            req = req.header(reqwest::header::AUTHORIZATION, auth);
        }
        let resp = req.send().await.map_err(http_err)?;
        if resp.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let Some(challenge) = challenge else {
            return Ok(resp);
        };
        let Some(auth) = self.authenticate(url, &challenge).await? else {
            return Ok(resp);
        };
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(host, auth.clone());
        }
        make()?
            .header(reqwest::header::AUTHORIZATION, auth)
            .send()
            .await
            .map_err(http_err)
    }

    fn cached_auth(&self, host: &str) -> Option<String> {
        self.tokens.lock().ok()?.get(host).cloned()
    }

    /// The `Authorization` value answering `challenge`, if we can produce one.
    async fn authenticate(&self, url: &str, challenge: &str) -> Result<Option<String>, ImageError> {
        use base64::Engine as _;
        let basic = self.credentials.as_ref().map(|(u, p)| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )
        });
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Ok(basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Ok(None);
        }
        let params = parse_challenge_params(params);
        let Some(realm) = params.get("realm") else {
            return Ok(None);
        };
        let mut token_url = url::Url::parse(realm).map_err(|e| ImageError::Registry {
            url: url.to_string(),
            message: format!("invalid token realm {realm:?} in the auth challenge: {e}"),
        })?;
        for key in ["service", "scope"] {
            if let Some(v) = params.get(key) {
                token_url.query_pairs_mut().append_pair(key, v);
            }
        }
        let mut req = self.http.get(token_url.as_str());
        if let Some(basic) = basic {
            req = req.header(reqwest::header::AUTHORIZATION, basic);
        }
        let resp = req.send().await.map_err(|source| ImageError::Http {
            url: token_url.to_string(),
            source,
        })?;
        if !resp.status().is_success() {
            return Err(ImageError::Registry {
                url: url.to_string(),
                message: format!(
                    "the registry refused a token ({}); set FLYTEKIT_REGISTRY_USERNAME and \
                     FLYTEKIT_REGISTRY_PASSWORD to credentials with access",
                    resp.status()
                ),
            });
        }
        #[derive(Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let body = resp.bytes().await.map_err(|source| ImageError::Http {
            url: token_url.to_string(),
            source,
        })?;
        let token: Token = serde_json::from_slice(&body).map_err(|e| ImageError::Registry {
            url: token_url.to_string(),
            message: format!("the token endpoint answered invalid JSON: {e}"),
        })?;
        Ok(token
            .token
            .or(token.access_token)
            .map(|t| format!("Bearer {t}")))
    }

    /// Whether the manifest `r` exists (HEAD). Errors become [`Existence::Unknown`].
    pub async fn manifest_exists(&self, r: &Reference) -> Existence {
        match self.head_manifest(r).await {
            Ok(Some(_)) => Existence::Present,
            Ok(None) => Existence::Absent,
            Err(e) => Existence::Unknown(e.to_string()),
        }
    }

    /// HEADs the manifest `r`: `Some(digest)` (empty when the registry sends none), `None` on 404.
    pub async fn head_manifest(&self, r: &Reference) -> Result<Option<String>, ImageError> {
        let url = format!("{}/manifests/{}", self.base(r), r.reference());
        let resp = self
            .send(r, &url, || {
                Ok(self
                    .http
                    .head(&url)
                    .header(reqwest::header::ACCEPT, MANIFEST_ACCEPT))
            })
            .await?;
        match resp.status() {
            s if s.is_success() => Ok(Some(
                resp.headers()
                    .get("docker-content-digest")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string(),
            )),
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            s => Err(status_error(&url, s, "")),
        }
    }

    /// GETs the manifest `r`: `(bytes, media type, digest)`. The digest is computed from the
    /// bytes and checked against a digest reference.
    pub async fn get_manifest(&self, r: &Reference) -> Result<(Bytes, String, String), ImageError> {
        let url = format!("{}/manifests/{}", self.base(r), r.reference());
        let resp = self
            .send(r, &url, || {
                Ok(self
                    .http
                    .get(&url)
                    .header(reqwest::header::ACCEPT, MANIFEST_ACCEPT))
            })
            .await?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(ImageError::NotFound(r.to_string()));
        }
        let media_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let body = resp.bytes().await.map_err(|source| ImageError::Http {
            url: url.clone(),
            source,
        })?;
        if !status.is_success() {
            return Err(status_error(&url, status, &String::from_utf8_lossy(&body)));
        }
        let digest = sha256_digest(&body);
        if let Some(want) = &r.digest
            && *want != digest
        {
            return Err(ImageError::DigestMismatch {
                what: url,
                expected: want.clone(),
                actual: digest,
            });
        }
        Ok((body, media_type, digest))
    }

    /// Whether the repository of `r` has the blob `digest` (HEAD).
    pub async fn blob_exists(&self, r: &Reference, digest: &str) -> Result<bool, ImageError> {
        let url = format!("{}/blobs/{digest}", self.base(r));
        let resp = self.send(r, &url, || Ok(self.http.head(&url))).await?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            reqwest::StatusCode::NOT_FOUND => Ok(false),
            s => Err(status_error(&url, s, "")),
        }
    }

    /// GETs a small blob (such as an image config) into memory, verifying its digest.
    pub async fn get_blob(&self, r: &Reference, digest: &str) -> Result<Bytes, ImageError> {
        let url = format!("{}/blobs/{digest}", self.base(r));
        let resp = self.send(r, &url, || Ok(self.http.get(&url))).await?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|source| ImageError::Http {
            url: url.clone(),
            source,
        })?;
        if !status.is_success() {
            return Err(status_error(&url, status, &String::from_utf8_lossy(&body)));
        }
        let actual = sha256_digest(&body);
        if actual != digest {
            return Err(ImageError::DigestMismatch {
                what: url,
                expected: digest.to_string(),
                actual,
            });
        }
        Ok(body)
    }

    /// Streams the blob `digest` into the file `dest`, verifying its digest.
    pub async fn download_blob(
        &self,
        r: &Reference,
        digest: &str,
        size: u64,
        dest: &Path,
    ) -> Result<(), ImageError> {
        let url = format!("{}/blobs/{digest}", self.base(r));
        let resp = self.send(r, &url, || Ok(self.http.get(&url))).await?;
        let status = resp.status();
        if !status.is_success() {
            return Err(status_error(&url, status, ""));
        }
        let io_err = |source| ImageError::Io {
            path: dest.to_path_buf(),
            source,
        };
        let mut file = tokio::fs::File::create(dest).await.map_err(io_err)?;
        let bar = progress_bar(size, &format!("pull {}", short(digest)));
        let mut hasher = Sha256::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|source| ImageError::Http {
                url: url.clone(),
                source,
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
                what: url,
                expected: digest.to_string(),
                actual,
            });
        }
        Ok(())
    }

    /// Asks the registry to mount `digest` from repository `from` into `r`'s repository
    /// (same registry only). `true` when mounted.
    pub async fn mount_blob(
        &self,
        r: &Reference,
        digest: &str,
        from: &str,
    ) -> Result<bool, ImageError> {
        let mut url =
            url::Url::parse(&format!("{}/blobs/uploads/", self.base(r))).map_err(|e| {
                ImageError::Registry {
                    url: self.base(r),
                    message: e.to_string(),
                }
            })?;
        url.query_pairs_mut()
            .append_pair("mount", digest)
            .append_pair("from", from);
        let url = url.to_string();
        let resp = self.send(r, &url, || Ok(self.http.post(&url))).await?;
        Ok(resp.status() == reqwest::StatusCode::CREATED)
    }

    /// Pushes a blob with the monolithic upload (POST, then PUT with the digest).
    pub async fn push_blob(
        &self,
        r: &Reference,
        digest: &str,
        source: BlobSource<'_>,
    ) -> Result<(), ImageError> {
        let start_url = format!("{}/blobs/uploads/", self.base(r));
        let resp = self
            .send(r, &start_url, || Ok(self.http.post(&start_url)))
            .await?;
        if resp.status() != reqwest::StatusCode::ACCEPTED {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            return Err(status_error(&start_url, status, &body));
        }
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ImageError::Registry {
                url: start_url.clone(),
                message: "the upload answer has no Location header".into(),
            })?
            .to_string();
        let mut put_url = url::Url::parse(&start_url)
            .and_then(|base| base.join(&location))
            .map_err(|e| ImageError::Registry {
                url: start_url.clone(),
                message: format!("invalid upload Location {location:?}: {e}"),
            })?;
        put_url.query_pairs_mut().append_pair("digest", digest);
        let put_url = put_url.to_string();
        let size = match &source {
            BlobSource::Bytes(b) => b.len() as u64,
            BlobSource::File(_, size) => *size,
        };
        let bar = progress_bar(size, &format!("push {}", short(digest)));
        let resp = self
            .send(r, &put_url, || {
                let body = match &source {
                    BlobSource::Bytes(b) => reqwest::Body::from(b.clone()),
                    BlobSource::File(path, _) => {
                        let file = std::fs::File::open(path).map_err(|source| ImageError::Io {
                            path: path.to_path_buf(),
                            source,
                        })?;
                        file_body(tokio::fs::File::from_std(file), bar.clone())
                    }
                };
                Ok(self
                    .http
                    .put(&put_url)
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .header(reqwest::header::CONTENT_LENGTH, size)
                    .body(body))
            })
            .await?;
        bar.finish_and_clear();
        if resp.status() != reqwest::StatusCode::CREATED {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            return Err(status_error(&put_url, status, &body));
        }
        Ok(())
    }

    /// PUTs a manifest under `r`'s tag (or digest); returns its digest.
    pub async fn put_manifest(
        &self,
        r: &Reference,
        body: Bytes,
        media_type: &str,
    ) -> Result<String, ImageError> {
        let url = format!("{}/manifests/{}", self.base(r), r.reference());
        let resp = self
            .send(r, &url, || {
                Ok(self
                    .http
                    .put(&url)
                    .header(reqwest::header::CONTENT_TYPE, media_type)
                    .body(body.clone()))
            })
            .await?;
        let status = resp.status();
        if status != reqwest::StatusCode::CREATED && !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(status_error(&url, status, &text));
        }
        Ok(sha256_digest(&body))
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

fn status_error(url: &str, status: reqwest::StatusCode, body: &str) -> ImageError {
    let hint = match status.as_u16() {
        401 | 403 => {
            "; log in: set FLYTEKIT_REGISTRY_USERNAME and FLYTEKIT_REGISTRY_PASSWORD to credentials with access"
        }
        _ => "",
    };
    let body: String = body.trim().chars().take(500).collect();
    ImageError::Registry {
        url: url.to_string(),
        message: format!("HTTP {status}{hint} {body}").trim_end().to_string(),
    }
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

/// A streaming request body reading `file` in 1 MiB chunks and advancing `bar`.
fn file_body(file: tokio::fs::File, bar: indicatif::ProgressBar) -> reqwest::Body {
    let stream = futures::stream::try_unfold((file, bar), |(mut file, bar)| async move {
        let mut buf = vec![0u8; 1 << 20];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        buf.truncate(n);
        bar.inc(n as u64);
        Ok(Some((Bytes::from(buf), (file, bar))))
    });
    reqwest::Body::wrap_stream(stream)
}

/// `key="value", key2="value2"` of a `WWW-Authenticate` challenge.
fn parse_challenge_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        out.insert(key, value.to_string());
        rest = remaining.trim_start_matches([',', ' ']);
    }
    out
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

    #[test]
    fn challenges() {
        let p = parse_challenge_params(
            r#"realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull""#,
        );
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["scope"], "repository:library/debian:pull");
    }
}
