//! The graph the engine runs: one shape for every source — a workflow defined in Rust, a
//! dynamic task's workflow built in-process, the `DynamicJobSpec` a dynamic task's container
//! wrote — so that each kind of node is run by one piece of code ([`super::exec`]).
//!
//! A node runs an [`Executable`] task (a [`Task`] of this binary, or a serialized `TaskTemplate`
//! run through its container), a map over one, or a nested graph. Its inputs are Flyte bindings,
//! resolved against the graph's inputs and the outputs of finished nodes.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use flytekit_idl::core::{
    ArrayNode, Binding, BindingData, DynamicJobSpec, Identifier, Node, TaskTemplate,
    TypedInterface, WorkflowTemplate, array_node, binding_data, node, task_node, workflow_node,
};

use super::EngineError;
use crate::map::SuccessCriterion;
use crate::task::Task;
use crate::workflow::{Entity, FailurePolicy, INPUT_NODE_ID, NodeOverrides, Workflow};

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
    /// A task's own settings, with a node's overrides on top.
    fn of_task(task: &Task, o: &NodeOverrides) -> Self {
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
    fn of_template(n: &Node, t: &TaskTemplate) -> Self {
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

/// What a node runs.
#[derive(Clone, Debug)]
pub(crate) enum NodeKind {
    /// A task.
    Task(Executable, Attempts),
    /// A map task.
    Map(Box<MapNode>),
    /// A sub-workflow.
    Workflow(Arc<Graph>),
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
}

impl GraphNode {
    /// The interface the node's inputs are checked against (for union coercion).
    pub(crate) fn interface(&self) -> Option<&TypedInterface> {
        match &self.kind {
            NodeKind::Task(e, _) => e.interface(),
            NodeKind::Map(m) => m.task.interface(),
            NodeKind::Workflow(g) => Some(&g.interface),
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
    /// For each node, the nodes it waits for (by index).
    pub upstream: Vec<Vec<usize>>,
    /// Node id → index.
    pub index: HashMap<String, usize>,
    /// The bindings of the graph's outputs.
    pub outputs: Vec<Binding>,
    /// What a failed node does to the rest.
    pub policy: FailurePolicy,
}

impl Graph {
    /// The number of task nodes, counting inside sub-workflows (for progress).
    pub(crate) fn task_count(&self) -> usize {
        self.nodes
            .iter()
            .map(|n| match &n.kind {
                NodeKind::Workflow(g) => g.task_count(),
                _ => 1,
            })
            .sum()
    }

    /// The graph of a workflow defined in this binary.
    pub(crate) fn from_workflow(wf: &Workflow) -> Graph {
        let mut subs: HashMap<String, Arc<Graph>> = HashMap::new();
        Self::from_workflow_with(wf, &mut subs)
    }

    fn from_workflow_with(wf: &Workflow, subs: &mut HashMap<String, Arc<Graph>>) -> Graph {
        let nodes: Vec<GraphNode> = wf
            .nodes()
            .iter()
            .map(|n| {
                let kind = match &n.entity {
                    Entity::Task(t) => NodeKind::of_task(t, &n.overrides),
                    Entity::Workflow(w) => {
                        let g = match subs.get(w.name()) {
                            Some(g) => g.clone(),
                            None => {
                                let g = Arc::new(Self::from_workflow_with(w, subs));
                                subs.insert(w.name().to_string(), g.clone());
                                g
                            }
                        };
                        NodeKind::Workflow(g)
                    }
                };
                GraphNode {
                    id: n.id.clone(),
                    entity: n.entity.name().to_string(),
                    inputs: n.inputs.clone(),
                    kind,
                }
            })
            .collect();
        Graph {
            name: wf.name().to_string(),
            interface: wf.interface().clone(),
            upstream: wf.nodes().iter().map(|n| n.upstream.clone()).collect(),
            index: wf
                .nodes()
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.clone(), i))
                .collect(),
            nodes,
            outputs: wf.output_bindings().to_vec(),
            policy: wf.failure_policy(),
        }
    }

    /// The graph of a dynamic task's `futures.pb`: its nodes, with the task templates and
    /// sub-workflows the spec carries (nothing is taken from this binary).
    pub(crate) fn from_spec(spec: DynamicJobSpec, node: &str) -> Result<Graph, EngineError> {
        let catalog = Catalog::new(&spec, node);
        catalog.graph(
            "dynamic workflow",
            TypedInterface::default(),
            spec.nodes,
            spec.outputs,
            FailurePolicy::FailImmediately,
        )
    }
}

/// The task templates and sub-workflows a spec's nodes refer to, by identifier.
struct Catalog<'a> {
    tasks: HashMap<String, Arc<TaskTemplate>>,
    subworkflows: HashMap<String, WorkflowTemplate>,
    node: &'a str,
}

fn id_key(id: &Identifier) -> String {
    format!("{}/{}/{}@{}", id.project, id.domain, id.name, id.version)
}

impl<'a> Catalog<'a> {
    fn new(spec: &DynamicJobSpec, node: &'a str) -> Self {
        let key = |id: &Option<Identifier>| id.as_ref().map(id_key).unwrap_or_default();
        Self {
            tasks: spec
                .tasks
                .iter()
                .map(|t| (key(&t.id), Arc::new(t.clone())))
                .collect(),
            subworkflows: spec
                .subworkflows
                .iter()
                .map(|w| (key(&w.id), w.clone()))
                .collect(),
            node,
        }
    }

    fn invalid(&self, id: &str, reason: impl Into<String>) -> EngineError {
        EngineError::InvalidFutures {
            node: format!("{}/{id}", self.node),
            reason: reason.into(),
        }
    }

    fn task(
        &self,
        n: &Node,
        t: &flytekit_idl::core::TaskNode,
    ) -> Result<Arc<TaskTemplate>, EngineError> {
        let Some(task_node::Reference::ReferenceId(id)) = &t.reference else {
            return Err(self.invalid(&n.id, "the task node names no task"));
        };
        self.tasks.get(&id_key(id)).cloned().ok_or_else(|| {
            self.invalid(
                &n.id,
                format!("task {} is not among the spec's tasks", id.name),
            )
        })
    }

    fn graph(
        &self,
        name: &str,
        interface: TypedInterface,
        nodes: Vec<Node>,
        outputs: Vec<Binding>,
        policy: FailurePolicy,
    ) -> Result<Graph, EngineError> {
        let index: HashMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        let mut upstream = Vec::with_capacity(nodes.len());
        for n in &nodes {
            let mut ids: Vec<&str> = n.upstream_node_ids.iter().map(String::as_str).collect();
            for b in &n.inputs {
                if let Some(data) = &b.binding {
                    promised_nodes(data, &mut ids);
                }
            }
            let mut ups: Vec<usize> = ids
                .iter()
                .filter_map(|id| index.get(*id).copied())
                .collect();
            ups.sort_unstable();
            ups.dedup();
            upstream.push(ups);
        }
        let mut graph_nodes = Vec::with_capacity(nodes.len());
        for n in nodes {
            let entity = node_name(&n);
            let kind = match &n.target {
                Some(node::Target::TaskNode(t)) => {
                    let template = self.task(&n, t)?;
                    let attempts = Attempts::of_template(&n, &template);
                    NodeKind::Task(Executable::Template(template), attempts)
                }
                Some(node::Target::ArrayNode(a)) => NodeKind::Map(Box::new(self.array(&n, a)?)),
                Some(node::Target::WorkflowNode(w)) => {
                    let Some(workflow_node::Reference::SubWorkflowRef(id)) = &w.reference else {
                        return Err(self.invalid(
                            &n.id,
                            "launch plan nodes are not run by the sandbox; use a sub-workflow",
                        ));
                    };
                    let wf = self.subworkflows.get(&id_key(id)).ok_or_else(|| {
                        self.invalid(
                            &n.id,
                            format!("sub-workflow {} is not among the spec's", id.name),
                        )
                    })?;
                    let policy = match wf.metadata.as_ref().map(|m| m.on_failure) {
                        Some(p) if p == flytekit_idl::core::workflow_metadata::OnFailurePolicy::FailAfterExecutableNodesComplete as i32 => {
                            FailurePolicy::FailAfterExecutableNodesComplete
                        }
                        _ => FailurePolicy::FailImmediately,
                    };
                    NodeKind::Workflow(Arc::new(self.graph(
                        &id.name,
                        wf.interface.clone().unwrap_or_default(),
                        wf.nodes.clone(),
                        wf.outputs.clone(),
                        policy,
                    )?))
                }
                Some(node::Target::BranchNode(_)) => {
                    return Err(self.invalid(&n.id, "branch nodes are not run by the sandbox yet"));
                }
                Some(node::Target::GateNode(_)) => {
                    return Err(self.invalid(&n.id, "gate nodes are not run by the sandbox yet"));
                }
                None => {
                    return Err(self.invalid(&n.id, "empty nodes are not run by the sandbox yet"));
                }
            };
            graph_nodes.push(GraphNode {
                id: n.id,
                entity,
                inputs: n.inputs,
                kind,
            });
        }
        Ok(Graph {
            name: name.to_string(),
            interface,
            nodes: graph_nodes,
            upstream,
            index,
            outputs,
            policy,
        })
    }

    /// An ArrayNode: the map task's container once per element.
    fn array(&self, n: &Node, a: &ArrayNode) -> Result<MapNode, EngineError> {
        let sub = a
            .node
            .as_deref()
            .ok_or_else(|| self.invalid(&n.id, "the array node has no sub-node"))?;
        let Some(node::Target::TaskNode(t)) = &sub.target else {
            return Err(self.invalid(&n.id, "the array node's sub-node is not a task node"));
        };
        let template = self.task(&n.clone(), t)?;
        let attempts = Attempts::of_template(sub, &template);
        let outputs = template
            .interface
            .as_ref()
            .and_then(|i| i.outputs.as_ref())
            .map(|o| o.variables.keys().cloned().collect())
            .unwrap_or_default();
        Ok(MapNode {
            task: Executable::Template(template),
            bound: a.bound_inputs.iter().cloned().collect(),
            criterion: SuccessCriterion::from_idl(a.success_criteria.as_ref()),
            run_all: a.run_all_sub_nodes,
            concurrency: a
                .parallelism_option
                .as_ref()
                .map(|array_node::ParallelismOption::Parallelism(k)| *k),
            attempts,
            outputs,
        })
    }
}

/// The node's name for messages: its metadata name, else its id.
fn node_name(n: &Node) -> String {
    n.metadata
        .as_ref()
        .map(|m| m.name.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| n.id.clone())
}

/// The nodes whose outputs `data` reads.
fn promised_nodes<'d>(data: &'d BindingData, out: &mut Vec<&'d str>) {
    match &data.value {
        Some(binding_data::Value::Promise(r)) if r.node_id != INPUT_NODE_ID => {
            out.push(&r.node_id);
        }
        Some(binding_data::Value::Collection(c)) => {
            c.bindings.iter().for_each(|b| promised_nodes(b, out));
        }
        Some(binding_data::Value::Map(m)) => {
            m.bindings.values().for_each(|b| promised_nodes(b, out));
        }
        _ => {}
    }
}
