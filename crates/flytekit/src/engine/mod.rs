//! The local engine: runs workflows and tasks in-process, with no cluster and no configuration.
//!
//! A run turns the workflow into a [graph](graph) and runs it through the one
//! [scheduler](crate::scheduler): every node whose upstream nodes are done is ready, and at most
//! [`EngineOptions::concurrency`] tasks execute at a time, on the scheduler's worker threads.
//! Each task body runs in place, so its inputs and outputs make the same literal round trip as in
//! a container without a hand-off per node. Failed attempts are retried as Propeller retries them
//! (recoverable errors and timeouts, as many times as the task or node override says); a node's
//! timeout bounds each attempt. Outputs of `cache = true` tasks are kept in the SQLite
//! [`LocalCache`]. With [`EngineOptions::sandbox`] every task runs through the container contract
//! instead ([`sandbox`]), and a dynamic task's `futures.pb` becomes a graph of its own.
//!
//! ```ignore
//! let engine = flytekit::engine::Engine::new(EngineOptions::default());
//! let outputs = engine.run(&my_wf::workflow().into(), inputs).await?;
//! ```

mod attr_path;
mod bindings;
mod branch;
mod cache;
mod catalog;
mod exec;
mod gates;
mod graph;
pub(crate) mod isolate;
mod package;
mod progress;
mod references;
pub(crate) mod sandbox;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use flytekit_idl::core::LiteralMap;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;

use crate::scheduler::Cancel;
use crate::task::Task;
use crate::type_engine::{ConversionContext, FlyteType, TypeError, describe_type, literal_to_json};
use crate::workflow::{Entity, Reference, Workflow, WorkflowError};

pub use cache::{CACHE_DIR_ENV, CacheError, LocalCache, cache_key, default_cache_dir};
pub use gates::GateAnswers;
use graph::{Graph, GraphNode, NodeKind};
pub use package::{PackageError, ReferencePackage};
use progress::Progress;
pub use progress::ProgressMode;
use references::References;
pub use sandbox::{AttemptError, SandboxOptions, TemplateVars, render};

/// What one engine run shares: progress, cancellation, the runtime handle, and where reference
/// entities and launch plans named by id are found.
pub(crate) struct Run {
    pub progress: Arc<Progress>,
    pub cancel: Cancel,
    pub handle: Handle,
    pub references: Arc<References>,
}

impl Run {
    /// One of the engine's task slots: taken at once when one is free, else awaited, giving up
    /// on cancellation.
    fn slot<'a>(
        &self,
        slots: &'a Semaphore,
    ) -> Result<tokio::sync::SemaphorePermit<'a>, EngineError> {
        self.block_on(slots.acquire())?
            .map_err(|_| EngineError::Cancelled)
    }

    /// Drives `fut` to completion on this thread, unless the run is cancelled first.
    ///
    /// Most futures driven here finish on their first poll (a sync task body runs in place, a
    /// free slot is taken at once), so `fut` is polled once before going through the runtime's
    /// `block_on`, which costs more than such a body. A future that is not ready then is driven
    /// to the end by `block_on`, which polls it again with a waker of its own. The first poll
    /// needs the runtime's context (timers, I/O): a run's code runs on the scheduler's workers,
    /// which have it — the first is a thread of the runtime's blocking pool, and the scheduler
    /// gives the workers it starts the context of the thread that started them.
    fn block_on<F: Future>(&self, fut: F) -> Result<F::Output, EngineError> {
        let mut fut = std::pin::pin!(fut);
        let mut first = std::task::Context::from_waker(std::task::Waker::noop());
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut first) {
            return Ok(out);
        }
        self.handle.block_on(async {
            tokio::select! {
                biased;
                r = fut => Ok(r),
                _ = self.cancel.cancelled() => Err(EngineError::Cancelled),
            }
        })
    }
}

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
    /// Answers to the run's gates (signals, approvals), or whether to ask on the terminal.
    pub gates: GateAnswers,
    /// Local stand-ins for reference entities (besides those registered with `stand_in!`).
    pub stand_ins: Vec<(Reference, Entity)>,
    /// Registration packages whose templates run the reference entities a workflow calls, in
    /// the sandbox (`run --sandbox --reference-package PKG`).
    pub reference_packages: Vec<Arc<ReferencePackage>>,
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
            gates: GateAnswers::default(),
            stand_ins: Vec::new(),
            reference_packages: Vec::new(),
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
    /// A conditional failed: its `else_().fail(..)` arm was taken, or a condition could not be
    /// evaluated (values that do not compare).
    #[error("node {node} (conditional {conditional}) failed: {message}")]
    Branch {
        /// The node path.
        node: String,
        /// The conditional's name.
        conditional: String,
        /// Why.
        message: String,
    },
    /// A gate got no answer, a wrong one, or a refusal.
    #[error("node {node} (gate {gate}) failed: {message}")]
    Gate {
        /// The node path.
        node: String,
        /// The gate's name (its signal id).
        gate: String,
        /// Why, and how to answer it.
        message: String,
    },
    /// A reference entity (or a launch plan named by id) cannot be run here.
    #[error("node {node}: {message}")]
    Reference {
        /// The node path.
        node: String,
        /// What is missing and how to provide it.
        message: String,
    },
    /// The workflow failed, and so did its failure node.
    #[error("{original}\nthe failure node {node} failed too: {failure}")]
    FailureNode {
        /// The failure node's path.
        node: String,
        /// Why the workflow failed.
        original: Box<EngineError>,
        /// Why the failure node failed.
        failure: Box<EngineError>,
    },
    /// A launch plan or entity given to the engine is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The run was cancelled (Ctrl-C, or its caller went away) before it finished.
    #[error("the run was cancelled")]
    Cancelled,
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
    /// What every local task attempt's context is made from (fresh decks and timeline each
    /// time): the engine's storage and places, and secrets read from the environment once.
    task_cx: crate::execution::ExecutionContext,
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
        let task_cx = crate::execution::ExecutionContext::builder(
            crate::execution::ExecutionMode::Local,
            cx.clone(),
            cx.local_dir(),
        )
        .secrets(crate::secrets::SecretsManager::from_env(true))
        .build();
        Self {
            inner: Arc::new(EngineInner {
                options,
                slots,
                cache: OnceLock::new(),
                cx,
                task_cx,
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
                        tracing::warn!("local cache disabled: {e}");
                        None
                    }
                }
            })
            .as_ref()
    }

    /// Runs `entity` with `inputs` (validated against its interface; missing inputs with defaults
    /// are filled in) and returns its outputs. Dropping the returned future cancels the run:
    /// nothing more starts, and sandbox containers are killed.
    pub async fn run(
        &self,
        entity: &Entity,
        inputs: LiteralMap,
    ) -> Result<LiteralMap, EngineError> {
        let inputs = complete_inputs(entity, inputs)?;
        self.prepare_dirs()?;
        let references = Arc::new(References::new(&self.inner.options));
        // A task (or a reference) runs as one node at path `-`; a workflow, or a launch plan's
        // workflow (its inputs completed above), as its graph.
        let graph = match entity {
            Entity::Task(t) => single_task_graph(t),
            Entity::Workflow(w) => {
                w.check()?;
                Graph::from_workflow(w, references.as_ref())?
            }
            Entity::LaunchPlan(lp) => {
                lp.workflow().check()?;
                lp.check().map_err(WorkflowError::from)?;
                Graph::from_workflow(lp.workflow(), references.as_ref())?
            }
            Entity::Reference(r) => {
                let kind = graph::Resolve::reference(references.as_ref(), r, "-")?;
                single_node_graph(r.name(), r.interface().clone(), kind)
            }
            Entity::Branch(_) | Entity::Gate(_) => {
                return Err(EngineError::Invalid(format!(
                    "{} {} runs only inside a workflow",
                    entity.kind(),
                    entity.name()
                )));
            }
        };
        let progress = Arc::new(Progress::new(
            self.inner.options.progress,
            graph.task_count(),
        ));
        progress.begin(entity.kind(), entity.name());
        let cancel = Cancel::new();
        let _cancel_on_drop = cancel.drop_guard();
        let run = Run {
            progress: progress.clone(),
            cancel,
            handle: tokio::runtime::Handle::current(),
            references,
        };
        let engine = self.clone();
        let is_task = matches!(entity, Entity::Task(_) | Entity::Reference(_));
        // The scheduler runs on threads of its own: one hand-off per run, none per node.
        let result = tokio::task::spawn_blocking(move || {
            if is_task {
                // A task run on its own is its node, at path `-`.
                let node = &graph.nodes[0];
                engine.run_node(node, inputs, "-".to_string(), &run)
            } else {
                engine.run_graph(&graph, &inputs, "", &run)
            }
        })
        .await
        .unwrap_or_else(|e| {
            Err(EngineError::Aborted {
                node: "-".into(),
                entity: entity.name().to_string(),
                reason: e.to_string(),
            })
        });
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
}

/// A graph of one node running `task` (a task run on its own).
fn single_task_graph(task: &Task) -> Graph {
    single_node_graph(
        task.name(),
        task.interface().clone(),
        NodeKind::of_task(task, &Default::default()),
    )
}

/// A graph of one node, at path `-`, running `kind`.
fn single_node_graph(
    name: &str,
    interface: flytekit_idl::core::TypedInterface,
    kind: NodeKind,
) -> Graph {
    Graph {
        name: name.to_string(),
        interface,
        nodes: vec![GraphNode {
            id: "-".to_string(),
            entity: name.to_string(),
            inputs: Vec::new(),
            kind,
        }],
        upstream: vec![Vec::new()],
        index: HashMap::new(),
        outputs: Vec::new(),
        policy: Default::default(),
        failure: None,
    }
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
        if let Some(message) = entity.unbindable(name) {
            return Err(EngineError::Invalid(format!(
                "{message}; leave --{name} out"
            )));
        }
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
    let defaults = entity.input_defaults();
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
    if let Entity::LaunchPlan(lp) = entity {
        for (name, value) in lp.fixed_inputs() {
            inputs.literals.insert(name.clone(), value.clone());
        }
    }
    Ok(inputs)
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
