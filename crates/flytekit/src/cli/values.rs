//! A value given on the command line as a literal of its declared type: plain text for strings,
//! enums, files, dates and durations; JSON for everything else.

use flytekit_idl::core::{Literal, LiteralType, SimpleType, literal_type};

use crate::type_engine::literal_from_json;

pub(crate) fn is_bool(ty: &LiteralType) -> bool {
    matches!(ty.r#type, Some(literal_type::Type::Simple(s)) if s == SimpleType::Boolean as i32)
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

/// Converts a command-line value to a literal of type `ty`.
pub(crate) fn value_to_literal(ty: &LiteralType, raw: &str) -> Result<Literal, String> {
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
                        Ok(f) => Ok(crate::type_engine::literals::primitive_literal(
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
