//! The local engine: runs workflows and tasks in-process, with no cluster and no configuration.
//!
//! A run walks the node graph on tokio: every node whose upstream nodes are done starts at once,
//! and at most [`EngineOptions::concurrency`] tasks execute at a time. Each task runs through
//! `Task::dispatch`, so its inputs and outputs make the same literal round trip as in a container.
//! Failed attempts are retried as the task (or node override) says; a node's timeout bounds each
//! attempt. Outputs of `cache = true` tasks are kept in the SQLite [`LocalCache`].
//!
//! ```ignore
//! let engine = flytekit::engine::Engine::new(EngineOptions::default());
//! let outputs = engine.run(&my_wf::workflow().into(), inputs).await?;
//! ```

mod array;
mod cache;
mod dynamic;
mod futures;
pub mod isolate;
mod progress;
pub mod sandbox;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use flytekit_idl::core::{
    BindingData, Literal, LiteralCollection, LiteralMap, Scalar, Union, binding_data, literal,
    scalar,
};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::type_engine::{ConversionContext, FlyteType, TypeError, describe_type, literal_to_json};
use crate::workflow::deps::{Task, local_execution_context};
use crate::workflow::{Entity, FailurePolicy, INPUT_NODE_ID, Workflow, WorkflowError};

pub use cache::{CACHE_DIR_ENV, CacheError, LocalCache, cache_key, default_cache_dir};
use progress::Progress;
pub use progress::ProgressMode;
use sandbox::Outcome;
pub use sandbox::SandboxOptions;

/// How cached tasks use the local cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CacheMode {
    /// Read hits, store misses.
    #[default]
    Enabled,
    /// Neither read nor write (`run --no-cache`).
    Disabled,
    /// Run every task and replace the stored outputs (`run --overwrite-cache`).
    Overwrite,
}

/// Settings of the local engine.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// How many tasks may execute at the same time (at least 1). Default: the number of CPUs, at
    /// least 4 (tasks often wait on I/O).
    pub concurrency: usize,
    /// Use of the local cache.
    pub cache: CacheMode,
    /// Cache directory; default [`default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Progress reporting on stderr.
    pub progress: ProgressMode,
    /// Where task outputs that are files go; default a new directory under the system temp dir.
    pub raw_output_prefix: Option<String>,
    /// Run every task node through the container contract (`run --sandbox`) instead of
    /// in-process.
    pub sandbox: Option<SandboxOptions>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Self {
            concurrency: cpus.max(4),
            cache: CacheMode::Enabled,
            cache_dir: None,
            progress: ProgressMode::Off,
            raw_output_prefix: None,
            sandbox: None,
        }
    }
}

/// Why a local run failed. Node failures name the node (a path such as `n2/n0` inside
/// sub-workflows), the entity and the cause.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The workflow definition is invalid.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// A required input was not given.
    #[error("{entity}: missing input '{name}' of type {ty}; pass it (e.g. `--{name} <value>`)")]
    MissingInput {
        /// The workflow or task.
        entity: String,
        /// The input.
        name: String,
        /// Its type, rendered.
        ty: String,
    },
    /// An input that the entity does not declare was given.
    #[error("{entity} has no input '{name}'; its inputs are: {expected}")]
    UnknownInput {
        /// The workflow or task.
        entity: String,
        /// The input.
        name: String,
        /// The declared inputs, comma-separated.
        expected: String,
    },
    /// A native value could not be converted to or from a literal.
    #[error("{what}: {source}")]
    Conversion {
        /// Which input or output.
        what: String,
        /// The conversion error.
        #[source]
        source: Box<TypeError>,
    },
    /// A task attempt failed and no retry was left.
    #[error("node {node} (task {task}) failed after {attempts} attempt(s): {source}")]
    TaskFailed {
        /// The node path (`n1`, `n2/n0`), or `-` for a task run on its own.
        node: String,
        /// The task name.
        task: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last attempt's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A task attempt exceeded the node's timeout and no retry was left.
    #[error(
        "node {node} (task {task}) timed out after {timeout:?} ({attempts} attempt(s)); raise the task's timeout"
    )]
    Timeout {
        /// The node path.
        node: String,
        /// The task name.
        task: String,
        /// The time limit of one attempt.
        timeout: Duration,
        /// How many attempts were made.
        attempts: u32,
    },
    /// Too few elements of a map task node succeeded, or its inputs could not be split.
    #[error("node {node} (map task {task}) failed: {reason}")]
    MapFailed {
        /// The node path.
        node: String,
        /// The map task name.
        task: String,
        /// How many elements failed and the first failures.
        reason: String,
    },
    /// A sub-workflow node failed.
    #[error("node {node} (workflow {workflow}) failed: {source}")]
    SubWorkflowFailed {
        /// The node path.
        node: String,
        /// The sub-workflow name.
        workflow: String,
        /// The failure inside the sub-workflow.
        #[source]
        source: Box<EngineError>,
    },
    /// A node's input could not be assembled from upstream outputs.
    #[error("node {node} ({entity}): cannot resolve input '{input}': {reason}")]
    Binding {
        /// The node path.
        node: String,
        /// The entity.
        entity: String,
        /// The input (or workflow output) being resolved.
        input: String,
        /// Why.
        reason: String,
    },
    /// Several nodes failed (failure policy `fail_after_executable_nodes_complete`).
    #[error("{} nodes failed:\n  - {}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n  - "))]
    Multiple(Vec<EngineError>),
    /// A node's execution panicked or was cancelled.
    #[error("node {node} ({entity}) aborted: {reason}")]
    Aborted {
        /// The node path.
        node: String,
        /// The entity.
        entity: String,
        /// Why.
        reason: String,
    },
    /// A dynamic task's `futures.pb` asks for something the sandbox cannot run.
    #[error("node {node}: cannot run the dynamic task's futures.pb: {reason}")]
    InvalidFutures {
        /// The node path.
        node: String,
        /// What is wrong or unsupported.
        reason: String,
    },
    /// The engine could not set up its working directories.
    #[error("cannot create the local run directory {path}: {source}")]
    Setup {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

struct EngineInner {
    options: EngineOptions,
    slots: Semaphore,
    cache: OnceLock<Option<LocalCache>>,
    cx: ConversionContext,
    run_dir: PathBuf,
}

/// The local engine. Cheap to clone; one engine can run many workflows, concurrently.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new(EngineOptions::default())
    }
}

/// Either a workflow's or a task's run: the progress reporter and the node path prefix.
struct RunScope {
    progress: Arc<Progress>,
    prefix: String,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl Engine {
    /// An engine with `options`. Working directories are made under the system temp dir; the
    /// cache is opened on first use (a cache that cannot be opened is reported and skipped).
    pub fn new(options: EngineOptions) -> Self {
        let run_dir = std::env::temp_dir()
            .join("flytekit-rs")
            .join("local")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let raw = options
            .raw_output_prefix
            .clone()
            .unwrap_or_else(|| run_dir.join("raw").to_string_lossy().into_owned());
        let cx =
            ConversionContext::new(crate::storage::Storage::new(), run_dir.join("inputs"), raw);
        let slots = Semaphore::new(options.concurrency.max(1));
        Self {
            inner: Arc::new(EngineInner {
                options,
                slots,
                cache: OnceLock::new(),
                cx,
                run_dir,
            }),
        }
    }

    /// The engine's settings.
    pub fn options(&self) -> &EngineOptions {
        &self.inner.options
    }

    /// The conversion context for values passed in and out of runs (local storage, the run's
    /// raw output directory).
    pub fn conversion_context(&self) -> &ConversionContext {
        &self.inner.cx
    }

    fn cache(&self) -> Option<&LocalCache> {
        if self.inner.options.cache == CacheMode::Disabled {
            return None;
        }
        self.inner
            .cache
            .get_or_init(|| {
                let dir = self
                    .inner
                    .options
                    .cache_dir
                    .clone()
                    .unwrap_or_else(default_cache_dir);
                match LocalCache::open(&dir) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        eprintln!("warning: local cache disabled: {e}");
                        None
                    }
                }
            })
            .as_ref()
    }

    /// Runs `entity` with `inputs` (validated against its interface; missing inputs with defaults
    /// are filled in) and returns its outputs.
    pub async fn run(
        &self,
        entity: &Entity,
        inputs: LiteralMap,
    ) -> Result<LiteralMap, EngineError> {
        let inputs = complete_inputs(entity, inputs)?;
        self.prepare_dirs()?;
        let total = match entity {
            Entity::Task(_) => 1,
            Entity::Workflow(w) => {
                w.check()?;
                task_node_count(w)
            }
        };
        let progress = Arc::new(Progress::new(self.inner.options.progress, total));
        progress.begin(entity.kind(), entity.name());
        let scope = RunScope {
            progress: progress.clone(),
            prefix: String::new(),
        };
        let result = match entity {
            Entity::Task(t) => {
                self.clone()
                    .run_task_node(t.clone(), inputs, "-".to_string(), None, &scope)
                    .await
            }
            Entity::Workflow(w) => {
                self.clone()
                    .run_graph(w.clone(), Arc::new(inputs), scope)
                    .await
            }
        };
        progress.end(result.is_ok());
        result
    }

    /// Runs workflow `wf` with `inputs`.
    pub async fn run_workflow(
        &self,
        wf: &Workflow,
        inputs: LiteralMap,
    ) -> Result<LiteralMap, EngineError> {
        self.run(&Entity::Workflow(wf.clone()), inputs).await
    }

    /// Runs task `task` with `inputs`, with its retries, timeout and cache.
    pub async fn run_task(
        &self,
        task: &Task,
        inputs: LiteralMap,
    ) -> Result<LiteralMap, EngineError> {
        self.run(&Entity::Task(task.clone()), inputs).await
    }

    fn prepare_dirs(&self) -> Result<(), EngineError> {
        let dirs = [
            self.inner.run_dir.join("inputs"),
            self.inner.run_dir.join("raw"),
        ];
        for d in dirs {
            std::fs::create_dir_all(&d).map_err(|source| EngineError::Setup {
                path: d.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// Runs the nodes of `wf` to completion and resolves its outputs.
    fn run_graph(
        self,
        wf: Workflow,
        inputs: Arc<LiteralMap>,
        scope: RunScope,
    ) -> BoxFuture<Result<LiteralMap, EngineError>> {
        Box::pin(async move {
            let nodes = wf.nodes();
            let n = nodes.len();
            let mut waiting: Vec<usize> = nodes.iter().map(|x| x.upstream.len()).collect();
            let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
            for (i, node) in nodes.iter().enumerate() {
                for &u in &node.upstream {
                    if let Some(d) = dependents.get_mut(u) {
                        d.push(i);
                    }
                }
            }
            let mut ready: VecDeque<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
            let mut results: Vec<Option<Arc<LiteralMap>>> = vec![None; n];
            let mut running: JoinSet<(usize, Result<LiteralMap, EngineError>)> = JoinSet::new();
            let mut failures: Vec<EngineError> = Vec::new();
            let fail_fast = wf.failure_policy() == FailurePolicy::FailImmediately;
            let mut node_of_task: HashMap<tokio::task::Id, usize> = HashMap::new();
            let mut inline: Option<(usize, Result<LiteralMap, EngineError>)> = None;

            loop {
                while let Some(i) = ready.pop_front() {
                    let node = &nodes[i];
                    let path = format!("{}{}", scope.prefix, node.id);
                    let resolved = resolve_inputs(&node.inputs, &inputs, &wf, &results)
                        .map(|m| coerce_unions(m, node.entity.interface()))
                        .map_err(|(input, reason)| EngineError::Binding {
                            node: path.clone(),
                            entity: node.entity.name().to_string(),
                            input,
                            reason,
                        });
                    let node_inputs = match resolved {
                        Ok(m) => m,
                        Err(e) => {
                            scope
                                .progress
                                .failed(&path, node.entity.name(), &e.to_string());
                            failures.push(e);
                            continue;
                        }
                    };
                    let engine = self.clone();
                    let entity = node.entity.clone();
                    let overrides = node.overrides.clone();
                    let child = RunScope {
                        progress: scope.progress.clone(),
                        prefix: format!("{path}/"),
                    };
                    let work = async move {
                        let result = match entity {
                            Entity::Task(t) => {
                                engine
                                    .run_task_node(t, node_inputs, path, Some(overrides), &child)
                                    .await
                            }
                            Entity::Workflow(w) => {
                                let name = w.name().to_string();
                                engine
                                    .run_graph(w, Arc::new(node_inputs), child)
                                    .await
                                    .map_err(|e| EngineError::SubWorkflowFailed {
                                        node: path,
                                        workflow: name,
                                        source: Box::new(e),
                                    })
                            }
                        };
                        (i, result)
                    };
                    if ready.is_empty() && running.is_empty() {
                        // The only runnable node (e.g. a chain): run it here, without handing it
                        // to another worker thread and back.
                        inline = Some(work.await);
                        break;
                    }
                    let handle = running.spawn(work);
                    node_of_task.insert(handle.id(), i);
                }
                if fail_fast && !failures.is_empty() {
                    running.abort_all();
                    while running.join_next().await.is_some() {}
                    break;
                }
                let joined = match inline.take() {
                    Some(done) => Ok(done),
                    None => match running.join_next_with_id().await {
                        Some(Ok((_, done))) => Ok(done),
                        Some(Err(join)) => Err(join),
                        None => break,
                    },
                };
                match joined {
                    Ok((i, Ok(outputs))) => {
                        results[i] = Some(Arc::new(outputs));
                        for &d in &dependents[i] {
                            waiting[d] = waiting[d].saturating_sub(1);
                            if waiting[d] == 0 {
                                ready.push_back(d);
                            }
                        }
                    }
                    Ok((_, Err(e))) => failures.push(e),
                    Err(join) => {
                        let i = node_of_task.get(&join.id()).copied().unwrap_or(0);
                        let node = &nodes[i];
                        let reason = if join.is_panic() {
                            "the task panicked".to_string()
                        } else {
                            join.to_string()
                        };
                        failures.push(EngineError::Aborted {
                            node: format!("{}{}", scope.prefix, node.id),
                            entity: node.entity.name().to_string(),
                            reason,
                        });
                    }
                }
            }

            match failures.len() {
                0 => {}
                1 => return Err(failures.remove(0)),
                _ => return Err(EngineError::Multiple(failures)),
            }
            let mut out = LiteralMap::default();
            for b in wf.output_bindings() {
                let lit = match &b.binding {
                    Some(data) => resolve(data, &|id| node_outputs(id, &inputs, &wf, &results)),
                    None => Err("the output is not bound".to_string()),
                }
                .map_err(|reason| EngineError::Binding {
                    node: format!("{}outputs", scope.prefix),
                    entity: wf.name().to_string(),
                    input: b.var.clone(),
                    reason,
                })?;
                out.literals.insert(b.var.clone(), lit);
            }
            Ok(out)
        })
    }

    /// Runs one attempt of a task: in-process through `Task::dispatch`, or in the sandbox through
    /// the container contract. The flag says whether the failure may be retried: always in
    /// process (as before), only for recoverable errors in the sandbox (as Propeller).
    async fn attempt(
        &self,
        task: &Task,
        inputs: &LiteralMap,
        path: &str,
        attempt: u32,
        via: &Via,
    ) -> Result<Outcome, AttemptFailure> {
        let Some(opts) = &self.inner.options.sandbox else {
            let ctx = local_execution_context(&self.inner.cx);
            return task
                .dispatch(inputs, &ctx)
                .await
                .map(Outcome::Outputs)
                .map_err(|e| (Box::new(e) as BoxError, true));
        };
        let storage = self.inner.cx.storage();
        let result = match via {
            Via::Execute => {
                sandbox::run_attempt(task, inputs, path, attempt - 1, opts, storage).await
            }
            Via::MapElement { map, index, input } => match map.template(&sandbox::settings(opts)) {
                Err(e) => Err(sandbox::AttemptError::Setup(e.to_string())),
                Ok(template) => {
                    let run = sandbox::ContainerRun {
                        template: &template,
                        node: path,
                        attempt: attempt - 1,
                        input: sandbox::Input::At(input.clone()),
                        env: crate::map_task::element_env(*index),
                    };
                    sandbox::run_container(run, opts, storage).await
                }
            },
        };
        result.map_err(sandbox::AttemptError::into_failure)
    }

    /// Makes attempts (each bounded by `timeout`) until one succeeds, a failure is not retryable,
    /// or `retries` retries are spent.
    async fn with_retries<F, Fut>(
        &self,
        path: &str,
        name: &str,
        retries: u32,
        timeout: Option<Duration>,
        progress: &Progress,
        mut attempt: F,
    ) -> Result<Outcome, EngineError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<Outcome, AttemptFailure>>,
    {
        let mut n = 0u32;
        loop {
            n += 1;
            let run = attempt(n);
            let result = match timeout {
                Some(limit) => tokio::time::timeout(limit, run)
                    .await
                    .unwrap_or_else(|_| Err((Box::new(TimedOut(limit)), true))),
                None => run.await,
            };
            match result {
                Ok(outcome) => return Ok(outcome),
                Err((e, retryable)) if retryable && n <= retries => {
                    progress.retrying(path, name, n, &e.to_string());
                    if self.inner.options.sandbox.is_some() {
                        tokio::time::sleep(sandbox::RETRY_DELAY).await;
                    }
                }
                Err((e, _)) => {
                    let err = match e.downcast::<TimedOut>() {
                        Ok(t) => EngineError::Timeout {
                            node: path.to_string(),
                            task: name.to_string(),
                            timeout: t.0,
                            attempts: n,
                        },
                        Err(e) => EngineError::TaskFailed {
                            node: path.to_string(),
                            task: name.to_string(),
                            attempts: n,
                            source: e,
                        },
                    };
                    progress.failed(path, name, &err.to_string());
                    return Err(err);
                }
            }
        }
    }

    /// Runs one task node: cache lookup, attempts with retries and timeout, cache store.
    async fn run_task_node(
        self,
        task: Task,
        inputs: LiteralMap,
        path: String,
        overrides: Option<crate::workflow::NodeOverrides>,
        scope: &RunScope,
    ) -> Result<LiteralMap, EngineError> {
        if task.map_spec().is_some() {
            return self
                .run_map_node(task, inputs, path, overrides, scope)
                .await;
        }
        if task.dynamic_spec().is_some() && self.inner.options.sandbox.is_none() {
            return self.run_dynamic_node(task, inputs, path, scope).await;
        }
        self.run_task_node_via(task, inputs, path, overrides, scope, Via::Execute)
            .await
    }

    /// [`Engine::run_task_node`] for a plain task, or for one element of a map task in the
    /// sandbox (`via`).
    async fn run_task_node_via(
        self,
        task: Task,
        inputs: LiteralMap,
        path: String,
        overrides: Option<crate::workflow::NodeOverrides>,
        scope: &RunScope,
        via: Via,
    ) -> Result<LiteralMap, EngineError> {
        let settings = crate::workflow::task_settings(&task);
        let o = overrides.unwrap_or_default();
        let retries = o.retries.unwrap_or(settings.retries);
        let timeout = o.timeout.or(settings.timeout);
        let cached = o.cache.unwrap_or(settings.cache);
        let version = o
            .cache_version
            .clone()
            .unwrap_or_else(|| settings.cache_version.clone());
        let name = task.name().to_string();
        let progress = &scope.progress;
        let started = Instant::now();

        let key =
            cached.then(|| cache_key(&name, &version, &inputs, &settings.cache_ignored_inputs));
        let cache = if key.is_some() { self.cache() } else { None };
        if let (Some(c), Some(k)) = (cache, &key) {
            if self.inner.options.cache == CacheMode::Enabled {
                match c.get(k) {
                    Ok(Some(outputs)) => {
                        progress.finished(&path, &name, true, started.elapsed());
                        return Ok(outputs);
                    }
                    Ok(None) => {}
                    Err(e) => eprintln!("warning: {e}"),
                }
            }
        }

        let permit = self.acquire_slot(&path, &name).await?;
        progress.started(&path, &name);
        let outcome = self
            .with_retries(&path, &name, retries, timeout, progress, |n| {
                self.attempt(&task, &inputs, &path, n, &via)
            })
            .await?;
        let outputs = match outcome {
            Outcome::Outputs(outputs) => outputs,
            Outcome::Futures(spec) => {
                // The dynamic task's container is done: its slot goes to the nodes it spawned.
                drop(permit);
                self.clone()
                    .run_futures(spec, path.clone(), name.clone(), scope)
                    .await?
            }
        };
        if let (Some(c), Some(k)) = (cache, &key) {
            if let Err(e) = c.put(k, &name, &version, &outputs) {
                eprintln!("warning: {e}");
            }
        }
        progress.finished(&path, &name, false, started.elapsed());
        Ok(outputs)
    }

    /// One of the engine's execution slots, held while a task executes.
    async fn acquire_slot(
        &self,
        path: &str,
        name: &str,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, EngineError> {
        self.inner
            .slots
            .acquire()
            .await
            .map_err(|e| EngineError::Aborted {
                node: path.to_string(),
                entity: name.to_string(),
                reason: e.to_string(),
            })
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An attempt that ran out of time.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {0:?}")]
struct TimedOut(Duration);

/// A failed attempt and whether it may be retried.
type AttemptFailure = (BoxError, bool);

/// How a task node's container is started in the sandbox.
enum Via {
    /// `execute`, with the node's inputs.
    Execute,
    /// `map-execute` of element `index` of a map task, on the map's whole inputs at `input`.
    MapElement {
        /// The map task.
        map: Task,
        /// The element.
        index: usize,
        /// The map's `inputs.pb`.
        input: String,
    },
}

/// Number of task nodes of `wf`, counting inside sub-workflows.
fn task_node_count(wf: &Workflow) -> usize {
    wf.nodes()
        .iter()
        .map(|n| match &n.entity {
            Entity::Task(_) => 1,
            Entity::Workflow(w) => task_node_count(w),
        })
        .sum()
}

/// Checks `inputs` against the entity's interface and fills in workflow defaults.
pub fn complete_inputs(entity: &Entity, mut inputs: LiteralMap) -> Result<LiteralMap, EngineError> {
    let declared = entity
        .interface()
        .inputs
        .clone()
        .unwrap_or_default()
        .variables;
    let mut names: Vec<&String> = declared.keys().collect();
    names.sort();
    for name in inputs.literals.keys() {
        if !declared.contains_key(name) {
            return Err(EngineError::UnknownInput {
                entity: entity.name().to_string(),
                name: name.clone(),
                expected: if names.is_empty() {
                    "(none)".to_string()
                } else {
                    names
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            });
        }
    }
    let defaults = match entity {
        Entity::Workflow(w) => w
            .inputs()
            .iter()
            .filter_map(|i| i.default.clone().map(|d| (i.name.clone(), d)))
            .collect(),
        Entity::Task(_) => HashMap::new(),
    };
    for name in names {
        if inputs.literals.contains_key(name) {
            continue;
        }
        match defaults.get(name) {
            Some(d) => {
                inputs.literals.insert(name.clone(), d.clone());
            }
            None => {
                let ty = declared
                    .get(name)
                    .and_then(|v| v.r#type.as_ref())
                    .map(describe_type)
                    .unwrap_or_default();
                return Err(EngineError::MissingInput {
                    entity: entity.name().to_string(),
                    name: name.clone(),
                    ty,
                });
            }
        }
    }
    Ok(inputs)
}

/// Wraps plain values bound to union-typed inputs (`Option<T>` from a `T` promise) into union
/// literals, as Propeller does when it coerces a value to a union.
fn coerce_unions(
    mut inputs: LiteralMap,
    interface: &flytekit_idl::core::TypedInterface,
) -> LiteralMap {
    use flytekit_idl::core::{SimpleType, literal_type};
    let Some(vars) = interface.inputs.as_ref() else {
        return inputs;
    };
    for (name, lit) in inputs.literals.iter_mut() {
        let Some(Some(literal_type::Type::UnionType(u))) = vars
            .variables
            .get(name)
            .map(|v| v.r#type.as_ref().and_then(|t| t.r#type.as_ref()))
        else {
            continue;
        };
        let is_union = matches!(&lit.value, Some(literal::Value::Scalar(s)) if matches!(s.value, Some(scalar::Value::Union(_))));
        if is_union {
            continue;
        }
        let is_none = matches!(&lit.value, Some(literal::Value::Scalar(s)) if matches!(s.value, Some(scalar::Value::NoneType(_))));
        let none = |t: &&flytekit_idl::core::LiteralType| matches!(t.r#type, Some(literal_type::Type::Simple(s)) if s == SimpleType::None as i32);
        let variant = if is_none {
            u.variants.iter().find(none)
        } else {
            u.variants.iter().find(|t| !none(t))
        };
        if let Some(variant) = variant {
            let value = std::mem::take(lit);
            *lit = Literal {
                value: Some(literal::Value::Scalar(Scalar {
                    value: Some(scalar::Value::Union(Box::new(Union {
                        value: Some(Box::new(value)),
                        r#type: Some(variant.clone()),
                    }))),
                })),
                ..Default::default()
            };
        }
    }
    inputs
}

/// Resolves every binding of a node; on failure returns the input name and the reason.
fn resolve_inputs(
    bindings: &[flytekit_idl::core::Binding],
    inputs: &LiteralMap,
    wf: &Workflow,
    results: &[Option<Arc<LiteralMap>>],
) -> Result<LiteralMap, (String, String)> {
    resolve_bindings(bindings, &|id| node_outputs(id, inputs, wf, results))
}

/// The outputs a promise on node `id` of `wf` reads (the workflow inputs for the input node).
fn node_outputs<'a>(
    id: &str,
    inputs: &'a LiteralMap,
    wf: &Workflow,
    results: &'a [Option<Arc<LiteralMap>>],
) -> Result<&'a LiteralMap, String> {
    if is_input_node(id) {
        return Ok(inputs);
    }
    let i = wf
        .node_index(id)
        .ok_or_else(|| format!("unknown node '{id}'"))?;
    results
        .get(i)
        .and_then(|x| x.as_deref())
        .ok_or_else(|| format!("node {id} has not produced outputs"))
}

fn is_input_node(id: &str) -> bool {
    id == INPUT_NODE_ID || id == "start-node"
}

/// Where promises read from: node id → that node's outputs.
type Lookup<'a, 'b> = &'b dyn Fn(&str) -> Result<&'a LiteralMap, String>;

/// Resolves `bindings` through `lookup`; on failure returns the variable and the reason.
fn resolve_bindings(
    bindings: &[flytekit_idl::core::Binding],
    lookup: Lookup<'_, '_>,
) -> Result<LiteralMap, (String, String)> {
    let mut out = LiteralMap::default();
    for b in bindings {
        let data = b
            .binding
            .as_ref()
            .ok_or_else(|| (b.var.clone(), "the input is not bound".to_string()))?;
        let lit = resolve(data, lookup).map_err(|r| (b.var.clone(), r))?;
        out.literals.insert(b.var.clone(), lit);
    }
    Ok(out)
}

/// Turns binding data into a literal, reading promises through `lookup`.
fn resolve(data: &BindingData, lookup: Lookup<'_, '_>) -> Result<Literal, String> {
    let lit = match &data.value {
        Some(binding_data::Value::Scalar(s)) => Literal {
            value: Some(literal::Value::Scalar(s.clone())),
            ..Default::default()
        },
        Some(binding_data::Value::Collection(c)) => {
            let literals = c
                .bindings
                .iter()
                .map(|b| resolve(b, lookup))
                .collect::<Result<Vec<_>, _>>()?;
            Literal {
                value: Some(literal::Value::Collection(LiteralCollection { literals })),
                ..Default::default()
            }
        }
        Some(binding_data::Value::Map(m)) => {
            let mut literals = std::collections::BTreeMap::new();
            for (k, b) in &m.bindings {
                literals.insert(k.clone(), resolve(b, lookup)?);
            }
            Literal {
                value: Some(literal::Value::Map(Box::new(LiteralMap { literals }))),
                ..Default::default()
            }
        }
        Some(binding_data::Value::Promise(r)) => {
            if !r.attr_path.is_empty() {
                return Err(
                    "attribute paths on promises are not supported by the local engine yet"
                        .to_string(),
                );
            }
            let source = lookup(&r.node_id)?;
            source.literals.get(&r.var).cloned().ok_or_else(|| {
                if is_input_node(&r.node_id) {
                    format!("workflow input '{}' is missing", r.var)
                } else {
                    format!("node {} produced no output '{}'", r.node_id, r.var)
                }
            })?
        }
        Some(binding_data::Value::OffloadedMetadata(o)) => Literal {
            value: Some(literal::Value::OffloadedMetadata(Box::new(o.clone()))),
            ..Default::default()
        },
        None => return Err("empty binding".to_string()),
    };
    Ok(match &data.union {
        Some(u) => Literal {
            value: Some(literal::Value::Scalar(Scalar {
                value: Some(scalar::Value::Union(Box::new(Union {
                    value: Some(Box::new(lit)),
                    r#type: u.target_type.clone(),
                }))),
            })),
            ..Default::default()
        },
        None => lit,
    })
}

/// A call of a workflow from Rust: typed inputs in, typed outputs out, on a default engine.
/// `#[workflow]` functions use it; `my_wf(1, 2).await` runs the workflow locally.
#[derive(Debug)]
pub struct LocalCall {
    entity: Entity,
    engine: Engine,
    inputs: LiteralMap,
}

impl LocalCall {
    /// A call of `entity` on a default engine (no progress, cache enabled).
    pub fn new(entity: impl Into<Entity>) -> Self {
        Self::with_engine(entity, Engine::default())
    }

    /// A call of `entity` on `engine`.
    pub fn with_engine(entity: impl Into<Entity>, engine: Engine) -> Self {
        Self {
            entity: entity.into(),
            engine,
            inputs: LiteralMap::default(),
        }
    }

    /// Sets input `name` to `value`.
    pub async fn input<T: FlyteType>(&mut self, name: &str, value: &T) -> Result<(), EngineError> {
        let lit = value
            .to_literal(self.engine.conversion_context())
            .await
            .map_err(|e| EngineError::Conversion {
                what: format!("input '{name}'"),
                source: Box::new(e),
            })?;
        self.inputs.literals.insert(name.to_string(), lit);
        Ok(())
    }

    /// Runs the entity and returns its outputs.
    pub async fn execute(self) -> Result<Outputs, EngineError> {
        let literals = self.engine.run(&self.entity, self.inputs).await?;
        Ok(Outputs {
            literals,
            cx: self.engine.conversion_context().clone(),
        })
    }
}

/// The outputs of a local run.
#[derive(Clone, Debug)]
pub struct Outputs {
    literals: LiteralMap,
    cx: ConversionContext,
}

impl Outputs {
    /// Reads output `name` as a `T`.
    pub async fn get<T: FlyteType>(&self, name: &str) -> Result<T, EngineError> {
        crate::type_engine::read_input::<T>(&self.literals, name, &self.cx)
            .await
            .map_err(|e| EngineError::Conversion {
                what: format!("output '{name}'"),
                source: Box::new(e),
            })
    }

    /// The output literals.
    pub fn literals(&self) -> &LiteralMap {
        &self.literals
    }

    /// The outputs as a JSON object, keys sorted.
    pub fn to_json(&self) -> serde_json::Value {
        outputs_to_json(&self.literals)
    }
}

/// Renders output literals as a JSON object with sorted keys.
pub fn outputs_to_json(outputs: &LiteralMap) -> serde_json::Value {
    let mut names: Vec<&String> = outputs.literals.keys().collect();
    names.sort();
    let mut obj = serde_json::Map::new();
    for n in names {
        if let Some(l) = outputs.literals.get(n) {
            obj.insert(n.clone(), literal_to_json(l));
        }
    }
    serde_json::Value::Object(obj)
}
// x
