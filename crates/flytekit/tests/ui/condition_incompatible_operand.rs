use flytekit::prelude::*;

#[task]
fn double(n: f64) -> f64 {
    n * 2.0
}

#[workflow]
fn wf(x: f64) -> f64 {
    conditional("size")
        .if_(x.ge("big"))
        .then(double(x))
        .else_()
        .then(double(x))
}

fn main() {}
