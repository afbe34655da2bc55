//! Serialization of launch plans (`flyteidl.admin.LaunchPlan`), shaped like flytekit's: every
//! input that is not fixed is a parameter, with its default or `required: true`.

use flytekit_idl::admin::{
    Annotations, Labels, LaunchPlanMetadata, LaunchPlanSpec, RawOutputDataConfig,
};
use flytekit_idl::core::{LiteralMap, Parameter, ParameterMap, ResourceType, parameter};

use super::node::identifier;
use crate::settings::SerializationSettings;
use crate::workflow::{LaunchPlan, WorkflowError, variable};

impl LaunchPlan {
    /// The registration spec, shaped like flytekit's: every non-fixed input is a parameter, with
    /// its default or `required: true`.
    pub fn spec(&self, settings: &SerializationSettings) -> Result<LaunchPlanSpec, WorkflowError> {
        self.workflow().check()?;
        let mut parameters = ParameterMap::default();
        let mut fixed = LiteralMap::default();
        for input in self.workflow().inputs() {
            if let Some((_, v)) = self.fixed_inputs().iter().find(|(n, _)| n == &input.name) {
                fixed.literals.insert(input.name.clone(), v.clone());
                continue;
            }
            let default = self
                .default_inputs()
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
        for (name, _) in self.fixed_inputs().iter().chain(self.default_inputs()) {
            if !self.workflow().inputs().iter().any(|i| &i.name == name) {
                return Err(WorkflowError::UnknownInput {
                    node: format!("launch plan {}", self.name()),
                    entity: self.workflow().name().to_string(),
                    input: name.clone(),
                    expected: crate::workflow::join_names(
                        self.workflow().inputs().iter().map(|i| i.name.as_str()),
                    ),
                });
            }
        }
        Ok(LaunchPlanSpec {
            workflow_id: Some(identifier(
                settings,
                ResourceType::Workflow,
                self.workflow().name(),
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
            id: Some(identifier(settings, ResourceType::LaunchPlan, self.name())),
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
