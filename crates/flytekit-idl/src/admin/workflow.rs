//! Workflow registration and retrieval (`flyteidl/admin/workflow.proto`).

use super::DescriptionEntity;

/// Registers a workflow version with FlyteAdmin.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowCreateRequest {
    /// Identifier of the new workflow version.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
    /// The workflow to register.
    #[prost(message, optional, tag = "2")]
    pub spec: Option<WorkflowSpec>,
}

/// Empty reply to a successful [`WorkflowCreateRequest`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowCreateResponse {}

/// A registered workflow version as returned by FlyteAdmin.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Workflow {
    /// Identifier of the workflow version.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
    /// The compiled workflow and registration time.
    #[prost(message, optional, tag = "2")]
    pub closure: Option<WorkflowClosure>,
    /// One-line summary of the workflow.
    #[prost(string, tag = "3")]
    pub short_description: String,
}

/// One page of workflows.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowList {
    /// Workflows on this page.
    #[prost(message, repeated, tag = "1")]
    pub workflows: Vec<Workflow>,
    /// Cursor for the next page; empty when this is the last page.
    #[prost(string, tag = "2")]
    pub token: String,
}

/// What a user submits to register a workflow.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowSpec {
    /// The top-level workflow.
    #[prost(message, optional, tag = "1")]
    pub template: Option<crate::core::WorkflowTemplate>,
    /// Workflows the top-level workflow calls as sub-workflows, registered with it.
    #[prost(message, repeated, tag = "2")]
    pub sub_workflows: Vec<crate::core::WorkflowTemplate>,
    /// Optional documentation of the workflow.
    #[prost(message, optional, tag = "3")]
    pub description: Option<DescriptionEntity>,
}

/// What FlyteAdmin derives when it registers a workflow.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowClosure {
    /// The workflow and everything it calls, compiled.
    #[prost(message, optional, tag = "1")]
    pub compiled_workflow: Option<crate::core::CompiledWorkflowClosure>,
    /// When FlyteAdmin stored the entity.
    #[prost(message, optional, tag = "2")]
    pub created_at: Option<::prost_types::Timestamp>,
}

/// Registration failed: this workflow version already exists with a different structure.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowErrorExistsDifferentStructure {
    /// The conflicting workflow version.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
}

/// Registration was a no-op: this workflow version already exists unchanged.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowErrorExistsIdenticalStructure {
    /// The existing workflow version.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
}

/// Detail attached to a failed workflow registration.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CreateWorkflowFailureReason {
    /// Why the registration failed.
    #[prost(oneof = "create_workflow_failure_reason::Reason", tags = "1, 2")]
    pub reason: Option<create_workflow_failure_reason::Reason>,
}

/// Types nested in [`CreateWorkflowFailureReason`].
pub mod create_workflow_failure_reason {
    /// Why the registration failed.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Reason {
        /// The version exists with other contents.
        #[prost(message, tag = "1")]
        ExistsDifferentStructure(super::WorkflowErrorExistsDifferentStructure),
        /// The version exists with the same contents.
        #[prost(message, tag = "2")]
        ExistsIdenticalStructure(super::WorkflowErrorExistsIdenticalStructure),
    }
}

impl_name! {
    WorkflowCreateRequest => "WorkflowCreateRequest",
    WorkflowCreateResponse => "WorkflowCreateResponse",
    Workflow => "Workflow",
    WorkflowList => "WorkflowList",
    WorkflowSpec => "WorkflowSpec",
    WorkflowClosure => "WorkflowClosure",
    WorkflowErrorExistsDifferentStructure => "WorkflowErrorExistsDifferentStructure",
    WorkflowErrorExistsIdenticalStructure => "WorkflowErrorExistsIdenticalStructure",
    CreateWorkflowFailureReason => "CreateWorkflowFailureReason",
}
