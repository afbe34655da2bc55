//! Compilation of a [`Workflow`] to Flyte's `WorkflowTemplate`, shaped like flytekit's
//! `get_serializable_workflow`: node ids `n0, n1, ...`, bindings sorted by input name, workflow
//! inputs referenced with node id `""`, and the task's retries/timeout/interruptible copied to each
//! node's metadata.

use std::collections::BTreeMap;

use flytekit_idl::admin::WorkflowSpec;
use flytekit_idl::core::{
    Identifier, LiteralType, Node, NodeMetadata, ResourceType, RetryStrategy, TaskNode,
    TaskNodeOverrides, TaskTemplate, WorkflowMetadata, WorkflowMetadataDefaults, WorkflowNode,
    WorkflowTemplate, literal_type, node, node_metadata, task_node, workflow_metadata,
    workflow_node,
};

use super::deps::SerializationSettings;
use super::entity::task_settings;
use super::{Entity, FailurePolicy, NodeSpec, Workflow, WorkflowError};

/// A workflow with everything it references, ready for registration: the template, the
/// templates of its sub-workflows (recursively, each once) and the templates of every task.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkflowClosure {
    /// The workflow's own template.
    pub template: WorkflowTemplate,
    /// Templates of the sub-workflows, by name.
    pub sub_workflows: Vec<WorkflowTemplate>,
    /// Templates of the tasks, by name.
    pub tasks: Vec<TaskTemplate>,
}

impl WorkflowClosure {
    /// The registration spec (`flyteidl.admin.WorkflowSpec`) of the workflow.
    pub fn spec(&self) -> WorkflowSpec {
        WorkflowSpec {
            template: Some(self.template.clone()),
            sub_workflows: self.sub_workflows.clone(),
            description: None,
        }
    }
}

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

impl Workflow {
    /// Compiles the workflow to its `WorkflowTemplate`, with ids from `settings`.
    pub fn template(
        &self,
        settings: &SerializationSettings,
    ) -> Result<WorkflowTemplate, WorkflowError> {
        self.check()?;
        Ok(WorkflowTemplate {
            id: Some(identifier(settings, ResourceType::Workflow, self.name())),
            metadata: Some(WorkflowMetadata {
                on_failure: match self.failure_policy() {
                    FailurePolicy::FailImmediately => {
                        workflow_metadata::OnFailurePolicy::FailImmediately
                    }
                    FailurePolicy::FailAfterExecutableNodesComplete => {
                        workflow_metadata::OnFailurePolicy::FailAfterExecutableNodesComplete
                    }
                } as i32,
                ..Default::default()
            }),
            interface: Some(self.interface().clone()),
            nodes: self
                .nodes()
                .iter()
                .map(|n| compile_node(n, self, settings))
                .collect(),
            outputs: self.output_bindings().to_vec(),
            failure_node: None,
            metadata_defaults: Some(WorkflowMetadataDefaults {
                interruptible: self.interruptible().unwrap_or(false),
            }),
        })
    }

    /// Compiles the workflow and everything it references (see [`WorkflowClosure`]).
    pub fn closure(
        &self,
        settings: &SerializationSettings,
    ) -> Result<WorkflowClosure, WorkflowError> {
        let template = self.template(settings)?;
        let mut subs: BTreeMap<String, WorkflowTemplate> = BTreeMap::new();
        let mut tasks: BTreeMap<String, TaskTemplate> = BTreeMap::new();
        collect(self, settings, &mut subs, &mut tasks)?;
        Ok(WorkflowClosure {
            template,
            sub_workflows: subs.into_values().collect(),
            tasks: tasks.into_values().collect(),
        })
    }
}

fn collect(
    wf: &Workflow,
    settings: &SerializationSettings,
    subs: &mut BTreeMap<String, WorkflowTemplate>,
    tasks: &mut BTreeMap<String, TaskTemplate>,
) -> Result<(), WorkflowError> {
    for n in wf.nodes() {
        match &n.entity {
            Entity::Task(t) => {
                if !tasks.contains_key(t.name()) {
                    let template =
                        t.template(settings)
                            .map_err(|e| WorkflowError::Serialization {
                                entity: t.name().to_string(),
                                message: e.to_string(),
                            })?;
                    tasks.insert(t.name().to_string(), template);
                }
            }
            Entity::Workflow(w) => {
                if !subs.contains_key(w.name()) {
                    subs.insert(w.name().to_string(), w.template(settings)?);
                    collect(w, settings, subs, tasks)?;
                }
            }
        }
    }
    Ok(())
}

fn compile_node(n: &NodeSpec, _wf: &Workflow, settings: &SerializationSettings) -> Node {
    if let Entity::Task(t) = &n.entity
        && let Some(map) = t.map_spec()
    {
        return crate::map_task::compile_node(n, t, map, settings);
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
            let s = task_settings(t);
            metadata.retries = Some(RetryStrategy {
                retries: o.retries.unwrap_or(s.retries),
            });
            metadata.timeout = o.timeout.or(s.timeout).map(duration);
            metadata.interruptible_value = o
                .interruptible
                .or(s.interruptible)
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

fn duration(d: std::time::Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}

/// Whether a value of type `got` can be bound to a variable of type `expected`: the same kind of
/// type (metadata such as JSON schemas is not compared), one of the variants of a union, or a
/// structured dataset that has the expected columns (Propeller's rule).
pub(crate) fn compatible(expected: &LiteralType, got: &LiteralType) -> bool {
    use literal_type::Type;
    match (&expected.r#type, &got.r#type) {
        (Some(Type::CollectionType(a)), Some(Type::CollectionType(b))) => compatible(a, b),
        (Some(Type::MapValueType(a)), Some(Type::MapValueType(b))) => compatible(a, b),
        (Some(Type::UnionType(a)), Some(Type::UnionType(b))) => {
            a.variants.len() == b.variants.len()
                && a.variants
                    .iter()
                    .zip(&b.variants)
                    .all(|(x, y)| compatible(x, y))
        }
        (Some(Type::UnionType(a)), _) => a.variants.iter().any(|v| compatible(v, got)),
        (Some(Type::Simple(a)), Some(Type::Simple(b))) => a == b,
        (Some(Type::Blob(a)), Some(Type::Blob(b))) => a.dimensionality == b.dimensionality,
        (Some(Type::EnumType(a)), Some(Type::EnumType(b))) => a.values == b.values,
        (Some(Type::StructuredDatasetType(a)), Some(Type::StructuredDatasetType(b))) => {
            crate::dataset::casts_from(b, a).is_ok()
        }
        (a, b) => a == b,
    }
}
