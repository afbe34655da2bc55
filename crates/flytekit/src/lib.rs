//! flytekit-rs: Rust as a first-class language on [Flyte](https://flyte.org).
//!
//! Write tasks and workflows as Rust functions; the SDK serializes them to the Flyte IDL that
//! FlyteAdmin and FlytePropeller accept, runs them inside their containers under the same contract
//! as Python's `pyflyte-execute`, and runs whole workflows locally with no setup.
//!
//! Start with [`prelude`]. `ARCHITECTURE.md` at the repository root maps the crates and modules.

pub mod storage;
pub mod type_engine;

pub use flytekit_idl as idl;

/// The small public surface most programs need: `use flytekit::prelude::*;`.
pub mod prelude {
    pub use crate::type_engine::FlyteType;
    pub use flytekit_macros::FlyteType;
}
