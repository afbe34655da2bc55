//! How a [`StructuredDataset`] maps to Flyte literals, exactly as flytekit's
//! `StructuredDatasetTransformerEngine` maps it.
//!
//! - The literal type is `LiteralType.structured_dataset_type`: the declared columns with their
//!   Flyte types, the declared format (`""` unless declared) and external schema.
//! - A value becomes `Scalar.structured_dataset { uri, metadata.structured_dataset_type }` whose
//!   type is the declared one, with format `"parquet"` for data this SDK wrote (flytekit sets the
//!   encoder's format). A value read from an input and returned unchanged passes its literal on as
//!   it came (flytekit's pass-through case); a value made from a URI keeps the declared format, or
//!   its own when none is declared.
//! - Reading accepts `Scalar.structured_dataset`, a legacy `Scalar.schema` (FlyteSchema, read as
//!   Parquet) and the msgpack `{"uri", "file_format"}` form flytekit uses inside dataclasses; it
//!   finds the parts, reads the first part's footer and checks the declared columns there, so a
//!   missing dataset, a file that is not Parquet or a missing or mistyped column fails the input's
//!   conversion, naming the input, the column and the file.

use std::sync::Arc;

use flytekit_idl::core::{
    Literal, LiteralType, StructuredDataset as DatasetLiteral, StructuredDatasetMetadata,
    StructuredDatasetType, literal_type, scalar, schema_type::schema_column::SchemaColumnType,
    structured_dataset_type,
};
use serde::{Deserialize, Serialize};

use super::columns::{DatasetColumns, dataset_type};
use super::error::DatasetError;
use super::layout::resolve_parts;
use super::read::{Projection, check_part};
use super::value::{PARQUET, State, Stored, StructuredDataset};
use super::write::write_batches;
use crate::storage;
use crate::type_engine::dataclass::{MSGPACK_TAG, decode_msgpack};
use crate::type_engine::literals::{scalar_literal, scalar_of, simple_type, unwrap_union};
use crate::type_engine::{ConversionContext, FlyteType, TypeError, current_input};

/// The literal holding dataset `sd`.
pub(crate) fn dataset_literal(sd: DatasetLiteral) -> Literal {
    scalar_literal(scalar::Value::StructuredDataset(Box::new(sd)))
}

fn stored_literal(uri: String, sdt: StructuredDatasetType) -> Literal {
    dataset_literal(DatasetLiteral {
        uri,
        metadata: Some(StructuredDatasetMetadata {
            structured_dataset_type: Some(sdt),
        }),
    })
}

/// The dataset type of a literal, if it carries one.
fn literal_sdt(sd: &DatasetLiteral) -> Option<&StructuredDatasetType> {
    sd.metadata
        .as_ref()
        .and_then(|m| m.structured_dataset_type.as_ref())
}

/// How flytekit writes a dataset inside a dataclass (mashumaro): `{"uri": ..., "file_format": ...}`.
#[derive(Serialize, Deserialize)]
struct SerdeRepr {
    uri: Option<String>,
    #[serde(default)]
    file_format: Option<String>,
}

/// The dataset a literal holds: a structured dataset, a legacy schema, or flytekit's msgpack form.
fn parse_literal(literal: &Literal, expected: &LiteralType) -> Result<DatasetLiteral, TypeError> {
    match scalar_of(unwrap_union(literal)) {
        Some(scalar::Value::StructuredDataset(sd)) => Ok((**sd).clone()),
        Some(scalar::Value::Schema(schema)) => {
            let columns = schema
                .r#type
                .iter()
                .flat_map(|t| t.columns.iter())
                .map(|c| structured_dataset_type::DatasetColumn {
                    name: c.name.clone(),
                    literal_type: schema_column_type(c.r#type),
                })
                .collect();
            Ok(DatasetLiteral {
                uri: schema.uri.clone(),
                metadata: Some(StructuredDatasetMetadata {
                    structured_dataset_type: Some(StructuredDatasetType {
                        columns,
                        format: PARQUET.to_string(),
                        ..Default::default()
                    }),
                }),
            })
        }
        Some(scalar::Value::Binary(b)) if b.tag == MSGPACK_TAG => {
            let repr: SerdeRepr = decode_msgpack(&b.value).map_err(|e| {
                TypeError::invalid(
                    expected,
                    format!("not a structured dataset {{\"uri\", \"file_format\"}}: {e}"),
                )
            })?;
            Ok(DatasetLiteral {
                uri: repr.uri.unwrap_or_default(),
                metadata: Some(StructuredDatasetMetadata {
                    structured_dataset_type: Some(StructuredDatasetType {
                        format: repr.file_format.unwrap_or_default(),
                        ..Default::default()
                    }),
                }),
            })
        }
        _ => Err(TypeError::mismatch(expected, literal)),
    }
}

/// flytekit's `convert_schema_type_to_structured_dataset_type`.
fn schema_column_type(t: i32) -> Option<LiteralType> {
    use flytekit_idl::core::SimpleType;
    let simple = match SchemaColumnType::try_from(t).ok()? {
        SchemaColumnType::Integer => SimpleType::Integer,
        SchemaColumnType::Float => SimpleType::Float,
        SchemaColumnType::String => SimpleType::String,
        SchemaColumnType::Boolean => SimpleType::Boolean,
        SchemaColumnType::Datetime => SimpleType::Datetime,
        SchemaColumnType::Duration => SimpleType::Duration,
    };
    Some(simple_type(simple))
}

/// Whether flytekit-rs reads `format`: Parquet, or unspecified (flytekit then uses the decoder
/// registered as the default format, Parquet).
fn readable(format: &str) -> bool {
    format.is_empty() || format.eq_ignore_ascii_case(PARQUET)
}

/// Uploads a local file or directory under the raw output prefix (`<prefix>/<hex>/<name>` for a
/// file, `<prefix>/<hex>` for a directory) and returns its URI, as flytekit's `put_raw_data`.
async fn upload_local(uri: &str, cx: &ConversionContext) -> Result<String, DatasetError> {
    let path = storage::local_path(uri).map_err(|source| {
        DatasetError::Storage(storage::StorageError::Io {
            op: "resolve",
            path: uri.into(),
            source,
        })
    })?;
    let name = uuid::Uuid::new_v4().simple().to_string();
    if path.is_dir() {
        let dest = storage::join(cx.raw_output_prefix(), &name);
        cx.storage().upload_dir(&path, &dest).await?;
        Ok(dest)
    } else if path.is_file() {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| super::layout::part_name(0));
        let dest = storage::join(cx.raw_output_prefix(), &format!("{name}/{file}"));
        cx.storage().upload_file(&path, &dest).await?;
        Ok(dest)
    } else {
        Err(DatasetError::NotFound {
            uri: uri.to_string(),
        })
    }
}

impl<C: DatasetColumns> FlyteType for StructuredDataset<C> {
    fn literal_type() -> LiteralType {
        LiteralType {
            r#type: Some(literal_type::Type::StructuredDatasetType(
                dataset_type::<C>(),
            )),
            ..Default::default()
        }
    }

    async fn to_literal(&self, cx: &ConversionContext) -> Result<Literal, TypeError> {
        let mut sdt = dataset_type::<C>();
        match &self.state {
            State::Stored(stored) => Ok(dataset_literal(stored.literal.clone())),
            State::Uri { uri, format } => {
                let uri = if storage::is_local(uri) {
                    upload_local(uri, cx).await?
                } else {
                    uri.clone()
                };
                if sdt.format.is_empty() && !format.is_empty() {
                    sdt.format = format.clone();
                }
                Ok(stored_literal(uri, sdt))
            }
            State::Batches { schema, batches } => {
                let uri = write_batches(cx, schema, batches).await?;
                sdt.format = PARQUET.to_string();
                Ok(stored_literal(uri, sdt))
            }
            State::Written { target, .. } => {
                target.publish(cx.storage()).await?;
                sdt.format = PARQUET.to_string();
                Ok(stored_literal(target.uri.clone(), sdt))
            }
        }
    }

    async fn from_literal(literal: &Literal, cx: &ConversionContext) -> Result<Self, TypeError> {
        let sd = parse_literal(literal, &Self::literal_type())?;
        let format = literal_sdt(&sd).map(|t| t.format.as_str()).unwrap_or("");
        if !readable(format) {
            return Err(DatasetError::UnsupportedFormat {
                uri: sd.uri.clone(),
                format: format.to_string(),
            }
            .into());
        }
        let parts = resolve_parts(cx.storage(), &sd.uri).await?;
        let projection = Projection::of::<C>();
        // The footer of the first part: is it Parquet, with the declared columns?
        let file_schema = check_part(cx.storage(), &parts[0], &projection).await?;
        Ok(Self::from_state(State::Stored(Arc::new(Stored {
            literal: sd,
            storage: cx.storage().clone(),
            parts: parts.into(),
            file_schema,
            variable: current_input(),
            runtime: tokio::runtime::Handle::try_current().ok(),
        }))))
    }
}

/// Inside a `#[derive(FlyteType)]` struct a dataset is written as flytekit writes it in a
/// dataclass, `{"uri": ..., "file_format": ...}`. Only stored datasets (read from an input, or
/// made with [`StructuredDataset::from_uri`] from a remote URI) can be serialized; reading one gives
/// a dataset that is read from its URI.
impl<C: DatasetColumns> Serialize for StructuredDataset<C> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let uri = match &self.state {
            State::Stored(s) => s.literal.uri.clone(),
            State::Uri { uri, .. } if !storage::is_local(uri) => uri.clone(),
            _ => {
                return Err(serde::ser::Error::custom(
                    "a structured dataset inside a struct must already be stored remotely (an input, or from_uri of a remote URI)",
                ));
            }
        };
        SerdeRepr {
            uri: Some(uri),
            file_format: Some(self.format().to_string()),
        }
        .serialize(serializer)
    }
}

impl<'de, C: DatasetColumns> Deserialize<'de> for StructuredDataset<C> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = SerdeRepr::deserialize(deserializer)?;
        let uri = repr
            .uri
            .ok_or_else(|| serde::de::Error::custom("a structured dataset needs a uri"))?;
        Ok(Self::from_state(State::Uri {
            uri,
            format: repr.file_format.unwrap_or_default(),
        }))
    }
}
