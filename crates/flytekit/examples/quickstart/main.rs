//! The flytekit-rs quickstart: a few tasks and a workflow, runnable locally and on Flyte.
//!
//! ```text
//! cargo run --release --example quickstart -- --help
//! ```

mod tasks;
mod workflows;

fn main() {
    flytekit::main()
}
