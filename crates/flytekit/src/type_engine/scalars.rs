//! Primitive types: integers, floats, strings, booleans, datetimes, durations and `()`.

use chrono::{DateTime, Utc};
use flytekit_idl::core::{Literal, LiteralType, SimpleType, primitive};

use super::literals::{
    is_none, none_literal, primitive_literal, primitive_of, simple_type, unwrap_union,
};
use super::{ConversionContext, FlyteType, TypeError};

/// Reads the primitive of `literal` (accepting a union-wrapped one), or reports a mismatch
/// against `expected`.
#[inline]
fn read_primitive(literal: &Literal, expected: SimpleType) -> Result<&primitive::Value, TypeError> {
    let inner = unwrap_union(literal);
    primitive_of(inner).ok_or_else(|| TypeError::mismatch(&simple_type(expected), literal))
}

/// The value of a msgpack `Binary` literal, when `literal` is one: what Propeller hands a node
/// for a number, string or boolean inside a list or struct it resolved an attribute path into
/// (flytekit's transformers read these too).
#[inline]
fn from_msgpack<T: serde::de::DeserializeOwned>(
    literal: &Literal,
    expected: SimpleType,
) -> Option<Result<T, TypeError>> {
    match super::literals::scalar_of(unwrap_union(literal)) {
        Some(flytekit_idl::core::scalar::Value::Binary(b))
            if b.tag == super::dataclass::MSGPACK_TAG =>
        {
            Some(rmp_serde::from_slice::<T>(&b.value).map_err(|e| {
                TypeError::invalid(&simple_type(expected), format!("msgpack value: {e}"))
            }))
        }
        _ => None,
    }
}

/// Reads an integer; a float is truncated toward zero, as flytekit does (it accepts floats for
/// `int` inputs because the Flyte console sends every number as a float).
#[inline]
fn read_i64(literal: &Literal) -> Result<i64, TypeError> {
    if let Some(v) = from_msgpack::<i64>(literal, SimpleType::Integer) {
        return v;
    }
    match read_primitive(literal, SimpleType::Integer)? {
        primitive::Value::Integer(i) => Ok(*i),
        primitive::Value::FloatValue(f) => {
            let t = f.trunc();
            // -2^63 is exact; 2^63 (the first float above i64::MAX) is out of range.
            if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&t) {
                Ok(t as i64)
            } else if f.is_finite() {
                Err(TypeError::Overflow {
                    value: f.to_string(),
                    target: "i64",
                })
            } else {
                Err(TypeError::invalid(
                    &simple_type(SimpleType::Integer),
                    format!("the float {f} has no integer value"),
                ))
            }
        }
        _ => Err(TypeError::mismatch(
            &simple_type(SimpleType::Integer),
            literal,
        )),
    }
}

/// Reads an integer literal into `T` (named `target` in the overflow error).
#[inline]
fn read_integer<T: TryFrom<i64>>(literal: &Literal, target: &'static str) -> Result<T, TypeError> {
    let value = read_i64(literal)?;
    T::try_from(value).map_err(|_| TypeError::Overflow {
        value: value.to_string(),
        target,
    })
}

macro_rules! integer_type {
    ($($ty:ty),*) => {$(
        impl FlyteType for $ty {
            fn literal_type() -> LiteralType {
                simple_type(SimpleType::Integer)
            }

            #[inline]
            async fn to_literal(&self, _cx: &ConversionContext) -> Result<Literal, TypeError> {
                Ok(primitive_literal(primitive::Value::Integer(i64::from(*self))))
            }

            #[inline]
            fn to_literal_now(&self) -> Option<Result<Literal, TypeError>> {
                Some(Ok(primitive_literal(primitive::Value::Integer(i64::from(*self)))))
            }

            #[inline]
            async fn from_literal(literal: &Literal, _cx: &ConversionContext) -> Result<Self, TypeError> {
                read_integer(literal, stringify!($ty))
            }

            #[inline]
            fn from_literal_now(literal: &Literal) -> Option<Result<Self, TypeError>> {
                Some(read_integer(literal, stringify!($ty)))
            }
        }
    )*};
}

integer_type!(i8, i16, i32, i64, u8, u16, u32);

/// Reads a float; an integer is converted, as flytekit does (`float(integer)`).
fn read_f64(literal: &Literal) -> Result<f64, TypeError> {
    if let Some(v) = from_msgpack::<f64>(literal, SimpleType::Float) {
        return v;
    }
    match read_primitive(literal, SimpleType::Float)? {
        primitive::Value::FloatValue(f) => Ok(*f),
        primitive::Value::Integer(i) => Ok(*i as f64),
        _ => Err(TypeError::mismatch(
            &simple_type(SimpleType::Float),
            literal,
        )),
    }
}

impl FlyteType for f64 {
    fn literal_type() -> LiteralType {
        simple_type(SimpleType::Float)
    }

    async fn to_literal(&self, _cx: &ConversionContext) -> Result<Literal, TypeError> {
        Ok(primitive_literal(primitive::Value::FloatValue(*self)))
    }

    #[inline]
    fn to_literal_now(&self) -> Option<Result<Literal, TypeError>> {
        Some(Ok(primitive_literal(primitive::Value::FloatValue(*self))))
    }

    async fn from_literal(literal: &Literal, _cx: &ConversionContext) -> Result<Self, TypeError> {
        read_f64(literal)
    }

    #[inline]
    fn from_literal_now(literal: &Literal) -> Option<Result<Self, TypeError>> {
        Some(read_f64(literal))
    }
}

fn read_f32(literal: &Literal) -> Result<f32, TypeError> {
    let value = read_f64(literal)?;
    if value.is_finite() && value.abs() > f64::from(f32::MAX) {
        return Err(TypeError::Overflow {
            value: value.to_string(),
            target: "f32",
        });
    }
    // Precision loss is expected when narrowing a float; only the range is checked.
    Ok(value as f32)
}

impl FlyteType for f32 {
    fn literal_type() -> LiteralType {
        simple_type(SimpleType::Float)
    }

    async fn to_literal(&self, _cx: &ConversionContext) -> Result<Literal, TypeError> {
        Ok(primitive_literal(primitive::Value::FloatValue(f64::from(
            *self,
        ))))
    }

    #[inline]
    fn to_literal_now(&self) -> Option<Result<Literal, TypeError>> {
        Some(Ok(primitive_literal(primitive::Value::FloatValue(
            f64::from(*self),
        ))))
    }

    async fn from_literal(literal: &Literal, _cx: &ConversionContext) -> Result<Self, TypeError> {
        read_f32(literal)
    }

    #[inline]
    fn from_literal_now(literal: &Literal) -> Option<Result<Self, TypeError>> {
        Some(read_f32(literal))
    }
}

fn read_string(literal: &Literal) -> Result<String, TypeError> {
    if let Some(v) = from_msgpack::<String>(literal, SimpleType::String) {
        return v;
    }
    match read_primitive(literal, SimpleType::String)? {
        primitive::Value::StringValue(s) => Ok(s.clone()),
        _ => Err(TypeError::mismatch(&String::literal_type(), literal)),
    }
}

impl FlyteType for String {
    fn literal_type() -> LiteralType {
        simple_type(SimpleType::String)
    }

    async fn to_literal(&self, _cx: &ConversionContext) -> Result<Literal, TypeError> {
        Ok(primitive_literal(primitive::Value::StringValue(
            self.clone(),
        )))
    }

    fn to_literal_now(&self) -> Option<Result<Literal, TypeError>> {
        Some(Ok(primitive_literal(primitive::Value::StringValue(
            self.clone(),
        ))))
    }

    async fn from_literal(literal: &Literal, _cx: &ConversionContext) -> Result<Self, TypeError> {
        read_string(literal)
    }

    fn from_literal_now(literal: &Literal) -> Option<Result<Self, TypeError>> {
        Some(read_string(literal))
    }
}

fn read_bool(literal: &Literal) -> Result<bool, TypeError> {
    if let Some(v) = from_msgpack::<bool>(literal, SimpleType::Boolean) {
        return v;
    }
    match read_primitive(literal, SimpleType::Boolean)? {
        primitive::Value::Boolean(b) => Ok(*b),
        _ => Err(TypeError::mismatch(&bool::literal_type(), literal)),
    }
}

impl FlyteType for bool {
    fn literal_type() -> LiteralType {
        simple_type(SimpleType::Boolean)
    }

    async fn to_literal(&self, _cx: &ConversionContext) -> Result<Literal, TypeError> {
        Ok(primitive_literal(primitive::Value::Boolean(*self)))
    }

    fn to_literal_now(&self) -> Option<Result<Literal, TypeError>> {
        Some(Ok(primitive_literal(primitive::Value::Boolean(*self))))
    }

    async fn from_literal(literal: &Literal, _cx: &ConversionContext) -> Result<Self, TypeError> {
        read_bool(literal)
    }

    fn from_literal_now(literal: &Literal) -> Option<Result<Self, TypeError>> {
        Some(read_bool(literal))
    }
}

/// Converts a UTC datetime to a protobuf timestamp (leap seconds are folded into the next second).
pub fn timestamp_to_proto(t: &DateTime<Utc>) -> prost_types::Timestamp {
    let mut seconds = t.timestamp();
    let mut nanos = t.timestamp_subsec_nanos();
    if nanos >= 1_000_000_000 {
        seconds = seconds.saturating_add(1);
        nanos -= 1_000_000_000;
    }
    // `nanos` < 1e9 fits in i32.
    prost_types::Timestamp {
        seconds,
        nanos: nanos as i32,
    }
}

/// Converts a protobuf timestamp to a UTC datetime; errors on out-of-range or unnormalized values.
pub fn timestamp_from_proto(t: &prost_types::Timestamp) -> Result<DateTime<Utc>, TypeError> {
    let invalid = |reason: String| TypeError::invalid(&simple_type(SimpleType::Datetime), reason);
    let nanos = u32::try_from(t.nanos)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or_else(|| invalid(format!("timestamp nanos {} outside 0..1e9", t.nanos)))?;
    DateTime::from_timestamp(t.seconds, nanos).ok_or_else(|| {
        invalid(format!(
            "timestamp {}s is outside the range chrono supports",
            t.seconds
        ))
    })
}

impl FlyteType for DateTime<Utc> {
    fn literal_type() -> LiteralType {
        simple_type(SimpleType::Datetime)
    }

    async fn to_literal(&self, _cx: &ConversionContext) -> Result<Literal, TypeError> {
        Ok(primitive_literal(primitive::Value::Datetime(
            timestamp_to_proto(self),
        )))
    }

    async fn from_literal(literal: &Literal, _cx: &ConversionContext) -> Result<Self, TypeError> {
        match read_primitive(literal, SimpleType::Datetime)? {
            primitive::Value::Datetime(t) => timestamp_from_proto(t),
            _ => Err(TypeError::mismatch(&Self::literal_type(), literal)),
        }
    }
}

/// Converts a duration to a protobuf duration; errors when it exceeds `i64::MAX` seconds.
pub fn duration_to_proto(d: &std::time::Duration) -> Result<prost_types::Duration, TypeError> {
    let seconds = i64::try_from(d.as_secs()).map_err(|_| TypeError::Overflow {
        value: format!("{}s", d.as_secs()),
        target: "protobuf Duration",
    })?;
    // subsec_nanos() < 1e9 fits in i32.
    Ok(prost_types::Duration {
        seconds,
        nanos: d.subsec_nanos() as i32,
    })
}

/// Converts a protobuf duration to a [`std::time::Duration`]; negative durations (which Python's
/// `timedelta` allows) are an error because `std::time::Duration` cannot hold them.
pub fn duration_from_proto(d: &prost_types::Duration) -> Result<std::time::Duration, TypeError> {
    let invalid = |reason: String| TypeError::invalid(&simple_type(SimpleType::Duration), reason);
    if d.seconds < 0 || d.nanos < 0 {
        return Err(invalid(format!(
            "negative duration ({}s {}ns) cannot be represented by std::time::Duration; send a non-negative timedelta",
            d.seconds, d.nanos
        )));
    }
    if d.nanos >= 1_000_000_000 {
        return Err(invalid(format!(
            "duration nanos {} outside 0..1e9",
            d.nanos
        )));
    }
    // Both values are non-negative here.
    Ok(std::time::Duration::new(d.seconds as u64, d.nanos as u32))
}

impl FlyteType for std::time::Duration {
    fn literal_type() -> LiteralType {
        simple_type(SimpleType::Duration)
    }

    async fn to_literal(&self, _cx: &ConversionContext) -> Result<Literal, TypeError> {
        Ok(primitive_literal(primitive::Value::Duration(
            duration_to_proto(self)?,
        )))
    }

    async fn from_literal(literal: &Literal, _cx: &ConversionContext) -> Result<Self, TypeError> {
        match read_primitive(literal, SimpleType::Duration)? {
            primitive::Value::Duration(d) => duration_from_proto(d),
            _ => Err(TypeError::mismatch(&Self::literal_type(), literal)),
        }
    }
}

/// `()` is Flyte's `NONE`: the value of Python's `None`.
impl FlyteType for () {
    fn literal_type() -> LiteralType {
        simple_type(SimpleType::None)
    }

    async fn to_literal(&self, _cx: &ConversionContext) -> Result<Literal, TypeError> {
        Ok(none_literal())
    }

    async fn from_literal(literal: &Literal, _cx: &ConversionContext) -> Result<Self, TypeError> {
        if is_none(unwrap_union(literal)) {
            Ok(())
        } else {
            Err(TypeError::mismatch(&Self::literal_type(), literal))
        }
    }
}
