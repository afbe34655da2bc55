//! Fanning out: map tasks (ArrayNodes) and dynamic workflows. The map-task and dynamic tests and
//! `bench/map.sh` run this binary the way Flyte runs its containers:
//!
//! ```text
//! cargo run --example fanout -- run squares --xs '[1,2,3]'
//! cargo run --example fanout -- map-execute --inputs inputs.pb --output-prefix out/ \
//!     --resolver flytekit.resolver.map -- vars "" resolver flytekit.resolver.default \
//!     task-module fanout task-name square
//! ```

use flytekit::prelude::*;
use serde::{Deserialize, Serialize};

/// Squares a number.
#[task]
pub fn square(x: i64) -> i64 {
    x * x
}

/// Adds two numbers (retried once when it fails).
#[task(retries = 1)]
pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Renders a number.
#[task]
pub fn to_str(a: i64) -> String {
    a.to_string()
}

/// Increments.
#[task]
pub fn inc(x: i64) -> i64 {
    x + 1
}

/// Sums a list.
#[task]
pub fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

/// Fails for negative numbers: maps over it show partial success.
#[task]
pub fn sqrt(x: i64) -> Result<f64, UserError> {
    if x < 0 {
        Err(UserError::new(
            "USER:NegativeInput",
            format!("cannot take the square root of {x}"),
        ))
    } else {
        Ok((x as f64).sqrt())
    }
}

/// A point, to check that user types travel through map tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FlyteType)]
pub struct Point {
    /// Horizontal.
    pub x: i64,
    /// Vertical.
    pub y: i64,
}

/// Moves a point.
#[task]
pub fn shift(p: Point, dx: i64) -> Point {
    Point {
        x: p.x + dx,
        y: p.y,
    }
}

/// Squares every element.
#[workflow]
pub fn squares(xs: Vec<i64>) -> Vec<i64> {
    square::map(xs)
}

/// Adds `k` to every element, four at a time, then sums.
#[workflow]
pub fn add_all(xs: Vec<i64>, k: i64) -> (Vec<i64>, i64) {
    let ys = add::map_with(MapOptions::new().concurrency(4), xs, Bound(k));
    (ys, total(ys))
}

/// Pairs two lists element by element.
#[workflow]
pub fn pairwise(xs: Vec<i64>, ys: Vec<i64>) -> Vec<i64> {
    add::map(xs, ys)
}

/// Square roots where they exist: at least half must succeed.
#[workflow]
pub fn roots(xs: Vec<i64>) -> Vec<Option<f64>> {
    sqrt::map_with(MapOptions::new().min_success_ratio(0.5), xs)
}

/// Moves every point.
#[workflow]
pub fn shifted(ps: Vec<Point>, dx: i64) -> Vec<Point> {
    shift::map_with(MapOptions::new(), ps, Bound(dx))
}

/// Squares every element through the `squares` sub-workflow, then sums.
#[workflow]
pub fn sum_of_squares(xs: Vec<i64>) -> i64 {
    total(squares(xs))
}

/// Sums `n` increments of `base`, `base + 1`, ...: a graph shaped by the inputs.
#[dynamic]
pub fn fan(n: i64, base: i64) -> i64 {
    let ys: Vec<_> = (0..n).map(|i| inc(base + i)).collect();
    total(ys)
}

/// Adds no node: returns its input directly.
#[dynamic]
pub fn passthrough(n: i64) -> i64 {
    n
}

/// Maps from inside a dynamic task.
#[dynamic]
pub fn squares_dyn(xs: Vec<i64>) -> Vec<i64> {
    square::map(xs)
}

/// Calls a sub-workflow from a dynamic task, a number of times given by the input.
#[dynamic]
pub fn nested(n: i64) -> Vec<i64> {
    let xs: Vec<i64> = (1..=n).collect();
    let squared = squares(xs);
    let mut outs = vec![squared];
    for _ in 1..n {
        outs.push(square::map(outs[outs.len() - 1]));
    }
    outs[outs.len() - 1]
}

/// Refuses negative sizes, then fans out through another dynamic task.
#[dynamic]
pub fn checked_fan(n: i64) -> i64 {
    assert!(n >= 0, "n must not be negative, got {n}");
    fan(n, 0)
}

/// A workflow that calls a dynamic task.
#[workflow]
pub fn fan_twice(n: i64) -> i64 {
    let a = fan(n, 0);
    fan(n, a)
}

fn main() {
    flytekit::main()
}
