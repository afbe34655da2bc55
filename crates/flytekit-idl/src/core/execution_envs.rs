//! `flyteidl/core/execution_envs.proto`: execution environments (e.g. reusable workers) that nodes
//! can run in.

/// Assigns a set of nodes to an execution environment.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionEnvAssignment {
    /// Nodes that run in the environment.
    #[prost(string, repeated, tag = "1")]
    pub node_ids: Vec<String>,
    /// Task type this assignment applies to; empty for any.
    #[prost(string, tag = "2")]
    pub task_type: String,
    /// The environment.
    #[prost(message, optional, tag = "3")]
    pub execution_env: Option<ExecutionEnv>,
}

/// An environment in which tasks run, either an existing one or one to create.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionEnv {
    /// Environment name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Environment type, which selects the plugin managing it.
    #[prost(string, tag = "2")]
    pub r#type: String,
    /// Environment version.
    #[prost(string, tag = "5")]
    pub version: String,
    /// Whether the environment already exists or must be created.
    #[prost(oneof = "execution_env::Environment", tags = "3, 4")]
    pub environment: Option<execution_env::Environment>,
}
/// Nested types of [`ExecutionEnv`].
pub mod execution_env {
    /// Whether the environment already exists or must be created.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Environment {
        /// Description of an existing environment to use.
        #[prost(message, tag = "3")]
        Extant(::prost_types::Struct),
        /// Specification of an environment to create.
        #[prost(message, tag = "4")]
        Spec(::prost_types::Struct),
    }
}

impl_name! {
    ExecutionEnvAssignment => "ExecutionEnvAssignment",
    ExecutionEnv => "ExecutionEnv",
}
