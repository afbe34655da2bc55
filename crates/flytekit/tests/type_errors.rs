//! Errors of the type engine: overflow, type mismatch (naming the variable, the expected and the
//! received type) and malformed literals. None of them panics.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use flytekit::idl::core::{
    Binary, Blob, BlobMetadata, BlobType, Literal, LiteralMap, LiteralOffloadedMetadata, Primitive,
    Scalar, Union, literal, primitive, scalar,
};
use flytekit::prelude::*;
use flytekit::type_engine::literals::{none_literal, primitive_literal, scalar_literal};
use flytekit::type_engine::{ConversionContext, TypeError, read_input};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, FlyteType)]
enum Color {
    #[serde(rename = "red")]
    Red,
    #[flyte(rename = "green")]
    #[serde(rename = "green")]
    Green,
}

fn int(v: i64) -> Literal {
    primitive_literal(primitive::Value::Integer(v))
}

fn string(v: &str) -> Literal {
    primitive_literal(primitive::Value::StringValue(v.to_string()))
}

fn inputs(name: &str, literal: Literal) -> LiteralMap {
    LiteralMap {
        literals: std::collections::BTreeMap::from([(name.to_string(), literal)]),
    }
}

async fn read<T: FlyteType>(literal: Literal) -> Result<T, TypeError> {
    read_input::<T>(&inputs("x", literal), "x", &ConversionContext::in_memory()).await
}

async fn error<T: FlyteType + std::fmt::Debug>(literal: Literal) -> String {
    match read::<T>(literal).await {
        Ok(v) => panic!("expected an error, read {v:?}"),
        Err(e) => e.to_string(),
    }
}

fn assert_contains(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "{message:?} should contain {part:?}"
        );
    }
}

#[tokio::test]
async fn narrowing_overflow_is_a_clear_error() {
    let e = read::<u8>(int(300)).await.expect_err("300 does not fit u8");
    assert!(
        matches!(&e, TypeError::Variable { source, .. } if matches!(**source, TypeError::Overflow { target: "u8", .. }))
    );
    assert_contains(&e.to_string(), &["variable 'x'", "300", "u8", "wider type"]);
    assert_contains(&error::<u32>(int(-1)).await, &["-1", "u32"]);
    assert_contains(
        &error::<i32>(int(i64::MAX)).await,
        &["9223372036854775807", "i32"],
    );
    assert_contains(&error::<i8>(int(-129)).await, &["-129", "i8"]);
    assert_contains(&error::<u16>(int(65536)).await, &["65536", "u16"]);
    assert_contains(&error::<i16>(int(40000)).await, &["40000", "i16"]);
    assert_contains(
        &error::<f32>(primitive_literal(primitive::Value::FloatValue(1e300))).await,
        &["f32"],
    );
    assert_eq!(
        read::<u32>(int(u32::MAX.into())).await.expect("fits"),
        u32::MAX
    );
    assert_eq!(read::<i8>(int(-128)).await.expect("fits"), -128);
}

#[tokio::test]
async fn mismatch_names_variable_expected_and_received() {
    let m = error::<i64>(string("abc")).await;
    assert_contains(
        &m,
        &[
            "variable 'x'",
            "expected INTEGER",
            "received STRING \"abc\"",
        ],
    );
    let m = error::<Vec<String>>(int(3)).await;
    assert_contains(&m, &["expected collection of STRING", "received INTEGER 3"]);
    let m = error::<HashMap<String, Vec<f64>>>(string("s")).await;
    assert_contains(&m, &["expected map of collection of FLOAT"]);
    let m = error::<Point>(int(1)).await;
    assert_contains(&m, &["expected struct Point", "received INTEGER 1"]);
    let m = error::<Option<bool>>(string("t")).await;
    assert_contains(&m, &["expected BOOLEAN", "received STRING"]);
    let m = error::<Color>(int(1)).await;
    assert_contains(&m, &["expected enum {red, green}"]);
    let m = error::<FlyteFile>(int(1)).await;
    assert_contains(&m, &["expected file", "received INTEGER 1"]);
    let m = error::<DateTime<Utc>>(primitive_literal(primitive::Value::FloatValue(1.0))).await;
    assert_contains(&m, &["expected DATETIME", "received FLOAT 1"]);
}

#[tokio::test]
async fn errors_inside_collections_say_where() {
    let list = Literal {
        value: Some(literal::Value::Collection(
            flytekit::idl::core::LiteralCollection {
                literals: vec![int(1), string("two")],
            },
        )),
        ..Default::default()
    };
    let m = error::<Vec<i64>>(list).await;
    assert_contains(
        &m,
        &[
            "variable 'x'",
            "at [1]",
            "expected INTEGER",
            "received STRING \"two\"",
        ],
    );
    let map = Literal {
        value: Some(literal::Value::Map(Box::new(LiteralMap {
            literals: std::collections::BTreeMap::from([("k".to_string(), int(1000))]),
        }))),
        ..Default::default()
    };
    assert_contains(
        &error::<HashMap<String, u8>>(map).await,
        &["at [\"k\"]", "1000", "u8"],
    );
}

/// Long lists of numbers, strings and booleans are read on several threads: the error is still
/// the first bad element's, and good lists read back in order.
#[tokio::test]
async fn errors_in_long_lists_name_the_first_bad_element() {
    let n: usize = 300_000;
    let list = |items: Vec<Literal>| Literal {
        value: Some(literal::Value::Collection(
            flytekit::idl::core::LiteralCollection { literals: items },
        )),
        ..Default::default()
    };
    let mut items: Vec<Literal> = (0..n).map(|i| int((i % 100) as i64)).collect();
    items[250_123] = int(1000);
    items[123_456] = int(-1);
    assert_contains(
        &error::<Vec<u8>>(list(items.clone())).await,
        &["at [123456]", "-1", "u8"],
    );
    items[123_456] = int(7);
    items[250_123] = string("x");
    assert_contains(
        &error::<Vec<i64>>(list(items.clone())).await,
        &["at [250123]", "expected INTEGER"],
    );
    items[250_123] = int(99);
    let read_back: Vec<u8> = read(list(items)).await.unwrap();
    let expected = |i: usize| match i {
        123_456 => 7,
        250_123 => 99,
        _ => (i % 100) as u8,
    };
    assert_eq!(read_back.len(), n);
    assert!(read_back.iter().enumerate().all(|(i, v)| *v == expected(i)));
    let strings: Vec<String> = read(list((0..n).map(|i| string(&i.to_string())).collect()))
        .await
        .unwrap();
    assert!(strings.iter().enumerate().all(|(i, s)| *s == i.to_string()));
}

#[tokio::test]
async fn missing_variable() {
    let e = read_input::<i64>(&LiteralMap::default(), "n", &ConversionContext::in_memory())
        .await
        .expect_err("missing");
    assert_eq!(e.to_string(), "missing variable 'n'");
}

#[tokio::test]
async fn negative_durations_from_python_are_rejected() {
    // Python's timedelta(seconds=-1.5) as flytekit writes it.
    let lit = primitive_literal(primitive::Value::Duration(prost_types::Duration {
        seconds: -1,
        nanos: -500_000_000,
    }));
    assert_contains(
        &error::<Duration>(lit).await,
        &["negative duration", "std::time::Duration"],
    );
}

#[tokio::test]
async fn malformed_literals_are_errors() {
    let empty = Literal::default();
    assert_contains(
        &error::<i64>(empty.clone()).await,
        &["received an empty literal"],
    );
    assert_contains(
        &error::<Vec<i64>>(empty.clone()).await,
        &["received an empty literal"],
    );
    assert_contains(
        &error::<Option<i64>>(empty.clone()).await,
        &["received an empty literal"],
    );
    let empty_scalar = Literal {
        value: Some(literal::Value::Scalar(Scalar { value: None })),
        ..Default::default()
    };
    assert_contains(&error::<String>(empty_scalar).await, &["empty scalar"]);
    let empty_primitive = scalar_literal(scalar::Value::Primitive(Primitive { value: None }));
    assert_contains(&error::<bool>(empty_primitive).await, &["empty primitive"]);
    let empty_union = scalar_literal(scalar::Value::Union(Box::new(Union {
        value: None,
        r#type: None,
    })));
    assert_contains(
        &error::<Option<i64>>(empty_union.clone()).await,
        &["empty union"],
    );
    assert_contains(&error::<i64>(empty_union).await, &["empty union"]);
    let bad_time = primitive_literal(primitive::Value::Datetime(prost_types::Timestamp {
        seconds: 0,
        nanos: -1,
    }));
    assert_contains(
        &error::<DateTime<Utc>>(bad_time).await,
        &["invalid DATETIME", "nanos"],
    );
    let far = primitive_literal(primitive::Value::Datetime(prost_types::Timestamp {
        seconds: i64::MAX,
        nanos: 0,
    }));
    assert_contains(&error::<DateTime<Utc>>(far).await, &["outside the range"]);
    let garbage = scalar_literal(scalar::Value::Binary(Box::new(Binary {
        value: vec![0xc1, 0xff, 0x00],
        tag: "msgpack".into(),
    })));
    assert_contains(
        &error::<Point>(garbage).await,
        &["cannot decode msgpack", "Point"],
    );
    let other_tag = scalar_literal(scalar::Value::Binary(Box::new(Binary {
        value: vec![],
        tag: "pickle".into(),
    })));
    assert_contains(
        &error::<Point>(other_tag).await,
        &["unsupported binary tag \"pickle\""],
    );
    assert_contains(
        &error::<Color>(string("purple")).await,
        &["\"purple\" is not one of the enum's values [red, green]"],
    );
    let dir_blob = scalar_literal(scalar::Value::Blob(Box::new(Blob {
        metadata: Some(BlobMetadata {
            r#type: Some(BlobType {
                format: String::new(),
                dimensionality: 1,
            }),
        }),
        uri: "memory://b/k".into(),
    })));
    assert_contains(
        &error::<FlyteFile>(dir_blob).await,
        &["expected file", "received directory memory://b/k"],
    );
    let no_uri = scalar_literal(scalar::Value::Blob(Box::new(Blob {
        metadata: None,
        uri: String::new(),
    })));
    assert_contains(&error::<FlyteFile>(no_uri).await, &["no URI"]);
    let missing_object = scalar_literal(scalar::Value::Blob(Box::new(Blob {
        metadata: None,
        uri: "memory://nowhere/f".into(),
    })));
    assert_contains(
        &error::<FlyteFile>(missing_object).await,
        &["memory://nowhere/f", "not found"],
    );
    let offloaded = Literal {
        value: Some(literal::Value::OffloadedMetadata(Box::new(
            LiteralOffloadedMetadata {
                uri: "s3://b/off".into(),
                size_bytes: 1,
                inferred_type: None,
            },
        ))),
        ..Default::default()
    };
    assert_contains(
        &error::<Vec<i64>>(offloaded).await,
        &["offloaded literal at s3://b/off"],
    );
}

#[tokio::test]
async fn optionals_accept_wrapped_and_bare_values() {
    assert_eq!(
        read::<Option<i64>>(int(4)).await.expect("bare value"),
        Some(4)
    );
    assert_eq!(
        read::<Option<i64>>(none_literal())
            .await
            .expect("bare none"),
        None
    );
    let wrapped = scalar_literal(scalar::Value::Union(Box::new(Union {
        value: Some(Box::new(int(9))),
        r#type: None,
    })));
    assert_eq!(
        read::<Option<i64>>(wrapped.clone()).await.expect("wrapped"),
        Some(9)
    );
    // A non-optional reader accepts a union-wrapped value too.
    assert_eq!(read::<i64>(wrapped).await.expect("unwrapped"), 9);
    assert_eq!(read::<()>(none_literal()).await.expect("unit"), ());
}

#[tokio::test]
async fn legacy_json_structs_are_read() {
    // The `generic` Struct form older flytekit writes: every number is a double.
    let json = serde_json::json!({"x": 1.0, "y": -2.5});
    let s = flytekit::type_engine::dataclass::json_to_struct(&json).expect("object");
    let lit = scalar_literal(scalar::Value::Generic(s));
    assert_eq!(
        read::<Point>(lit).await.expect("legacy struct"),
        Point { x: 1.0, y: -2.5 }
    );
}

#[tokio::test]
async fn enum_renames_are_honoured() {
    assert_eq!(
        read::<Color>(string("green")).await.expect("green"),
        Color::Green
    );
    let t = <Color as FlyteType>::literal_type();
    assert_eq!(
        flytekit::type_engine::describe_type(&t),
        "enum {red, green}"
    );
}

#[tokio::test]
async fn deeply_nested_msgpack_is_rejected_not_a_stack_overflow() {
    // 100,000 nested one-element arrays.
    let mut bytes = vec![0x91u8; 100_000];
    bytes.push(0x01);
    let lit = scalar_literal(scalar::Value::Binary(Box::new(Binary {
        value: bytes,
        tag: "msgpack".into(),
    })));
    assert_contains(
        &error::<Point>(lit.clone()).await,
        &["cannot decode msgpack"],
    );
    let json = flytekit::type_engine::literal_to_json(&lit);
    assert!(
        json.get("binary").is_some(),
        "undecodable msgpack renders as base64: {json}"
    );
}
