//! Authentication to FlyteAdmin, as flytekit does it.
//!
//! Calls go out without a token until FlyteAdmin answers `UNAUTHENTICATED`; then the client
//! discovers the OAuth2 endpoints through `AuthMetadataService` (anonymous), gets a token by the
//! configured flow ([`AuthMode`]) and repeats the call once with `<header>: Bearer <token>`. The
//! header is `admin.authorizationHeader`, else the `authorization_metadata_key` FlyteAdmin
//! publishes, else `authorization`.
//!
//! | `admin.authType` | how a token is obtained | cached |
//! |---|---|---|
//! | `ClientSecret` | client credentials grant with `admin.clientId` and the secret | in memory |
//! | `Pkce` | authorization code + PKCE: the browser signs in, a local listener takes the code | on disk |
//! | `DeviceFlow` | device authorization grant: sign in on another device with a code | on disk |
//! | `ExternalCommand` | `admin.command` prints a token | in memory |
//!
//! Interactive tokens are kept per endpoint in `~/.cache/flytekit-rs/tokens/` (mode 0600, see
//! [`cache`]) and refreshed with their refresh token when FlyteAdmin rejects them; only when
//! that fails does the interactive flow run again.

mod browser;
pub mod cache;
mod flows;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::{AuthMode, PlatformConfig, Secret, Setting};

/// A token and what is known about it.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// The access token sent to FlyteAdmin.
    pub access_token: Secret,
    /// The refresh token, when the flow gave one.
    pub refresh_token: Option<Secret>,
    /// When the access token expires (seconds since the Unix epoch), when known.
    pub expires_at: Option<u64>,
}

impl Credentials {
    /// Whether the token is known to expire within `margin`.
    pub fn expires_within(&self, margin: Duration) -> bool {
        match self.expires_at {
            Some(at) => now_secs() + margin.as_secs() >= at,
            None => false,
        }
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// What FlyteAdmin's `AuthMetadataService` publishes: where to get tokens and for which client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientConfig {
    /// The OAuth2 token endpoint.
    pub token_endpoint: String,
    /// The OAuth2 authorization endpoint (PKCE).
    pub authorization_endpoint: String,
    /// The device authorization endpoint (device flow), when the server has one.
    pub device_authorization_endpoint: String,
    /// Where the browser is sent back to after signing in (PKCE).
    pub redirect_uri: String,
    /// Flyte's public client id (PKCE, device flow).
    pub client_id: String,
    /// Scopes to request when the config names none.
    pub scopes: Vec<String>,
    /// The metadata key that carries the token.
    pub header_key: String,
    /// The audience to request tokens for.
    pub audience: String,
}

/// Getting a token failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A setting the flow needs is missing.
    #[error(
        "FlyteAdmin at {endpoint} requires authentication and admin.authType is {mode} \
         ({mode_from}), but {missing}"
    )]
    Missing {
        /// `host:port`.
        endpoint: String,
        /// The configured mode.
        mode: &'static str,
        /// Where the mode was configured.
        mode_from: Setting,
        /// What to set.
        missing: String,
    },
    /// The authorization server refused or failed.
    #[error("{0}")]
    Token(String),
    /// FlyteAdmin's `AuthMetadataService` could not say where to get tokens.
    #[error(
        "FlyteAdmin at {endpoint} requires authentication, but its AuthMetadataService cannot \
         be read: {detail}"
    )]
    Metadata {
        /// `host:port`.
        endpoint: String,
        /// Why.
        detail: String,
    },
    /// The external command failed.
    #[error("the token command `{command}` (admin.command) failed: {detail}")]
    Command {
        /// The command line.
        command: String,
        /// Exit status and stderr, or why it could not start.
        detail: String,
    },
    /// The interactive sign-in failed or timed out.
    #[error("signing in to {endpoint} failed: {detail}")]
    Interactive {
        /// `host:port`.
        endpoint: String,
        /// Why.
        detail: String,
    },
}

/// The current token of a connection, and how to get a new one.
pub(crate) struct Authenticator {
    config: Arc<PlatformConfig>,
    http: flows::Http,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    creds: Option<Credentials>,
    client_config: Option<ClientConfig>,
    /// The header key cached with an interactive token (until the client config is known).
    cached_header_key: Option<String>,
    /// Increases with every new token, so concurrent callers refresh once.
    generation: u64,
}

/// The metadata to attach to a call: header name, value, and the token's generation.
pub(crate) struct AuthHeader {
    pub key: String,
    pub value: String,
    pub generation: u64,
}

impl Authenticator {
    pub(crate) fn new(config: Arc<PlatformConfig>) -> Result<Self, crate::RemoteError> {
        let http = flows::Http::new(&config)?;
        let mut state = State::default();
        if matches!(
            config.auth_mode.value,
            AuthMode::Pkce | AuthMode::DeviceFlow
        ) && let Some((creds, header_key)) = cache::load(&config.endpoint.value)
        {
            state.creds = Some(creds);
            state.cached_header_key = header_key;
        }
        Ok(Authenticator {
            config,
            http,
            state: tokio::sync::Mutex::new(state),
        })
    }

    /// The header for the current token, if there is one.
    pub(crate) async fn header(&self) -> Option<AuthHeader> {
        let state = self.state.lock().await;
        let creds = state.creds.as_ref()?;
        Some(AuthHeader {
            key: self.header_key(&state),
            value: format!("Bearer {}", creds.access_token.expose()),
            generation: state.generation,
        })
    }

    /// `admin.authorizationHeader`, else FlyteAdmin's `authorization_metadata_key` (or the one
    /// cached with the token), else `authorization`.
    fn header_key(&self, state: &State) -> String {
        self.config
            .authorization_header
            .clone()
            .filter(|h| !h.is_empty())
            .or_else(|| {
                state
                    .client_config
                    .as_ref()
                    .map(|c| c.header_key.clone())
                    .filter(|h| !h.is_empty())
            })
            .or_else(|| state.cached_header_key.clone())
            .unwrap_or_else(|| "authorization".to_string())
            .to_ascii_lowercase()
    }

    /// Whether [`refresh`](Self::refresh) needs FlyteAdmin's client config first.
    pub(crate) async fn needs_client_config(&self) -> bool {
        self.state.lock().await.client_config.is_none()
    }

    /// Remembers FlyteAdmin's client config (fetched by the caller without authentication).
    pub(crate) async fn set_client_config(&self, cc: ClientConfig) {
        self.state.lock().await.client_config = Some(cc);
    }

    /// Gets a new token after the one of generation `seen` was rejected (or none was sent).
    /// When another call already replaced it, does nothing.
    pub(crate) async fn refresh(&self, seen: Option<u64>) -> Result<(), AuthError> {
        let mut state = self.state.lock().await;
        if state.creds.is_some() && seen != Some(state.generation) {
            return Ok(());
        }
        let cc = state.client_config.clone().unwrap_or_default();
        let cfg = &self.config;
        let endpoint = cfg.endpoint.value.clone();
        let scopes: Vec<String> = if cfg.scopes.is_empty() {
            cc.scopes.clone()
        } else {
            cfg.scopes.clone()
        };
        let audience = cfg
            .audience
            .clone()
            .or_else(|| Some(cc.audience.clone()).filter(|a| !a.is_empty()));
        let need_token_endpoint = || {
            if cc.token_endpoint.is_empty() {
                Err(AuthError::Metadata {
                    endpoint: endpoint.clone(),
                    detail: "it publishes no token endpoint".into(),
                })
            } else {
                Ok(())
            }
        };
        let creds = match cfg.auth_mode.value {
            AuthMode::ClientSecret => {
                let missing = |what: &str| AuthError::Missing {
                    endpoint: endpoint.clone(),
                    mode: "ClientSecret",
                    mode_from: cfg.auth_mode.from.clone(),
                    missing: what.to_string(),
                };
                let id = cfg.client_id.as_ref().ok_or_else(|| {
                    missing("no client id is set (admin.clientId or $FLYTE_CREDENTIALS_CLIENT_ID)")
                })?;
                let secret = cfg.client_secret.as_ref().ok_or_else(|| {
                    missing(
                        "no client secret is set (admin.clientSecretLocation, \
                         admin.clientSecretEnvVar or $FLYTE_CREDENTIALS_CLIENT_SECRET)",
                    )
                })?;
                need_token_endpoint()?;
                self.http
                    .client_credentials(&cc, id, secret, &scopes, audience.as_deref())
                    .await?
            }
            AuthMode::ExternalCommand => {
                if cfg.command.is_empty() {
                    return Err(AuthError::Missing {
                        endpoint,
                        mode: "ExternalCommand",
                        mode_from: cfg.auth_mode.from.clone(),
                        missing: "admin.command is empty".into(),
                    });
                }
                flows::command(&cfg.command).await?
            }
            AuthMode::Pkce | AuthMode::DeviceFlow => {
                need_token_endpoint()?;
                let refreshed = match state.creds.as_ref().and_then(|c| c.refresh_token.clone()) {
                    Some(rt) => match self
                        .http
                        .refresh(&cc, &rt, &scopes, audience.as_deref())
                        .await
                    {
                        Ok(c) => Some(c),
                        Err(e) => {
                            tracing::info!("refreshing the token failed ({e}); signing in again");
                            None
                        }
                    },
                    None => None,
                };
                let creds = match refreshed {
                    Some(c) => c,
                    None if cfg.auth_mode.value == AuthMode::Pkce => {
                        self.http
                            .pkce(&endpoint, &cc, &scopes, audience.as_deref())
                            .await?
                    }
                    None => {
                        self.http
                            .device(&endpoint, &cc, &scopes, audience.as_deref())
                            .await?
                    }
                };
                cache::store(&endpoint, &creds, &self.header_key(&state));
                creds
            }
        };
        state.creds = Some(creds);
        state.generation += 1;
        Ok(())
    }

    /// How this client authenticates, for error messages (no secrets).
    pub(crate) fn identity(&self) -> String {
        let cfg = &self.config;
        match cfg.auth_mode.value {
            AuthMode::ClientSecret => match &cfg.client_id {
                Some(id) => format!(
                    "authType ClientSecret from {}, client id '{}' from {}{}",
                    cfg.auth_mode.from,
                    id.value,
                    id.from,
                    cfg.client_secret
                        .as_ref()
                        .map(|s| format!(", secret from {}", s.from))
                        .unwrap_or_default()
                ),
                None => format!(
                    "authType ClientSecret from {}, no client id",
                    cfg.auth_mode.from
                ),
            },
            AuthMode::ExternalCommand => format!(
                "authType ExternalCommand from {}, command `{}`",
                cfg.auth_mode.from,
                cfg.command.join(" ")
            ),
            mode => format!(
                "authType {} from {}, token cache {}",
                mode.name(),
                cfg.auth_mode.from,
                cache::path(&cfg.endpoint.value)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "(none)".into())
            ),
        }
    }

    /// Forgets the current token (and the cached one) after FlyteAdmin rejected a fresh token.
    pub(crate) async fn forget(&self) {
        let mut state = self.state.lock().await;
        state.creds = None;
        if matches!(
            self.config.auth_mode.value,
            AuthMode::Pkce | AuthMode::DeviceFlow
        ) {
            cache::remove(&self.config.endpoint.value);
        }
    }
}
