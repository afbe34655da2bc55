//! Workflows of the quickstart.
//!
//! `pi` estimates π by Monte Carlo sampling: four `sample` nodes run in parallel (a fan-out; each is
//! cached, so a second run with the same inputs is instant), `estimate` gathers their hit counts
//! through a collection binding into an `Estimate` struct, `report` phrases the result, and
//! `save_report` writes it to a Markdown file (a blob output) with a deck. Run it with
//!
//! ```text
//! cargo run --release --example quickstart -- run pi --samples 200000 --name Ada
//! ```
//!
//! Every input has a default, so `run pi` alone works too.

use flytekit::prelude::*;
use serde::{Deserialize, Serialize};

/// The result of a Monte Carlo estimate of π.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FlyteType)]
pub struct Estimate {
    /// The estimate.
    pub pi: f64,
    /// How many points were drawn in total.
    pub samples: i64,
    /// Over how many parallel shards.
    pub shards: i64,
}

/// Draws `samples` points in the unit square with a seeded xorshift generator and returns how many
/// fall inside the quarter circle. Deterministic, hence cacheable.
#[task(cache = true, cache_version = "1")]
pub fn sample(seed: i64, samples: i64) -> i64 {
    let mut state = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut hits = 0;
    for _ in 0..samples.max(0) {
        let (x, y) = (next(), next());
        if x * x + y * y <= 1.0 {
            hits += 1;
        }
    }
    hits
}

/// Combines the hit counts of the shards into an estimate of π.
#[task]
pub fn estimate(hits: Vec<i64>, samples_per_shard: i64) -> Estimate {
    let shards = hits.len() as i64;
    let samples = shards * samples_per_shard.max(0);
    let inside: i64 = hits.iter().sum();
    let pi = if samples == 0 {
        0.0
    } else {
        4.0 * inside as f64 / samples as f64
    };
    Estimate {
        pi,
        samples,
        shards,
    }
}

/// A one-line report for `name`.
#[task]
pub fn report(name: String, estimate: Estimate) -> String {
    format!(
        "Hello {name}: π ≈ {:.5} from {} samples over {} shards (error {:.5})",
        estimate.pi,
        estimate.samples,
        estimate.shards,
        (estimate.pi - std::f64::consts::PI).abs()
    )
}

/// Writes the report to a Markdown file (a blob output) and shows it as a deck.
#[task(enable_deck = true)]
pub fn save_report(cx: &ExecutionContext, report: String) -> Result<FlyteFile, std::io::Error> {
    let markdown = format!("# π report\n\n{report}\n");
    cx.add_deck(Deck::markdown("Report", &markdown));
    let path = cx.working_dir().join("report.md");
    std::fs::write(&path, markdown)?;
    Ok(FlyteFile::new(path))
}

/// Estimates π with four parallel, cached sampling shards, and saves a report file.
#[workflow(defaults(samples = 100_000, name = "world"))]
pub fn pi(samples: i64, name: String) -> (Estimate, String, FlyteFile) {
    let hits: Vec<_> = (0..4i64).map(|seed| sample(seed, samples)).collect();
    let est = estimate(hits, samples);
    let text = report(name, est);
    (est, text, save_report(text))
}
