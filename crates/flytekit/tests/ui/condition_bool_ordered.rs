use flytekit::prelude::*;

#[task]
fn is_small(n: f64) -> bool {
    n < 1.0
}

#[task]
fn double(n: f64) -> f64 {
    n * 2.0
}

#[workflow]
fn wf(x: f64) -> f64 {
    let small = is_small(x);
    conditional("size")
        .if_(small.gt(false))
        .then(double(x))
        .else_()
        .then(double(x))
}

fn main() {}
