//! The Rust half of `bench/literals.sh`: times a 1,000,000-element `Vec<i64>` round trip through
//! the type engine and the literal codec (to literal, encode, decode, back to a `Vec`: what a task's
//! inputs and outputs go through) and plain prost encode + decode of the same `LiteralMap`, and
//! prints the medians as JSON.
//!
//! `cargo run --release -p flytekit --example bench_literals -- [n] [repeats]`

use std::time::Instant;

use flytekit::idl::Message;
use flytekit::idl::codec::{decode_literal_map, encode_literal_map};
use flytekit::idl::core::LiteralMap;
use flytekit::type_engine::{ConversionContext, TypeError, read_input, to_literal_map};
use futures::executor::block_on;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: i64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let repeats: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(21)
        .max(1);
    let cx = ConversionContext::in_memory();
    let values: Vec<i64> = (0..n).collect();

    let mut round_trip = Vec::with_capacity(repeats);
    let mut prost_only = Vec::with_capacity(repeats);
    let mut stages = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..repeats {
        let t0 = Instant::now();
        let map = block_on(to_literal_map("xs", &values, &cx))?;
        let t1 = Instant::now();
        let bytes = encode_literal_map(&map);
        let t2 = Instant::now();
        let decoded = decode_literal_map(&bytes)?;
        let t3 = Instant::now();
        let back: Vec<i64> = block_on(read_input(&decoded, "xs", &cx))?;
        let t4 = Instant::now();
        if back.len() != values.len() {
            return Err(Box::new(TypeError::Other(
                "round trip lost elements".into(),
            )));
        }
        round_trip.push((t4 - t0).as_secs_f64());
        for (i, (a, b)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4)]
            .into_iter()
            .enumerate()
        {
            stages[i].push((b - a).as_secs_f64());
        }

        let p0 = Instant::now();
        let bytes = map.encode_to_vec();
        let again = LiteralMap::decode(bytes.as_slice())?;
        prost_only.push(p0.elapsed().as_secs_f64());
        drop((again, decoded, back));
    }
    let [to_literal, encode, decode, from_literal] = stages.map(median);
    println!(
        "{}",
        serde_json::json!({
            "n": n,
            "repeats": repeats,
            "rust_round_trip_s": median(round_trip),
            "prost_encode_decode_s": median(prost_only),
            "rust_stages_s": {"to_literal": to_literal, "encode": encode, "decode": decode, "from_literal": from_literal},
        })
    );
    Ok(())
}
