//! Serialization: task, workflow and launch-plan definitions to the Flyte IDL that FlyteAdmin
//! registers and FlytePropeller runs, field for field as flytekit 1.16 writes it (the counterpart
//! of flytekit's `translator.py`).
//!
//! This is the only layer that matches on task kinds to build templates and nodes: a map task
//! becomes an `ArrayNode`, a dynamic task carries `_F_SS_C`. Definitions below it know nothing of
//! the IDL they become; the runtime above it reads what it writes. The entry points are methods
//! on the definitions: [`Task::template`](crate::Task::template),
//! [`Workflow::template`](crate::Workflow::template) and
//! [`Workflow::closure`](crate::Workflow::closure),
//! [`LaunchPlan::spec`](crate::workflow::LaunchPlan::spec).

mod container;
mod dynamic;
mod error;
mod launch_plan;
mod map;
mod node;
mod task;
mod template;
mod workflow;

pub(crate) use container::{PrimaryContainer, primary_container};
pub(crate) use dynamic::{DynamicOutcome, compile_dynamic};
pub use error::SerializeError;
pub use workflow::WorkflowClosure;
