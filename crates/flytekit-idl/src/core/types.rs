//! `flyteidl/core/types.proto`: the type system of Flyte interfaces ([`LiteralType`] and its
//! parts).

/// The built-in scalar types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum SimpleType {
    /// The `None` type (no value).
    None = 0,
    /// 64-bit signed integer.
    Integer = 1,
    /// 64-bit float.
    Float = 2,
    /// UTF-8 string.
    String = 3,
    /// Boolean.
    Boolean = 4,
    /// Point in time (timestamp).
    Datetime = 5,
    /// Length of time.
    Duration = 6,
    /// Opaque bytes.
    Binary = 7,
    /// An error value produced by an upstream node.
    Error = 8,
    /// Arbitrary JSON-like structured data.
    Struct = 9,
}
impl SimpleType {
    /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Integer => "INTEGER",
            Self::Float => "FLOAT",
            Self::String => "STRING",
            Self::Boolean => "BOOLEAN",
            Self::Datetime => "DATETIME",
            Self::Duration => "DURATION",
            Self::Binary => "BINARY",
            Self::Error => "ERROR",
            Self::Struct => "STRUCT",
        }
    }
    /// Parses a value from its `.proto` name; `None` if the name is unknown.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "NONE" => Some(Self::None),
            "INTEGER" => Some(Self::Integer),
            "FLOAT" => Some(Self::Float),
            "STRING" => Some(Self::String),
            "BOOLEAN" => Some(Self::Boolean),
            "DATETIME" => Some(Self::Datetime),
            "DURATION" => Some(Self::Duration),
            "BINARY" => Some(Self::Binary),
            "ERROR" => Some(Self::Error),
            "STRUCT" => Some(Self::Struct),
            _ => None,
        }
    }
}

/// Column layout of a legacy schema (table) type.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SchemaType {
    /// The columns, in order.
    #[prost(message, repeated, tag = "3")]
    pub columns: Vec<schema_type::SchemaColumn>,
}
/// Nested types of [`SchemaType`].
pub mod schema_type {
    /// One named, typed column of a schema.
    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct SchemaColumn {
        /// Column name; unique within the schema.
        #[prost(string, tag = "1")]
        pub name: String,
        /// Column type.
        #[prost(enumeration = "schema_column::SchemaColumnType", tag = "2")]
        pub r#type: i32,
    }
    /// Nested types of [`SchemaColumn`].
    pub mod schema_column {
        /// The types a schema column may have.
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration,
        )]
        #[repr(i32)]
        pub enum SchemaColumnType {
            /// 64-bit signed integer column.
            Integer = 0,
            /// Floating point column.
            Float = 1,
            /// String column.
            String = 2,
            /// Boolean column.
            Boolean = 3,
            /// Timestamp column.
            Datetime = 4,
            /// Duration column.
            Duration = 5,
        }
        impl SchemaColumnType {
            /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
            pub fn as_str_name(&self) -> &'static str {
                match self {
                    Self::Integer => "INTEGER",
                    Self::Float => "FLOAT",
                    Self::String => "STRING",
                    Self::Boolean => "BOOLEAN",
                    Self::Datetime => "DATETIME",
                    Self::Duration => "DURATION",
                }
            }
            /// Parses a value from its `.proto` name; `None` if the name is unknown.
            pub fn from_str_name(value: &str) -> Option<Self> {
                match value {
                    "INTEGER" => Some(Self::Integer),
                    "FLOAT" => Some(Self::Float),
                    "STRING" => Some(Self::String),
                    "BOOLEAN" => Some(Self::Boolean),
                    "DATETIME" => Some(Self::Datetime),
                    "DURATION" => Some(Self::Duration),
                    _ => None,
                }
            }
        }
    }
}

/// Type of a structured dataset (dataframe): its columns and storage format.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct StructuredDatasetType {
    /// Declared columns; empty means any columns are accepted.
    #[prost(message, repeated, tag = "1")]
    pub columns: Vec<structured_dataset_type::DatasetColumn>,
    /// Storage format such as `parquet`; empty means any format.
    #[prost(string, tag = "2")]
    pub format: String,
    /// Name of the schema system `external_schema_bytes` is written in, e.g. `arrow`.
    #[prost(string, tag = "3")]
    pub external_schema_type: String,
    /// Serialized schema in the external schema system, if provided.
    #[prost(bytes = "vec", tag = "4")]
    pub external_schema_bytes: Vec<u8>,
}
/// Nested types of [`StructuredDatasetType`].
pub mod structured_dataset_type {
    /// One named, typed column of a structured dataset.
    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct DatasetColumn {
        /// Column name; unique within the dataset.
        #[prost(string, tag = "1")]
        pub name: String,
        /// Column type, as a full literal type (so nested types are allowed).
        #[prost(message, optional, tag = "2")]
        pub literal_type: Option<super::LiteralType>,
    }
}

/// Type of a blob: its file format and whether it is a single file or a directory.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct BlobType {
    /// File format such as `csv` or `parquet`; empty means any format.
    #[prost(string, tag = "1")]
    pub format: String,
    /// Single file or multipart (directory).
    #[prost(enumeration = "blob_type::BlobDimensionality", tag = "2")]
    pub dimensionality: i32,
}
/// Nested types of [`BlobType`].
pub mod blob_type {
    /// Whether a blob is one file or a set of files.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum BlobDimensionality {
        /// A single file.
        Single = 0,
        /// A directory (prefix) of files.
        Multipart = 1,
    }
    impl BlobDimensionality {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Single => "SINGLE",
                Self::Multipart => "MULTIPART",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "SINGLE" => Some(Self::Single),
                "MULTIPART" => Some(Self::Multipart),
                _ => None,
            }
        }
    }
}

/// A string enum type: the value must be one of a fixed set of strings.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct EnumType {
    /// The allowed values, in declaration order.
    #[prost(string, repeated, tag = "1")]
    pub values: Vec<String>,
}

/// A union (sum) type: a value may be of any of the listed types.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct UnionType {
    /// The member types. Each should carry a distinct `structure.tag`.
    #[prost(message, repeated, tag = "1")]
    pub variants: Vec<LiteralType>,
}

/// Extra identification of a type beyond its shape, used to tell union variants and dataclasses
/// apart.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TypeStructure {
    /// Name that identifies the original (SDK-level) type, used to match union variants.
    #[prost(string, tag = "1")]
    pub tag: String,
    /// For dataclass-like types, the type of each attribute by name.
    #[prost(btree_map = "string, message", tag = "2")]
    pub dataclass_type: ::std::collections::BTreeMap<String, LiteralType>,
}

/// Free-form annotations attached to a type by SDKs or tooling; ignored by type checking.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TypeAnnotation {
    /// The annotation data.
    #[prost(message, optional, tag = "1")]
    pub annotations: Option<::prost_types::Struct>,
}

/// The type of a variable in a Flyte interface; values are [`Literal`](crate::core::Literal) values
/// of this type.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LiteralType {
    /// Type-specific metadata for SDKs (e.g. a JSON schema); not used when matching types.
    #[prost(message, optional, tag = "6")]
    pub metadata: Option<::prost_types::Struct>,
    /// Annotations for tooling; not used when matching types.
    #[prost(message, optional, tag = "9")]
    pub annotation: Option<TypeAnnotation>,
    /// Identification of the original type (tag, dataclass fields); used to match union variants.
    #[prost(message, optional, tag = "11")]
    pub structure: Option<TypeStructure>,
    /// The kind of type; exactly one is set.
    #[prost(oneof = "literal_type::Type", tags = "1, 2, 3, 4, 5, 7, 8, 10")]
    pub r#type: Option<literal_type::Type>,
}
/// Nested types of [`LiteralType`].
pub mod literal_type {
    /// The kind of type; exactly one is set.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Type {
        /// A built-in scalar type.
        #[prost(enumeration = "super::SimpleType", tag = "1")]
        Simple(i32),
        /// A legacy schema (table) type.
        #[prost(message, tag = "2")]
        Schema(super::SchemaType),
        /// A list whose elements all have this type. Boxed because the type is recursive.
        #[prost(message, tag = "3")]
        CollectionType(Box<super::LiteralType>),
        /// A string-keyed map whose values have this type. Boxed because the type is recursive.
        #[prost(message, tag = "4")]
        MapValueType(Box<super::LiteralType>),
        /// A file or directory type.
        #[prost(message, tag = "5")]
        Blob(super::BlobType),
        /// A string enum type.
        #[prost(message, tag = "7")]
        EnumType(super::EnumType),
        /// A structured dataset (dataframe) type.
        #[prost(message, tag = "8")]
        StructuredDatasetType(super::StructuredDatasetType),
        /// A union of several types.
        #[prost(message, tag = "10")]
        UnionType(super::UnionType),
    }
}

/// A reference to an output of another node (a promise), optionally to a part of it.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct OutputReference {
    /// Id of the node producing the output.
    #[prost(string, tag = "1")]
    pub node_id: String,
    /// Name of the output variable of that node.
    #[prost(string, tag = "2")]
    pub var: String,
    /// Path into the output value (list indices, map keys or attribute names), applied in order.
    #[prost(message, repeated, tag = "3")]
    pub attr_path: Vec<PromiseAttribute>,
}

/// One step of an [`OutputReference`] attribute path.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PromiseAttribute {
    /// The key or index of this step.
    #[prost(oneof = "promise_attribute::Value", tags = "1, 2")]
    pub value: Option<promise_attribute::Value>,
}
/// Nested types of [`PromiseAttribute`].
pub mod promise_attribute {
    /// The key or index of this step.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Value {
        /// A map key or attribute name.
        #[prost(string, tag = "1")]
        StringValue(String),
        /// A list index.
        #[prost(int32, tag = "2")]
        IntValue(i32),
    }
}

/// An error raised by a node, carried as a value (e.g. to a failure handler).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Error {
    /// Id of the node that failed.
    #[prost(string, tag = "1")]
    pub failed_node_id: String,
    /// Human-readable error message.
    #[prost(string, tag = "2")]
    pub message: String,
}

impl_name! {
    SchemaType => "SchemaType",
    schema_type::SchemaColumn => "SchemaType.SchemaColumn",
    StructuredDatasetType => "StructuredDatasetType",
    structured_dataset_type::DatasetColumn => "StructuredDatasetType.DatasetColumn",
    BlobType => "BlobType",
    EnumType => "EnumType",
    UnionType => "UnionType",
    TypeStructure => "TypeStructure",
    TypeAnnotation => "TypeAnnotation",
    LiteralType => "LiteralType",
    OutputReference => "OutputReference",
    PromiseAttribute => "PromiseAttribute",
    Error => "Error",
}
