//! Column declarations: which columns a dataset has, as Flyte literal types (what flytekit's
//! `kwtypes(a=int, b=str)` declares) and as Arrow types (what Rust readers and writers see).
//!
//! A declaration is a type implementing [`DatasetColumns`], usually a struct whose fields are the
//! columns, with `#[derive(DatasetColumns)]`; every field type must implement [`ColumnType`], so a
//! column of an unsupported type fails the build.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, TimeUnit};
use flytekit_idl::core::{
    LiteralType, SimpleType, StructuredDatasetType, literal_type, structured_dataset_type,
};

use crate::type_engine::literals::simple_type;

/// Propeller's rule for passing a dataset of one type where another is declared.
pub use crate::type_engine::dataset_casts_from as casts_from;

/// One declared column: its name and Flyte type (`StructuredDatasetType.DatasetColumn`).
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetColumn {
    /// The column's name, as stored in the file.
    pub name: String,
    /// The column's Flyte type (`INTEGER`, `collection of STRING`, ...).
    pub literal_type: LiteralType,
}

impl DatasetColumn {
    /// A column named `name` of Flyte type `literal_type`.
    pub fn new(name: impl Into<String>, literal_type: LiteralType) -> Self {
        Self {
            name: name.into(),
            literal_type,
        }
    }

    /// A column named `name` of the Rust column type `T`.
    pub fn of<T: ColumnType>(name: impl Into<String>) -> Self {
        Self::new(name, T::literal_type())
    }

    fn to_proto(&self) -> structured_dataset_type::DatasetColumn {
        structured_dataset_type::DatasetColumn {
            name: self.name.clone(),
            literal_type: Some(self.literal_type.clone()),
        }
    }
}

/// A Rust type that can be the type of a dataset column.
///
/// | Rust | Flyte (flytekit's `kwtypes`) | Arrow |
/// |---|---|---|
/// | `i64`, `i32`, `i16`, `i8`, `u64`, `u32`, `u16`, `u8` | `INTEGER` (`int`) | `Int64`, ... |
/// | `f64`, `f32` | `FLOAT` (`float`) | `Float64`, `Float32` |
/// | `String` | `STRING` (`str`) | `Utf8` |
/// | `bool` | `BOOLEAN` (`bool`) | `Boolean` |
/// | `chrono::DateTime<Utc>` | `DATETIME` (`datetime`) | `Timestamp(µs, "UTC")` |
/// | `chrono::NaiveDateTime` | `DATETIME` | `Timestamp(µs)` |
/// | `std::time::Duration` | `DURATION` (`timedelta`) | `Duration(µs)` |
/// | `Vec<T>` | collection of T (`List[T]`) | `List(T)` |
/// | `BTreeMap<String, T>`, `HashMap<String, T>` | map of T (`Dict[str, T]`) | `Map(Utf8, T)` |
/// | `Option<T>` | T's type; the Arrow field is nullable | T's, nullable |
///
/// Microseconds are what flytekit's pandas encoder writes (`coerce_timestamps="us"`).
pub trait ColumnType {
    /// The Flyte type of the column, as flytekit's `_get_dataset_column_literal_type` gives it.
    fn literal_type() -> LiteralType;
    /// The Arrow type of the column's values.
    fn arrow_type() -> DataType;
    /// Whether the column may hold nulls (`Option<T>`).
    const NULLABLE: bool = false;
}

macro_rules! column_types {
    ($($rust:ty => $simple:ident, $arrow:expr;)*) => {$(
        impl ColumnType for $rust {
            fn literal_type() -> LiteralType {
                simple_type(SimpleType::$simple)
            }
            fn arrow_type() -> DataType {
                $arrow
            }
        }
    )*};
}

column_types! {
    i64 => Integer, DataType::Int64;
    i32 => Integer, DataType::Int32;
    i16 => Integer, DataType::Int16;
    i8 => Integer, DataType::Int8;
    u64 => Integer, DataType::UInt64;
    u32 => Integer, DataType::UInt32;
    u16 => Integer, DataType::UInt16;
    u8 => Integer, DataType::UInt8;
    f64 => Float, DataType::Float64;
    f32 => Float, DataType::Float32;
    String => String, DataType::Utf8;
    bool => Boolean, DataType::Boolean;
    chrono::DateTime<chrono::Utc> => Datetime, DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    chrono::NaiveDateTime => Datetime, DataType::Timestamp(TimeUnit::Microsecond, None);
    std::time::Duration => Duration, DataType::Duration(TimeUnit::Microsecond);
}

impl<T: ColumnType> ColumnType for Option<T> {
    fn literal_type() -> LiteralType {
        T::literal_type()
    }
    fn arrow_type() -> DataType {
        T::arrow_type()
    }
    const NULLABLE: bool = true;
}

impl<T: ColumnType> ColumnType for Vec<T> {
    fn literal_type() -> LiteralType {
        LiteralType {
            r#type: Some(literal_type::Type::CollectionType(Box::new(
                T::literal_type(),
            ))),
            ..Default::default()
        }
    }
    fn arrow_type() -> DataType {
        // pyarrow's list type: its elements are a nullable field named "item".
        DataType::List(Arc::new(Field::new("item", T::arrow_type(), true)))
    }
}

fn map_literal_type(value: LiteralType) -> LiteralType {
    LiteralType {
        r#type: Some(literal_type::Type::MapValueType(Box::new(value))),
        ..Default::default()
    }
}

fn map_arrow_type(value: DataType) -> DataType {
    // pyarrow's map type: "entries" of non-null string keys and nullable values.
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", value, true),
        ])),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

impl<T: ColumnType> ColumnType for BTreeMap<String, T> {
    fn literal_type() -> LiteralType {
        map_literal_type(T::literal_type())
    }
    fn arrow_type() -> DataType {
        map_arrow_type(T::arrow_type())
    }
}

impl<T: ColumnType, S> ColumnType for HashMap<String, T, S> {
    fn literal_type() -> LiteralType {
        map_literal_type(T::literal_type())
    }
    fn arrow_type() -> DataType {
        map_arrow_type(T::arrow_type())
    }
}

/// A schema in another schema system, carried in the dataset type (flytekit writes one for
/// `Annotated[StructuredDataset, pa.schema(...)]`: type `"arrow"`, the schema's `to_string()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalSchema {
    /// The schema system (`"arrow"`).
    pub schema_type: String,
    /// The schema, serialized as that system does.
    pub bytes: Vec<u8>,
}

impl ExternalSchema {
    /// The Arrow schema `schema` as flytekit records it: pyarrow's `Schema.to_string()`.
    pub fn arrow(schema: &Schema) -> Self {
        Self {
            schema_type: "arrow".to_string(),
            bytes: pyarrow_schema_string(schema).into_bytes(),
        }
    }
}

/// The columns (and optionally format and external schema) a dataset type declares: the analog of
/// flytekit's `Annotated[StructuredDataset, kwtypes(...), "format"]`.
///
/// Derive it on a struct whose fields are the columns, in order:
///
/// ```
/// use flytekit::prelude::*;
///
/// /// A sale: `kwtypes(region=str, amount=float, units=int)`.
/// #[derive(DatasetColumns)]
/// struct Sale {
///     region: String,
///     amount: f64,
///     units: Option<i64>,
/// }
///
/// assert_eq!(Sale::columns().len(), 3);
/// assert_eq!(Sale::arrow_schema().field(2).is_nullable(), true);
/// ```
///
/// Field attributes: `#[dataset(rename = "Total Amount")]` names a column that is not a Rust
/// identifier. Container attributes: `#[dataset(format = "parquet")]` declares the format (the
/// third `Annotated` argument; the default `""` accepts any), `#[dataset(arrow_schema)]` also
/// records the Arrow schema as the external schema, as `Annotated[..., pa.schema(...)]` does.
///
/// A [`StructuredDataset<C>`](crate::dataset::StructuredDataset) reads exactly these columns (others
/// in the file are not read) and yields batches with the schema [`DatasetColumns::arrow_schema`].
pub trait DatasetColumns: Send + Sync + 'static {
    /// The declared columns, in order; empty means any columns.
    fn columns() -> Vec<DatasetColumn>;

    /// The Arrow schema of the declared columns (what readers yield and writers are checked
    /// against); empty for [`AnyColumns`].
    fn arrow_schema() -> Schema;

    /// The declared storage format; `""` means any (flytekit's default).
    fn format() -> &'static str {
        ""
    }

    /// An external schema recorded in the dataset type, if any.
    fn external_schema() -> Option<ExternalSchema> {
        None
    }
}

/// No declared columns: plain `StructuredDataset` in Python. Reads every column of the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnyColumns;

impl DatasetColumns for AnyColumns {
    fn columns() -> Vec<DatasetColumn> {
        Vec::new()
    }
    fn arrow_schema() -> Schema {
        Schema::empty()
    }
}

/// The `StructuredDatasetType` of declaration `C`, exactly as flytekit's `get_literal_type` builds it.
pub(crate) fn dataset_type<C: DatasetColumns>() -> StructuredDatasetType {
    let external = C::external_schema();
    StructuredDatasetType {
        columns: C::columns().iter().map(DatasetColumn::to_proto).collect(),
        format: C::format().to_string(),
        external_schema_type: external
            .as_ref()
            .map(|e| e.schema_type.clone())
            .unwrap_or_default(),
        external_schema_bytes: external.map(|e| e.bytes).unwrap_or_default(),
    }
}

/// Whether an Arrow column of type `arrow` can hold values of the Flyte type `flyte`: any integer
/// width for `INTEGER`, any float for `FLOAT`, strings or bytes for `STRING` (flytekit maps
/// `np.bytes_` to `STRING`), timestamps or dates for `DATETIME`, lists of matching elements for
/// collections, maps or structs of matching values for maps. Dictionary-encoded and run-end encoded
/// columns match by their values; an all-null column matches anything.
pub fn arrow_type_matches(flyte: &LiteralType, arrow: &DataType) -> bool {
    use literal_type::Type;
    match arrow {
        DataType::Null => return true,
        DataType::Dictionary(_, values) => return arrow_type_matches(flyte, values),
        DataType::RunEndEncoded(_, values) => {
            return arrow_type_matches(flyte, values.data_type());
        }
        _ => {}
    }
    match &flyte.r#type {
        Some(Type::Simple(s)) => match SimpleType::try_from(*s) {
            Ok(SimpleType::Integer) => arrow.is_integer(),
            Ok(SimpleType::Float) => arrow.is_floating(),
            Ok(SimpleType::String) => matches!(
                arrow,
                DataType::Utf8
                    | DataType::LargeUtf8
                    | DataType::Utf8View
                    | DataType::Binary
                    | DataType::LargeBinary
                    | DataType::BinaryView
            ),
            Ok(SimpleType::Boolean) => matches!(arrow, DataType::Boolean),
            Ok(SimpleType::Datetime) => matches!(
                arrow,
                DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64
            ),
            Ok(SimpleType::Duration) => matches!(arrow, DataType::Duration(_)),
            _ => false,
        },
        Some(Type::CollectionType(inner)) => match arrow {
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::ListView(f)
            | DataType::LargeListView(f)
            | DataType::FixedSizeList(f, _) => arrow_type_matches(inner, f.data_type()),
            _ => false,
        },
        Some(Type::MapValueType(inner)) => match arrow {
            DataType::Map(entries, _) => match entries.data_type() {
                DataType::Struct(kv) if kv.len() == 2 => {
                    arrow_type_matches(inner, kv[1].data_type())
                }
                _ => false,
            },
            DataType::Struct(fields) => fields
                .iter()
                .all(|f| arrow_type_matches(inner, f.data_type())),
            _ => false,
        },
        _ => false,
    }
}

/// pyarrow's `Schema.to_string()` (no metadata): one line per field, nested fields as indented
/// `child i, ...` lines.
pub(crate) fn pyarrow_schema_string(schema: &Schema) -> String {
    let mut out = String::new();
    for field in schema.fields() {
        if !out.is_empty() {
            out.push('\n');
        }
        write_field(&mut out, field, 0);
    }
    out
}

fn write_field(out: &mut String, field: &Field, depth: usize) {
    let _ = write!(out, "{}", field_string(field));
    for (i, child) in children(field.data_type()).iter().enumerate() {
        let indent = 2 + 4 * depth;
        let _ = write!(out, "\n{:indent$}child {i}, ", "");
        write_field(out, child, depth + 1);
    }
}

fn field_string(field: &Field) -> String {
    format!(
        "{}: {}{}",
        field.name(),
        pyarrow_type_string(field.data_type()),
        if field.is_nullable() { "" } else { " not null" }
    )
}

fn children(t: &DataType) -> Vec<Field> {
    match t {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => vec![f.as_ref().clone()],
        DataType::Struct(fields) => fields.iter().map(|f| f.as_ref().clone()).collect(),
        _ => Vec::new(),
    }
}

fn unit(u: &TimeUnit) -> &'static str {
    match u {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}

/// pyarrow's name of an Arrow type (`int64`, `double`, `string`, `timestamp[us, tz=UTC]`, ...).
pub(crate) fn pyarrow_type_string(t: &DataType) -> String {
    match t {
        DataType::Null => "null".into(),
        DataType::Boolean => "bool".into(),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float16 => "halffloat".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Utf8 => "string".into(),
        DataType::LargeUtf8 => "large_string".into(),
        DataType::Utf8View => "string_view".into(),
        DataType::Binary => "binary".into(),
        DataType::LargeBinary => "large_binary".into(),
        DataType::BinaryView => "binary_view".into(),
        DataType::Date32 => "date32[day]".into(),
        DataType::Date64 => "date64[ms]".into(),
        DataType::Timestamp(u, None) => format!("timestamp[{}]", unit(u)),
        DataType::Timestamp(u, Some(tz)) => format!("timestamp[{}, tz={tz}]", unit(u)),
        DataType::Duration(u) => format!("duration[{}]", unit(u)),
        DataType::List(f) => format!("list<{}>", field_string(f)),
        DataType::LargeList(f) => format!("large_list<{}>", field_string(f)),
        DataType::FixedSizeList(f, n) => format!("fixed_size_list<{}>[{n}]", field_string(f)),
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| field_string(f))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => format!(
                "map<{}, {}>",
                pyarrow_type_string(kv[0].data_type()),
                pyarrow_type_string(kv[1].data_type())
            ),
            other => format!("map<{}>", pyarrow_type_string(other)),
        },
        DataType::Dictionary(k, v) => format!(
            "dictionary<values={}, indices={}, ordered=0>",
            pyarrow_type_string(v),
            pyarrow_type_string(k)
        ),
        other => other.to_string().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_types_match_flyte_types_by_kind() {
        let int = simple_type(SimpleType::Integer);
        assert!(arrow_type_matches(&int, &DataType::Int32));
        assert!(arrow_type_matches(&int, &DataType::UInt64));
        assert!(!arrow_type_matches(&int, &DataType::Float64));
        assert!(arrow_type_matches(
            &int,
            &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Int64))
        ));
        let strings = <Vec<String> as ColumnType>::literal_type();
        assert!(arrow_type_matches(
            &strings,
            &DataType::LargeList(Arc::new(Field::new("x", DataType::LargeUtf8, true)))
        ));
        assert!(!arrow_type_matches(&strings, &DataType::Utf8));
        let map = <BTreeMap<String, f64> as ColumnType>::literal_type();
        assert!(arrow_type_matches(
            &map,
            &<BTreeMap<String, f64> as ColumnType>::arrow_type()
        ));
    }

    #[test]
    fn casting_follows_propellers_subset_rule() {
        let cols = |c: &[(&str, SimpleType)]| StructuredDatasetType {
            columns: c
                .iter()
                .map(|(n, t)| DatasetColumn::new(*n, simple_type(*t)).to_proto())
                .collect(),
            ..Default::default()
        };
        let up = cols(&[("a", SimpleType::Integer), ("b", SimpleType::String)]);
        assert!(casts_from(&up, &cols(&[("b", SimpleType::String)])).is_ok());
        assert!(casts_from(&up, &cols(&[])).is_ok());
        let err = casts_from(&up, &cols(&[("c", SimpleType::String)])).unwrap_err();
        assert!(err.contains("'c'") && err.contains("a, b"), "{err}");
        let err = casts_from(&up, &cols(&[("a", SimpleType::String)])).unwrap_err();
        assert!(err.contains("INTEGER") && err.contains("STRING"), "{err}");
        let mut csv = cols(&[]);
        csv.format = "csv".into();
        let mut parquet = cols(&[]);
        parquet.format = "parquet".into();
        assert!(casts_from(&csv, &parquet).is_err());
        assert!(casts_from(&cols(&[]), &parquet).is_ok());
    }
}
