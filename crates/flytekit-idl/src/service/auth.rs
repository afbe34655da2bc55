//! OAuth2 discovery (`flyteidl/service/auth.proto`): anonymously readable metadata that tells a
//! client where and how to get a token.

/// Asks for the OAuth2 authorization server metadata.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct OAuth2MetadataRequest {}

/// OAuth2 authorization server metadata (RFC 8414).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct OAuth2MetadataResponse {
    /// The authorization server's issuer identifier (a URL).
    #[prost(string, tag = "1")]
    pub issuer: String,
    /// Where a user authorizes a client (authorization code and PKCE flows).
    #[prost(string, tag = "2")]
    pub authorization_endpoint: String,
    /// Where a client exchanges a grant for a token.
    #[prost(string, tag = "3")]
    pub token_endpoint: String,
    /// The `response_type` values the server supports.
    #[prost(string, repeated, tag = "4")]
    pub response_types_supported: Vec<String>,
    /// The scopes the server supports.
    #[prost(string, repeated, tag = "5")]
    pub scopes_supported: Vec<String>,
    /// How clients may authenticate at the token endpoint.
    #[prost(string, repeated, tag = "6")]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// Where the server's signing keys are published.
    #[prost(string, tag = "7")]
    pub jwks_uri: String,
    /// The PKCE code challenge methods the server supports.
    #[prost(string, repeated, tag = "8")]
    pub code_challenge_methods_supported: Vec<String>,
    /// The grant types the server supports.
    #[prost(string, repeated, tag = "9")]
    pub grant_types_supported: Vec<String>,
    /// Where a device starts the device authorization flow (RFC 8628).
    #[prost(string, tag = "10")]
    pub device_authorization_endpoint: String,
}

/// Asks for the settings of Flyte's public (interactive) client.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PublicClientAuthConfigRequest {}

/// Settings of Flyte's public client: its id, redirect URI and scopes, and how to send the token.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PublicClientAuthConfigResponse {
    /// The client id of Flyte's public client.
    #[prost(string, tag = "1")]
    pub client_id: String,
    /// Where the authorization server redirects after a user signs in.
    #[prost(string, tag = "2")]
    pub redirect_uri: String,
    /// Scopes to request.
    #[prost(string, repeated, tag = "3")]
    pub scopes: Vec<String>,
    /// The gRPC metadata key that carries the token (default `authorization`).
    #[prost(string, tag = "4")]
    pub authorization_metadata_key: String,
    /// The HTTP endpoint of FlyteAdmin, when it differs from the gRPC one.
    #[prost(string, tag = "5")]
    pub service_http_endpoint: String,
    /// The audience to request tokens for.
    #[prost(string, tag = "6")]
    pub audience: String,
}

impl_name! {
    OAuth2MetadataRequest => "OAuth2MetadataRequest",
    OAuth2MetadataResponse => "OAuth2MetadataResponse",
    PublicClientAuthConfigRequest => "PublicClientAuthConfigRequest",
    PublicClientAuthConfigResponse => "PublicClientAuthConfigResponse",
}
