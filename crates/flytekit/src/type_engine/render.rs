//! Human renderings of literal types and literals for error messages.

use flytekit_idl::core::{
    Literal, LiteralType, SimpleType, blob_type::BlobDimensionality, literal, literal_type,
    primitive, scalar,
};

/// Renders a literal type for humans: `INTEGER`, `collection of STRING`, `map of FLOAT`,
/// `struct Foo`, `optional INTEGER`, `enum {red, green}`, `file`, `directory`, ...
pub fn describe_type(t: &LiteralType) -> String {
    match &t.r#type {
        None => "an unspecified type".to_string(),
        Some(literal_type::Type::Simple(s)) => match SimpleType::try_from(*s) {
            Ok(SimpleType::Struct) => match struct_title(t) {
                Some(title) => format!("struct {title}"),
                None => "STRUCT".to_string(),
            },
            Ok(simple) => simple.as_str_name().to_string(),
            Err(_) => format!("unknown simple type {s}"),
        },
        Some(literal_type::Type::CollectionType(inner)) => {
            format!("collection of {}", describe_type(inner))
        }
        Some(literal_type::Type::MapValueType(inner)) => format!("map of {}", describe_type(inner)),
        Some(literal_type::Type::Blob(b)) => {
            let kind = match BlobDimensionality::try_from(b.dimensionality) {
                Ok(BlobDimensionality::Multipart) => "directory",
                _ => "file",
            };
            if b.format.is_empty() {
                kind.to_string()
            } else {
                format!("{kind} (format \"{}\")", b.format)
            }
        }
        Some(literal_type::Type::EnumType(e)) => format!("enum {{{}}}", e.values.join(", ")),
        Some(literal_type::Type::UnionType(u)) => {
            let is_none = |v: &LiteralType| matches!(v.r#type, Some(literal_type::Type::Simple(s)) if s == SimpleType::None as i32);
            let others: Vec<&LiteralType> = u.variants.iter().filter(|v| !is_none(v)).collect();
            if others.len() == 1 && u.variants.len() == 2 {
                format!("optional {}", describe_type(others[0]))
            } else {
                let parts: Vec<String> = u.variants.iter().map(describe_type).collect();
                format!("union of [{}]", parts.join(", "))
            }
        }
        Some(literal_type::Type::Schema(_)) => "schema".to_string(),
        Some(literal_type::Type::StructuredDatasetType(sd)) => {
            let mut s = "structured dataset".to_string();
            if !sd.format.is_empty() {
                s.push_str(&format!(" ({})", sd.format));
            }
            if !sd.columns.is_empty() {
                let columns: Vec<String> = sd
                    .columns
                    .iter()
                    .map(|c| {
                        let t = c
                            .literal_type
                            .as_ref()
                            .map(describe_type)
                            .unwrap_or_default();
                        format!("{}: {t}", c.name)
                    })
                    .collect();
                s.push_str(&format!(" with columns [{}]", columns.join(", ")));
            }
            s
        }
    }
}

fn struct_title(t: &LiteralType) -> Option<&str> {
    let field = t.metadata.as_ref()?.fields.get("title")?;
    match &field.kind {
        Some(prost_types::value::Kind::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// Renders what a literal holds for humans: its kind and a short preview of the value, e.g.
/// `STRING "abc"`, `INTEGER 3`, `collection of 2 elements`, `none`.
pub fn describe_literal(l: &Literal) -> String {
    match &l.value {
        None => "an empty literal".to_string(),
        Some(literal::Value::Collection(c)) => match c.literals.first() {
            Some(first) => format!(
                "collection of {} elements (first: {})",
                c.literals.len(),
                describe_literal(first)
            ),
            None => "empty collection".to_string(),
        },
        Some(literal::Value::Map(m)) => format!("map of {} entries", m.literals.len()),
        Some(literal::Value::OffloadedMetadata(o)) => format!("offloaded literal at {}", o.uri),
        Some(literal::Value::Scalar(s)) => match &s.value {
            None => "an empty scalar".to_string(),
            Some(scalar::Value::Primitive(p)) => match &p.value {
                None => "an empty primitive".to_string(),
                Some(primitive::Value::Integer(i)) => format!("INTEGER {i}"),
                Some(primitive::Value::FloatValue(f)) => format!("FLOAT {f}"),
                Some(primitive::Value::StringValue(s)) => format!("STRING {:?}", preview(s)),
                Some(primitive::Value::Boolean(b)) => format!("BOOLEAN {b}"),
                Some(primitive::Value::Datetime(t)) => format!("DATETIME {}s", t.seconds),
                Some(primitive::Value::Duration(d)) => format!("DURATION {}s", d.seconds),
            },
            Some(scalar::Value::Blob(b)) => {
                let multipart = b
                    .metadata
                    .as_ref()
                    .and_then(|m| m.r#type.as_ref())
                    .is_some_and(|t| t.dimensionality == BlobDimensionality::Multipart as i32);
                format!("{} {}", if multipart { "directory" } else { "file" }, b.uri)
            }
            Some(scalar::Value::Binary(b)) => {
                format!("binary ({} bytes, tag \"{}\")", b.value.len(), b.tag)
            }
            Some(scalar::Value::Schema(s)) => format!("schema {}", s.uri),
            Some(scalar::Value::NoneType(_)) => "none".to_string(),
            Some(scalar::Value::Error(e)) => format!(
                "error from node {}: {}",
                e.failed_node_id,
                preview(&e.message)
            ),
            Some(scalar::Value::Generic(_)) => "STRUCT (generic JSON)".to_string(),
            Some(scalar::Value::StructuredDataset(sd)) => format!("structured dataset {}", sd.uri),
            Some(scalar::Value::Union(u)) => match &u.value {
                Some(inner) => format!("union value {}", describe_literal(inner)),
                None => "an empty union".to_string(),
            },
        },
    }
}

fn preview(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

/// The name of the flytekit transformer for values of type `t`, which flytekit uses as the
/// `structure.tag` of union variants: `"int"`, `"float"`, `"str"`, `"bool"`, `"datetime"`,
/// `"timedelta"`, `"none"`, `"Typed List"`, `"Typed Dict"`, `"Typed Union"`,
/// `"DefaultEnumTransformer"`, `"Object-Dataclass-Transformer"`, `"FlyteFilePath"`,
/// `"FlyteDirectory"`.
pub fn type_tag_of(t: &LiteralType) -> &'static str {
    match &t.r#type {
        Some(literal_type::Type::Simple(s)) => match SimpleType::try_from(*s) {
            Ok(SimpleType::None) => "none",
            Ok(SimpleType::Integer) => "int",
            Ok(SimpleType::Float) => "float",
            Ok(SimpleType::String) => "str",
            Ok(SimpleType::Boolean) => "bool",
            Ok(SimpleType::Datetime) => "datetime",
            Ok(SimpleType::Duration) => "timedelta",
            Ok(SimpleType::Binary) => "bytes",
            Ok(SimpleType::Error) => "error",
            Ok(SimpleType::Struct) => "Object-Dataclass-Transformer",
            Err(_) => "",
        },
        Some(literal_type::Type::CollectionType(_)) => "Typed List",
        Some(literal_type::Type::MapValueType(_)) => "Typed Dict",
        Some(literal_type::Type::UnionType(_)) => "Typed Union",
        Some(literal_type::Type::EnumType(_)) => "DefaultEnumTransformer",
        Some(literal_type::Type::Blob(b)) => {
            if b.dimensionality == BlobDimensionality::Multipart as i32 {
                "FlyteDirectory"
            } else {
                "FlyteFilePath"
            }
        }
        Some(literal_type::Type::Schema(_)) => "FlyteSchema",
        Some(literal_type::Type::StructuredDatasetType(_)) => "StructuredDatasetTransformerEngine",
        None => "",
    }
}
