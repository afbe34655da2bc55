//! `flyteidl/core/artifact_id.proto`: ids of and queries for artifacts (versioned, partitioned
//! outputs).

/// Time granularity of a time partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum Granularity {
    /// Not set.
    Unset = 0,
    /// Minutes.
    Minute = 1,
    /// Hours.
    Hour = 2,
    /// Days.
    Day = 3,
    /// Months.
    Month = 4,
}
impl Granularity {
    /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::Unset => "UNSET",
            Self::Minute => "MINUTE",
            Self::Hour => "HOUR",
            Self::Day => "DAY",
            Self::Month => "MONTH",
        }
    }
    /// Parses a value from its `.proto` name; `None` if the name is unknown.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "UNSET" => Some(Self::Unset),
            "MINUTE" => Some(Self::Minute),
            "HOUR" => Some(Self::Hour),
            "DAY" => Some(Self::Day),
            "MONTH" => Some(Self::Month),
            _ => None,
        }
    }
}

/// Arithmetic applied by a [`TimeTransform`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum Operator {
    /// Subtract.
    Minus = 0,
    /// Add.
    Plus = 1,
}
impl Operator {
    /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::Minus => "MINUS",
            Self::Plus => "PLUS",
        }
    }
    /// Parses a value from its `.proto` name; `None` if the name is unknown.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "MINUS" => Some(Self::Minus),
            "PLUS" => Some(Self::Plus),
            _ => None,
        }
    }
}

/// Identifies an artifact across its versions.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ArtifactKey {
    /// Project of the artifact.
    #[prost(string, tag = "1")]
    pub project: String,
    /// Domain of the artifact.
    #[prost(string, tag = "2")]
    pub domain: String,
    /// Artifact name.
    #[prost(string, tag = "3")]
    pub name: String,
    /// Organization; empty for single-tenant deployments.
    #[prost(string, tag = "4")]
    pub org: String,
}

/// Refers to a partition value of the artifact that triggered an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ArtifactBindingData {
    /// Optional change applied to a time partition value, e.g. minus one day.
    #[prost(message, optional, tag = "7")]
    pub time_transform: Option<TimeTransform>,
    /// Which partition value to use.
    #[prost(oneof = "artifact_binding_data::PartitionData", tags = "5, 6")]
    pub partition_data: Option<artifact_binding_data::PartitionData>,
}
/// Nested types of [`ArtifactBindingData`].
pub mod artifact_binding_data {
    /// Which partition value to use.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum PartitionData {
        /// A named partition key.
        #[prost(string, tag = "5")]
        PartitionKey(String),
        /// Use the time partition.
        #[prost(bool, tag = "6")]
        BindToTimePartition(bool),
    }
}

/// A shift applied to a time value.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TimeTransform {
    /// The amount, as an expression understood by the artifact service.
    #[prost(string, tag = "1")]
    pub transform: String,
    /// Whether to add or subtract.
    #[prost(enumeration = "Operator", tag = "2")]
    pub op: i32,
}

/// Takes a partition value from an input of the execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct InputBindingData {
    /// Name of the input.
    #[prost(string, tag = "1")]
    pub var: String,
}

/// Partition value that is only known at run time.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct RuntimeBinding {}

/// Value of an artifact partition: a constant or a binding resolved later.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LabelValue {
    /// The value or binding.
    #[prost(oneof = "label_value::Value", tags = "1, 2, 3, 4, 5")]
    pub value: Option<label_value::Value>,
}
/// Nested types of [`LabelValue`].
pub mod label_value {
    /// The value or binding.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Value {
        /// A fixed string.
        #[prost(string, tag = "1")]
        StaticValue(String),
        /// A fixed time.
        #[prost(message, tag = "2")]
        TimeValue(::prost_types::Timestamp),
        /// Taken from the artifact that triggered the execution.
        #[prost(message, tag = "3")]
        TriggeredBinding(super::ArtifactBindingData),
        /// Taken from an execution input.
        #[prost(message, tag = "4")]
        InputBinding(super::InputBindingData),
        /// Set at run time.
        #[prost(message, tag = "5")]
        RuntimeBinding(super::RuntimeBinding),
    }
}

/// The named partitions of an artifact.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Partitions {
    /// Partition values keyed by partition name.
    #[prost(btree_map = "string, message", tag = "1")]
    pub value: ::std::collections::BTreeMap<String, LabelValue>,
}

/// The time partition of an artifact.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TimePartition {
    /// The partition's time value.
    #[prost(message, optional, tag = "1")]
    pub value: Option<LabelValue>,
    /// Granularity of the time value.
    #[prost(enumeration = "Granularity", tag = "2")]
    pub granularity: i32,
}

/// Identifies one version (and partition) of an artifact.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ArtifactId {
    /// The artifact.
    #[prost(message, optional, tag = "1")]
    pub artifact_key: Option<ArtifactKey>,
    /// The version.
    #[prost(string, tag = "2")]
    pub version: String,
    /// Named partition values.
    #[prost(message, optional, tag = "3")]
    pub partitions: Option<Partitions>,
    /// Time partition value.
    #[prost(message, optional, tag = "4")]
    pub time_partition: Option<TimePartition>,
}

/// A tag pointing to an artifact.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ArtifactTag {
    /// The artifact.
    #[prost(message, optional, tag = "1")]
    pub artifact_key: Option<ArtifactKey>,
    /// Tag value.
    #[prost(message, optional, tag = "2")]
    pub value: Option<LabelValue>,
}

/// Ways to look up an artifact, e.g. for a launch plan default.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ArtifactQuery {
    /// How to find the artifact.
    #[prost(oneof = "artifact_query::Identifier", tags = "1, 2, 3, 4")]
    pub identifier: Option<artifact_query::Identifier>,
}
/// Nested types of [`ArtifactQuery`].
pub mod artifact_query {
    /// How to find the artifact.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Identifier {
        /// By id.
        #[prost(message, tag = "1")]
        ArtifactId(super::ArtifactId),
        /// By tag.
        #[prost(message, tag = "2")]
        ArtifactTag(super::ArtifactTag),
        /// By `flyte://` URI.
        #[prost(string, tag = "3")]
        Uri(String),
        /// By binding to the triggering artifact.
        #[prost(message, tag = "4")]
        Binding(super::ArtifactBindingData),
    }
}

impl_name! {
    ArtifactKey => "ArtifactKey",
    ArtifactBindingData => "ArtifactBindingData",
    TimeTransform => "TimeTransform",
    InputBindingData => "InputBindingData",
    RuntimeBinding => "RuntimeBinding",
    LabelValue => "LabelValue",
    Partitions => "Partitions",
    TimePartition => "TimePartition",
    ArtifactId => "ArtifactID",
    ArtifactTag => "ArtifactTag",
    ArtifactQuery => "ArtifactQuery",
}
