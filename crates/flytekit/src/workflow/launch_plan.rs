//! Launch plans: how a workflow is started on Flyte, with default and fixed inputs.

use flytekit_idl::admin::{
    Annotations, Labels, LaunchPlanMetadata, LaunchPlanSpec, RawOutputDataConfig,
};
use flytekit_idl::core::{Literal, LiteralMap, Parameter, ParameterMap, ResourceType, parameter};

use super::deps::SerializationSettings;
use super::template::identifier;
use super::{Workflow, WorkflowError, variable};

/// A launch plan of a workflow. Every workflow has a default one (same name, the workflow's
/// defaults); build others with [`LaunchPlan::new`] and [`LaunchPlan::fixed_input`].
#[derive(Clone, Debug)]
pub struct LaunchPlan {
    name: String,
    workflow: Workflow,
    fixed_inputs: Vec<(String, Literal)>,
    default_inputs: Vec<(String, Literal)>,
}

impl LaunchPlan {
    /// The default launch plan of `workflow`: named like it, with the workflow's input defaults.
    pub fn default_for(workflow: &Workflow) -> Self {
        Self::new(workflow.name(), workflow)
    }

    /// A launch plan named `name` for `workflow`.
    pub fn new(name: impl Into<String>, workflow: &Workflow) -> Self {
        Self {
            name: name.into(),
            workflow: workflow.clone(),
            fixed_inputs: Vec::new(),
            default_inputs: Vec::new(),
        }
    }

    /// Fixes input `name` to `value`: callers cannot override it.
    pub fn fixed_input(mut self, name: impl Into<String>, value: Literal) -> Self {
        self.fixed_inputs.push((name.into(), value));
        self
    }

    /// Overrides the default value of input `name`.
    pub fn default_input(mut self, name: impl Into<String>, value: Literal) -> Self {
        self.default_inputs.push((name.into(), value));
        self
    }

    /// The launch plan's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The workflow it launches.
    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    /// The registration spec, shaped like flytekit's: every non-fixed input is a parameter, with
    /// its default or `required: true`.
    pub fn spec(&self, settings: &SerializationSettings) -> Result<LaunchPlanSpec, WorkflowError> {
        self.workflow.check()?;
        let mut parameters = ParameterMap::default();
        let mut fixed = LiteralMap::default();
        for input in self.workflow.inputs() {
            if let Some((_, v)) = self.fixed_inputs.iter().find(|(n, _)| n == &input.name) {
                fixed.literals.insert(input.name.clone(), v.clone());
                continue;
            }
            let default = self
                .default_inputs
                .iter()
                .find(|(n, _)| n == &input.name)
                .map(|(_, v)| v.clone())
                .or(input.default.clone());
            let behavior = match default {
                Some(d) => parameter::Behavior::Default(d),
                None => parameter::Behavior::Required(true),
            };
            parameters.parameters.insert(
                input.name.clone(),
                Parameter {
                    var: Some(variable(&input.name, &input.ty)),
                    behavior: Some(behavior),
                },
            );
        }
        for (name, _) in self.fixed_inputs.iter().chain(&self.default_inputs) {
            if !self.workflow.inputs().iter().any(|i| &i.name == name) {
                return Err(WorkflowError::UnknownInput {
                    node: format!("launch plan {}", self.name),
                    entity: self.workflow.name().to_string(),
                    input: name.clone(),
                    expected: super::join_names(
                        self.workflow.inputs().iter().map(|i| i.name.as_str()),
                    ),
                });
            }
        }
        Ok(LaunchPlanSpec {
            workflow_id: Some(identifier(
                settings,
                ResourceType::Workflow,
                self.workflow.name(),
            )),
            entity_metadata: Some(LaunchPlanMetadata::default()),
            default_inputs: Some(parameters),
            fixed_inputs: Some(fixed),
            labels: Some(Labels::default()),
            annotations: Some(Annotations::default()),
            raw_output_data_config: Some(RawOutputDataConfig::default()),
            ..Default::default()
        })
    }

    /// The full launch plan message (`flyteidl.admin.LaunchPlan`) with its id.
    pub fn to_idl(
        &self,
        settings: &SerializationSettings,
    ) -> Result<flytekit_idl::admin::LaunchPlan, WorkflowError> {
        Ok(flytekit_idl::admin::LaunchPlan {
            id: Some(identifier(settings, ResourceType::LaunchPlan, &self.name)),
            spec: Some(self.spec(settings)?),
            // flytekit writes an empty closure; FlyteAdmin fills it in.
            closure: Some(flytekit_idl::admin::LaunchPlanClosure {
                expected_inputs: Some(ParameterMap::default()),
                expected_outputs: Some(flytekit_idl::core::VariableMap::default()),
                ..Default::default()
            }),
        })
    }
}
