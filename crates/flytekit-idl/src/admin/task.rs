//! Task registration and retrieval (`flyteidl/admin/task.proto`).

use super::DescriptionEntity;

/// Registers a task version with FlyteAdmin.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskCreateRequest {
    /// Identifier of the new task version (resource type, project, domain, name, version).
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
    /// The task to register.
    #[prost(message, optional, tag = "2")]
    pub spec: Option<TaskSpec>,
}

/// Empty reply to a successful [`TaskCreateRequest`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskCreateResponse {}

/// A registered task version as returned by FlyteAdmin.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Task {
    /// Identifier of the task version.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
    /// The compiled task and registration time.
    #[prost(message, optional, tag = "2")]
    pub closure: Option<TaskClosure>,
    /// One-line summary of the task.
    #[prost(string, tag = "3")]
    pub short_description: String,
}

/// One page of tasks.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskList {
    /// Tasks on this page.
    #[prost(message, repeated, tag = "1")]
    pub tasks: Vec<Task>,
    /// Cursor for the next page; empty when this is the last page.
    #[prost(string, tag = "2")]
    pub token: String,
}

/// What a user submits to register a task.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskSpec {
    /// The task definition.
    #[prost(message, optional, tag = "1")]
    pub template: Option<crate::core::TaskTemplate>,
    /// Optional documentation of the task.
    #[prost(message, optional, tag = "2")]
    pub description: Option<DescriptionEntity>,
}

/// What FlyteAdmin derives when it registers a task.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskClosure {
    /// The task after compilation.
    #[prost(message, optional, tag = "1")]
    pub compiled_task: Option<crate::core::CompiledTask>,
    /// When FlyteAdmin stored the entity.
    #[prost(message, optional, tag = "2")]
    pub created_at: Option<::prost_types::Timestamp>,
}

impl_name! {
    TaskCreateRequest => "TaskCreateRequest",
    TaskCreateResponse => "TaskCreateResponse",
    Task => "Task",
    TaskList => "TaskList",
    TaskSpec => "TaskSpec",
    TaskClosure => "TaskClosure",
}
