//! What can go wrong talking to FlyteAdmin, each error naming the endpoint and the setting to
//! change.

use crate::auth::AuthError;
use crate::config::{ConfigError, Setting};

/// A failed call to FlyteAdmin (or to the storage its signed URLs point at).
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No connection could be made.
    #[error(
        "cannot reach FlyteAdmin at {endpoint} (endpoint from {setting}): {detail}; check that \
         the endpoint is right and FlyteAdmin is running"
    )]
    Unreachable {
        /// `host:port`.
        endpoint: String,
        /// Where the endpoint was configured.
        setting: Setting,
        /// The connection error.
        detail: String,
    },
    /// TLS (or plaintext) does not match what the server speaks, or its certificate is not trusted.
    #[error("cannot talk to FlyteAdmin at {endpoint}: {detail}; {hint}")]
    Tls {
        /// `host:port`.
        endpoint: String,
        /// What failed.
        detail: String,
        /// Which setting to change, and how.
        hint: String,
    },
    /// FlyteAdmin did not accept the credentials (or got none).
    #[error("FlyteAdmin at {endpoint} rejected the credentials for {call}: {message} ({identity})")]
    Unauthenticated {
        /// `host:port`.
        endpoint: String,
        /// The gRPC method.
        call: String,
        /// The server's message.
        message: String,
        /// How the client authenticated and where that was configured.
        identity: String,
    },
    /// The caller may not do this.
    #[error(
        "FlyteAdmin at {endpoint} denied {call}: {message} ({identity}); ask an administrator \
         for access, or authenticate as another identity"
    )]
    PermissionDenied {
        /// `host:port`.
        endpoint: String,
        /// The gRPC method.
        call: String,
        /// The server's message.
        message: String,
        /// How the client authenticated and where that was configured.
        identity: String,
    },
    /// The project (or domain) does not exist on this FlyteAdmin.
    #[error(
        "project '{project}' with domain '{domain}' is not registered on FlyteAdmin at \
         {endpoint}: {message}; pass an existing project and domain with --project/--domain, or \
         create the project (`flytectl create project --id {project}`)"
    )]
    UnknownProject {
        /// `host:port`.
        endpoint: String,
        /// The project asked for.
        project: String,
        /// The domain asked for.
        domain: String,
        /// The server's message.
        message: String,
    },
    /// Any other gRPC status.
    #[error("FlyteAdmin at {endpoint} answered {call} with {code:?}: {message}")]
    Status {
        /// `host:port`.
        endpoint: String,
        /// The gRPC method.
        call: String,
        /// The status code.
        code: tonic::Code,
        /// The server's message.
        message: String,
    },
    /// A request is larger than the server accepts.
    #[error(
        "{what} is {size} bytes serialized, more than the {limit}-byte gRPC message limit of \
         FlyteAdmin ({setting}); make it smaller (large default inputs or many nodes), or raise \
         the limit on the server (server.grpc.maxMessageSizeBytes) and in admin.maxMessageSizeBytes"
    )]
    TooLarge {
        /// The entity or request.
        what: String,
        /// Its encoded size.
        size: usize,
        /// The limit.
        limit: usize,
        /// Where the limit was configured.
        setting: Setting,
    },
    /// Getting a token failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// An HTTP transfer through a signed URL failed.
    #[error("{what} {url}: {detail}")]
    Http {
        /// `upload to` or `download from`.
        what: &'static str,
        /// The URL without its query (signatures are not printed).
        url: String,
        /// What failed.
        detail: String,
    },
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The server's answer is not what the protocol promises.
    #[error("unexpected answer from FlyteAdmin: {0}")]
    Protocol(String),
    /// A bug or an environment problem (for example, TLS cannot be initialized).
    #[error("{0}")]
    Internal(String),
}

impl RemoteError {
    /// The gRPC status code, when FlyteAdmin answered with an error status.
    pub fn code(&self) -> Option<tonic::Code> {
        match self {
            RemoteError::Status { code, .. } => Some(*code),
            RemoteError::Unauthenticated { .. } => Some(tonic::Code::Unauthenticated),
            RemoteError::PermissionDenied { .. } => Some(tonic::Code::PermissionDenied),
            RemoteError::UnknownProject { .. } => Some(tonic::Code::InvalidArgument),
            _ => None,
        }
    }

    /// The server's message, when FlyteAdmin answered with an error status.
    pub fn server_message(&self) -> Option<&str> {
        match self {
            RemoteError::Status { message, .. }
            | RemoteError::Unauthenticated { message, .. }
            | RemoteError::PermissionDenied { message, .. }
            | RemoteError::UnknownProject { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// A URL without its query string: signed URLs carry credentials there.
pub(crate) fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?<signature>"),
        None => url.to_string(),
    }
}
