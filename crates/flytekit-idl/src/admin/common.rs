//! Shared FlyteAdmin messages (`flyteidl/admin/common.proto`): named entities, sorting,
//! list requests, notifications, labels, annotations and data locations.

/// Names a family of entities that share project, domain and name but differ in version.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NamedEntityIdentifier {
    /// Project the entity belongs to.
    #[prost(string, tag = "1")]
    pub project: String,
    /// Domain within the project (for example `development` or `production`).
    #[prost(string, tag = "2")]
    pub domain: String,
    /// Name shared by every version of the entity.
    #[prost(string, tag = "3")]
    pub name: String,
    /// Organization owning the project; empty outside multi-tenant deployments.
    #[prost(string, tag = "4")]
    pub org: String,
}

/// User-editable metadata attached to a named entity.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NamedEntityMetadata {
    /// Free-form description shown in the UI.
    #[prost(string, tag = "1")]
    pub description: String,
    /// Whether the entity is active, archived or system generated ([`NamedEntityState`]).
    #[prost(enumeration = "NamedEntityState", tag = "2")]
    pub state: i32,
}

/// A task, workflow or launch plan name together with its metadata, independent of version.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NamedEntity {
    /// Kind of entity (task, workflow, launch plan...).
    #[prost(enumeration = "crate::core::ResourceType", tag = "1")]
    pub resource_type: i32,
    /// Project, domain and name of the entity.
    #[prost(message, optional, tag = "2")]
    pub id: Option<NamedEntityIdentifier>,
    /// The entity's editable metadata.
    #[prost(message, optional, tag = "3")]
    pub metadata: Option<NamedEntityMetadata>,
}

/// Ordering applied to a list request.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Sort {
    /// Name of the column to sort on, for example `created_at`.
    #[prost(string, tag = "1")]
    pub key: String,
    /// Ascending or descending ([`sort::Direction`]).
    #[prost(enumeration = "sort::Direction", tag = "2")]
    pub direction: i32,
}

/// Types nested in [`Sort`].
pub mod sort {
    /// Sort order.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Direction {
        /// Largest values first.
        Descending = 0,
        /// Smallest values first.
        Ascending = 1,
    }

    impl Direction {
        /// The value's name as written in the proto definition.
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Descending => "DESCENDING",
                Self::Ascending => "ASCENDING",
            }
        }

        /// Looks a value up by its proto name; `None` for an unknown name.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "DESCENDING" => Some(Self::Descending),
                "ASCENDING" => Some(Self::Ascending),
                _ => None,
            }
        }
    }
}

/// Lists the distinct entity names in a project and domain.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NamedEntityIdentifierListRequest {
    /// Project the entity belongs to.
    #[prost(string, tag = "1")]
    pub project: String,
    /// Domain within the project (for example `development` or `production`).
    #[prost(string, tag = "2")]
    pub domain: String,
    /// Maximum number of items to return in one page.
    #[prost(uint32, tag = "3")]
    pub limit: u32,
    /// Pagination cursor: empty on the first request, otherwise the token returned by the previous page.
    #[prost(string, tag = "4")]
    pub token: String,
    /// Ordering of the returned items.
    #[prost(message, optional, tag = "5")]
    pub sort_by: Option<Sort>,
    /// Filter expression in FlyteAdmin's filter syntax, for example `eq(version, abc)`.
    #[prost(string, tag = "6")]
    pub filters: String,
    /// Organization owning the project; empty outside multi-tenant deployments.
    #[prost(string, tag = "7")]
    pub org: String,
}

/// Lists named entities of one resource type together with their metadata.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NamedEntityListRequest {
    /// Kind of entity to list.
    #[prost(enumeration = "crate::core::ResourceType", tag = "1")]
    pub resource_type: i32,
    /// Project the entity belongs to.
    #[prost(string, tag = "2")]
    pub project: String,
    /// Domain within the project (for example `development` or `production`).
    #[prost(string, tag = "3")]
    pub domain: String,
    /// Maximum number of items to return in one page.
    #[prost(uint32, tag = "4")]
    pub limit: u32,
    /// Pagination cursor: empty on the first request, otherwise the token returned by the previous page.
    #[prost(string, tag = "5")]
    pub token: String,
    /// Ordering of the returned items.
    #[prost(message, optional, tag = "6")]
    pub sort_by: Option<Sort>,
    /// Filter expression in FlyteAdmin's filter syntax, for example `eq(version, abc)`.
    #[prost(string, tag = "7")]
    pub filters: String,
    /// Organization owning the project; empty outside multi-tenant deployments.
    #[prost(string, tag = "8")]
    pub org: String,
}

/// One page of named entity identifiers.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NamedEntityIdentifierList {
    /// Identifiers on this page.
    #[prost(message, repeated, tag = "1")]
    pub entities: Vec<NamedEntityIdentifier>,
    /// Cursor for the next page; empty when this is the last page.
    #[prost(string, tag = "2")]
    pub token: String,
}

/// One page of named entities.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NamedEntityList {
    /// Entities on this page.
    #[prost(message, repeated, tag = "1")]
    pub entities: Vec<NamedEntity>,
    /// Cursor for the next page; empty when this is the last page.
    #[prost(string, tag = "2")]
    pub token: String,
}

/// Fetches one named entity.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NamedEntityGetRequest {
    /// Kind of entity to fetch.
    #[prost(enumeration = "crate::core::ResourceType", tag = "1")]
    pub resource_type: i32,
    /// Which entity to fetch.
    #[prost(message, optional, tag = "2")]
    pub id: Option<NamedEntityIdentifier>,
}

/// Replaces the metadata of a named entity.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NamedEntityUpdateRequest {
    /// Kind of entity to update.
    #[prost(enumeration = "crate::core::ResourceType", tag = "1")]
    pub resource_type: i32,
    /// Which entity to update.
    #[prost(message, optional, tag = "2")]
    pub id: Option<NamedEntityIdentifier>,
    /// The new metadata.
    #[prost(message, optional, tag = "3")]
    pub metadata: Option<NamedEntityMetadata>,
}

/// Empty reply to a [`NamedEntityUpdateRequest`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NamedEntityUpdateResponse {}

/// Fetches one versioned entity by its full identifier.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ObjectGetRequest {
    /// Full identifier (including version) of the entity.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
}

/// Lists the versions of one named entity.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ResourceListRequest {
    /// Project, domain and (optionally) name whose versions are listed.
    #[prost(message, optional, tag = "1")]
    pub id: Option<NamedEntityIdentifier>,
    /// Maximum number of items to return in one page.
    #[prost(uint32, tag = "2")]
    pub limit: u32,
    /// Pagination cursor: empty on the first request, otherwise the token returned by the previous page.
    #[prost(string, tag = "3")]
    pub token: String,
    /// Filter expression in FlyteAdmin's filter syntax, for example `eq(version, abc)`.
    #[prost(string, tag = "4")]
    pub filters: String,
    /// Ordering of the returned items.
    #[prost(message, optional, tag = "5")]
    pub sort_by: Option<Sort>,
}

/// Notification delivered by email.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct EmailNotification {
    /// Addresses (or channels) that receive the notification.
    #[prost(string, repeated, tag = "1")]
    pub recipients_email: Vec<String>,
    /// Optional message template; the platform default is used when empty.
    #[prost(string, tag = "2")]
    pub template: String,
}

/// Notification delivered to PagerDuty.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PagerDutyNotification {
    /// Addresses (or channels) that receive the notification.
    #[prost(string, repeated, tag = "1")]
    pub recipients_email: Vec<String>,
    /// Optional message template; the platform default is used when empty.
    #[prost(string, tag = "2")]
    pub template: String,
}

/// Notification delivered to Slack.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SlackNotification {
    /// Addresses (or channels) that receive the notification.
    #[prost(string, repeated, tag = "1")]
    pub recipients_email: Vec<String>,
    /// Optional message template; the platform default is used when empty.
    #[prost(string, tag = "2")]
    pub template: String,
}

/// A notification sent when an execution reaches one of the given phases.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Notification {
    /// Execution phases that trigger the notification.
    #[prost(
        enumeration = "crate::core::workflow_execution::Phase",
        repeated,
        tag = "1"
    )]
    pub phases: Vec<i32>,
    /// Delivery channel of the notification.
    #[prost(oneof = "notification::Type", tags = "2, 3, 4")]
    pub r#type: Option<notification::Type>,
}

/// Types nested in [`Notification`].
pub mod notification {
    /// Delivery channel of the notification.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Type {
        /// Send an email.
        #[prost(message, tag = "2")]
        Email(super::EmailNotification),
        /// Page through PagerDuty.
        #[prost(message, tag = "3")]
        PagerDuty(super::PagerDutyNotification),
        /// Post to Slack.
        #[prost(message, tag = "4")]
        Slack(super::SlackNotification),
    }
}

/// Location and size of data stored outside the response (deprecated in favour of inline literals).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct UrlBlob {
    /// Signed or plain URL of the data.
    #[prost(string, tag = "1")]
    pub url: String,
    /// Size of the data in bytes.
    #[prost(int64, tag = "2")]
    pub bytes: i64,
}

/// Kubernetes labels applied to the pods of an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Labels {
    /// Label keys mapped to their values.
    #[prost(btree_map = "string, string", tag = "1")]
    pub values: ::std::collections::BTreeMap<String, String>,
}

/// Kubernetes annotations applied to the pods of an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Annotations {
    /// Annotation keys mapped to their values.
    #[prost(btree_map = "string, string", tag = "1")]
    pub values: ::std::collections::BTreeMap<String, String>,
}

/// Environment variables passed to every task of an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Envs {
    /// Variables as ordered key/value pairs.
    #[prost(message, repeated, tag = "1")]
    pub values: Vec<crate::core::KeyValuePair>,
}

/// Deprecated identity to run an execution as; superseded by `flyteidl.core.SecurityContext`.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct AuthRole {
    /// IAM role the tasks assume.
    #[prost(string, tag = "1")]
    pub assumable_iam_role: String,
    /// Kubernetes service account the pods run under.
    #[prost(string, tag = "2")]
    pub kubernetes_service_account: String,
}

/// Where an execution writes offloaded data such as files and data frames.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct RawOutputDataConfig {
    /// Storage prefix (for example `s3://bucket/prefix`) for offloaded outputs.
    #[prost(string, tag = "1")]
    pub output_location_prefix: String,
}

/// `flyte://` URLs that point at the inputs, outputs and deck of an execution or node.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct FlyteUrLs {
    /// URL of the inputs.
    #[prost(string, tag = "1")]
    pub inputs: String,
    /// URL of the outputs.
    #[prost(string, tag = "2")]
    pub outputs: String,
    /// URL of the rendered deck.
    #[prost(string, tag = "3")]
    pub deck: String,
}

/// Lifecycle state of a named entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum NamedEntityState {
    /// Listed and usable (the default).
    NamedEntityActive = 0,
    /// Hidden from default listings.
    NamedEntityArchived = 1,
    /// Created by the platform rather than a user, for example the default launch plan.
    SystemGenerated = 2,
}

impl NamedEntityState {
    /// The value's name as written in the proto definition.
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::NamedEntityActive => "NAMED_ENTITY_ACTIVE",
            Self::NamedEntityArchived => "NAMED_ENTITY_ARCHIVED",
            Self::SystemGenerated => "SYSTEM_GENERATED",
        }
    }

    /// Looks a value up by its proto name; `None` for an unknown name.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "NAMED_ENTITY_ACTIVE" => Some(Self::NamedEntityActive),
            "NAMED_ENTITY_ARCHIVED" => Some(Self::NamedEntityArchived),
            "SYSTEM_GENERATED" => Some(Self::SystemGenerated),
            _ => None,
        }
    }
}

impl_name! {
    NamedEntityIdentifier => "NamedEntityIdentifier",
    NamedEntityMetadata => "NamedEntityMetadata",
    NamedEntity => "NamedEntity",
    Sort => "Sort",
    NamedEntityIdentifierListRequest => "NamedEntityIdentifierListRequest",
    NamedEntityListRequest => "NamedEntityListRequest",
    NamedEntityIdentifierList => "NamedEntityIdentifierList",
    NamedEntityList => "NamedEntityList",
    NamedEntityGetRequest => "NamedEntityGetRequest",
    NamedEntityUpdateRequest => "NamedEntityUpdateRequest",
    NamedEntityUpdateResponse => "NamedEntityUpdateResponse",
    ObjectGetRequest => "ObjectGetRequest",
    ResourceListRequest => "ResourceListRequest",
    EmailNotification => "EmailNotification",
    PagerDutyNotification => "PagerDutyNotification",
    SlackNotification => "SlackNotification",
    Notification => "Notification",
    UrlBlob => "UrlBlob",
    Labels => "Labels",
    Annotations => "Annotations",
    Envs => "Envs",
    AuthRole => "AuthRole",
    RawOutputDataConfig => "RawOutputDataConfig",
    FlyteUrLs => "FlyteURLs",
}
