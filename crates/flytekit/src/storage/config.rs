//! Storage configuration, compatible with Python flytekit and flytectl.
//!
//! Sources, lowest precedence first (the same order flytekit uses):
//!
//! 1. the flytectl YAML config (`storage:` section) named by `FLYTECTL_CONFIG`, else
//!    `~/.flyte/config.yaml` when it exists;
//! 2. the standard cloud variables (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//!    `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ALLOW_HTTP`);
//! 3. flytekit's own variables: `FLYTE_AWS_ENDPOINT`, `FLYTE_AWS_ACCESS_KEY_ID`,
//!    `FLYTE_AWS_SECRET_ACCESS_KEY`, `FLYTE_AWS_ADDRESSING_STYLE`, `FLYTE_AWS_RETRIES`,
//!    `FLYTE_AWS_BACKOFF_SECONDS`, `FLYTE_AZURE_STORAGE_ACCOUNT_NAME`,
//!    `FLYTE_AZURE_STORAGE_ACCOUNT_KEY`, `FLYTE_AZURE_TENANT_ID`, `FLYTE_AZURE_CLIENT_ID`,
//!    `FLYTE_AZURE_CLIENT_SECRET`.
//!
//! Anything not set here is left to the cloud SDK conventions that `object_store` reads itself
//! (instance/pod identity, `GOOGLE_APPLICATION_CREDENTIALS`, `AZURE_*`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::StorageError;

/// The default multipart threshold and part size: 8 MiB.
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;

/// Everything [`Storage`](super::Storage) needs to reach object stores. Build it with
/// [`StorageConfig::from_env`], [`StorageConfig::from_flytectl_yaml`] or [`StorageConfig::default`]
/// plus the `with_*` setters.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StorageConfig {
    /// Settings for `s3://` URIs (AWS S3 and S3-compatible servers such as MinIO or Garage).
    pub s3: S3Config,
    /// Settings for `gs://` URIs.
    pub gcs: GcsConfig,
    /// Settings for `abfs://`, `abfss://` and `az://` URIs.
    pub azure: AzureConfig,
    /// Retries for transient failures (5xx answers, dropped connections, timeouts).
    pub retry: RetrySettings,
    /// Objects at least this large are written with a multipart upload.
    pub multipart_threshold: usize,
    /// The part size of multipart uploads (S3 requires at least 5 MiB for all but the last part).
    pub part_size: usize,
    /// How many parts of one multipart upload are in flight at once.
    pub upload_concurrency: usize,
    /// How long to wait for a TCP connection to the object store.
    pub connect_timeout: Duration,
    /// How long one HTTP request (one part, one small object) may take.
    pub request_timeout: Duration,
    /// The storage deadline: how long a remote store may go without answering one step of an
    /// operation (a request with its retries, the next chunk of a download, one part of an
    /// upload) before the operation fails with [`StorageError::Deadline`], naming the endpoint.
    /// Default [`DEFAULT_DEADLINE`]; `FLYTEKIT_STORAGE_DEADLINE_SECONDS` sets it.
    pub deadline: Duration,
}

/// The default [`StorageConfig::deadline`]: 60 seconds (botocore's read timeout, which flytekit's
/// S3 client uses).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            s3: S3Config::default(),
            gcs: GcsConfig::default(),
            azure: AzureConfig::default(),
            retry: RetrySettings::default(),
            multipart_threshold: DEFAULT_PART_SIZE,
            part_size: DEFAULT_PART_SIZE,
            upload_concurrency: 4,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(120),
            deadline: DEFAULT_DEADLINE,
        }
    }
}

/// Settings for S3 and S3-compatible stores. Unset fields fall back to the `AWS_*` conventions.
#[derive(Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct S3Config {
    /// A custom endpoint such as `http://localhost:9000` (MinIO, Garage, the Flyte sandbox).
    pub endpoint: Option<String>,
    /// The signing region (`us-east-1` when unset; Garage defaults to `garage`).
    pub region: Option<String>,
    /// The access key id.
    pub access_key_id: Option<String>,
    /// The secret access key.
    pub secret_access_key: Option<String>,
    /// A session token for temporary credentials.
    pub session_token: Option<String>,
    /// Allow plain-HTTP endpoints. Implied by an `http://` endpoint.
    pub allow_http: Option<bool>,
    /// `Some(true)` for virtual-hosted-style requests (`bucket.host/key`), `Some(false)` for
    /// path-style (`host/bucket/key`). Unset means path-style, which every S3-compatible server
    /// accepts.
    pub virtual_hosted_style: Option<bool>,
    /// Use only the ambient identity (instance profile, IRSA), never static keys
    /// (flytectl `auth-type: iam`).
    pub iam_only: bool,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &redact(&self.secret_access_key))
            .field("session_token", &redact(&self.session_token))
            .field("allow_http", &self.allow_http)
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .field("iam_only", &self.iam_only)
            .finish()
    }
}

impl S3Config {
    /// Sets the endpoint (e.g. `http://127.0.0.1:3900`).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the signing region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets static credentials.
    pub fn with_credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.access_key_id = Some(access_key_id.into());
        self.secret_access_key = Some(secret_access_key.into());
        self
    }

    /// Sets a session token for temporary credentials.
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    /// Allows (or forbids) plain-HTTP endpoints.
    pub fn with_allow_http(mut self, allow: bool) -> Self {
        self.allow_http = Some(allow);
        self
    }

    /// Chooses virtual-hosted-style (`true`) or path-style (`false`) requests.
    pub fn with_virtual_hosted_style(mut self, virtual_hosted: bool) -> Self {
        self.virtual_hosted_style = Some(virtual_hosted);
        self
    }
}

/// Settings for Google Cloud Storage. Unset fields fall back to `GOOGLE_*` conventions and the
/// metadata server.
#[derive(Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct GcsConfig {
    /// Path to a service-account JSON file.
    pub service_account_path: Option<String>,
    /// A service-account JSON document.
    pub service_account_key: Option<String>,
}

impl std::fmt::Debug for GcsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcsConfig")
            .field("service_account_path", &self.service_account_path)
            .field("service_account_key", &redact(&self.service_account_key))
            .finish()
    }
}

/// Settings for Azure Blob Storage / ADLS Gen2. Unset fields fall back to `AZURE_*` conventions.
#[derive(Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct AzureConfig {
    /// The storage account name (also taken from `abfs://container@ACCOUNT.dfs.core.windows.net`).
    pub account_name: Option<String>,
    /// The storage account key.
    pub account_key: Option<String>,
    /// The tenant of a service principal.
    pub tenant_id: Option<String>,
    /// The client id of a service principal.
    pub client_id: Option<String>,
    /// The client secret of a service principal.
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for AzureConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureConfig")
            .field("account_name", &self.account_name)
            .field("account_key", &redact(&self.account_key))
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &redact(&self.client_secret))
            .finish()
    }
}

/// Retry policy for transient failures: exponential backoff with jitter.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetrySettings {
    /// How many times a failed request is retried (0 disables retries).
    pub max_retries: usize,
    /// The first backoff.
    pub initial_backoff: Duration,
    /// The largest backoff (`FLYTE_AWS_BACKOFF_SECONDS`).
    pub max_backoff: Duration,
    /// No retry starts after this much time since the first attempt.
    pub timeout: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_retries: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            timeout: Duration::from_secs(180),
        }
    }
}

impl RetrySettings {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Sets the number of retries.
    pub fn with_max_retries(mut self, max_retries: usize) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Sets the first and the largest backoff.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets the overall retry deadline.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub(crate) fn to_object_store(&self) -> object_store::RetryConfig {
        object_store::RetryConfig {
            backoff: object_store::BackoffConfig {
                init_backoff: self.initial_backoff,
                max_backoff: self.max_backoff,
                base: 2.0,
            },
            max_retries: self.max_retries,
            retry_timeout: self.timeout,
        }
    }
}

fn redact(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "<redacted>")
}

/// Environment variables read by [`StorageConfig::from_env`], named once for messages and docs.
pub mod env {
    /// flytekit's S3 endpoint (`[aws] endpoint`).
    pub const FLYTE_AWS_ENDPOINT: &str = "FLYTE_AWS_ENDPOINT";
    /// flytekit's S3 access key id.
    pub const FLYTE_AWS_ACCESS_KEY_ID: &str = "FLYTE_AWS_ACCESS_KEY_ID";
    /// flytekit's S3 secret access key.
    pub const FLYTE_AWS_SECRET_ACCESS_KEY: &str = "FLYTE_AWS_SECRET_ACCESS_KEY";
    /// flytekit's S3 addressing style (`virtual` or `path`).
    pub const FLYTE_AWS_ADDRESSING_STYLE: &str = "FLYTE_AWS_ADDRESSING_STYLE";
    /// flytekit's retry count.
    pub const FLYTE_AWS_RETRIES: &str = "FLYTE_AWS_RETRIES";
    /// flytekit's backoff in seconds.
    pub const FLYTE_AWS_BACKOFF_SECONDS: &str = "FLYTE_AWS_BACKOFF_SECONDS";
    /// flytekit's Azure storage account name.
    pub const FLYTE_AZURE_STORAGE_ACCOUNT_NAME: &str = "FLYTE_AZURE_STORAGE_ACCOUNT_NAME";
    /// flytekit's Azure storage account key.
    pub const FLYTE_AZURE_STORAGE_ACCOUNT_KEY: &str = "FLYTE_AZURE_STORAGE_ACCOUNT_KEY";
    /// flytekit's Azure tenant id.
    pub const FLYTE_AZURE_TENANT_ID: &str = "FLYTE_AZURE_TENANT_ID";
    /// flytekit's Azure client id.
    pub const FLYTE_AZURE_CLIENT_ID: &str = "FLYTE_AZURE_CLIENT_ID";
    /// flytekit's Azure client secret.
    pub const FLYTE_AZURE_CLIENT_SECRET: &str = "FLYTE_AZURE_CLIENT_SECRET";
    /// The path of the flytectl YAML config.
    pub const FLYTECTL_CONFIG: &str = "FLYTECTL_CONFIG";
    /// The storage deadline in seconds ([`StorageConfig::deadline`](super::StorageConfig)).
    pub const FLYTEKIT_STORAGE_DEADLINE_SECONDS: &str = "FLYTEKIT_STORAGE_DEADLINE_SECONDS";
}

impl StorageConfig {
    /// Reads the configuration the way flytekit does: the flytectl YAML named by `FLYTECTL_CONFIG`
    /// (or `~/.flyte/config.yaml`), overridden by `AWS_*` and then `FLYTE_*` environment variables.
    ///
    /// A `FLYTECTL_CONFIG` that points to a missing file is ignored with a warning, like flytekit.
    /// A malformed file or a malformed number is an error.
    pub fn from_env() -> Result<Self, StorageError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// [`from_env`](Self::from_env) with an explicit variable lookup (for tests and embedding).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, StorageError> {
        let yaml_path = match lookup(env::FLYTECTL_CONFIG) {
            Some(path) if Path::new(&path).exists() => Some(PathBuf::from(path)),
            Some(path) => {
                tracing::warn!(
                    "flytectl config file {path} (from {}) does not exist, ignoring it",
                    env::FLYTECTL_CONFIG
                );
                None
            }
            None => lookup("HOME")
                .map(|home| Path::new(&home).join(".flyte/config.yaml"))
                .filter(|p| p.exists()),
        };
        let mut cfg = match yaml_path {
            Some(path) => Self::from_flytectl_yaml(&path)?,
            None => Self::default(),
        };
        cfg.apply_env(&lookup)?;
        Ok(cfg)
    }

    /// Reads the `storage:` section of a flytectl config file (other sections are ignored).
    ///
    /// Understands `type: s3|minio|stow`, `connection: {endpoint, region, access-key, secret-key,
    /// auth-type, disable-ssl, addressing-style}` and `stow: {kind: s3|google|azure, config: {...}}`.
    pub fn from_flytectl_yaml(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| StorageError::Io {
            op: "read flytectl config",
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_flytectl_yaml_str(&text).map_err(|e| match e {
            StorageError::Config { message } => StorageError::Config {
                message: format!("{}: {message}", path.display()),
            },
            other => other,
        })
    }

    /// Parses flytectl YAML text; see [`from_flytectl_yaml`](Self::from_flytectl_yaml).
    pub fn from_flytectl_yaml_str(text: &str) -> Result<Self, StorageError> {
        Self::parse_flytectl_yaml(text).map_err(|message| StorageError::Config { message })
    }

    fn parse_flytectl_yaml(text: &str) -> Result<Self, String> {
        let file: FlytectlFile =
            serde_yaml::from_str(text).map_err(|e| format!("invalid flytectl config: {e}"))?;
        let mut cfg = Self::default();
        let Some(storage) = file.storage else {
            return Ok(cfg);
        };
        let kind = storage.kind.as_deref().unwrap_or("s3").to_ascii_lowercase();
        match kind.as_str() {
            "s3" | "minio" => cfg.apply_s3_connection(&storage.connection)?,
            "stow" => {
                let stow = storage.stow.unwrap_or_default();
                let stow_kind = stow.kind.as_deref().unwrap_or("s3").to_ascii_lowercase();
                let get = |key: &str| stow.config.get(key).and_then(yaml_scalar);
                match stow_kind.as_str() {
                    "s3" => {
                        let conn = Connection {
                            endpoint: get("endpoint"),
                            region: get("region"),
                            access_key: get("access_key_id"),
                            secret_key: get("secret_key"),
                            auth_type: get("auth_type"),
                            disable_ssl: get("disable_ssl")
                                .map(|v| parse_bool("stow.config.disable_ssl", &v))
                                .transpose()?,
                            addressing_style: None,
                        };
                        cfg.apply_s3_connection(&conn)?;
                        cfg.s3.session_token = get("token");
                    }
                    "google" | "gcs" => {
                        cfg.gcs.service_account_key = get("json");
                    }
                    "azure" => {
                        cfg.azure.account_name = get("account");
                        cfg.azure.account_key = get("key");
                    }
                    other => {
                        return Err(format!(
                            "storage.stow.kind '{other}' is not supported (use s3, google or azure)"
                        ));
                    }
                }
            }
            "mem" | "local" => {}
            other => {
                return Err(format!(
                    "storage.type '{other}' is not supported (use s3, minio or stow)"
                ));
            }
        }
        Ok(cfg)
    }

    fn apply_s3_connection(&mut self, conn: &Connection) -> Result<(), String> {
        let s3 = &mut self.s3;
        s3.region = conn.region.clone().or(s3.region.take());
        if let Some(disable_ssl) = conn.disable_ssl {
            s3.allow_http = Some(disable_ssl);
        }
        if let Some(endpoint) = &conn.endpoint {
            s3.endpoint = Some(endpoint.clone());
        }
        if let Some(style) = &conn.addressing_style {
            s3.virtual_hosted_style = Some(parse_addressing_style(style)?);
        }
        match conn
            .auth_type
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("iam") => {
                s3.iam_only = true;
            }
            Some("accesskey") | None => {
                s3.access_key_id = conn.access_key.clone().or(s3.access_key_id.take());
                s3.secret_access_key = conn.secret_key.clone().or(s3.secret_access_key.take());
            }
            Some(other) => {
                return Err(format!(
                    "storage.connection.auth-type '{other}' is not supported (use accesskey or iam)"
                ));
            }
        }
        Ok(())
    }

    fn apply_env(&mut self, lookup: &impl Fn(&str) -> Option<String>) -> Result<(), StorageError> {
        let bad = |name: &str, value: &str, want: &str| StorageError::Config {
            message: format!("environment variable {name}={value:?} is not {want}"),
        };
        let s3 = &mut self.s3;
        // Standard AWS names first, then flytekit's, which win.
        for (names, slot) in [
            (
                &[
                    "AWS_ENDPOINT_URL_S3",
                    "AWS_ENDPOINT_URL",
                    "AWS_ENDPOINT",
                    env::FLYTE_AWS_ENDPOINT,
                ][..],
                &mut s3.endpoint,
            ),
            (&["AWS_DEFAULT_REGION", "AWS_REGION"][..], &mut s3.region),
            (
                &["AWS_ACCESS_KEY_ID", env::FLYTE_AWS_ACCESS_KEY_ID][..],
                &mut s3.access_key_id,
            ),
            (
                &["AWS_SECRET_ACCESS_KEY", env::FLYTE_AWS_SECRET_ACCESS_KEY][..],
                &mut s3.secret_access_key,
            ),
            (&["AWS_SESSION_TOKEN"][..], &mut s3.session_token),
        ] {
            for name in names {
                if let Some(value) = lookup(name) {
                    *slot = Some(value);
                }
            }
        }
        if let Some(v) = lookup("AWS_ALLOW_HTTP") {
            s3.allow_http = Some(
                parse_bool("AWS_ALLOW_HTTP", &v)
                    .map_err(|_| bad("AWS_ALLOW_HTTP", &v, "true or false"))?,
            );
        }
        if let Some(v) = lookup("AWS_VIRTUAL_HOSTED_STYLE_REQUEST") {
            s3.virtual_hosted_style = Some(
                parse_bool("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", &v)
                    .map_err(|_| bad("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", &v, "true or false"))?,
            );
        }
        if let Some(v) = lookup(env::FLYTE_AWS_ADDRESSING_STYLE) {
            s3.virtual_hosted_style = Some(parse_addressing_style(&v).map_err(|_| {
                bad(
                    env::FLYTE_AWS_ADDRESSING_STYLE,
                    &v,
                    "'virtual', 'path' or 'auto'",
                )
            })?);
        }
        if let Some(v) = lookup(env::FLYTE_AWS_RETRIES) {
            self.retry.max_retries = v
                .trim()
                .parse()
                .map_err(|_| bad(env::FLYTE_AWS_RETRIES, &v, "a non-negative integer"))?;
        }
        if let Some(v) = lookup(env::FLYTE_AWS_BACKOFF_SECONDS) {
            let secs: u64 = v.trim().parse().map_err(|_| {
                bad(
                    env::FLYTE_AWS_BACKOFF_SECONDS,
                    &v,
                    "a whole number of seconds",
                )
            })?;
            self.retry.max_backoff = Duration::from_secs(secs).max(self.retry.initial_backoff);
        }
        if let Some(v) = lookup(env::FLYTEKIT_STORAGE_DEADLINE_SECONDS) {
            let secs: f64 = v
                .trim()
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s > 0.0)
                .ok_or_else(|| {
                    bad(
                        env::FLYTEKIT_STORAGE_DEADLINE_SECONDS,
                        &v,
                        "a positive number of seconds",
                    )
                })?;
            self.deadline = Duration::from_secs_f64(secs.min(1e9));
        }
        let az = &mut self.azure;
        for (name, slot) in [
            (env::FLYTE_AZURE_STORAGE_ACCOUNT_NAME, &mut az.account_name),
            (env::FLYTE_AZURE_STORAGE_ACCOUNT_KEY, &mut az.account_key),
            (env::FLYTE_AZURE_TENANT_ID, &mut az.tenant_id),
            (env::FLYTE_AZURE_CLIENT_ID, &mut az.client_id),
            (env::FLYTE_AZURE_CLIENT_SECRET, &mut az.client_secret),
        ] {
            if let Some(value) = lookup(name) {
                *slot = Some(value);
            }
        }
        Ok(())
    }

    /// Replaces the S3 settings.
    pub fn with_s3(mut self, s3: S3Config) -> Self {
        self.s3 = s3;
        self
    }

    /// Replaces the GCS settings.
    pub fn with_gcs(mut self, gcs: GcsConfig) -> Self {
        self.gcs = gcs;
        self
    }

    /// Replaces the Azure settings.
    pub fn with_azure(mut self, azure: AzureConfig) -> Self {
        self.azure = azure;
        self
    }

    /// Replaces the retry policy.
    pub fn with_retry(mut self, retry: RetrySettings) -> Self {
        self.retry = retry;
        self
    }

    /// Sets the size from which uploads are multipart, and the part size (at least 5 MiB on S3).
    pub fn with_multipart(mut self, threshold: usize, part_size: usize) -> Self {
        self.multipart_threshold = threshold.max(1);
        self.part_size = part_size.max(1);
        self
    }

    /// Sets the TCP connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the per-request timeout.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the storage deadline ([`StorageConfig::deadline`]).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{name} must be true or false, got {value:?}")),
    }
}

fn parse_addressing_style(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "virtual" => Ok(true),
        "path" | "auto" => Ok(false),
        other => Err(format!(
            "addressing style must be 'virtual', 'path' or 'auto', got {other:?}"
        )),
    }
}

fn yaml_scalar(value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[derive(Deserialize)]
struct FlytectlFile {
    storage: Option<StorageSection>,
}

#[derive(Deserialize, Default)]
struct StorageSection {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    connection: Connection,
    stow: Option<StowSection>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Connection {
    endpoint: Option<String>,
    region: Option<String>,
    access_key: Option<String>,
    secret_key: Option<String>,
    auth_type: Option<String>,
    disable_ssl: Option<bool>,
    addressing_style: Option<String>,
}

#[derive(Deserialize, Default)]
struct StowSection {
    kind: Option<String>,
    #[serde(default)]
    config: BTreeMap<String, serde_yaml::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flytectl_sandbox_config_is_understood() {
        let cfg = StorageConfig::from_flytectl_yaml_str(
            "admin:\n  endpoint: dns:///localhost:30080\nstorage:\n  type: minio\n  connection:\n    \
             endpoint: http://localhost:30002\n    access-key: minio\n    secret-key: miniostorage\n    \
             auth-type: accesskey\n    disable-ssl: true\n    region: us-east-1\n",
        )
        .expect("parse");
        assert_eq!(cfg.s3.endpoint.as_deref(), Some("http://localhost:30002"));
        assert_eq!(cfg.s3.access_key_id.as_deref(), Some("minio"));
        assert_eq!(cfg.s3.secret_access_key.as_deref(), Some("miniostorage"));
        assert_eq!(cfg.s3.allow_http, Some(true));
        assert_eq!(cfg.s3.region.as_deref(), Some("us-east-1"));
        assert!(
            !format!("{cfg:?}").contains("miniostorage"),
            "secrets are redacted in Debug"
        );
    }

    #[test]
    fn stow_and_iam_configs() {
        let cfg = StorageConfig::from_flytectl_yaml_str(
            "storage:\n  type: stow\n  stow:\n    kind: s3\n    config:\n      region: eu-west-1\n      \
             auth_type: iam\n      disable_ssl: false\n",
        )
        .expect("parse");
        assert!(cfg.s3.iam_only);
        assert_eq!(cfg.s3.region.as_deref(), Some("eu-west-1"));
        assert_eq!(cfg.s3.allow_http, Some(false));
        let cfg = StorageConfig::from_flytectl_yaml_str(
            "storage:\n  type: stow\n  stow:\n    kind: azure\n    config:\n      account: acct\n      key: k\n",
        )
        .expect("parse");
        assert_eq!(cfg.azure.account_name.as_deref(), Some("acct"));
        let err = StorageConfig::from_flytectl_yaml_str("storage:\n  type: ftp\n")
            .expect_err("unsupported");
        assert!(err.to_string().contains("ftp"), "{err}");
    }

    #[test]
    fn flytekit_env_wins_over_aws_env_and_yaml() {
        let dir = tempfile::tempdir().expect("tempdir");
        let yaml = dir.path().join("config.yaml");
        std::fs::write(
            &yaml,
            "storage:\n  connection:\n    endpoint: http://yaml:1\n    access-key: y\n",
        )
        .expect("write");
        let vars: BTreeMap<&str, String> = [
            ("FLYTECTL_CONFIG", yaml.display().to_string()),
            ("AWS_ENDPOINT_URL", "http://aws:2".to_string()),
            ("FLYTE_AWS_ENDPOINT", "http://flyte:3".to_string()),
            ("AWS_REGION", "garage".to_string()),
            ("FLYTE_AWS_RETRIES", "7".to_string()),
            ("FLYTE_AWS_ADDRESSING_STYLE", "virtual".to_string()),
        ]
        .into_iter()
        .collect();
        let cfg = StorageConfig::from_lookup(|k| vars.get(k).cloned()).expect("config");
        assert_eq!(cfg.s3.endpoint.as_deref(), Some("http://flyte:3"));
        assert_eq!(cfg.s3.access_key_id.as_deref(), Some("y"));
        assert_eq!(cfg.s3.region.as_deref(), Some("garage"));
        assert_eq!(cfg.retry.max_retries, 7);
        assert_eq!(cfg.s3.virtual_hosted_style, Some(true));
        let err =
            StorageConfig::from_lookup(|k| (k == "FLYTE_AWS_RETRIES").then(|| "x".to_string()))
                .expect_err("bad number");
        assert!(err.to_string().contains("FLYTE_AWS_RETRIES"), "{err}");
    }
}
