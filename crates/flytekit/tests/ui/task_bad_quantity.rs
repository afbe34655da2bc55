use flytekit::prelude::*;

#[task(requests(cpu = "lots", mem = "1Gi"))]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
