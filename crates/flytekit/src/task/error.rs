//! Why a task failed, classified the way flytekit's entrypoint classifies exceptions (contract
//! §6.4), and the error types user code returns to steer that classification.

use std::fmt;

use flytekit_idl::core::{ContainerError, ErrorDocument, container_error, execution_error};

/// A boxed error from user code.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error code flytekit uses for user exceptions without their own `error_code`.
pub const USER_RUNTIME_ERROR: &str = "USER:RuntimeError";

/// Why a task run failed. Each variant maps to one row of flytekit's `error.pb` table.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The task could not be found or rebuilt (`load_task` failed): a USER error, like flytekit.
    #[error("cannot load the task: {0}")]
    Load(String),
    /// User code returned an error or panicked.
    #[error("{message}")]
    User {
        /// `USER:<Code>`.
        code: String,
        /// The error and its chain of causes.
        message: String,
        /// Whether Flyte may retry (the user returned a [`RecoverableError`]).
        recoverable: bool,
    },
    /// The inputs did not convert to the task's Rust types: SYSTEM, non-recoverable.
    #[error("cannot convert the inputs of task '{task}': {message}")]
    InputConversion {
        /// The task's name.
        task: String,
        /// What did not convert and why.
        message: String,
    },
    /// The outputs did not convert to literals: SYSTEM, non-recoverable.
    #[error("cannot convert the outputs of task '{task}': {message}")]
    OutputConversion {
        /// The task's name.
        task: String,
        /// What did not convert and why.
        message: String,
    },
    /// Anything else (downloads, uploads, a failing `post_execute`): SYSTEM, recoverable.
    #[error("{message}{}", .source.as_ref().map(|s| format!(": {}", error_chain(s.as_ref()))).unwrap_or_default())]
    System {
        /// What failed.
        message: String,
        /// Why, when another error caused it (its whole chain is reported).
        #[source]
        source: Option<BoxError>,
    },
    /// The user asked that no outputs be written ([`IgnoreOutputs`]); not a failure.
    #[error("the task asked that its outputs be ignored")]
    IgnoreOutputs,
}

impl TaskError {
    /// A SYSTEM error (recoverable): `message` says what failed.
    pub fn system(message: impl Into<String>) -> Self {
        TaskError::System {
            message: message.into(),
            source: None,
        }
    }

    /// A SYSTEM error (recoverable) caused by `source`, whose chain is kept and reported.
    pub fn system_caused_by(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        TaskError::System {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// Classifies an error returned by user code: a [`RecoverableError`], [`UserError`] or
    /// [`IgnoreOutputs`] anywhere in its source chain decides code and kind; anything else is
    /// `USER:RuntimeError`, non-recoverable.
    pub fn from_user(error: impl Into<BoxError>) -> Self {
        let error: BoxError = error.into();
        let mut code = None;
        let mut recoverable = false;
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&*error);
        while let Some(e) = cur {
            if e.is::<IgnoreOutputs>() {
                return TaskError::IgnoreOutputs;
            }
            if let Some(u) = e.downcast_ref::<UserError>() {
                code.get_or_insert_with(|| u.code.clone());
                recoverable |= u.recoverable;
            }
            if e.is::<RecoverableError>() {
                recoverable = true;
                code.get_or_insert_with(|| "USER:Recoverable".to_string());
            }
            // `io::Error::other(inner)` reports inner's source, not inner: look inside.
            cur = match e
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
            {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => e.source(),
            };
        }
        TaskError::User {
            code: code.unwrap_or_else(|| USER_RUNTIME_ERROR.to_string()),
            message: error_chain(&*error),
            recoverable,
        }
    }

    /// A user panic, reported like an uncaught exception.
    pub fn from_panic(task: &str, payload: Box<dyn std::any::Any + Send>) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic payload".to_string());
        TaskError::User {
            code: USER_RUNTIME_ERROR.to_string(),
            message: format!("task '{task}' panicked: {what}"),
            recoverable: false,
        }
    }

    /// Whether Propeller would retry a task that failed with this error (its `error.pb` kind is
    /// RECOVERABLE).
    pub fn is_recoverable(&self) -> bool {
        match self {
            TaskError::User { recoverable, .. } => *recoverable,
            TaskError::System { .. } | TaskError::IgnoreOutputs => true,
            TaskError::Load(_)
            | TaskError::InputConversion { .. }
            | TaskError::OutputConversion { .. } => false,
        }
    }

    /// The `ContainerError` Propeller reads from `error.pb` (without timestamp and worker).
    pub fn to_container_error(&self) -> ContainerError {
        use container_error::Kind;
        use execution_error::ErrorKind;
        let (code, kind, origin) = match self {
            TaskError::Load(_) => (
                USER_RUNTIME_ERROR.to_string(),
                Kind::NonRecoverable,
                ErrorKind::User,
            ),
            TaskError::User {
                code, recoverable, ..
            } => (
                code.clone(),
                if *recoverable {
                    Kind::Recoverable
                } else {
                    Kind::NonRecoverable
                },
                ErrorKind::User,
            ),
            TaskError::InputConversion { .. } | TaskError::OutputConversion { .. } => (
                "SYSTEM".to_string(),
                Kind::NonRecoverable,
                ErrorKind::System,
            ),
            TaskError::System { .. } | TaskError::IgnoreOutputs => {
                ("SYSTEM".to_string(), Kind::Recoverable, ErrorKind::System)
            }
        };
        let type_name = match self {
            TaskError::Load(_) => "LoadError",
            TaskError::User { .. } => "UserError",
            TaskError::InputConversion { .. } => "InputConversionError",
            TaskError::OutputConversion { .. } => "OutputConversionError",
            TaskError::System { .. } | TaskError::IgnoreOutputs => "SystemError",
        };
        ContainerError {
            code,
            message: format!("Message:\n\n    {type_name}: {self}"),
            kind: kind as i32,
            origin: origin as i32,
            timestamp: None,
            worker: String::new(),
        }
    }

    /// The full `error.pb` document, stamped with `timestamp` and `worker`.
    pub fn to_error_document(
        &self,
        timestamp: std::time::SystemTime,
        worker: &str,
    ) -> ErrorDocument {
        let mut error = self.to_container_error();
        let since = timestamp
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        error.timestamp = Some(prost_types::Timestamp {
            seconds: since.as_secs() as i64,
            nanos: since.subsec_nanos() as i32,
        });
        error.worker = worker.to_string();
        ErrorDocument { error: Some(error) }
    }
}

/// Renders an error with its causes: `outer: middle: inner`.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut cur = error.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

/// An error that Flyte may retry: flytekit's `FlyteRecoverableException`. Return it (or wrap it
/// as a source) from a task to get `kind: RECOVERABLE` and code `USER:Recoverable`.
#[derive(Debug)]
pub struct RecoverableError {
    message: String,
    source: Option<BoxError>,
}

impl RecoverableError {
    /// A recoverable error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// A recoverable error caused by `source`.
    pub fn caused_by(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

impl fmt::Display for RecoverableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RecoverableError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// A user error with its own code (flytekit's `error_code` attribute), e.g. `USER:QuotaExceeded`.
#[derive(Debug)]
pub struct UserError {
    code: String,
    message: String,
    recoverable: bool,
}

impl UserError {
    /// An error with `code` (prefixed `USER:` when it has no prefix) and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        let code = code.into();
        let code = if code.contains(':') {
            code
        } else {
            format!("USER:{code}")
        };
        Self {
            code,
            message: message.into(),
            recoverable: false,
        }
    }

    /// Marks the error retryable.
    pub fn recoverable(mut self) -> Self {
        self.recoverable = true;
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

/// Returned by a task to say "write nothing": no `outputs.pb`, no `error.pb`, no deck
/// (flytekit's `IgnoreOutputs`, used by distributed workers other than the chief).
#[derive(Debug, Default)]
pub struct IgnoreOutputs;

impl fmt::Display for IgnoreOutputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("outputs ignored")
    }
}

impl std::error::Error for IgnoreOutputs {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_the_source_chain() {
        let e = TaskError::from_user(std::io::Error::other("disk"));
        assert!(
            matches!(&e, TaskError::User { code, recoverable: false, .. } if code == USER_RUNTIME_ERROR)
        );
        let e = TaskError::from_user(RecoverableError::new("later"));
        assert!(
            matches!(&e, TaskError::User { code, recoverable: true, .. } if code == "USER:Recoverable")
        );
        let e = TaskError::from_user(UserError::new("MyCode", "x"));
        assert!(matches!(&e, TaskError::User { code, .. } if code == "USER:MyCode"));
        let e = TaskError::from_user(std::io::Error::other(RecoverableError::new("wrapped")));
        assert!(matches!(
            e,
            TaskError::User {
                recoverable: true,
                ..
            }
        ));
        assert!(matches!(
            TaskError::from_user(IgnoreOutputs),
            TaskError::IgnoreOutputs
        ));
    }
}
