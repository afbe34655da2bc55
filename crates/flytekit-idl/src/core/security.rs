//! `flyteidl/core/security.proto`: identities, secrets and OAuth2 tokens a task runs with.

/// A secret a task needs, injected by the platform's secret manager.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Secret {
    /// Secret group, e.g. the name of the Kubernetes secret.
    #[prost(string, tag = "1")]
    pub group: String,
    /// Version of the group, for secret stores that version secrets.
    #[prost(string, tag = "2")]
    pub group_version: String,
    /// Key within the group; some stores require it.
    #[prost(string, tag = "3")]
    pub key: String,
    /// How the secret is exposed to the task.
    #[prost(enumeration = "secret::MountType", tag = "4")]
    pub mount_requirement: i32,
    /// Name of the environment variable to put the secret in, when mounted as one.
    #[prost(string, tag = "5")]
    pub env_var: String,
}
/// Nested types of [`Secret`].
pub mod secret {
    /// How a secret is exposed inside the task.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum MountType {
        /// Whatever the secret manager prefers.
        Any = 0,
        /// As an environment variable.
        EnvVar = 1,
        /// As a file.
        File = 2,
    }
    impl MountType {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Any => "ANY",
                Self::EnvVar => "ENV_VAR",
                Self::File => "FILE",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "ANY" => Some(Self::Any),
                "ENV_VAR" => Some(Self::EnvVar),
                "FILE" => Some(Self::File),
                _ => None,
            }
        }
    }
}

/// OAuth2 client credentials.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct OAuth2Client {
    /// The client id.
    #[prost(string, tag = "1")]
    pub client_id: String,
    /// Secret holding the client secret.
    #[prost(message, optional, tag = "2")]
    pub client_secret: Option<Secret>,
}

/// The identity a task runs as.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Identity {
    /// Cloud IAM role to assume.
    #[prost(string, tag = "1")]
    pub iam_role: String,
    /// Kubernetes service account for the pod.
    #[prost(string, tag = "2")]
    pub k8s_service_account: String,
    /// OAuth2 client credentials.
    #[prost(message, optional, tag = "3")]
    pub oauth2_client: Option<OAuth2Client>,
    /// User or principal the execution runs on behalf of.
    #[prost(string, tag = "4")]
    pub execution_identity: String,
}

/// An OAuth2 token that the platform obtains and injects into the task.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct OAuth2TokenRequest {
    /// Name of the token, used to find it inside the task.
    #[prost(string, tag = "1")]
    pub name: String,
    /// OAuth2 grant type.
    #[prost(enumeration = "o_auth2_token_request::Type", tag = "2")]
    pub r#type: i32,
    /// Client credentials used to obtain the token.
    #[prost(message, optional, tag = "3")]
    pub client: Option<OAuth2Client>,
    /// OpenID discovery endpoint of the identity provider.
    #[prost(string, tag = "4")]
    pub idp_discovery_endpoint: String,
    /// Token endpoint, used when discovery is not available.
    #[prost(string, tag = "5")]
    pub token_endpoint: String,
}
/// Nested types of [`OAuth2TokenRequest`].
pub mod o_auth2_token_request {
    /// OAuth2 grant types.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Type {
        /// The client credentials grant.
        ClientCredentials = 0,
    }
    impl Type {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::ClientCredentials => "CLIENT_CREDENTIALS",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "CLIENT_CREDENTIALS" => Some(Self::ClientCredentials),
                _ => None,
            }
        }
    }
}

/// Security settings of a task or execution: who it runs as, and its secrets and tokens.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SecurityContext {
    /// Identity to run as.
    #[prost(message, optional, tag = "1")]
    pub run_as: Option<Identity>,
    /// Secrets to make available.
    #[prost(message, repeated, tag = "2")]
    pub secrets: Vec<Secret>,
    /// OAuth2 tokens to make available.
    #[prost(message, repeated, tag = "3")]
    pub tokens: Vec<OAuth2TokenRequest>,
}

impl_name! {
    Secret => "Secret",
    OAuth2Client => "OAuth2Client",
    Identity => "Identity",
    OAuth2TokenRequest => "OAuth2TokenRequest",
    SecurityContext => "SecurityContext",
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn secret_env_var_is_field_5() {
        let secret = Secret {
            env_var: "TOKEN".to_owned(),
            ..Default::default()
        };
        assert_eq!(secret.encode_to_vec(), b"\x2a\x05TOKEN".to_vec());
        assert_eq!(
            secret::MountType::from_str_name("ENV_VAR"),
            Some(secret::MountType::EnvVar)
        );
        assert_eq!(secret::MountType::EnvVar.as_str_name(), "ENV_VAR");
    }
}
