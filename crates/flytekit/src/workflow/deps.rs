//! The task-side items the workflow and engine modules use, in one place.

pub(crate) use crate::execution::ExecutionContext;
pub(crate) use crate::task::registered as registered_tasks;
pub(crate) use crate::task::{SerializationSettings, Task};

/// The execution context the local engine gives a task.
pub(crate) fn local_execution_context(
    cx: &crate::type_engine::ConversionContext,
) -> ExecutionContext {
    ExecutionContext::local(cx)
}
