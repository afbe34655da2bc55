//! No panics on any input: arbitrary bytes and corrupted encodings of real literals, decoded as
//! `Literal`/`LiteralMap` and converted to many Rust types, give values or `TypeError`s.
//! (The same checks run under libFuzzer in `fuzz/`.)

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use flytekit::idl::Message;
use flytekit::idl::core::{Literal, LiteralMap};
use flytekit::prelude::*;
use flytekit::type_engine::{
    ConversionContext, describe_literal, literal_from_json, literal_to_json, read_input,
};
use futures::executor::block_on;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
enum Color {
    #[serde(rename = "red")]
    Red,
    #[serde(rename = "green")]
    Green,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct Inner {
    name: String,
    weights: Vec<f64>,
    color: Option<Color>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct Outer {
    id: i64,
    inner: Inner,
    by_key: HashMap<String, Inner>,
    when: Option<DateTime<Utc>>,
}

fn convert_all(literal: &Literal) {
    let cx = ConversionContext::in_memory();
    macro_rules! try_read {
        ($($t:ty),*) => {$( let _ = block_on(<$t as FlyteType>::from_literal(literal, &cx)); )*};
    }
    try_read!(
        i64,
        u8,
        i32,
        f32,
        f64,
        bool,
        String,
        DateTime<Utc>,
        Duration,
        (),
        Vec<i64>,
        Vec<Vec<String>>
    );
    try_read!(HashMap<String, f64>, BTreeMap<String, Vec<Option<i32>>>, Option<i64>, Option<Option<String>>);
    try_read!(Color, Inner, Outer, Vec<Outer>);
    let json = literal_to_json(literal);
    let _ = describe_literal(literal);
    for t in [
        <Outer>::literal_type(),
        <Vec<Option<Color>>>::literal_type(),
        <HashMap<String, Duration>>::literal_type(),
    ] {
        let _ = literal_from_json(&t, &json);
    }
}

/// Encoded literals of several shapes, to corrupt.
fn seeds() -> Vec<Vec<u8>> {
    let cx = ConversionContext::in_memory();
    let outer = Outer {
        id: 1,
        inner: Inner {
            name: "n".into(),
            weights: vec![1.0],
            color: Some(Color::Green),
        },
        by_key: HashMap::from([(
            "k".into(),
            Inner {
                name: "m".into(),
                weights: vec![],
                color: None,
            },
        )]),
        when: Some(DateTime::from_timestamp(1_700_000_000, 5).expect("valid")),
    };
    let literals = [
        block_on(outer.to_literal(&cx)),
        block_on(vec![Some(1i64), None].to_literal(&cx)),
        block_on(
            BTreeMap::from([("a".to_string(), vec![Duration::from_millis(5)])]).to_literal(&cx),
        ),
        block_on(Some(vec![Some("x".to_string())]).to_literal(&cx)),
        block_on(
            DateTime::<Utc>::from_timestamp(0, 0)
                .expect("epoch")
                .to_literal(&cx),
        ),
    ];
    literals
        .into_iter()
        .map(|l| l.expect("to literal").encode_to_vec())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(literal) = Literal::decode(data.as_slice()) {
            convert_all(&literal);
        }
        if let Ok(map) = LiteralMap::decode(data.as_slice()) {
            let cx = ConversionContext::in_memory();
            let _ = block_on(read_input::<Option<Outer>>(&map, "x", &cx));
            for literal in map.literals.values() {
                convert_all(literal);
            }
        }
    }

    #[test]
    fn corrupted_literals(seed in 0usize..5, edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut data = seeds()[seed].clone();
        for (index, byte) in edits {
            let i = index.index(data.len());
            data[i] = byte;
        }
        if let Ok(literal) = Literal::decode(data.as_slice()) {
            convert_all(&literal);
        }
    }

    #[test]
    fn arbitrary_json(text in "[\\[\\]{}\",:0-9a-z. -]{0,64}") {
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
            for t in [<Outer>::literal_type(), <Vec<Option<Color>>>::literal_type(), <Option<Duration>>::literal_type()] {
                if let Ok(literal) = literal_from_json(&t, &json) {
                    convert_all(&literal);
                }
            }
        }
    }
}
