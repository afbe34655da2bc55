//! Signed URLs for uploads and downloads (`flyteidl/service/dataproxy.proto`).

/// Reply to a [`CreateUploadLocationRequest`]: where and how to upload.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CreateUploadLocationResponse {
    /// The signed URL to `PUT` the file to.
    #[prost(string, tag = "1")]
    pub signed_url: String,
    /// The file's location in the platform's blob store (`s3://...`), for task templates.
    #[prost(string, tag = "2")]
    pub native_url: String,
    /// When the signed URL stops working.
    #[prost(message, optional, tag = "3")]
    pub expires_at: Option<::prost_types::Timestamp>,
    /// Headers the upload must carry.
    #[prost(btree_map = "string, string", tag = "4")]
    pub headers: ::std::collections::BTreeMap<String, String>,
}

/// Asks for a signed URL to upload one file to (fast-registration bundles, inputs).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CreateUploadLocationRequest {
    /// Project the file belongs to.
    #[prost(string, tag = "1")]
    pub project: String,
    /// Domain the file belongs to.
    #[prost(string, tag = "2")]
    pub domain: String,
    /// The file name at the location; random when empty.
    #[prost(string, tag = "3")]
    pub filename: String,
    /// How long the URL is valid; the server's maximum when unset.
    #[prost(message, optional, tag = "4")]
    pub expires_in: Option<::prost_types::Duration>,
    /// MD5 of the content; the upload must match it, and the location is derived from it.
    #[prost(bytes = "vec", tag = "5")]
    pub content_md5: Vec<u8>,
    /// Directory of the location instead of one derived from `content_md5`.
    #[prost(string, tag = "6")]
    pub filename_root: String,
    /// Whether to store the MD5 in the object's metadata.
    #[prost(bool, tag = "7")]
    pub add_content_md5_metadata: bool,
    /// Organization owning the project; empty outside multi-tenant deployments.
    #[prost(string, tag = "8")]
    pub org: String,
}

/// Deprecated: asks for a signed URL to download a file; use [`CreateDownloadLinkRequest`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CreateDownloadLocationRequest {
    /// The file's location in the blob store.
    #[prost(string, tag = "1")]
    pub native_url: String,
    /// How long the URL is valid.
    #[prost(message, optional, tag = "2")]
    pub expires_in: Option<::prost_types::Duration>,
}

/// Deprecated reply to a [`CreateDownloadLocationRequest`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CreateDownloadLocationResponse {
    /// The signed URL to `GET`.
    #[prost(string, tag = "1")]
    pub signed_url: String,
    /// When the URL stops working.
    #[prost(message, optional, tag = "2")]
    pub expires_at: Option<::prost_types::Timestamp>,
}

/// Asks for signed URLs of an execution's artifacts (decks).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CreateDownloadLinkRequest {
    /// Which artifact.
    #[prost(enumeration = "ArtifactType", tag = "1")]
    pub artifact_type: i32,
    /// How long the URLs are valid.
    #[prost(message, optional, tag = "2")]
    pub expires_in: Option<::prost_types::Duration>,
    /// Whose artifact.
    #[prost(oneof = "create_download_link_request::Source", tags = "3")]
    pub source: Option<create_download_link_request::Source>,
}

/// Types nested in [`CreateDownloadLinkRequest`].
pub mod create_download_link_request {
    /// Whose artifact.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Source {
        /// A node execution's.
        #[prost(message, tag = "3")]
        NodeExecutionId(crate::core::NodeExecutionIdentifier),
    }
}

/// Reply to a [`CreateDownloadLinkRequest`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CreateDownloadLinkResponse {
    /// Deprecated: use `pre_signed_urls`.
    #[prost(string, repeated, tag = "1")]
    pub signed_url: Vec<String>,
    /// Deprecated: use `pre_signed_urls`.
    #[prost(message, optional, tag = "2")]
    pub expires_at: Option<::prost_types::Timestamp>,
    /// The signed URLs and their expiry.
    #[prost(message, optional, tag = "3")]
    pub pre_signed_urls: Option<PreSignedUrLs>,
}

/// Signed URLs with their expiry.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PreSignedUrLs {
    /// The signed URLs.
    #[prost(string, repeated, tag = "1")]
    pub signed_url: Vec<String>,
    /// When they stop working.
    #[prost(message, optional, tag = "2")]
    pub expires_at: Option<::prost_types::Timestamp>,
}

/// Reads the data behind a `flyte://` URL.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct GetDataRequest {
    /// The `flyte://v1/...` URL of inputs, outputs or a deck.
    #[prost(string, tag = "1")]
    pub flyte_url: String,
}

/// The data behind a `flyte://` URL.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct GetDataResponse {
    /// Inline literals, or signed URLs to fetch them from.
    #[prost(oneof = "get_data_response::Data", tags = "1, 2, 3")]
    pub data: Option<get_data_response::Data>,
}

/// Types nested in [`GetDataResponse`].
pub mod get_data_response {
    /// Inline literals, or signed URLs to fetch them from.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Data {
        /// A map of literals (inputs or outputs).
        #[prost(message, tag = "1")]
        LiteralMap(crate::core::LiteralMap),
        /// Signed URLs (decks, large data).
        #[prost(message, tag = "2")]
        PreSignedUrls(super::PreSignedUrLs),
        /// One literal (a single input or output).
        #[prost(message, tag = "3")]
        Literal(crate::core::Literal),
    }
}

/// Kinds of artifacts [`CreateDownloadLinkRequest`] can link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum ArtifactType {
    /// Not set.
    Undefined = 0,
    /// A node's deck (HTML).
    Deck = 1,
}

impl ArtifactType {
    /// The proto name of the value.
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::Undefined => "ARTIFACT_TYPE_UNDEFINED",
            Self::Deck => "ARTIFACT_TYPE_DECK",
        }
    }
    /// The value with proto name `value`.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "ARTIFACT_TYPE_UNDEFINED" => Some(Self::Undefined),
            "ARTIFACT_TYPE_DECK" => Some(Self::Deck),
            _ => None,
        }
    }
}

impl_name! {
    CreateUploadLocationResponse => "CreateUploadLocationResponse",
    CreateUploadLocationRequest => "CreateUploadLocationRequest",
    CreateDownloadLocationRequest => "CreateDownloadLocationRequest",
    CreateDownloadLocationResponse => "CreateDownloadLocationResponse",
    CreateDownloadLinkRequest => "CreateDownloadLinkRequest",
    CreateDownloadLinkResponse => "CreateDownloadLinkResponse",
    PreSignedUrLs => "PreSignedURLs",
    GetDataRequest => "GetDataRequest",
    GetDataResponse => "GetDataResponse",
}
