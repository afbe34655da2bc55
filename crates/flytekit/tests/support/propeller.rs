//! A minimal FlytePropeller for tests: runs serialized workflow templates and `futures.pb`
//! dynamic job specs the way Propeller does, through the container contract only. Each task node
//! becomes a subprocess of its template's container args (Propeller's template variables
//! rendered, the program found through `PATH`), each ArrayNode one subprocess per element with
//! `BATCH_JOB_ARRAY_INDEX_VAR_NAME=FLYTE_K8S_ARRAY_INDEX` and `FLYTE_K8S_ARRAY_INDEX=<i>`, and a
//! task that writes `futures.pb` has its spec run in turn. Sequential and without retries: enough
//! to compare outputs with in-process runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use flytekit::engine::{TemplateVars, render};
use flytekit::idl::Message;
use flytekit::idl::core::{
    Binding, BindingData, DynamicJobSpec, ErrorDocument, Literal, LiteralCollection, LiteralMap,
    Node, Scalar, TaskTemplate, Void, WorkflowTemplate, array_node, binding_data, literal, node,
    scalar, task_node, task_template, workflow_node,
};

fn none() -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Scalar {
            value: Some(scalar::Value::NoneType(Void {})),
        })),
        ..Default::default()
    }
}

/// Runs serialized entities of one binary.
pub struct Propeller {
    /// Prepended to `PATH`, so the program named in container args is found there.
    pub bin_dir: PathBuf,
    /// Scratch space for inputs and outputs.
    pub work: PathBuf,
    /// Extra environment for every container.
    pub env: Vec<(String, String)>,
    counter: AtomicUsize,
}

/// The registered entities a run may reference.
#[derive(Clone, Default)]
pub struct Registry {
    /// Task templates by name.
    pub tasks: HashMap<String, TaskTemplate>,
    /// Sub-workflow templates by name.
    pub workflows: HashMap<String, WorkflowTemplate>,
}

impl Registry {
    /// Adds templates.
    pub fn add(&mut self, tasks: &[TaskTemplate], workflows: &[WorkflowTemplate]) {
        for t in tasks {
            self.tasks.insert(name_of(t.id.as_ref()), t.clone());
        }
        for w in workflows {
            self.workflows.insert(name_of(w.id.as_ref()), w.clone());
        }
    }
}

fn name_of(id: Option<&flytekit::idl::core::Identifier>) -> String {
    id.map(|i| i.name.clone()).unwrap_or_default()
}

/// What a container produced.
pub enum Produced {
    /// `outputs.pb`.
    Outputs(LiteralMap),
    /// `futures.pb`.
    Futures(DynamicJobSpec),
}

impl Propeller {
    /// A Propeller running programs from `bin_dir`, working under `work`.
    pub fn new(bin_dir: &Path, work: &Path) -> Self {
        Self {
            bin_dir: bin_dir.to_path_buf(),
            work: work.to_path_buf(),
            env: Vec::new(),
            counter: AtomicUsize::new(0),
        }
    }

    /// Runs `wf` on `inputs`.
    pub fn run_workflow(
        &self,
        wf: &WorkflowTemplate,
        registry: &Registry,
        inputs: &LiteralMap,
    ) -> Result<LiteralMap, String> {
        self.run_nodes(&wf.nodes, &wf.outputs, registry, inputs)
    }

    /// Runs a dynamic job spec (its tasks and sub-workflows added to `registry`).
    pub fn run_spec(
        &self,
        spec: &DynamicJobSpec,
        registry: &Registry,
    ) -> Result<LiteralMap, String> {
        let mut reg = registry.clone();
        reg.add(&spec.tasks, &spec.subworkflows);
        self.run_nodes(&spec.nodes, &spec.outputs, &reg, &LiteralMap::default())
    }

    fn run_nodes(
        &self,
        nodes: &[Node],
        outputs: &[Binding],
        registry: &Registry,
        inputs: &LiteralMap,
    ) -> Result<LiteralMap, String> {
        let mut results: HashMap<String, LiteralMap> = HashMap::new();
        let mut pending: Vec<&Node> = nodes.iter().collect();
        while !pending.is_empty() {
            let ready = pending
                .iter()
                .position(|n| n.upstream_node_ids.iter().all(|u| results.contains_key(u)))
                .ok_or("no runnable node: a dependency cycle")?;
            let n = pending.remove(ready);
            let node_inputs = resolve_all(&n.inputs, inputs, &results)?;
            let out = match &n.target {
                Some(node::Target::TaskNode(t)) => {
                    let Some(task_node::Reference::ReferenceId(id)) = &t.reference else {
                        return Err(format!("node {}: no task reference", n.id));
                    };
                    let tt = registry
                        .tasks
                        .get(&id.name)
                        .ok_or_else(|| format!("node {}: unknown task {}", n.id, id.name))?;
                    self.run_task_fully(tt, &node_inputs, &[], registry)?
                }
                Some(node::Target::ArrayNode(a)) => {
                    let sub = a.node.as_deref().ok_or("array node without sub-node")?;
                    let Some(node::Target::TaskNode(t)) = &sub.target else {
                        return Err("array sub-node is not a task node".into());
                    };
                    let Some(task_node::Reference::ReferenceId(id)) = &t.reference else {
                        return Err("array sub-node has no task reference".into());
                    };
                    let tt = registry
                        .tasks
                        .get(&id.name)
                        .ok_or_else(|| format!("unknown task {}", id.name))?;
                    let size = node_inputs
                        .literals
                        .iter()
                        .filter(|(k, _)| !a.bound_inputs.contains(k))
                        .find_map(|(_, l)| match &l.value {
                            Some(literal::Value::Collection(c)) => Some(c.literals.len()),
                            _ => None,
                        })
                        .unwrap_or(0);
                    let required = match a.success_criteria {
                        Some(array_node::SuccessCriteria::MinSuccesses(k)) => {
                            (k as usize).min(size)
                        }
                        Some(array_node::SuccessCriteria::MinSuccessRatio(r)) => {
                            ((size as f64 * r as f64).ceil() as usize).min(size)
                        }
                        None => size,
                    };
                    let names: Vec<String> = tt
                        .interface
                        .as_ref()
                        .and_then(|i| i.outputs.as_ref())
                        .map(|o| o.variables.keys().cloned().collect())
                        .unwrap_or_default();
                    let mut per_output: HashMap<String, Vec<Literal>> = HashMap::new();
                    let mut failures = Vec::new();
                    for i in 0..size {
                        let env = vec![
                            (
                                "BATCH_JOB_ARRAY_INDEX_VAR_NAME".to_string(),
                                "FLYTE_K8S_ARRAY_INDEX".to_string(),
                            ),
                            ("FLYTE_K8S_ARRAY_INDEX".to_string(), i.to_string()),
                        ];
                        match self.run_task_fully(tt, &node_inputs, &env, registry) {
                            Ok(element) => {
                                for k in &names {
                                    let v = element.literals.get(k).cloned().unwrap_or_else(none);
                                    per_output.entry(k.clone()).or_default().push(v);
                                }
                            }
                            Err(e) => {
                                failures.push(format!("element {i}: {e}"));
                                for k in &names {
                                    per_output.entry(k.clone()).or_default().push(none());
                                }
                            }
                        }
                    }
                    if failures.len() > size - required {
                        return Err(format!("array node {}: {}", n.id, failures.join("; ")));
                    }
                    LiteralMap {
                        literals: names
                            .into_iter()
                            .map(|k| {
                                let literals = per_output.remove(&k).unwrap_or_default();
                                (
                                    k,
                                    Literal {
                                        value: Some(literal::Value::Collection(
                                            LiteralCollection { literals },
                                        )),
                                        ..Default::default()
                                    },
                                )
                            })
                            .collect(),
                    }
                }
                Some(node::Target::WorkflowNode(w)) => {
                    let Some(workflow_node::Reference::SubWorkflowRef(id)) = &w.reference else {
                        return Err(format!("node {}: only sub-workflows are supported", n.id));
                    };
                    let sub = registry
                        .workflows
                        .get(&id.name)
                        .ok_or_else(|| format!("unknown sub-workflow {}", id.name))?;
                    self.run_workflow(sub, registry, &node_inputs)?
                }
                _ => return Err(format!("node {}: unsupported target", n.id)),
            };
            results.insert(n.id.clone(), out);
        }
        resolve_all(outputs, inputs, &results)
    }

    /// Runs a task container and, when it writes `futures.pb`, the spec it describes.
    fn run_task_fully(
        &self,
        tt: &TaskTemplate,
        inputs: &LiteralMap,
        env: &[(String, String)],
        registry: &Registry,
    ) -> Result<LiteralMap, String> {
        match self.run_task(tt, inputs, env)? {
            Produced::Outputs(o) => Ok(o),
            Produced::Futures(spec) => self.run_spec(&spec, registry),
        }
    }

    /// Runs one container of `tt` on `inputs` with extra `env`.
    pub fn run_task(
        &self,
        tt: &TaskTemplate,
        inputs: &LiteralMap,
        env: &[(String, String)],
    ) -> Result<Produced, String> {
        let Some(task_template::Target::Container(c)) = &tt.target else {
            return Err("only container tasks are supported".into());
        };
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let dir = self.work.join(format!("run{n}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let input = dir.join("inputs.pb");
        std::fs::write(&input, inputs.encode_to_vec()).map_err(|e| e.to_string())?;
        let out = dir.join("out");
        let vars = TemplateVars {
            input: input.display().to_string(),
            input_prefix: dir.display().to_string(),
            output_prefix: out.display().to_string(),
            raw_output_data_prefix: dir.join("raw").display().to_string(),
            checkpoint_output_prefix: dir.join("ckpt").display().to_string(),
            prev_checkpoint_prefix: String::new(),
        };
        let argv: Vec<String> = c.args.iter().map(|a| render(a, &vars)).collect();
        let (program, rest) = argv.split_first().ok_or("no container args")?;
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![self.bin_dir.clone()];
        paths.extend(std::env::split_paths(&path));
        let program_path = paths
            .iter()
            .map(|p| p.join(program))
            .find(|p| p.is_file())
            .ok_or_else(|| format!("{program} is not on PATH"))?;
        let version = tt
            .id
            .as_ref()
            .map(|i| i.version.clone())
            .unwrap_or_default();
        let mut cmd = std::process::Command::new(program_path);
        cmd.args(rest)
            .envs(c.env.iter().map(|kv| (kv.key.clone(), kv.value.clone())))
            .envs(self.env.iter().cloned())
            .envs(env.iter().cloned())
            .env("FLYTE_INTERNAL_TASK_VERSION", version)
            .env(
                "PATH",
                std::env::join_paths(paths).map_err(|e| e.to_string())?,
            )
            .current_dir(&dir);
        let status = cmd
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if let Ok(bytes) = std::fs::read(out.join("outputs.pb")) {
            return LiteralMap::decode(bytes.as_slice())
                .map(Produced::Outputs)
                .map_err(|e| e.to_string());
        }
        if let Ok(bytes) = std::fs::read(out.join("futures.pb")) {
            return DynamicJobSpec::decode(bytes.as_slice())
                .map(Produced::Futures)
                .map_err(|e| e.to_string());
        }
        if let Ok(bytes) = std::fs::read(out.join("error.pb")) {
            let doc = ErrorDocument::decode(bytes.as_slice()).map_err(|e| e.to_string())?;
            let e = doc.error.unwrap_or_default();
            return Err(format!("task failed: {} {}", e.code, e.message));
        }
        Err(format!(
            "{program} wrote nothing: {status:?}\n{}",
            String::from_utf8_lossy(&status.stderr)
        ))
    }
}

fn resolve_all(
    bindings: &[Binding],
    inputs: &LiteralMap,
    results: &HashMap<String, LiteralMap>,
) -> Result<LiteralMap, String> {
    let mut out = LiteralMap::default();
    for b in bindings {
        let data = b.binding.as_ref().ok_or("empty binding")?;
        out.literals
            .insert(b.var.clone(), resolve(data, inputs, results)?);
    }
    Ok(out)
}

fn resolve(
    data: &BindingData,
    inputs: &LiteralMap,
    results: &HashMap<String, LiteralMap>,
) -> Result<Literal, String> {
    Ok(match data.value.as_ref().ok_or("empty binding data")? {
        binding_data::Value::Scalar(s) => Literal {
            value: Some(literal::Value::Scalar(s.clone())),
            ..Default::default()
        },
        binding_data::Value::Collection(c) => Literal {
            value: Some(literal::Value::Collection(LiteralCollection {
                literals: c
                    .bindings
                    .iter()
                    .map(|b| resolve(b, inputs, results))
                    .collect::<Result<_, _>>()?,
            })),
            ..Default::default()
        },
        binding_data::Value::Map(m) => {
            let mut literals = std::collections::BTreeMap::new();
            for (k, v) in &m.bindings {
                literals.insert(k.clone(), resolve(v, inputs, results)?);
            }
            Literal {
                value: Some(literal::Value::Map(Box::new(LiteralMap { literals }))),
                ..Default::default()
            }
        }
        binding_data::Value::Promise(r) => {
            let source = if r.node_id.is_empty() {
                inputs
            } else {
                results
                    .get(&r.node_id)
                    .ok_or_else(|| format!("node {} has not run", r.node_id))?
            };
            source
                .literals
                .get(&r.var)
                .cloned()
                .ok_or_else(|| format!("no output {} of {}", r.var, r.node_id))?
        }
        binding_data::Value::OffloadedMetadata(_) => return Err("offloaded bindings".into()),
    })
}
