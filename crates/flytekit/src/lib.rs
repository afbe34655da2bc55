//! flytekit-rs: Rust as a first-class language on [Flyte](https://flyte.org).
//!
//! Write tasks and workflows as Rust functions; the SDK serializes them to the Flyte IDL that
//! FlyteAdmin and FlytePropeller accept, runs them inside their containers under the same contract
//! as Python's `pyflyte-execute`, and runs whole workflows locally with no setup.
//!
//! Start with [`prelude`]. `ARCHITECTURE.md` at the repository root maps the crates and modules.

#![warn(missing_docs)]

pub mod blob;
pub mod bundle;
pub mod cli;
pub mod dataset;
pub mod deck;
pub mod dynamic;
pub mod engine;
pub mod entrypoint;
pub mod execution;
pub mod fast;
pub mod image;
pub mod instance;
pub mod map_task;
pub mod offload;
pub mod resolver;
pub mod secrets;
pub mod storage;
pub mod task;
pub mod type_engine;
pub mod workflow;

pub use blob::{FlyteDirectory, FlyteFile};
pub use cli::main;
pub use deck::Deck;
pub use execution::ExecutionContext;
pub use fast::FastBundle;
pub use flytekit_idl as idl;
pub use flytekit_macros::{dynamic, task, workflow};
pub use image::{Image, ImageBuildEngine, ImageConfig, ImageSpec};
pub use instance::InstanceTask;
pub use inventory;
pub use map_task::{Bound, MapOptions, MapTask, map_task};
pub use resolver::TaskResolver;
pub use task::{RecoverableError, SerializationSettings, Task, TaskBuilder, TaskError, UserError};
pub use workflow::{Promise, Workflow};

/// The small public surface most programs need: `use flytekit::prelude::*;`.
pub mod prelude {
    pub use crate::blob::{FlyteDirectory, FlyteFile};
    pub use crate::dataset::{DatasetColumns, StructuredDataset};
    pub use crate::deck::Deck;
    pub use crate::execution::ExecutionContext;
    pub use crate::map_task::{Bound, MapOptions};
    pub use crate::task::{
        Accelerator, IgnoreOutputs, MountRequirement, PodTemplate, RecoverableError, Resources,
        Secret, Task, UserError,
    };
    pub use crate::type_engine::FlyteType;
    pub use crate::workflow::{IntoBinding, Promise, Workflow};
    pub use flytekit_macros::FlyteType;
    pub use flytekit_macros::{dynamic, task, workflow};
}
