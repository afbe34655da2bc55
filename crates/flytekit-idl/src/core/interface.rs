//! `flyteidl/core/interface.proto`: typed inputs and outputs of tasks, workflows and launch plans.

use super::{ArtifactId, ArtifactQuery, ArtifactTag, Literal, LiteralType};

/// A declared input or output of an interface: its type and description.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Variable {
    /// Type of the variable's values.
    #[prost(message, optional, tag = "1")]
    pub r#type: Option<LiteralType>,
    /// Human-readable description.
    #[prost(string, tag = "2")]
    pub description: String,
    /// For outputs: the artifact this output is published as (partition values may be left open).
    #[prost(message, optional, tag = "3")]
    pub artifact_partial_id: Option<ArtifactId>,
    /// For outputs: tag to apply to the artifact created from this output.
    #[prost(message, optional, tag = "4")]
    pub artifact_tag: Option<ArtifactTag>,
}

/// A set of named variables.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct VariableMap {
    /// Variables keyed by name.
    #[prost(btree_map = "string, message", tag = "1")]
    pub variables: ::std::collections::BTreeMap<String, Variable>,
}

/// The signature of a task or workflow: its inputs and outputs.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct TypedInterface {
    /// Input variables.
    #[prost(message, optional, tag = "1")]
    pub inputs: Option<VariableMap>,
    /// Output variables.
    #[prost(message, optional, tag = "2")]
    pub outputs: Option<VariableMap>,
}

/// An input of a launch plan: a variable plus how its value is chosen when none is given.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Parameter {
    /// The input variable.
    #[prost(message, optional, tag = "1")]
    pub var: Option<Variable>,
    /// What happens when the caller does not pass a value; at most one is set.
    #[prost(oneof = "parameter::Behavior", tags = "2, 3, 4, 5")]
    pub behavior: Option<parameter::Behavior>,
}
/// Nested types of [`Parameter`].
pub mod parameter {
    /// What happens when the caller does not pass a value; at most one is set.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Behavior {
        /// Value used when the caller does not pass one.
        #[prost(message, tag = "2")]
        Default(super::Literal),
        /// When true, the caller must pass a value.
        #[prost(bool, tag = "3")]
        Required(bool),
        /// Query resolving the value from the artifact service at launch time.
        #[prost(message, tag = "4")]
        ArtifactQuery(super::ArtifactQuery),
        /// Fixed artifact whose value is used.
        #[prost(message, tag = "5")]
        ArtifactId(super::ArtifactId),
    }
}

/// The inputs of a launch plan, keyed by name.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ParameterMap {
    /// Parameters keyed by input name.
    #[prost(btree_map = "string, message", tag = "1")]
    pub parameters: ::std::collections::BTreeMap<String, Parameter>,
}

impl_name! {
    Variable => "Variable",
    VariableMap => "VariableMap",
    TypedInterface => "TypedInterface",
    Parameter => "Parameter",
    ParameterMap => "ParameterMap",
}
