//! Sync task bodies: run in place on the engine's own threads, else on tokio's blocking pool.

use super::TaskError;

tokio::task_local! {
    /// Set while code already runs on a thread of its own (the engine's workers), where sync task
    /// bodies run in place instead of being handed to another thread.
    static ON_BLOCKING_THREAD: bool;
}

/// Runs `fut`, which the caller drives on a thread of its own (not a runtime worker), so that
/// [`run_blocking`] inside it calls sync task bodies in place.
pub(crate) async fn on_blocking_thread<F: std::future::Future>(fut: F) -> F::Output {
    ON_BLOCKING_THREAD.scope(true, fut).await
}

/// Runs blocking user code of a sync task: in place when the caller already runs on a thread of
/// its own (the engine's workers), else on tokio's blocking pool. A panic is reported as a USER
/// error naming the task.
pub async fn run_blocking<T: Send + 'static>(
    task: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, TaskError> {
    if ON_BLOCKING_THREAD.try_with(|on| *on).unwrap_or(false) {
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .map_err(|payload| TaskError::from_panic(task, payload));
    }
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => Ok(v),
        Err(e) if e.is_panic() => Err(TaskError::from_panic(task, e.into_panic())),
        Err(e) => Err(TaskError::system(format!(
            "task '{task}' was cancelled: {e}"
        ))),
    }
}
