//! `flyteidl/core/metrics.proto`: timing spans and metric results of executions.

use super::{NodeExecutionIdentifier, TaskExecutionIdentifier, WorkflowExecutionIdentifier};

/// A timed section of an execution, possibly split into nested spans.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Span {
    /// When the span started.
    #[prost(message, optional, tag = "1")]
    pub start_time: Option<::prost_types::Timestamp>,
    /// When the span ended.
    #[prost(message, optional, tag = "2")]
    pub end_time: Option<::prost_types::Timestamp>,
    /// Nested spans.
    #[prost(message, repeated, tag = "7")]
    pub spans: Vec<Span>,
    /// What the span measures.
    #[prost(oneof = "span::Id", tags = "3, 4, 5, 6")]
    pub id: Option<span::Id>,
}
/// Nested types of [`Span`].
pub mod span {
    /// What the span measures.
    #[derive(Clone, PartialEq, ::prost::Oneof)]
    pub enum Id {
        /// A workflow execution.
        #[prost(message, tag = "3")]
        WorkflowId(super::WorkflowExecutionIdentifier),
        /// A node execution.
        #[prost(message, tag = "4")]
        NodeId(super::NodeExecutionIdentifier),
        /// A task execution.
        #[prost(message, tag = "5")]
        TaskId(super::TaskExecutionIdentifier),
        /// A named platform operation (e.g. queueing or setup).
        #[prost(string, tag = "6")]
        OperationId(String),
    }
}

/// The value of a metric for an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ExecutionMetricResult {
    /// Name of the metric.
    #[prost(string, tag = "1")]
    pub metric: String,
    /// The metric data, in a format specific to the metric.
    #[prost(message, optional, tag = "2")]
    pub data: Option<::prost_types::Struct>,
}

impl_name! {
    Span => "Span",
    ExecutionMetricResult => "ExecutionMetricResult",
}
