//! What a node runs: a task, a (sub-)workflow, a launch plan, an entity registered elsewhere
//! (a reference), a conditional or a gate — flytekit's `Node.flyte_entity`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use flytekit_idl::core::{Literal, TypedInterface};

use super::{BranchSpec, Gate, LaunchPlan, Reference, Workflow, WorkflowError};
use crate::task::Task;

/// The entity a workflow node runs.
#[derive(Clone)]
pub enum Entity {
    /// A task, run in its own container on Flyte and through `Task::dispatch` locally.
    Task(Task),
    /// A sub-workflow, inlined into the parent's execution.
    Workflow(Workflow),
    /// A launch plan: a workflow started with the plan's fixed and default inputs.
    LaunchPlan(LaunchPlan),
    /// A task, launch plan or workflow registered on the cluster, known by id and interface.
    Reference(Reference),
    /// A conditional: one of several nodes, chosen by conditions on values.
    Branch(Arc<BranchSpec>),
    /// A gate: a sleep, a signal to wait for, or an approval.
    Gate(Gate),
}

impl fmt::Debug for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(self.kind()).field(&self.name()).finish()
    }
}

impl From<Task> for Entity {
    fn from(task: Task) -> Self {
        Entity::Task(task)
    }
}

impl From<Workflow> for Entity {
    fn from(workflow: Workflow) -> Self {
        Entity::Workflow(workflow)
    }
}

impl From<LaunchPlan> for Entity {
    fn from(plan: LaunchPlan) -> Self {
        Entity::LaunchPlan(plan)
    }
}

impl From<Reference> for Entity {
    fn from(reference: Reference) -> Self {
        Entity::Reference(reference)
    }
}

impl From<Gate> for Entity {
    fn from(gate: Gate) -> Self {
        Entity::Gate(gate)
    }
}

impl Entity {
    /// The registered name (a conditional's or gate's own name).
    pub fn name(&self) -> &str {
        match self {
            Entity::Task(t) => t.name(),
            Entity::Workflow(w) => w.name(),
            Entity::LaunchPlan(l) => l.name(),
            Entity::Reference(r) => r.name(),
            Entity::Branch(b) => b.name(),
            Entity::Gate(g) => g.name(),
        }
    }

    /// The last segment of the name (the Rust function name).
    pub fn short_name(&self) -> &str {
        super::short_name(self.name())
    }

    /// `task`, `workflow`, `launch plan`, `reference task`, ..., `conditional` or `gate`.
    pub fn kind(&self) -> &'static str {
        match self {
            Entity::Task(_) => "task",
            Entity::Workflow(_) => "workflow",
            Entity::LaunchPlan(_) => "launch plan",
            Entity::Reference(r) => r.kind().describe(),
            Entity::Branch(_) => "conditional",
            Entity::Gate(_) => "gate",
        }
    }

    /// The typed interface: what a node binds and what its promises read.
    pub fn interface(&self) -> &TypedInterface {
        match self {
            Entity::Task(t) => t.interface(),
            Entity::Workflow(w) => w.interface(),
            Entity::LaunchPlan(l) => l.interface(),
            Entity::Reference(r) => r.interface(),
            Entity::Branch(b) => b.interface(),
            Entity::Gate(g) => g.interface(),
        }
    }

    /// Values bound to inputs a node leaves unbound: a workflow's defaults, a launch plan's
    /// defaults over its workflow's.
    pub(crate) fn input_defaults(&self) -> HashMap<String, Literal> {
        match self {
            Entity::Workflow(w) => w
                .inputs()
                .iter()
                .filter_map(|i| i.default.clone().map(|d| (i.name.clone(), d)))
                .collect(),
            Entity::LaunchPlan(l) => l.callable_defaults(),
            _ => HashMap::new(),
        }
    }

    /// The entity's own definition error, if any (an invalid sub-workflow or launch plan).
    pub(crate) fn check(&self) -> Result<(), WorkflowError> {
        let sub = |workflow: &Workflow| {
            workflow.check().map_err(|e| WorkflowError::SubWorkflow {
                workflow: workflow.name().to_string(),
                source: Box::new(e),
            })
        };
        match self {
            Entity::Workflow(w) => sub(w),
            Entity::LaunchPlan(l) => {
                sub(l.workflow())?;
                l.check().map_err(|e| WorkflowError::InvalidEntity {
                    entity: format!("launch plan {}", l.name()),
                    message: e.to_string(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Why input `name` cannot be bound when the interface does not list it but the entity
    /// knows it (a launch plan's fixed input).
    pub(crate) fn unbindable(&self, name: &str) -> Option<String> {
        match self {
            Entity::LaunchPlan(l) if l.fixed_inputs().iter().any(|(n, _)| n == name) => {
                Some(format!(
                    "input '{name}' is fixed by launch plan {}; a call cannot bind it",
                    l.name()
                ))
            }
            _ => None,
        }
    }
}
