use flytekit::prelude::*;

#[task(retrys = 2)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
