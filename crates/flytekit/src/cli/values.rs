//! A value given on the command line as a literal of its declared type: plain text for strings,
//! enums, files, dates and durations; JSON for everything else (the type engine's
//! [`literal_from_text`], which gate answers use too).

use flytekit_idl::core::{Literal, LiteralType, SimpleType, literal_type};

use crate::type_engine::literal_from_text;

pub(crate) fn is_bool(ty: &LiteralType) -> bool {
    matches!(ty.r#type, Some(literal_type::Type::Simple(s)) if s == SimpleType::Boolean as i32)
}

/// Converts a command-line value to a literal of type `ty`.
pub(crate) fn value_to_literal(ty: &LiteralType, raw: &str) -> Result<Literal, String> {
    literal_from_text(ty, raw)
}
