//! What a node runs: a task or a (sub-)workflow.

use std::collections::HashMap;
use std::fmt;

use flytekit_idl::core::{Literal, TypedInterface};

use super::Workflow;
use crate::task::Task;

/// The entity a workflow node runs.
#[derive(Clone)]
pub enum Entity {
    /// A task, run in its own container on Flyte and through `Task::dispatch` locally.
    Task(Task),
    /// A sub-workflow, inlined into the parent's execution.
    Workflow(Workflow),
}

impl fmt::Debug for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entity::Task(t) => f.debug_tuple("Task").field(&t.name()).finish(),
            Entity::Workflow(w) => f.debug_tuple("Workflow").field(&w.name()).finish(),
        }
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

impl Entity {
    /// The registered name.
    pub fn name(&self) -> &str {
        match self {
            Entity::Task(t) => t.name(),
            Entity::Workflow(w) => w.name(),
        }
    }

    /// The last segment of the name (the Rust function name).
    pub fn short_name(&self) -> &str {
        super::short_name(self.name())
    }

    /// `task` or `workflow`.
    pub fn kind(&self) -> &'static str {
        match self {
            Entity::Task(_) => "task",
            Entity::Workflow(_) => "workflow",
        }
    }

    /// The typed interface.
    pub fn interface(&self) -> &TypedInterface {
        match self {
            Entity::Task(t) => t.interface(),
            Entity::Workflow(w) => w.interface(),
        }
    }

    /// Default values of inputs (workflows only; task inputs have none).
    pub(crate) fn input_defaults(&self) -> HashMap<String, Literal> {
        match self {
            Entity::Task(_) => HashMap::new(),
            Entity::Workflow(w) => w
                .inputs()
                .iter()
                .filter_map(|i| i.default.clone().map(|d| (i.name.clone(), d)))
                .collect(),
        }
    }
}
