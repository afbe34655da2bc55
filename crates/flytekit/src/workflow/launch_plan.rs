//! Launch plans: how a workflow is started on Flyte, with default and fixed inputs.

use flytekit_idl::core::Literal;

use super::Workflow;

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

    /// The fixed inputs, in the order given.
    pub fn fixed_inputs(&self) -> &[(String, Literal)] {
        &self.fixed_inputs
    }

    /// The default inputs set on the launch plan, in the order given.
    pub fn default_inputs(&self) -> &[(String, Literal)] {
        &self.default_inputs
    }
}
