//! Cluster pool selection (`flyteidl/admin/cluster_assignment.proto`).

/// Pins an execution to a named pool of clusters.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ClusterAssignment {
    /// Name of the cluster pool.
    #[prost(string, tag = "3")]
    pub cluster_pool_name: String,
}

impl_name! {
    ClusterAssignment => "ClusterAssignment",
}
