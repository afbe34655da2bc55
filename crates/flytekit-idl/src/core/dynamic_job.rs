//! `flyteidl/core/dynamic_job.proto`: the graph a dynamic task returns at run time.

use super::{Binding, Node, TaskTemplate, WorkflowTemplate};

/// The workflow fragment a dynamic task produces; Flyte compiles and runs it as a sub-graph.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct DynamicJobSpec {
    /// Nodes to run.
    #[prost(message, repeated, tag = "1")]
    pub nodes: Vec<Node>,
    /// Minimum number of nodes that must succeed.
    #[prost(int64, tag = "2")]
    pub min_successes: i64,
    /// Bindings producing the dynamic task's outputs from node outputs.
    #[prost(message, repeated, tag = "3")]
    pub outputs: Vec<Binding>,
    /// Tasks referenced by the nodes.
    #[prost(message, repeated, tag = "4")]
    pub tasks: Vec<TaskTemplate>,
    /// Sub-workflows referenced by the nodes.
    #[prost(message, repeated, tag = "5")]
    pub subworkflows: Vec<WorkflowTemplate>,
}

impl_name! {
    DynamicJobSpec => "DynamicJobSpec",
}
