//! `flyteidl/core/execution.proto`: execution phases, errors, task logs and quality of service.

/// Namespace for the phases of a workflow execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowExecution {}
/// Nested types of [`WorkflowExecution`].
pub mod workflow_execution {
    /// Lifecycle phase of a workflow execution.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Phase {
        /// Not set.
        Undefined = 0,
        /// Accepted, not started yet.
        Queued = 1,
        /// Running.
        Running = 2,
        /// All nodes are done; outputs are being finalized.
        Succeeding = 3,
        /// Finished successfully.
        Succeeded = 4,
        /// A node failed; the failure node or cleanup is running.
        Failing = 5,
        /// Finished with a failure.
        Failed = 6,
        /// Stopped by a user or the system.
        Aborted = 7,
        /// Exceeded its time limit.
        TimedOut = 8,
        /// An abort was requested and is in progress.
        Aborting = 9,
    }
    impl Phase {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Undefined => "UNDEFINED",
                Self::Queued => "QUEUED",
                Self::Running => "RUNNING",
                Self::Succeeding => "SUCCEEDING",
                Self::Succeeded => "SUCCEEDED",
                Self::Failing => "FAILING",
                Self::Failed => "FAILED",
                Self::Aborted => "ABORTED",
                Self::TimedOut => "TIMED_OUT",
                Self::Aborting => "ABORTING",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "UNDEFINED" => Some(Self::Undefined),
                "QUEUED" => Some(Self::Queued),
                "RUNNING" => Some(Self::Running),
                "SUCCEEDING" => Some(Self::Succeeding),
                "SUCCEEDED" => Some(Self::Succeeded),
                "FAILING" => Some(Self::Failing),
                "FAILED" => Some(Self::Failed),
                "ABORTED" => Some(Self::Aborted),
                "TIMED_OUT" => Some(Self::TimedOut),
                "ABORTING" => Some(Self::Aborting),
                _ => None,
            }
        }
    }
}

/// Namespace for the phases of a node execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeExecution {}
/// Nested types of [`NodeExecution`].
pub mod node_execution {
    /// Lifecycle phase of a node execution.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Phase {
        /// Not set.
        Undefined = 0,
        /// Ready, waiting to start.
        Queued = 1,
        /// Running.
        Running = 2,
        /// Finished successfully.
        Succeeded = 3,
        /// Failed; cleanup is in progress.
        Failing = 4,
        /// Finished with a failure.
        Failed = 5,
        /// Stopped.
        Aborted = 6,
        /// Not run, e.g. a branch that was not taken.
        Skipped = 7,
        /// Exceeded its time limit.
        TimedOut = 8,
        /// A dynamic task finished and the sub-graph it produced is running.
        DynamicRunning = 9,
        /// Outputs were taken from a previous execution (recovery mode) instead of running.
        Recovered = 10,
    }
    impl Phase {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Undefined => "UNDEFINED",
                Self::Queued => "QUEUED",
                Self::Running => "RUNNING",
                Self::Succeeded => "SUCCEEDED",
                Self::Failing => "FAILING",
                Self::Failed => "FAILED",
                Self::Aborted => "ABORTED",
                Self::Skipped => "SKIPPED",
                Self::TimedOut => "TIMED_OUT",
                Self::DynamicRunning => "DYNAMIC_RUNNING",
                Self::Recovered => "RECOVERED",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "UNDEFINED" => Some(Self::Undefined),
                "QUEUED" => Some(Self::Queued),
                "RUNNING" => Some(Self::Running),
                "SUCCEEDED" => Some(Self::Succeeded),
                "FAILING" => Some(Self::Failing),
                "FAILED" => Some(Self::Failed),
                "ABORTED" => Some(Self::Aborted),
                "SKIPPED" => Some(Self::Skipped),
                "TIMED_OUT" => Some(Self::TimedOut),
                "DYNAMIC_RUNNING" => Some(Self::DynamicRunning),
                "RECOVERED" => Some(Self::Recovered),
                _ => None,
            }
        }
    }
}

/// Namespace for the phases of a task execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskExecution {}
/// Nested types of [`TaskExecution`].
pub mod task_execution {
    /// Lifecycle phase of one task attempt.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Phase {
        /// Not set.
        Undefined = 0,
        /// Submitted, not started.
        Queued = 1,
        /// Running.
        Running = 2,
        /// Finished successfully.
        Succeeded = 3,
        /// Stopped.
        Aborted = 4,
        /// Finished with a failure.
        Failed = 5,
        /// Being set up (e.g. pulling the image).
        Initializing = 6,
        /// Waiting for quota or cluster capacity.
        WaitingForResources = 7,
        /// This attempt failed and another attempt will follow.
        RetryableFailed = 8,
    }
    impl Phase {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Undefined => "UNDEFINED",
                Self::Queued => "QUEUED",
                Self::Running => "RUNNING",
                Self::Succeeded => "SUCCEEDED",
                Self::Aborted => "ABORTED",
                Self::Failed => "FAILED",
                Self::Initializing => "INITIALIZING",
                Self::WaitingForResources => "WAITING_FOR_RESOURCES",
                Self::RetryableFailed => "RETRYABLE_FAILED",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "UNDEFINED" => Some(Self::Undefined),
                "QUEUED" => Some(Self::Queued),
                "RUNNING" => Some(Self::Running),
                "SUCCEEDED" => Some(Self::Succeeded),
                "ABORTED" => Some(Self::Aborted),
                "FAILED" => Some(Self::Failed),
                "INITIALIZING" => Some(Self::Initializing),
                "WAITING_FOR_RESOURCES" => Some(Self::WaitingForResources),
                "RETRYABLE_FAILED" => Some(Self::RetryableFailed),
                _ => None,
            }
        }
    }
}

/// An error of a workflow, node or task execution, as reported by the platform.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionError {
    /// Short machine-readable error code.
    #[prost(string, tag = "1")]
    pub code: String,
    /// Human-readable message, possibly truncated.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Location of the full error document, if any.
    #[prost(string, tag = "3")]
    pub error_uri: String,
    /// Whether the user or the system caused the error.
    #[prost(enumeration = "execution_error::ErrorKind", tag = "4")]
    pub kind: i32,
    /// When the error happened.
    #[prost(message, optional, tag = "5")]
    pub timestamp: Option<::prost_types::Timestamp>,
    /// Worker (e.g. pod or rank) that reported the error, for distributed tasks.
    #[prost(string, tag = "6")]
    pub worker: String,
}
/// Nested types of [`ExecutionError`].
pub mod execution_error {
    /// Who is responsible for an execution error.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum ErrorKind {
        /// Not known.
        Unknown = 0,
        /// The user's code or inputs.
        User = 1,
        /// The platform or infrastructure.
        System = 2,
    }
    impl ErrorKind {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Unknown => "UNKNOWN",
                Self::User => "USER",
                Self::System => "SYSTEM",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "UNKNOWN" => Some(Self::Unknown),
                "USER" => Some(Self::User),
                "SYSTEM" => Some(Self::System),
                _ => None,
            }
        }
    }
}

/// A link to the logs of a task execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskLog {
    /// URL of the logs.
    #[prost(string, tag = "1")]
    pub uri: String,
    /// Display name of the link.
    #[prost(string, tag = "2")]
    pub name: String,
    /// Format of the log lines.
    #[prost(enumeration = "task_log::MessageFormat", tag = "3")]
    pub message_format: i32,
    /// How long the link stays valid.
    #[prost(message, optional, tag = "4")]
    pub ttl: Option<::prost_types::Duration>,
    /// Show the link while the task is still pending.
    #[prost(bool, tag = "5")]
    pub show_while_pending: bool,
    /// Hide the link once the task has finished.
    #[prost(bool, tag = "6")]
    pub hide_once_finished: bool,
}
/// Nested types of [`TaskLog`].
pub mod task_log {
    /// Formats of task log lines.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum MessageFormat {
        /// Not known.
        Unknown = 0,
        /// Comma-separated values.
        Csv = 1,
        /// JSON.
        Json = 2,
    }
    impl MessageFormat {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Unknown => "UNKNOWN",
                Self::Csv => "CSV",
                Self::Json => "JSON",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "UNKNOWN" => Some(Self::Unknown),
                "CSV" => Some(Self::Csv),
                "JSON" => Some(Self::Json),
                _ => None,
            }
        }
    }
}

/// The pods and containers of a task execution, so log links can be built for them.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LogContext {
    /// The pods.
    #[prost(message, repeated, tag = "1")]
    pub pods: Vec<PodLogContext>,
    /// Name of the pod whose result decides the task's outcome.
    #[prost(string, tag = "2")]
    pub primary_pod_name: String,
}

/// Log context of one pod.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PodLogContext {
    /// Kubernetes namespace of the pod.
    #[prost(string, tag = "1")]
    pub namespace: String,
    /// Pod name.
    #[prost(string, tag = "2")]
    pub pod_name: String,
    /// The pod's containers.
    #[prost(message, repeated, tag = "3")]
    pub containers: Vec<ContainerContext>,
    /// Name of the container whose result decides the task's outcome.
    #[prost(string, tag = "4")]
    pub primary_container_name: String,
    /// The pod's init containers.
    #[prost(message, repeated, tag = "5")]
    pub init_containers: Vec<ContainerContext>,
}

/// Log context of one container.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ContainerContext {
    /// Container name.
    #[prost(string, tag = "1")]
    pub container_name: String,
    /// Start and end time of the container's process.
    #[prost(message, optional, tag = "2")]
    pub process: Option<container_context::ProcessContext>,
}
/// Nested types of [`ContainerContext`].
pub mod container_context {
    /// When a container's process ran.
    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct ProcessContext {
        /// When the process started.
        #[prost(message, optional, tag = "1")]
        pub container_start_time: Option<::prost_types::Timestamp>,
        /// When the process ended, if it has.
        #[prost(message, optional, tag = "2")]
        pub container_end_time: Option<::prost_types::Timestamp>,
    }
}

/// Explicit quality-of-service settings.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct QualityOfServiceSpec {
    /// How long the execution may wait in a queue before it must start.
    #[prost(message, optional, tag = "1")]
    pub queueing_budget: Option<::prost_types::Duration>,
}

/// Scheduling priority of an execution: a named tier or an explicit spec.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct QualityOfService {
    /// The tier or spec.
    #[prost(oneof = "quality_of_service::Designation", tags = "1, 2")]
    pub designation: Option<quality_of_service::Designation>,
}
/// Nested types of [`QualityOfService`].
pub mod quality_of_service {
    /// Predefined quality-of-service tiers.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Tier {
        /// Not set; the platform default applies.
        Undefined = 0,
        /// High priority.
        High = 1,
        /// Medium priority.
        Medium = 2,
        /// Low priority.
        Low = 3,
    }
    impl Tier {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::Undefined => "UNDEFINED",
                Self::High => "HIGH",
                Self::Medium => "MEDIUM",
                Self::Low => "LOW",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "UNDEFINED" => Some(Self::Undefined),
                "HIGH" => Some(Self::High),
                "MEDIUM" => Some(Self::Medium),
                "LOW" => Some(Self::Low),
                _ => None,
            }
        }
    }

    /// The tier or spec.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Designation {
        /// A predefined tier.
        #[prost(enumeration = "Tier", tag = "1")]
        Tier(i32),
        /// Explicit settings.
        #[prost(message, tag = "2")]
        Spec(super::QualityOfServiceSpec),
    }
}

impl_name! {
    WorkflowExecution => "WorkflowExecution",
    NodeExecution => "NodeExecution",
    TaskExecution => "TaskExecution",
    ExecutionError => "ExecutionError",
    TaskLog => "TaskLog",
    LogContext => "LogContext",
    PodLogContext => "PodLogContext",
    ContainerContext => "ContainerContext",
    container_context::ProcessContext => "ContainerContext.ProcessContext",
    QualityOfServiceSpec => "QualityOfServiceSpec",
    QualityOfService => "QualityOfService",
}
