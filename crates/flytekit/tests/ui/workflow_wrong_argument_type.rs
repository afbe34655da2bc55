use flytekit::prelude::*;

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[workflow]
fn wf(x: i64) -> i64 {
    add(x, "two")
}

fn main() {}
