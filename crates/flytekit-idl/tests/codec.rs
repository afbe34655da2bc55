//! `codec` writes what prost writes and reads what prost reads, for generated literal maps and
//! for arbitrary bytes.

use std::collections::BTreeMap;

use flytekit_idl::Message;
use flytekit_idl::codec::{decode_literal_map, encode_literal_map};
use flytekit_idl::core::{
    Blob, BlobMetadata, Literal, LiteralCollection, LiteralMap, Primitive, Scalar, Void, literal,
    primitive, scalar,
};
use proptest::prelude::*;

fn primitive() -> impl Strategy<Value = primitive::Value> {
    prop_oneof![
        any::<i64>().prop_map(primitive::Value::Integer),
        any::<f64>().prop_map(primitive::Value::FloatValue),
        ".{0,12}".prop_map(primitive::Value::StringValue),
        any::<bool>().prop_map(primitive::Value::Boolean),
        (any::<i64>(), 0..1_000_000_000i32).prop_map(|(seconds, nanos)| {
            primitive::Value::Datetime(flytekit_idl::wkt::Timestamp { seconds, nanos })
        }),
    ]
}

fn scalar_value() -> impl Strategy<Value = Option<scalar::Value>> {
    prop_oneof![
        6 => primitive().prop_map(|v| Some(scalar::Value::Primitive(Primitive { value: Some(v) }))),
        1 => Just(Some(scalar::Value::NoneType(Void {}))),
        1 => "[a-z]{0,8}".prop_map(|uri| Some(scalar::Value::Blob(Box::new(Blob {
            metadata: Some(BlobMetadata::default()),
            uri,
        })))),
        1 => Just(None),
    ]
}

fn leaf() -> impl Strategy<Value = Literal> {
    (
        scalar_value(),
        prop_oneof![4 => Just(String::new()), 1 => "[a-f0-9]{1,6}"],
        prop::collection::btree_map("[a-z]{0,3}", "[a-z]{0,3}", 0..2),
    )
        .prop_map(
            |(value, hash, metadata): (_, _, BTreeMap<String, String>)| Literal {
                value: Some(literal::Value::Scalar(Scalar { value })),
                hash,
                metadata,
            },
        )
}

fn literal_tree() -> impl Strategy<Value = Literal> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(|literals| Literal {
                value: Some(literal::Value::Collection(LiteralCollection { literals })),
                ..Default::default()
            }),
            prop::collection::btree_map("[a-z]{0,4}", inner, 0..4).prop_map(|literals| Literal {
                value: Some(literal::Value::Map(Box::new(LiteralMap { literals }))),
                ..Default::default()
            }),
            Just(Literal::default()),
        ]
    })
}

fn literal_map() -> impl Strategy<Value = LiteralMap> {
    prop::collection::btree_map("[a-z]{0,4}", literal_tree(), 0..4)
        .prop_map(|literals: BTreeMap<String, Literal>| LiteralMap { literals })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encodes_like_prost_and_decodes_back(map in literal_map()) {
        let ours = encode_literal_map(&map);
        prop_assert_eq!(&ours, &map.encode_to_vec());
        let back = decode_literal_map(&ours).expect("decodes");
        prop_assert!(same(&back, &map));
    }

    #[test]
    fn arbitrary_bytes_decode_as_prost_decodes_them(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        match (decode_literal_map(&bytes), LiteralMap::decode(bytes.as_slice())) {
            (Ok(a), Ok(b)) => prop_assert!(same(&a, &b)),
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "ours {:?}, prost {:?}", a, b),
        }
    }

    #[test]
    fn mutated_encodings_decode_as_prost_decodes_them(
        map in literal_map(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = map.encode_to_vec();
        if !bytes.is_empty() {
            for (i, x) in flips {
                let i = i.index(bytes.len());
                bytes[i] ^= x;
            }
        }
        match (decode_literal_map(&bytes), LiteralMap::decode(bytes.as_slice())) {
            (Ok(a), Ok(b)) => prop_assert!(same(&a, &b), "{:02x?}", bytes),
            (Err(_), Err(_)) => {}
            (a, b) => prop_assert!(false, "ours {:?}, prost {:?}", a, b),
        }
    }
}

/// Equal, counting NaN floats as equal (a NaN is not equal to itself).
fn same(a: &LiteralMap, b: &LiteralMap) -> bool {
    let (mut a, mut b) = (a.clone(), b.clone());
    a.literals.values_mut().for_each(without_nan);
    b.literals.values_mut().for_each(without_nan);
    a == b
}

fn without_nan(l: &mut Literal) {
    match l.value.as_mut() {
        Some(literal::Value::Scalar(s)) => match s.value.as_mut() {
            Some(scalar::Value::Primitive(Primitive {
                value: Some(primitive::Value::FloatValue(f)),
            })) if f.is_nan() => *f = 0.0,
            Some(scalar::Value::Union(u)) => {
                if let Some(v) = u.value.as_mut() {
                    without_nan(v);
                }
            }
            _ => {}
        },
        Some(literal::Value::Collection(c)) => c.literals.iter_mut().for_each(without_nan),
        Some(literal::Value::Map(m)) => m.literals.values_mut().for_each(without_nan),
        _ => {}
    }
}
