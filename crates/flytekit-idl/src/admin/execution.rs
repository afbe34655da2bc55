//! Workflow executions: creation, relaunch, recovery, status and data (`flyteidl/admin/execution.proto`).

use super::{
    Annotations, AuthRole, ClusterAssignment, Envs, ExecutionClusterLabel, Labels, Notification,
    RawOutputDataConfig, UrlBlob,
};

/// Starts a workflow execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionCreateRequest {
    /// Project to run in.
    #[prost(string, tag = "1")]
    pub project: String,
    /// Domain to run in.
    #[prost(string, tag = "2")]
    pub domain: String,
    /// Execution name; FlyteAdmin generates one when empty.
    #[prost(string, tag = "3")]
    pub name: String,
    /// What to run and how.
    #[prost(message, optional, tag = "4")]
    pub spec: Option<ExecutionSpec>,
    /// Deprecated inputs location; set `spec.inputs` instead.
    #[prost(message, optional, tag = "5")]
    pub inputs: Option<crate::core::LiteralMap>,
    /// Organization owning the project; empty outside multi-tenant deployments.
    #[prost(string, tag = "6")]
    pub org: String,
}

/// Starts a new execution with the same spec and inputs as an earlier one.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionRelaunchRequest {
    /// The execution to relaunch.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::WorkflowExecutionIdentifier>,
    /// Name of the new execution; generated when empty.
    #[prost(string, tag = "3")]
    pub name: String,
    /// When true, cached outputs are ignored and recomputed, and the cache is refreshed with the new results.
    #[prost(bool, tag = "4")]
    pub overwrite_cache: bool,
}

/// Starts a new execution that reuses the successful node outputs of a failed one.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionRecoverRequest {
    /// The failed execution to recover.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::WorkflowExecutionIdentifier>,
    /// Name of the new execution; generated when empty.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Metadata of the new execution.
    #[prost(message, optional, tag = "3")]
    pub metadata: Option<ExecutionMetadata>,
}

/// Reply to a create, relaunch or recover request.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionCreateResponse {
    /// Identifier of the started execution.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::WorkflowExecutionIdentifier>,
}

/// Fetches one execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowExecutionGetRequest {
    /// The execution to fetch.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::WorkflowExecutionIdentifier>,
}

/// A workflow execution as tracked by FlyteAdmin.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Execution {
    /// Identifier of the execution.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::WorkflowExecutionIdentifier>,
    /// What was requested.
    #[prost(message, optional, tag = "2")]
    pub spec: Option<ExecutionSpec>,
    /// Current status and results.
    #[prost(message, optional, tag = "3")]
    pub closure: Option<ExecutionClosure>,
}

/// One page of executions.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionList {
    /// Executions on this page.
    #[prost(message, repeated, tag = "1")]
    pub executions: Vec<Execution>,
    /// Cursor for the next page; empty when this is the last page.
    #[prost(string, tag = "2")]
    pub token: String,
}

/// Deprecated: a literal map given inline or by storage location.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LiteralMapBlob {
    /// The map or its location.
    #[prost(oneof = "literal_map_blob::Data", tags = "1, 2")]
    pub data: Option<literal_map_blob::Data>,
}

/// Types nested in [`LiteralMapBlob`].
pub mod literal_map_blob {
    /// The map or its location.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Data {
        /// The literals inline.
        #[prost(message, tag = "1")]
        Values(crate::core::LiteralMap),
        /// Location of the serialized literal map.
        #[prost(string, tag = "2")]
        Uri(String),
    }
}

/// Who aborted an execution and why.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct AbortMetadata {
    /// Reason given for the abort.
    #[prost(string, tag = "1")]
    pub cause: String,
    /// User or service that performed the action.
    #[prost(string, tag = "2")]
    pub principal: String,
}

/// Status and results of an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionClosure {
    /// How the execution ended, once it has.
    #[prost(oneof = "execution_closure::OutputResult", tags = "1, 2, 10, 12, 13")]
    pub output_result: Option<execution_closure::OutputResult>,
    /// Deprecated: inputs after defaults were applied.
    #[prost(message, optional, tag = "3")]
    pub computed_inputs: Option<crate::core::LiteralMap>,
    /// Current phase of the execution.
    #[prost(enumeration = "crate::core::workflow_execution::Phase", tag = "4")]
    pub phase: i32,
    /// When the execution began running.
    #[prost(message, optional, tag = "5")]
    pub started_at: Option<::prost_types::Timestamp>,
    /// How long the execution ran.
    #[prost(message, optional, tag = "6")]
    pub duration: Option<::prost_types::Duration>,
    /// When the execution was created.
    #[prost(message, optional, tag = "7")]
    pub created_at: Option<::prost_types::Timestamp>,
    /// When the execution last changed.
    #[prost(message, optional, tag = "8")]
    pub updated_at: Option<::prost_types::Timestamp>,
    /// Notifications registered for the execution.
    #[prost(message, repeated, tag = "9")]
    pub notifications: Vec<Notification>,
    /// The workflow version that runs.
    #[prost(message, optional, tag = "11")]
    pub workflow_id: Option<crate::core::Identifier>,
    /// Latest change of the execution's archive state.
    #[prost(message, optional, tag = "14")]
    pub state_change_details: Option<ExecutionStateChangeDetails>,
}

/// Types nested in [`ExecutionClosure`].
pub mod execution_closure {
    /// How the execution ended, once it has.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum OutputResult {
        /// Deprecated outputs; use `output_data`.
        #[prost(message, tag = "1")]
        Outputs(super::LiteralMapBlob),
        /// Error that made the execution fail.
        #[prost(message, tag = "2")]
        Error(crate::core::ExecutionError),
        /// Deprecated abort reason; use `abort_metadata`.
        #[prost(string, tag = "10")]
        AbortCause(String),
        /// Who aborted the execution and why.
        #[prost(message, tag = "12")]
        AbortMetadata(super::AbortMetadata),
        /// Deprecated outputs inline; fetch them with the get-data call instead.
        #[prost(message, tag = "13")]
        OutputData(crate::core::LiteralMap),
    }
}

/// Where the platform placed an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SystemMetadata {
    /// Cluster the execution runs on.
    #[prost(string, tag = "1")]
    pub execution_cluster: String,
    /// Kubernetes namespace of the execution.
    #[prost(string, tag = "2")]
    pub namespace: String,
}

/// How and by whom an execution was started.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionMetadata {
    /// What started the execution.
    #[prost(enumeration = "execution_metadata::ExecutionMode", tag = "1")]
    pub mode: i32,
    /// User or service that started the execution.
    #[prost(string, tag = "2")]
    pub principal: String,
    /// Depth of nesting: 0 for a top-level execution, one more for each parent.
    #[prost(uint32, tag = "3")]
    pub nesting: u32,
    /// Firing time of the schedule, for scheduled executions.
    #[prost(message, optional, tag = "4")]
    pub scheduled_at: Option<::prost_types::Timestamp>,
    /// The parent node, for executions started by another workflow.
    #[prost(message, optional, tag = "5")]
    pub parent_node_execution: Option<crate::core::NodeExecutionIdentifier>,
    /// The original execution, for relaunches and recoveries.
    #[prost(message, optional, tag = "16")]
    pub reference_execution: Option<crate::core::WorkflowExecutionIdentifier>,
    /// Placement chosen by the platform.
    #[prost(message, optional, tag = "17")]
    pub system_metadata: Option<SystemMetadata>,
    /// Artifacts that triggered the execution.
    #[prost(message, repeated, tag = "18")]
    pub artifact_ids: Vec<crate::core::ArtifactId>,
}

/// Types nested in [`ExecutionMetadata`].
pub mod execution_metadata {
    /// What started an execution.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum ExecutionMode {
        /// Started by a user.
        Manual = 0,
        /// Started by a schedule.
        Scheduled = 1,
        /// Started by the platform.
        System = 2,
        /// Relaunch of an earlier execution.
        Relaunch = 3,
        /// Started by a parent workflow's launch plan node.
        ChildWorkflow = 4,
        /// Recovery of a failed execution.
        Recovered = 5,
        /// Started by an artifact trigger.
        Trigger = 6,
    }

    impl ExecutionMode {
        /// The value's name as written in the proto definition.
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Manual => "MANUAL",
                Self::Scheduled => "SCHEDULED",
                Self::System => "SYSTEM",
                Self::Relaunch => "RELAUNCH",
                Self::ChildWorkflow => "CHILD_WORKFLOW",
                Self::Recovered => "RECOVERED",
                Self::Trigger => "TRIGGER",
            }
        }

        /// Looks a value up by its proto name; `None` for an unknown name.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "MANUAL" => Some(Self::Manual),
                "SCHEDULED" => Some(Self::Scheduled),
                "SYSTEM" => Some(Self::System),
                "RELAUNCH" => Some(Self::Relaunch),
                "CHILD_WORKFLOW" => Some(Self::ChildWorkflow),
                "RECOVERED" => Some(Self::Recovered),
                "TRIGGER" => Some(Self::Trigger),
                _ => None,
            }
        }
    }
}

/// A list of notifications.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NotificationList {
    /// The notifications.
    #[prost(message, repeated, tag = "1")]
    pub notifications: Vec<Notification>,
}

/// What to run and with which settings; the user-provided part of an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionSpec {
    /// Launch plan (or task, for single-task runs) to execute.
    #[prost(message, optional, tag = "1")]
    pub launch_plan: Option<crate::core::Identifier>,
    /// Deprecated inputs; set them on the create request.
    #[prost(message, optional, tag = "2")]
    pub inputs: Option<crate::core::LiteralMap>,
    /// How and by whom the execution is started.
    #[prost(message, optional, tag = "3")]
    pub metadata: Option<ExecutionMetadata>,
    /// Replaces the launch plan's notifications.
    #[prost(oneof = "execution_spec::NotificationOverrides", tags = "5, 6")]
    pub notification_overrides: Option<execution_spec::NotificationOverrides>,
    /// Labels added to the execution's resources (overrides the launch plan's).
    #[prost(message, optional, tag = "7")]
    pub labels: Option<Labels>,
    /// Annotations added to the execution's resources (overrides the launch plan's).
    #[prost(message, optional, tag = "8")]
    pub annotations: Option<Annotations>,
    /// Identity (IAM role, Kubernetes service account, secrets, tokens) the execution runs with.
    #[prost(message, optional, tag = "10")]
    pub security_context: Option<crate::core::SecurityContext>,
    /// Deprecated: IAM role or service account to run as; use `security_context` instead.
    #[prost(message, optional, tag = "16")]
    pub auth_role: Option<AuthRole>,
    /// Priority tier or explicit queueing budget for the execution.
    #[prost(message, optional, tag = "17")]
    pub quality_of_service: Option<crate::core::QualityOfService>,
    /// Upper bound on how many nodes of an execution may run at once; 0 means the platform default.
    #[prost(int32, tag = "18")]
    pub max_parallelism: i32,
    /// Where offloaded data (files, directories, data frames) is written.
    #[prost(message, optional, tag = "19")]
    pub raw_output_data_config: Option<RawOutputDataConfig>,
    /// Cluster pool to schedule the execution onto.
    #[prost(message, optional, tag = "20")]
    pub cluster_assignment: Option<ClusterAssignment>,
    /// Overrides whether tasks may run on interruptible (spot/preemptible) machines; unset keeps each task's own setting.
    #[prost(message, optional, tag = "21")]
    pub interruptible: Option<bool>,
    /// When true, cached outputs are ignored and recomputed, and the cache is refreshed with the new results.
    #[prost(bool, tag = "22")]
    pub overwrite_cache: bool,
    /// Environment variables set in every task container of the execution.
    #[prost(message, optional, tag = "23")]
    pub envs: Option<Envs>,
    /// Free-form tags on the execution.
    #[prost(string, repeated, tag = "24")]
    pub tags: Vec<String>,
    /// Cluster label selecting where the execution runs.
    #[prost(message, optional, tag = "25")]
    pub execution_cluster_label: Option<ExecutionClusterLabel>,
    /// Execution environments assigned to nodes of the workflow.
    #[prost(message, repeated, tag = "26")]
    pub execution_env_assignments: Vec<crate::core::ExecutionEnvAssignment>,
}

/// Types nested in [`ExecutionSpec`].
pub mod execution_spec {
    /// Replaces the launch plan's notifications.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum NotificationOverrides {
        /// Send these notifications instead of the launch plan's.
        #[prost(message, tag = "5")]
        Notifications(super::NotificationList),
        /// Send no notifications at all.
        #[prost(bool, tag = "6")]
        DisableAll(bool),
    }
}

/// Aborts a running execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionTerminateRequest {
    /// The execution to abort.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::WorkflowExecutionIdentifier>,
    /// Reason recorded with the abort.
    #[prost(string, tag = "2")]
    pub cause: String,
}

/// Empty reply to an [`ExecutionTerminateRequest`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionTerminateResponse {}

/// Fetches the inputs and outputs of an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowExecutionGetDataRequest {
    /// The execution whose data is fetched.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::WorkflowExecutionIdentifier>,
}

/// Inputs and outputs of an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowExecutionGetDataResponse {
    /// Deprecated location of the outputs.
    #[prost(message, optional, tag = "1")]
    pub outputs: Option<UrlBlob>,
    /// Deprecated location of the inputs.
    #[prost(message, optional, tag = "2")]
    pub inputs: Option<UrlBlob>,
    /// The inputs inline.
    #[prost(message, optional, tag = "3")]
    pub full_inputs: Option<crate::core::LiteralMap>,
    /// The outputs inline.
    #[prost(message, optional, tag = "4")]
    pub full_outputs: Option<crate::core::LiteralMap>,
}

/// Changes the archive state of an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionUpdateRequest {
    /// The execution to update.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::WorkflowExecutionIdentifier>,
    /// The new state.
    #[prost(enumeration = "ExecutionState", tag = "2")]
    pub state: i32,
}

/// Record of a change of an execution's archive state.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionStateChangeDetails {
    /// The state the execution changed to.
    #[prost(enumeration = "ExecutionState", tag = "1")]
    pub state: i32,
    /// When the change happened.
    #[prost(message, optional, tag = "2")]
    pub occurred_at: Option<::prost_types::Timestamp>,
    /// Who made the change.
    #[prost(string, tag = "3")]
    pub principal: String,
}

/// Empty reply to an [`ExecutionUpdateRequest`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionUpdateResponse {}

/// Fetches timing spans of an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowExecutionGetMetricsRequest {
    /// The execution to inspect.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::WorkflowExecutionIdentifier>,
    /// How many levels of nested nodes to include.
    #[prost(int32, tag = "2")]
    pub depth: i32,
}

/// Timing spans of an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowExecutionGetMetricsResponse {
    /// Root span covering the whole execution.
    #[prost(message, optional, tag = "1")]
    pub span: Option<crate::core::Span>,
}

/// Archive state of an execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum ExecutionState {
    /// Shown in default listings.
    ExecutionActive = 0,
    /// Hidden from default listings.
    ExecutionArchived = 1,
}

impl ExecutionState {
    /// The value's name as written in the proto definition.
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::ExecutionActive => "EXECUTION_ACTIVE",
            Self::ExecutionArchived => "EXECUTION_ARCHIVED",
        }
    }

    /// Looks a value up by its proto name; `None` for an unknown name.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "EXECUTION_ACTIVE" => Some(Self::ExecutionActive),
            "EXECUTION_ARCHIVED" => Some(Self::ExecutionArchived),
            _ => None,
        }
    }
}

impl_name! {
    ExecutionCreateRequest => "ExecutionCreateRequest",
    ExecutionRelaunchRequest => "ExecutionRelaunchRequest",
    ExecutionRecoverRequest => "ExecutionRecoverRequest",
    ExecutionCreateResponse => "ExecutionCreateResponse",
    WorkflowExecutionGetRequest => "WorkflowExecutionGetRequest",
    Execution => "Execution",
    ExecutionList => "ExecutionList",
    LiteralMapBlob => "LiteralMapBlob",
    AbortMetadata => "AbortMetadata",
    ExecutionClosure => "ExecutionClosure",
    SystemMetadata => "SystemMetadata",
    ExecutionMetadata => "ExecutionMetadata",
    NotificationList => "NotificationList",
    ExecutionSpec => "ExecutionSpec",
    ExecutionTerminateRequest => "ExecutionTerminateRequest",
    ExecutionTerminateResponse => "ExecutionTerminateResponse",
    WorkflowExecutionGetDataRequest => "WorkflowExecutionGetDataRequest",
    WorkflowExecutionGetDataResponse => "WorkflowExecutionGetDataResponse",
    ExecutionUpdateRequest => "ExecutionUpdateRequest",
    ExecutionStateChangeDetails => "ExecutionStateChangeDetails",
    ExecutionUpdateResponse => "ExecutionUpdateResponse",
    WorkflowExecutionGetMetricsRequest => "WorkflowExecutionGetMetricsRequest",
    WorkflowExecutionGetMetricsResponse => "WorkflowExecutionGetMetricsResponse",
}
