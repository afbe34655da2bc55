//! `literal_from_json` / `literal_to_json`: what `run WF --x ...` and output printing rely on.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use flytekit::idl::core::Literal;
use flytekit::prelude::*;
use flytekit::type_engine::{ConversionContext, literal_from_json, literal_to_json};
use futures::executor::block_on;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, FlyteType)]
#[serde(rename_all = "lowercase")]
enum Color {
    Red,
    Green,
}

fn parse<T: FlyteType>(value: serde_json::Value) -> T {
    let literal =
        literal_from_json(&T::literal_type(), &value).unwrap_or_else(|e| panic!("{value}: {e}"));
    block_on(T::from_literal(&literal, &ConversionContext::in_memory()))
        .unwrap_or_else(|e| panic!("{value}: {e}"))
}

fn parse_err<T: FlyteType>(value: serde_json::Value) -> String {
    match literal_from_json(&T::literal_type(), &value) {
        Ok(l) => panic!("{value} should not parse, got {l:?}"),
        Err(e) => e.to_string(),
    }
}

fn literal_of<T: FlyteType>(value: &T) -> Literal {
    block_on(value.to_literal(&ConversionContext::in_memory())).expect("to literal")
}

#[test]
fn command_line_scalars() {
    assert_eq!(parse::<i64>(json!(3)), 3);
    assert_eq!(parse::<i64>(json!("-3")), -3);
    assert_eq!(parse::<f64>(json!("1.5")), 1.5);
    assert_eq!(parse::<f64>(json!(2)), 2.0);
    assert_eq!(parse::<String>(json!("hi")), "hi");
    assert_eq!(parse::<String>(json!(42)), "42");
    assert!(parse::<bool>(json!("true")));
    assert!(!parse::<bool>(json!(false)));
    let t: DateTime<Utc> = parse(json!("2024-01-31T12:00:00Z"));
    assert_eq!(t.to_rfc3339(), "2024-01-31T12:00:00+00:00");
    let t: DateTime<Utc> = parse(json!("2024-01-31"));
    assert_eq!(t.to_rfc3339(), "2024-01-31T00:00:00+00:00");
    let t: DateTime<Utc> = parse(json!("2024-01-31T12:00:00.25"));
    assert_eq!(t.timestamp_subsec_millis(), 250);
    assert_eq!(parse::<Duration>(json!(90)), Duration::from_secs(90));
    assert_eq!(
        parse::<Duration>(json!("1.5s")),
        Duration::from_millis(1500)
    );
    assert_eq!(parse::<Duration>(json!("2m")), Duration::from_secs(120));
    assert_eq!(
        parse::<Duration>(json!("250ms")),
        Duration::from_millis(250)
    );
    assert_eq!(parse::<Color>(json!("green")), Color::Green);
}

#[test]
fn structured_values() {
    assert_eq!(parse::<Vec<i64>>(json!([1, "2", 3])), vec![1, 2, 3]);
    assert_eq!(
        parse::<BTreeMap<String, Vec<f64>>>(json!({"a": [1.5], "b": []})),
        BTreeMap::from([("a".to_string(), vec![1.5]), ("b".to_string(), vec![])])
    );
    assert_eq!(
        parse::<Point>(json!({"x": 1.5, "y": 2})),
        Point { x: 1.5, y: 2.0 }
    );
    assert_eq!(parse::<Option<Point>>(json!(null)), None);
    assert_eq!(
        parse::<Vec<Option<i64>>>(json!([1, null])),
        vec![Some(1), None]
    );
    let file: FlyteFile = FlyteFile::from_uri("s3://bucket/key.txt");
    let literal = literal_from_json(&<FlyteFile>::literal_type(), &json!("s3://bucket/key.txt"))
        .expect("blob");
    assert_eq!(literal, literal_of(&file));
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct Job {
    weight: f64,
    #[serde(with = "flytekit::type_engine::serde_duration")]
    timeout: Duration,
    points: Vec<Point>,
    limits: Option<BTreeMap<String, f64>>,
}

#[test]
fn struct_fields_are_coerced_to_their_declared_types() {
    let job: Job = parse(json!({
        "weight": 2,
        "timeout": "1.5m",
        "points": [{"x": 1, "y": 2}],
        "limits": {"cpu": 4},
    }));
    assert_eq!(
        job,
        Job {
            weight: 2.0,
            timeout: Duration::from_secs(90),
            points: vec![Point { x: 1.0, y: 2.0 }],
            limits: Some(BTreeMap::from([("cpu".to_string(), 4.0)])),
        }
    );
    // The msgpack holds floats where the dataclass has floats (mashumaro reads them as such).
    let literal = literal_from_json(
        &Job::literal_type(),
        &json!({"weight": 2, "timeout": 1, "points": [], "limits": null}),
    )
    .expect("struct");
    assert_eq!(
        literal_to_json(&literal),
        json!({"weight": 2.0, "timeout": 1.0, "points": [], "limits": null})
    );
}

#[test]
fn optionals_are_built_exactly_as_flytekit_writes_them() {
    let t = <Option<i64>>::literal_type();
    assert_eq!(
        literal_from_json(&t, &json!(3)).expect("3"),
        literal_of(&Some(3i64))
    );
    assert_eq!(
        literal_from_json(&t, &json!(null)).expect("null"),
        literal_of(&None::<i64>)
    );
}

#[test]
fn bad_input_says_what_was_expected() {
    assert!(parse_err::<i64>(json!("three")).contains("\"three\" is not an integer"));
    assert!(parse_err::<i64>(json!(1.5)).contains("not a 64-bit integer"));
    assert!(parse_err::<Vec<i64>>(json!({"a": 1})).contains("collection of INTEGER"));
    let e = parse_err::<Vec<i64>>(json!([1, "x"]));
    assert!(
        e.contains("at [1]") && e.contains("\"x\" is not an integer"),
        "{e}"
    );
    assert!(parse_err::<Color>(json!("blue")).contains("\"blue\" is not one of [red, green]"));
    assert!(parse_err::<DateTime<Utc>>(json!("yesterday")).contains("RFC 3339"));
    assert!(parse_err::<Duration>(json!("soon")).contains("not a duration"));
    assert!(parse_err::<bool>(json!("maybe")).contains("use true or false"));
    assert!(parse_err::<Option<i64>>(json!("x")).contains("no variant accepts"));
}

#[test]
fn rendering_outputs() {
    let t: DateTime<Utc> = parse(json!("2024-01-31T12:00:00.5Z"));
    assert_eq!(
        literal_to_json(&literal_of(&t)),
        json!("2024-01-31T12:00:00.500Z")
    );
    assert_eq!(
        literal_to_json(&literal_of(&Duration::from_millis(90_500))),
        json!("90.5s")
    );
    assert_eq!(
        literal_to_json(&literal_of(&Some(vec![1i64, 2]))),
        json!([1, 2])
    );
    assert_eq!(literal_to_json(&literal_of(&None::<String>)), json!(null));
    assert_eq!(
        literal_to_json(&literal_of(&Point { x: 1.0, y: -0.5 })),
        json!({"x": 1.0, "y": -0.5})
    );
    assert_eq!(literal_to_json(&literal_of(&Color::Red)), json!("red"));
    assert_eq!(
        literal_to_json(&literal_of(&BTreeMap::from([("k".to_string(), 1.5f64)]))),
        json!({"k": 1.5})
    );
}
