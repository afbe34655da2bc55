//! `flyteidl/core/identifier.proto`: identifiers of registered entities and of executions.

/// Kind of entity an [`Identifier`] refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum ResourceType {
    /// Not set.
    Unspecified = 0,
    /// A task.
    Task = 1,
    /// A workflow.
    Workflow = 2,
    /// A launch plan.
    LaunchPlan = 3,
    /// A dataset (cache entry), used by the data catalog.
    Dataset = 4,
}
impl ResourceType {
    /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::Unspecified => "UNSPECIFIED",
            Self::Task => "TASK",
            Self::Workflow => "WORKFLOW",
            Self::LaunchPlan => "LAUNCH_PLAN",
            Self::Dataset => "DATASET",
        }
    }
    /// Parses a value from its `.proto` name; `None` if the name is unknown.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "UNSPECIFIED" => Some(Self::Unspecified),
            "TASK" => Some(Self::Task),
            "WORKFLOW" => Some(Self::Workflow),
            "LAUNCH_PLAN" => Some(Self::LaunchPlan),
            "DATASET" => Some(Self::Dataset),
            _ => None,
        }
    }
}

/// Unique id of a registered, versioned entity (task, workflow, launch plan).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Identifier {
    /// Kind of entity.
    #[prost(enumeration = "ResourceType", tag = "1")]
    pub resource_type: i32,
    /// Project the entity is registered in.
    #[prost(string, tag = "2")]
    pub project: String,
    /// Domain within the project, e.g. `development`.
    #[prost(string, tag = "3")]
    pub domain: String,
    /// Entity name, usually the fully qualified Python name.
    #[prost(string, tag = "4")]
    pub name: String,
    /// Registered version.
    #[prost(string, tag = "5")]
    pub version: String,
    /// Organization; empty for single-tenant deployments.
    #[prost(string, tag = "6")]
    pub org: String,
}

/// Unique id of one execution (run) of a workflow or launch plan.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowExecutionIdentifier {
    /// Project the execution runs in.
    #[prost(string, tag = "1")]
    pub project: String,
    /// Domain the execution runs in.
    #[prost(string, tag = "2")]
    pub domain: String,
    /// Execution name, unique within project and domain.
    #[prost(string, tag = "4")]
    pub name: String,
    /// Organization; empty for single-tenant deployments.
    #[prost(string, tag = "5")]
    pub org: String,
}

/// Id of one node's execution within a workflow execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeExecutionIdentifier {
    /// Id of the node in the workflow graph.
    #[prost(string, tag = "1")]
    pub node_id: String,
    /// The workflow execution the node belongs to.
    #[prost(message, optional, tag = "2")]
    pub execution_id: Option<WorkflowExecutionIdentifier>,
}

/// Id of one attempt of a task run by a node.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskExecutionIdentifier {
    /// The task being run.
    #[prost(message, optional, tag = "1")]
    pub task_id: Option<Identifier>,
    /// The node execution that runs the task.
    #[prost(message, optional, tag = "2")]
    pub node_execution_id: Option<NodeExecutionIdentifier>,
    /// Attempt number, starting at 0.
    #[prost(uint32, tag = "3")]
    pub retry_attempt: u32,
}

/// Id of a signal (external input) that a gate node waits for.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SignalIdentifier {
    /// Signal name, unique within the execution.
    #[prost(string, tag = "1")]
    pub signal_id: String,
    /// The workflow execution waiting for the signal.
    #[prost(message, optional, tag = "2")]
    pub execution_id: Option<WorkflowExecutionIdentifier>,
}

impl_name! {
    Identifier => "Identifier",
    WorkflowExecutionIdentifier => "WorkflowExecutionIdentifier",
    NodeExecutionIdentifier => "NodeExecutionIdentifier",
    TaskExecutionIdentifier => "TaskExecutionIdentifier",
    SignalIdentifier => "SignalIdentifier",
}
