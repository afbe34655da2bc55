//! Serialization of a [`Workflow`] to Flyte's `WorkflowTemplate`, shaped like flytekit's
//! `get_serializable_workflow`: node ids `n0, n1, ...`, bindings sorted by input name, workflow
//! inputs referenced with node id `""`, and the task's retries/timeout/interruptible copied to each
//! node's metadata.

use std::collections::BTreeMap;

use flytekit_idl::admin::WorkflowSpec;
use flytekit_idl::core::{
    ResourceType, TaskTemplate, WorkflowMetadata, WorkflowMetadataDefaults, WorkflowTemplate,
    workflow_metadata,
};

use super::node::{compile_node, identifier};
use crate::settings::SerializationSettings;
use crate::workflow::{Entity, FailurePolicy, Workflow, WorkflowError};

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
                .map(|n| compile_node(n, settings))
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
