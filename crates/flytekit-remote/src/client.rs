//! [`Remote`]: one connection to FlyteAdmin, and the unary call every service method goes
//! through (authentication, one retry of a broken connection, errors that name the setting).

use std::sync::Arc;
use std::time::Duration;

use http::uri::PathAndQuery;
use tonic::transport::Channel;

use crate::auth::{AuthHeader, Authenticator, ClientConfig};
use crate::config::PlatformConfig;
use crate::error::RemoteError;
use crate::transport::{TransportFailure, transport_failure};

/// A gRPC method: its service's full name and its own.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Method {
    pub service: &'static str,
    pub name: &'static str,
}

impl Method {
    fn path(&self) -> PathAndQuery {
        PathAndQuery::try_from(format!("/{}/{}", self.service, self.name))
            .unwrap_or_else(|_| PathAndQuery::from_static("/"))
    }
}

/// A client of FlyteAdmin (AdminService, DataProxyService, AuthMetadataService, SignalService).
///
/// Connecting is lazy: [`Remote::new`] does not touch the network, the first call connects. The
/// methods of the services are in `services.rs`; registration, uploads and executions build on
/// them.
pub struct Remote {
    config: Arc<PlatformConfig>,
    channel: Channel,
    auth: Authenticator,
    /// Held while the OAuth2 metadata is read, so concurrent calls read it once.
    discovery: tokio::sync::Mutex<()>,
    pub(crate) http: reqwest::Client,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("endpoint", &self.config.endpoint.value)
            .finish_non_exhaustive()
    }
}

impl Remote {
    /// A client for `config`; connects on the first call.
    pub fn new(config: PlatformConfig) -> Result<Remote, RemoteError> {
        let channel = crate::transport::channel(&config)?;
        let config = Arc::new(config);
        let auth = Authenticator::new(config.clone())?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("flytekit-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RemoteError::Internal(format!("HTTP client: {e}")))?;
        Ok(Remote {
            config,
            channel,
            auth,
            discovery: tokio::sync::Mutex::new(()),
            http,
        })
    }

    /// The configuration this client uses.
    pub fn config(&self) -> &PlatformConfig {
        &self.config
    }

    /// The endpoint, `host:port`.
    pub fn endpoint(&self) -> &str {
        &self.config.endpoint.value
    }

    /// One unary call, with the current token when there is one.
    async fn raw<Req, Resp>(
        &self,
        method: Method,
        req: Req,
        auth: Option<&AuthHeader>,
    ) -> Result<Resp, tonic::Status>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone())
            .max_decoding_message_size(self.config.max_message_size.value.max(4 << 20))
            .max_encoding_message_size(self.config.max_message_size.value);
        grpc.ready()
            .await
            .map_err(|e| tonic::Status::from_error(e.into()))?;
        let mut request = tonic::Request::new(req);
        if let Some(h) = auth {
            let key = tonic::metadata::AsciiMetadataKey::from_bytes(h.key.as_bytes())
                .map_err(|_| tonic::Status::internal(format!("bad header name {}", h.key)))?;
            let value = tonic::metadata::AsciiMetadataValue::try_from(h.value.as_str())
                .map_err(|_| tonic::Status::internal("the token is not a valid header value"))?;
            request.metadata_mut().insert(key, value);
        }
        let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
        grpc.unary(request, method.path(), codec)
            .await
            .map(|r| r.into_inner())
    }

    /// One call as flytekit's interceptors make it: with the current token (none at first); on
    /// `UNAUTHENTICATED`, a new token and one more try; a broken connection is retried once.
    pub(crate) async fn call<Req, Resp>(
        &self,
        method: Method,
        req: Req,
    ) -> Result<Resp, RemoteError>
    where
        Req: prost::Message + Clone + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        let header = self.auth.header().await;
        let mut result = self.raw(method, req.clone(), header.as_ref()).await;
        if let Err(s) = &result
            && is_retryable(s)
        {
            tokio::time::sleep(Duration::from_millis(300)).await;
            result = self.raw(method, req.clone(), header.as_ref()).await;
        }
        match result {
            Ok(r) => Ok(r),
            Err(s)
                if s.code() == tonic::Code::Unauthenticated && transport_failure(&s).is_none() =>
            {
                self.discover_auth().await?;
                self.auth.refresh(header.map(|h| h.generation)).await?;
                let header = self.auth.header().await;
                match self.raw(method, req, header.as_ref()).await {
                    Ok(r) => Ok(r),
                    Err(s) => {
                        if s.code() == tonic::Code::Unauthenticated {
                            self.auth.forget().await;
                        }
                        Err(self.error(method, s))
                    }
                }
            }
            Err(s) => Err(self.error(method, s)),
        }
    }

    /// Reads FlyteAdmin's OAuth2 metadata and public client config (anonymous calls), once.
    async fn discover_auth(&self) -> Result<(), RemoteError> {
        let _once = self.discovery.lock().await;
        if !self.auth.needs_client_config().await {
            return Ok(());
        }
        use flytekit_idl::service::*;
        let meta: Result<OAuth2MetadataResponse, _> = self
            .raw(
                crate::services::GET_OAUTH2_METADATA,
                OAuth2MetadataRequest {},
                None,
            )
            .await;
        let client: Result<PublicClientAuthConfigResponse, _> = self
            .raw(
                crate::services::GET_PUBLIC_CLIENT_CONFIG,
                PublicClientAuthConfigRequest {},
                None,
            )
            .await;
        let cc = match (meta, client) {
            (Ok(m), Ok(c)) => ClientConfig {
                token_endpoint: m.token_endpoint,
                authorization_endpoint: m.authorization_endpoint,
                device_authorization_endpoint: m.device_authorization_endpoint,
                redirect_uri: c.redirect_uri,
                client_id: c.client_id,
                scopes: c.scopes,
                header_key: c.authorization_metadata_key,
                audience: c.audience,
            },
            (Err(s), _) | (_, Err(s)) => {
                // An external command needs no metadata; the others cannot do without.
                if self.config.auth_mode.value == crate::config::AuthMode::ExternalCommand {
                    ClientConfig::default()
                } else {
                    return Err(crate::auth::AuthError::Metadata {
                        endpoint: self.endpoint().to_string(),
                        detail: format!("{:?}: {}", s.code(), s.message()),
                    }
                    .into());
                }
            }
        };
        self.auth.set_client_config(cc).await;
        Ok(())
    }

    /// A failed call as an error that names the endpoint and the setting to change.
    pub(crate) fn error(&self, method: Method, s: tonic::Status) -> RemoteError {
        let cfg = &self.config;
        let endpoint = cfg.endpoint.value.clone();
        let call = method.name.to_string();
        if let Some(f) = transport_failure(&s) {
            return match f {
                TransportFailure::Connect(detail) => RemoteError::Unreachable {
                    endpoint,
                    setting: cfg.endpoint.from.clone(),
                    detail,
                },
                TransportFailure::Tls(detail) => RemoteError::Tls {
                    hint: tls_hint(cfg, &detail),
                    endpoint,
                    detail: format!("TLS handshake failed: {detail}"),
                },
                TransportFailure::Protocol(detail) if cfg.insecure.value => RemoteError::Tls {
                    endpoint,
                    detail: format!("the connection failed ({detail})"),
                    hint: format!(
                        "if the server uses TLS, set admin.insecure: false (it is true from {})",
                        cfg.insecure.from
                    ),
                },
                TransportFailure::Protocol(detail) => RemoteError::Unreachable {
                    endpoint,
                    setting: cfg.endpoint.from.clone(),
                    detail,
                },
            };
        }
        let message = s.message().to_string();
        match s.code() {
            tonic::Code::Unauthenticated => RemoteError::Unauthenticated {
                endpoint,
                call,
                message,
                identity: self.auth.identity(),
            },
            tonic::Code::PermissionDenied => RemoteError::PermissionDenied {
                endpoint,
                call,
                message,
                identity: self.auth.identity(),
            },
            tonic::Code::InvalidArgument => match unknown_project(&message) {
                Some((project, domain)) => RemoteError::UnknownProject {
                    endpoint,
                    project,
                    domain,
                    message,
                },
                None => RemoteError::Status {
                    endpoint,
                    call,
                    code: s.code(),
                    message,
                },
            },
            code => RemoteError::Status {
                endpoint,
                call,
                code,
                message,
            },
        }
    }
}

fn is_retryable(s: &tonic::Status) -> bool {
    s.code() == tonic::Code::Unavailable
        && matches!(
            transport_failure(s),
            None | Some(TransportFailure::Protocol(_))
        )
}

/// What to change after a failed TLS handshake.
fn tls_hint(cfg: &PlatformConfig, detail: &str) -> String {
    let d = detail.to_ascii_lowercase();
    if d.contains("invalidcontenttype")
        || d.contains("corrupt message")
        || d.contains("content type")
    {
        return format!(
            "the server does not speak TLS; if it serves plaintext gRPC, set admin.insecure: true \
             (it is false from {})",
            cfg.insecure.from
        );
    }
    if d.contains("notvalidforname") || d.contains("not valid for name") {
        return format!(
            "the certificate is not valid for the host of admin.endpoint ({}); use the name the \
             certificate was issued for",
            cfg.endpoint.from
        );
    }
    match &cfg.ca_cert_file_path {
        Some(ca) => format!(
            "the certificate is not signed by the CA in {} ({}); point admin.caCertFilePath at \
             the CA that signed it",
            ca.value.display(),
            ca.from
        ),
        None => "the certificate is not signed by a CA this machine trusts; set \
                 admin.caCertFilePath to the CA certificate (PEM) that signed it, or \
                 admin.insecureSkipVerify: true for testing only"
            .to_string(),
    }
}

/// FlyteAdmin's `failed to validate that project [p] and domain [d] are registered` (or
/// `domain [d] is unrecognized by system`), as (project, domain).
fn unknown_project(message: &str) -> Option<(String, String)> {
    let bracketed = |after: &str| -> Option<String> {
        let start = message.find(after)? + after.len();
        let rest = &message[start..];
        let end = rest.find(']')?;
        Some(rest[..end].to_string())
    };
    if message.contains("failed to validate that project") {
        let project = bracketed("project [")?;
        let domain = bracketed("domain [").unwrap_or_default();
        return Some((project, domain));
    }
    if message.contains("is unrecognized by system") {
        return Some((String::new(), bracketed("domain [")?));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flyteadmin_project_errors() {
        assert_eq!(
            unknown_project(
                "failed to validate that project [nope] and domain [development] are registered, \
                 err: [missing entity]"
            ),
            Some(("nope".into(), "development".into()))
        );
        assert_eq!(unknown_project("something else"), None);
    }
}
