//! The type engine: how Rust values become Flyte literals and back.
//!
//! Every Rust type that can cross a task boundary implements [`FlyteType`]: it names its Flyte
//! [`LiteralType`], turns a value into a [`Literal`], and reads one back. The conventions follow
//! Python flytekit's `TypeEngine` exactly, so a Rust task and a Python task can exchange values:
//! see `ARCHITECTURE.md` for the table of mappings.
//!
//! | Rust | Flyte | Python |
//! |---|---|---|
//! | `i8`..`i64`, `u8`..`u32` | `INTEGER` | `int` |
//! | `f32`, `f64` | `FLOAT` | `float` |
//! | `String` | `STRING` | `str` |
//! | `bool` | `BOOLEAN` | `bool` |
//! | `chrono::DateTime<Utc>` | `DATETIME` | `datetime.datetime` |
//! | `std::time::Duration` | `DURATION` | `datetime.timedelta` |
//! | `Vec<T>` | collection of T | `List[T]` |
//! | `HashMap<String, T>`, `BTreeMap<String, T>` | map of T | `Dict[str, T]` |
//! | `Option<T>` | union of T and none | `Optional[T]` |
//! | `#[derive(FlyteType)]` struct | `STRUCT` (msgpack binary) | `@dataclass` |
//! | `#[derive(FlyteType)]` unit-only enum | enum of strings | `enum.Enum` with string values |
//! | [`FlyteFile`](crate::FlyteFile), [`FlyteDirectory`](crate::FlyteDirectory) | blob | `FlyteFile`, `FlyteDirectory` |
//! | [`StructuredDataset<C>`](crate::dataset::StructuredDataset) | structured dataset | `Annotated[StructuredDataset, kwtypes(...)]`, `pd.DataFrame` |
//!
//! Conversions are `async` because some types move data: a [`FlyteFile`](crate::FlyteFile) uploads
//! its local file when it becomes a literal and downloads it when read. Plain values never await.

use std::borrow::Cow;
use std::future::Future;
use std::path::PathBuf;

use flytekit_idl::core::{Literal, LiteralMap, LiteralType};

use crate::storage::Storage;

mod containers;
#[doc(hidden)]
pub mod dataclass;
#[doc(hidden)]
pub mod enums;
mod flyte_error;
mod json;
pub mod literals;
mod render;
mod scalars;
pub mod serde_duration;
mod structured;

pub use flyte_error::FlyteError;
pub use json::{literal_from_json, literal_from_text, literal_to_json};
pub use render::{describe_literal, describe_type, type_tag_of};
pub use scalars::{
    duration_from_proto, duration_to_proto, timestamp_from_proto, timestamp_to_proto,
};

/// A JSON value, as used for JSON schemas and [`literal_to_json`]. Re-exported so generated code
/// does not need its own `serde_json` dependency.
pub use serde_json::Value as JsonValue;
pub use structured::dataset_casts_from;

/// A Rust type that maps to a Flyte type.
///
/// Implemented for the primitives, `String`, `bool`, `chrono::DateTime<Utc>`,
/// `std::time::Duration`, `Vec<T>`, `HashMap<String, T>`/`BTreeMap<String, T>`, `Option<T>`, and the
/// blob types; derive it with `#[derive(FlyteType)]` for serde structs and unit-only enums.
///
/// Implement it by hand to teach flytekit a new type (the analog of flytekit's `TypeTransformer`).
pub trait FlyteType: Sized + Send + Sync + 'static {
    /// The Flyte type of every value of this Rust type.
    fn literal_type() -> LiteralType;

    /// Converts the value to a literal. Blob types upload their data through `cx`.
    fn to_literal(
        &self,
        cx: &ConversionContext,
    ) -> impl Future<Output = Result<Literal, TypeError>> + Send;

    /// The literal of the value when making it needs no I/O and no context (numbers, strings,
    /// booleans): `Some` of what [`FlyteType::to_literal`] would return. It lets a long `Vec<T>`
    /// convert on several threads. The default, `None`, means "use `to_literal`"; a type returns
    /// `None` for all of its values or for none.
    fn to_literal_now(&self) -> Option<Result<Literal, TypeError>> {
        None
    }

    /// Reads a value back from a literal. Blob types download their data through `cx`.
    fn from_literal(
        literal: &Literal,
        cx: &ConversionContext,
    ) -> impl Future<Output = Result<Self, TypeError>> + Send;

    /// The value of `literal` when reading it needs no I/O and no context (numbers, strings,
    /// booleans): `Some` of what [`FlyteType::from_literal`] would return. It lets a long `Vec<T>`
    /// read on several threads. The default, `None`, means "use `from_literal`"; a type returns
    /// `None` for every literal or for none.
    fn from_literal_now(literal: &Literal) -> Option<Result<Self, TypeError>> {
        let _ = literal;
        None
    }

    /// The name of the flytekit transformer for this type (`"int"`, `"Typed List"`, ...).
    ///
    /// flytekit tags each variant of a union type with it (`Optional[int]` is the union of
    /// `INTEGER` tagged `"int"` and `NONE` tagged `"none"`) and uses the tag to pick the variant when
    /// reading. The default derives it from [`FlyteType::literal_type`], which is right for every
    /// type built from the standard mappings.
    fn type_tag() -> Cow<'static, str> {
        Cow::Borrowed(type_tag_of(&Self::literal_type()))
    }

    /// The JSON schema of the type as mashumaro writes it for a dataclass field (flytekit puts the
    /// schema of a dataclass into its literal type's `metadata`). The default derives it from
    /// [`FlyteType::literal_type`].
    fn json_schema() -> JsonValue {
        dataclass::schema_of_literal_type(&Self::literal_type())
    }
}

/// Where conversions move data: the storage that holds blobs, the local directory that receives
/// downloads, and the prefix under which new blobs are uploaded (the raw output data prefix).
#[derive(Clone, Debug)]
pub struct ConversionContext {
    storage: Storage,
    local_dir: PathBuf,
    raw_output_prefix: String,
}

impl ConversionContext {
    /// A context over `storage`, downloading into `local_dir` and uploading under `raw_output_prefix`.
    pub fn new(
        storage: Storage,
        local_dir: impl Into<PathBuf>,
        raw_output_prefix: impl Into<String>,
    ) -> Self {
        Self {
            storage,
            local_dir: local_dir.into(),
            raw_output_prefix: raw_output_prefix.into(),
        }
    }

    /// A context for values that move no data (and for tests): downloads go to the system temporary
    /// directory and uploads to the in-process `memory://flytekit-rs/raw` store.
    pub fn in_memory() -> Self {
        Self::new(
            Storage::new(),
            std::env::temp_dir(),
            "memory://flytekit-rs/raw",
        )
    }

    /// The storage that blobs are read from and written to.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The local directory where downloaded blobs are placed.
    pub fn local_dir(&self) -> &std::path::Path {
        &self.local_dir
    }

    /// The prefix (a local path or URI) under which new blobs are uploaded.
    pub fn raw_output_prefix(&self) -> &str {
        &self.raw_output_prefix
    }
}

/// Why a value could not be converted to or from a literal.
#[derive(Debug, thiserror::Error)]
pub enum TypeError {
    /// The literal does not have the shape the Rust type expects.
    #[error(
        "type mismatch: expected {expected}, received {received}; check that the producer's output type matches this input's type"
    )]
    Mismatch {
        /// The Flyte type the Rust type expects, rendered for humans.
        expected: String,
        /// What the literal actually holds, rendered for humans.
        received: String,
    },
    /// A number does not fit the Rust type (checked narrowing on read).
    #[error("value {value} does not fit in {target}; use a wider type such as i64")]
    Overflow {
        /// The value that was read.
        value: String,
        /// The Rust type it had to fit.
        target: &'static str,
    },
    /// A required input or output variable is absent from the literal map.
    #[error("missing variable '{name}'")]
    MissingVariable {
        /// The variable's name.
        name: String,
    },
    /// Conversion of a named variable failed; wraps the cause with the variable's name.
    #[error("variable '{name}': {source}")]
    Variable {
        /// The variable's name.
        name: String,
        /// What went wrong.
        #[source]
        source: Box<TypeError>,
    },
    /// Conversion of an element of a collection or map failed; wraps the cause with its position.
    #[error("at {location}: {source}")]
    At {
        /// Where in the value: `[3]` for a list index, `["key"]` for a map key.
        location: String,
        /// What went wrong.
        #[source]
        source: Box<TypeError>,
    },
    /// The literal has the right kind but an unusable value (a malformed timestamp, a negative
    /// duration, an enum value outside the declared set, ...).
    #[error("invalid {expected} value: {reason}")]
    InvalidValue {
        /// The Flyte type being read, rendered for humans.
        expected: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// Serializing or deserializing a struct value failed.
    #[error("{0}")]
    Serde(String),
    /// Moving blob data failed.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// A structured dataset could not be found, read or written: a
    /// `flytekit::dataset::DatasetError` (downcast the source to inspect it).
    #[error(transparent)]
    Dataset(Box<dyn std::error::Error + Send + Sync>),
    /// Anything else, with a message that says what to do.
    #[error("{0}")]
    Other(String),
}

impl TypeError {
    /// The storage error this error comes from, if moving blob data failed.
    pub fn storage_error(&self) -> Option<&crate::storage::StorageError> {
        match self {
            TypeError::Storage(e) => Some(e),
            TypeError::Variable { source, .. } | TypeError::At { source, .. } => {
                source.storage_error()
            }
            _ => None,
        }
    }
}

impl TypeError {
    /// Prefixes the error with the variable it concerns.
    pub fn for_variable(self, name: impl Into<String>) -> Self {
        TypeError::Variable {
            name: name.into(),
            source: Box::new(self),
        }
    }

    /// Prefixes the error with the position (`[3]`, `["key"]`) inside a collection or map.
    pub fn at(self, location: impl Into<String>) -> Self {
        TypeError::At {
            location: location.into(),
            source: Box::new(self),
        }
    }

    /// A [`TypeError::Mismatch`] between the `expected` type and the `received` literal.
    pub fn mismatch(expected: &LiteralType, received: &Literal) -> Self {
        TypeError::Mismatch {
            expected: describe_type(expected),
            received: describe_literal(received),
        }
    }

    /// A [`TypeError::InvalidValue`] for a value of type `expected`.
    pub fn invalid(expected: &LiteralType, reason: impl Into<String>) -> Self {
        TypeError::InvalidValue {
            expected: describe_type(expected),
            reason: reason.into(),
        }
    }
}

tokio::task_local! {
    /// The input variable [`read_input`] is converting, for values that report errors later
    /// (a dataset read while the task runs names its input).
    static CURRENT_INPUT: String;
}

/// The name of the input variable being read by [`read_input`], if any.
pub(crate) fn current_input() -> Option<String> {
    CURRENT_INPUT.try_with(|name| name.clone()).ok()
}

/// Reads input variable `name` of type `T` from `inputs`; errors name the variable.
pub async fn read_input<T: FlyteType>(
    inputs: &LiteralMap,
    name: &str,
    cx: &ConversionContext,
) -> Result<T, TypeError> {
    let literal = inputs
        .literals
        .get(name)
        .ok_or_else(|| TypeError::MissingVariable {
            name: name.to_string(),
        })?;
    CURRENT_INPUT
        .scope(name.to_string(), T::from_literal(literal, cx))
        .await
        .map_err(|e| e.for_variable(name))
}

/// Converts `value` and stores it as variable `name` in `outputs`; errors name the variable.
pub async fn write_output<T: FlyteType>(
    outputs: &mut LiteralMap,
    name: &str,
    value: &T,
    cx: &ConversionContext,
) -> Result<(), TypeError> {
    let literal = value
        .to_literal(cx)
        .await
        .map_err(|e| e.for_variable(name))?;
    outputs.literals.insert(name.to_string(), literal);
    Ok(())
}

/// Converts `value` to a literal map holding one variable, `name` (handy for single-output tasks
/// and tests).
pub async fn to_literal_map<T: FlyteType>(
    name: &str,
    value: &T,
    cx: &ConversionContext,
) -> Result<LiteralMap, TypeError> {
    let mut map = LiteralMap::default();
    write_output(&mut map, name, value, cx).await?;
    Ok(map)
}

/// Whether a value of type `got` can be bound to a variable of type `expected`: the same kind of
/// type (metadata such as JSON schemas is not compared), one of the variants of a union, or a
/// structured dataset that has the expected columns (Propeller's rule).
pub(crate) fn compatible(expected: &LiteralType, got: &LiteralType) -> bool {
    use flytekit_idl::core::literal_type::Type;
    match (&expected.r#type, &got.r#type) {
        (Some(Type::CollectionType(a)), Some(Type::CollectionType(b))) => compatible(a, b),
        (Some(Type::MapValueType(a)), Some(Type::MapValueType(b))) => compatible(a, b),
        (Some(Type::UnionType(a)), Some(Type::UnionType(b))) => {
            a.variants.len() == b.variants.len()
                && a.variants
                    .iter()
                    .zip(&b.variants)
                    .all(|(x, y)| compatible(x, y))
        }
        (Some(Type::UnionType(a)), _) => a.variants.iter().any(|v| compatible(v, got)),
        (Some(Type::Simple(a)), Some(Type::Simple(b))) => a == b,
        (Some(Type::Blob(a)), Some(Type::Blob(b))) => a.dimensionality == b.dimensionality,
        (Some(Type::EnumType(a)), Some(Type::EnumType(b))) => a.values == b.values,
        (Some(Type::StructuredDatasetType(a)), Some(Type::StructuredDatasetType(b))) => {
            dataset_casts_from(b, a).is_ok()
        }
        (a, b) => a == b,
    }
}
