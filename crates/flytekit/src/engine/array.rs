//! Map tasks on the local engine.
//!
//! The elements run in parallel — at most the map's `concurrency`, and never more than the
//! engine's slots — each with the inner task's retries and timeout, and the map's success
//! criterion decides the node's fate (failed elements' outputs are `None`; once more elements
//! have failed than it allows, the rest are cancelled unless `run_all_sub_nodes`).
//!
//! Two ways to get there:
//!
//! - **Batched** (the default): a few workers on tokio's blocking pool, each holding one engine
//!   slot, take elements from a shared counter and run them through `Task::dispatch` in place —
//!   sync task bodies run on the worker's own thread — so an element costs a literal round trip,
//!   not a task spawn and a thread hand-off. The map reports progress as one node.
//! - **Per element**: when the inner task is cached, or in the sandbox, every element is a task
//!   node of its own (`<path>[<i>]`) with the engine's cache lookup or container run. In the
//!   sandbox an element runs like a Propeller ArrayNode sub-node: the map task's `map-execute`
//!   container on the map's whole `inputs.pb`, its index in `FLYTE_K8S_ARRAY_INDEX`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use flytekit_idl::core::LiteralMap;
use tokio::task::JoinSet;

use super::{BoxFuture, Engine, EngineError, RunScope, Via, sandbox};
use crate::map_task::{
    MapFailure, MapSpec, element_inputs, gather_outputs, map_size, run_elements,
};
use crate::task::TaskError;
use crate::workflow::NodeOverrides;
use crate::workflow::deps::{Task, local_execution_context};

/// What the batched workers share.
struct Shared {
    spec: MapSpec,
    inputs: LiteralMap,
    next: AtomicUsize,
    failed: AtomicUsize,
    stop: AtomicBool,
}

type ElementResult = (usize, Result<LiteralMap, EngineError>);

impl Engine {
    /// Runs the map task node `task` (its [`Task::map_spec`] is set) on `inputs`.
    pub(super) fn run_map_node(
        self,
        task: Task,
        inputs: LiteralMap,
        path: String,
        overrides: Option<NodeOverrides>,
        scope: &RunScope,
    ) -> BoxFuture<Result<LiteralMap, EngineError>> {
        let progress = scope.progress.clone();
        Box::pin(async move {
            let name = task.name().to_string();
            let Some(spec) = task.map_spec().cloned() else {
                return Err(EngineError::MapFailed {
                    node: path,
                    task: name,
                    reason: "not a map task".into(),
                });
            };
            let engine_slots = self.inner.options.concurrency.max(1);
            let limit = match spec.concurrency() {
                Some(0) | None => engine_slots,
                Some(k) => (k as usize).min(engine_slots),
            };
            let settings = crate::workflow::task_settings(spec.inner());
            let cached = overrides
                .as_ref()
                .and_then(|o| o.cache)
                .unwrap_or(settings.cache);
            if cached || self.inner.options.sandbox.is_some() {
                let scope = RunScope {
                    progress,
                    prefix: String::new(),
                };
                return self
                    .run_map_per_element(task, spec, inputs, path, overrides, limit, scope)
                    .await;
            }
            progress.started(&path, &name);
            let started = Instant::now();
            let result = self
                .run_map_batched(spec, &name, inputs, &path, overrides, limit)
                .await;
            match &result {
                Ok(_) => progress.finished(&path, &name, false, started.elapsed()),
                Err(e) => progress.failed(&path, &name, &e.to_string()),
            }
            result
        })
    }

    /// Every element a task node of its own, through `run_task_node`. In the sandbox each element
    /// runs the map task's container (`map-execute`) on the map's whole inputs, written once,
    /// with the element's index in its environment, as Propeller runs an ArrayNode.
    #[allow(clippy::too_many_arguments)]
    async fn run_map_per_element(
        self,
        map: Task,
        spec: MapSpec,
        inputs: LiteralMap,
        path: String,
        overrides: Option<NodeOverrides>,
        limit: usize,
        scope: RunScope,
    ) -> Result<LiteralMap, EngineError> {
        let name = map.name().to_string();
        let inner = spec.inner().clone();
        let shared_input = match &self.inner.options.sandbox {
            None => None,
            Some(opts) => Some(
                sandbox::write_map_inputs(opts, self.inner.cx.storage(), &path, &inputs)
                    .await
                    .map_err(|reason| EngineError::MapFailed {
                        node: path.clone(),
                        task: name.clone(),
                        reason,
                    })?,
            ),
        };
        let result = run_elements(
            &spec,
            &inputs,
            limit,
            |i, element| {
                let engine = self.clone();
                let inner = inner.clone();
                let overrides = overrides.clone();
                let scope = RunScope {
                    progress: scope.progress.clone(),
                    prefix: String::new(),
                };
                let element_path = format!("{path}[{i}]");
                let via = match &shared_input {
                    Some(uri) => Via::MapElement {
                        map: map.clone(),
                        index: i,
                        input: uri.clone(),
                    },
                    None => Via::Execute,
                };
                let run: BoxFuture<Result<LiteralMap, EngineError>> = Box::pin(async move {
                    engine
                        .run_task_node_via(inner, element, element_path, overrides, &scope, via)
                        .await
                });
                run
            },
            |i, reason| EngineError::Aborted {
                node: format!("{path}[{i}]"),
                entity: inner.name().to_string(),
                reason,
            },
        )
        .await;
        result.map_err(|f| EngineError::MapFailed {
            node: path.clone(),
            task: name,
            reason: match &f {
                MapFailure::Inputs(e) => e.to_string(),
                MapFailure::TooFewSuccesses { .. } => f.summary(),
            },
        })
    }

    /// The elements in `limit` workers on the blocking pool, each running elements in place.
    async fn run_map_batched(
        &self,
        spec: MapSpec,
        name: &str,
        inputs: LiteralMap,
        path: &str,
        overrides: Option<NodeOverrides>,
        limit: usize,
    ) -> Result<LiteralMap, EngineError> {
        let failed = |reason: String| EngineError::MapFailed {
            node: path.to_string(),
            task: name.to_string(),
            reason,
        };
        let n = map_size(&spec, &inputs).map_err(|e| failed(e.to_string()))?;
        let required = spec.required_successes(n);
        let allowed = n - required;
        let inner = spec.inner().clone();
        let settings = crate::workflow::task_settings(&inner);
        let o = overrides.unwrap_or_default();
        let retries = o.retries.unwrap_or(settings.retries);
        let timeout = o.timeout.or(settings.timeout);
        let run_all = spec.run_all_sub_nodes();
        let shared = Arc::new(Shared {
            spec,
            inputs,
            next: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let handle = tokio::runtime::Handle::current();
        let mut workers: JoinSet<Vec<ElementResult>> = JoinSet::new();
        for _ in 0..limit.min(n) {
            let engine = self.clone();
            let shared = shared.clone();
            let inner = inner.clone();
            let handle = handle.clone();
            let path = path.to_string();
            workers.spawn_blocking(move || {
                handle.block_on(crate::task::on_blocking_thread(async move {
                    // One engine slot per worker, as long as it runs.
                    let _slot = engine.inner.slots.acquire().await.ok();
                    let cx = local_execution_context(&engine.inner.cx);
                    let mut done: Vec<ElementResult> = Vec::new();
                    while !shared.stop.load(Ordering::Relaxed) {
                        let i = shared.next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        let element_path = || format!("{path}[{i}]");
                        let result = match element_inputs(&shared.spec, &shared.inputs, i) {
                            Err(e) => Err(EngineError::TaskFailed {
                                node: element_path(),
                                task: inner.name().to_string(),
                                attempts: 0,
                                source: Box::new(e),
                            }),
                            Ok(element) => {
                                let mut attempt = 0u32;
                                loop {
                                    attempt += 1;
                                    let run = inner.dispatch(&element, &cx);
                                    let r = match timeout {
                                        Some(limit) => match tokio::time::timeout(limit, run).await
                                        {
                                            Ok(r) => r,
                                            Err(_) => Err(TaskError::System(format!(
                                                "timed out after {limit:?}"
                                            ))),
                                        },
                                        None => run.await,
                                    };
                                    match r {
                                        Ok(out) => break Ok(out),
                                        Err(_) if attempt <= retries => continue,
                                        Err(e) => {
                                            break Err(EngineError::TaskFailed {
                                                node: element_path(),
                                                task: inner.name().to_string(),
                                                attempts: attempt,
                                                source: Box::new(e),
                                            });
                                        }
                                    }
                                }
                            }
                        };
                        if result.is_err() {
                            let f = shared.failed.fetch_add(1, Ordering::Relaxed) + 1;
                            if f > allowed && !run_all {
                                shared.stop.store(true, Ordering::Relaxed);
                            }
                        }
                        done.push((i, result));
                    }
                    done
                }))
            });
        }
        let mut results: Vec<Option<LiteralMap>> = vec![None; n];
        let mut failures: Vec<(usize, EngineError)> = Vec::new();
        while let Some(joined) = workers.join_next().await {
            match joined {
                Ok(done) => {
                    for (i, r) in done {
                        match r {
                            Ok(out) => results[i] = Some(out),
                            Err(e) => failures.push((i, e)),
                        }
                    }
                }
                Err(e) => {
                    shared.stop.store(true, Ordering::Relaxed);
                    return Err(failed(format!("a map worker stopped: {e}")));
                }
            }
        }
        if failures.len() > allowed {
            failures.sort_by_key(|(i, _)| *i);
            let f = MapFailure::TooFewSuccesses {
                total: n,
                required,
                failures,
            };
            return Err(failed(f.summary()));
        }
        Ok(gather_outputs(&shared.spec, results))
    }
}
