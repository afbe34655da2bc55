//! Dynamic tasks on the local engine: the task's body builds its workflow from the real inputs,
//! in-process, and the engine runs that workflow as a sub-workflow of the node (`<path>/n0`, ...).

use std::sync::Arc;

use flytekit_idl::core::LiteralMap;

use super::{BoxFuture, Engine, EngineError, RunScope};
use crate::workflow::deps::{Task, local_execution_context};

impl Engine {
    /// Runs the dynamic task node `task` (its [`Task::dynamic_spec`] is set) on `inputs`.
    pub(super) fn run_dynamic_node(
        self,
        task: Task,
        inputs: LiteralMap,
        path: String,
        scope: &RunScope,
    ) -> BoxFuture<Result<LiteralMap, EngineError>> {
        let progress = scope.progress.clone();
        Box::pin(async move {
            let name = task.name().to_string();
            let Some(spec) = task.dynamic_spec().cloned() else {
                return self
                    .run_task_node(
                        task,
                        inputs,
                        path,
                        None,
                        &RunScope {
                            progress,
                            prefix: String::new(),
                        },
                    )
                    .await;
            };
            let cx = local_execution_context(&self.inner.cx);
            let wf =
                spec.build_workflow(cx, inputs)
                    .await
                    .map_err(|e| EngineError::TaskFailed {
                        node: path.clone(),
                        task: name.clone(),
                        attempts: 1,
                        source: Box::new(e),
                    })?;
            let child = RunScope {
                progress,
                prefix: format!("{path}/"),
            };
            self.run_graph(wf, Arc::new(LiteralMap::default()), child)
                .await
                .map_err(|e| EngineError::SubWorkflowFailed {
                    node: path,
                    workflow: name,
                    source: Box::new(e),
                })
        })
    }
}
