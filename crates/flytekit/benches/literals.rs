//! Literal conversion throughput: a `Vec<i64>` of 1,000,000 elements through the type engine and
//! the literal codec (to literal, encode, decode, back to a `Vec`) next to plain prost
//! encode/decode of the same `LiteralMap`.
//!
//! `cargo bench -p flytekit --bench literals`. `bench/literals.sh` compares with Python flytekit.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use flytekit::idl::Message;
use flytekit::idl::codec::{decode_literal_map, encode_literal_map};
use flytekit::idl::core::LiteralMap;
use flytekit::type_engine::{ConversionContext, FlyteType, read_input, to_literal_map};
use futures::executor::block_on;

const N: i64 = 1_000_000;

fn literals(c: &mut Criterion) {
    let cx = ConversionContext::in_memory();
    let values: Vec<i64> = (0..N).collect();
    let map = block_on(to_literal_map("xs", &values, &cx)).expect("to literal");
    let bytes = map.encode_to_vec();

    let mut group = c.benchmark_group("vec_i64_1m");
    group.sample_size(10);
    group.bench_function("to_literal", |b| {
        b.iter(|| block_on(black_box(&values).to_literal(&cx)))
    });
    group.bench_function("encode", |b| b.iter(|| encode_literal_map(black_box(&map))));
    group.bench_function("decode", |b| {
        b.iter(|| decode_literal_map(black_box(bytes.as_slice())))
    });
    group.bench_function("from_literal", |b| {
        b.iter(|| block_on(read_input::<Vec<i64>>(black_box(&map), "xs", &cx)))
    });
    group.bench_function("round_trip", |b| {
        b.iter(|| {
            let map = block_on(to_literal_map("xs", black_box(&values), &cx)).expect("to literal");
            let bytes = encode_literal_map(&map);
            let decoded = decode_literal_map(&bytes).expect("decode");
            block_on(read_input::<Vec<i64>>(&decoded, "xs", &cx)).expect("from literal")
        })
    });
    group.bench_function("prost_encode_decode", |b| {
        b.iter(|| {
            let bytes = black_box(&map).encode_to_vec();
            LiteralMap::decode(bytes.as_slice()).expect("decode")
        })
    });
    group.finish();
}

criterion_group!(benches, literals);
criterion_main!(benches);
