//! Structs as flytekit dataclasses: the runtime half of `#[derive(FlyteType)]` on a serde struct.
//!
//! flytekit gives a dataclass the literal type `STRUCT` with
//! - `metadata`: the JSON schema mashumaro builds for the dataclass,
//! - `structure.dataclass_type`: the literal type of every field (used by FlytePropeller for
//!   attribute access),
//! - `annotation`: `{"cache-key-metadata": {"serialization-format": "msgpack"}}`,
//!
//! and writes values as `Binary { value: <msgpack map of field name to value>, tag: "msgpack" }`.
//! Older flytekit versions (and `FLYTE_USE_OLD_DC_FORMAT=true`) write a `generic` protobuf
//! `Struct` holding the JSON form instead; both are read.
//!
//! Field values go through serde, so their msgpack form is serde's: use
//! [`serde_duration`](super::serde_duration) on `std::time::Duration` fields so Python reads them as
//! `timedelta` (mashumaro writes seconds as a float).

use std::collections::BTreeMap;

use flytekit_idl::core::{
    Binary, Literal, LiteralType, SimpleType, TypeAnnotation, TypeStructure,
    blob_type::BlobDimensionality, literal_type, scalar,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::literals::{scalar_literal, scalar_of, simple_type, unwrap_union};
use super::{JsonValue, TypeError};

/// The `Binary.tag` of msgpack-encoded values.
pub const MSGPACK_TAG: &str = "msgpack";

/// One field of a derived struct, as the generated code describes it.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The field's serialized name (after serde renames): the dataclass attribute name.
    pub name: &'static str,
    /// The field type's literal type (`<T as FlyteType>::literal_type`).
    pub literal_type: fn() -> LiteralType,
    /// The field type's JSON schema (`<T as FlyteType>::json_schema`).
    pub json_schema: fn() -> JsonValue,
    /// For fields with a serde default: the default value as JSON. Such fields are optional in the
    /// schema, like dataclass fields with a default.
    pub default: Option<fn() -> JsonValue>,
}

/// The JSON form of `value` (used for field defaults in the schema); `null` if it cannot be
/// serialized.
pub fn to_json<T: Serialize>(value: &T) -> JsonValue {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The JSON form of `T::default()`.
pub fn default_json<T: Serialize + Default>() -> JsonValue {
    to_json(&T::default())
}

/// The JSON schema mashumaro writes for a dataclass named `title` with `fields`.
///
/// `{"type": "object", "title": ..., "properties": {...}, "additionalProperties": false,
/// "required": [...]}`; fields with a default are not required and carry `"default"` when the
/// default is a scalar (Python dataclasses can only have scalar defaults; list and dict defaults
/// come from a `default_factory`, which mashumaro does not put in the schema).
pub fn json_schema(title: &str, fields: &[Field]) -> JsonValue {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields {
        let mut schema = (field.json_schema)();
        match field.default {
            None => required.push(Value::String(field.name.to_string())),
            Some(default) => {
                let value = default();
                if !value.is_array()
                    && !value.is_object()
                    && let Value::Object(o) = &mut schema
                {
                    o.insert("default".to_string(), value);
                }
            }
        }
        properties.insert(field.name.to_string(), schema);
    }
    let mut schema = Map::new();
    schema.insert("type".to_string(), json!("object"));
    schema.insert("title".to_string(), json!(title));
    schema.insert("properties".to_string(), Value::Object(properties));
    schema.insert("additionalProperties".to_string(), Value::Bool(false));
    if !required.is_empty() {
        schema.insert("required".to_string(), Value::Array(required));
    }
    Value::Object(schema)
}

/// The literal type flytekit gives a dataclass with JSON schema `schema` and `fields`.
pub fn literal_type(schema: JsonValue, fields: &[Field]) -> LiteralType {
    let dataclass_type = fields
        .iter()
        .map(|f| (f.name.to_string(), (f.literal_type)()))
        .collect();
    let annotation = json!({"cache-key-metadata": {"serialization-format": MSGPACK_TAG}});
    LiteralType {
        metadata: json_to_struct(&schema),
        annotation: Some(TypeAnnotation {
            annotations: json_to_struct(&annotation),
        }),
        structure: Some(TypeStructure {
            tag: String::new(),
            dataclass_type,
        }),
        ..simple_type(SimpleType::Struct)
    }
}

/// Writes a struct value as flytekit does: msgpack (a map of field names) in a `Binary`.
pub fn to_literal<T: Serialize>(value: &T) -> Result<Literal, TypeError> {
    let bytes = rmp_serde::to_vec_named(value).map_err(|e| {
        TypeError::Serde(format!(
            "cannot encode {} as msgpack: {e}",
            std::any::type_name::<T>()
        ))
    })?;
    Ok(scalar_literal(scalar::Value::Binary(Box::new(Binary {
        value: bytes,
        tag: MSGPACK_TAG.to_string(),
    }))))
}

/// The deepest nesting accepted in msgpack data (arrays and maps inside each other); deeper data
/// is rejected instead of exhausting the stack.
pub const MAX_MSGPACK_DEPTH: usize = 128;

/// Decodes msgpack `bytes` into `T`, with nesting limited to [`MAX_MSGPACK_DEPTH`]. The bytes
/// must hold exactly one value: trailing bytes are an error, as for flytekit (msgpack's
/// `ExtraData`).
pub fn decode_msgpack<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, rmp_serde::decode::Error> {
    let mut rest = bytes;
    let mut deserializer = rmp_serde::Deserializer::new(&mut rest);
    deserializer.set_max_depth(MAX_MSGPACK_DEPTH);
    let value = T::deserialize(&mut deserializer)?;
    if !rest.is_empty() {
        return Err(rmp_serde::decode::Error::Uncategorized(format!(
            "extra data: {} byte(s) after the msgpack value",
            rest.len()
        )));
    }
    Ok(value)
}

/// Reads a struct value from msgpack `Binary` or from a legacy `generic` JSON `Struct`.
pub fn from_literal<T: DeserializeOwned>(
    literal: &Literal,
    expected: fn() -> LiteralType,
) -> Result<T, TypeError> {
    let name = std::any::type_name::<T>();
    match scalar_of(unwrap_union(literal)) {
        Some(scalar::Value::Binary(b)) if b.tag == MSGPACK_TAG => decode_msgpack(&b.value).map_err(|e| {
            TypeError::Serde(format!(
                "cannot decode msgpack into {name}: {e}; check that the producer's dataclass has the same fields and types"
            ))
        }),
        Some(scalar::Value::Binary(b)) => Err(TypeError::invalid(
            &expected(),
            format!("unsupported binary tag \"{}\" (only \"{MSGPACK_TAG}\" is supported)", b.tag),
        )),
        Some(scalar::Value::Generic(s)) => {
            let value = struct_to_json(s);
            serde_json::from_value(value).map_err(|e| {
                TypeError::Serde(format!(
                    "cannot decode JSON struct into {name}: {e}; check that the producer's dataclass has the same fields and types"
                ))
            })
        }
        _ => Err(TypeError::mismatch(&expected(), literal)),
    }
}

/// The JSON schema mashumaro writes for a field whose literal type is `t`.
pub fn schema_of_literal_type(t: &LiteralType) -> JsonValue {
    match &t.r#type {
        Some(literal_type::Type::Simple(s)) => match SimpleType::try_from(*s) {
            Ok(SimpleType::Integer) => json!({"type": "integer"}),
            Ok(SimpleType::Float) => json!({"type": "number"}),
            Ok(SimpleType::String) => json!({"type": "string"}),
            Ok(SimpleType::Boolean) => json!({"type": "boolean"}),
            Ok(SimpleType::Datetime) => json!({"type": "string", "format": "date-time"}),
            Ok(SimpleType::Duration) => json!({"type": "number", "format": "time-delta"}),
            Ok(SimpleType::None) => json!({"type": "null"}),
            Ok(SimpleType::Struct) => t
                .metadata
                .as_ref()
                .map(struct_to_json)
                .unwrap_or_else(|| json!({})),
            _ => json!({}),
        },
        Some(literal_type::Type::CollectionType(inner)) => {
            json!({"type": "array", "items": schema_of_literal_type(inner)})
        }
        Some(literal_type::Type::MapValueType(inner)) => json!({
            "type": "object",
            "additionalProperties": schema_of_literal_type(inner),
            "propertyNames": {"type": "string"},
        }),
        Some(literal_type::Type::UnionType(u)) => {
            json!({"anyOf": u.variants.iter().map(schema_of_literal_type).collect::<Vec<_>>()})
        }
        Some(literal_type::Type::EnumType(e)) => json!({"enum": e.values}),
        Some(literal_type::Type::Blob(b)) => {
            // mashumaro's schema of flytekit's FlyteFile / FlyteDirectory dataclasses.
            let path = json!({"default": null, "anyOf": [{"type": "string"}, {"type": "string", "format": "path"}]});
            if b.dimensionality == BlobDimensionality::Multipart as i32 {
                json!({"type": "object", "title": "FlyteDirectory", "additionalProperties": false,
                       "properties": {"path": path}})
            } else {
                let metadata = json!({"default": null, "anyOf": [
                    {"type": "object", "additionalProperties": {"type": "string"}, "propertyNames": {"type": "string"}},
                    {"type": "null"}]});
                json!({"type": "object", "title": "FlyteFile", "additionalProperties": false,
                       "properties": {"path": path, "metadata": metadata}})
            }
        }
        _ => json!({}),
    }
}

/// Converts a JSON object to a protobuf `Struct` (`None` for non-objects).
pub fn json_to_struct(value: &JsonValue) -> Option<prost_types::Struct> {
    match value {
        Value::Object(o) => Some(object_to_struct(o)),
        _ => None,
    }
}

fn object_to_struct(o: &Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: o
            .iter()
            .map(|(k, v)| (k.clone(), json_to_proto_value(v)))
            .collect(),
    }
}

/// Converts a JSON value to a protobuf `Value` (numbers become doubles, as in protobuf's JSON).
pub fn json_to_proto_value(value: &JsonValue) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(a) => Kind::ListValue(prost_types::ListValue {
            values: a.iter().map(json_to_proto_value).collect(),
        }),
        Value::Object(o) => Kind::StructValue(object_to_struct(o)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// Converts a protobuf `Struct` to a JSON object. Doubles with no fractional part become integers,
/// because protobuf `Struct` stores every number as a double (flytekit undoes this the same way
/// for `int` fields).
pub fn struct_to_json(s: &prost_types::Struct) -> JsonValue {
    Value::Object(
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), proto_value_to_json(v)))
            .collect(),
    )
}

/// Converts a protobuf `Value` to JSON (see [`struct_to_json`] for numbers).
pub fn proto_value_to_json(value: &prost_types::Value) -> JsonValue {
    use prost_types::value::Kind;
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::Bool(*b),
        Some(Kind::NumberValue(n)) => number_to_json(*n),
        Some(Kind::StringValue(s)) => Value::String(s.clone()),
        Some(Kind::ListValue(l)) => {
            Value::Array(l.values.iter().map(proto_value_to_json).collect())
        }
        Some(Kind::StructValue(s)) => struct_to_json(s),
    }
}

fn number_to_json(n: f64) -> JsonValue {
    // 2^53: beyond it doubles no longer hold every integer.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if n.fract() == 0.0 && n.abs() <= EXACT {
        json!(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// Sorted view used by tests and debugging: the dataclass field types of a struct literal type.
pub fn dataclass_fields(t: &LiteralType) -> BTreeMap<&str, &LiteralType> {
    t.structure
        .as_ref()
        .map(|s| {
            s.dataclass_type
                .iter()
                .map(|(k, v)| (k.as_str(), v))
                .collect()
        })
        .unwrap_or_default()
}
