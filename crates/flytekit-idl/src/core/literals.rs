//! `flyteidl/core/literals.proto`: runtime values (literals), input bindings and retry settings.

use super::{BlobType, Error, LiteralType, OutputReference, SchemaType, StructuredDatasetType};

/// A single scalar value of one of the built-in simple types.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Primitive {
    /// The concrete primitive value; exactly one kind is set.
    #[prost(oneof = "primitive::Value", tags = "1, 2, 3, 4, 5, 6")]
    pub value: Option<primitive::Value>,
}
/// Nested types of [`Primitive`].
pub mod primitive {
    /// The concrete primitive value; exactly one kind is set.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Value {
        /// A 64-bit signed integer (`SimpleType::Integer`).
        #[prost(int64, tag = "1")]
        Integer(i64),
        /// A 64-bit float (`SimpleType::Float`).
        #[prost(double, tag = "2")]
        FloatValue(f64),
        /// A UTF-8 string (`SimpleType::String`).
        #[prost(string, tag = "3")]
        StringValue(String),
        /// A boolean (`SimpleType::Boolean`).
        #[prost(bool, tag = "4")]
        Boolean(bool),
        /// A point in time (`SimpleType::Datetime`).
        #[prost(message, tag = "5")]
        Datetime(::prost_types::Timestamp),
        /// A length of time (`SimpleType::Duration`).
        #[prost(message, tag = "6")]
        Duration(::prost_types::Duration),
    }
}

/// The empty value, used for `None` outputs and for tasks that return nothing.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Void {}

/// A file or directory stored in blob storage (S3, GCS, local disk, ...).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Blob {
    /// Format and dimensionality of the blob.
    #[prost(message, optional, tag = "1")]
    pub metadata: Option<BlobMetadata>,
    /// Location of the file, or of the directory prefix for multipart blobs.
    #[prost(string, tag = "3")]
    pub uri: String,
}

/// Describes the contents of a [`Blob`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct BlobMetadata {
    /// The blob's type: format and whether it is a single file or a directory.
    #[prost(message, optional, tag = "1")]
    pub r#type: Option<BlobType>,
}

/// Opaque bytes with a tag saying how to interpret them (e.g. msgpack-encoded dataclasses).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Binary {
    /// The serialized bytes.
    #[prost(bytes = "vec", tag = "1")]
    pub value: Vec<u8>,
    /// Encoding of `value`, such as `msgpack`; readers use it to pick a decoder.
    #[prost(string, tag = "2")]
    pub tag: String,
}

/// A (legacy) tabular dataset stored at a URI with a column schema; superseded by
/// [`StructuredDataset`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Schema {
    /// Location of the data.
    #[prost(string, tag = "1")]
    pub uri: String,
    /// Column names and types of the table.
    #[prost(message, optional, tag = "3")]
    pub r#type: Option<SchemaType>,
}

/// A value of a union type, together with the variant it was matched to.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Union {
    /// The actual value. Boxed because a union can contain any literal.
    #[prost(message, optional, boxed, tag = "1")]
    pub value: Option<Box<Literal>>,
    /// The union variant (a member of the declared `UnionType`) that `value` conforms to.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<LiteralType>,
}

/// Metadata attached to a [`StructuredDataset`] value.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct StructuredDatasetMetadata {
    /// Columns and storage format the dataset actually has.
    #[prost(message, optional, tag = "1")]
    pub structured_dataset_type: Option<StructuredDatasetType>,
}

/// A dataframe-like table stored at a URI (parquet files, a BigQuery table, ...).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct StructuredDataset {
    /// Where the data lives; the scheme tells which storage handler reads it.
    #[prost(string, tag = "1")]
    pub uri: String,
    /// Column and format information, if known.
    #[prost(message, optional, tag = "2")]
    pub metadata: Option<StructuredDatasetMetadata>,
}

/// A literal that is not a collection or map: a primitive, a blob, a dataset, an error, ...
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Scalar {
    /// The concrete scalar; exactly one kind is set.
    #[prost(oneof = "scalar::Value", tags = "1, 2, 3, 4, 5, 6, 7, 8, 9")]
    pub value: Option<scalar::Value>,
}
/// Nested types of [`Scalar`].
pub mod scalar {
    /// The concrete scalar; exactly one kind is set.
    ///
    /// Variants larger than a primitive are boxed so that a scalar stays 40 bytes: every
    /// [`Literal`](super::Literal) holds one inline, and a list of a million integers is a
    /// million literals (measured in `bench/literals.sh`).
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Value {
        /// An integer, float, string, boolean, datetime or duration.
        #[prost(message, tag = "1")]
        Primitive(super::Primitive),
        /// A file or directory.
        #[prost(message, tag = "2")]
        Blob(Box<super::Blob>),
        /// Tagged opaque bytes.
        #[prost(message, tag = "3")]
        Binary(Box<super::Binary>),
        /// A legacy schema-typed table.
        #[prost(message, tag = "4")]
        Schema(Box<super::Schema>),
        /// The `None` value.
        #[prost(message, tag = "5")]
        NoneType(super::Void),
        /// An error produced by an upstream node, passed along as data.
        #[prost(message, tag = "6")]
        Error(Box<super::Error>),
        /// Arbitrary JSON-like data (`SimpleType::Struct`), e.g. a dict or a dataclass.
        #[prost(message, tag = "7")]
        Generic(::prost_types::Struct),
        /// A structured dataset (dataframe).
        #[prost(message, tag = "8")]
        StructuredDataset(Box<super::StructuredDataset>),
        /// A value of a union type. Boxed because it can contain any literal.
        #[prost(message, tag = "9")]
        Union(Box<super::Union>),
    }
}

/// A concrete value passed into or out of a task or workflow: the runtime counterpart of
/// [`LiteralType`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Literal {
    /// Optional caller-supplied hash; when set, caching uses it instead of hashing the value
    /// itself.
    #[prost(string, tag = "4")]
    pub hash: String,
    /// Free-form key-value metadata attached to the value.
    /// A `BTreeMap`: empty costs nothing to create, and entries encode in a stable order.
    #[prost(btree_map = "string, string", tag = "5")]
    pub metadata: ::std::collections::BTreeMap<String, String>,
    /// The value itself; exactly one kind is set.
    #[prost(oneof = "literal::Value", tags = "1, 2, 3, 8")]
    pub value: Option<literal::Value>,
}
/// Nested types of [`Literal`].
pub mod literal {
    /// The value itself; exactly one kind is set.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    #[allow(clippy::large_enum_variant)]
    pub enum Value {
        /// A single value, inline (its large variants are boxed inside [`Scalar`](super::Scalar)).
        #[prost(message, tag = "1")]
        Scalar(super::Scalar),
        /// An ordered list of literals.
        #[prost(message, tag = "2")]
        Collection(super::LiteralCollection),
        /// A string-keyed map of literals. Boxed: it is rare in lists, and every
        /// element of a list pays for the largest variant.
        #[prost(message, tag = "3")]
        Map(Box<super::LiteralMap>),
        /// Set instead of the value when the literal was too large and was written to blob storage;
        /// points to it. Boxed: it is rare and large, and every `Literal` pays for the largest
        /// variant (a 1M-element list of integers allocates a million `Literal`s).
        #[prost(message, tag = "8")]
        OffloadedMetadata(Box<super::LiteralOffloadedMetadata>),
    }
}

/// Pointer to a literal that was stored outside the message (offloaded) because of its size.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LiteralOffloadedMetadata {
    /// Location of the serialized [`Literal`].
    #[prost(string, tag = "1")]
    pub uri: String,
    /// Size of the offloaded data, in bytes.
    #[prost(uint64, tag = "2")]
    pub size_bytes: u64,
    /// Type of the offloaded literal, so it can be checked without loading it.
    #[prost(message, optional, tag = "3")]
    pub inferred_type: Option<LiteralType>,
}

/// An ordered list of literals (the value of a list-typed variable).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LiteralCollection {
    /// The elements, in order.
    #[prost(message, repeated, tag = "1")]
    pub literals: Vec<Literal>,
}

/// A set of named literals: the inputs or outputs of a task or workflow, or a dict value.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LiteralMap {
    /// Values keyed by variable name (or dict key).
    #[prost(btree_map = "string, message", tag = "1")]
    pub literals: ::std::collections::BTreeMap<String, Literal>,
}

/// A list of bindings, resolved element-wise into a [`LiteralCollection`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct BindingDataCollection {
    /// The element bindings, in order.
    #[prost(message, repeated, tag = "1")]
    pub bindings: Vec<BindingData>,
}

/// A map of bindings, resolved entry-wise into a [`LiteralMap`](crate::core::LiteralMap).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct BindingDataMap {
    /// The entry bindings, keyed by map key.
    #[prost(btree_map = "string, message", tag = "1")]
    pub bindings: ::std::collections::BTreeMap<String, BindingData>,
}

/// Extra type information for a binding that feeds a union-typed input.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct UnionInfo {
    /// The union variant the bound value should be wrapped as.
    #[prost(message, optional, tag = "1")]
    pub target_type: Option<LiteralType>,
}

/// How the value of one input is obtained: a constant, a reference to another node's output, or a
/// structure of those.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct BindingData {
    /// Present when the target input is a union; tells which variant to use.
    #[prost(message, optional, tag = "5")]
    pub union: Option<UnionInfo>,
    /// The source of the value; exactly one kind is set.
    #[prost(oneof = "binding_data::Value", tags = "1, 2, 3, 4, 6")]
    pub value: Option<binding_data::Value>,
}
/// Nested types of [`BindingData`].
pub mod binding_data {
    /// The source of the value; exactly one kind is set.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Value {
        /// A constant scalar value.
        #[prost(message, tag = "1")]
        Scalar(super::Scalar),
        /// A list whose elements are bound individually.
        #[prost(message, tag = "2")]
        Collection(super::BindingDataCollection),
        /// An output of an upstream node (a promise).
        #[prost(message, tag = "3")]
        Promise(super::OutputReference),
        /// A map whose entries are bound individually.
        #[prost(message, tag = "4")]
        Map(super::BindingDataMap),
        /// A constant literal that was offloaded to blob storage.
        #[prost(message, tag = "6")]
        OffloadedMetadata(super::LiteralOffloadedMetadata),
    }
}

/// Connects one input variable of a node (or output of a workflow) to its data source.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Binding {
    /// Name of the variable being bound.
    #[prost(string, tag = "1")]
    pub var: String,
    /// Where the variable's value comes from.
    #[prost(message, optional, tag = "2")]
    pub binding: Option<BindingData>,
}

/// A plain string key-value pair, e.g. one environment variable.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct KeyValuePair {
    /// The key (must be non-empty).
    #[prost(string, tag = "1")]
    pub key: String,
    /// The value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// How often a failed task or node is retried.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct RetryStrategy {
    /// Number of retries after the first attempt; 0 means no retry.
    #[prost(uint32, tag = "5")]
    pub retries: u32,
}

impl_name! {
    Primitive => "Primitive",
    Void => "Void",
    Blob => "Blob",
    BlobMetadata => "BlobMetadata",
    Binary => "Binary",
    Schema => "Schema",
    Union => "Union",
    StructuredDatasetMetadata => "StructuredDatasetMetadata",
    StructuredDataset => "StructuredDataset",
    Scalar => "Scalar",
    Literal => "Literal",
    LiteralOffloadedMetadata => "LiteralOffloadedMetadata",
    LiteralCollection => "LiteralCollection",
    LiteralMap => "LiteralMap",
    BindingDataCollection => "BindingDataCollection",
    BindingDataMap => "BindingDataMap",
    UnionInfo => "UnionInfo",
    BindingData => "BindingData",
    Binding => "Binding",
    KeyValuePair => "KeyValuePair",
    RetryStrategy => "RetryStrategy",
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn hex(s: &str) -> Result<Vec<u8>, std::num::ParseIntError> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16))
            .collect()
    }

    fn int_literal(v: i64) -> Literal {
        Literal {
            value: Some(literal::Value::Scalar(Scalar {
                value: Some(scalar::Value::Primitive(Primitive {
                    value: Some(primitive::Value::Integer(v)),
                })),
            })),
            ..Default::default()
        }
    }

    /// Every element of a list is a `Literal`: keep it small (see `scalar::Value`).
    #[test]
    fn literals_stay_small() {
        assert!(
            std::mem::size_of::<Scalar>() <= 40,
            "{}",
            std::mem::size_of::<Scalar>()
        );
        assert!(
            std::mem::size_of::<Literal>() <= 96,
            "{}",
            std::mem::size_of::<Literal>()
        );
    }

    #[test]
    fn nested_collection_round_trips() -> Result<(), prost::DecodeError> {
        let inner = Literal {
            value: Some(literal::Value::Collection(LiteralCollection {
                literals: vec![int_literal(1), int_literal(-2)],
            })),
            ..Default::default()
        };
        let mut map = LiteralMap::default();
        map.literals.insert("xs".to_owned(), inner);
        let outer = Literal {
            value: Some(literal::Value::Collection(LiteralCollection {
                literals: vec![
                    Literal {
                        value: Some(literal::Value::Map(Box::new(map))),
                        ..Default::default()
                    },
                    int_literal(3),
                ],
            })),
            hash: "h".to_owned(),
            ..Default::default()
        };
        let decoded = Literal::decode(outer.encode_to_vec().as_slice())?;
        assert_eq!(decoded, outer);
        Ok(())
    }

    #[test]
    fn offloaded_metadata_is_field_8() {
        let lit = Literal {
            value: Some(literal::Value::OffloadedMetadata(Box::new(
                LiteralOffloadedMetadata {
                    uri: "s3://bucket/key".to_owned(),
                    size_bytes: 42,
                    inferred_type: None,
                },
            ))),
            ..Default::default()
        };
        // Field 8, wire type 2 (length-delimited).
        assert_eq!(lit.encode_to_vec().first(), Some(&((8 << 3) | 2)));
    }

    /// Bytes written by the Python `flyteidl` package for a collection holding an integer, a map,
    /// a union and an offloaded literal, plus `hash` and one `metadata` entry.
    const PYTHON_LITERAL: &str = "12580a0f0a0d0a0b08f9ffffffffffffffff010a151a130a110a016b120c0a0a0a081a0668c3a96c6c6f0a170a154a130a0d0a0b0a0911000000000000f83f120208020a1542130a0873333a2f2f622f6b10959aef3a1a02080322036162632a060a016d12016e";

    #[test]
    fn decodes_python_bytes_and_reencodes_identically() -> Result<(), Box<dyn std::error::Error>> {
        let bytes = hex(PYTHON_LITERAL)?;
        let lit = Literal::decode(bytes.as_slice())?;
        assert_eq!(lit.hash, "abc");
        assert_eq!(lit.metadata.get("m").map(String::as_str), Some("n"));
        let Some(literal::Value::Collection(coll)) = &lit.value else {
            panic!("expected a collection, got {:?}", lit.value);
        };
        assert_eq!(coll.literals.len(), 4);
        assert_eq!(coll.literals[0], int_literal(-7));
        let Some(literal::Value::OffloadedMetadata(off)) = &coll.literals[3].value else {
            panic!("expected offloaded metadata");
        };
        assert_eq!(off.size_bytes, 123_456_789);
        assert_eq!(lit.encode_to_vec(), bytes);
        Ok(())
    }

    #[test]
    fn names_and_type_urls() {
        use prost::Name;
        assert_eq!(Literal::full_name(), "flyteidl.core.Literal");
        assert_eq!(Literal::type_url(), "/flyteidl.core.Literal");
        assert_eq!(
            crate::core::connection_set::IdList::NAME,
            "ConnectionSet.IdList"
        );
        assert_eq!(
            crate::core::connection_set::IdList::full_name(),
            "flyteidl.core.ConnectionSet.IdList"
        );
        assert_eq!(crate::core::GpuAccelerator::PACKAGE, "flyteidl.core");
    }
}
