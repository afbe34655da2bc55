//! `flyteidl/core/workflow.proto`: workflow graphs, their node kinds and launch plan templates.

use super::{
    Binding, BooleanExpression, Error, ExtendedResources, Identifier, K8sPod, LiteralMap,
    LiteralType, QualityOfService, Resources, RetryStrategy, TypedInterface,
};

/// One `if` arm of a branch: a condition and the node to run when it holds.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct IfBlock {
    /// The condition to evaluate.
    #[prost(message, optional, tag = "1")]
    pub condition: Option<BooleanExpression>,
    /// Node run when the condition is true.
    #[prost(message, optional, boxed, tag = "2")]
    pub then_node: Option<Box<Node>>,
}

/// The arms of a branch node, evaluated in order; the first true condition wins.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct IfElseBlock {
    /// The first (`if`) arm.
    #[prost(message, optional, boxed, tag = "1")]
    pub case: Option<Box<IfBlock>>,
    /// Further `elif` arms, in order.
    #[prost(message, repeated, tag = "2")]
    pub other: Vec<IfBlock>,
    /// What happens when no condition matches; one of the two must be set.
    #[prost(oneof = "if_else_block::Default", tags = "3, 4")]
    pub default: Option<if_else_block::Default>,
}
/// Nested types of [`IfElseBlock`].
pub mod if_else_block {
    /// What happens when no condition matches; one of the two must be set.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Default {
        /// Node run when no condition matches.
        #[prost(message, tag = "3")]
        ElseNode(Box<super::Node>),
        /// Error raised when no condition matches.
        #[prost(message, tag = "4")]
        Error(super::Error),
    }
}

/// A node that runs one of several sub-nodes depending on conditions.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct BranchNode {
    /// The conditional arms.
    #[prost(message, optional, boxed, tag = "1")]
    pub if_else: Option<Box<IfElseBlock>>,
}

/// A node that runs a task.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskNode {
    /// Per-node overrides of the task's resources, image and pod template.
    #[prost(message, optional, tag = "2")]
    pub overrides: Option<TaskNodeOverrides>,
    /// Which task to run.
    #[prost(oneof = "task_node::Reference", tags = "1")]
    pub reference: Option<task_node::Reference>,
}
/// Nested types of [`TaskNode`].
pub mod task_node {
    /// Which task to run.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Reference {
        /// Id of the task, which must be part of the compiled workflow closure.
        #[prost(message, tag = "1")]
        ReferenceId(super::Identifier),
    }
}

/// A node that runs another workflow, either inline (sub-workflow) or as a separate execution
/// (launch plan).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowNode {
    /// Which workflow to run.
    #[prost(oneof = "workflow_node::Reference", tags = "1, 2")]
    pub reference: Option<workflow_node::Reference>,
}
/// Nested types of [`WorkflowNode`].
pub mod workflow_node {
    /// Which workflow to run.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Reference {
        /// Launch plan to execute as a separate, child execution.
        #[prost(message, tag = "1")]
        LaunchplanRef(super::Identifier),
        /// Workflow to run inline, as part of this execution.
        #[prost(message, tag = "2")]
        SubWorkflowRef(super::Identifier),
    }
}

/// Gate condition: wait for a manual approval.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ApproveCondition {
    /// Name of the approval signal.
    #[prost(string, tag = "1")]
    pub signal_id: String,
}

/// Gate condition: wait for a typed value sent from outside the execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SignalCondition {
    /// Name of the signal.
    #[prost(string, tag = "1")]
    pub signal_id: String,
    /// Type of the value to be sent.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<LiteralType>,
    /// Output variable of the gate node that receives the value.
    #[prost(string, tag = "3")]
    pub output_variable_name: String,
}

/// Gate condition: wait for a fixed time.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SleepCondition {
    /// How long to sleep.
    #[prost(message, optional, tag = "1")]
    pub duration: Option<::prost_types::Duration>,
}

/// A node that blocks until a condition is met (approval, signal or sleep).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct GateNode {
    /// The condition to wait for.
    #[prost(oneof = "gate_node::Condition", tags = "1, 2, 3")]
    pub condition: Option<gate_node::Condition>,
}
/// Nested types of [`GateNode`].
pub mod gate_node {
    /// The condition to wait for.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    #[allow(clippy::large_enum_variant)]
    pub enum Condition {
        /// Wait for approval.
        #[prost(message, tag = "1")]
        Approve(super::ApproveCondition),
        /// Wait for a signal value.
        #[prost(message, tag = "2")]
        Signal(super::SignalCondition),
        /// Wait for a duration.
        #[prost(message, tag = "3")]
        Sleep(super::SleepCondition),
    }
}

/// A node that runs a sub-node once per element of its list inputs (map tasks).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ArrayNode {
    /// The node run for every element.
    #[prost(message, optional, boxed, tag = "1")]
    pub node: Option<Box<Node>>,
    /// How much state of the sub-node executions is kept.
    #[prost(enumeration = "array_node::ExecutionMode", tag = "5")]
    pub execution_mode: i32,
    /// Whether the sub-node's interface is the original (per-element) one, as opposed to a
    /// list-lifted one; `None` when not stated.
    #[prost(message, optional, tag = "6")]
    pub is_original_sub_node_interface: Option<bool>,
    /// How inputs are handed to the sub-node executions.
    #[prost(enumeration = "array_node::DataMode", tag = "7")]
    pub data_mode: i32,
    /// Inputs passed whole to every sub-node instead of being split by element.
    #[prost(string, repeated, tag = "8")]
    pub bound_inputs: Vec<String>,
    /// Keep running all sub-nodes even after the success criteria can no longer be met.
    #[prost(bool, tag = "9")]
    pub run_all_sub_nodes: bool,
    /// Concurrency limit; unset uses the platform default.
    #[prost(oneof = "array_node::ParallelismOption", tags = "2")]
    pub parallelism_option: Option<array_node::ParallelismOption>,
    /// When the array node as a whole counts as successful; unset requires all sub-nodes to
    /// succeed.
    #[prost(oneof = "array_node::SuccessCriteria", tags = "3, 4")]
    pub success_criteria: Option<array_node::SuccessCriteria>,
}
/// Nested types of [`ArrayNode`].
pub mod array_node {
    /// How much sub-node state an [`ArrayNode`](crate::core::ArrayNode) keeps.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum ExecutionMode {
        /// Track only the phase of each sub-node (compact; for simple tasks).
        MinimalState = 0,
        /// Keep full node state for each sub-node (needed for complex sub-nodes).
        FullState = 1,
    }
    impl ExecutionMode {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::MinimalState => "MINIMAL_STATE",
                Self::FullState => "FULL_STATE",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "MINIMAL_STATE" => Some(Self::MinimalState),
                "FULL_STATE" => Some(Self::FullState),
                _ => None,
            }
        }
    }

    /// How the inputs of an [`ArrayNode`](crate::core::ArrayNode) are given to sub-nodes.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum DataMode {
        /// All sub-nodes read the same inputs file and pick their element by index.
        SingleInputFile = 0,
        /// Each sub-node gets its own inputs file holding only its element.
        IndividualInputFiles = 1,
    }
    impl DataMode {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::SingleInputFile => "SINGLE_INPUT_FILE",
                Self::IndividualInputFiles => "INDIVIDUAL_INPUT_FILES",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "SINGLE_INPUT_FILE" => Some(Self::SingleInputFile),
                "INDIVIDUAL_INPUT_FILES" => Some(Self::IndividualInputFiles),
                _ => None,
            }
        }
    }

    /// Concurrency limit; unset uses the platform default.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum ParallelismOption {
        /// Maximum number of sub-nodes running at once; 0 means unlimited.
        #[prost(uint32, tag = "2")]
        Parallelism(u32),
    }

    /// When the array node as a whole counts as successful; unset requires all sub-nodes to
    /// succeed.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum SuccessCriteria {
        /// Minimum number of sub-nodes that must succeed.
        #[prost(uint32, tag = "3")]
        MinSuccesses(u32),
        /// Minimum fraction (0.0 to 1.0) of sub-nodes that must succeed.
        #[prost(float, tag = "4")]
        MinSuccessRatio(f32),
    }
}

/// Settings of a node: display name, timeout, retries, interruptibility and caching overrides.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct NodeMetadata {
    /// Friendly name shown in the UI.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Maximum duration of the node; unset means no limit.
    #[prost(message, optional, tag = "4")]
    pub timeout: Option<::prost_types::Duration>,
    /// Retry policy for the node.
    #[prost(message, optional, tag = "5")]
    pub retries: Option<RetryStrategy>,
    /// Extra node-level configuration as plain key-value strings.
    #[prost(btree_map = "string, string", tag = "10")]
    pub config: ::std::collections::BTreeMap<String, String>,
    /// Interruptibility override; unset inherits from the task or workflow.
    #[prost(oneof = "node_metadata::InterruptibleValue", tags = "6")]
    pub interruptible_value: Option<node_metadata::InterruptibleValue>,
    /// Caching override; unset inherits from the task.
    #[prost(oneof = "node_metadata::CacheableValue", tags = "7")]
    pub cacheable_value: Option<node_metadata::CacheableValue>,
    /// Cache version override; unset inherits from the task.
    #[prost(oneof = "node_metadata::CacheVersionValue", tags = "8")]
    pub cache_version_value: Option<node_metadata::CacheVersionValue>,
    /// Cache serialization override; unset inherits from the task.
    #[prost(oneof = "node_metadata::CacheSerializableValue", tags = "9")]
    pub cache_serializable_value: Option<node_metadata::CacheSerializableValue>,
}
/// Nested types of [`NodeMetadata`].
pub mod node_metadata {
    /// Interruptibility override; unset inherits from the task or workflow.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum InterruptibleValue {
        /// Whether the node may run on interruptible (spot) capacity.
        #[prost(bool, tag = "6")]
        Interruptible(bool),
    }

    /// Caching override; unset inherits from the task.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum CacheableValue {
        /// Whether the node's outputs are cached.
        #[prost(bool, tag = "7")]
        Cacheable(bool),
    }

    /// Cache version override; unset inherits from the task.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum CacheVersionValue {
        /// Cache version to use for this node.
        #[prost(string, tag = "8")]
        CacheVersion(String),
    }

    /// Cache serialization override; unset inherits from the task.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum CacheSerializableValue {
        /// Whether concurrent runs with the same cache key are serialized.
        #[prost(bool, tag = "9")]
        CacheSerializable(bool),
    }
}

/// Gives an output of a node an additional name.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Alias {
    /// The node's original output name.
    #[prost(string, tag = "1")]
    pub var: String,
    /// The new name.
    #[prost(string, tag = "2")]
    pub alias: String,
}

/// One step of a workflow graph: its inputs, dependencies and what it runs.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Node {
    /// Id unique within the workflow. `start-node` and `end-node` are reserved.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Node settings (name, timeout, retries, ...).
    #[prost(message, optional, tag = "2")]
    pub metadata: Option<NodeMetadata>,
    /// Bindings for the node's inputs.
    #[prost(message, repeated, tag = "3")]
    pub inputs: Vec<Binding>,
    /// Nodes that must finish before this one starts, besides those implied by `inputs`.
    #[prost(string, repeated, tag = "4")]
    pub upstream_node_ids: Vec<String>,
    /// Alternative names for the node's outputs.
    #[prost(message, repeated, tag = "5")]
    pub output_aliases: Vec<Alias>,
    /// What the node runs; exactly one kind is set.
    #[prost(oneof = "node::Target", tags = "6, 7, 8, 9, 10")]
    pub target: Option<node::Target>,
}
/// Nested types of [`Node`].
pub mod node {
    /// What the node runs; exactly one kind is set.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    #[allow(clippy::large_enum_variant)]
    pub enum Target {
        /// Runs a task.
        #[prost(message, tag = "6")]
        TaskNode(super::TaskNode),
        /// Runs a sub-workflow or launch plan.
        #[prost(message, tag = "7")]
        WorkflowNode(super::WorkflowNode),
        /// Runs one of several nodes depending on conditions.
        #[prost(message, tag = "8")]
        BranchNode(Box<super::BranchNode>),
        /// Waits for approval, a signal or a timer.
        #[prost(message, tag = "9")]
        GateNode(super::GateNode),
        /// Runs a node over every element of list inputs.
        #[prost(message, tag = "10")]
        ArrayNode(Box<super::ArrayNode>),
    }
}

/// Execution settings of a workflow.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowMetadata {
    /// Scheduling priority of executions of this workflow.
    #[prost(message, optional, tag = "1")]
    pub quality_of_service: Option<QualityOfService>,
    /// What to do with running nodes when a node fails.
    #[prost(enumeration = "workflow_metadata::OnFailurePolicy", tag = "2")]
    pub on_failure: i32,
    /// Arbitrary string tags.
    #[prost(btree_map = "string, string", tag = "3")]
    pub tags: ::std::collections::BTreeMap<String, String>,
}
/// Nested types of [`WorkflowMetadata`].
pub mod workflow_metadata {
    /// Behavior of a workflow after one of its nodes fails.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum OnFailurePolicy {
        /// Abort running nodes and fail the workflow at once.
        FailImmediately = 0,
        /// Let all nodes that can still run finish, then fail the workflow.
        FailAfterExecutableNodesComplete = 1,
    }
    impl OnFailurePolicy {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::FailImmediately => "FAIL_IMMEDIATELY",
                Self::FailAfterExecutableNodesComplete => "FAIL_AFTER_EXECUTABLE_NODES_COMPLETE",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "FAIL_IMMEDIATELY" => Some(Self::FailImmediately),
                "FAIL_AFTER_EXECUTABLE_NODES_COMPLETE" => {
                    Some(Self::FailAfterExecutableNodesComplete)
                }
                _ => None,
            }
        }
    }
}

/// Defaults applied to every node of a workflow unless a node overrides them.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowMetadataDefaults {
    /// Whether nodes may run on interruptible (spot) capacity by default.
    #[prost(bool, tag = "1")]
    pub interruptible: bool,
}

/// The full, registrable definition of a workflow: interface, nodes and output bindings.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct WorkflowTemplate {
    /// Registered id of the workflow.
    #[prost(message, optional, tag = "1")]
    pub id: Option<Identifier>,
    /// Workflow settings.
    #[prost(message, optional, tag = "2")]
    pub metadata: Option<WorkflowMetadata>,
    /// Typed inputs and outputs.
    #[prost(message, optional, tag = "3")]
    pub interface: Option<TypedInterface>,
    /// The nodes of the graph.
    #[prost(message, repeated, tag = "4")]
    pub nodes: Vec<Node>,
    /// Bindings that produce the workflow outputs from node outputs.
    #[prost(message, repeated, tag = "5")]
    pub outputs: Vec<Binding>,
    /// Node run when the workflow fails, e.g. to clean up; it receives the error.
    #[prost(message, optional, tag = "6")]
    pub failure_node: Option<Node>,
    /// Default settings for all nodes.
    #[prost(message, optional, tag = "7")]
    pub metadata_defaults: Option<WorkflowMetadataDefaults>,
}

/// Settings a task node overrides on the task it runs.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TaskNodeOverrides {
    /// Resource requests and limits to use instead of the task's.
    #[prost(message, optional, tag = "1")]
    pub resources: Option<Resources>,
    /// GPU and shared-memory settings to use instead of the task's.
    #[prost(message, optional, tag = "2")]
    pub extended_resources: Option<ExtendedResources>,
    /// Image to use instead of the task's; empty keeps it.
    #[prost(string, tag = "3")]
    pub container_image: String,
    /// Pod template to use for the task's pod.
    #[prost(message, optional, tag = "4")]
    pub pod_template: Option<K8sPod>,
}

/// What a workflow node needs to know about a launch plan: its id, interface and fixed inputs.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct LaunchPlanTemplate {
    /// Registered id of the launch plan.
    #[prost(message, optional, tag = "1")]
    pub id: Option<Identifier>,
    /// Typed inputs and outputs of the launch plan.
    #[prost(message, optional, tag = "2")]
    pub interface: Option<TypedInterface>,
    /// Inputs fixed by the launch plan, which callers cannot override.
    #[prost(message, optional, tag = "3")]
    pub fixed_inputs: Option<LiteralMap>,
}

impl_name! {
    IfBlock => "IfBlock",
    IfElseBlock => "IfElseBlock",
    BranchNode => "BranchNode",
    TaskNode => "TaskNode",
    WorkflowNode => "WorkflowNode",
    ApproveCondition => "ApproveCondition",
    SignalCondition => "SignalCondition",
    SleepCondition => "SleepCondition",
    GateNode => "GateNode",
    ArrayNode => "ArrayNode",
    NodeMetadata => "NodeMetadata",
    Alias => "Alias",
    Node => "Node",
    WorkflowMetadata => "WorkflowMetadata",
    WorkflowMetadataDefaults => "WorkflowMetadataDefaults",
    WorkflowTemplate => "WorkflowTemplate",
    TaskNodeOverrides => "TaskNodeOverrides",
    LaunchPlanTemplate => "LaunchPlanTemplate",
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn array_node_fields_5_to_9() {
        let node = ArrayNode {
            execution_mode: array_node::ExecutionMode::FullState as i32,
            is_original_sub_node_interface: Some(false),
            data_mode: array_node::DataMode::IndividualInputFiles as i32,
            bound_inputs: vec!["x".to_owned()],
            run_all_sub_nodes: true,
            ..Default::default()
        };
        assert_eq!(
            node.encode_to_vec(),
            vec![
                0x28, 0x01, 0x32, 0x00, 0x38, 0x01, 0x42, 0x01, b'x', 0x48, 0x01
            ]
        );
    }

    #[test]
    fn success_criteria_oneof() -> Result<(), prost::DecodeError> {
        let node = ArrayNode {
            parallelism_option: Some(array_node::ParallelismOption::Parallelism(4)),
            success_criteria: Some(array_node::SuccessCriteria::MinSuccessRatio(0.5)),
            ..Default::default()
        };
        assert_eq!(ArrayNode::decode(node.encode_to_vec().as_slice())?, node);
        Ok(())
    }
}
