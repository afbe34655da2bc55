//! Tasks that `tests/hostile_inputs.rs` attacks through the container entrypoint: malformed and
//! offloaded inputs, odd paths, numbers of the other kind, structs with trailing bytes, files
//! that are directories, huge values in decks. The same tasks exist in Python
//! (`conformance/hostile_tasks.py`), so the test can compare the answers with flytekit's.
//!
//! ```text
//! cargo run --example hostile -- execute --inputs inputs.pb --output-prefix out/ \
//!     --resolver flytekit.resolver.default -- task-module hostile task-name add
//! ```

use flytekit::prelude::*;
use serde::{Deserialize, Serialize};

/// Adds two numbers.
#[task]
pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Doubles a float (reads integers too, as flytekit does).
#[task]
pub fn scale(x: f64) -> f64 {
    x * 2.0
}

/// Doubles an integer (reads floats too, truncated, as flytekit does).
#[task]
pub fn twice(x: i64) -> i64 {
    x * 2
}

/// A point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FlyteType)]
pub struct Point {
    /// Horizontal.
    pub x: i64,
    /// Vertical.
    pub y: i64,
}

/// The Manhattan norm of a point.
#[task]
pub fn norm(p: Point) -> i64 {
    p.x.abs() + p.y.abs()
}

/// The number of elements of a list.
#[task]
pub fn count(xs: Vec<i64>) -> i64 {
    xs.len() as i64
}

/// The size of a file, in bytes.
#[task]
pub fn size(f: FlyteFile) -> Result<i64, std::io::Error> {
    Ok(std::fs::metadata(f.path())?.len() as i64)
}

/// Returns its input: with decks on, the Input and Output decks show it.
#[task(enable_deck = true)]
pub fn echo(s: String) -> String {
    s
}

/// Refuses a negative number with a non-recoverable error, though it has retries: a local `run`
/// must not retry it (Propeller retries only recoverable errors).
#[task(retries = 3)]
pub fn strict(x: i64) -> Result<i64, UserError> {
    if x < 0 {
        return Err(UserError::new("Negative", format!("{x} is negative")));
    }
    Ok(x)
}

/// Reads a secret and returns its length (never the value).
#[task(secret(group = "db", key = "password"))]
pub fn secret_len(cx: &ExecutionContext, x: i64) -> Result<i64, flytekit::secrets::SecretError> {
    Ok(cx.secret("db", "password")?.expose().len() as i64 + x)
}

fn main() {
    flytekit::main()
}
