//! Serialization of workflow nodes, shaped like flytekit's `get_serializable_node`: task nodes,
//! sub-workflow nodes and map tasks' `ArrayNode`s, with the task's retries, timeout and
//! interruptible copied to the node's metadata and the node's overrides on top.

use flytekit_idl::core::{
    ArrayNode, Identifier, Node, NodeMetadata, ResourceType, RetryStrategy, TaskNode,
    TaskNodeOverrides, WorkflowNode, array_node, node, node_metadata, task_node, workflow_node,
};

use crate::map::MapSpec;
use crate::settings::SerializationSettings;
use crate::task::Task;
use crate::workflow::{Entity, NodeSpec};

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

pub(super) fn compile_node(n: &NodeSpec, settings: &SerializationSettings) -> Node {
    if let Entity::Task(t) = &n.entity
        && let Some(map) = t.map_spec()
    {
        return array_node(n, t, map, settings);
    }
    let o = &n.overrides;
    let mut metadata = NodeMetadata {
        name: o
            .name
            .clone()
            .unwrap_or_else(|| n.entity.short_name().to_string()),
        ..Default::default()
    };
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
                overrides: Some(TaskNodeOverrides::default()),
                reference: Some(task_node::Reference::ReferenceId(identifier(
                    settings,
                    ResourceType::Task,
                    t.name(),
                ))),
            })
        }
        Entity::Workflow(w) => {
            metadata.retries = Some(RetryStrategy {
                retries: o.retries.unwrap_or(0),
            });
            metadata.timeout = o.timeout.map(duration);
            metadata.interruptible_value = Some(node_metadata::InterruptibleValue::Interruptible(
                o.interruptible.unwrap_or(false),
            ));
            node::Target::WorkflowNode(WorkflowNode {
                reference: Some(workflow_node::Reference::SubWorkflowRef(identifier(
                    settings,
                    ResourceType::Workflow,
                    w.name(),
                ))),
            })
        }
    };
    metadata.cacheable_value = o.cache.map(node_metadata::CacheableValue::Cacheable);
    metadata.cache_version_value = o
        .cache_version
        .clone()
        .map(node_metadata::CacheVersionValue::CacheVersion);
    Node {
        id: n.id.clone(),
        metadata: Some(metadata),
        inputs: n.inputs.clone(),
        upstream_node_ids: n.upstream.iter().map(|i| format!("n{i}")).collect(),
        output_aliases: Vec::new(),
        target: Some(target),
    }
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
