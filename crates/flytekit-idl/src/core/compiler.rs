//! `flyteidl/core/compiler.proto`: compiled workflows as produced by the Flyte compiler.

use super::{LaunchPlanTemplate, TaskTemplate, WorkflowTemplate};

/// Edges of a compiled workflow graph, in both directions.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ConnectionSet {
    /// For each node id, the nodes that depend on it.
    #[prost(btree_map = "string, message", tag = "7")]
    pub downstream: ::std::collections::BTreeMap<String, connection_set::IdList>,
    /// For each node id, the nodes it depends on.
    #[prost(btree_map = "string, message", tag = "8")]
    pub upstream: ::std::collections::BTreeMap<String, connection_set::IdList>,
}
/// Nested types of [`ConnectionSet`].
pub mod connection_set {
    /// A list of node ids.
    #[derive(Clone, PartialEq, ::prost::Message)]
    pub struct IdList {
        /// The node ids.
        #[prost(string, repeated, tag = "1")]
        pub ids: Vec<String>,
    }
}

/// A workflow template with its computed connections.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CompiledWorkflow {
    /// The workflow.
    #[prost(message, optional, tag = "1")]
    pub template: Option<WorkflowTemplate>,
    /// The edges of its graph.
    #[prost(message, optional, tag = "2")]
    pub connections: Option<ConnectionSet>,
}

/// A compiled launch plan.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CompiledLaunchPlan {
    /// The launch plan.
    #[prost(message, optional, tag = "1")]
    pub template: Option<LaunchPlanTemplate>,
}

/// A compiled task.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CompiledTask {
    /// The task.
    #[prost(message, optional, tag = "1")]
    pub template: Option<TaskTemplate>,
}

/// Everything needed to run a workflow: the workflow, its sub-workflows, tasks and launch plans,
/// compiled.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct CompiledWorkflowClosure {
    /// The top-level workflow.
    #[prost(message, optional, tag = "1")]
    pub primary: Option<CompiledWorkflow>,
    /// All sub-workflows it references, recursively.
    #[prost(message, repeated, tag = "2")]
    pub sub_workflows: Vec<CompiledWorkflow>,
    /// All tasks it references, recursively.
    #[prost(message, repeated, tag = "3")]
    pub tasks: Vec<CompiledTask>,
    /// All launch plans it references.
    #[prost(message, repeated, tag = "4")]
    pub launch_plans: Vec<CompiledLaunchPlan>,
}

impl_name! {
    ConnectionSet => "ConnectionSet",
    connection_set::IdList => "ConnectionSet.IdList",
    CompiledWorkflow => "CompiledWorkflow",
    CompiledLaunchPlan => "CompiledLaunchPlan",
    CompiledTask => "CompiledTask",
    CompiledWorkflowClosure => "CompiledWorkflowClosure",
}
