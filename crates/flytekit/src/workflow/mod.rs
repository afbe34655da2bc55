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
//! - Promises are not values: you cannot branch or compute on them, only pass them to nodes or
//!   return them. The body's return value becomes the outputs `o0`, `o1`, ... (a tuple for several).
//! - Inputs with defaults: `#[workflow(defaults(x = 3, name = "world"))]`; the defaults go to the
//!   launch plan and `run` uses them when an input flag is absent.
//! - Other options: `name = "..."` (the registered name; default `<module path>.<fn>` with `::`
//!   replaced by `.`), `failure_policy = "fail_after_executable_nodes_complete"`, `interruptible`.
//!
//! Nodes can be tuned after the call through their handle:
//! `let y = add(x, 1); y.node().name("adder").retries(3).cache(true);`.
//!
//! The same graph can be built without the macro through [`WorkflowBuilder`]; then mistakes that
//! the compiler would catch (unknown input names, wrong types, missing inputs) are reported by
//! [`WorkflowBuilder::build`].

mod binding;
mod dataset;
mod entity;
mod launch_plan;

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use flytekit_idl::core::{
    Binding, BindingData, Literal, LiteralType, OutputReference, TypedInterface, Variable,
    VariableMap, binding_data,
};

use crate::type_engine::FlyteType;

use crate::type_engine::describe_type;
pub use binding::IntoBinding;
pub use entity::Entity;
pub use launch_plan::LaunchPlan;

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

/// Settings of one node that override its entity's defaults (flytekit's `with_overrides`).
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
    /// Whether the node may run on interruptible capacity.
    pub interruptible: Option<bool>,
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
    /// Indices of the nodes this one waits for (its promises' producers and explicit `then`s).
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Input(u32),
    Output { node: u32, var: u32 },
}

/// A typed reference to a value that exists only when the workflow runs: a workflow input or an
/// output of a node. `Copy`, so one promise can feed several nodes.
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
            .finish()
    }
}

impl<'w, T> Promise<'w, T> {
    /// The node that produces this promise, to tune it (`.node().retries(3)`) or order it.
    /// `None` for a workflow input.
    pub fn node(&self) -> Option<NodeRef<'w>> {
        match self.source {
            Source::Input(_) => None,
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
    pub(crate) fn builder(&self) -> &'w WorkflowBuilder {
        self.wf
    }

    pub(crate) fn binding_in(&self, wf: &WorkflowBuilder) -> Result<BindingData, WorkflowError> {
        if !std::ptr::eq(self.wf, wf) {
            return Err(WorkflowError::ForeignPromise {
                workflow: wf.name(),
            });
        }
        Ok(BindingData {
            union: None,
            value: Some(binding_data::Value::Promise(self.reference())),
        })
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
/// outputs, and by [`Promise::node`]. Setters apply immediately and return the handle for chaining.
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
    /// The node id (`n0`, `n1`, ...).
    pub fn id(&self) -> String {
        format!("n{}", self.index)
    }

    fn update(self, f: impl FnOnce(&mut NodeOverrides)) -> Self {
        let mut st = self.wf.state.borrow_mut();
        if let Some(n) = st.nodes.get_mut(self.index as usize) {
            f(&mut n.overrides);
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

    /// Allows or forbids interruptible capacity for this node.
    pub fn interruptible(self, interruptible: bool) -> Self {
        self.update(|o| o.interruptible = Some(interruptible))
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
            if let Some(n) = st.nodes.get_mut(target.index as usize)
                && !n.upstream.contains(&(self.index as usize))
            {
                n.upstream.push(self.index as usize);
            }
        }
        next
    }

    /// A promise of the node's output `name` of type `T`. An unknown name or a type different
    /// from the entity's declaration is reported by [`WorkflowBuilder::build`].
    pub fn output<T: FlyteType>(&self, name: &str) -> Promise<'w, T> {
        let mut st = self.wf.state.borrow_mut();
        let var = st.intern(name);
        if let Some(node) = st.nodes.get(self.index as usize) {
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
                    let got = T::literal_type();
                    if !crate::type_engine::compatible(declared, &got) {
                        let err = WorkflowError::TypeMismatch {
                            place: format!("node {id} ({entity_name}) output '{name}'"),
                            expected: describe_type(&got),
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
            },
            _type: PhantomData,
        }
    }
}

fn entity_outputs(entity: &Entity) -> HashMap<String, LiteralType> {
    variables(entity.interface().outputs.as_ref())
}

fn variables(map: Option<&VariableMap>) -> HashMap<String, LiteralType> {
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
}

impl NodeInput {
    /// The input's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

#[derive(Debug, Default)]
struct State {
    name: String,
    description: String,
    failure_policy: FailurePolicy,
    interruptible: Option<bool>,
    inputs: Vec<WorkflowInput>,
    nodes: Vec<NodeSpec>,
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
        match source {
            Source::Input(i) => OutputReference {
                node_id: INPUT_NODE_ID.to_string(),
                var: st
                    .inputs
                    .get(i as usize)
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
                attr_path: Vec::new(),
            },
            Source::Output { node, var } => OutputReference {
                node_id: format!("n{node}"),
                var: st.vars.get(var as usize).cloned().unwrap_or_default(),
                attr_path: Vec::new(),
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
            source: Source::Input(index),
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
        NodeInput {
            name: name.to_string(),
            ty: T::literal_type(),
            binding: value.into_binding(self),
        }
    }

    /// Adds a node running `entity` with the given input bindings. Unknown, missing and mistyped
    /// inputs are reported by [`build`](Self::build). Unbound inputs that have a default in a
    /// sub-workflow are bound to the default.
    pub fn add_node(&self, entity: impl Into<Entity>, inputs: Vec<NodeInput>) -> NodeRef<'_> {
        let entity = entity.into();
        let mut st = self.state.borrow_mut();
        let index = st.nodes.len();
        let id = format!("n{index}");
        let entity_name = entity.name().to_string();
        if let Entity::Workflow(w) = &entity
            && let Err(e) = w.check()
        {
            st.errors.push(WorkflowError::SubWorkflow {
                workflow: w.name().to_string(),
                source: Box::new(e),
            });
        }
        let declared = variables(entity.interface().inputs.as_ref());
        let mut bindings: Vec<Binding> = Vec::new();
        for input in inputs {
            if bindings.iter().any(|b| b.var == input.name) {
                st.errors.push(WorkflowError::DuplicateBinding {
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
                    st.errors.push(WorkflowError::UnknownInput {
                        node: id.clone(),
                        entity: entity_name.clone(),
                        input: input.name.clone(),
                        expected: join_names(expected),
                    });
                }
                Some(ty) if !crate::type_engine::compatible(ty, &input.ty) => {
                    st.errors.push(WorkflowError::TypeMismatch {
                        place: format!("node {id} ({entity_name}) input '{}'", input.name),
                        expected: describe_type(ty),
                        got: describe_type(&input.ty),
                    });
                }
                Some(_) => {}
            }
            match input.binding {
                Ok(b) => bindings.push(Binding {
                    var: input.name,
                    binding: Some(b),
                }),
                Err(WorkflowError::Constant {
                    workflow, message, ..
                }) => st.errors.push(WorkflowError::Constant {
                    workflow,
                    place: format!("node {id} ({entity_name}) input '{}'", input.name),
                    message,
                }),
                Err(e) => st.errors.push(e),
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
                None => st.errors.push(WorkflowError::MissingInput {
                    node: id.clone(),
                    entity: entity_name.clone(),
                    input: name.clone(),
                }),
            }
        }
        bindings.sort_by(|a, b| a.var.cmp(&b.var));
        let mut upstream: Vec<usize> = Vec::new();
        for b in &bindings {
            if let Some(data) = &b.binding {
                binding::collect_upstream(data, &mut |node_id| {
                    if let Some(i) = node_id
                        .strip_prefix('n')
                        .and_then(|s| s.parse::<usize>().ok())
                        && i < index
                        && !upstream.contains(&i)
                    {
                        upstream.push(i);
                    }
                });
            }
        }
        st.nodes.push(NodeSpec {
            id,
            entity,
            inputs: bindings,
            upstream,
            overrides: NodeOverrides::default(),
        });
        NodeRef {
            wf: self,
            index: index as u32,
        }
    }

    /// Binds the workflow output `name` of type `T` to `value`.
    pub fn output<T: FlyteType>(&self, name: &str, value: impl IntoBinding<T>) {
        let binding = value.into_binding(self);
        let mut st = self.state.borrow_mut();
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
            Ok(b) => st.outputs.push((name.to_string(), T::literal_type(), b)),
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
        if let Some(cycle) = find_cycle(&st.nodes) {
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
        let node_index = st
            .nodes
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
                nodes: st.nodes,
                node_index,
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
