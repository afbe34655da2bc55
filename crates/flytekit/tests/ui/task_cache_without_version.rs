use flytekit::prelude::*;

#[task(cache = true)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
