//! `flyteidl/core/errors.proto`: the error document a task writes when it fails.

use super::execution_error;

/// An error reported by a task's container, read by FlytePropeller after the task fails.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ContainerError {
    /// Short machine-readable error code.
    #[prost(string, tag = "1")]
    pub code: String,
    /// Detailed, human-readable message.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Whether the failure may be retried.
    #[prost(enumeration = "container_error::Kind", tag = "3")]
    pub kind: i32,
    /// Whether the user code or the system caused the error.
    #[prost(enumeration = "execution_error::ErrorKind", tag = "4")]
    pub origin: i32,
    /// When the error happened.
    #[prost(message, optional, tag = "5")]
    pub timestamp: Option<::prost_types::Timestamp>,
    /// Name of the worker (e.g. pod or rank) that produced the error, for distributed tasks.
    #[prost(string, tag = "6")]
    pub worker: String,
}
/// Nested types of [`ContainerError`].
pub mod container_error {
    /// Whether a container error is worth retrying.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
    #[repr(i32)]
    pub enum Kind {
        /// Retrying will not help.
        NonRecoverable = 0,
        /// The task may succeed when retried.
        Recoverable = 1,
    }
    impl Kind {
        /// The value's name exactly as written in the `.proto` file (e.g. for JSON or logs).
        pub fn as_str_name(&self) -> &'static str {
            match self {
                Self::NonRecoverable => "NON_RECOVERABLE",
                Self::Recoverable => "RECOVERABLE",
            }
        }
        /// Parses a value from its `.proto` name; `None` if the name is unknown.
        pub fn from_str_name(value: &str) -> Option<Self> {
            match value {
                "NON_RECOVERABLE" => Some(Self::NonRecoverable),
                "RECOVERABLE" => Some(Self::Recoverable),
                _ => None,
            }
        }
    }
}

/// The file (`error.pb`) a failed task writes to its output location.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct ErrorDocument {
    /// The error.
    #[prost(message, optional, tag = "1")]
    pub error: Option<ContainerError>,
}

impl_name! {
    ContainerError => "ContainerError",
    ErrorDocument => "ErrorDocument",
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn container_error_timestamp_and_worker() {
        let err = ContainerError {
            timestamp: Some(::prost_types::Timestamp {
                seconds: 1,
                nanos: 0,
            }),
            worker: "w".to_owned(),
            ..Default::default()
        };
        assert_eq!(
            err.encode_to_vec(),
            vec![0x2a, 0x02, 0x08, 0x01, 0x32, 0x01, b'w']
        );
    }
}
