//! `flyteidl/core/workflow_closure.proto`: a workflow bundled with the tasks it uses.

use super::{TaskTemplate, WorkflowTemplate};

/// A workflow together with all tasks it references, as one self-contained unit.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowClosure {
    /// The workflow.
    #[prost(message, optional, tag = "1")]
    pub workflow: Option<WorkflowTemplate>,
    /// Every task the workflow references.
    #[prost(message, repeated, tag = "2")]
    pub tasks: Vec<TaskTemplate>,
}

impl_name! {
    WorkflowClosure => "WorkflowClosure",
}
