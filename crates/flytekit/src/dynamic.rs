//! Dynamic workflows: tasks whose body builds a workflow from their real inputs (flytekit's
//! `@dynamic`, contract §6.3, §7.1).
//!
//! ```ignore
//! #[dynamic]
//! fn fan(n: i64, base: i64) -> i64 {
//!     let ys: Vec<_> = (0..n).map(|i| inc(base + i)).collect();
//!     total(ys)
//! }
//! ```
//!
//! The body runs when the task runs, with `n` and `base` as plain values; task calls in it add
//! nodes (as in a `#[workflow]` body) and return promises. Then:
//!
//! - **in a container** (`execute`), the graph is serialized into `futures.pb`, a
//!   `DynamicJobSpec` that Propeller runs: the nodes (ids prefixed `d`: `dn0`, `dn1`, ...), the
//!   `TaskTemplate` of every task they use — serialized with the running version
//!   (`FLYTE_INTERNAL_TASK_VERSION`), the registration's settings (`_F_SS_C`, which the dynamic
//!   task's own template carries) and the fast-registration bundle when `fast-execute` passed
//!   `--dynamic-addl-distro` — the output bindings and the sub-workflows. A body that adds no
//!   nodes writes its outputs directly to `outputs.pb`;
//! - **locally** the engine builds the graph and runs it like a sub-workflow.
//!
//! This module holds the definition ([`DynamicSpec`], attached to the task as its kind);
//! serialization compiles the graph, the runtime runs it.
//!
//! The same rules as in `#[workflow]` bodies apply to calls: a call of a lowercase path is a node.
//! Call a plain helper function through a parenthesized callee, `(helper)(x)`, or a method.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use flytekit_idl::core::LiteralMap;

use crate::execution::ExecutionContext;
use crate::task::{Task, TaskBuilder, TaskError, TaskKind};
use crate::workflow::Workflow;

/// The future a dynamic task's graph builder returns.
pub type BuildFuture = Pin<Box<dyn Future<Output = Result<Workflow, TaskError>> + Send>>;

/// Builds a dynamic task's workflow from the task's execution context and input literals.
pub type DynamicBuild = Arc<dyn Fn(ExecutionContext, LiteralMap) -> BuildFuture + Send + Sync>;

/// What makes a task dynamic: the function that builds its workflow at run time. Found on a task
/// through [`Task::dynamic_spec`].
#[derive(Clone)]
pub struct DynamicSpec {
    build: DynamicBuild,
}

impl std::fmt::Debug for DynamicSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicSpec").finish_non_exhaustive()
    }
}

impl DynamicSpec {
    /// A spec whose workflow is built by `build`.
    pub fn new<F, Fut>(build: F) -> Self
    where
        F: Fn(ExecutionContext, LiteralMap) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Workflow, TaskError>> + Send + 'static,
    {
        Self {
            build: Arc::new(move |cx, inputs| Box::pin(build(cx, inputs))),
        }
    }

    /// Builds the workflow for `inputs`. An invalid graph (a type mismatch, a missing input) is a
    /// USER error, like any error of the task's code.
    pub async fn build_workflow(
        &self,
        cx: ExecutionContext,
        inputs: LiteralMap,
    ) -> Result<Workflow, TaskError> {
        let wf = (self.build)(cx, inputs).await?;
        wf.check().map_err(TaskError::from_user)?;
        Ok(wf)
    }
}

impl Task {
    /// The dynamic specification when this is a `#[dynamic]` task.
    pub fn dynamic_spec(&self) -> Option<&DynamicSpec> {
        self.kind::<DynamicSpec>()
    }
}

/// Makes `builder` a dynamic task whose workflow `build` makes (what `#[dynamic]` expands to).
/// Dispatched on its own (`Task::dispatch` outside the engine and the container), the task builds
/// its workflow and runs it on a default local engine.
pub fn dynamic_task<F, Fut>(builder: TaskBuilder, build: F) -> TaskBuilder
where
    F: Fn(ExecutionContext, LiteralMap) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Workflow, TaskError>> + Send + 'static,
{
    builder.kind(TaskKind::new(DynamicSpec::new(build)))
}
