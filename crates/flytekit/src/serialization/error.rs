//! Why an entity could not be serialized.

use crate::task::ConfigError;

/// Why a task could not be serialized.
#[derive(Debug, thiserror::Error)]
pub enum SerializeError {
    /// The image could not be determined.
    #[error("task {task}: {message}")]
    Image {
        /// The task.
        task: String,
        /// What is wrong.
        message: String,
    },
    /// The resolver cannot express the task in loader args.
    #[error("task {task}: {message}")]
    Resolver {
        /// The task.
        task: String,
        /// What is wrong.
        message: String,
    },
    /// The pod template could not be serialized.
    #[error("task {task}: {source}")]
    Config {
        /// The task.
        task: String,
        /// The cause.
        source: ConfigError,
    },
}
