//! Unit-only enums as flytekit `enum.Enum`s with string values: the runtime half of
//! `#[derive(FlyteType)]` on an enum.
//!
//! The literal type is `EnumType { values }` (the Python enum's values, in declaration order) and a
//! value is the string primitive of its variant.

use flytekit_idl::core::{EnumType, Literal, LiteralType, literal_type, primitive};

use super::TypeError;
use super::literals::{primitive_literal, primitive_of, unwrap_union};

/// The literal type of an enum with these string `values`.
pub fn literal_type(values: &[&str]) -> LiteralType {
    LiteralType {
        r#type: Some(literal_type::Type::EnumType(EnumType {
            values: values.iter().map(|v| v.to_string()).collect(),
        })),
        ..Default::default()
    }
}

/// The literal of the variant whose string value is `value`.
pub fn to_literal(value: &str) -> Literal {
    primitive_literal(primitive::Value::StringValue(value.to_string()))
}

/// The string value in `literal`, checked against the enum's `values`.
pub fn from_literal<'a>(literal: &'a Literal, values: &[&str]) -> Result<&'a str, TypeError> {
    match primitive_of(unwrap_union(literal)) {
        Some(primitive::Value::StringValue(s)) if values.contains(&s.as_str()) => Ok(s),
        Some(primitive::Value::StringValue(s)) => Err(unknown_value(s, values)),
        _ => Err(TypeError::mismatch(&literal_type(values), literal)),
    }
}

/// The error for a string that is none of the enum's `values`.
pub fn unknown_value(value: &str, values: &[&str]) -> TypeError {
    TypeError::invalid(
        &literal_type(values),
        format!(
            "\"{value}\" is not one of the enum's values [{}]",
            values.join(", ")
        ),
    )
}
