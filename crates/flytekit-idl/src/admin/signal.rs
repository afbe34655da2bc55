//! Signals: values a gate node waits for (`flyteidl/admin/signal.proto`).

use super::Sort;

/// Fetches a signal, creating it when it does not exist yet.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SignalGetOrCreateRequest {
    /// The signal: its execution and signal id.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::SignalIdentifier>,
    /// The type the signal's value must have.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<crate::core::LiteralType>,
}

/// Lists the signals of an execution.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SignalListRequest {
    /// The execution whose signals are listed.
    #[prost(message, optional, tag = "1")]
    pub workflow_execution_id: Option<crate::core::WorkflowExecutionIdentifier>,
    /// Maximum number of signals to return in one page.
    #[prost(uint32, tag = "2")]
    pub limit: u32,
    /// Pagination cursor: empty on the first request, otherwise the token of the previous page.
    #[prost(string, tag = "3")]
    pub token: String,
    /// Filters in FlyteAdmin's filter syntax.
    #[prost(string, tag = "4")]
    pub filters: String,
    /// Ordering of the returned signals.
    #[prost(message, optional, tag = "5")]
    pub sort_by: Option<Sort>,
}

/// One page of signals.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SignalList {
    /// Signals on this page.
    #[prost(message, repeated, tag = "1")]
    pub signals: Vec<Signal>,
    /// Cursor for the next page; empty when this is the last page.
    #[prost(string, tag = "2")]
    pub token: String,
}

/// Gives a signal its value, which releases the gate node waiting for it.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SignalSetRequest {
    /// The signal to set.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::SignalIdentifier>,
    /// The value; must have the signal's type.
    #[prost(message, optional, tag = "2")]
    pub value: Option<crate::core::Literal>,
}

/// Empty reply to a successful [`SignalSetRequest`].
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SignalSetResponse {}

/// A signal: requested by a gate node, and set once someone gives it a value.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Signal {
    /// The signal: its execution and signal id.
    #[prost(message, optional, tag = "1")]
    pub id: Option<crate::core::SignalIdentifier>,
    /// The type its value must have.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<crate::core::LiteralType>,
    /// The value, once set.
    #[prost(message, optional, tag = "3")]
    pub value: Option<crate::core::Literal>,
}

impl_name! {
    SignalGetOrCreateRequest => "SignalGetOrCreateRequest",
    SignalListRequest => "SignalListRequest",
    SignalList => "SignalList",
    SignalSetRequest => "SignalSetRequest",
    SignalSetResponse => "SignalSetResponse",
    Signal => "Signal",
}
