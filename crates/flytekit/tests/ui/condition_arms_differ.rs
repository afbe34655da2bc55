use flytekit::prelude::*;

#[task]
fn double(n: f64) -> f64 {
    n * 2.0
}

#[task]
fn label(n: f64) -> String {
    n.to_string()
}

#[workflow]
fn wf(x: f64) -> f64 {
    conditional("size")
        .if_(x.ge(0.0))
        .then(double(x))
        .else_()
        .then(label(x))
}

fn main() {}
