//! Running a [`Graph`]: its nodes through the [scheduler](crate::scheduler), each kind of node by
//! one function here, whatever the graph came from.
//!
//! Everything here is synchronous and runs on the scheduler's worker threads: a task body runs
//! in place on the worker (no hand-off to another thread), and futures (containers, storage,
//! async bodies) are driven with the runtime handle's `block_on`, racing the run's cancellation.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flytekit_idl::core::{LiteralMap, TaskTemplate};

use super::bindings::{coerce_unions, is_input_node, resolve, resolve_bindings};
use super::graph::{Attempts, Executable, Graph, GraphNode, MapNode, NodeKind};
use super::progress::Progress;
use super::sandbox::{self, AttemptError, ContainerRun, Input, Outcome};
use super::{CacheMode, Engine, EngineError, Run, cache_key};
use crate::elements::{common_length, element_inputs, element_outputs, gather_named};
use crate::scheduler::{self, Policy};
use crate::task::{Task, TaskError, on_blocking_thread};
use crate::workflow::FailurePolicy;

/// A failed attempt and whether it may be retried.
type AttemptFailure = (Box<dyn std::error::Error + Send + Sync>, bool);

/// What a successful attempt produced: outputs, or (a dynamic task) a graph to run for them.
enum Produced {
    Outputs(LiteralMap),
    Graph(Graph),
}

/// An attempt that ran out of time.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {0:?}")]
struct TimedOut(Duration);

impl Engine {
    /// Runs `graph` on `inputs`, its nodes at paths `<prefix><id>`, and resolves its outputs.
    pub(super) fn run_graph(
        &self,
        graph: &Graph,
        inputs: &LiteralMap,
        prefix: &str,
        run: &Run,
    ) -> Result<LiteralMap, EngineError> {
        let policy = match graph.policy {
            FailurePolicy::FailImmediately => Policy::FailImmediately,
            FailurePolicy::FailAfterExecutableNodesComplete => Policy::AfterExecutable,
        };
        let report = scheduler::run(
            &graph.upstream,
            policy,
            self.inner.options.concurrency.max(1),
            &run.cancel,
            |i, outs: &scheduler::Outputs<Arc<LiteralMap>>| {
                let node = &graph.nodes[i];
                let path = format!("{prefix}{}", node.id);
                let lookup = |id: &str| -> Result<&LiteralMap, String> {
                    if is_input_node(id) {
                        return Ok(inputs);
                    }
                    let j = graph
                        .index
                        .get(id)
                        .ok_or_else(|| format!("unknown node '{id}'"))?;
                    outs.get(*j)
                        .map(|m| m.as_ref())
                        .ok_or_else(|| format!("node {id} has not produced outputs"))
                };
                if let NodeKind::Branch(b) = &node.kind {
                    // A conditional's arms read the graph's nodes themselves.
                    return self.run_branch(node, b, &lookup, &path, run).map(Arc::new);
                }
                let node_inputs =
                    resolve_bindings(&node.inputs, &lookup).map_err(|(input, reason)| {
                        let e = EngineError::Binding {
                            node: path.clone(),
                            entity: node.entity.clone(),
                            input,
                            reason,
                        };
                        run.progress.failed(&path, &node.entity, &e.to_string());
                        e
                    })?;
                let node_inputs = match node.interface() {
                    Some(interface) => coerce_unions(node_inputs, interface),
                    None => node_inputs,
                };
                self.run_node(node, node_inputs, path, run).map(Arc::new)
            },
            |i, reason| EngineError::Aborted {
                node: format!("{prefix}{}", graph.nodes[i].id),
                entity: graph.nodes[i].entity.clone(),
                reason,
            },
        );
        if report.cancelled {
            return Err(EngineError::Cancelled);
        }
        let not_run = report.not_run();
        let mut failures: Vec<EngineError> = report.failures.into_iter().map(|(_, e)| e).collect();
        let failed = match failures.len() {
            0 => None,
            1 => Some(failures.remove(0)),
            _ => Some(EngineError::Multiple(failures)),
        };
        if let Some(error) = failed {
            return Err(self.on_failure(graph, inputs, prefix, error, run));
        }
        if let Some(&i) = not_run.first() {
            return Err(EngineError::InvalidFutures {
                node: format!("{prefix}{}", graph.nodes[i].id),
                reason: "the node waits on nodes that never finish (a dependency cycle)".into(),
            });
        }
        let outputs = report.outputs;
        let lookup = |id: &str| -> Result<&LiteralMap, String> {
            if is_input_node(id) {
                return Ok(inputs);
            }
            graph
                .index
                .get(id)
                .and_then(|j| outputs.get(*j))
                .and_then(|o| o.as_deref())
                .ok_or_else(|| format!("node {id} has not produced outputs"))
        };
        let mut out = LiteralMap::default();
        for b in &graph.outputs {
            let lit = match &b.binding {
                Some(data) => resolve(data, &lookup),
                None => Err("the output is not bound".to_string()),
            }
            .map_err(|reason| EngineError::Binding {
                node: format!("{prefix}outputs"),
                entity: graph.name.clone(),
                input: b.var.clone(),
                reason,
            })?;
            out.literals.insert(b.var.clone(), lit);
        }
        Ok(out)
    }

    /// Runs the graph's failure node after `error` failed it (Propeller gives an input `err`
    /// the error), and returns the error to report: `error`, or both when the failure node
    /// fails too.
    fn on_failure(
        &self,
        graph: &Graph,
        inputs: &LiteralMap,
        prefix: &str,
        error: EngineError,
        run: &Run,
    ) -> EngineError {
        let Some(node) = graph.failure.as_deref() else {
            return error;
        };
        if matches!(error, EngineError::Cancelled) {
            return error;
        }
        let path = format!("{prefix}{}", node.id);
        let lookup = |id: &str| -> Result<&LiteralMap, String> {
            if is_input_node(id) {
                Ok(inputs)
            } else {
                Err(format!(
                    "a failure node reads only the workflow's inputs, not node {id}"
                ))
            }
        };
        let result = resolve_bindings(&node.inputs, &lookup)
            .map_err(|(input, reason)| EngineError::Binding {
                node: path.clone(),
                entity: node.entity.clone(),
                input,
                reason,
            })
            .and_then(|mut node_inputs| {
                if let Some(err) = node_inputs.literals.get_mut("err") {
                    *err = error_literal(&error.to_string(), &node.id);
                }
                let node_inputs = match node.interface() {
                    Some(interface) => coerce_unions(node_inputs, interface),
                    None => node_inputs,
                };
                self.run_node(node, node_inputs, path.clone(), run)
            });
        match result {
            Ok(_) => error,
            Err(failure) => EngineError::FailureNode {
                node: path,
                original: Box::new(error),
                failure: Box::new(failure),
            },
        }
    }

    /// Runs one node on its resolved inputs.
    pub(super) fn run_node(
        &self,
        node: &GraphNode,
        inputs: LiteralMap,
        path: String,
        run: &Run,
    ) -> Result<LiteralMap, EngineError> {
        match &node.kind {
            NodeKind::Task(exec, attempts) => {
                self.run_task_node(exec, attempts, inputs, &path, run)
            }
            NodeKind::Map(m) => self.run_map(m, &node.entity, inputs, &path, run),
            NodeKind::Workflow(g) => self
                .run_graph(g, &inputs, &format!("{path}/"), run)
                .map_err(|e| EngineError::SubWorkflowFailed {
                    node: path,
                    workflow: g.name.clone(),
                    source: Box::new(e),
                }),
            NodeKind::LaunchPlan(lp) => self
                .run_graph(&lp.graph, &lp.inputs(&inputs), &format!("{path}/"), run)
                .map_err(|e| EngineError::SubWorkflowFailed {
                    node: path,
                    workflow: format!("{} (launch plan {})", lp.graph.name, lp.name),
                    source: Box::new(e),
                }),
            NodeKind::Gate(g) => self.run_gate(g, &node.entity, inputs, &path, run),
            NodeKind::Branch(_) => Err(EngineError::InvalidFutures {
                node: path,
                reason: "a conditional runs inside a graph, which resolves its arms' inputs".into(),
            }),
        }
    }

    /// A task node: cache lookup, attempts with retries in one engine slot, then — for a dynamic
    /// task — the graph it produced, and the cache store.
    fn run_task_node(
        &self,
        exec: &Executable,
        attempts: &Attempts,
        inputs: LiteralMap,
        path: &str,
        run: &Run,
    ) -> Result<LiteralMap, EngineError> {
        let name = exec.name();
        let progress = &run.progress;
        let started = Instant::now();
        let key = match (exec, &attempts.cache) {
            (Executable::Local(_), Some(version)) => {
                Some(cache_key(name, version, &inputs, &attempts.cache_ignored))
            }
            _ => None,
        };
        let cache = key.as_ref().and_then(|_| self.cache());
        if let (Some(c), Some(k)) = (cache, &key)
            && self.inner.options.cache == CacheMode::Enabled
        {
            match c.get(k) {
                Ok(Some(outputs)) => {
                    progress.finished(path, name, true, started.elapsed());
                    return Ok(outputs);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("local cache: {e}"),
            }
        }
        let produced = {
            let _slot = run.slot(&self.inner.slots)?;
            progress.started(path, name);
            let mut inputs = Some(inputs);
            self.with_retries(&path, name, attempts, run, |n| {
                let inputs = attempts.inputs_of(n, &mut inputs);
                self.attempt(exec, inputs, &path, n, None, attempts, run)
            })?
        };
        let outputs = match produced {
            Produced::Outputs(outputs) => outputs,
            // The task's slot went back: the nodes it produced take slots of their own.
            Produced::Graph(graph) => self
                .run_graph(&graph, &LiteralMap::default(), &format!("{path}/"), run)
                .map_err(|e| EngineError::SubWorkflowFailed {
                    node: path.to_string(),
                    workflow: name.to_string(),
                    source: Box::new(e),
                })?,
        };
        if let (Some(c), Some(k), Some(version)) = (cache, &key, &attempts.cache)
            && let Err(e) = c.put(k, name, version, &outputs)
        {
            tracing::warn!("local cache: {e}");
        }
        progress.finished(path, name, false, started.elapsed());
        Ok(outputs)
    }

    /// Makes attempts until one succeeds, a failure cannot be retried (Propeller's rule: only
    /// recoverable errors and timeouts are), or the retries are spent.
    fn with_retries(
        &self,
        path: &dyn std::fmt::Display,
        name: &str,
        attempts: &Attempts,
        run: &Run,
        mut attempt: impl FnMut(u32) -> Result<Produced, AttemptFailure>,
    ) -> Result<Produced, EngineError> {
        let mut n = 0u32;
        loop {
            n += 1;
            match attempt(n) {
                Ok(p) => return Ok(p),
                Err((e, retryable)) if retryable && n <= attempts.retries => {
                    run.progress
                        .retrying(&path.to_string(), name, n, &e.to_string());
                    if self.inner.options.sandbox.is_some() {
                        // Made inside the runtime: extra scheduler workers are plain threads.
                        run.block_on(async { tokio::time::sleep(sandbox::RETRY_DELAY).await })?;
                    }
                }
                Err((e, _)) => {
                    if let Some(c) = e.downcast_ref::<EngineError>()
                        && matches!(c, EngineError::Cancelled)
                    {
                        return Err(EngineError::Cancelled);
                    }
                    let err = match e.downcast::<TimedOut>() {
                        Ok(t) => EngineError::Timeout {
                            node: path.to_string(),
                            task: name.to_string(),
                            timeout: t.0,
                            attempts: n,
                        },
                        Err(e) => match e.downcast::<EngineError>() {
                            Ok(e) => *e,
                            Err(e) => EngineError::TaskFailed {
                                node: path.to_string(),
                                task: name.to_string(),
                                attempts: n,
                                source: e,
                            },
                        },
                    };
                    run.progress
                        .failed(&path.to_string(), name, &err.to_string());
                    return Err(err);
                }
            }
        }
    }

    /// One attempt of a task, bounded by its timeout: in this process, or through its container
    /// in the sandbox (as element `(index, inputs.pb)` of a map when `element` is set).
    #[allow(clippy::too_many_arguments)]
    fn attempt(
        &self,
        exec: &Executable,
        inputs: Cow<'_, LiteralMap>,
        path: &dyn std::fmt::Display,
        n: u32,
        element: Option<(usize, &str, &TaskTemplate)>,
        attempts: &Attempts,
        run: &Run,
    ) -> Result<Produced, AttemptFailure> {
        let timeout = attempts.timeout;
        let cancelled = |e: EngineError| -> AttemptFailure { (Box::new(e), false) };
        let Some(opts) = &self.inner.options.sandbox else {
            let Executable::Local(task) = exec else {
                return Err((
                    Box::new(EngineError::InvalidFutures {
                        node: path.to_string(),
                        reason: "serialized tasks run only in the sandbox".into(),
                    }),
                    false,
                ));
            };
            let cx = self.inner.task_cx.fresh();
            if let Some(dynamic) = task.dynamic_spec() {
                let built = run
                    .block_on(dynamic.build_workflow(cx, inputs.into_owned()))
                    .map_err(cancelled)?;
                return built
                    .and_then(|wf| {
                        Graph::from_workflow(&wf, run.references.as_ref())
                            .map_err(|e| TaskError::from_user(e.to_string()))
                    })
                    .map(Produced::Graph)
                    .map_err(task_failure);
            }
            let body = async {
                task.call_body_owned(inputs.into_owned(), &cx)
                    .await
                    .map_err(task_failure)
            };
            let result = if timeout.is_some() {
                // A time limit needs the body on a thread of its own, where it can be left behind.
                run.block_on(bounded(timeout, body))
            } else {
                // In place: a sync body runs on this worker thread.
                run.block_on(on_blocking_thread(body))
            };
            return result.map_err(cancelled)?.map(Produced::Outputs);
        };
        let path = &path.to_string();
        let storage = self.inner.cx.storage();
        let container = async {
            let local;
            let (template, input, env) = match (element, exec) {
                (Some((index, uri, template)), _) => (
                    template,
                    Input::At(uri.to_string()),
                    crate::contract::element_env(index),
                ),
                (None, Executable::Template(t)) => (t.as_ref(), Input::Write(&inputs), Vec::new()),
                (None, Executable::Local(task)) => {
                    let settings = sandbox::settings(opts);
                    // An instance task's offloaded payload goes to the store its args name.
                    crate::instance::stage(task, &settings, storage)
                        .await
                        .map_err(|e| AttemptError::Setup(e.to_string()).into_failure())?;
                    local = task
                        .template(&settings)
                        .map_err(|e| AttemptError::Setup(e.to_string()).into_failure())?;
                    (&local, Input::Write(&inputs), Vec::new())
                }
            };
            let container = ContainerRun {
                template,
                node: path,
                attempt: n - 1,
                input,
                env,
            };
            sandbox::run_container(container, opts, storage)
                .await
                .map_err(AttemptError::into_failure)
        };
        match run
            .block_on(bounded(timeout, container))
            .map_err(cancelled)??
        {
            Outcome::Outputs(o) => Ok(Produced::Outputs(o)),
            Outcome::Futures(spec) if element.is_none() => {
                Graph::from_spec(spec, path, run.references.as_ref())
                    .map(Produced::Graph)
                    .map_err(|e| (Box::new(e) as _, false))
            }
            Outcome::Futures(_) => Err((
                Box::new(EngineError::InvalidFutures {
                    node: path.to_string(),
                    reason: "a map task element wrote futures.pb; map tasks cannot be dynamic"
                        .into(),
                }),
                false,
            )),
        }
    }

    /// A map node: its elements through the scheduler, at most the map's concurrency (never
    /// more than the engine's), under its success criterion. In this process each element runs
    /// the inner task in place; in the sandbox each runs the map task's container on the map's
    /// whole inputs, written once, its index in `FLYTE_K8S_ARRAY_INDEX` — as Propeller runs an
    /// ArrayNode.
    fn run_map(
        &self,
        m: &MapNode,
        entity: &str,
        inputs: LiteralMap,
        path: &str,
        run: &Run,
    ) -> Result<LiteralMap, EngineError> {
        let failed = |reason: String| {
            let e = EngineError::MapFailed {
                node: path.to_string(),
                task: entity.to_string(),
                reason,
            };
            run.progress.failed(path, entity, &e.to_string());
            e
        };
        let mut mapped: Vec<String> = inputs
            .literals
            .keys()
            .filter(|k| !m.bound.contains(*k))
            .cloned()
            .collect();
        mapped.sort();
        let n = common_length(&mapped, &inputs).map_err(|reason| {
            failed(
                TaskError::InputConversion {
                    task: entity.to_string(),
                    message: reason,
                }
                .to_string(),
            )
        })?;
        let slots = self.inner.options.concurrency.max(1);
        let limit = match m.concurrency {
            Some(0) | None => slots,
            Some(k) => (k as usize).min(slots),
        };
        let started = Instant::now();
        run.progress.started(path, entity);
        // In the sandbox: the map task's template and its whole inputs, once for all elements.
        let sandboxed = match (&self.inner.options.sandbox, &m.task) {
            (None, _) => None,
            (Some(opts), exec) => {
                let template = match exec {
                    Executable::Template(t) => t.clone(),
                    Executable::Local(task) => Arc::new(
                        task.template(&sandbox::settings(opts))
                            .map_err(|e| failed(e.to_string()))?,
                    ),
                };
                let uri = run
                    .block_on(sandbox::write_map_inputs(
                        opts,
                        self.inner.cx.storage(),
                        path,
                        &inputs,
                    ))?
                    .map_err(failed)?;
                Some((template, uri))
            }
        };
        let inner: Option<(&Task, Executable)> = match &m.task {
            Executable::Local(t) => t
                .map_spec()
                .map(|s| (s.inner(), Executable::Local(s.inner().clone()))),
            Executable::Template(_) => None,
        };
        let spec = match &m.task {
            Executable::Local(t) => t.map_spec(),
            Executable::Template(_) => None,
        };
        // Elements report through the map node's progress line, not lines of their own.
        let quiet = &Run {
            progress: Arc::new(Progress::new(super::ProgressMode::Off, 0)),
            cancel: run.cancel.clone(),
            handle: run.handle.clone(),
            references: run.references.clone(),
        };
        let element = |i: usize| -> Result<LiteralMap, EngineError> {
            let element_path = ElementPath(path, i);
            match (&sandboxed, &inner) {
                (Some((template, uri)), _) => {
                    let exec = Executable::Template(template.clone());
                    let produced =
                        self.with_retries(&element_path, entity, &m.attempts, run, |n| {
                            self.attempt(
                                &exec,
                                Cow::Owned(LiteralMap::default()),
                                &element_path,
                                n,
                                Some((i, uri, template)),
                                &m.attempts,
                                run,
                            )
                        })?;
                    match produced {
                        Produced::Outputs(o) => Ok(o),
                        Produced::Graph(_) => Err(EngineError::InvalidFutures {
                            node: element_path.to_string(),
                            reason: "a map task element produced a workflow".into(),
                        }),
                    }
                }
                (None, Some((inner, exec))) => {
                    let Some(spec) = spec else {
                        return Err(EngineError::InvalidFutures {
                            node: element_path.to_string(),
                            reason: "not a map task".into(),
                        });
                    };
                    let element_inputs =
                        element_inputs(spec, &inputs, i).map_err(|e| EngineError::TaskFailed {
                            node: element_path.to_string(),
                            task: inner.name().to_string(),
                            attempts: 0,
                            source: Box::new(e),
                        })?;
                    // Cached elements go through the cache one by one; others run in place.
                    if m.attempts.cache.is_some() {
                        return self.run_task_node(
                            exec,
                            &m.attempts,
                            element_inputs,
                            &element_path.to_string(),
                            quiet,
                        );
                    }
                    let mut element_inputs = Some(element_inputs);
                    let produced =
                        self.with_retries(&element_path, inner.name(), &m.attempts, quiet, |n| {
                            self.attempt(
                                exec,
                                m.attempts.inputs_of(n, &mut element_inputs),
                                &element_path,
                                n,
                                None,
                                &m.attempts,
                                run,
                            )
                        })?;
                    match produced {
                        Produced::Outputs(o) => Ok(o),
                        Produced::Graph(_) => Err(EngineError::InvalidFutures {
                            node: element_path.to_string(),
                            reason: "a map task element produced a workflow".into(),
                        }),
                    }
                }
                (None, None) => Err(EngineError::InvalidFutures {
                    node: element_path.to_string(),
                    reason: "serialized map tasks run only in the sandbox".into(),
                }),
            }
        };
        let result = crate::elements::run_indexed(
            n,
            m.criterion,
            m.run_all,
            limit,
            &run.cancel,
            || {
                if m.attempts.cache.is_some() && sandboxed.is_none() {
                    // A cached element is a task node of its own: it takes its slot itself.
                    return Ok(None);
                }
                // Elements share the engine's slots with every other task.
                run.slot(&self.inner.slots).map(Some)
            },
            |i| element(i).map(|o| element_outputs(&m.outputs, o)),
            |i, reason| EngineError::Aborted {
                node: format!("{path}[{i}]"),
                entity: entity.to_string(),
                reason,
            },
        );
        if run.cancel.is_cancelled() {
            return Err(EngineError::Cancelled);
        }
        match result {
            Ok(results) => {
                run.progress
                    .finished(path, entity, false, started.elapsed());
                Ok(gather_named(&m.outputs, results))
            }
            Err(f) => Err(failed(f.summary())),
        }
    }
}

/// The path of element `.1` of map node `.0` (`n2[3]`), written out only when needed (in an
/// error or a progress line), not for every element.
struct ElementPath<'a>(&'a str, usize);

impl std::fmt::Display for ElementPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

/// `fut`, failing as a retryable timeout once `timeout` has passed.
async fn bounded<T>(
    timeout: Option<Duration>,
    fut: impl Future<Output = Result<T, AttemptFailure>>,
) -> Result<T, AttemptFailure> {
    match timeout {
        Some(limit) => tokio::time::timeout(limit, fut)
            .await
            .unwrap_or_else(|_| Err((Box::new(TimedOut(limit)), true))),
        None => fut.await,
    }
}

/// A task's failure as an attempt failure: retried only when recoverable (Propeller's rule).
fn task_failure(e: TaskError) -> AttemptFailure {
    let recoverable = e.is_recoverable();
    (Box::new(e), recoverable)
}

/// The value Propeller gives a failure node's `err` input: the error as an `ERROR` literal in a
/// union typed `FlyteError`, naming the failure node (`ResolveErrorInputLiteralData`).
fn error_literal(message: &str, failure_node: &str) -> flytekit_idl::core::Literal {
    use crate::type_engine::literals::{scalar_literal, simple_type, with_tag};
    use flytekit_idl::core::{SimpleType, Union, scalar};
    scalar_literal(scalar::Value::Union(Box::new(Union {
        value: Some(Box::new(scalar_literal(scalar::Value::Error(Box::new(
            flytekit_idl::core::Error {
                failed_node_id: failure_node.to_string(),
                message: message.to_string(),
            },
        ))))),
        r#type: Some(with_tag(simple_type(SimpleType::Error), "FlyteError")),
    })))
}
