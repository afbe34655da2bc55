//! Human-readable descriptions of tasks and workflows (`flyteidl/admin/description_entity.proto`).

use super::{NamedEntityIdentifier, Sort};

/// Documentation of a task or workflow version.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct DescriptionEntity {
    /// Task or workflow this description belongs to.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
    /// One-line summary.
    #[prost(string, tag = "2")]
    pub short_description: String,
    /// Full description.
    #[prost(message, optional, tag = "3")]
    pub long_description: Option<Description>,
    /// Link to the source code.
    #[prost(message, optional, tag = "4")]
    pub source_code: Option<SourceCode>,
    /// Free-form tags.
    #[prost(string, repeated, tag = "5")]
    pub tags: Vec<String>,
}

/// A long description, given inline or by reference.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Description {
    /// The text itself or where to find it.
    #[prost(oneof = "description::Content", tags = "1, 2")]
    pub content: Option<description::Content>,
    /// Markup language of the text.
    #[prost(enumeration = "DescriptionFormat", tag = "3")]
    pub format: i32,
    /// Optional link to an icon shown with the entity.
    #[prost(string, tag = "4")]
    pub icon_link: String,
}

/// Types nested in [`Description`].
pub mod description {
    /// The text itself or where to find it.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Content {
        /// The description text inline.
        #[prost(string, tag = "1")]
        Value(String),
        /// Location of the description text.
        #[prost(string, tag = "2")]
        Uri(String),
    }
}

/// Pointer to the source code of an entity.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SourceCode {
    /// URL of the source code, for example a repository file.
    #[prost(string, tag = "1")]
    pub link: String,
}

/// One page of description entities.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct DescriptionEntityList {
    /// Descriptions on this page.
    #[prost(message, repeated, tag = "1")]
    pub description_entities: Vec<DescriptionEntity>,
    /// Cursor for the next page; empty when this is the last page.
    #[prost(string, tag = "2")]
    pub token: String,
}

/// Lists the descriptions of the versions of one entity.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct DescriptionEntityListRequest {
    /// Kind of entity (task or workflow).
    #[prost(enumeration = "crate::core::ResourceType", tag = "1")]
    pub resource_type: i32,
    /// Entity whose descriptions are listed.
    #[prost(message, optional, tag = "2")]
    pub id: Option<NamedEntityIdentifier>,
    /// Maximum number of items to return in one page.
    #[prost(uint32, tag = "3")]
    pub limit: u32,
    /// Pagination cursor: empty on the first request, otherwise the token returned by the previous page.
    #[prost(string, tag = "4")]
    pub token: String,
    /// Filter expression in FlyteAdmin's filter syntax, for example `eq(version, abc)`.
    #[prost(string, tag = "5")]
    pub filters: String,
    /// Ordering of the returned items.
    #[prost(message, optional, tag = "6")]
    pub sort_by: Option<Sort>,
}

/// Markup language of a [`Description`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum DescriptionFormat {
    /// Not specified.
    Unknown = 0,
    /// Markdown.
    Markdown = 1,
    /// HTML.
    Html = 2,
    /// reStructuredText.
    Rst = 3,
}

impl DescriptionFormat {
    /// The value's name as written in the proto definition.
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::Unknown => "DESCRIPTION_FORMAT_UNKNOWN",
            Self::Markdown => "DESCRIPTION_FORMAT_MARKDOWN",
            Self::Html => "DESCRIPTION_FORMAT_HTML",
            Self::Rst => "DESCRIPTION_FORMAT_RST",
        }
    }

    /// Looks a value up by its proto name; `None` for an unknown name.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "DESCRIPTION_FORMAT_UNKNOWN" => Some(Self::Unknown),
            "DESCRIPTION_FORMAT_MARKDOWN" => Some(Self::Markdown),
            "DESCRIPTION_FORMAT_HTML" => Some(Self::Html),
            "DESCRIPTION_FORMAT_RST" => Some(Self::Rst),
            _ => None,
        }
    }
}

impl_name! {
    DescriptionEntity => "DescriptionEntity",
    Description => "Description",
    SourceCode => "SourceCode",
    DescriptionEntityList => "DescriptionEntityList",
    DescriptionEntityListRequest => "DescriptionEntityListRequest",
}
