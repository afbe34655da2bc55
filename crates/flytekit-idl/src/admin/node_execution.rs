//! Node executions: the status of each node of a workflow execution
//! (`flyteidl/admin/node_execution.proto`).

use super::{FlyteUrLs, Sort, UrlBlob};

/// Fetches one node execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeExecutionGetRequest {
    /// The node execution to fetch.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::NodeExecutionIdentifier>,
}

/// Lists the node executions of a workflow execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeExecutionListRequest {
    /// The workflow execution whose nodes are listed.
    #[prost(message, optional, tag = "1")]
    pub workflow_execution_id: Option<crate::core::WorkflowExecutionIdentifier>,
    /// Maximum number of node executions to return in one page.
    #[prost(uint32, tag = "2")]
    pub limit: u32,
    /// Pagination cursor: empty on the first request, otherwise the token of the previous page.
    #[prost(string, tag = "3")]
    pub token: String,
    /// Filters in FlyteAdmin's filter syntax.
    #[prost(string, tag = "4")]
    pub filters: String,
    /// Ordering of the returned node executions.
    #[prost(message, optional, tag = "5")]
    pub sort_by: Option<Sort>,
    /// Only the children of this node (a sub-workflow, dynamic or array node); empty for the top level.
    #[prost(string, tag = "6")]
    pub unique_parent_id: String,
}

/// Lists the node executions a task execution launched (a dynamic task's nodes).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeExecutionForTaskListRequest {
    /// The task execution whose nodes are listed.
    #[prost(message, optional, tag = "1")]
    pub task_execution_id: Option<crate::core::TaskExecutionIdentifier>,
    /// Maximum number of node executions to return in one page.
    #[prost(uint32, tag = "2")]
    pub limit: u32,
    /// Pagination cursor: empty on the first request, otherwise the token of the previous page.
    #[prost(string, tag = "3")]
    pub token: String,
    /// Filters in FlyteAdmin's filter syntax.
    #[prost(string, tag = "4")]
    pub filters: String,
    /// Ordering of the returned node executions.
    #[prost(message, optional, tag = "5")]
    pub sort_by: Option<Sort>,
}

/// One node of a workflow execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeExecution {
    /// The node execution: its workflow execution and node id.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::NodeExecutionIdentifier>,
    /// Where the node's inputs are stored.
    #[prost(string, tag = "2")]
    pub input_uri: String,
    /// Phase, timing and results.
    #[prost(message, optional, tag = "3")]
    pub closure: Option<NodeExecutionClosure>,
    /// How the node relates to the workflow and its parent.
    #[prost(message, optional, tag = "4")]
    pub metadata: Option<NodeExecutionMetaData>,
}

/// How a node execution relates to the workflow and its parent.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeExecutionMetaData {
    /// Retry group of the parent node this execution belongs to.
    #[prost(string, tag = "1")]
    pub retry_group: String,
    /// Whether the node has child nodes (a sub-workflow, dynamic or array node).
    #[prost(bool, tag = "2")]
    pub is_parent_node: bool,
    /// The node's id in the workflow template.
    #[prost(string, tag = "3")]
    pub spec_node_id: String,
    /// Whether the node's children come from a dynamic workflow.
    #[prost(bool, tag = "4")]
    pub is_dynamic: bool,
    /// Whether the node is an array node.
    #[prost(bool, tag = "5")]
    pub is_array: bool,
    /// Whether the node is an eager node.
    #[prost(bool, tag = "6")]
    pub is_eager: bool,
}

/// One page of node executions.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeExecutionList {
    /// Node executions on this page.
    #[prost(message, repeated, tag = "1")]
    pub node_executions: Vec<NodeExecution>,
    /// Cursor for the next page; empty when this is the last page.
    #[prost(string, tag = "2")]
    pub token: String,
}

/// Phase, timing and results of a node execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeExecutionClosure {
    /// How the node ended, once it has.
    #[prost(oneof = "node_execution_closure::OutputResult", tags = "1, 2, 10")]
    pub output_result: Option<node_execution_closure::OutputResult>,
    /// Current phase of the node.
    #[prost(enumeration = "crate::core::node_execution::Phase", tag = "3")]
    pub phase: i32,
    /// When the node began running.
    #[prost(message, optional, tag = "4")]
    pub started_at: Option<::prost_types::Timestamp>,
    /// How long the node ran.
    #[prost(message, optional, tag = "5")]
    pub duration: Option<::prost_types::Duration>,
    /// When the node execution was created.
    #[prost(message, optional, tag = "6")]
    pub created_at: Option<::prost_types::Timestamp>,
    /// When the node execution last changed.
    #[prost(message, optional, tag = "7")]
    pub updated_at: Option<::prost_types::Timestamp>,
    /// What the node launched.
    #[prost(oneof = "node_execution_closure::TargetMetadata", tags = "8, 9")]
    pub target_metadata: Option<node_execution_closure::TargetMetadata>,
    /// Where the node's deck (HTML) is stored.
    #[prost(string, tag = "11")]
    pub deck_uri: String,
    /// Where the `DynamicJobSpec` of a dynamic node is stored.
    #[prost(string, tag = "12")]
    pub dynamic_job_spec_uri: String,
}

/// Types nested in [`NodeExecutionClosure`].
pub mod node_execution_closure {
    /// How the node ended, once it has.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum OutputResult {
        /// Deprecated location of the outputs; fetch them with the get-data call instead.
        #[prost(string, tag = "1")]
        OutputUri(String),
        /// Error that made the node fail.
        #[prost(message, tag = "2")]
        Error(crate::core::ExecutionError),
        /// Deprecated outputs inline; fetch them with the get-data call instead.
        #[prost(message, tag = "10")]
        OutputData(crate::core::LiteralMap),
    }

    /// What the node launched.
    #[allow(clippy::large_enum_variant)]
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum TargetMetadata {
        /// A workflow execution (a launch plan node).
        #[prost(message, tag = "8")]
        WorkflowNodeMetadata(super::WorkflowNodeMetadata),
        /// A task.
        #[prost(message, tag = "9")]
        TaskNodeMetadata(super::TaskNodeMetadata),
    }
}

/// What a workflow node launched.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowNodeMetadata {
    /// The launched workflow execution.
    #[prost(message, optional, tag = "1")]
    pub execution_id: Option<crate::core::WorkflowExecutionIdentifier>,
}

/// Cache status and checkpoint of a task node.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskNodeMetadata {
    /// Whether the outputs came from the cache.
    #[prost(enumeration = "crate::core::CatalogCacheStatus", tag = "1")]
    pub cache_status: i32,
    /// The cache entry read or written.
    #[prost(message, optional, tag = "2")]
    pub catalog_key: Option<crate::core::CatalogMetadata>,
    /// The latest checkpoint location.
    #[prost(string, tag = "4")]
    pub checkpoint_uri: String,
}

/// The workflow a dynamic node generated.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct DynamicWorkflowNodeMetadata {
    /// Identifier of the generated workflow.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
    /// The generated workflow, compiled.
    #[prost(message, optional, tag = "2")]
    pub compiled_workflow: Option<crate::core::CompiledWorkflowClosure>,
    /// Where the `DynamicJobSpec` is stored.
    #[prost(string, tag = "3")]
    pub dynamic_job_spec_uri: String,
}

/// Fetches the inputs and outputs of a node execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeExecutionGetDataRequest {
    /// The node execution whose data is fetched.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::NodeExecutionIdentifier>,
}

/// Inputs and outputs of a node execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeExecutionGetDataResponse {
    /// Deprecated location of the inputs; use `full_inputs`.
    #[prost(message, optional, tag = "1")]
    pub inputs: Option<UrlBlob>,
    /// Deprecated location of the outputs; use `full_outputs`.
    #[prost(message, optional, tag = "2")]
    pub outputs: Option<UrlBlob>,
    /// The inputs inline, when under the server's size threshold.
    #[prost(message, optional, tag = "3")]
    pub full_inputs: Option<crate::core::LiteralMap>,
    /// The outputs inline, when under the server's size threshold.
    #[prost(message, optional, tag = "4")]
    pub full_outputs: Option<crate::core::LiteralMap>,
    /// The workflow a dynamic node generated.
    #[prost(message, optional, tag = "16")]
    pub dynamic_workflow: Option<DynamicWorkflowNodeMetadata>,
    /// `flyte://` URLs of the node's data.
    #[prost(message, optional, tag = "17")]
    pub flyte_urls: Option<FlyteUrLs>,
}

/// Fetches the workflow a dynamic node generated.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct GetDynamicNodeWorkflowRequest {
    /// The dynamic node execution.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::NodeExecutionIdentifier>,
}

/// The workflow a dynamic node generated.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct DynamicNodeWorkflowResponse {
    /// The generated workflow, compiled.
    #[prost(message, optional, tag = "1")]
    pub compiled_workflow: Option<crate::core::CompiledWorkflowClosure>,
}

impl_name! {
    NodeExecutionGetRequest => "NodeExecutionGetRequest",
    NodeExecutionListRequest => "NodeExecutionListRequest",
    NodeExecutionForTaskListRequest => "NodeExecutionForTaskListRequest",
    NodeExecution => "NodeExecution",
    NodeExecutionMetaData => "NodeExecutionMetaData",
    NodeExecutionList => "NodeExecutionList",
    NodeExecutionClosure => "NodeExecutionClosure",
    WorkflowNodeMetadata => "WorkflowNodeMetadata",
    TaskNodeMetadata => "TaskNodeMetadata",
    DynamicWorkflowNodeMetadata => "DynamicWorkflowNodeMetadata",
    NodeExecutionGetDataRequest => "NodeExecutionGetDataRequest",
    NodeExecutionGetDataResponse => "NodeExecutionGetDataResponse",
    GetDynamicNodeWorkflowRequest => "GetDynamicNodeWorkflowRequest",
    DynamicNodeWorkflowResponse => "DynamicNodeWorkflowResponse",
}
