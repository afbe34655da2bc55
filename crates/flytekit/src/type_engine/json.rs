//! JSON <-> literal conversion without a Rust type: for command-line inputs (`run WF --x 3`) and
//! for printing workflow outputs.

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use flytekit_idl::core::{
    Binary, Blob, BlobMetadata, Literal, LiteralCollection, LiteralMap, LiteralType, SimpleType,
    StructuredDataset, StructuredDatasetMetadata, StructuredDatasetType, Union, literal,
    literal_type, primitive, scalar,
};
use serde_json::{Map, Value, json};

use super::dataclass::{MSGPACK_TAG, decode_msgpack, struct_to_json};
use super::literals::{none_literal, primitive_literal, scalar_literal, with_tag};
use super::scalars::timestamp_to_proto;
use super::{JsonValue, TypeError, type_tag_of};

/// Builds the literal of type `t` that the JSON `value` denotes.
///
/// Integers, floats, booleans and strings are read from JSON of that kind or from a string that
/// parses as one (so `--x 3` and `--x "3"` both work); datetimes from RFC 3339 strings (a naive
/// datetime or a date is taken as UTC); durations from a number of seconds or a string such as
/// `"90"`, `"1.5s"`, `"2m"`, `"1h"`; structs from an object (written as msgpack, as flytekit does);
/// enums from one of their values; files, directories and structured datasets from a URI or path;
/// optionals from `null` or a value of the inner type.
pub fn literal_from_json(t: &LiteralType, value: &JsonValue) -> Result<Literal, TypeError> {
    from_json(t, value, 0)
}

const MAX_DEPTH: usize = 128;

fn from_json(t: &LiteralType, value: &Value, depth: usize) -> Result<Literal, TypeError> {
    let invalid = |reason: String| TypeError::invalid(t, reason);
    if depth > MAX_DEPTH {
        return Err(invalid("value nested too deeply".to_string()));
    }
    let wrong = || {
        invalid(format!(
            "cannot read {} from JSON {}",
            super::describe_type(t),
            preview(value)
        ))
    };
    match &t.r#type {
        None => Err(invalid("the literal type is empty".to_string())),
        Some(literal_type::Type::Simple(s)) => {
            let simple = SimpleType::try_from(*s)
                .map_err(|_| invalid(format!("unknown simple type {s}")))?;
            let p = |v| Ok(primitive_literal(v));
            match (simple, value) {
                (SimpleType::None, Value::Null) => Ok(none_literal()),
                (SimpleType::Integer, Value::Number(n)) => match n.as_i64() {
                    Some(i) => p(primitive::Value::Integer(i)),
                    None => Err(invalid(format!("{n} is not a 64-bit integer"))),
                },
                (SimpleType::Integer, Value::String(s)) => match s.trim().parse::<i64>() {
                    Ok(i) => p(primitive::Value::Integer(i)),
                    Err(_) => Err(invalid(format!("\"{s}\" is not an integer"))),
                },
                (SimpleType::Float, Value::Number(n)) => {
                    p(primitive::Value::FloatValue(n.as_f64().unwrap_or(f64::NAN)))
                }
                (SimpleType::Float, Value::String(s)) => match s.trim().parse::<f64>() {
                    Ok(f) => p(primitive::Value::FloatValue(f)),
                    Err(_) => Err(invalid(format!("\"{s}\" is not a number"))),
                },
                (SimpleType::String, Value::String(s)) => {
                    p(primitive::Value::StringValue(s.clone()))
                }
                (SimpleType::String, Value::Number(n)) => {
                    p(primitive::Value::StringValue(n.to_string()))
                }
                (SimpleType::String, Value::Bool(b)) => {
                    p(primitive::Value::StringValue(b.to_string()))
                }
                (SimpleType::Boolean, Value::Bool(b)) => p(primitive::Value::Boolean(*b)),
                (SimpleType::Boolean, Value::String(s)) => {
                    match s.trim().to_ascii_lowercase().as_str() {
                        "true" | "1" | "yes" => p(primitive::Value::Boolean(true)),
                        "false" | "0" | "no" => p(primitive::Value::Boolean(false)),
                        _ => Err(invalid(format!(
                            "\"{s}\" is not a boolean (use true or false)"
                        ))),
                    }
                }
                (SimpleType::Datetime, Value::String(s)) => p(primitive::Value::Datetime(
                    timestamp_to_proto(&parse_datetime(s).map_err(invalid)?),
                )),
                (SimpleType::Duration, Value::Number(n)) => p(primitive::Value::Duration(
                    parse_seconds(&n.to_string()).map_err(invalid)?,
                )),
                (SimpleType::Duration, Value::String(s)) => p(primitive::Value::Duration(
                    parse_duration(s).map_err(invalid)?,
                )),
                (SimpleType::Struct, Value::Object(_)) => {
                    let mut value = value.clone();
                    coerce_fields(t, &mut value, depth).map_err(invalid)?;
                    check_fields(t, &value, depth).map_err(invalid)?;
                    let bytes =
                        rmp_serde::to_vec_named(&value).map_err(|e| invalid(e.to_string()))?;
                    Ok(scalar_literal(scalar::Value::Binary(Box::new(Binary {
                        value: bytes,
                        tag: MSGPACK_TAG.to_string(),
                    }))))
                }
                (SimpleType::Binary, Value::String(s)) => {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(s)
                        .map_err(|e| invalid(format!("expected base64: {e}")))?;
                    Ok(scalar_literal(scalar::Value::Binary(Box::new(Binary {
                        value: bytes,
                        tag: String::new(),
                    }))))
                }
                _ => Err(wrong()),
            }
        }
        Some(literal_type::Type::CollectionType(inner)) => match value {
            Value::Array(items) => {
                let literals = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        from_json(inner, v, depth + 1).map_err(|e| e.at(format!("[{i}]")))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Literal {
                    value: Some(literal::Value::Collection(LiteralCollection { literals })),
                    ..Default::default()
                })
            }
            _ => Err(wrong()),
        },
        Some(literal_type::Type::MapValueType(inner)) => match value {
            Value::Object(entries) => {
                let literals = entries
                    .iter()
                    .map(|(k, v)| {
                        Ok((
                            k.clone(),
                            from_json(inner, v, depth + 1).map_err(|e| e.at(format!("[{k:?}]")))?,
                        ))
                    })
                    .collect::<Result<_, TypeError>>()?;
                Ok(Literal {
                    value: Some(literal::Value::Map(Box::new(LiteralMap { literals }))),
                    ..Default::default()
                })
            }
            _ => Err(wrong()),
        },
        Some(literal_type::Type::EnumType(e)) => match value {
            Value::String(s) if e.values.contains(s) => {
                Ok(primitive_literal(primitive::Value::StringValue(s.clone())))
            }
            Value::String(s) => Err(invalid(format!(
                "\"{s}\" is not one of [{}]",
                e.values.join(", ")
            ))),
            _ => Err(wrong()),
        },
        Some(literal_type::Type::Blob(b)) => match value {
            Value::String(uri) => Ok(scalar_literal(scalar::Value::Blob(Box::new(Blob {
                metadata: Some(BlobMetadata {
                    r#type: Some(b.clone()),
                }),
                uri: uri.clone(),
            })))),
            _ => Err(wrong()),
        },
        Some(literal_type::Type::UnionType(u)) => {
            // The first variant that accepts the value wins; `null` goes to the NONE variant.
            let mut errors = Vec::new();
            for variant in &u.variants {
                match from_json(variant, value, depth + 1) {
                    Ok(lit) => {
                        let tag = match variant.structure.as_ref() {
                            Some(s) if !s.tag.is_empty() => s.tag.clone(),
                            _ => type_tag_of(variant).to_string(),
                        };
                        return Ok(scalar_literal(scalar::Value::Union(Box::new(Union {
                            value: Some(Box::new(lit)),
                            r#type: Some(with_tag(variant.clone(), &tag)),
                        }))));
                    }
                    Err(e) => errors.push(e.to_string()),
                }
            }
            Err(invalid(format!(
                "no variant accepts {}: {}",
                preview(value),
                errors.join("; ")
            )))
        }
        Some(literal_type::Type::StructuredDatasetType(sd)) => match value {
            // A Parquet file or directory of parts (a local path or a URI).
            Value::String(uri) => dataset_literal(sd, uri).map_err(invalid),
            _ => Err(wrong()),
        },
        Some(literal_type::Type::Schema(_)) => Err(invalid(
            "schemas cannot be given as JSON yet; pass them from a task".to_string(),
        )),
    }
}

/// Checks the JSON object `value` of struct type `t` against the field types recorded in its
/// `structure.dataclass_type` (what the task will decode it as): every required field (in the
/// schema's `required` list, and not optional) is present, and every known field converts to its
/// type. Unknown fields are left alone, as mashumaro and serde ignore them. Errors name the field.
fn check_fields(t: &LiteralType, value: &Value, depth: usize) -> Result<(), String> {
    let (Some(structure), Value::Object(fields)) = (&t.structure, value) else {
        return Ok(());
    };
    let required: Vec<String> = t
        .metadata
        .as_ref()
        .map(struct_to_json)
        .and_then(|schema| schema.get("required").cloned())
        .and_then(|r| serde_json::from_value(r).ok())
        .unwrap_or_default();
    let none = SimpleType::None as i32;
    let optional = |ft: &LiteralType| match &ft.r#type {
        Some(literal_type::Type::UnionType(u)) => u
            .variants
            .iter()
            .any(|v| matches!(v.r#type, Some(literal_type::Type::Simple(s)) if s == none)),
        _ => false,
    };
    let mut names: Vec<&String> = structure.dataclass_type.keys().collect();
    names.sort();
    for name in names {
        let field_type = &structure.dataclass_type[name];
        match fields.get(name) {
            Some(field) => {
                check_value(field_type, field, depth + 1)
                    .map_err(|reason| format!("field '{name}': {reason}"))?;
            }
            None if required.iter().any(|r| r == name) && !optional(field_type) => {
                return Err(format!(
                    "missing field '{name}' ({})",
                    super::describe_type(field_type)
                ));
            }
            None => {}
        }
    }
    Ok(())
}

/// Checks that the JSON `value` of a struct field (after [`coerce_fields`]) decodes as type `t`
/// from msgpack: the JSON kind must be the one the field reads (no numbers in strings, which the
/// command line accepts for top-level inputs but a struct's decoder does not).
fn check_value(t: &LiteralType, value: &Value, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("value nested too deeply".to_string());
    }
    let expected = || {
        format!(
            "expected {}, got {}",
            super::describe_type(t),
            preview(value)
        )
    };
    let ok = |good: bool| if good { Ok(()) } else { Err(expected()) };
    match &t.r#type {
        Some(literal_type::Type::Simple(s)) => match SimpleType::try_from(*s) {
            Ok(SimpleType::Integer) => ok(value.is_i64() || value.is_u64()),
            Ok(SimpleType::Float) => ok(value.is_number()),
            Ok(SimpleType::Boolean) => ok(value.is_boolean()),
            Ok(SimpleType::String) => ok(value.is_string()),
            Ok(SimpleType::None) => ok(value.is_null()),
            Ok(SimpleType::Datetime) => match value {
                Value::String(text) => parse_datetime(text).map(|_| ()),
                _ => Err(expected()),
            },
            Ok(SimpleType::Duration) => ok(value.is_number()),
            Ok(SimpleType::Struct) if t.structure.is_some() => match value {
                Value::Object(_) => check_fields(t, value, depth),
                _ => Err(expected()),
            },
            _ => Ok(()),
        },
        Some(literal_type::Type::CollectionType(inner)) => match value {
            Value::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| {
                check_value(inner, v, depth + 1).map_err(|e| format!("[{i}]: {e}"))
            }),
            _ => Err(expected()),
        },
        Some(literal_type::Type::MapValueType(inner)) => match value {
            Value::Object(entries) => entries.iter().try_for_each(|(k, v)| {
                check_value(inner, v, depth + 1).map_err(|e| format!("[{k:?}]: {e}"))
            }),
            _ => Err(expected()),
        },
        Some(literal_type::Type::UnionType(u)) => ok(u
            .variants
            .iter()
            .any(|variant| check_value(variant, value, depth + 1).is_ok())),
        Some(literal_type::Type::EnumType(e)) => ok(value
            .as_str()
            .is_some_and(|v| e.values.iter().any(|x| x == v))),
        _ => Ok(()),
    }
}

/// The literal of type `t` (a structured dataset type) for a dataset at `uri`, as `run` makes it
/// from a command-line value: a local path (made absolute; it must exist) or a remote URI, with
/// the declared columns and format.
fn dataset_literal(t: &StructuredDatasetType, uri: &str) -> Result<Literal, String> {
    let uri = uri.trim();
    if uri.is_empty() {
        return Err("give a Parquet file or a directory of Parquet files".into());
    }
    let uri = if crate::storage::is_local(uri) {
        let path = crate::storage::local_path(uri).map_err(|e| e.to_string())?;
        if !path.exists() {
            return Err(format!(
                "{} does not exist; give a Parquet file or a directory of Parquet files",
                path.display()
            ));
        }
        path.display().to_string()
    } else {
        uri.to_string()
    };
    Ok(scalar_literal(scalar::Value::StructuredDataset(Box::new(
        StructuredDataset {
            uri,
            metadata: Some(StructuredDatasetMetadata {
                structured_dataset_type: Some(t.clone()),
            }),
        },
    ))))
}

/// Adjusts the JSON of a struct value to what mashumaro reads for the field types recorded in the
/// struct type's `structure.dataclass_type`: integers become floats in `FLOAT` fields, duration
/// strings (`"90s"`) become seconds in `DURATION` fields; nested structs, lists, maps and optionals
/// are followed.
fn coerce_fields(t: &LiteralType, value: &mut Value, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("value nested too deeply".to_string());
    }
    match (&t.r#type, value) {
        (Some(literal_type::Type::Simple(s)), v) if *s == SimpleType::Float as i32 => {
            if let Some(f) = v.as_i64().map(|i| i as f64) {
                *v = json!(f);
            }
        }
        (Some(literal_type::Type::Simple(s)), v) if *s == SimpleType::Duration as i32 => {
            if let Value::String(text) = v {
                let d = parse_duration(text)?;
                *v = json!(d.seconds as f64 + f64::from(d.nanos) / 1e9);
            } else if let Some(f) = v.as_i64().map(|i| i as f64) {
                *v = json!(f);
            }
        }
        (Some(literal_type::Type::Simple(s)), Value::Object(fields))
            if *s == SimpleType::Struct as i32 =>
        {
            if let Some(structure) = &t.structure {
                for (name, field) in fields.iter_mut() {
                    if let Some(field_type) = structure.dataclass_type.get(name) {
                        coerce_fields(field_type, field, depth + 1)?;
                    }
                }
            }
        }
        (Some(literal_type::Type::CollectionType(inner)), Value::Array(items)) => {
            for item in items {
                coerce_fields(inner, item, depth + 1)?;
            }
        }
        (Some(literal_type::Type::MapValueType(inner)), Value::Object(entries)) => {
            for item in entries.values_mut() {
                coerce_fields(inner, item, depth + 1)?;
            }
        }
        (Some(literal_type::Type::UnionType(u)), v) if !v.is_null() => {
            // Optional[T]: coerce as the first variant that is not NONE.
            let none = SimpleType::None as i32;
            if let Some(variant) = u
                .variants
                .iter()
                .find(|v| !matches!(v.r#type, Some(literal_type::Type::Simple(s)) if s == none))
            {
                coerce_fields(variant, v, depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn preview(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

fn parse_datetime(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(format!(
        "\"{s}\" is not a datetime; use RFC 3339, e.g. 2024-01-31T12:00:00Z"
    ))
}

fn seconds_to_duration(secs: f64) -> Result<prost_types::Duration, String> {
    if !secs.is_finite() || secs.abs() > 315_576_000_000.0 {
        return Err(format!("{secs} seconds is not a valid duration"));
    }
    let whole = secs.trunc();
    let nanos = ((secs - whole) * 1e9).round();
    // Both are in range after the check above; the signs agree as protobuf requires.
    Ok(prost_types::Duration {
        seconds: whole as i64,
        nanos: nanos as i32,
    })
}

/// Parses a decimal number of seconds exactly (to the nanosecond) when written without an
/// exponent, through `f64` otherwise.
fn parse_seconds(text: &str) -> Result<prost_types::Duration, String> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !plain(whole) || !plain(fraction) || whole.len() > 12 {
        let value: f64 = t
            .parse()
            .map_err(|_| format!("\"{text}\" is not a number of seconds"))?;
        return seconds_to_duration(value);
    }
    let seconds: i64 = whole
        .parse()
        .map_err(|_| format!("\"{text}\" is not a number of seconds"))?;
    let mut nanos: i64 = 0;
    for (i, b) in fraction.bytes().take(9).enumerate() {
        nanos += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    if seconds > 315_576_000_000 {
        return Err(format!("{text} seconds is not a valid duration"));
    }
    let sign = if negative { -1 } else { 1 };
    // |nanos| < 1e9 fits in i32.
    Ok(prost_types::Duration {
        seconds: sign * seconds,
        nanos: (sign * nanos) as i32,
    })
}

fn parse_duration(s: &str) -> Result<prost_types::Duration, String> {
    let t = s.trim();
    let (number, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let factor = match unit {
        "ns" => 1e-9,
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => {
            return Err(format!(
                "\"{s}\" is not a duration; use seconds or a number with a unit (ms, s, m, h, d)"
            ));
        }
    };
    if factor == 1.0 {
        return parse_seconds(number);
    }
    let value: f64 = number.trim().parse().map_err(|_| {
        format!("\"{s}\" is not a duration; use seconds or a number with a unit (ms, s, m, h, d)")
    })?;
    seconds_to_duration(value * factor)
}

/// A duration in protobuf's JSON form: decimal seconds with an `s` suffix (`"90.5s"`, `"-1.5s"`),
/// exact to the nanosecond.
fn duration_string(d: &prost_types::Duration) -> String {
    let negative = d.seconds < 0 || d.nanos < 0;
    let seconds = d.seconds.unsigned_abs();
    let nanos = d.nanos.unsigned_abs();
    let sign = if negative { "-" } else { "" };
    if nanos == 0 {
        format!("{sign}{seconds}s")
    } else {
        let fraction = format!("{nanos:09}");
        format!("{sign}{seconds}.{}s", fraction.trim_end_matches('0'))
    }
}

/// Renders a literal as JSON for humans and scripts.
///
/// Primitives become JSON scalars (datetimes as RFC 3339 strings, durations as protobuf's
/// JSON form, `"90.5s"`), `None` and
/// empty literals `null`, collections arrays, maps objects, unions their value, enums their string,
/// blobs their URI, msgpack structs the decoded object, legacy JSON structs the object, other
/// binaries `{"binary": <base64>, "tag": ...}`, errors `{"error": ..., "node": ...}`, offloaded
/// literals `{"offloaded": <uri>}`.
pub fn literal_to_json(literal: &Literal) -> JsonValue {
    to_json(literal, 0)
}

fn to_json(literal: &Literal, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    match &literal.value {
        None => Value::Null,
        Some(literal::Value::Collection(c)) => {
            Value::Array(c.literals.iter().map(|l| to_json(l, depth + 1)).collect())
        }
        Some(literal::Value::Map(m)) => {
            let mut keys: Vec<&String> = m.literals.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), to_json(&m.literals[k], depth + 1)))
                    .collect::<Map<_, _>>(),
            )
        }
        Some(literal::Value::OffloadedMetadata(o)) => json!({"offloaded": o.uri}),
        Some(literal::Value::Scalar(s)) => match &s.value {
            None => Value::Null,
            Some(scalar::Value::Primitive(p)) => match &p.value {
                None => Value::Null,
                Some(primitive::Value::Integer(i)) => json!(i),
                Some(primitive::Value::FloatValue(f)) => json!(f),
                Some(primitive::Value::StringValue(s)) => json!(s),
                Some(primitive::Value::Boolean(b)) => json!(b),
                Some(primitive::Value::Datetime(t)) => match super::timestamp_from_proto(t) {
                    Ok(t) => json!(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                    Err(_) => json!({"seconds": t.seconds, "nanos": t.nanos}),
                },
                Some(primitive::Value::Duration(d)) => json!(duration_string(d)),
            },
            Some(scalar::Value::Blob(b)) => json!(b.uri),
            Some(scalar::Value::Binary(b)) if b.tag == MSGPACK_TAG => {
                match decode_msgpack::<Value>(&b.value) {
                    Ok(v) => v,
                    Err(_) => binary_json(b),
                }
            }
            Some(scalar::Value::Binary(b)) => binary_json(b),
            Some(scalar::Value::Schema(s)) => json!(s.uri),
            Some(scalar::Value::NoneType(_)) => Value::Null,
            Some(scalar::Value::Error(e)) => json!({"error": e.message, "node": e.failed_node_id}),
            Some(scalar::Value::Generic(s)) => struct_to_json(s),
            Some(scalar::Value::StructuredDataset(sd)) => json!(sd.uri),
            Some(scalar::Value::Union(u)) => u
                .value
                .as_deref()
                .map(|v| to_json(v, depth + 1))
                .unwrap_or(Value::Null),
        },
    }
}

fn binary_json(b: &Binary) -> Value {
    json!({"binary": base64::engine::general_purpose::STANDARD.encode(&b.value), "tag": b.tag})
}

/// Types whose command-line value is plain text (a JSON string).
pub(crate) fn is_textual(ty: &LiteralType) -> bool {
    match &ty.r#type {
        Some(literal_type::Type::Simple(s)) => [
            SimpleType::String as i32,
            SimpleType::Datetime as i32,
            SimpleType::Duration as i32,
        ]
        .contains(s),
        Some(literal_type::Type::EnumType(_))
        | Some(literal_type::Type::Blob(_))
        | Some(literal_type::Type::StructuredDatasetType(_)) => true,
        _ => false,
    }
}

/// Converts a value given as text (a command-line value, a gate's answer) to a literal of type
/// `ty`: plain text for strings, enums, files, dates and durations; JSON for numbers, booleans,
/// structs, lists, maps and optional values.
pub fn literal_from_text(ty: &LiteralType, raw: &str) -> Result<Literal, String> {
    let json = if is_textual(ty) {
        serde_json::Value::String(raw.to_string())
    } else {
        match serde_json::from_str::<serde_json::Value>(raw) {
            Ok(v) => v,
            // Unquoted text for a union or struct field: let the type decide.
            Err(e) => match &ty.r#type {
                Some(literal_type::Type::UnionType(_)) => {
                    serde_json::Value::String(raw.to_string())
                }
                Some(literal_type::Type::Simple(s)) if *s == SimpleType::Integer as i32 => {
                    return Err("not an integer".to_string());
                }
                Some(literal_type::Type::Simple(s)) if *s == SimpleType::Float as i32 => {
                    // JSON has no nan/inf; Python's float() reads them (nan, inf, -inf, infinity).
                    return match raw.trim().parse::<f64>() {
                        Ok(f) => Ok(super::literals::primitive_literal(
                            flytekit_idl::core::primitive::Value::FloatValue(f),
                        )),
                        Err(_) => Err("not a number".to_string()),
                    };
                }
                Some(literal_type::Type::Simple(s)) if *s == SimpleType::Boolean as i32 => {
                    return Err("use true or false".to_string());
                }
                _ => return Err(format!("not valid JSON ({e})")),
            },
        }
    };
    literal_from_json(ty, &json).map_err(|e| e.to_string())
}
