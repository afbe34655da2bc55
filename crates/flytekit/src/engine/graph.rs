//! The graph the engine runs: one shape for every source — a workflow defined in Rust, a
//! dynamic task's workflow built in-process, the `DynamicJobSpec` a dynamic task's container
//! wrote — so that each kind of node is run by one piece of code ([`super::exec`]).
//!
//! A node runs an [`Executable`] task (a [`Task`] of this binary, or a serialized `TaskTemplate`
//! run through its container), a map over one, a nested graph (a sub-workflow, or a launch
//! plan's workflow with the plan's inputs), a conditional (arms of nodes chosen by conditions)
//! or a gate. Its inputs are Flyte bindings, resolved against the graph's inputs and the outputs
//! of finished nodes. Serialized graphs (a `futures.pb`, a package's workflows) are read by
//! [`super::catalog`]; reference entities and launch plans named by id are found through
//! [`Resolve`].

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use flytekit_idl::core::{
    Binding, BooleanExpression, Identifier, LiteralMap, LiteralType, Node, ResourceType,
    TaskTemplate, TypedInterface,
};

use super::EngineError;
use crate::map::SuccessCriterion;
use crate::task::Task;
use crate::workflow::{
    Entity, FailurePolicy, Gate, GateKind, NodeOverrides, NodeSpec, Reference, Workflow,
};

/// A task the engine can run: in this process (or, in the sandbox, serialized first), or from
/// its serialized template only.
#[derive(Clone, Debug)]
pub(crate) enum Executable {
    /// A task of this binary.
    Local(Task),
    /// A serialized task, run through its container args.
    Template(Arc<TaskTemplate>),
}

impl Executable {
    /// The task's registered name.
    pub(crate) fn name(&self) -> &str {
        match self {
            Executable::Local(t) => t.name(),
            Executable::Template(t) => t.id.as_ref().map(|i| i.name.as_str()).unwrap_or(""),
        }
    }

    /// The task's interface.
    pub(crate) fn interface(&self) -> Option<&TypedInterface> {
        match self {
            Executable::Local(t) => Some(t.interface()),
            Executable::Template(t) => t.interface.as_ref(),
        }
    }
}

/// How a task node's attempts run: retries, a time limit per attempt, and the local cache.
#[derive(Clone, Debug, Default)]
pub(crate) struct Attempts {
    /// Retries after a recoverable failure.
    pub retries: u32,
    /// The limit of one attempt.
    pub timeout: Option<Duration>,
    /// The cache version when the node's outputs are cached.
    pub cache: Option<String>,
    /// Inputs left out of the cache key.
    pub cache_ignored: Vec<String>,
}

impl Attempts {
    /// The inputs of attempt `n` (from 1): lent while a retry may follow, given to the last
    /// attempt there can be, so that it need not copy them.
    pub(crate) fn inputs_of<'a>(
        &self,
        n: u32,
        inputs: &'a mut Option<LiteralMap>,
    ) -> std::borrow::Cow<'a, LiteralMap> {
        if n > self.retries {
            std::borrow::Cow::Owned(inputs.take().unwrap_or_default())
        } else {
            std::borrow::Cow::Borrowed(inputs.get_or_insert_default())
        }
    }

    /// A task's own settings, with a node's overrides on top.
    pub(crate) fn of_task(task: &Task, o: &NodeOverrides) -> Self {
        let c = task.config();
        let cached = o.cache.unwrap_or(c.cache);
        Self {
            retries: o.retries.unwrap_or(c.retries),
            timeout: o.timeout.or(c.timeout).filter(|t| !t.is_zero()),
            cache: cached.then(|| {
                o.cache_version
                    .clone()
                    .unwrap_or_else(|| c.cache_version.clone())
            }),
            cache_ignored: c.cache_ignored_inputs.clone(),
        }
    }

    /// A serialized node's settings: the node's metadata first, then the task's.
    pub(crate) fn of_template(n: &Node, t: &TaskTemplate) -> Self {
        let nm = n.metadata.as_ref();
        let tm = t.metadata.as_ref();
        let retries = nm
            .and_then(|m| m.retries.as_ref())
            .or_else(|| tm.and_then(|m| m.retries.as_ref()))
            .map_or(0, |r| r.retries);
        let timeout = nm
            .and_then(|m| m.timeout.as_ref())
            .or_else(|| tm.and_then(|m| m.timeout.as_ref()))
            .map(|d| {
                Duration::new(
                    u64::try_from(d.seconds).unwrap_or(0),
                    u32::try_from(d.nanos).unwrap_or(0),
                )
            })
            .filter(|d| !d.is_zero());
        Self {
            retries,
            timeout,
            cache: None,
            cache_ignored: Vec::new(),
        }
    }
}

/// A map over a task: its elements run the task.
#[derive(Clone, Debug)]
pub(crate) struct MapNode {
    /// The map task (in this binary: its kind holds the inner task) or its serialized template.
    pub task: Executable,
    /// Inputs passed whole to every element.
    pub bound: BTreeSet<String>,
    /// Which elements must succeed.
    pub criterion: SuccessCriterion,
    /// Whether every element runs after the criterion can no longer be met.
    pub run_all: bool,
    /// At most this many elements at once (`None` or `0`: the engine's limit).
    pub concurrency: Option<u32>,
    /// How each element's attempts run.
    pub attempts: Attempts,
    /// The element task's output names.
    pub outputs: Vec<String>,
}

/// A launch plan: its workflow's graph, started with the plan's defaults under the call's
/// inputs, and its fixed inputs over both.
#[derive(Clone, Debug)]
pub(crate) struct LaunchPlanNode {
    /// The launch plan's name.
    pub name: String,
    /// The workflow it starts.
    pub graph: Arc<Graph>,
    /// Values of inputs a caller leaves out.
    pub defaults: LiteralMap,
    /// Values no caller can change.
    pub fixed: LiteralMap,
}

impl LaunchPlanNode {
    /// The inputs the plan's workflow runs with, given a call's `inputs`.
    pub(crate) fn inputs(&self, inputs: &LiteralMap) -> LiteralMap {
        let mut out = self.defaults.clone();
        out.literals
            .extend(inputs.literals.iter().map(|(k, v)| (k.clone(), v.clone())));
        out.literals.extend(
            self.fixed
                .literals
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        out
    }
}

/// What a conditional does when no condition holds.
#[derive(Clone, Debug)]
pub(crate) enum Otherwise {
    /// Runs this node.
    Node(Box<GraphNode>),
    /// Fails with this message.
    Fail(String),
}

/// A conditional: its arms in order, each a condition (on the branch node's inputs) and a node.
#[derive(Clone, Debug)]
pub(crate) struct BranchNode {
    /// The conditional's name.
    pub name: String,
    /// The `if` and `elif` arms.
    pub cases: Vec<(BooleanExpression, GraphNode)>,
    /// The `else` arm.
    pub otherwise: Otherwise,
}

/// A gate.
#[derive(Clone, Debug)]
pub(crate) enum GateNode {
    /// Waits this long.
    Sleep(Duration),
    /// Waits for the signal `id`, a value of type `ty`, and outputs it as `output`.
    Signal {
        /// The signal id.
        id: String,
        /// The value's type.
        ty: Box<LiteralType>,
        /// The output variable.
        output: String,
        /// How long to wait.
        timeout: Duration,
    },
    /// Waits for the approval `id` of the value bound to `var`, and passes it on.
    Approve {
        /// The signal id.
        id: String,
        /// The value's variable.
        var: String,
        /// How long to wait.
        timeout: Duration,
    },
}

/// What a node runs.
#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    /// A task.
    Task(Executable, Attempts),
    /// A map task.
    Map(Box<MapNode>),
    /// A sub-workflow.
    Workflow(Arc<Graph>),
    /// A launch plan.
    LaunchPlan(Arc<LaunchPlanNode>),
    /// A conditional.
    Branch(Arc<BranchNode>),
    /// A gate.
    Gate(GateNode),
}

/// One node of a graph.
#[derive(Clone, Debug)]
pub(crate) struct GraphNode {
    /// The node id (`n0`, `dn3`).
    pub id: String,
    /// The entity's name, for messages.
    pub entity: String,
    /// The bindings of the entity's inputs.
    pub inputs: Vec<Binding>,
    /// What the node runs.
    pub kind: NodeKind,
}

impl NodeKind {
    /// The node of a task of this binary (a map node for a map task), with a node's overrides.
    pub(crate) fn of_task(task: &Task, o: &NodeOverrides) -> NodeKind {
        match task.map_spec() {
            Some(spec) => NodeKind::Map(Box::new(MapNode {
                task: Executable::Local(task.clone()),
                bound: spec.bound_inputs().clone(),
                criterion: spec.criterion(),
                run_all: spec.run_all_sub_nodes(),
                concurrency: spec.concurrency(),
                attempts: Attempts::of_task(spec.inner(), o),
                outputs: spec.output_names(),
            })),
            None => NodeKind::Task(Executable::Local(task.clone()), Attempts::of_task(task, o)),
        }
    }

    /// A serialized task node's kind: its template, run with the node's and the task's retries
    /// and timeout.
    pub(crate) fn of_template(node: &Node, template: Arc<TaskTemplate>) -> NodeKind {
        let attempts = Attempts::of_template(node, &template);
        NodeKind::Task(Executable::Template(template), attempts)
    }
}

impl GraphNode {
    /// The interface the node's inputs are checked against (for union coercion).
    pub(crate) fn interface(&self) -> Option<&TypedInterface> {
        match &self.kind {
            NodeKind::Task(e, _) => e.interface(),
            NodeKind::Map(m) => m.task.interface(),
            NodeKind::Workflow(g) => Some(&g.interface),
            NodeKind::LaunchPlan(l) => Some(&l.graph.interface),
            NodeKind::Branch(_) | NodeKind::Gate(_) => None,
        }
    }
}

/// A graph of nodes with its interface and output bindings.
#[derive(Clone, Debug)]
pub(crate) struct Graph {
    /// The workflow's name, for messages.
    pub name: String,
    /// The interface.
    pub interface: TypedInterface,
    /// The nodes.
    pub nodes: Vec<GraphNode>,
    /// For each node, the nodes it waits for (by index): its own upstream, and for a
    /// conditional, its arms' too (they read the graph's nodes).
    pub upstream: Vec<Vec<usize>>,
    /// Node id → index.
    pub index: HashMap<String, usize>,
    /// The bindings of the graph's outputs.
    pub outputs: Vec<Binding>,
    /// What a failed node does to the rest.
    pub policy: FailurePolicy,
    /// The node run when the graph fails (`on_failure`).
    pub failure: Option<Box<GraphNode>>,
}

/// Where the engine finds what a node names but does not carry: reference entities (a local
/// stand-in, or a template from a package in the sandbox) and launch plans named by id.
pub(crate) trait Resolve {
    /// The node kind running reference `r` at node `node`.
    fn reference(&self, r: &Reference, node: &str) -> Result<NodeKind, EngineError>;

    /// The node kind running the entity `id` (of `kind`) that a serialized graph names at node
    /// `node` without carrying it (a launch plan, a reference task or workflow).
    fn by_id(
        &self,
        kind: ResourceType,
        id: &Identifier,
        node: &str,
    ) -> Result<NodeKind, EngineError>;
}

/// The sub-workflow graphs built so far, by name (each is built once).
type Subs = HashMap<String, Arc<Graph>>;

impl Graph {
    /// The number of task nodes, counting inside sub-workflows (for progress).
    pub(crate) fn task_count(&self) -> usize {
        self.nodes.iter().map(|n| n.kind.task_count()).sum()
    }

    /// The graph of a workflow defined in this binary.
    pub(crate) fn from_workflow(
        wf: &Workflow,
        resolve: &dyn Resolve,
    ) -> Result<Graph, EngineError> {
        let mut subs = Subs::new();
        Self::from_workflow_with(wf, resolve, &mut subs)
    }

    fn from_workflow_with(
        wf: &Workflow,
        resolve: &dyn Resolve,
        subs: &mut Subs,
    ) -> Result<Graph, EngineError> {
        let nodes: Vec<GraphNode> = wf
            .nodes()
            .iter()
            .map(|n| Self::node_of(n, resolve, subs))
            .collect::<Result<_, _>>()?;
        let upstream = wf
            .nodes()
            .iter()
            .map(|n| {
                let mut ups = n.upstream.clone();
                if let Entity::Branch(b) = &n.entity {
                    for inner in b.nodes() {
                        ups.extend(inner.upstream.iter().copied());
                    }
                }
                ups.sort_unstable();
                ups.dedup();
                ups
            })
            .collect();
        let failure = wf
            .failure_node()
            .map(|n| Self::node_of(n, resolve, subs).map(Box::new))
            .transpose()?;
        Ok(Graph {
            name: wf.name().to_string(),
            interface: wf.interface().clone(),
            upstream,
            index: wf
                .nodes()
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.clone(), i))
                .collect(),
            nodes,
            outputs: wf.output_bindings().to_vec(),
            policy: wf.failure_policy(),
            failure,
        })
    }

    fn sub_workflow(
        w: &Workflow,
        resolve: &dyn Resolve,
        subs: &mut Subs,
    ) -> Result<Arc<Graph>, EngineError> {
        if let Some(g) = subs.get(w.name()) {
            return Ok(g.clone());
        }
        let g = Arc::new(Self::from_workflow_with(w, resolve, subs)?);
        subs.insert(w.name().to_string(), g.clone());
        Ok(g)
    }

    /// One node of a workflow defined in this binary.
    fn node_of(
        n: &NodeSpec,
        resolve: &dyn Resolve,
        subs: &mut Subs,
    ) -> Result<GraphNode, EngineError> {
        let kind = match &n.entity {
            Entity::Task(t) => NodeKind::of_task(t, &n.overrides),
            Entity::Workflow(w) => NodeKind::Workflow(Self::sub_workflow(w, resolve, subs)?),
            Entity::LaunchPlan(lp) => {
                let graph = Self::sub_workflow(lp.workflow(), resolve, subs)?;
                NodeKind::LaunchPlan(Arc::new(LaunchPlanNode {
                    name: lp.name().to_string(),
                    graph,
                    defaults: LiteralMap {
                        literals: lp.callable_defaults().into_iter().collect(),
                    },
                    fixed: LiteralMap {
                        literals: lp.fixed_inputs().iter().cloned().collect(),
                    },
                }))
            }
            Entity::Reference(r) => resolve.reference(r, &n.id)?,
            Entity::Branch(b) => {
                let cases = b
                    .cases()
                    .iter()
                    .map(|c| Ok((c.condition.clone(), Self::node_of(&c.node, resolve, subs)?)))
                    .collect::<Result<_, EngineError>>()?;
                let otherwise = match b.otherwise() {
                    crate::workflow::Otherwise::Node(n) => {
                        Otherwise::Node(Box::new(Self::node_of(n, resolve, subs)?))
                    }
                    crate::workflow::Otherwise::Fail(m) => Otherwise::Fail(m.clone()),
                };
                NodeKind::Branch(Arc::new(BranchNode {
                    name: b.name().to_string(),
                    cases,
                    otherwise,
                }))
            }
            Entity::Gate(g) => NodeKind::Gate(GateNode::of(g, n.overrides.timeout)),
        };
        Ok(GraphNode {
            id: n.id.clone(),
            entity: n.entity.name().to_string(),
            inputs: n.inputs.clone(),
            kind,
        })
    }
}

impl NodeKind {
    fn task_count(&self) -> usize {
        match self {
            NodeKind::Workflow(g) => g.task_count(),
            NodeKind::LaunchPlan(l) => l.graph.task_count(),
            NodeKind::Branch(b) => b.cases.first().map_or(1, |(_, n)| n.kind.task_count()),
            NodeKind::Gate(_) => 0,
            NodeKind::Task(..) | NodeKind::Map(_) => 1,
        }
    }
}

impl GateNode {
    /// The gate `g` of a workflow defined in this binary (a node's timeout replaces the gate's).
    fn of(g: &Gate, timeout: Option<Duration>) -> GateNode {
        let timeout = timeout.unwrap_or(g.timeout());
        match g.kind() {
            GateKind::Sleep(d) => GateNode::Sleep(*d),
            GateKind::Signal { ty, output } => GateNode::Signal {
                id: g.name().to_string(),
                ty: Box::new(ty.clone()),
                output: output.clone(),
                timeout,
            },
            GateKind::Approve { var, .. } => GateNode::Approve {
                id: g.name().to_string(),
                var: var.clone(),
                timeout,
            },
        }
    }
}
