//! Running one task on its own, whatever its kind (flytekit's `dispatch_execute`): a plain task
//! runs its body; a map task runs its elements; a dynamic task builds its workflow and runs it on
//! a default local engine. The engine and the entrypoint run kinds themselves (with retries,
//! caching, containers); this is the path of a direct call.

use flytekit_idl::core::LiteralMap;

use crate::dynamic::DynamicSpec;
use crate::engine::{Engine, EngineOptions, ProgressMode};
use crate::execution::ExecutionContext;
use crate::map::MapSpec;
use crate::task::{Task, TaskError};

impl Task {
    /// Runs the task on `inputs`: `pre_execute`, the body with panics caught and reported as
    /// USER errors, then `post_execute` — or, for a map task, every element (at most its
    /// concurrency at once, under its success criterion), and for a dynamic task the workflow it
    /// builds, on a default local engine.
    pub async fn dispatch(
        &self,
        inputs: &LiteralMap,
        cx: &ExecutionContext,
    ) -> Result<LiteralMap, TaskError> {
        if let Some(map) = self.kind::<MapSpec>() {
            return crate::elements::run_in_process(map, inputs.clone(), cx.clone()).await;
        }
        if let Some(dynamic) = self.kind::<DynamicSpec>() {
            let wf = dynamic.build_workflow(cx.clone(), inputs.clone()).await?;
            let engine = Engine::new(EngineOptions {
                progress: ProgressMode::Off,
                ..EngineOptions::default()
            });
            return engine
                .run_workflow(&wf, LiteralMap::default())
                .await
                .map_err(TaskError::from_user);
        }
        self.call_body(inputs, cx).await
    }

    /// [`dispatch`](Self::dispatch), taking the inputs: a plain task's body frees them once it
    /// has read its arguments, so a large input is not held twice (what the entrypoint uses).
    pub(crate) async fn dispatch_owned(
        &self,
        inputs: LiteralMap,
        cx: &ExecutionContext,
    ) -> Result<LiteralMap, TaskError> {
        if self.kind::<MapSpec>().is_some() || self.kind::<DynamicSpec>().is_some() {
            return self.dispatch(&inputs, cx).await;
        }
        self.call_body_owned(inputs, cx).await
    }
}
