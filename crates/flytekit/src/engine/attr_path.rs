//! Attribute paths of promises resolved at run time (`est.pi`, `xs[0]`, `m["k"]`), exactly as
//! Propeller 1.16 resolves them (`attr_path_resolver.go`), so a local run, a sandbox run and a
//! cluster run hand the next node the same literal:
//!
//! - map and collection literals are walked by key and index;
//! - the rest of the path goes into a struct: a msgpack `Binary` (a dataclass or a derived
//!   struct) is decoded, walked, and the part re-encoded — a list becomes a collection of
//!   msgpack binaries, a string, number or boolean a primitive, anything else a msgpack binary;
//!   a protobuf `Struct` (flytekit's older dataclass form) becomes a struct, a collection or a
//!   primitive.

use flytekit_idl::core::{
    Binary, Literal, LiteralCollection, Primitive, PromiseAttribute, Scalar, literal, primitive,
    promise_attribute, scalar,
};
use rmpv::Value;

const MSGPACK: &str = "msgpack";

fn step(a: &PromiseAttribute) -> String {
    match &a.value {
        Some(promise_attribute::Value::StringValue(s)) => format!("\"{s}\""),
        Some(promise_attribute::Value::IntValue(i)) => i.to_string(),
        None => "?".into(),
    }
}

/// The part of `literal` at `path`, or why it does not exist.
pub(crate) fn resolve_attr_path(
    literal: &Literal,
    path: &[PromiseAttribute],
) -> Result<Literal, String> {
    let mut current = literal;
    let mut used = 0;
    for attr in path {
        match &current.value {
            Some(literal::Value::OffloadedMetadata(_)) => {
                return Err("cannot resolve an attribute path into an offloaded literal".into());
            }
            Some(literal::Value::Map(m)) => {
                let key = match &attr.value {
                    Some(promise_attribute::Value::StringValue(s)) => s.as_str(),
                    _ => "",
                };
                current = m.literals.get(key).ok_or_else(|| {
                    format!(
                        "key [{key}] does not exist; the map's keys are: {}",
                        m.literals.keys().cloned().collect::<Vec<_>>().join(", ")
                    )
                })?;
                used += 1;
            }
            Some(literal::Value::Collection(c)) => {
                let index = match &attr.value {
                    Some(promise_attribute::Value::IntValue(i)) => *i,
                    _ => 0,
                };
                current = usize::try_from(index)
                    .ok()
                    .and_then(|i| c.literals.get(i))
                    .ok_or_else(|| {
                        format!(
                            "index [{index}] is out of range of a list of {}",
                            c.literals.len()
                        )
                    })?;
                used += 1;
            }
            _ => break,
        }
    }
    let rest = &path[used..];
    if let Some(literal::Value::Scalar(s)) = &current.value {
        match &s.value {
            Some(scalar::Value::Binary(b)) => return in_binary(b, rest),
            Some(scalar::Value::Generic(st)) => return in_struct(st, rest),
            _ => {}
        }
    }
    if !rest.is_empty() {
        return Err(format!(
            "cannot take [{}] of a {}",
            step(&rest[0]),
            crate::type_engine::describe_literal(current)
        ));
    }
    Ok(current.clone())
}

fn binary(bytes: Vec<u8>, tag: &str) -> Literal {
    scalar(scalar::Value::Binary(Box::new(Binary {
        value: bytes,
        tag: tag.to_string(),
    })))
}

fn scalar(value: scalar::Value) -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Scalar { value: Some(value) })),
        ..Default::default()
    }
}

fn primitive(value: primitive::Value) -> Literal {
    scalar(scalar::Value::Primitive(Primitive { value: Some(value) }))
}

fn encode(v: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).map_err(|e| e.to_string())?;
    Ok(out)
}

fn in_binary(b: &Binary, path: &[PromiseAttribute]) -> Result<Literal, String> {
    if b.tag != MSGPACK {
        return Err(format!(
            "unsupported format '{}' found for literal value; only msgpack binaries have \
             attributes",
            b.tag
        ));
    }
    let mut bytes: &[u8] = &b.value;
    let mut value = rmpv::decode::read_value(&mut bytes)
        .map_err(|e| format!("the msgpack value cannot be decoded: {e}"))?;
    for attr in path {
        value = match (value, &attr.value) {
            (Value::Map(entries), Some(promise_attribute::Value::StringValue(key))) => entries
                .into_iter()
                .find(|(k, _)| k.as_str() == Some(key.as_str()))
                .map(|(_, v)| v)
                .ok_or_else(|| format!("key [{key}] does not exist in the struct"))?,
            (Value::Array(items), Some(promise_attribute::Value::IntValue(i))) => {
                let len = items.len();
                usize::try_from(*i)
                    .ok()
                    .and_then(|i| items.into_iter().nth(i))
                    .ok_or_else(|| format!("index [{i}] is out of range of a list of {len}"))?
            }
            (v, _) => {
                return Err(format!("cannot take [{}] of the value {v}", step(attr)));
            }
        };
    }
    Ok(match value {
        Value::Array(items) => Literal {
            value: Some(literal::Value::Collection(LiteralCollection {
                literals: items
                    .iter()
                    .map(|v| encode(v).map(|b| binary(b, MSGPACK)))
                    .collect::<Result<_, _>>()?,
            })),
            ..Default::default()
        },
        Value::String(s) if s.as_str().is_some() => primitive(primitive::Value::StringValue(
            s.into_str().unwrap_or_default(),
        )),
        Value::Integer(i) => match i.as_i64() {
            Some(n) => primitive(primitive::Value::Integer(n)),
            None => return Err("the integer is too large for a 64-bit integer".into()),
        },
        Value::F32(f) => primitive(primitive::Value::FloatValue(f64::from(f))),
        Value::F64(f) => primitive(primitive::Value::FloatValue(f)),
        Value::Boolean(b) => primitive(primitive::Value::Boolean(b)),
        other => binary(encode(&other)?, MSGPACK),
    })
}

fn in_struct(st: &prost_types::Struct, path: &[PromiseAttribute]) -> Result<Literal, String> {
    use prost_types::value::Kind;
    let mut current = prost_types::Value {
        kind: Some(Kind::StructValue(st.clone())),
    };
    for attr in path {
        current = match (current.kind, &attr.value) {
            (Some(Kind::StructValue(s)), Some(promise_attribute::Value::StringValue(key))) => s
                .fields
                .get(key)
                .cloned()
                .ok_or_else(|| format!("key [{key}] does not exist in the struct"))?,
            (Some(Kind::ListValue(l)), Some(promise_attribute::Value::IntValue(i))) => {
                let len = l.values.len();
                usize::try_from(*i)
                    .ok()
                    .and_then(|i| l.values.get(i).cloned())
                    .ok_or_else(|| format!("index [{i}] is out of range of a list of {len}"))?
            }
            _ => return Err(format!("cannot take [{}] of a struct value", step(attr))),
        };
    }
    value_literal(current)
}

/// Propeller's `convertInterfaceToLiteral`.
fn value_literal(v: prost_types::Value) -> Result<Literal, String> {
    use prost_types::value::Kind;
    Ok(match v.kind {
        Some(Kind::StructValue(s)) => scalar(scalar::Value::Generic(s)),
        Some(Kind::ListValue(l)) => Literal {
            value: Some(literal::Value::Collection(LiteralCollection {
                literals: l
                    .values
                    .into_iter()
                    .map(value_literal)
                    .collect::<Result<_, _>>()?,
            })),
            ..Default::default()
        },
        Some(Kind::StringValue(s)) => primitive(primitive::Value::StringValue(s)),
        Some(Kind::NumberValue(n)) => primitive(primitive::Value::FloatValue(n)),
        Some(Kind::BoolValue(b)) => primitive(primitive::Value::Boolean(b)),
        _ => return Err("failed to resolve the struct value to a literal scalar".into()),
    })
}
