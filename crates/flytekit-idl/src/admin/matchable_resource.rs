//! Settings FlyteAdmin resolves per project, domain, workflow or launch plan
//! (`flyteidl/admin/matchable_resource.proto`).

use super::{Annotations, ClusterAssignment, Envs, Labels, RawOutputDataConfig};

/// Resource quantities for task containers, as Kubernetes quantity strings.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskResourceSpec {
    /// CPU, for example `500m`.
    #[prost(string, tag = "1")]
    pub cpu: String,
    /// Number of GPUs.
    #[prost(string, tag = "2")]
    pub gpu: String,
    /// Memory, for example `1Gi`.
    #[prost(string, tag = "3")]
    pub memory: String,
    /// Persistent storage.
    #[prost(string, tag = "4")]
    pub storage: String,
    /// Ephemeral (scratch) storage.
    #[prost(string, tag = "5")]
    pub ephemeral_storage: String,
}

/// Default and maximum task resources for a project, domain or workflow.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskResourceAttributes {
    /// Applied when a task requests nothing.
    #[prost(message, optional, tag = "1")]
    pub defaults: Option<TaskResourceSpec>,
    /// Upper bounds a task may request.
    #[prost(message, optional, tag = "2")]
    pub limits: Option<TaskResourceSpec>,
}

/// Values substituted into the templates of per-namespace cluster resources.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ClusterResourceAttributes {
    /// Template variable names mapped to their values.
    #[prost(btree_map = "string, string", tag = "1")]
    pub attributes: ::std::collections::BTreeMap<String, String>,
}

/// Tags selecting the execution queue.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionQueueAttributes {
    /// Queue tags to match.
    #[prost(string, repeated, tag = "1")]
    pub tags: Vec<String>,
}

/// Label selecting the cluster an execution runs on.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionClusterLabel {
    /// The cluster label.
    #[prost(string, tag = "1")]
    pub value: String,
}

/// Chooses which backend plugin handles a task type.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PluginOverride {
    /// Task type the override applies to.
    #[prost(string, tag = "1")]
    pub task_type: String,
    /// Plugins to try, in order of preference.
    #[prost(string, repeated, tag = "2")]
    pub plugin_id: Vec<String>,
    /// What to do when none of the plugins is available.
    #[prost(enumeration = "plugin_override::MissingPluginBehavior", tag = "4")]
    pub missing_plugin_behavior: i32,
}

/// Types nested in [`PluginOverride`].
pub mod plugin_override {
    /// Fallback when no listed plugin can be found.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum MissingPluginBehavior {
        /// Fail the task.
        Fail = 0,
        /// Use the default plugin for the task type.
        UseDefault = 1,
    }

    impl MissingPluginBehavior {
        /// The value's name as written in the proto definition.
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Fail => "FAIL",
                Self::UseDefault => "USE_DEFAULT",
            }
        }

        /// Looks a value up by its proto name; `None` for an unknown name.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "FAIL" => Some(Self::Fail),
                "USE_DEFAULT" => Some(Self::UseDefault),
                _ => None,
            }
        }
    }
}

/// A set of plugin overrides.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PluginOverrides {
    /// The overrides, one per task type.
    #[prost(message, repeated, tag = "1")]
    pub overrides: Vec<PluginOverride>,
}

/// Execution defaults that can be set per project, domain, workflow or launch plan.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowExecutionConfig {
    /// Upper bound on how many nodes of an execution may run at once; 0 means the platform default.
    #[prost(int32, tag = "1")]
    pub max_parallelism: i32,
    /// Identity (IAM role, Kubernetes service account, secrets, tokens) the execution runs with.
    #[prost(message, optional, tag = "2")]
    pub security_context: Option<crate::core::SecurityContext>,
    /// Where offloaded data (files, directories, data frames) is written.
    #[prost(message, optional, tag = "3")]
    pub raw_output_data_config: Option<RawOutputDataConfig>,
    /// Labels added to the execution's resources.
    #[prost(message, optional, tag = "4")]
    pub labels: Option<Labels>,
    /// Annotations added to the execution's resources.
    #[prost(message, optional, tag = "5")]
    pub annotations: Option<Annotations>,
    /// Overrides whether tasks may run on interruptible (spot/preemptible) machines; unset keeps each task's own setting.
    #[prost(message, optional, tag = "6")]
    pub interruptible: Option<bool>,
    /// When true, cached outputs are ignored and recomputed, and the cache is refreshed with the new results.
    #[prost(bool, tag = "7")]
    pub overwrite_cache: bool,
    /// Environment variables set in every task container of the execution.
    #[prost(message, optional, tag = "8")]
    pub envs: Option<Envs>,
    /// Execution environments assigned to nodes of the workflow.
    #[prost(message, repeated, tag = "9")]
    pub execution_env_assignments: Vec<crate::core::ExecutionEnvAssignment>,
}

/// One kind of configurable setting, chosen by the `target` oneof.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct MatchingAttributes {
    /// The setting carried by this value.
    #[prost(oneof = "matching_attributes::Target", tags = "1, 2, 3, 4, 5, 6, 7, 8")]
    pub target: Option<matching_attributes::Target>,
}

/// Types nested in [`MatchingAttributes`].
pub mod matching_attributes {
    /// The setting carried by this value.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Target {
        /// Task resource defaults and limits.
        #[prost(message, tag = "1")]
        TaskResourceAttributes(super::TaskResourceAttributes),
        /// Cluster resource template values.
        #[prost(message, tag = "2")]
        ClusterResourceAttributes(super::ClusterResourceAttributes),
        /// Execution queue selection.
        #[prost(message, tag = "3")]
        ExecutionQueueAttributes(super::ExecutionQueueAttributes),
        /// Execution cluster selection.
        #[prost(message, tag = "4")]
        ExecutionClusterLabel(super::ExecutionClusterLabel),
        /// Default quality of service.
        #[prost(message, tag = "5")]
        QualityOfService(crate::core::QualityOfService),
        /// Plugin selection per task type.
        #[prost(message, tag = "6")]
        PluginOverrides(super::PluginOverrides),
        /// Execution defaults.
        #[prost(message, tag = "7")]
        WorkflowExecutionConfig(super::WorkflowExecutionConfig),
        /// Cluster pool selection.
        #[prost(message, tag = "8")]
        ClusterAssignment(super::ClusterAssignment),
    }
}

/// A setting together with the scope (project, domain, workflow, launch plan) it applies to.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct MatchableAttributesConfiguration {
    /// The setting.
    #[prost(message, optional, tag = "1")]
    pub attributes: Option<MatchingAttributes>,
    /// Domain the setting applies to.
    #[prost(string, tag = "2")]
    pub domain: String,
    /// Project the setting applies to.
    #[prost(string, tag = "3")]
    pub project: String,
    /// Workflow the setting applies to; empty for all.
    #[prost(string, tag = "4")]
    pub workflow: String,
    /// Launch plan the setting applies to; empty for all.
    #[prost(string, tag = "5")]
    pub launch_plan: String,
    /// Organization owning the project; empty outside multi-tenant deployments.
    #[prost(string, tag = "6")]
    pub org: String,
}

/// Lists every configured value of one kind of setting.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ListMatchableAttributesRequest {
    /// Kind of setting to list.
    #[prost(enumeration = "MatchableResource", tag = "1")]
    pub resource_type: i32,
    /// Organization owning the project; empty outside multi-tenant deployments.
    #[prost(string, tag = "2")]
    pub org: String,
}

/// The configured values of one kind of setting.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ListMatchableAttributesResponse {
    /// Each value with its scope.
    #[prost(message, repeated, tag = "1")]
    pub configurations: Vec<MatchableAttributesConfiguration>,
}

/// Kinds of settings FlyteAdmin resolves per scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum MatchableResource {
    /// Task resource defaults and limits.
    TaskResource = 0,
    /// Cluster resource template values.
    ClusterResource = 1,
    /// Execution queue tags.
    ExecutionQueue = 2,
    /// Execution cluster label.
    ExecutionClusterLabel = 3,
    /// Quality of service.
    QualityOfServiceSpecification = 4,
    /// Plugin overrides.
    PluginOverride = 5,
    /// Workflow execution defaults.
    WorkflowExecutionConfig = 6,
    /// Cluster pool assignment.
    ClusterAssignment = 7,
}

impl MatchableResource {
    /// The value's name as written in the proto definition.
    pub fn as_str_name(&self) -> &'static str {
        match self {
            Self::TaskResource => "TASK_RESOURCE",
            Self::ClusterResource => "CLUSTER_RESOURCE",
            Self::ExecutionQueue => "EXECUTION_QUEUE",
            Self::ExecutionClusterLabel => "EXECUTION_CLUSTER_LABEL",
            Self::QualityOfServiceSpecification => "QUALITY_OF_SERVICE_SPECIFICATION",
            Self::PluginOverride => "PLUGIN_OVERRIDE",
            Self::WorkflowExecutionConfig => "WORKFLOW_EXECUTION_CONFIG",
            Self::ClusterAssignment => "CLUSTER_ASSIGNMENT",
        }
    }

    /// Looks a value up by its proto name; `None` for an unknown name.
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "TASK_RESOURCE" => Some(Self::TaskResource),
            "CLUSTER_RESOURCE" => Some(Self::ClusterResource),
            "EXECUTION_QUEUE" => Some(Self::ExecutionQueue),
            "EXECUTION_CLUSTER_LABEL" => Some(Self::ExecutionClusterLabel),
            "QUALITY_OF_SERVICE_SPECIFICATION" => Some(Self::QualityOfServiceSpecification),
            "PLUGIN_OVERRIDE" => Some(Self::PluginOverride),
            "WORKFLOW_EXECUTION_CONFIG" => Some(Self::WorkflowExecutionConfig),
            "CLUSTER_ASSIGNMENT" => Some(Self::ClusterAssignment),
            _ => None,
        }
    }
}

impl_name! {
    TaskResourceSpec => "TaskResourceSpec",
    TaskResourceAttributes => "TaskResourceAttributes",
    ClusterResourceAttributes => "ClusterResourceAttributes",
    ExecutionQueueAttributes => "ExecutionQueueAttributes",
    ExecutionClusterLabel => "ExecutionClusterLabel",
    PluginOverride => "PluginOverride",
    PluginOverrides => "PluginOverrides",
    WorkflowExecutionConfig => "WorkflowExecutionConfig",
    MatchingAttributes => "MatchingAttributes",
    MatchableAttributesConfiguration => "MatchableAttributesConfiguration",
    ListMatchableAttributesRequest => "ListMatchableAttributesRequest",
    ListMatchableAttributesResponse => "ListMatchableAttributesResponse",
}
