//! Serialization of workflow nodes, shaped like flytekit's `get_serializable_node`: task nodes
//! (with `TaskNodeOverrides`), sub-workflow, launch-plan and reference nodes, conditionals
//! (`BranchNode`), gates (`GateNode`) and map tasks' `ArrayNode`s, with the entity's retries,
//! timeout and interruptible copied to the node's metadata and the node's overrides on top.

use flytekit_idl::core::{
    ApproveCondition, ArrayNode, BranchNode, ExtendedResources, GateNode, Identifier, IfBlock,
    IfElseBlock, K8sObjectMetadata, K8sPod, Node, NodeMetadata, ResourceType, RetryStrategy,
    SignalCondition, SleepCondition, TaskNode, TaskNodeOverrides, WorkflowNode, array_node,
    gate_node, if_else_block, node, node_metadata, task_node, workflow_node,
};

use super::task::ContainerParts;
use crate::map::MapSpec;
use crate::settings::SerializationSettings;
use crate::task::{Quantity, Resources, Task};
use crate::workflow::{
    BranchSpec, Entity, Gate, GateKind, NodeOverrides, NodeSpec, Otherwise, ReferenceKind,
    WorkflowError,
};

/// The identifier of an entity registered under `settings`.
pub(crate) fn identifier(
    settings: &SerializationSettings,
    kind: ResourceType,
    name: &str,
) -> Identifier {
    Identifier {
        resource_type: kind as i32,
        project: settings.project.clone(),
        domain: settings.domain.clone(),
        name: name.to_string(),
        version: settings.version.clone(),
        ..Default::default()
    }
}

/// The node's metadata settings that every kind of node takes from its overrides.
fn apply_overrides(metadata: &mut NodeMetadata, o: &NodeOverrides) {
    metadata.cacheable_value = o.cache.map(node_metadata::CacheableValue::Cacheable);
    metadata.cache_version_value = o
        .cache_version
        .clone()
        .map(node_metadata::CacheVersionValue::CacheVersion);
    metadata.cache_serializable_value = o
        .cache_serialize
        .map(node_metadata::CacheSerializableValue::CacheSerializable);
}

/// Serializes node `n` of a workflow.
pub(super) fn compile_node(
    n: &NodeSpec,
    settings: &SerializationSettings,
) -> Result<Node, WorkflowError> {
    if let Entity::Task(t) = &n.entity
        && let Some(map) = t.map_spec()
    {
        return Ok(array_node(n, t, map, settings));
    }
    let o = &n.overrides;
    let mut metadata = NodeMetadata {
        name: o
            .name
            .clone()
            .unwrap_or_else(|| n.entity.short_name().to_string()),
        retries: Some(RetryStrategy {
            retries: o.retries.unwrap_or(0),
        }),
        timeout: o.timeout.map(duration),
        interruptible_value: o
            .interruptible
            .map(node_metadata::InterruptibleValue::Interruptible),
        ..Default::default()
    };
    let mut inputs = n.inputs.clone();
    let target = match &n.entity {
        Entity::Task(t) => {
            let c = t.config();
            metadata.retries = Some(RetryStrategy {
                retries: o.retries.unwrap_or(c.retries),
            });
            metadata.timeout = o.timeout.or(c.timeout).map(duration);
            metadata.interruptible_value = o
                .interruptible
                .or(c.interruptible)
                .map(node_metadata::InterruptibleValue::Interruptible);
            node::Target::TaskNode(TaskNode {
                overrides: Some(task_overrides(t, o, settings)?),
                reference: Some(task_node::Reference::ReferenceId(identifier(
                    settings,
                    ResourceType::Task,
                    t.name(),
                ))),
            })
        }
        Entity::Workflow(w) => {
            metadata.interruptible_value = Some(node_metadata::InterruptibleValue::Interruptible(
                o.interruptible.or(w.interruptible()).unwrap_or(false),
            ));
            node::Target::WorkflowNode(WorkflowNode {
                reference: Some(workflow_node::Reference::SubWorkflowRef(identifier(
                    settings,
                    ResourceType::Workflow,
                    w.name(),
                ))),
            })
        }
        Entity::LaunchPlan(lp) => {
            // flytekit's LaunchPlan.construct_node_metadata is its workflow's.
            let w = lp.workflow();
            metadata.name = o.name.clone().unwrap_or_else(|| w.short_name().to_string());
            metadata.interruptible_value = Some(node_metadata::InterruptibleValue::Interruptible(
                o.interruptible.or(w.interruptible()).unwrap_or(false),
            ));
            // A node does not bind the plan's fixed inputs.
            inputs.retain(|b| !lp.fixed_inputs().iter().any(|(f, _)| f == &b.var));
            node::Target::WorkflowNode(WorkflowNode {
                reference: Some(workflow_node::Reference::LaunchplanRef(identifier(
                    settings,
                    ResourceType::LaunchPlan,
                    lp.name(),
                ))),
            })
        }
        Entity::Reference(r) => {
            let id = r.id();
            match r.kind() {
                ReferenceKind::Task => node::Target::TaskNode(TaskNode {
                    overrides: None,
                    reference: Some(task_node::Reference::ReferenceId(id)),
                }),
                ReferenceKind::LaunchPlan => node::Target::WorkflowNode(WorkflowNode {
                    reference: Some(workflow_node::Reference::LaunchplanRef(id)),
                }),
                ReferenceKind::Workflow => node::Target::WorkflowNode(WorkflowNode {
                    reference: Some(workflow_node::Reference::SubWorkflowRef(id)),
                }),
            }
        }
        Entity::Branch(b) => node::Target::BranchNode(Box::new(branch_node(b, settings)?)),
        Entity::Gate(g) => {
            metadata.timeout = Some(duration(o.timeout.unwrap_or(g.timeout())));
            node::Target::GateNode(gate(g))
        }
    };
    apply_overrides(&mut metadata, o);
    Ok(Node {
        id: n.id.clone(),
        metadata: Some(metadata),
        inputs,
        upstream_node_ids: n.upstream.iter().map(|i| format!("n{i}")).collect(),
        output_aliases: Vec::new(),
        target: Some(target),
    })
}

/// A branch node (flytekit's `get_serializable_branch_node`): the first case, the others, and
/// the else node or the error (`failed_node_id` is the conditional's name).
fn branch_node(
    b: &BranchSpec,
    settings: &SerializationSettings,
) -> Result<BranchNode, WorkflowError> {
    let mut blocks = Vec::new();
    for c in b.cases() {
        blocks.push(IfBlock {
            condition: Some(c.condition.clone()),
            then_node: Some(Box::new(compile_branch_node(&c.node, settings)?)),
        });
    }
    let mut blocks = blocks.into_iter();
    let case = blocks.next().map(Box::new);
    let default = match b.otherwise() {
        Otherwise::Node(n) => {
            if_else_block::Default::ElseNode(Box::new(compile_branch_node(n, settings)?))
        }
        Otherwise::Fail(message) => if_else_block::Default::Error(flytekit_idl::core::Error {
            failed_node_id: b.name().to_string(),
            message: message.clone(),
        }),
    };
    Ok(BranchNode {
        if_else: Some(Box::new(IfElseBlock {
            case,
            other: blocks.collect(),
            default: Some(default),
        })),
    })
}

/// A node inside a branch: its upstream ids name nodes of the enclosing workflow.
fn compile_branch_node(
    n: &NodeSpec,
    settings: &SerializationSettings,
) -> Result<Node, WorkflowError> {
    compile_node(n, settings)
}

fn gate(g: &Gate) -> GateNode {
    let condition = match g.kind() {
        GateKind::Sleep(d) => gate_node::Condition::Sleep(SleepCondition {
            duration: Some(duration(*d)),
        }),
        GateKind::Signal { ty, output } => gate_node::Condition::Signal(SignalCondition {
            signal_id: g.name().to_string(),
            r#type: Some(ty.clone()),
            output_variable_name: output.clone(),
        }),
        GateKind::Approve { .. } => gate_node::Condition::Approve(ApproveCondition {
            signal_id: g.name().to_string(),
        }),
    };
    GateNode {
        condition: Some(condition),
    }
}

/// Resources as flytekit's `convert_resources_to_resource_model` lists them: cpu, memory, gpu,
/// ephemeral storage.
fn override_entries(r: &Resources) -> Vec<flytekit_idl::core::resources::ResourceEntry> {
    use flytekit_idl::core::resources::{ResourceEntry, ResourceName};
    [
        (ResourceName::Cpu, &r.cpu),
        (ResourceName::Memory, &r.mem),
        (ResourceName::Gpu, &r.gpu),
        (ResourceName::EphemeralStorage, &r.ephemeral_storage),
    ]
    .into_iter()
    .filter_map(|(name, q)| match q {
        Some(Quantity::One(v)) => Some(ResourceEntry {
            name: name as i32,
            value: v.clone(),
        }),
        _ => None,
    })
    .collect()
}

/// The `TaskNodeOverrides` of a task node (flytekit's `with_overrides`): resources, extended
/// resources, image and pod template.
fn task_overrides(
    task: &Task,
    o: &NodeOverrides,
    settings: &SerializationSettings,
) -> Result<TaskNodeOverrides, WorkflowError> {
    let invalid = |message: String| WorkflowError::Serialization {
        entity: task.name().to_string(),
        message,
    };
    let resources = match (&o.resources, &o.requests, &o.limits) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(invalid(
                "node overrides: `resources` can not be used together with `requests` or `limits`"
                    .into(),
            ));
        }
        (Some(pairs), None, None) => Some(
            crate::task::ResourceSpec::from_pairs(pairs)
                .map_err(|e| invalid(format!("node overrides: {e}")))?
                .to_idl(),
        ),
        (None, None, None) => None,
        (None, requests, limits) => {
            for r in [requests, limits].into_iter().flatten() {
                crate::task::ResourceSpec::from_requests_limits(r, &Resources::new())
                    .map_err(|e| invalid(format!("node overrides: {e}")))?;
            }
            Some(flytekit_idl::core::Resources {
                requests: requests.as_ref().map(override_entries).unwrap_or_default(),
                limits: limits.as_ref().map(override_entries).unwrap_or_default(),
            })
        }
    };
    let extended_resources =
        (o.accelerator.is_some() || o.shared_memory.is_some()).then(|| ExtendedResources {
            gpu_accelerator: o.accelerator.as_ref().map(|a| a.to_idl()),
            shared_memory: o.shared_memory.as_ref().map(|s| s.to_idl()),
        });
    let pod_template = match &o.pod_template {
        None => None,
        Some(pod) => {
            let err = |e: super::SerializeError| invalid(e.to_string());
            let ContainerParts {
                image,
                args,
                resources,
                env,
            } = task
                .container_parts(settings, task.get_command(settings).map_err(err)?)
                .map_err(err)?;
            let spec = task
                .pod_spec(pod, settings, &image, &args, &resources, &env)
                .map_err(err)?;
            Some(K8sPod {
                metadata: Some(K8sObjectMetadata {
                    labels: pod.labels.clone().into_iter().collect(),
                    annotations: pod.annotations.clone().into_iter().collect(),
                }),
                pod_spec: crate::type_engine::dataclass::json_to_struct(&spec),
                data_config: None,
                primary_container_name: pod.primary_container_name.clone(),
            })
        }
    };
    Ok(TaskNodeOverrides {
        resources,
        extended_resources,
        container_image: o.container_image.clone().unwrap_or_default(),
        pod_template,
    })
}

/// The workflow node of a map task: an `ArrayNode` whose sub-node runs the map task (flytekit's
/// `get_serializable_array_node_map_task`).
fn array_node(n: &NodeSpec, task: &Task, spec: &MapSpec, settings: &SerializationSettings) -> Node {
    let o = &n.overrides;
    let inner = spec.inner().config();
    let metadata = NodeMetadata {
        name: o.name.clone().unwrap_or_else(|| task.name().to_string()),
        retries: Some(RetryStrategy {
            retries: o.retries.unwrap_or(0),
        }),
        timeout: o.timeout.map(duration),
        interruptible_value: o
            .interruptible
            .map(node_metadata::InterruptibleValue::Interruptible),
        cacheable_value: o.cache.map(node_metadata::CacheableValue::Cacheable),
        cache_version_value: o
            .cache_version
            .clone()
            .map(node_metadata::CacheVersionValue::CacheVersion),
        ..Default::default()
    };
    let sub_metadata = NodeMetadata {
        name: task.name().to_string(),
        timeout: inner.timeout.filter(|t| !t.is_zero()).map(duration),
        retries: Some(RetryStrategy {
            retries: inner.retries,
        }),
        interruptible_value: inner
            .interruptible
            .map(node_metadata::InterruptibleValue::Interruptible),
        ..Default::default()
    };
    let sub_node = Node {
        id: task.name().to_string(),
        metadata: Some(sub_metadata),
        inputs: n.inputs.clone(),
        upstream_node_ids: Vec::new(),
        output_aliases: Vec::new(),
        target: Some(node::Target::TaskNode(TaskNode {
            overrides: Some(TaskNodeOverrides::default()),
            reference: Some(task_node::Reference::ReferenceId(identifier(
                settings,
                ResourceType::Task,
                task.name(),
            ))),
        })),
    };
    let success_criteria = Some(spec.criterion().to_idl());
    let array = ArrayNode {
        node: Some(Box::new(sub_node)),
        execution_mode: array_node::ExecutionMode::MinimalState as i32,
        is_original_sub_node_interface: Some(false),
        data_mode: array_node::DataMode::SingleInputFile as i32,
        bound_inputs: spec.bound_inputs().iter().cloned().collect(),
        run_all_sub_nodes: spec.run_all_sub_nodes(),
        parallelism_option: spec
            .concurrency()
            .map(array_node::ParallelismOption::Parallelism),
        success_criteria,
    };
    Node {
        id: n.id.clone(),
        metadata: Some(metadata),
        inputs: n.inputs.clone(),
        upstream_node_ids: n.upstream.iter().map(|i| format!("n{i}")).collect(),
        output_aliases: Vec::new(),
        target: Some(node::Target::ArrayNode(Box::new(array))),
    }
}

/// A `std` duration as a protobuf one.
pub(super) fn duration(d: std::time::Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}
