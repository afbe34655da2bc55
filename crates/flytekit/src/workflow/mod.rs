//! Workflows: typed graphs of task and sub-workflow nodes, compiled to Flyte's `WorkflowTemplate`.
//!
//! Write a workflow with `#[workflow]` on a function whose body calls tasks:
//!
//! ```ignore
//! use flytekit::prelude::*;
//!
//! #[task]
//! fn add(a: i64, b: i64) -> i64 { a + b }
//!
//! #[workflow(defaults(b = 2))]
//! fn sum_twice(a: i64, b: i64) -> i64 {
//!     let s = add(a, b);
//!     add(s, s)
//! }
//! ```
//!
//! The macro runs the body once, at construction time, with every input turned into a typed
//! [`Promise`]: each call `add(x, y)` adds a node to a [`WorkflowBuilder`] and returns promises of
//! the node's outputs. Arguments are anything that implements [`IntoBinding<T>`] for the parameter
//! type `T`: a `Promise<T>`, a constant `T`, a `Vec` of promises (a collection binding) or a map of
//! promises. A wrong type or a missing argument is a compile error.
//!
//! Rules of a workflow body, as in Flyte:
//!
//! - Every call of a lowercase path (`add(..)`, `tasks::add(..)`, `sub_workflow(..)`) is a node
//!   call and must name a `#[task]` or `#[workflow]`. Constructors and methods of types
//!   (`String::from`, `Vec::new`, `x.len()`) are left alone. Inside `vec![...]` calls are nodes too.
//! - Promises are not values: you cannot compute on them, only pass them to nodes or return
//!   them — or a part of them (`est.pi()`, `xs.at(0)`, `m.get("k")`: [`attr`]-paths). Branch on
//!   them with [`conditional`]; wait on people with [`sleep`], [`wait_for_input`], [`approve`].
//!   The body's return value becomes the outputs `o0`, `o1`, ... (a tuple for several), or the
//!   names given with `outputs(a, b)`.
//! - Inputs with defaults: `#[workflow(defaults(x = 3, name = "world"))]`; the defaults go to the
//!   launch plan and `run` uses them when an input flag is absent.
//! - Other options: `name = "..."` (the registered name; default `<module path>.<fn>` with `::`
//!   replaced by `.`), `failure_policy = "fail_after_executable_nodes_complete"`, `interruptible`,
//!   `on_failure = task_or_workflow` (see [`failure`]), `outputs(name, ..)`.
//! - A node can run a task, a sub-workflow, a [`LaunchPlan`] (declared with `#[launch_plan]`), a
//!   [`Reference`] entity (`#[reference_task]`, ...), a conditional or a gate.
//!
//! Nodes can be tuned after the call through their handle, like flytekit's `with_overrides`:
//! `let y = add(x, 1); y.node().unwrap().name("adder").retries(3).requests(..).container_image(..);`.
//!
//! The same graph can be built without the macro through [`WorkflowBuilder`]; then mistakes that
//! the compiler would catch (unknown input names, wrong types, missing inputs) are reported by
//! [`WorkflowBuilder::build`].

pub mod attr;
mod binding;
mod condition;
mod dataset;
mod entity;
pub mod failure;
mod gate;
mod launch_plan;
mod reference;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use flytekit_idl::core::{
    Binding, BindingData, Literal, LiteralType, OutputReference, PromiseAttribute, TypedInterface,
    Variable, VariableMap, binding_data,
};

use crate::task::{Accelerator, PodTemplate, Resources, SharedMemory};
use crate::type_engine::FlyteType;

use crate::type_engine::describe_type;
pub use binding::IntoBinding;
pub use condition::{
    BranchCase, BranchOutput, BranchSpec, Branches, Comparable, Condition, Conditional, Elif, Else,
    If, Operand, Ordered, Otherwise, conditional,
};
pub use entity::Entity;
pub use failure::FAILURE_NODE_ID;
pub use gate::{DEFAULT_GATE_TIMEOUT, Gate, GateKind, approve, sleep, wait_for_input};
pub use launch_plan::{
    LaunchPlan, LaunchPlanError, LaunchPlanRegistration, Notification, NotificationKind, Schedule,
    ScheduleExpression, SecurityContext, WorkflowPhase, registered_launch_plans,
};
pub use reference::{Reference, ReferenceKind, StandInRegistration, registered_stand_ins};

/// The node id that names a workflow's own inputs in bindings (flytekit's `GLOBAL_INPUT_NODE_ID`).
pub const INPUT_NODE_ID: &str = "";

/// What happens to the rest of a workflow when one of its nodes fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Stop at once: running nodes are cancelled and the workflow fails (Flyte's default).
    #[default]
    FailImmediately,
    /// Keep running every node that does not depend on the failed one, then fail.
    FailAfterExecutableNodesComplete,
}

/// Why a workflow definition is invalid. Reported by [`WorkflowBuilder::build`], and by the
/// engine and serialization when they are handed a workflow whose definition failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum WorkflowError {
    /// A node binds an input its entity does not have.
    #[error("node {node} ({entity}): unknown input '{input}'; its inputs are: {expected}")]
    UnknownInput {
        /// The node id.
        node: String,
        /// The task or workflow the node runs.
        entity: String,
        /// The unknown input name.
        input: String,
        /// The entity's inputs, comma-separated.
        expected: String,
    },
    /// A node leaves a required input of its entity unbound.
    #[error(
        "node {node} ({entity}): input '{input}' is not bound; pass a value or a promise for it"
    )]
    MissingInput {
        /// The node id.
        node: String,
        /// The task or workflow the node runs.
        entity: String,
        /// The unbound input.
        input: String,
    },
    /// An input is bound twice.
    #[error("node {node} ({entity}): input '{input}' is bound twice")]
    DuplicateBinding {
        /// The node id.
        node: String,
        /// The task or workflow the node runs.
        entity: String,
        /// The input.
        input: String,
    },
    /// A value of one type is bound to a variable of another.
    #[error("{place}: expected a value of type {expected}, got {got}")]
    TypeMismatch {
        /// Where: `node n1 (add) input 'a'` or `workflow output 'o0'`.
        place: String,
        /// The declared type.
        expected: String,
        /// The type of the bound value.
        got: String,
    },
    /// A promise names an output the node's entity does not have.
    #[error("node {node} ({entity}) has no output '{output}'; its outputs are: {available}")]
    UnknownOutput {
        /// The node id.
        node: String,
        /// The task or workflow the node runs.
        entity: String,
        /// The requested output.
        output: String,
        /// The entity's outputs, comma-separated.
        available: String,
    },
    /// A promise from another workflow's construction was used.
    #[error(
        "workflow {workflow}: a promise of another workflow was used; pass values between workflows \
         through inputs (call the other workflow as a sub-workflow)"
    )]
    ForeignPromise {
        /// The workflow under construction.
        workflow: String,
    },
    /// A constant could not be converted to a literal.
    #[error(
        "workflow {workflow}: constant for {place} cannot be converted to a literal: {message}"
    )]
    Constant {
        /// The workflow under construction.
        workflow: String,
        /// What the constant was bound to.
        place: String,
        /// The conversion error.
        message: String,
    },
    /// Two inputs or two outputs of the workflow share a name.
    #[error("workflow {workflow}: {what} '{name}' is declared twice")]
    Duplicate {
        /// The workflow.
        workflow: String,
        /// `input` or `output`.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A declared output was never bound.
    #[error("workflow {workflow}: output '{output}' is declared but never bound")]
    UnboundOutput {
        /// The workflow.
        workflow: String,
        /// The output.
        output: String,
    },
    /// A sub-workflow used by a node is itself invalid.
    #[error("sub-workflow {workflow} is invalid: {source}")]
    SubWorkflow {
        /// The sub-workflow.
        workflow: String,
        /// Why.
        #[source]
        source: Box<WorkflowError>,
    },
    /// Several problems; each is listed.
    #[error("workflow {workflow} is invalid:\n  - {}", .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n  - "))]
    Invalid {
        /// The workflow.
        workflow: String,
        /// Every problem found, in construction order.
        errors: Vec<WorkflowError>,
    },
    /// Explicit orderings (`then`) form a cycle.
    #[error(
        "workflow {workflow}: the nodes {nodes} wait for each other in a cycle; remove one `then`"
    )]
    Cycle {
        /// The workflow.
        workflow: String,
        /// The nodes on the cycle.
        nodes: String,
    },
    /// An entity cannot be used the way a node uses it (e.g. a map task over a task with two
    /// outputs).
    #[error("{entity}: {message}")]
    InvalidEntity {
        /// The task or workflow.
        entity: String,
        /// What is wrong.
        message: String,
    },
    /// A conditional is malformed: a branch without a node, outputs that differ between
    /// branches, a condition on an unsupported value, a node made inside a branch but not used.
    #[error("conditional '{conditional}': {message}")]
    Condition {
        /// The conditional's name.
        conditional: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The failure node (`on_failure`) cannot take the workflow's inputs.
    #[error("workflow {workflow}: failure node {entity}: {message}")]
    FailureNode {
        /// The workflow.
        workflow: String,
        /// The task or workflow run on failure.
        entity: String,
        /// What is wrong.
        message: String,
    },
    /// A launch plan is invalid.
    #[error(transparent)]
    LaunchPlan(#[from] LaunchPlanError),
    /// Serializing an entity of the workflow failed.
    #[error("serializing {entity}: {message}")]
    Serialization {
        /// The task or workflow.
        entity: String,
        /// Why.
        message: String,
    },
}

/// An input of a workflow: its name, type and optional default.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowInput {
    /// Input name.
    pub name: String,
    /// Flyte type of the input.
    pub ty: LiteralType,
    /// Value used when the caller passes none (launch plan default).
    pub default: Option<Literal>,
}

/// Settings of one node that override its entity's defaults (flytekit's `with_overrides`): the
/// node's metadata (name, retries, timeout, interruptible, cache) and, for task nodes, the
/// `TaskNodeOverrides` (resources, image, pod template, accelerator, shared memory).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeOverrides {
    /// Display name of the node (default: the entity's short name).
    pub name: Option<String>,
    /// Retries after a failed attempt.
    pub retries: Option<u32>,
    /// Time limit of one attempt.
    pub timeout: Option<Duration>,
    /// Whether outputs are cached.
    pub cache: Option<bool>,
    /// Cache version.
    pub cache_version: Option<String>,
    /// Whether concurrent runs with the same inputs wait for one another's cached outputs.
    pub cache_serialize: Option<bool>,
    /// Whether the node may run on interruptible capacity.
    pub interruptible: Option<bool>,
    /// Resource requests of the task's container.
    pub requests: Option<Resources>,
    /// Resource limits of the task's container.
    pub limits: Option<Resources>,
    /// Requests and limits given as pairs (flytekit's `resources=`); excludes `requests`/`limits`.
    pub resources: Option<Resources>,
    /// The container image to run the task in instead of its own.
    pub container_image: Option<String>,
    /// A pod template for the task's pod.
    pub pod_template: Option<PodTemplate>,
    /// A GPU accelerator.
    pub accelerator: Option<Accelerator>,
    /// Shared memory at `/dev/shm`.
    pub shared_memory: Option<SharedMemory>,
}

/// One node of a built workflow.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    /// Node id, `n0`, `n1`, ... in creation order.
    pub id: String,
    /// What the node runs.
    pub entity: Entity,
    /// Bindings of the entity's inputs, sorted by input name (as flytekit writes them).
    pub inputs: Vec<Binding>,
    /// Indices (in [`Workflow::nodes`]) of the nodes this one waits for: its promises' producers
    /// and explicit `then`s. A node inside a branch names nodes of the workflow it is in.
    pub upstream: Vec<usize>,
    /// Per-node settings.
    pub overrides: NodeOverrides,
}

#[derive(Debug)]
struct WorkflowInner {
    name: String,
    description: String,
    failure_policy: FailurePolicy,
    interruptible: Option<bool>,
    inputs: Vec<WorkflowInput>,
    /// Output names and types, in order (`o0`, `o1`, ...).
    outputs: Vec<(String, LiteralType)>,
    interface: TypedInterface,
    nodes: Vec<NodeSpec>,
    output_bindings: Vec<Binding>,
    node_index: HashMap<String, usize>,
    failure_node: Option<NodeSpec>,
    error: Option<WorkflowError>,
}

/// A built workflow: its interface, nodes and output bindings. Cheap to clone (shared).
///
/// Obtain one from a `#[workflow]` function's companion module (`my_wf::workflow()`) or from
/// [`WorkflowBuilder::build`]. A definition error found while building is kept and returned by
/// [`Workflow::check`] and by everything that needs the graph.
#[derive(Clone)]
pub struct Workflow {
    inner: Arc<WorkflowInner>,
}

impl fmt::Debug for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workflow")
            .field("name", &self.inner.name)
            .field("nodes", &self.inner.nodes.len())
            .finish_non_exhaustive()
    }
}

impl Workflow {
    /// The registered name, e.g. `quickstart.workflows.wf`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The last segment of the name (the function name), used for node display names.
    pub fn short_name(&self) -> &str {
        short_name(&self.inner.name)
    }

    /// The documentation of the workflow function.
    pub fn description(&self) -> &str {
        &self.inner.description
    }

    /// The typed interface: inputs and outputs with their Flyte types.
    pub fn interface(&self) -> &TypedInterface {
        &self.inner.interface
    }

    /// The inputs in declaration order, with defaults.
    pub fn inputs(&self) -> &[WorkflowInput] {
        &self.inner.inputs
    }

    /// The output names and types in order (`o0`, `o1`, ...).
    pub fn outputs(&self) -> &[(String, LiteralType)] {
        &self.inner.outputs
    }

    /// The nodes in creation order.
    pub fn nodes(&self) -> &[NodeSpec] {
        &self.inner.nodes
    }

    /// The bindings of the workflow outputs.
    pub fn output_bindings(&self) -> &[Binding] {
        &self.inner.output_bindings
    }

    /// Every node of this workflow that runs an entity: its own, the nodes of its conditionals'
    /// branches, and its failure node.
    pub(crate) fn entity_nodes(&self) -> Vec<&NodeSpec> {
        let mut out: Vec<&NodeSpec> = Vec::new();
        for n in self.nodes().iter().chain(self.failure_node()) {
            out.push(n);
            if let Entity::Branch(b) = &n.entity {
                out.extend(b.nodes());
            }
        }
        out
    }

    /// The node that runs when the workflow fails (`on_failure`), id `fn0`.
    pub fn failure_node(&self) -> Option<&NodeSpec> {
        self.inner.failure_node.as_ref()
    }

    /// The failure policy.
    pub fn failure_policy(&self) -> FailurePolicy {
        self.inner.failure_policy
    }

    /// Whether nodes run on interruptible capacity by default (`None`: not set).
    pub fn interruptible(&self) -> Option<bool> {
        self.inner.interruptible
    }

    /// The index of the node with id `id`.
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.inner.node_index.get(id).copied()
    }

    /// The definition error found while building, if any.
    pub fn check(&self) -> Result<(), WorkflowError> {
        match &self.inner.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Whether two handles share the same definition.
    pub fn ptr_eq(&self, other: &Workflow) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

/// `quickstart.workflows.wf` → `wf`.
pub(crate) fn short_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// The default registered name of an entity named `function`, from the `module_path!()` of its
/// companion module: `app::flows::wf` + `wf` → `app.flows.wf` (the companion module's own segment
/// is dropped; Rust's `::` becomes Flyte's `.`).
#[doc(hidden)]
pub fn entity_name(module_path: &str, function: &str) -> String {
    let parent = module_path
        .strip_suffix(function)
        .and_then(|p| p.strip_suffix("::"))
        .unwrap_or(module_path);
    format!("{}.{}", parent.replace("::", "."), function)
}

/// A workflow registered by `#[workflow]`, found by `run`, `list` and `serialize`.
#[doc(hidden)]
pub struct WorkflowRegistration {
    build: fn() -> Workflow,
}

impl WorkflowRegistration {
    /// A registration whose workflow is built by `build`.
    pub const fn new(build: fn() -> Workflow) -> Self {
        Self { build }
    }

    /// Builds (or returns the already built) workflow.
    pub fn workflow(&self) -> Workflow {
        (self.build)()
    }
}

inventory::collect!(WorkflowRegistration);

/// Every workflow registered in this binary, sorted by name.
pub fn registered() -> Vec<Workflow> {
    let mut all: Vec<Workflow> = inventory::iter::<WorkflowRegistration>()
        .map(|r| r.workflow())
        .collect();
    all.sort_by(|a, b| a.name().cmp(b.name()));
    all
}

/// Where a promise's value comes from: a workflow input or a node's output (by the node's index
/// among every node the builder made), with an optional attribute path (`1 + index` into the
/// builder's paths; `0` for none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Input { index: u32, path: u32 },
    Output { node: u32, var: u32, path: u32 },
}

impl Source {
    fn path(&self) -> u32 {
        match self {
            Source::Input { path, .. } | Source::Output { path, .. } => *path,
        }
    }
}

/// A typed reference to a value that exists only when the workflow runs: a workflow input or an
/// output of a node, or a part of one (`est.pi()`, `xs.at(0)`, `m.get("k")`). `Copy`, so one
/// promise can feed several nodes.
pub struct Promise<'w, T> {
    wf: &'w WorkflowBuilder,
    source: Source,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Promise<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Promise<'_, T> {}

impl<T> fmt::Debug for Promise<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.wf.reference(self.source);
        f.debug_struct("Promise")
            .field("node_id", &r.node_id)
            .field("var", &r.var)
            .field("attr_path", &r.attr_path)
            .finish()
    }
}

impl<'w, T> Promise<'w, T> {
    /// The node that produces this promise, to tune it (`.node().retries(3)`) or order it.
    /// `None` for a workflow input.
    pub fn node(&self) -> Option<NodeRef<'w>> {
        match self.source {
            Source::Input { .. } => None,
            Source::Output { node, .. } => Some(NodeRef {
                wf: self.wf,
                index: node,
            }),
        }
    }

    /// Makes `next` wait for the node producing this promise (see [`NodeRef::then`]).
    pub fn then<N: Sequenced<'w>>(self, next: N) -> N {
        match self.node() {
            Some(n) => n.then(next),
            None => next,
        }
    }

    /// The output reference this promise compiles to.
    pub fn reference(&self) -> OutputReference {
        self.wf.reference(self.source)
    }

    /// The same promise typed as `U`, for another typed view of the same value (a dataset's
    /// declared columns); the caller checks that the types are compatible.
    pub(crate) fn retyped<U>(self) -> Promise<'w, U> {
        Promise {
            wf: self.wf,
            source: self.source,
            _type: PhantomData,
        }
    }

    /// The workflow under construction this promise belongs to.
    pub fn builder(&self) -> &'w WorkflowBuilder {
        self.wf
    }

    pub(crate) fn binding_in(&self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError> {
        if !std::ptr::eq(self.wf, wf) {
            return Err(WorkflowError::ForeignPromise {
                workflow: wf.name(),
            });
        }
        if let Source::Output { node, .. } = self.source {
            wf.state.borrow_mut().recorded.push(node);
        }
        Ok(BindingData {
            union: None,
            value: Some(binding_data::Value::Promise(self.reference())),
        })
    }

    /// The index of the producing node among every node the builder made.
    pub(crate) fn node_index(&self) -> Option<u32> {
        match self.source {
            Source::Input { .. } => None,
            Source::Output { node, .. } => Some(node),
        }
    }

    /// Whether the promise names a part of a value (an attribute path).
    pub(crate) fn has_attr_path(&self) -> bool {
        self.source.path() != 0
    }

    /// The output variable (or workflow input) name.
    pub(crate) fn var(&self) -> String {
        self.reference().var
    }

    /// A promise of type `U` for a part of this one: `step` appended to its attribute path.
    pub(crate) fn with_attr<U>(&self, step: PromiseAttribute) -> Promise<'w, U> {
        let mut st = self.wf.state.borrow_mut();
        let mut path = match self.source.path() {
            0 => Vec::new(),
            k => st.attr_paths[(k - 1) as usize].clone(),
        };
        path.push(step);
        st.attr_paths.push(path);
        let path = st.attr_paths.len() as u32;
        let source = match self.source {
            Source::Input { index, .. } => Source::Input { index, path },
            Source::Output { node, var, .. } => Source::Output { node, var, path },
        };
        Promise {
            wf: self.wf,
            source,
            _type: PhantomData,
        }
    }
}

/// Something a node produces, which can be ordered after another node with `then`: a
/// [`NodeRef`] or a [`Promise`] of a node's output.
pub trait Sequenced<'w>: Copy {
    /// The producing node; `None` for a workflow input.
    fn node_ref(&self) -> Option<NodeRef<'w>>;
}

impl<'w> Sequenced<'w> for NodeRef<'w> {
    fn node_ref(&self) -> Option<NodeRef<'w>> {
        Some(*self)
    }
}

impl<'w, T> Sequenced<'w> for Promise<'w, T> {
    fn node_ref(&self) -> Option<NodeRef<'w>> {
        self.node()
    }
}

/// A handle on a node of a workflow under construction. Returned by calls of entities without
/// outputs, and by [`Promise::node`]. Setters apply immediately and return the handle for
/// chaining; together they are flytekit's `with_overrides`.
#[derive(Clone, Copy)]
pub struct NodeRef<'w> {
    wf: &'w WorkflowBuilder,
    index: u32,
}

impl fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NodeRef").field(&self.id()).finish()
    }
}

impl<'w> NodeRef<'w> {
    /// The node id (`n0`, `n1`, ...; inside a conditional, counted within it).
    pub fn id(&self) -> String {
        self.wf
            .state
            .borrow()
            .arena
            .get(self.index as usize)
            .map(|s| s.spec.id.clone())
            .unwrap_or_default()
    }

    /// The index of the node among every node the builder made.
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// The workflow under construction the node belongs to.
    pub fn builder(&self) -> &'w WorkflowBuilder {
        self.wf
    }

    fn update(self, f: impl FnOnce(&mut NodeOverrides)) -> Self {
        let mut st = self.wf.state.borrow_mut();
        if let Some(n) = st.arena.get_mut(self.index as usize) {
            f(&mut n.spec.overrides);
        }
        self
    }

    /// Sets the node's display name.
    pub fn name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.update(|o| o.name = Some(name))
    }

    /// Sets how many times a failed attempt is retried.
    pub fn retries(self, retries: u32) -> Self {
        self.update(|o| o.retries = Some(retries))
    }

    /// Sets the time limit of one attempt.
    pub fn timeout(self, timeout: Duration) -> Self {
        self.update(|o| o.timeout = Some(timeout))
    }

    /// Turns output caching on or off for this node.
    pub fn cache(self, cache: bool) -> Self {
        self.update(|o| o.cache = Some(cache))
    }

    /// Sets the cache version of this node.
    pub fn cache_version(self, version: impl Into<String>) -> Self {
        let version = version.into();
        self.update(|o| o.cache_version = Some(version))
    }

    /// Makes concurrent runs of this node with the same inputs wait for one another.
    pub fn cache_serialize(self, serialize: bool) -> Self {
        self.update(|o| o.cache_serialize = Some(serialize))
    }

    /// Allows or forbids interruptible capacity for this node.
    pub fn interruptible(self, interruptible: bool) -> Self {
        self.update(|o| o.interruptible = Some(interruptible))
    }

    /// Overrides the resource requests of the task's container.
    pub fn requests(self, requests: Resources) -> Self {
        self.update(|o| o.requests = Some(requests))
    }

    /// Overrides the resource limits of the task's container.
    pub fn limits(self, limits: Resources) -> Self {
        self.update(|o| o.limits = Some(limits))
    }

    /// Overrides requests and limits at once, each a quantity or a `(request, limit)` pair
    /// (flytekit's `resources=`; not together with [`requests`](Self::requests) or
    /// [`limits`](Self::limits)).
    pub fn resources(self, resources: Resources) -> Self {
        self.update(|o| o.resources = Some(resources))
    }

    /// Runs the task in `image` instead of its own image.
    pub fn container_image(self, image: impl Into<String>) -> Self {
        let image = image.into();
        self.update(|o| o.container_image = Some(image))
    }

    /// Runs the task's pod from `template`.
    pub fn pod_template(self, template: PodTemplate) -> Self {
        self.update(|o| o.pod_template = Some(template))
    }

    /// Asks for a GPU accelerator.
    pub fn accelerator(self, accelerator: Accelerator) -> Self {
        self.update(|o| o.accelerator = Some(accelerator))
    }

    /// Mounts shared memory at `/dev/shm`.
    pub fn shared_memory(self, memory: SharedMemory) -> Self {
        self.update(|o| o.shared_memory = Some(memory))
    }

    /// Makes `next` (a node handle or a promise of a node's output) wait for this node, without
    /// passing data: flytekit's `a >> b`. Returns `next` for chaining.
    pub fn then<N: Sequenced<'w>>(self, next: N) -> N {
        let Some(target) = next.node_ref() else {
            return next;
        };
        if !std::ptr::eq(self.wf, target.wf) {
            let workflow = self.wf.name();
            self.wf
                .state
                .borrow_mut()
                .errors
                .push(WorkflowError::ForeignPromise { workflow });
            return next;
        }
        if self.index != target.index {
            let mut st = self.wf.state.borrow_mut();
            if let Some(n) = st.arena.get_mut(target.index as usize)
                && !n.spec.upstream.contains(&(self.index as usize))
            {
                n.spec.upstream.push(self.index as usize);
            }
        }
        next
    }

    /// A promise of the node's output `name` of type `T`. An unknown name or a type different
    /// from the entity's declaration is reported by [`WorkflowBuilder::build`].
    pub fn output<T: FlyteType>(&self, name: &str) -> Promise<'w, T> {
        self.output_of_type(name, &T::literal_type())
    }

    /// [`output`](Self::output) with the expected type given as a literal type.
    pub(crate) fn output_of_type<T>(&self, name: &str, expected: &LiteralType) -> Promise<'w, T> {
        let mut st = self.wf.state.borrow_mut();
        let var = st.intern(name);
        if let Some(slot) = st.arena.get(self.index as usize) {
            let node = &slot.spec;
            let outputs = entity_outputs(&node.entity);
            let id = node.id.clone();
            let entity_name = node.entity.name().to_string();
            match outputs.get(name) {
                None => {
                    let mut available: Vec<&String> = outputs.keys().collect();
                    available.sort();
                    let err = WorkflowError::UnknownOutput {
                        node: id,
                        entity: entity_name,
                        output: name.to_string(),
                        available: join_names(available),
                    };
                    st.errors.push(err);
                }
                Some(declared) => {
                    if !crate::type_engine::compatible(declared, expected) {
                        let err = WorkflowError::TypeMismatch {
                            place: format!("node {id} ({entity_name}) output '{name}'"),
                            expected: describe_type(expected),
                            got: describe_type(declared),
                        };
                        st.errors.push(err);
                    }
                }
            }
        }
        Promise {
            wf: self.wf,
            source: Source::Output {
                node: self.index,
                var,
                path: 0,
            },
            _type: PhantomData,
        }
    }
}

fn entity_outputs(entity: &Entity) -> HashMap<String, LiteralType> {
    variables(entity.interface().outputs.as_ref())
}

pub(crate) fn variables(map: Option<&VariableMap>) -> HashMap<String, LiteralType> {
    map.map(|m| {
        m.variables
            .iter()
            .map(|(k, v)| (k.clone(), v.r#type.clone().unwrap_or_default()))
            .collect()
    })
    .unwrap_or_default()
}

pub(crate) fn join_names<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> String {
    let v: Vec<String> = names.into_iter().map(|s| s.as_ref().to_string()).collect();
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(", ")
    }
}

/// One bound input of a node under construction; made by [`WorkflowBuilder::bind`].
#[derive(Debug)]
pub struct NodeInput {
    name: String,
    ty: LiteralType,
    binding: Result<BindingData, WorkflowError>,
    /// The nodes whose promises the binding reads.
    sources: Vec<u32>,
}

impl NodeInput {
    /// The input's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A node made by the builder, in the scope it was made in (`0`: the workflow itself, else a
/// conditional). Its `upstream` holds builder indices until [`WorkflowBuilder::finish`].
#[derive(Debug)]
struct Slot {
    spec: NodeSpec,
    scope: u32,
}

#[derive(Debug, Default)]
struct State {
    name: String,
    description: String,
    failure_policy: FailurePolicy,
    interruptible: Option<bool>,
    inputs: Vec<WorkflowInput>,
    arena: Vec<Slot>,
    /// How many nodes the workflow itself (scope 0) holds: the next id is `n<top_count>`.
    top_count: usize,
    /// Conditionals under construction, innermost last.
    sections: Vec<condition::Section>,
    next_scope: u32,
    /// Builder indices of the nodes whose promises were bound since the last mark.
    recorded: Vec<u32>,
    attr_paths: Vec<Vec<PromiseAttribute>>,
    failure_entity: Option<Entity>,
    failure: Option<NodeSpec>,
    outputs: Vec<(String, LiteralType, BindingData)>,
    vars: Vec<String>,
    errors: Vec<WorkflowError>,
}

impl State {
    fn intern(&mut self, var: &str) -> u32 {
        match self.vars.iter().position(|v| v == var) {
            Some(i) => i as u32,
            None => {
                self.vars.push(var.to_string());
                (self.vars.len() - 1) as u32
            }
        }
    }

    /// The scope new nodes go to: the innermost open conditional, else the workflow.
    fn current_scope(&self) -> u32 {
        self.sections.last().map(|s| s.scope).unwrap_or(0)
    }

    /// The id of the next node in the current scope.
    fn next_id(&mut self) -> String {
        match self.sections.last_mut() {
            Some(s) => {
                s.count += 1;
                format!("n{}", s.count - 1)
            }
            None => {
                self.top_count += 1;
                format!("n{}", self.top_count - 1)
            }
        }
    }
}

/// A workflow under construction. `#[workflow]` drives it; use it directly to build workflows at
/// run time (then [`WorkflowBuilder::build`] reports what the compiler would have caught).
#[derive(Debug)]
pub struct WorkflowBuilder {
    state: RefCell<State>,
}

impl WorkflowBuilder {
    /// Starts a workflow registered under `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            state: RefCell::new(State {
                name: name.into(),
                next_scope: 1,
                ..State::default()
            }),
        }
    }

    /// The workflow's name.
    pub fn name(&self) -> String {
        self.state.borrow().name.clone()
    }

    /// Sets the description (the documentation of the workflow function).
    pub fn description(&self, description: impl Into<String>) -> &Self {
        self.state.borrow_mut().description = description.into();
        self
    }

    /// Sets the failure policy.
    pub fn failure_policy(&self, policy: FailurePolicy) -> &Self {
        self.state.borrow_mut().failure_policy = policy;
        self
    }

    /// Sets whether nodes run on interruptible capacity by default.
    pub fn interruptible(&self, interruptible: bool) -> &Self {
        self.state.borrow_mut().interruptible = Some(interruptible);
        self
    }

    fn reference(&self, source: Source) -> OutputReference {
        let st = self.state.borrow();
        let attr_path = match source.path() {
            0 => Vec::new(),
            k => st.attr_paths[(k - 1) as usize].clone(),
        };
        match source {
            Source::Input { index, .. } => OutputReference {
                node_id: INPUT_NODE_ID.to_string(),
                var: st
                    .inputs
                    .get(index as usize)
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
                attr_path,
            },
            Source::Output { node, var, .. } => OutputReference {
                node_id: st
                    .arena
                    .get(node as usize)
                    .map(|s| s.spec.id.clone())
                    .unwrap_or_default(),
                var: st.vars.get(var as usize).cloned().unwrap_or_default(),
                attr_path,
            },
        }
    }

    /// Declares a required input `name` of type `T` and returns its promise.
    pub fn input<T: FlyteType>(&self, name: &str) -> Promise<'_, T> {
        self.declare_input::<T>(name, None)
    }

    /// Declares an input `name` of type `T` with a default value and returns its promise.
    pub fn input_with_default<T: FlyteType>(&self, name: &str, default: T) -> Promise<'_, T> {
        let literal = match binding::constant_literal(&default) {
            Ok(l) => Some(l),
            Err(message) => {
                let workflow = self.name();
                self.state
                    .borrow_mut()
                    .errors
                    .push(WorkflowError::Constant {
                        workflow,
                        place: format!("the default of input '{name}'"),
                        message,
                    });
                None
            }
        };
        self.declare_input::<T>(name, literal)
    }

    fn declare_input<T: FlyteType>(&self, name: &str, default: Option<Literal>) -> Promise<'_, T> {
        let mut st = self.state.borrow_mut();
        if st.inputs.iter().any(|i| i.name == name) {
            let workflow = st.name.clone();
            st.errors.push(WorkflowError::Duplicate {
                workflow,
                what: "input",
                name: name.to_string(),
            });
        }
        st.inputs.push(WorkflowInput {
            name: name.to_string(),
            ty: T::literal_type(),
            default,
        });
        let index = (st.inputs.len() - 1) as u32;
        Promise {
            wf: self,
            source: Source::Input { index, path: 0 },
            _type: PhantomData,
        }
    }

    /// Records a definition error found by code that adds nodes (reported by
    /// [`build`](Self::build) with the others).
    pub fn report_error(&self, error: WorkflowError) {
        self.state.borrow_mut().errors.push(error);
    }

    /// Binds `value` to the input `name` of a node about to be added with [`add_node`](Self::add_node).
    pub fn bind<T: FlyteType>(&self, name: &str, value: impl IntoBinding<T>) -> NodeInput {
        self.bind_type(name, T::literal_type(), value)
    }

    /// [`bind`](Self::bind) with the input's type given as a literal type.
    pub fn bind_type<T>(
        &self,
        name: &str,
        ty: LiteralType,
        value: impl IntoBinding<T>,
    ) -> NodeInput {
        let mark = self.state.borrow().recorded.len();
        let binding = value.into_binding(self);
        let sources = self.state.borrow_mut().recorded.drain(mark..).collect();
        NodeInput {
            name: name.to_string(),
            ty,
            binding,
            sources,
        }
    }

    /// Adds a node running `entity` with the given input bindings. Unknown, missing and mistyped
    /// inputs are reported by [`build`](Self::build). Unbound inputs that have a default (a
    /// sub-workflow's, or a launch plan's) are bound to the default; a launch plan's fixed inputs
    /// cannot be bound.
    pub fn add_node(&self, entity: impl Into<Entity>, inputs: Vec<NodeInput>) -> NodeRef<'_> {
        let entity = entity.into();
        let mut errors = Vec::new();
        let id = self.state.borrow_mut().next_id();
        let entity_name = entity.name().to_string();
        if let Err(e) = entity.check() {
            errors.push(e);
        }
        let declared = variables(entity.interface().inputs.as_ref());
        let mut bindings: Vec<Binding> = Vec::new();
        let mut upstream: Vec<usize> = Vec::new();
        for input in inputs {
            if bindings.iter().any(|b| b.var == input.name) {
                errors.push(WorkflowError::DuplicateBinding {
                    node: id.clone(),
                    entity: entity_name.clone(),
                    input: input.name,
                });
                continue;
            }
            match declared.get(&input.name) {
                None => {
                    let mut expected: Vec<&String> = declared.keys().collect();
                    expected.sort();
                    let message = entity.unbindable(&input.name);
                    errors.push(match message {
                        Some(message) => WorkflowError::InvalidEntity {
                            entity: format!("node {id} ({entity_name})"),
                            message,
                        },
                        None => WorkflowError::UnknownInput {
                            node: id.clone(),
                            entity: entity_name.clone(),
                            input: input.name.clone(),
                            expected: join_names(expected),
                        },
                    });
                }
                Some(ty) if !crate::type_engine::compatible(ty, &input.ty) => {
                    errors.push(WorkflowError::TypeMismatch {
                        place: format!("node {id} ({entity_name}) input '{}'", input.name),
                        expected: describe_type(ty),
                        got: describe_type(&input.ty),
                    });
                }
                Some(_) => {}
            }
            for s in input.sources {
                if !upstream.contains(&(s as usize)) {
                    upstream.push(s as usize);
                }
            }
            match input.binding {
                Ok(b) => bindings.push(Binding {
                    var: input.name,
                    binding: Some(b),
                }),
                Err(WorkflowError::Constant {
                    workflow, message, ..
                }) => errors.push(WorkflowError::Constant {
                    workflow,
                    place: format!("node {id} ({entity_name}) input '{}'", input.name),
                    message,
                }),
                Err(e) => errors.push(e),
            }
        }
        let defaults = entity.input_defaults();
        let mut missing: Vec<&String> = declared
            .keys()
            .filter(|k| !bindings.iter().any(|b| &&b.var == k))
            .collect();
        missing.sort();
        for name in missing {
            match defaults.get(name) {
                Some(lit) => bindings.push(Binding {
                    var: name.clone(),
                    binding: Some(binding::literal_to_binding(lit)),
                }),
                None => errors.push(WorkflowError::MissingInput {
                    node: id.clone(),
                    entity: entity_name.clone(),
                    input: name.clone(),
                }),
            }
        }
        bindings.sort_by(|a, b| a.var.cmp(&b.var));
        let spec = NodeSpec {
            id,
            entity,
            inputs: bindings,
            upstream,
            overrides: NodeOverrides::default(),
        };
        self.push_node(spec, errors)
    }

    /// Adds a finished node spec (upstream as builder indices) in the current scope.
    fn push_node(&self, spec: NodeSpec, errors: Vec<WorkflowError>) -> NodeRef<'_> {
        let mut st = self.state.borrow_mut();
        st.errors.extend(errors);
        let scope = st.current_scope();
        st.arena.push(Slot { spec, scope });
        NodeRef {
            wf: self,
            index: (st.arena.len() - 1) as u32,
        }
    }

    /// Sets the node that runs when the workflow fails (flytekit's `on_failure`): `entity` — a
    /// task or a workflow — receives the workflow's inputs by name; an input `err` of type
    /// `Option<FlyteError>` receives the error, and its other inputs must be optional. Its id is
    /// `fn0`.
    pub fn on_failure(&self, entity: impl Into<Entity>) -> &Self {
        failure::set(self, entity.into());
        self
    }

    /// Binds the workflow output `name` of type `T` to `value`.
    pub fn output<T: FlyteType>(&self, name: &str, value: impl IntoBinding<T>) {
        self.output_type(name, T::literal_type(), value)
    }

    /// [`output`](Self::output) with the output's type given as a literal type.
    pub fn output_type<T>(&self, name: &str, ty: LiteralType, value: impl IntoBinding<T>) {
        let mark = self.state.borrow().recorded.len();
        let binding = value.into_binding(self);
        let mut st = self.state.borrow_mut();
        st.recorded.truncate(mark);
        let workflow = st.name.clone();
        if st.outputs.iter().any(|(n, _, _)| n == name) {
            st.errors.push(WorkflowError::Duplicate {
                workflow,
                what: "output",
                name: name.to_string(),
            });
            return;
        }
        match binding {
            Ok(b) => st.outputs.push((name.to_string(), ty, b)),
            Err(WorkflowError::Constant { message, .. }) => {
                st.errors.push(WorkflowError::Constant {
                    workflow,
                    place: format!("workflow output '{name}'"),
                    message,
                })
            }
            Err(e) => st.errors.push(e),
        }
    }

    /// Finishes construction. A definition error is kept in the workflow and returned by
    /// [`Workflow::check`]; use [`build`](Self::build) to get it at once.
    pub fn finish(self) -> Workflow {
        let mut st = self.state.into_inner();
        failure::build(&mut st);
        for s in st.sections.drain(..).rev() {
            st.errors.push(WorkflowError::Condition {
                conditional: s.name,
                message: "the conditional is not finished; end it with `.else_().then(..)` or \
                          `.else_().fail(\"..\")`"
                    .into(),
            });
        }
        // Builder indices of the workflow's own nodes → their index in `nodes`.
        let mut top: Vec<Option<usize>> = vec![None; st.arena.len()];
        let mut k = 0;
        for (i, slot) in st.arena.iter().enumerate() {
            if slot.scope == 0 {
                top[i] = Some(k);
                k += 1;
            }
        }
        let translate = |ups: &[usize]| -> Vec<usize> {
            let mut v: Vec<usize> = ups
                .iter()
                .filter_map(|u| top.get(*u).copied().flatten())
                .collect();
            v.dedup();
            v
        };
        let nodes: Vec<NodeSpec> = std::mem::take(&mut st.arena)
            .into_iter()
            .filter(|s| s.scope == 0)
            .map(|s| condition::translate_node(s.spec, &translate))
            .collect();
        let failure_node = st
            .failure
            .take()
            .map(|n| condition::translate_node(n, &translate));
        if let Some(cycle) = find_cycle(&nodes) {
            let workflow = st.name.clone();
            st.errors.push(WorkflowError::Cycle {
                workflow,
                nodes: cycle.join(", "),
            });
        }
        let error = match st.errors.len() {
            0 => None,
            1 => st.errors.into_iter().next(),
            _ => Some(WorkflowError::Invalid {
                workflow: st.name.clone(),
                errors: st.errors,
            }),
        };
        let mut inputs = VariableMap::default();
        for i in &st.inputs {
            inputs
                .variables
                .insert(i.name.clone(), variable(&i.name, &i.ty));
        }
        let mut outputs = VariableMap::default();
        for (name, ty, _) in &st.outputs {
            outputs.variables.insert(name.clone(), variable(name, ty));
        }
        let node_index = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        Workflow {
            inner: Arc::new(WorkflowInner {
                interface: TypedInterface {
                    inputs: Some(inputs),
                    outputs: Some(outputs),
                },
                outputs: st
                    .outputs
                    .iter()
                    .map(|(n, t, _)| (n.clone(), t.clone()))
                    .collect(),
                output_bindings: st
                    .outputs
                    .into_iter()
                    .map(|(var, _, b)| Binding {
                        var,
                        binding: Some(b),
                    })
                    .collect(),
                name: st.name,
                description: st.description,
                failure_policy: st.failure_policy,
                interruptible: st.interruptible,
                inputs: st.inputs,
                nodes,
                node_index,
                failure_node,
                error,
            }),
        }
    }

    /// Finishes construction and returns the workflow, or every definition error found.
    pub fn build(self) -> Result<Workflow, WorkflowError> {
        let wf = self.finish();
        wf.check()?;
        Ok(wf)
    }
}

/// A variable as flytekit declares it: the type, and the name as description.
pub(crate) fn variable(name: &str, ty: &LiteralType) -> Variable {
    Variable {
        r#type: Some(ty.clone()),
        description: name.to_string(),
        ..Default::default()
    }
}

/// The ids of nodes left on a cycle of `upstream` edges, if any (Kahn's algorithm).
fn find_cycle(nodes: &[NodeSpec]) -> Option<Vec<String>> {
    let mut waiting: Vec<usize> = nodes.iter().map(|n| n.upstream.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for &u in &n.upstream {
            if let Some(d) = dependents.get_mut(u) {
                d.push(i);
            }
        }
    }
    let mut ready: Vec<usize> = (0..nodes.len()).filter(|&i| waiting[i] == 0).collect();
    let mut done = 0;
    while let Some(i) = ready.pop() {
        done += 1;
        for &d in &dependents[i] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(d);
            }
        }
    }
    (done < nodes.len()).then(|| {
        nodes
            .iter()
            .zip(&waiting)
            .filter(|(_, w)| **w > 0)
            .map(|(n, _)| n.id.clone())
            .collect()
    })
}
