//! Property tests: every supported type survives Rust -> literal -> bytes -> literal -> Rust, and
//! the JSON rendering (`literal_to_json`) parses back (`literal_from_json`) to an equal value.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::time::Duration;

use chrono::{DateTime, Utc};
use flytekit::idl::Message;
use flytekit::idl::core::Literal;
use flytekit::prelude::*;
use flytekit::type_engine::{
    ConversionContext, literal_from_json, literal_to_json, serde_duration,
};
use futures::executor::block_on;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, FlyteType)]
#[serde(rename_all = "kebab-case")]
enum Shape {
    Circle,
    BigSquare,
    Triangle,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct Record {
    id: i64,
    name: String,
    score: Option<f64>,
    tags: Vec<String>,
    attrs: BTreeMap<String, i32>,
    shape: Shape,
    at: DateTime<Utc>,
    #[serde(with = "serde_duration")]
    elapsed: Duration,
    children: Vec<Leaf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct Leaf {
    flag: bool,
    value: Option<u16>,
}

/// Rust -> literal -> bytes -> literal -> Rust, and literal -> JSON -> literal -> Rust.
fn round_trip<T: FlyteType + PartialEq + Debug>(value: &T) -> Result<(), TestCaseError> {
    let cx = ConversionContext::in_memory();
    let literal =
        block_on(value.to_literal(&cx)).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let bytes = literal.encode_to_vec();
    let decoded =
        Literal::decode(bytes.as_slice()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&decoded, &literal);
    let back =
        block_on(T::from_literal(&decoded, &cx)).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, value);

    let json = literal_to_json(&literal);
    let from_json = literal_from_json(&T::literal_type(), &json)
        .map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    let back = block_on(T::from_literal(&from_json, &cx))
        .map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

fn datetime() -> impl Strategy<Value = DateTime<Utc>> {
    // Years 1..9999 at microsecond precision (what Python's datetime holds).
    (-62_135_596_800i64..253_402_300_799, 0u32..1_000_000)
        .prop_filter_map("in range", |(s, us)| DateTime::from_timestamp(s, us * 1000))
}

fn duration() -> impl Strategy<Value = Duration> {
    (0u64..10_000_000_000, 0u32..1_000_000).prop_map(|(s, us)| Duration::new(s, us * 1000))
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::SUBNORMAL
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Circle),
        Just(Shape::BigSquare),
        Just(Shape::Triangle)
    ]
}

fn leaf() -> impl Strategy<Value = Leaf> {
    (any::<bool>(), any::<Option<u16>>()).prop_map(|(flag, value)| Leaf { flag, value })
}

fn record() -> impl Strategy<Value = Record> {
    (
        any::<i64>(),
        ".{0,12}",
        prop::option::of(finite_f64()),
        prop::collection::vec(".{0,6}", 0..4),
        prop::collection::btree_map(".{0,6}", any::<i32>(), 0..4),
        shape(),
        datetime(),
        (0u64..1_000_000_000, 0u32..1_000_000).prop_map(|(s, us)| Duration::new(s, us * 1000)),
        prop::collection::vec(leaf(), 0..3),
    )
        .prop_map(
            |(id, name, score, tags, attrs, shape, at, elapsed, children)| Record {
                id,
                name,
                score,
                tags,
                attrs,
                shape,
                at,
                elapsed,
                children,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn integers(a in any::<i8>(), b in any::<i16>(), c in any::<i32>(), d in any::<i64>(),
                e in any::<u8>(), f in any::<u16>(), g in any::<u32>()) {
        round_trip(&a)?; round_trip(&b)?; round_trip(&c)?; round_trip(&d)?;
        round_trip(&e)?; round_trip(&f)?; round_trip(&g)?;
    }

    #[test]
    fn floats(a in finite_f64(), b in prop::num::f32::NORMAL | prop::num::f32::ZERO) {
        round_trip(&a)?;
        round_trip(&b)?;
    }

    #[test]
    fn strings_and_bools(s in ".*", b in any::<bool>()) {
        round_trip(&s)?;
        round_trip(&b)?;
    }

    #[test]
    fn datetimes_and_durations(t in datetime(), d in duration()) {
        round_trip(&t)?;
        round_trip(&d)?;
    }

    #[test]
    fn collections(v in prop::collection::vec(any::<i64>(), 0..20),
                   vv in prop::collection::vec(prop::collection::vec(".{0,5}", 0..4), 0..4),
                   vo in prop::collection::vec(any::<Option<i32>>(), 0..10)) {
        round_trip(&v)?;
        round_trip(&vv)?;
        round_trip(&vo)?;
    }

    #[test]
    fn maps(h in prop::collection::hash_map(".{0,8}", finite_f64(), 0..8),
            b in prop::collection::btree_map(".{0,8}", prop::collection::vec(any::<bool>(), 0..3), 0..5),
            n in prop::collection::btree_map(".{0,4}", prop::collection::hash_map(".{0,4}", any::<u8>(), 0..3), 0..3)) {
        round_trip(&h)?;
        round_trip(&b)?;
        round_trip(&n)?;
    }

    #[test]
    fn optionals(a in any::<Option<i64>>(), b in prop::option::of(".{0,8}"),
                 c in prop::option::of(prop::collection::vec(any::<u32>(), 0..4)), d in prop::option::of(datetime())) {
        round_trip(&a)?;
        round_trip(&b)?;
        round_trip(&c)?;
        round_trip(&d)?;
    }

    #[test]
    fn enums_and_structs(s in shape(), r in record(), rs in prop::collection::vec(record(), 0..3),
                         o in prop::option::of(record()), m in prop::collection::hash_map(".{0,4}", leaf(), 0..3)) {
        round_trip(&s)?;
        round_trip(&r)?;
        round_trip(&rs)?;
        round_trip(&o)?;
        round_trip(&m)?;
    }
}

#[test]
fn hash_map_round_trip_keeps_every_entry() {
    let map: HashMap<String, i64> = (0..100).map(|i| (format!("k{i}"), i)).collect();
    round_trip(&map).expect("round trip");
}
