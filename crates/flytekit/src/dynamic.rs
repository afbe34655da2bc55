//! Dynamic workflows: tasks whose body builds a workflow from their real inputs (flytekit's
//! `@dynamic`, contract §6.3, §7.1).
//!
//! ```ignore
//! #[dynamic]
//! fn fan(n: i64, base: i64) -> i64 {
//!     let ys: Vec<_> = (0..n).map(|i| inc(base + i)).collect();
//!     total(ys)
//! }
//! ```
//!
//! The body runs when the task runs, with `n` and `base` as plain values; task calls in it add
//! nodes (as in a `#[workflow]` body) and return promises. Then:
//!
//! - **in a container** (`execute`), the graph is serialized into `futures.pb`, a
//!   `DynamicJobSpec` that Propeller runs: the nodes (ids prefixed `d`: `dn0`, `dn1`, ...), the
//!   `TaskTemplate` of every task they use — serialized with the running version
//!   (`FLYTE_INTERNAL_TASK_VERSION`), the registration's settings (`_F_SS_C`, which the dynamic
//!   task's own template carries) and the fast-registration bundle when `fast-execute` passed
//!   `--dynamic-addl-distro` — the output bindings and the sub-workflows. A body that adds no
//!   nodes writes its outputs directly to `outputs.pb`;
//! - **locally** the engine builds the graph and runs it like a sub-workflow.
//!
//! The same rules as in `#[workflow]` bodies apply to calls: a call of a lowercase path is a node.
//! Call a plain helper function through a parenthesized callee, `(helper)(x)`, or a method.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine as _;
use flytekit_idl::core::{
    Binding, BindingData, DynamicJobSpec, Literal, LiteralCollection, LiteralMap, Node,
    WorkflowTemplate, binding_data, literal, node,
};
use serde_json::{Value, json};

use crate::execution::ExecutionContext;
use crate::image::ImageConfig;
use crate::task::{
    FastSerializationSettings, ResourceSpec, SerializationSettings, TaskBuilder, TaskError,
    TaskExtension,
};
use crate::workflow::Workflow;

/// The future a dynamic task's graph builder returns.
pub type BuildFuture = Pin<Box<dyn Future<Output = Result<Workflow, TaskError>> + Send>>;

/// Builds a dynamic task's workflow from the task's execution context and input literals.
pub type DynamicBuild = Arc<dyn Fn(ExecutionContext, LiteralMap) -> BuildFuture + Send + Sync>;

/// What makes a task dynamic: the function that builds its workflow at run time. Found on a task
/// through [`Task::dynamic_spec`](crate::Task::dynamic_spec).
#[derive(Clone)]
pub struct DynamicSpec {
    build: DynamicBuild,
}

impl std::fmt::Debug for DynamicSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicSpec").finish_non_exhaustive()
    }
}

impl DynamicSpec {
    /// A spec whose workflow is built by `build`.
    pub fn new<F, Fut>(build: F) -> Self
    where
        F: Fn(ExecutionContext, LiteralMap) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Workflow, TaskError>> + Send + 'static,
    {
        Self {
            build: Arc::new(move |cx, inputs| Box::pin(build(cx, inputs))),
        }
    }

    /// Builds the workflow for `inputs`. An invalid graph (a type mismatch, a missing input) is a
    /// USER error, like any error of the task's code.
    pub async fn build_workflow(
        &self,
        cx: ExecutionContext,
        inputs: LiteralMap,
    ) -> Result<Workflow, TaskError> {
        let wf = (self.build)(cx, inputs).await?;
        wf.check().map_err(TaskError::from_user)?;
        Ok(wf)
    }
}

/// Makes `builder` a dynamic task whose workflow `build` makes (what `#[dynamic]` expands to).
/// Run on its own (`Task::dispatch` outside the engine and the container), the task builds its
/// workflow and runs it on a default local engine.
pub fn dynamic_task<F, Fut>(builder: TaskBuilder, build: F) -> TaskBuilder
where
    F: Fn(ExecutionContext, LiteralMap) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Workflow, TaskError>> + Send + 'static,
{
    let spec = Arc::new(DynamicSpec::new(build));
    let body_spec = spec.clone();
    builder
        .extension(TaskExtension::Dynamic(spec))
        .body(move |cx, inputs| {
            let spec = body_spec.clone();
            async move { run_locally(&spec, cx, inputs).await }
        })
}

async fn run_locally(
    spec: &DynamicSpec,
    cx: ExecutionContext,
    inputs: LiteralMap,
) -> Result<LiteralMap, TaskError> {
    let wf = spec.build_workflow(cx, inputs).await?;
    let engine = crate::engine::Engine::new(crate::engine::EngineOptions {
        progress: crate::engine::ProgressMode::Off,
        ..Default::default()
    });
    engine
        .run_workflow(&wf, LiteralMap::default())
        .await
        .map_err(TaskError::from_user)
}

/// What a dynamic task produces in a container.
#[derive(Clone, Debug, PartialEq)]
pub enum DynamicOutcome {
    /// The body added no nodes: its outputs, written to `outputs.pb`.
    Outputs(LiteralMap),
    /// The graph to run, written to `futures.pb`.
    Futures(DynamicJobSpec),
}

/// Compiles a dynamic task's workflow as flytekit's `compile_into_workflow` does.
pub fn compile(
    wf: &Workflow,
    settings: &SerializationSettings,
) -> Result<DynamicOutcome, TaskError> {
    if wf.nodes().is_empty() {
        let mut out = LiteralMap::default();
        for b in wf.output_bindings() {
            let lit = b
                .binding
                .as_ref()
                .and_then(binding_to_literal)
                .ok_or_else(|| {
                    TaskError::from_user(format!(
                        "output '{}' of the dynamic workflow is bound to a promise but the \
                         workflow has no nodes",
                        b.var
                    ))
                })?;
            out.literals.insert(b.var.clone(), lit);
        }
        return Ok(DynamicOutcome::Outputs(out));
    }
    let closure = wf.closure(settings).map_err(TaskError::from_user)?;
    let WorkflowTemplate { nodes, outputs, .. } = closure.template;
    let nodes: Vec<Node> = nodes.into_iter().map(prefix_node).collect();
    Ok(DynamicOutcome::Futures(DynamicJobSpec {
        min_successes: nodes.len() as i64,
        nodes,
        outputs: outputs.into_iter().map(prefix_binding).collect(),
        tasks: closure.tasks,
        subworkflows: closure
            .sub_workflows
            .into_iter()
            .map(|mut w| {
                w.nodes = w.nodes.into_iter().map(prefix_node).collect();
                w.outputs = w.outputs.into_iter().map(prefix_binding).collect();
                w
            })
            .collect(),
    }))
}

/// The constant value of binding data (no promises).
fn binding_to_literal(b: &BindingData) -> Option<Literal> {
    let value = match b.value.as_ref()? {
        binding_data::Value::Scalar(s) => literal::Value::Scalar(s.clone()),
        binding_data::Value::Collection(c) => literal::Value::Collection(LiteralCollection {
            literals: c
                .bindings
                .iter()
                .map(binding_to_literal)
                .collect::<Option<Vec<_>>>()?,
        }),
        binding_data::Value::Map(m) => {
            let mut literals = std::collections::BTreeMap::new();
            for (k, v) in &m.bindings {
                literals.insert(k.clone(), binding_to_literal(v)?);
            }
            literal::Value::Map(Box::new(LiteralMap { literals }))
        }
        binding_data::Value::OffloadedMetadata(o) => {
            literal::Value::OffloadedMetadata(Box::new(o.clone()))
        }
        binding_data::Value::Promise(_) => return None,
    };
    let lit = Literal {
        value: Some(value),
        ..Default::default()
    };
    Some(match &b.union {
        Some(u) => crate::type_engine::literals::scalar_literal(
            flytekit_idl::core::scalar::Value::Union(Box::new(flytekit_idl::core::Union {
                value: Some(Box::new(lit)),
                r#type: u.target_type.clone(),
            })),
        ),
        None => lit,
    })
}

/// `n3` → `dn3`: flytekit compiles dynamic workflows with the node-id prefix `d`.
fn prefix_id(id: &str) -> String {
    if id.is_empty() {
        id.to_string()
    } else {
        format!("d{id}")
    }
}

fn prefix_data(mut b: BindingData) -> BindingData {
    b.value = b.value.map(|v| match v {
        binding_data::Value::Promise(mut r) => {
            r.node_id = prefix_id(&r.node_id);
            binding_data::Value::Promise(r)
        }
        binding_data::Value::Collection(mut c) => {
            c.bindings = c.bindings.into_iter().map(prefix_data).collect();
            binding_data::Value::Collection(c)
        }
        binding_data::Value::Map(mut m) => {
            m.bindings = m
                .bindings
                .into_iter()
                .map(|(k, v)| (k, prefix_data(v)))
                .collect();
            binding_data::Value::Map(m)
        }
        other => other,
    });
    b
}

fn prefix_binding(b: Binding) -> Binding {
    Binding {
        var: b.var,
        binding: b.binding.map(prefix_data),
    }
}

fn prefix_node(mut n: Node) -> Node {
    n.id = prefix_id(&n.id);
    n.upstream_node_ids = n.upstream_node_ids.iter().map(|i| prefix_id(i)).collect();
    n.inputs = n.inputs.into_iter().map(prefix_binding).collect();
    if let Some(node::Target::ArrayNode(a)) = n.target.as_mut()
        && let Some(sub) = a.node.as_mut()
    {
        // The sub-node keeps its id (the map task's name) but reads the same promises.
        sub.inputs = std::mem::take(&mut sub.inputs)
            .into_iter()
            .map(prefix_binding)
            .collect();
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Serialization settings in transit (`_F_SS_C`)

/// The environment variable holding the serialized settings of a dynamic task.
pub const SERIALIZED_CONTEXT_ENV: &str = "_F_SS_C";

fn resources_json(spec: &ResourceSpec) -> Value {
    use flytekit_idl::core::resources::ResourceName;
    let side = |v: &[(ResourceName, String)]| {
        let get = |name: ResourceName| {
            v.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, q)| json!(q))
                .unwrap_or(Value::Null)
        };
        json!({
            "cpu": get(ResourceName::Cpu),
            "mem": get(ResourceName::Memory),
            "gpu": get(ResourceName::Gpu),
            "ephemeral_storage": get(ResourceName::EphemeralStorage),
        })
    };
    json!({"requests": side(&spec.requests), "limits": side(&spec.limits)})
}

fn resources_from_json(v: &Value) -> Option<ResourceSpec> {
    use flytekit_idl::core::resources::ResourceName;
    let side = |s: &Value| -> Vec<(ResourceName, String)> {
        // flytekit's entry order: ephemeral storage, cpu, gpu, memory.
        [
            ("ephemeral_storage", ResourceName::EphemeralStorage),
            ("cpu", ResourceName::Cpu),
            ("gpu", ResourceName::Gpu),
            ("mem", ResourceName::Memory),
        ]
        .into_iter()
        .filter_map(|(k, n)| s.get(k)?.as_str().map(|q| (n, q.to_string())))
        .collect()
    };
    let spec = ResourceSpec {
        requests: side(v.get("requests")?),
        limits: side(v.get("limits")?),
    };
    Some(spec)
}

/// `settings` as flytekit's `SerializationSettings.serialized_context`:
/// `base64(gzip(json))` with flytekit's keys (Python-only ones at flytekit's defaults), plus
/// `binary`.
pub fn to_transport(settings: &SerializationSettings) -> String {
    let env: serde_json::Map<String, Value> = settings
        .env
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    // Unset parts are null, as `pyflyte package` writes them; the container fills them in
    // (`runtime_settings`).
    let unset_is_null = |v: &str| (!v.is_empty()).then(|| v.to_string());
    let doc = json!({
        "image_config": settings.image_config,
        "project": unset_is_null(&settings.project),
        "domain": unset_is_null(&settings.domain),
        "version": unset_is_null(&settings.version),
        "env": if env.is_empty() { Value::Null } else { Value::Object(env) },
        "default_resources": settings.default_resources.as_ref().map(resources_json),
        "git_repo": Value::Null,
        // flytekit's defaults, so that flytekit's `from_transport` reads these settings too.
        "python_interpreter": "/opt/venv/bin/python3",
        "flytekit_virtualenv_root": "/opt/venv",
        "fast_serialization_settings": settings.fast.as_ref().map(|f| json!({
            "enabled": true,
            "destination_dir": f.destination_dir,
            "distribution_location": f.distribution_location,
        })),
        "source_root": Value::Null,
        "binary": settings.binary,
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = std::io::Write::write_all(&mut gz, doc.to_string().as_bytes());
    let bytes = gz.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Reads settings written by [`to_transport`] (or by flytekit).
pub fn from_transport(text: &str) -> Result<SerializationSettings, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("{SERIALIZED_CONTEXT_ENV} is not base64: {e}"))?;
    let mut json = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(bytes.as_slice()),
        &mut json,
    )
    .map_err(|e| format!("{SERIALIZED_CONTEXT_ENV} is not gzip-compressed text: {e}"))?;
    let v: Value = serde_json::from_str(&json)
        .map_err(|e| format!("{SERIALIZED_CONTEXT_ENV} is not JSON: {e}"))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let image_config: ImageConfig = match v.get("image_config") {
        Some(Value::Null) | None => ImageConfig::default(),
        Some(ic) => serde_json::from_value(ic.clone()).map_err(|e| {
            format!("{SERIALIZED_CONTEXT_ENV}: image_config is not an image config: {e}")
        })?,
    };
    let env = v
        .get("env")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, x)| (k.clone(), x.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let fast = v
        .get("fast_serialization_settings")
        .filter(|f| f.get("enabled").and_then(Value::as_bool) == Some(true))
        .map(|f| FastSerializationSettings {
            destination_dir: f
                .get("destination_dir")
                .and_then(Value::as_str)
                .map(str::to_string),
            distribution_location: f
                .get("distribution_location")
                .and_then(Value::as_str)
                .map(str::to_string),
        });
    let binary = v
        .get("binary")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
        .map(str::to_string)
        .unwrap_or_else(crate::task::current_binary_name);
    Ok(SerializationSettings {
        project: s("project"),
        domain: s("domain"),
        version: s("version"),
        image_config,
        env,
        binary,
        fast,
        default_resources: v.get("default_resources").and_then(resources_from_json),
    })
}

/// `settings` plus `_F_SS_C` in their env (flytekit's `with_serialized_context`).
pub fn with_serialized_context(settings: &SerializationSettings) -> SerializationSettings {
    let mut s = settings.clone();
    let transport = to_transport(&s);
    s.env.retain(|(k, _)| k != SERIALIZED_CONTEXT_ENV);
    s.env.push((SERIALIZED_CONTEXT_ENV.to_string(), transport));
    s
}

/// The settings sub-tasks of a dynamic task are serialized with in a container (contract §6.3):
/// `_F_SS_C` when set (else the default image config), the execution's project and domain when
/// the settings have none, the version from `FLYTE_INTERNAL_TASK_VERSION`, and the
/// fast-registration bundle from `--dynamic-addl-distro`/`--dynamic-dest-dir`.
pub fn runtime_settings(
    env: impl Fn(&str) -> Option<String>,
    dynamic_addl_distro: Option<&str>,
    dynamic_dest_dir: Option<&str>,
) -> Result<SerializationSettings, String> {
    let one_of = |names: &[&str]| names.iter().find_map(|n| env(n)).unwrap_or_default();
    let mut s = match env(SERIALIZED_CONTEXT_ENV) {
        Some(t) if !t.is_empty() => from_transport(&t)?,
        _ => {
            let images =
                ImageConfig::auto(None, env(crate::image::FLYTE_INTERNAL_IMAGE_ENV).as_deref())
                    .unwrap_or_default();
            SerializationSettings::default().with_image_config(images)
        }
    };
    if s.project.is_empty() {
        s.project = one_of(&["FLYTE_INTERNAL_EXECUTION_PROJECT", "_F_PRJ"]);
    }
    if s.domain.is_empty() {
        s.domain = one_of(&["FLYTE_INTERNAL_EXECUTION_DOMAIN", "_F_DM"]);
    }
    s.version = one_of(&["FLYTE_INTERNAL_TASK_VERSION", "_F_TK_V"]);
    if let Some(distro) = dynamic_addl_distro {
        s.fast = Some(FastSerializationSettings {
            destination_dir: dynamic_dest_dir.map(str::to_string),
            distribution_location: Some(distro.to_string()),
        });
    }
    Ok(s)
}

/// Builds the workflow of a dynamic task for `inputs` and compiles it under the container's
/// settings (what `execute` does for a dynamic task).
pub async fn expand_in_container(
    spec: &DynamicSpec,
    cx: &ExecutionContext,
    inputs: LiteralMap,
    settings: &SerializationSettings,
) -> Result<DynamicOutcome, TaskError> {
    let wf = spec.build_workflow(cx.clone(), inputs).await?;
    compile(&wf, settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_round_trips() {
        let s = SerializationSettings::new("p", "d", "v")
            .with_default_image("ghcr.io/org/app:v1")
            .with_binary("app")
            .with_fast(FastSerializationSettings {
                destination_dir: Some("/root".into()),
                distribution_location: Some("s3://b/fast.tar.gz".into()),
            });
        let back = from_transport(&to_transport(&s)).expect("decodes");
        assert_eq!(back.project, "p");
        assert_eq!(back.binary, "app");
        assert_eq!(back.image_config, s.image_config);
        assert_eq!(back.fast, s.fast);
        assert!(from_transport("not base64!").is_err());
    }

    #[test]
    fn runtime_settings_take_version_and_distro() {
        let t = to_transport(&SerializationSettings::new("", "d", "reg").with_binary("app"));
        let env = move |k: &str| match k {
            "_F_SS_C" => Some(t.clone()),
            "FLYTE_INTERNAL_EXECUTION_PROJECT" => Some("ep".to_string()),
            "FLYTE_INTERNAL_TASK_VERSION" => Some("run".to_string()),
            _ => None,
        };
        let s = runtime_settings(env, Some("s3://b/f.tgz"), Some("/root")).expect("settings");
        assert_eq!((s.project.as_str(), s.domain.as_str()), ("ep", "d"));
        assert_eq!(s.version, "run");
        assert_eq!(
            s.fast.and_then(|f| f.distribution_location).as_deref(),
            Some("s3://b/f.tgz")
        );
    }
}
