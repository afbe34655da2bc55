//! Serialized graphs: the nodes of a dynamic task's `futures.pb` (a `DynamicJobSpec`) or of a
//! package's workflow, turned into the engine's [`Graph`] from the templates they carry — nothing
//! is taken from this binary. Launch plans and references a serialized node names without
//! carrying them are found through [`Resolve`].

use std::collections::HashMap;
use std::sync::Arc;

use flytekit_idl::core::{
    ArrayNode, Binding, BindingData, DynamicJobSpec, Identifier, LiteralMap, Node, ResourceType,
    TaskTemplate, TypedInterface, WorkflowTemplate, array_node, binding_data, if_else_block, node,
    task_node, workflow_node,
};

use super::EngineError;
use super::graph::{
    Attempts, BranchNode, Executable, GateNode, Graph, GraphNode, LaunchPlanNode, MapNode,
    NodeKind, Otherwise, Resolve,
};
use crate::map::SuccessCriterion;
use crate::workflow::{FailurePolicy, INPUT_NODE_ID};

/// The task templates and workflows serialized nodes refer to, by identifier.
pub(crate) struct Catalog<'a> {
    tasks: HashMap<String, Arc<TaskTemplate>>,
    workflows: HashMap<String, WorkflowTemplate>,
    /// The node path the graph runs under, for messages.
    node: &'a str,
    resolve: &'a dyn Resolve,
}

pub(crate) fn id_key(id: &Identifier) -> String {
    format!("{}/{}/{}@{}", id.project, id.domain, id.name, id.version)
}

impl Graph {
    /// The graph of a dynamic task's `futures.pb`: its nodes, with the task templates and
    /// sub-workflows the spec carries (nothing is taken from this binary).
    pub(crate) fn from_spec(
        spec: DynamicJobSpec,
        node: &str,
        resolve: &dyn Resolve,
    ) -> Result<Graph, EngineError> {
        let catalog = Catalog::new(spec.tasks.iter(), spec.subworkflows.iter(), node, resolve);
        catalog.graph(
            "dynamic workflow",
            TypedInterface::default(),
            spec.nodes,
            spec.outputs,
            FailurePolicy::FailImmediately,
            None,
        )
    }
}

impl<'a> Catalog<'a> {
    /// A catalog of `tasks` and `workflows`, for graphs run at node path `node`.
    pub(crate) fn new<'t>(
        tasks: impl Iterator<Item = &'t TaskTemplate>,
        workflows: impl Iterator<Item = &'t WorkflowTemplate>,
        node: &'a str,
        resolve: &'a dyn Resolve,
    ) -> Self {
        let key = |id: &Option<Identifier>| id.as_ref().map(id_key).unwrap_or_default();
        Self {
            tasks: tasks.map(|t| (key(&t.id), Arc::new(t.clone()))).collect(),
            workflows: workflows.map(|w| (key(&w.id), w.clone())).collect(),
            node,
            resolve,
        }
    }

    fn invalid(&self, id: &str, reason: impl Into<String>) -> EngineError {
        EngineError::InvalidFutures {
            node: format!("{}/{id}", self.node),
            reason: reason.into(),
        }
    }

    /// The graph of the workflow `template` from this catalog.
    pub(crate) fn workflow(&self, template: &WorkflowTemplate) -> Result<Graph, EngineError> {
        let policy = match template.metadata.as_ref().map(|m| m.on_failure) {
            Some(p)
                if p == flytekit_idl::core::workflow_metadata::OnFailurePolicy::FailAfterExecutableNodesComplete
                    as i32 =>
            {
                FailurePolicy::FailAfterExecutableNodesComplete
            }
            _ => FailurePolicy::FailImmediately,
        };
        self.graph(
            template
                .id
                .as_ref()
                .map(|i| i.name.as_str())
                .unwrap_or("workflow"),
            template.interface.clone().unwrap_or_default(),
            template.nodes.clone(),
            template.outputs.clone(),
            policy,
            template.failure_node.clone(),
        )
    }

    /// The graph of a launch plan of this catalog's workflow `template`, with the plan's
    /// defaults and fixed inputs.
    pub(crate) fn launch_plan(
        &self,
        plan: &flytekit_idl::admin::LaunchPlan,
        template: &WorkflowTemplate,
    ) -> Result<LaunchPlanNode, EngineError> {
        let spec = plan.spec.clone().unwrap_or_default();
        let mut defaults = LiteralMap::default();
        for (name, p) in spec.default_inputs.unwrap_or_default().parameters {
            if let Some(flytekit_idl::core::parameter::Behavior::Default(d)) = p.behavior {
                defaults.literals.insert(name, d);
            }
        }
        Ok(LaunchPlanNode {
            name: plan.id.as_ref().map(|i| i.name.clone()).unwrap_or_default(),
            graph: Arc::new(self.workflow(template)?),
            defaults,
            fixed: spec.fixed_inputs.unwrap_or_default(),
        })
    }

    fn task(&self, n: &Node, t: &flytekit_idl::core::TaskNode) -> Result<NodeKind, EngineError> {
        let Some(task_node::Reference::ReferenceId(id)) = &t.reference else {
            return Err(self.invalid(&n.id, "the task node names no task"));
        };
        match self.tasks.get(&id_key(id)) {
            Some(t) => Ok(NodeKind::of_template(n, t.clone())),
            None => self.resolve.by_id(ResourceType::Task, id, &n.id),
        }
    }

    fn template(
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

    /// The kind of serialized node `n`.
    fn kind(&self, n: &Node) -> Result<NodeKind, EngineError> {
        Ok(match &n.target {
            Some(node::Target::TaskNode(t)) => self.task(n, t)?,
            Some(node::Target::ArrayNode(a)) => NodeKind::Map(Box::new(self.array(n, a)?)),
            Some(node::Target::WorkflowNode(w)) => match &w.reference {
                Some(workflow_node::Reference::SubWorkflowRef(id)) => {
                    match self.workflows.get(&id_key(id)) {
                        Some(wf) => NodeKind::Workflow(Arc::new(self.workflow(wf)?)),
                        None => self.resolve.by_id(ResourceType::Workflow, id, &n.id)?,
                    }
                }
                Some(workflow_node::Reference::LaunchplanRef(id)) => {
                    self.resolve.by_id(ResourceType::LaunchPlan, id, &n.id)?
                }
                None => return Err(self.invalid(&n.id, "the workflow node names no workflow")),
            },
            Some(node::Target::BranchNode(b)) => {
                let name = n
                    .metadata
                    .as_ref()
                    .map(|m| m.name.clone())
                    .unwrap_or_else(|| n.id.clone());
                let Some(ie) = b.if_else.as_deref() else {
                    return Err(self.invalid(&n.id, "the branch node has no if/else block"));
                };
                let mut cases = Vec::new();
                for block in ie.case.iter().map(|c| &**c).chain(ie.other.iter()) {
                    let (Some(cond), Some(then)) = (&block.condition, &block.then_node) else {
                        return Err(self.invalid(&n.id, "a branch arm lacks a condition or a node"));
                    };
                    cases.push((cond.clone(), self.node(then)?));
                }
                let otherwise = match &ie.default {
                    Some(if_else_block::Default::ElseNode(e)) => {
                        Otherwise::Node(Box::new(self.node(e)?))
                    }
                    Some(if_else_block::Default::Error(e)) => Otherwise::Fail(e.message.clone()),
                    None => Otherwise::Fail("No branch satisfied".into()),
                };
                NodeKind::Branch(Arc::new(BranchNode {
                    name,
                    cases,
                    otherwise,
                }))
            }
            Some(node::Target::GateNode(g)) => NodeKind::Gate(
                GateNode::from_idl(n, g)
                    .ok_or_else(|| self.invalid(&n.id, "the gate node has no condition"))?,
            ),
            None => return Err(self.invalid(&n.id, "the node runs nothing")),
        })
    }

    /// One serialized node.
    fn node(&self, n: &Node) -> Result<GraphNode, EngineError> {
        Ok(GraphNode {
            id: n.id.clone(),
            entity: node_name(n),
            inputs: n.inputs.clone(),
            kind: self.kind(n)?,
        })
    }

    /// A graph of serialized `nodes`.
    pub(crate) fn graph(
        &self,
        name: &str,
        interface: TypedInterface,
        nodes: Vec<Node>,
        outputs: Vec<Binding>,
        policy: FailurePolicy,
        failure: Option<Node>,
    ) -> Result<Graph, EngineError> {
        let index: HashMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        let mut upstream = Vec::with_capacity(nodes.len());
        for n in &nodes {
            let mut ids: Vec<&str> = Vec::new();
            reads(n, &mut ids);
            let mut ups: Vec<usize> = ids
                .iter()
                .filter_map(|id| index.get(*id).copied())
                .collect();
            ups.sort_unstable();
            ups.dedup();
            upstream.push(ups);
        }
        let graph_nodes = nodes
            .iter()
            .map(|n| self.node(n))
            .collect::<Result<Vec<_>, _>>()?;
        let failure = failure
            .as_ref()
            .map(|n| self.node(n).map(Box::new))
            .transpose()?;
        Ok(Graph {
            name: name.to_string(),
            interface,
            nodes: graph_nodes,
            upstream,
            index,
            outputs,
            policy,
            failure,
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
        let template = self.template(n, t)?;
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

/// The node ids `n` waits for: its upstream ids and the nodes its bindings read — a branch's
/// arms' too, which read the enclosing graph's nodes.
fn reads<'d>(n: &'d Node, out: &mut Vec<&'d str>) {
    out.extend(n.upstream_node_ids.iter().map(String::as_str));
    for b in &n.inputs {
        if let Some(data) = &b.binding {
            promised_nodes(data, out);
        }
    }
    if let Some(node::Target::BranchNode(b)) = &n.target
        && let Some(ie) = b.if_else.as_deref()
    {
        for block in ie.case.iter().map(|c| &**c).chain(ie.other.iter()) {
            if let Some(t) = &block.then_node {
                reads(t, out);
            }
        }
        if let Some(if_else_block::Default::ElseNode(e)) = &ie.default {
            reads(e, out);
        }
    }
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

impl GateNode {
    /// The gate of serialized node `n` (its metadata timeout, one hour when absent).
    fn from_idl(n: &Node, g: &flytekit_idl::core::GateNode) -> Option<GateNode> {
        use flytekit_idl::core::gate_node::Condition;
        let timeout = n
            .metadata
            .as_ref()
            .and_then(|m| m.timeout.as_ref())
            .map(|d| {
                std::time::Duration::new(
                    u64::try_from(d.seconds).unwrap_or(0),
                    u32::try_from(d.nanos).unwrap_or(0),
                )
            })
            .filter(|d| !d.is_zero())
            .unwrap_or(crate::workflow::DEFAULT_GATE_TIMEOUT);
        Some(match g.condition.as_ref()? {
            Condition::Sleep(s) => GateNode::Sleep(
                s.duration
                    .as_ref()
                    .map(|d| {
                        std::time::Duration::new(
                            u64::try_from(d.seconds).unwrap_or(0),
                            u32::try_from(d.nanos).unwrap_or(0),
                        )
                    })
                    .unwrap_or_default(),
            ),
            Condition::Signal(s) => GateNode::Signal {
                id: s.signal_id.clone(),
                ty: Box::new(s.r#type.clone().unwrap_or_default()),
                output: s.output_variable_name.clone(),
                timeout,
            },
            Condition::Approve(a) => GateNode::Approve {
                id: a.signal_id.clone(),
                var: n.inputs.first().map(|b| b.var.clone()).unwrap_or_default(),
                timeout,
            },
        })
    }
}
