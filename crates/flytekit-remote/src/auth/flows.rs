//! The OAuth2 flows, with the `oauth2` crate over our `reqwest`, and the external command.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DeviceAuthorizationUrl, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope,
    StandardDeviceAuthorizationResponse, TokenResponse, TokenUrl,
};

use super::{AuthError, ClientConfig, Credentials, now_secs};
use crate::config::{PlatformConfig, Secret, Sourced};

/// How long a user has to sign in (PKCE) or enter the device code.
const INTERACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// The HTTP client of the token requests (no redirects, the connection's CA settings).
pub(crate) struct Http(reqwest::Client);

/// A failed HTTP exchange with the authorization server.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct HttpError(String);

impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let resp = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| HttpError(error_chain(&e.without_url())))?;
            let mut out = http::Response::builder().status(resp.status());
            if let Some(h) = out.headers_mut() {
                *h = resp.headers().clone();
            }
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| HttpError(error_chain(&e.without_url())))?;
            out.body(bytes.to_vec())
                .map_err(|e| HttpError(e.to_string()))
        })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

type RequestError = oauth2::RequestTokenError<
    HttpError,
    oauth2::StandardErrorResponse<oauth2::basic::BasicErrorResponseType>,
>;

/// A token endpoint error as a sentence naming the endpoint, the client and what to check.
fn token_error(url: &str, who: &str, hint: &str, e: RequestError) -> AuthError {
    let detail = match e {
        oauth2::RequestTokenError::ServerResponse(r) => {
            let mut d = r.error().to_string();
            if let Some(desc) = r.error_description() {
                d.push_str(&format!(" ({desc})"));
            }
            format!("the token endpoint {url} rejected {who}: {d}; {hint}")
        }
        oauth2::RequestTokenError::Request(e) => {
            format!("cannot get a token from {url} for {who}: {e}")
        }
        oauth2::RequestTokenError::Parse(e, _) => {
            format!("the token endpoint {url} did not answer with a token for {who}: {e}")
        }
        oauth2::RequestTokenError::Other(e) => format!("token request to {url} failed: {e}"),
    };
    AuthError::Token(detail)
}

fn credentials(t: &BasicTokenResponse) -> Credentials {
    Credentials {
        access_token: Secret::new(t.access_token().secret().clone()),
        refresh_token: t.refresh_token().map(|r| Secret::new(r.secret().clone())),
        expires_at: t.expires_in().map(|d| now_secs() + d.as_secs()),
    }
}

fn token_url(url: &str) -> Result<TokenUrl, AuthError> {
    TokenUrl::new(url.to_string()).map_err(|e| {
        AuthError::Token(format!(
            "FlyteAdmin's token endpoint '{url}' is not a URL: {e}"
        ))
    })
}

impl Http {
    pub(crate) fn new(config: &PlatformConfig) -> Result<Self, crate::RemoteError> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("flytekit-rs/", env!("CARGO_PKG_VERSION")));
        if config.insecure_skip_verify.value {
            b = b.danger_accept_invalid_certs(true);
        } else if let Some(ca) = &config.ca_cert_file_path {
            let pem = std::fs::read(&ca.value).map_err(|source| crate::RemoteError::Io {
                path: ca.value.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                crate::RemoteError::Config(crate::config::ConfigError::Value {
                    setting: ca.from.clone(),
                    message: format!("{} is not a PEM certificate file: {e}", ca.value.display()),
                })
            })?;
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        b.build()
            .map(Http)
            .map_err(|e| crate::RemoteError::Internal(format!("HTTP client: {e}")))
    }

    /// The client credentials grant (flytekit's `ClientCredentialsAuthenticator`): HTTP Basic
    /// authentication with the id and secret, scopes and audience in the body.
    pub(crate) async fn client_credentials(
        &self,
        cc: &ClientConfig,
        id: &Sourced<String>,
        secret: &Sourced<Secret>,
        scopes: &[String],
        audience: Option<&str>,
    ) -> Result<Credentials, AuthError> {
        let client = BasicClient::new(ClientId::new(id.value.clone()))
            .set_client_secret(ClientSecret::new(secret.value.expose().to_string()))
            .set_auth_type(AuthType::BasicAuth)
            .set_token_uri(token_url(&cc.token_endpoint)?);
        let mut req = client
            .exchange_client_credentials()
            .add_scopes(scopes.iter().map(|s| Scope::new(s.clone())));
        if let Some(a) = audience {
            req = req.add_extra_param("audience", a.to_string());
        }
        let t = req.request_async(self).await.map_err(|e| {
            token_error(
                &cc.token_endpoint,
                &format!("client '{}'", id.value),
                &format!(
                    "check the client id ({}) and the client secret ({})",
                    id.from, secret.from
                ),
                e,
            )
        })?;
        Ok(credentials(&t))
    }

    /// The refresh token grant for Flyte's public client.
    pub(crate) async fn refresh(
        &self,
        cc: &ClientConfig,
        refresh_token: &Secret,
        scopes: &[String],
        audience: Option<&str>,
    ) -> Result<Credentials, AuthError> {
        let client = BasicClient::new(ClientId::new(cc.client_id.clone()))
            .set_token_uri(token_url(&cc.token_endpoint)?);
        let rt = RefreshToken::new(refresh_token.expose().to_string());
        let mut req = client
            .exchange_refresh_token(&rt)
            .add_scopes(scopes.iter().map(|s| Scope::new(s.clone())));
        if let Some(a) = audience {
            req = req.add_extra_param("audience", a.to_string());
        }
        let t = req.request_async(self).await.map_err(|e| {
            token_error(
                &cc.token_endpoint,
                "the refresh token",
                "signing in again",
                e,
            )
        })?;
        let mut creds = credentials(&t);
        if creds.refresh_token.is_none() {
            creds.refresh_token = Some(refresh_token.clone());
        }
        Ok(creds)
    }

    /// Authorization code with PKCE (flytekit's `PKCEAuthenticator`): opens the browser at the
    /// authorization endpoint and takes the code at the redirect URI on this machine.
    pub(crate) async fn pkce(
        &self,
        endpoint: &str,
        cc: &ClientConfig,
        scopes: &[String],
        audience: Option<&str>,
    ) -> Result<Credentials, AuthError> {
        let interactive = |detail: String| AuthError::Interactive {
            endpoint: endpoint.to_string(),
            detail,
        };
        if cc.authorization_endpoint.is_empty() || cc.redirect_uri.is_empty() {
            return Err(interactive(
                "FlyteAdmin publishes no authorization endpoint or redirect URI for PKCE; \
                 use admin.authType ClientSecret or DeviceFlow"
                    .into(),
            ));
        }
        let auth_url = AuthUrl::new(cc.authorization_endpoint.clone())
            .map_err(|e| interactive(format!("bad authorization endpoint: {e}")))?;
        let redirect = RedirectUrl::new(cc.redirect_uri.clone())
            .map_err(|e| interactive(format!("bad redirect URI: {e}")))?;
        let client = BasicClient::new(ClientId::new(cc.client_id.clone()))
            .set_auth_uri(auth_url)
            .set_token_uri(token_url(&cc.token_endpoint)?)
            .set_redirect_uri(redirect);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut auth = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().map(|s| Scope::new(s.clone())))
            .set_pkce_challenge(challenge);
        if let Some(a) = audience {
            auth = auth.add_extra_param("audience", a.to_string());
        }
        let (url, state) = auth.url();
        let listener = super::browser::Listener::bind(&cc.redirect_uri)
            .await
            .map_err(interactive)?;
        super::browser::open(url.as_str());
        let code = tokio::time::timeout(INTERACTIVE_TIMEOUT, listener.code(state.secret()))
            .await
            .map_err(|_| interactive("no sign-in within 5 minutes".into()))?
            .map_err(interactive)?;
        let t = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(self)
            .await
            .map_err(|e| {
                token_error(
                    &cc.token_endpoint,
                    "the authorization code",
                    "sign in again",
                    e,
                )
            })?;
        Ok(credentials(&t))
    }

    /// The device authorization grant (flytekit's `DeviceCodeAuthenticator`): prints where to
    /// sign in and the code, then polls the token endpoint.
    pub(crate) async fn device(
        &self,
        endpoint: &str,
        cc: &ClientConfig,
        scopes: &[String],
        audience: Option<&str>,
    ) -> Result<Credentials, AuthError> {
        let interactive = |detail: String| AuthError::Interactive {
            endpoint: endpoint.to_string(),
            detail,
        };
        if cc.device_authorization_endpoint.is_empty() {
            return Err(interactive(
                "Device Authentication is not available on the Flyte backend / authentication \
                 server (no device authorization endpoint); use admin.authType Pkce or ClientSecret"
                    .into(),
            ));
        }
        let device_url = DeviceAuthorizationUrl::new(cc.device_authorization_endpoint.clone())
            .map_err(|e| interactive(format!("bad device authorization endpoint: {e}")))?;
        let client = BasicClient::new(ClientId::new(cc.client_id.clone()))
            .set_device_authorization_url(device_url)
            .set_token_uri(token_url(&cc.token_endpoint)?);
        let mut req = client
            .exchange_device_code()
            .add_scopes(scopes.iter().map(|s| Scope::new(s.clone())));
        if let Some(a) = audience {
            req = req.add_extra_param("audience", a.to_string());
        }
        let details: StandardDeviceAuthorizationResponse =
            req.request_async(self).await.map_err(|e| {
                token_error(
                    &cc.device_authorization_endpoint,
                    &format!("client '{}'", cc.client_id),
                    "check the server's device flow settings",
                    e,
                )
            })?;
        let uri = match details.verification_uri_complete() {
            Some(full) => full.secret().to_string(),
            None => format!(
                "{}?user_code={}",
                details.verification_uri().as_str(),
                details.user_code().secret()
            ),
        };
        eprintln!(
            "To authenticate, open {uri} in a browser (code {})",
            details.user_code().secret()
        );
        let t = client
            .exchange_device_access_token(&details)
            .request_async(self, tokio::time::sleep, Some(INTERACTIVE_TIMEOUT))
            .await
            .map_err(|e| {
                let detail = match e {
                    oauth2::RequestTokenError::ServerResponse(r) => r.error().to_string(),
                    other => other.to_string(),
                };
                interactive(format!("the device code was not accepted: {detail}"))
            })?;
        Ok(credentials(&t))
    }
}

/// flytekit's `CommandAuthenticator`: the command's trimmed standard output is the token.
pub(crate) async fn command(cmd: &[String]) -> Result<Credentials, AuthError> {
    let line = cmd.join(" ");
    let err = |detail: String| AuthError::Command {
        command: line.clone(),
        detail,
    };
    let out = tokio::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| err(format!("cannot start it: {e}")))?;
    if !out.status.success() {
        return Err(err(format!(
            "{}; stderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if token.is_empty() {
        return Err(err("it printed no token".into()));
    }
    Ok(Credentials {
        access_token: Secret::new(token),
        refresh_token: None,
        expires_at: None,
    })
}
