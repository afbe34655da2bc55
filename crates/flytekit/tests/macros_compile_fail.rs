//! The macros' main diagnostics, checked against the compiler's messages (`tests/ui/*.stderr`):
//! a mistake in a task's options or a workflow's calls is a compile error that names it.
//!
//! After an intended change of a message, regenerate the expectations with
//! `TRYBUILD=overwrite cargo test -p flytekit --test macros_compile_fail` and review the diff.

#[test]
fn macro_diagnostics() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
