//! Dynamic tasks in the sandbox: Propeller's side of `futures.pb`.
//!
//! A dynamic task's container writes `futures.pb` (a `DynamicJobSpec`) instead of `outputs.pb`.
//! The sandbox then does what Propeller does with it: runs the spec's nodes — task nodes through
//! their serialized `TaskTemplate`s (taken from the spec, not from this binary's registry), map
//! tasks as ArrayNodes (one `map-execute` container per element), sub-workflows from the spec's
//! `subworkflows`, nested dynamic tasks by recursion — in dependency order and in parallel
//! within the engine's slots, and resolves the spec's output bindings into the dynamic node's
//! outputs. Nothing but the spec and the container contract is used.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use flytekit_idl::core::{
    ArrayNode, Binding, BindingData, DynamicJobSpec, Identifier, LiteralMap, Node, TaskTemplate,
    WorkflowTemplate, array_node, binding_data, node, task_node, workflow_node,
};
use tokio::task::JoinSet;

use super::progress::Progress;
use super::sandbox::{self, ContainerRun, Input, Outcome};
use super::{BoxFuture, Engine, EngineError, RunScope, is_input_node, resolve, resolve_bindings};
use crate::map_task::{
    ElementPlan, MapFailure, SuccessCriterion, common_length, gather_named, run_indexed,
};

/// The task templates and sub-workflows a spec's nodes refer to, by identifier.
struct Catalog {
    tasks: HashMap<String, TaskTemplate>,
    subworkflows: HashMap<String, WorkflowTemplate>,
}

fn id_key(id: &Identifier) -> String {
    format!("{}/{}/{}@{}", id.project, id.domain, id.name, id.version)
}

impl Catalog {
    fn new(spec: &DynamicJobSpec) -> Self {
        let key = |id: &Option<Identifier>| id.as_ref().map(id_key).unwrap_or_default();
        Self {
            tasks: spec.tasks.iter().map(|t| (key(&t.id), t.clone())).collect(),
            subworkflows: spec
                .subworkflows
                .iter()
                .map(|w| (key(&w.id), w.clone()))
                .collect(),
        }
    }

    fn task(&self, reference: Option<&task_node::Reference>) -> Result<&TaskTemplate, String> {
        let Some(task_node::Reference::ReferenceId(id)) = reference else {
            return Err("the task node names no task".into());
        };
        self.tasks
            .get(&id_key(id))
            .ok_or_else(|| format!("task {} is not among the spec's tasks", id.name))
    }
}

/// A graph of serialized nodes with its output bindings: the spec itself or one of its
/// sub-workflows.
struct Graph {
    nodes: Vec<Node>,
    outputs: Vec<Binding>,
}

impl Engine {
    /// Runs the `DynamicJobSpec` that the dynamic task `task` at node `path` wrote; returns the
    /// task's outputs.
    pub(super) fn run_futures(
        self,
        spec: DynamicJobSpec,
        path: String,
        task: String,
        scope: &RunScope,
    ) -> BoxFuture<Result<LiteralMap, EngineError>> {
        let progress = scope.progress.clone();
        Box::pin(async move {
            let catalog = Arc::new(Catalog::new(&spec));
            let graph = Graph {
                nodes: spec.nodes,
                outputs: spec.outputs,
            };
            self.run_spec_subgraph(catalog, graph, LiteralMap::default(), path, task, progress)
                .await
        })
    }

    /// Runs `graph` as node `path` (its nodes at `<path>/<id>`); a failure inside is the node's
    /// failure, naming `name`.
    async fn run_spec_subgraph(
        self,
        catalog: Arc<Catalog>,
        graph: Graph,
        inputs: LiteralMap,
        path: String,
        name: String,
        progress: Arc<Progress>,
    ) -> Result<LiteralMap, EngineError> {
        let prefix = format!("{path}/");
        self.run_spec_graph(catalog, graph, Arc::new(inputs), prefix, progress)
            .await
            .map_err(|e| EngineError::SubWorkflowFailed {
                node: path,
                workflow: name,
                source: Box::new(e),
            })
    }

    /// Runs the nodes of `graph` (node paths `<prefix><id>`), each once its upstream nodes and
    /// the nodes its bindings read are done; the first failure stops the graph (Propeller's
    /// default failure policy).
    fn run_spec_graph(
        self,
        catalog: Arc<Catalog>,
        graph: Graph,
        inputs: Arc<LiteralMap>,
        prefix: String,
        progress: Arc<Progress>,
    ) -> BoxFuture<Result<LiteralMap, EngineError>> {
        Box::pin(async move {
            let ids: HashSet<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
            let deps: Vec<HashSet<String>> = graph
                .nodes
                .iter()
                .map(|n| {
                    let mut d: HashSet<String> = n.upstream_node_ids.iter().cloned().collect();
                    for b in &n.inputs {
                        if let Some(data) = &b.binding {
                            promised_nodes(data, &mut d);
                        }
                    }
                    d.retain(|id| ids.contains(id.as_str()));
                    d
                })
                .collect();
            let mut results: HashMap<String, Arc<LiteralMap>> = HashMap::new();
            let mut started = vec![false; graph.nodes.len()];
            let mut running: JoinSet<(usize, Result<LiteralMap, EngineError>)> = JoinSet::new();
            loop {
                for (i, n) in graph.nodes.iter().enumerate() {
                    if started[i] || !deps[i].iter().all(|d| results.contains_key(d)) {
                        continue;
                    }
                    started[i] = true;
                    let path = format!("{prefix}{}", n.id);
                    let lookup = |id: &str| outputs_of(id, &inputs, &results);
                    let node_inputs =
                        resolve_bindings(&n.inputs, &lookup).map_err(|(input, reason)| {
                            EngineError::Binding {
                                node: path.clone(),
                                entity: node_name(n),
                                input,
                                reason,
                            }
                        })?;
                    let engine = self.clone();
                    let catalog = catalog.clone();
                    let progress = progress.clone();
                    let n = n.clone();
                    running.spawn(async move {
                        let r = engine
                            .run_spec_node(catalog, n, node_inputs, path, progress)
                            .await;
                        (i, r)
                    });
                }
                let Some(joined) = running.join_next().await else {
                    break;
                };
                match joined {
                    Ok((i, Ok(out))) => {
                        results.insert(graph.nodes[i].id.clone(), Arc::new(out));
                    }
                    Ok((_, Err(e))) => {
                        running.abort_all();
                        return Err(e);
                    }
                    Err(join) => {
                        running.abort_all();
                        return Err(EngineError::Aborted {
                            node: format!("{prefix}?"),
                            entity: "dynamic workflow".into(),
                            reason: join.to_string(),
                        });
                    }
                }
            }
            if let Some(n) = graph.nodes.iter().find(|n| !results.contains_key(&n.id)) {
                return Err(invalid(
                    &format!("{prefix}{}", n.id),
                    "the node waits on nodes that never finish (a dependency cycle)",
                ));
            }
            let lookup = |id: &str| outputs_of(id, &inputs, &results);
            let mut out = LiteralMap::default();
            for b in &graph.outputs {
                let lit = match &b.binding {
                    Some(data) => resolve(data, &lookup),
                    None => Err("the output is not bound".to_string()),
                }
                .map_err(|reason| EngineError::Binding {
                    node: format!("{prefix}outputs"),
                    entity: "dynamic workflow".into(),
                    input: b.var.clone(),
                    reason,
                })?;
                out.literals.insert(b.var.clone(), lit);
            }
            Ok(out)
        })
    }

    /// Runs one node of a spec: a task, a map task (ArrayNode) or a sub-workflow.
    async fn run_spec_node(
        self,
        catalog: Arc<Catalog>,
        n: Node,
        inputs: LiteralMap,
        path: String,
        progress: Arc<Progress>,
    ) -> Result<LiteralMap, EngineError> {
        match &n.target {
            Some(node::Target::TaskNode(t)) => {
                let template = catalog
                    .task(t.reference.as_ref())
                    .map_err(|r| invalid(&path, &r))?
                    .clone();
                let retry = retry_policy(&n, &template);
                let name = node_name(&n);
                let outcome = self
                    .run_template(&template, &inputs, None, &path, retry, &progress)
                    .await?;
                match outcome {
                    Outcome::Outputs(o) => Ok(o),
                    Outcome::Futures(spec) => {
                        let scope = RunScope {
                            progress,
                            prefix: String::new(),
                        };
                        self.run_futures(spec, path, name, &scope).await
                    }
                }
            }
            Some(node::Target::ArrayNode(a)) => {
                self.run_spec_array(&catalog, a, inputs, path, progress)
                    .await
            }
            Some(node::Target::WorkflowNode(w)) => {
                let Some(workflow_node::Reference::SubWorkflowRef(id)) = &w.reference else {
                    return Err(invalid(
                        &path,
                        "launch plan nodes are not run by the sandbox; use a sub-workflow",
                    ));
                };
                let wf = catalog.subworkflows.get(&id_key(id)).ok_or_else(|| {
                    invalid(
                        &path,
                        &format!("sub-workflow {} is not among the spec's", id.name),
                    )
                })?;
                let graph = Graph {
                    nodes: wf.nodes.clone(),
                    outputs: wf.outputs.clone(),
                };
                let name = id.name.clone();
                self.clone()
                    .run_spec_subgraph(catalog.clone(), graph, inputs, path, name, progress)
                    .await
            }
            other => Err(invalid(
                &path,
                &format!(
                    "{} nodes are not run by the sandbox yet",
                    match other {
                        Some(node::Target::BranchNode(_)) => "branch",
                        Some(node::Target::GateNode(_)) => "gate",
                        _ => "empty",
                    }
                ),
            )),
        }
    }

    /// An ArrayNode of a spec: the map task's container once per element, on the node's whole
    /// inputs written once, the element's index in its environment.
    async fn run_spec_array(
        &self,
        catalog: &Catalog,
        a: &ArrayNode,
        inputs: LiteralMap,
        path: String,
        progress: Arc<Progress>,
    ) -> Result<LiteralMap, EngineError> {
        let sub = a
            .node
            .as_deref()
            .ok_or_else(|| invalid(&path, "the array node has no sub-node"))?;
        let Some(node::Target::TaskNode(t)) = &sub.target else {
            return Err(invalid(
                &path,
                "the array node's sub-node is not a task node",
            ));
        };
        let template = Arc::new(
            catalog
                .task(t.reference.as_ref())
                .map_err(|r| invalid(&path, &r))?
                .clone(),
        );
        let name = node_name(sub);
        let failed = |reason: String| EngineError::MapFailed {
            node: path.clone(),
            task: name.clone(),
            reason,
        };
        let n = array_size(a, &inputs).map_err(failed)?;
        let opts = self
            .inner
            .options
            .sandbox
            .as_ref()
            .ok_or_else(|| invalid(&path, "futures.pb outside the sandbox"))?;
        let uri = sandbox::write_map_inputs(opts, self.inner.cx.storage(), &path, &inputs)
            .await
            .map_err(failed)?;
        let slots = self.inner.options.concurrency.max(1);
        let limit = match &a.parallelism_option {
            Some(array_node::ParallelismOption::Parallelism(k)) if *k > 0 => {
                (*k as usize).min(slots)
            }
            _ => slots,
        };
        let plan = ElementPlan {
            n,
            required: SuccessCriterion::from_idl(a.success_criteria.as_ref()).required(n),
            run_all: a.run_all_sub_nodes,
            limit,
        };
        let retry = retry_policy(sub, &template);
        let start = |i: usize| {
            let engine = self.clone();
            let template = template.clone();
            let progress = progress.clone();
            let input = uri.clone();
            let element_path = format!("{path}[{i}]");
            let run: BoxFuture<Result<LiteralMap, EngineError>> = Box::pin(async move {
                let element = Some((i, input));
                match engine
                    .run_template(
                        &template,
                        &LiteralMap::default(),
                        element,
                        &element_path,
                        retry,
                        &progress,
                    )
                    .await?
                {
                    Outcome::Outputs(o) => Ok(o),
                    Outcome::Futures(_) => Err(invalid(
                        &element_path,
                        "a map task element wrote futures.pb; map tasks cannot be dynamic",
                    )),
                }
            });
            Ok(run)
        };
        let aborted = |i: usize, reason: String| EngineError::Aborted {
            node: format!("{path}[{i}]"),
            entity: name.clone(),
            reason,
        };
        let results = run_indexed(plan, start, aborted)
            .await
            .map_err(|f: MapFailure<EngineError>| failed(f.summary()))?;
        let names: Vec<String> = template
            .interface
            .as_ref()
            .and_then(|i| i.outputs.as_ref())
            .map(|o| o.variables.keys().cloned().collect())
            .unwrap_or_default();
        Ok(gather_named(&names, results))
    }

    /// Runs a serialized task in the sandbox with its retries and timeout, in one engine slot:
    /// on `inputs`, or as map element `(index, inputs.pb URI)`.
    async fn run_template(
        &self,
        template: &TaskTemplate,
        inputs: &LiteralMap,
        element: Option<(usize, String)>,
        path: &str,
        (retries, timeout): (u32, Option<Duration>),
        progress: &Progress,
    ) -> Result<Outcome, EngineError> {
        let name = template
            .id
            .as_ref()
            .map(|i| i.name.clone())
            .unwrap_or_default();
        let opts = self
            .inner
            .options
            .sandbox
            .as_ref()
            .ok_or_else(|| invalid(path, "futures.pb outside the sandbox"))?;
        let storage = self.inner.cx.storage();
        let _permit = self.acquire_slot(path, &name).await?;
        let started = std::time::Instant::now();
        progress.started(path, &name);
        let outcome = self
            .with_retries(path, &name, retries, timeout, progress, |n| {
                let (input, env) = match &element {
                    Some((i, uri)) => (Input::At(uri.clone()), crate::map_task::element_env(*i)),
                    None => (Input::Write(inputs), Vec::new()),
                };
                let run = ContainerRun {
                    template,
                    node: path,
                    attempt: n - 1,
                    input,
                    env,
                };
                async move {
                    sandbox::run_container(run, opts, storage)
                        .await
                        .map_err(sandbox::AttemptError::into_failure)
                }
            })
            .await?;
        if matches!(outcome, Outcome::Outputs(_)) {
            progress.finished(path, &name, false, started.elapsed());
        }
        Ok(outcome)
    }
}

/// The outputs a promise on node `id` reads: the graph's inputs for the input node, else the
/// finished node's outputs.
fn outputs_of<'a>(
    id: &str,
    inputs: &'a LiteralMap,
    results: &'a HashMap<String, Arc<LiteralMap>>,
) -> Result<&'a LiteralMap, String> {
    if is_input_node(id) {
        return Ok(inputs);
    }
    results
        .get(id)
        .map(|m| m.as_ref())
        .ok_or_else(|| format!("node {id} has not produced outputs"))
}

/// A spec the sandbox cannot run, at `node`.
fn invalid(node: &str, reason: &str) -> EngineError {
    EngineError::InvalidFutures {
        node: node.to_string(),
        reason: reason.to_string(),
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

/// Retries and timeout of a task node: the node's metadata first, then the task's.
fn retry_policy(n: &Node, t: &TaskTemplate) -> (u32, Option<Duration>) {
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
    (retries, timeout)
}

/// The nodes whose outputs `data` reads.
fn promised_nodes(data: &BindingData, out: &mut HashSet<String>) {
    match &data.value {
        Some(binding_data::Value::Promise(r)) => {
            out.insert(r.node_id.clone());
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

/// The number of elements of an ArrayNode: the common length of its inputs that are not bound.
fn array_size(a: &ArrayNode, inputs: &LiteralMap) -> Result<usize, String> {
    let mut names: Vec<String> = inputs
        .literals
        .keys()
        .filter(|k| !a.bound_inputs.contains(k))
        .cloned()
        .collect();
    names.sort();
    common_length(&names, inputs)
}
