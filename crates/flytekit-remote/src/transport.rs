//! The HTTP/2 channel to FlyteAdmin: plaintext (`admin.insecure`) or TLS through our own rustls
//! connector, which trusts the system's roots, a CA file (`admin.caCertFilePath`), or anything
//! (`admin.insecureSkipVerify`), and the reading of transport failures into errors that say which
//! setting to change.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tonic::transport::{Channel, Endpoint};

use crate::config::PlatformConfig;
use crate::error::RemoteError;

/// How long connecting (TCP and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one call may take (flytectl's `perRetryTimeout` is 15 s; registration of a large
/// workflow can take longer).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// A lazily connected channel to the configured endpoint.
pub(crate) fn channel(config: &PlatformConfig) -> Result<Channel, RemoteError> {
    let endpoint = &config.endpoint.value;
    let (host, port) = split_host_port(endpoint, if config.insecure.value { 80 } else { 443 });
    let scheme = if config.insecure.value {
        "http"
    } else {
        "https"
    };
    let uri = format!("{scheme}://{host}:{port}");
    let ep = Endpoint::from_shared(uri.clone())
        .map_err(|e| {
            RemoteError::Config(crate::config::ConfigError::Value {
                setting: config.endpoint.from.clone(),
                message: format!("'{endpoint}' is not a valid endpoint ({e})"),
            })
        })?
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CALL_TIMEOUT)
        .user_agent(concat!("flytekit-rs/", env!("CARGO_PKG_VERSION")))
        .map_err(|e| RemoteError::Internal(e.to_string()))?;
    if config.insecure.value {
        return Ok(ep.connect_lazy());
    }
    let tls = Arc::new(tls_config(config)?);
    let name = ServerName::try_from(host.clone()).map_err(|_| {
        RemoteError::Config(crate::config::ConfigError::Value {
            setting: config.endpoint.from.clone(),
            message: format!("'{host}' is not a valid TLS server name"),
        })
    })?;
    let addr = format!("{host}:{port}");
    let connector = tower::service_fn(move |_: http::Uri| {
        let tls = tls.clone();
        let name = name.clone();
        let addr = addr.clone();
        async move {
            let tcp = TcpStream::connect(&addr).await?;
            tcp.set_nodelay(true)?;
            let stream = tokio_rustls::TlsConnector::from(tls)
                .connect(name, tcp)
                .await?;
            Ok::<_, std::io::Error>(TokioIo::new(stream))
        }
    });
    Ok(ep.connect_with_connector_lazy(connector))
}

/// The rustls configuration for `config`: HTTP/2 over TLS with the system's roots, the CA file,
/// or no verification.
fn tls_config(config: &PlatformConfig) -> Result<rustls::ClientConfig, RemoteError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| RemoteError::Internal(format!("TLS setup: {e}")))?;
    let mut tls = if config.insecure_skip_verify.value {
        tracing::warn!(
            "not verifying the TLS certificate of {} ({}); use this for testing only",
            config.endpoint.value,
            config.insecure_skip_verify.from
        );
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = rustls::RootCertStore::empty();
        match &config.ca_cert_file_path {
            Some(ca) => {
                let bad = |message: String| {
                    RemoteError::Config(crate::config::ConfigError::Value {
                        setting: ca.from.clone(),
                        message,
                    })
                };
                let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&ca.value)
                    .map_err(|e| {
                        bad(format!(
                            "cannot read CA certificates from {}: {e}",
                            ca.value.display()
                        ))
                    })?
                    .collect::<Result<_, _>>()
                    .map_err(|e| {
                        bad(format!(
                            "{} is not a PEM certificate file: {e}",
                            ca.value.display()
                        ))
                    })?;
                if certs.is_empty() {
                    return Err(bad(format!(
                        "{} holds no PEM certificate",
                        ca.value.display()
                    )));
                }
                for c in certs {
                    roots.add(c).map_err(|e| {
                        bad(format!(
                            "a certificate in {} is not usable: {e}",
                            ca.value.display()
                        ))
                    })?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                for e in &found.errors {
                    tracing::warn!("reading the system's CA certificates: {e}");
                }
                let (added, _) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    tracing::warn!(
                        "no system CA certificates found (install ca-certificates, or set \
                         admin.caCertFilePath)"
                    );
                }
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    tls.alpn_protocols = vec![b"h2".to_vec()];
    Ok(tls)
}

/// `admin.insecureSkipVerify`: accepts any certificate (signatures are still checked).
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `host:port` → (`host`, port); `host` → (`host`, `default_port`). IPv6 in brackets is kept.
fn split_host_port(endpoint: &str, default_port: u16) -> (String, u16) {
    if let Some((host, port)) = endpoint.rsplit_once(':')
        && let Ok(p) = port.parse::<u16>()
        && !host.is_empty()
        && (!host.contains(':') || host.starts_with('['))
    {
        return (host.trim_matches(['[', ']']).to_string(), p);
    }
    (endpoint.trim_matches(['[', ']']).to_string(), default_port)
}

/// What went wrong below gRPC, read from a failed call's error chain.
pub(crate) enum TransportFailure {
    /// TCP connect failed (refused, unreachable, name not resolved, timeout).
    Connect(String),
    /// The TLS handshake failed; the text says why.
    Tls(String),
    /// The connection broke or the peer spoke something other than gRPC over HTTP/2.
    Protocol(String),
}

/// Reads a tonic status's error chain: `None` when the server answered (a real gRPC status).
pub(crate) fn transport_failure(status: &tonic::Status) -> Option<TransportFailure> {
    let mut chain = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(status);
    while let Some(e) = source {
        chain.push(e.to_string());
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(TransportFailure::Tls(tls.to_string()));
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(TransportFailure::Tls(tls.to_string()));
        }
        source = e.source();
    }
    if chain.is_empty() {
        // No source: a status the server (or a proxy) sent, unless tonic says it is a
        // transport error in its message.
        let m = status.message();
        if status.code() == tonic::Code::Unavailable
            && (m.contains("transport error") || m.contains("connection"))
        {
            return Some(TransportFailure::Protocol(m.to_string()));
        }
        return None;
    }
    let text = chain.join(": ");
    let lower = text.to_ascii_lowercase();
    if lower.contains("tcp connect")
        || lower.contains("connection refused")
        || lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
        || lower.contains("timed out")
        || lower.contains("no route to host")
        || lower.contains("network is unreachable")
    {
        return Some(TransportFailure::Connect(last_useful(&chain)));
    }
    if lower.contains("tls") || lower.contains("certificate") || lower.contains("handshake") {
        return Some(TransportFailure::Tls(last_useful(&chain)));
    }
    Some(TransportFailure::Protocol(last_useful(&chain)))
}

/// The most specific message of an error chain (the last one that says something).
fn last_useful(chain: &[String]) -> String {
    chain
        .iter()
        .rev()
        .find(|m| !m.trim().is_empty() && m.as_str() != "transport error")
        .cloned()
        .unwrap_or_else(|| chain.join(": "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_split_into_host_and_port() {
        assert_eq!(split_host_port("a.b:81", 443), ("a.b".into(), 81));
        assert_eq!(split_host_port("a.b", 443), ("a.b".into(), 443));
        assert_eq!(split_host_port("[::1]:8089", 443), ("::1".into(), 8089));
        assert_eq!(
            split_host_port("127.0.0.1:30080", 443),
            ("127.0.0.1".into(), 30080)
        );
    }
}
