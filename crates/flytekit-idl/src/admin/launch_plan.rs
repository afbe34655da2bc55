//! Launch plans: registration, activation and listing (`flyteidl/admin/launch_plan.proto`).

use super::{
    Annotations, AuthRole, ClusterAssignment, Envs, Labels, NamedEntityIdentifier, Notification,
    RawOutputDataConfig, Schedule, Sort,
};

/// Registers a launch plan version with FlyteAdmin.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LaunchPlanCreateRequest {
    /// Identifier of the new launch plan version.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
    /// The launch plan to register.
    #[prost(message, optional, tag = "2")]
    pub spec: Option<LaunchPlanSpec>,
}

/// Empty reply to a successful [`LaunchPlanCreateRequest`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LaunchPlanCreateResponse {}

/// A registered launch plan version: a workflow bound to inputs, schedule and execution settings.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LaunchPlan {
    /// Identifier of the launch plan version.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
    /// What was registered.
    #[prost(message, optional, tag = "2")]
    pub spec: Option<LaunchPlanSpec>,
    /// State and interface FlyteAdmin derived.
    #[prost(message, optional, tag = "3")]
    pub closure: Option<LaunchPlanClosure>,
}

/// One page of launch plans.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LaunchPlanList {
    /// Launch plans on this page.
    #[prost(message, repeated, tag = "1")]
    pub launch_plans: Vec<LaunchPlan>,
    /// Cursor for the next page; empty when this is the last page.
    #[prost(string, tag = "2")]
    pub token: String,
}

/// Deprecated identity settings of a launch plan; superseded by `flyteidl.core.SecurityContext`.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Auth {
    /// IAM role the tasks assume.
    #[prost(string, tag = "1")]
    pub assumable_iam_role: String,
    /// Kubernetes service account the pods run under.
    #[prost(string, tag = "2")]
    pub kubernetes_service_account: String,
}

/// What a user submits to register a launch plan.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LaunchPlanSpec {
    /// The workflow version this launch plan starts.
    #[prost(message, optional, tag = "1")]
    pub workflow_id: Option<crate::core::Identifier>,
    /// Schedule and notifications.
    #[prost(message, optional, tag = "2")]
    pub entity_metadata: Option<LaunchPlanMetadata>,
    /// Workflow inputs with defaults that callers may override.
    #[prost(message, optional, tag = "3")]
    pub default_inputs: Option<crate::core::ParameterMap>,
    /// Workflow inputs bound to values callers cannot change.
    #[prost(message, optional, tag = "4")]
    pub fixed_inputs: Option<crate::core::LiteralMap>,
    /// Deprecated IAM role; use `security_context`.
    #[prost(string, tag = "5")]
    pub role: String,
    /// Kubernetes labels to put on the resources of an execution.
    #[prost(message, optional, tag = "6")]
    pub labels: Option<Labels>,
    /// Kubernetes annotations to put on the resources of an execution.
    #[prost(message, optional, tag = "7")]
    pub annotations: Option<Annotations>,
    /// Deprecated identity settings; use `security_context`.
    #[prost(message, optional, tag = "8")]
    pub auth: Option<Auth>,
    /// Deprecated: IAM role or service account to run as; use `security_context` instead.
    #[prost(message, optional, tag = "9")]
    pub auth_role: Option<AuthRole>,
    /// Identity (IAM role, Kubernetes service account, secrets, tokens) the execution runs with.
    #[prost(message, optional, tag = "10")]
    pub security_context: Option<crate::core::SecurityContext>,
    /// Priority tier or explicit queueing budget for the execution.
    #[prost(message, optional, tag = "16")]
    pub quality_of_service: Option<crate::core::QualityOfService>,
    /// Where offloaded data (files, directories, data frames) is written.
    #[prost(message, optional, tag = "17")]
    pub raw_output_data_config: Option<RawOutputDataConfig>,
    /// Upper bound on how many nodes of an execution may run at once; 0 means the platform default.
    #[prost(int32, tag = "18")]
    pub max_parallelism: i32,
    /// Overrides whether tasks may run on interruptible (spot/preemptible) machines; unset keeps each task's own setting.
    #[prost(message, optional, tag = "19")]
    pub interruptible: Option<bool>,
    /// When true, cached outputs are ignored and recomputed, and the cache is refreshed with the new results.
    #[prost(bool, tag = "20")]
    pub overwrite_cache: bool,
    /// Environment variables set in every task container of the execution.
    #[prost(message, optional, tag = "21")]
    pub envs: Option<Envs>,
    /// Execution environments assigned to nodes of the workflow.
    #[prost(message, repeated, tag = "22")]
    pub execution_env_assignments: Vec<crate::core::ExecutionEnvAssignment>,
    /// Cluster pool to schedule the execution onto.
    #[prost(message, optional, tag = "23")]
    pub cluster_assignment: Option<ClusterAssignment>,
    /// Limit on concurrently running executions of this launch plan.
    #[prost(message, optional, tag = "24")]
    pub concurrency_policy: Option<ConcurrencyPolicy>,
}

/// Caps how many executions of a launch plan may run at the same time.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ConcurrencyPolicy {
    /// Maximum number of concurrent executions.
    #[prost(int32, tag = "1")]
    pub max: i32,
    /// What happens to a new execution once the limit is reached.
    #[prost(enumeration = "ConcurrencyLimitBehavior", tag = "2")]
    pub behavior: i32,
}

/// What FlyteAdmin derives and tracks for a launch plan.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LaunchPlanClosure {
    /// Whether the launch plan is active (its schedule runs).
    #[prost(enumeration = "LaunchPlanState", tag = "1")]
    pub state: i32,
    /// Inputs a caller may or must provide.
    #[prost(message, optional, tag = "2")]
    pub expected_inputs: Option<crate::core::ParameterMap>,
    /// Outputs an execution produces.
    #[prost(message, optional, tag = "3")]
    pub expected_outputs: Option<crate::core::VariableMap>,
    /// When FlyteAdmin stored the entity.
    #[prost(message, optional, tag = "4")]
    pub created_at: Option<::prost_types::Timestamp>,
    /// When the entity was last modified.
    #[prost(message, optional, tag = "5")]
    pub updated_at: Option<::prost_types::Timestamp>,
}

/// Schedule and notification settings of a launch plan.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LaunchPlanMetadata {
    /// When the launch plan runs on its own.
    #[prost(message, optional, tag = "1")]
    pub schedule: Option<Schedule>,
    /// Notifications sent for its executions.
    #[prost(message, repeated, tag = "2")]
    pub notifications: Vec<Notification>,
    /// Extra conditions (for example artifact triggers) that start the launch plan.
    #[prost(message, optional, tag = "3")]
    pub launch_conditions: Option<::prost_types::Any>,
}

/// Activates or deactivates a launch plan version.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LaunchPlanUpdateRequest {
    /// The launch plan version to update.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::Identifier>,
    /// The new state.
    #[prost(enumeration = "LaunchPlanState", tag = "2")]
    pub state: i32,
}

/// Empty reply to a [`LaunchPlanUpdateRequest`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LaunchPlanUpdateResponse {}

/// Fetches the active version of a launch plan.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ActiveLaunchPlanRequest {
    /// Project, domain and name of the launch plan.
    #[prost(message, optional, tag = "1")]
    pub id: Option<NamedEntityIdentifier>,
}

/// Lists the active launch plans of a project and domain.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ActiveLaunchPlanListRequest {
    /// Project the entity belongs to.
    #[prost(string, tag = "1")]
    pub project: String,
    /// Domain within the project (for example `development` or `production`).
    #[prost(string, tag = "2")]
    pub domain: String,
    /// Maximum number of items to return in one page.
    #[prost(uint32, tag = "3")]
    pub limit: u32,
    /// Pagination cursor: empty on the first request, otherwise the token returned by the previous page.
    #[prost(string, tag = "4")]
    pub token: String,
    /// Ordering of the returned items.
    #[prost(message, optional, tag = "5")]
    pub sort_by: Option<Sort>,
    /// Organization owning the project; empty outside multi-tenant deployments.
    #[prost(string, tag = "6")]
    pub org: String,
}

/// Whether a launch plan version is active.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum LaunchPlanState {
    /// Inactive: its schedule does not run.
    Inactive = 0,
    /// Active: its schedule runs; at most one version per name is active.
    Active = 1,
}

impl LaunchPlanState {
    /// The value's name as written in the proto definition.
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::Inactive => "INACTIVE",
            Self::Active => "ACTIVE",
        }
    }

    /// Looks a value up by its proto name; `None` for an unknown name.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "INACTIVE" => Some(Self::Inactive),
            "ACTIVE" => Some(Self::Active),
            _ => None,
        }
    }
}

/// What to do with an execution that would exceed a [`ConcurrencyPolicy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum ConcurrencyLimitBehavior {
    /// Not specified.
    Unspecified = 0,
    /// Do not start the new execution.
    Skip = 1,
}

impl ConcurrencyLimitBehavior {
    /// The value's name as written in the proto definition.
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::Unspecified => "CONCURRENCY_LIMIT_BEHAVIOR_UNSPECIFIED",
            Self::Skip => "CONCURRENCY_LIMIT_BEHAVIOR_SKIP",
        }
    }

    /// Looks a value up by its proto name; `None` for an unknown name.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "CONCURRENCY_LIMIT_BEHAVIOR_UNSPECIFIED" => Some(Self::Unspecified),
            "CONCURRENCY_LIMIT_BEHAVIOR_SKIP" => Some(Self::Skip),
            _ => None,
        }
    }
}

impl_name! {
    LaunchPlanCreateRequest => "LaunchPlanCreateRequest",
    LaunchPlanCreateResponse => "LaunchPlanCreateResponse",
    LaunchPlan => "LaunchPlan",
    LaunchPlanList => "LaunchPlanList",
    Auth => "Auth",
    LaunchPlanSpec => "LaunchPlanSpec",
    ConcurrencyPolicy => "ConcurrencyPolicy",
    LaunchPlanClosure => "LaunchPlanClosure",
    LaunchPlanMetadata => "LaunchPlanMetadata",
    LaunchPlanUpdateRequest => "LaunchPlanUpdateRequest",
    LaunchPlanUpdateResponse => "LaunchPlanUpdateResponse",
    ActiveLaunchPlanRequest => "ActiveLaunchPlanRequest",
    ActiveLaunchPlanListRequest => "ActiveLaunchPlanListRequest",
}
