//! Storage errors: every variant names the URI and the operation, and the ones a user can fix say
//! which setting to check.

use std::path::PathBuf;

/// Why a storage operation failed. Every variant names the URI (or local path) and the operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The object does not exist.
    #[error("{op} {uri}: not found")]
    NotFound {
        /// The operation (`read`, `write`, `list`, ...).
        op: &'static str,
        /// The URI it was applied to.
        uri: String,
    },
    /// A file was expected, but the URI names a directory (or, in an object store, a prefix
    /// holding objects).
    #[error(
        "{op} {uri}: is a directory, not a file; give the path or URI of a file (or read it as a FlyteDirectory)"
    )]
    NotAFile {
        /// The operation.
        op: &'static str,
        /// The URI.
        uri: String,
    },
    /// The bucket (or container) does not exist.
    #[error(
        "{op} {uri}: bucket '{bucket}' does not exist{endpoint_note}; create it or fix the bucket in the URI (e.g. the raw output prefix)"
    )]
    BucketNotFound {
        /// The operation.
        op: &'static str,
        /// The URI.
        uri: String,
        /// The bucket or container name.
        bucket: String,
        /// ` at <endpoint>` when a custom endpoint is configured, else empty.
        endpoint_note: String,
    },
    /// The store rejected the credentials or they lack permission.
    #[error(
        "{op} {uri}: access denied by the object store ({detail}); check the credentials: {hint}"
    )]
    AccessDenied {
        /// The operation.
        op: &'static str,
        /// The URI.
        uri: String,
        /// The store's own words.
        detail: String,
        /// Which settings hold the credentials for this scheme.
        hint: &'static str,
    },
    /// The store could not be reached, even after retries.
    #[error(
        "{op} {uri}: cannot reach the object store at {endpoint} after retries ({detail}); check that it is running and {hint}"
    )]
    Unreachable {
        /// The operation.
        op: &'static str,
        /// The URI.
        uri: String,
        /// The endpoint that was tried.
        endpoint: String,
        /// The transport error.
        detail: String,
        /// Which settings hold the endpoint for this scheme.
        hint: &'static str,
    },
    /// The store did not answer one step of the operation within the storage deadline.
    #[error(
        "{op} {uri}: the object store at {endpoint} did not answer within {seconds} s (the storage deadline, {}); check that it is running and {hint}{credentials_note}",
        super::env::FLYTEKIT_STORAGE_DEADLINE_SECONDS
    )]
    Deadline {
        /// The operation.
        op: &'static str,
        /// The URI.
        uri: String,
        /// The endpoint that did not answer.
        endpoint: String,
        /// The deadline, in whole seconds (at least 1 when shorter).
        seconds: u64,
        /// Which settings hold the endpoint for this scheme.
        hint: &'static str,
        /// When no credentials are configured: that the instance metadata service was asked.
        credentials_note: String,
    },
    /// No credentials were configured and none could be found in the environment (the S3 client
    /// falls back to the instance metadata service, which gave none).
    #[error(
        "{op} {uri}: no credentials for the object store: none are configured and the cloud's metadata service gave none ({detail}); set {hint}"
    )]
    NoCredentials {
        /// The operation.
        op: &'static str,
        /// The URI.
        uri: String,
        /// What the metadata service answered.
        detail: String,
        /// Which settings to set.
        hint: &'static str,
    },
    /// The URI's scheme has no configured store.
    #[error(
        "{uri}: unsupported storage scheme '{scheme}' (supported: local paths, file://, memory://, s3://, gs://, abfs://, abfss://, az://)"
    )]
    UnsupportedScheme {
        /// The URI.
        uri: String,
        /// Its scheme.
        scheme: String,
    },
    /// The URI could not be parsed into a store path.
    #[error("{uri}: invalid storage path: {reason}")]
    InvalidPath {
        /// The URI.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The storage configuration is invalid or incomplete.
    #[error("storage configuration: {message}")]
    Config {
        /// What is wrong and which setting to fix.
        message: String,
    },
    /// The store reported another error.
    #[error("{op} {uri}: {source}")]
    Store {
        /// The operation.
        op: &'static str,
        /// The URI.
        uri: String,
        /// The underlying error.
        #[source]
        source: object_store::Error,
    },
    /// A local file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The local path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl StorageError {
    /// Whether retrying the same operation later might succeed (the store was unreachable or
    /// answered with a transient failure).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Deadline { .. } => true,
            Self::Store { source, .. } => is_transient(source),
            _ => false,
        }
    }
}

impl StorageError {
    /// Whether a task whose input could not be read this way may succeed when Flyte retries it.
    /// As flytekit classifies a failed download (`FlyteDownloadDataException`, recoverable)
    /// against a missing object (`FlyteDataNotFoundException`, not): everything may, except a
    /// missing object or bucket, a directory where a file is expected, and a URI that cannot
    /// name an object at all.
    pub fn retry_may_help(&self) -> bool {
        !matches!(
            self,
            Self::NotFound { .. }
                | Self::NotAFile { .. }
                | Self::BucketNotFound { .. }
                | Self::InvalidPath { .. }
                | Self::UnsupportedScheme { .. }
        )
    }
}

/// What the caller knows about the store when an error is classified.
pub(crate) struct ErrorContext<'a> {
    pub op: &'static str,
    pub uri: &'a str,
    pub scheme: &'a str,
    pub bucket: &'a str,
    pub endpoint: Option<&'a str>,
    /// Whether credentials were configured (else the client asks the metadata service).
    pub has_credentials: bool,
}

/// A step of a storage operation that outlived the storage deadline; carried as the source of an
/// `object_store` error until [`classify`] turns it into [`StorageError::Deadline`].
#[derive(Debug, thiserror::Error)]
#[error("no answer within {0:?}")]
pub(crate) struct DeadlineExceeded(pub std::time::Duration);

/// The `object_store` error a step that outlived `deadline` fails with.
pub(crate) fn deadline_exceeded(deadline: std::time::Duration) -> object_store::Error {
    object_store::Error::Generic {
        store: "storage deadline",
        source: Box::new(DeadlineExceeded(deadline)),
    }
}

fn deadline_of(err: &(dyn std::error::Error + 'static)) -> Option<std::time::Duration> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(d) = e.downcast_ref::<DeadlineExceeded>() {
            return Some(d.0);
        }
        next = e.source();
    }
    None
}

/// The settings that give an S3 client credentials and an endpoint, for messages.
const S3_CREDENTIAL_SETTINGS: &str = "FLYTE_AWS_ACCESS_KEY_ID and FLYTE_AWS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and \
     AWS_SECRET_ACCESS_KEY, or storage.connection.access-key / secret-key in the flytectl config named \
     by FLYTECTL_CONFIG), and FLYTE_AWS_ENDPOINT (or AWS_ENDPOINT_URL, or storage.connection.endpoint) \
     for an S3-compatible store such as MinIO; or run where a pod or instance identity provides them \
     (IRSA's AWS_WEB_IDENTITY_TOKEN_FILE, an instance profile)";

fn credentials_hint(scheme: &str) -> &'static str {
    match scheme {
        "s3" => {
            "FLYTE_AWS_ACCESS_KEY_ID / FLYTE_AWS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, \
             or storage.connection.access-key / secret-key in the flytectl config), the region \
             (AWS_REGION / storage.connection.region) and the bucket policy"
        }
        "gs" => {
            "GOOGLE_APPLICATION_CREDENTIALS / GOOGLE_SERVICE_ACCOUNT and the bucket's IAM bindings"
        }
        _ => {
            "FLYTE_AZURE_STORAGE_ACCOUNT_NAME / FLYTE_AZURE_STORAGE_ACCOUNT_KEY (or FLYTE_AZURE_CLIENT_ID / \
             FLYTE_AZURE_CLIENT_SECRET / FLYTE_AZURE_TENANT_ID, or AZURE_STORAGE_*)"
        }
    }
}

fn endpoint_hint(scheme: &str) -> &'static str {
    match scheme {
        "s3" => {
            "that FLYTE_AWS_ENDPOINT (or AWS_ENDPOINT_URL, or storage.connection.endpoint in the flytectl config) is right"
        }
        "gs" => "that the network allows storage.googleapis.com",
        _ => "that the storage account name (FLYTE_AZURE_STORAGE_ACCOUNT_NAME) is right",
    }
}

/// Turns an `object_store` error into a [`StorageError`] that says what to do.
pub(crate) fn classify(ctx: &ErrorContext<'_>, source: object_store::Error) -> StorageError {
    let text = chain_text(&source);
    let uri = ctx.uri.to_string();
    let endpoint = || {
        ctx.endpoint
            .map(str::to_string)
            .unwrap_or_else(|| default_endpoint(ctx.scheme).to_string())
    };
    if let Some(deadline) = deadline_of(&source) {
        let credentials_note = if ctx.scheme == "s3" && !ctx.has_credentials {
            format!(
                "; no credentials are configured, so the client may also be waiting for the instance metadata service (169.254.169.254): set {S3_CREDENTIAL_SETTINGS}"
            )
        } else {
            String::new()
        };
        return StorageError::Deadline {
            op: ctx.op,
            uri,
            endpoint: endpoint(),
            seconds: deadline.as_secs().max(1),
            hint: endpoint_hint(ctx.scheme),
            credentials_note,
        };
    }
    if ctx.scheme == "s3"
        && !ctx.has_credentials
        && (text.contains("169.254.169.254") || text.contains("instance metadata"))
    {
        return StorageError::NoCredentials {
            op: ctx.op,
            uri,
            detail: short_detail(&source, &text),
            hint: S3_CREDENTIAL_SETTINGS,
        };
    }
    if text.contains("NoSuchBucket")
        || text.contains("ContainerNotFound")
        || text.contains("The specified bucket does not exist")
    {
        return StorageError::BucketNotFound {
            op: ctx.op,
            uri,
            bucket: ctx.bucket.to_string(),
            endpoint_note: ctx.endpoint.map(|e| format!(" at {e}")).unwrap_or_default(),
        };
    }
    let denied_words = [
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
        "AuthorizationHeaderMalformed",
    ];
    if text.contains("builder error") {
        // reqwest could not build its HTTP client: with rustls that means no CA certificates
        // were found, which fails even requests to an http:// endpoint.
        return StorageError::Config {
            message: format!(
                "{} {uri}: the HTTP client could not start ({}); it needs the system's CA \
                 certificates, even for an http:// endpoint: install them in the image (Debian: \
                 `apt-get install ca-certificates`; an ImageSpec: `with_apt_packages([\"ca-certificates\"])` \
                 or a base image that has them)",
                ctx.op,
                short_detail(&source, &text)
            ),
        };
    }
    let denied = denied_words.iter().any(|w| text.contains(w));
    let unreachable = is_unreachable(&source);
    let detail = short_detail(&source, &text);
    match source {
        object_store::Error::NotFound { .. } => StorageError::NotFound { op: ctx.op, uri },
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => StorageError::AccessDenied {
            op: ctx.op,
            uri,
            detail,
            hint: credentials_hint(ctx.scheme),
        },
        _ if denied => StorageError::AccessDenied {
            op: ctx.op,
            uri,
            detail,
            hint: credentials_hint(ctx.scheme),
        },
        _ if unreachable => StorageError::Unreachable {
            op: ctx.op,
            uri,
            endpoint: endpoint(),
            detail,
            hint: endpoint_hint(ctx.scheme),
        },
        source => StorageError::Store {
            op: ctx.op,
            uri,
            source,
        },
    }
}

fn default_endpoint(scheme: &str) -> &'static str {
    match scheme {
        "s3" => "the AWS S3 default endpoint",
        "gs" => "https://storage.googleapis.com",
        _ => "the Azure storage account endpoint",
    }
}

/// The whole `source()` chain, joined.
fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        next = e.source();
    }
    out
}

/// The useful part of an error chain for a message: the S3 error code and message when the
/// server sent an XML error body, else the innermost cause; plus the HTTP status and the number
/// of retries when known.
fn short_detail(err: &(dyn std::error::Error + 'static), text: &str) -> String {
    let mut root: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = root.source() {
        root = next;
    }
    let xml = |tag: &str| {
        let open = format!("<{tag}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{tag}>"))? + start;
        Some(text[start..end].trim().to_string())
    };
    let status = text.find("status code: ").map(|i| {
        let rest = &text[i + "status code: ".len()..];
        rest.split(':').next().unwrap_or(rest).trim().to_string()
    });
    let mut parts = Vec::new();
    if let Some(status) = status {
        parts.push(format!("HTTP {status}"));
    }
    match (xml("Code"), xml("Message")) {
        (Some(code), Some(message)) => parts.push(format!("{code}: {message}")),
        (Some(code), None) => parts.push(code),
        _ => {
            let cause = root.to_string();
            if !cause.contains("status code: ") {
                parts.push(truncate(&cause, 200));
            }
        }
    }
    if let Some(i) = text.find("after ") {
        let rest = &text[i + "after ".len()..];
        if let Some((n, tail)) = rest.split_once(' ')
            && tail.starts_with("retries")
            && n.chars().all(|c| c.is_ascii_digit())
        {
            parts.push(format!("{n} retries"));
        }
    }
    if parts.is_empty() {
        truncate(text, 300)
    } else {
        parts.join(", ")
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut}...")
    }
}

fn http_kinds(err: &(dyn std::error::Error + 'static)) -> Vec<object_store::client::HttpErrorKind> {
    let mut kinds = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(http) = e.downcast_ref::<object_store::client::HttpError>() {
            kinds.push(http.kind());
        }
        next = e.source();
    }
    kinds
}

fn is_unreachable(err: &object_store::Error) -> bool {
    use object_store::client::HttpErrorKind as K;
    http_kinds(err)
        .iter()
        .any(|k| matches!(k, K::Connect | K::Request))
}

/// Transport failures that a fresh attempt may get past (a dropped connection mid-body, a
/// timeout, a 5xx answer).
pub(crate) fn is_transient(err: &object_store::Error) -> bool {
    use object_store::client::HttpErrorKind as K;
    if http_kinds(err)
        .iter()
        .any(|k| matches!(k, K::Connect | K::Request | K::Timeout | K::Interrupted))
    {
        return true;
    }
    let text = chain_text(err);
    [
        "status code: 500",
        "status code: 502",
        "status code: 503",
        "status code: 504",
        "SlowDown",
        "InternalError",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// The connection broke while a response body was being read: a fresh request may succeed.
pub(crate) fn is_body_failure(err: &object_store::Error) -> bool {
    use object_store::client::HttpErrorKind as K;
    http_kinds(err)
        .iter()
        .any(|k| matches!(k, K::Interrupted | K::Decode | K::Timeout))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client-builder failure of a container without CA certificates says how to fix it.
    #[test]
    fn a_client_that_cannot_start_points_to_ca_certificates() {
        let source = object_store::Error::Generic {
            store: "S3",
            source: "Generic HTTP client error: builder error".into(),
        };
        let ctx = ErrorContext {
            op: "get",
            uri: "s3://b/k",
            scheme: "s3",
            bucket: "b",
            endpoint: Some("http://127.0.0.1:9000"),
            has_credentials: true,
        };
        let message = classify(&ctx, source).to_string();
        assert!(message.contains("s3://b/k"), "{message}");
        assert!(message.contains("ca-certificates"), "{message}");
    }
}
