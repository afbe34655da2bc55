//! What a running task can see and use: its ids, attempt, working directory, storage, secrets,
//! checkpoints and decks (flytekit's `ExecutionParameters`).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use flytekit_idl::core::{Identifier, WorkflowExecutionIdentifier};

use crate::deck::Deck;
use crate::secrets::{SecretError, SecretValue, SecretsManager};
use crate::storage::{Storage, StorageError};
use crate::type_engine::ConversionContext;

/// The checkpoints of a task attempt: the previous attempt's (if any) and this attempt's
/// destination (flytekit's `SyncCheckpoint`).
#[derive(Clone, Debug)]
pub struct Checkpoint {
    storage: Storage,
    src: Option<String>,
    dest: String,
}

impl Checkpoint {
    /// Checkpoints written to `dest`, the previous ones read from `src`.
    pub fn new(storage: Storage, dest: impl Into<String>, src: Option<String>) -> Self {
        Self {
            storage,
            src: src.filter(|s| !s.is_empty()),
            dest: dest.into(),
        }
    }

    /// Whether a previous attempt left a checkpoint prefix.
    pub fn prev_exists(&self) -> bool {
        self.src.is_some()
    }

    /// The single checkpoint file of the previous attempt, if any; more than one is an error.
    pub async fn read(&self) -> Result<Option<Bytes>, StorageError> {
        let Some(src) = &self.src else {
            return Ok(None);
        };
        let files = self.storage.list(src).await?;
        match files.as_slice() {
            [] => Ok(None),
            [one] => self.storage.get(one).await.map(Some),
            many => Err(StorageError::InvalidPath {
                uri: src.clone(),
                reason: format!("expected exactly one checkpoint file, found {}", many.len()),
            }),
        }
    }

    /// Downloads the previous checkpoint directory into `dir`; returns whether there was one.
    pub async fn restore(&self, dir: &Path) -> Result<bool, StorageError> {
        match &self.src {
            Some(src) => self.storage.download_dir(src, dir).await.map(|_| true),
            None => Ok(false),
        }
    }

    /// Overwrites this attempt's checkpoint with `data` (`<dest>/_dst_cp`, as flytekit).
    pub async fn write(&self, data: impl Into<Bytes>) -> Result<(), StorageError> {
        self.storage
            .put(&crate::storage::join(&self.dest, "_dst_cp"), data.into())
            .await
    }

    /// Uploads a local file or directory as this attempt's checkpoint.
    pub async fn save(&self, path: &Path) -> Result<(), StorageError> {
        if path.is_dir() {
            self.storage.upload_dir(path, &self.dest).await
        } else {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "_dst_cp".into());
            self.storage
                .upload_file(path, &crate::storage::join(&self.dest, &name))
                .await
        }
    }
}

/// Whether the task runs inside a Flyte container (or the sandbox) or in the local engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutionMode {
    /// `<binary> execute` under the container contract.
    Container,
    /// The in-process local engine.
    Local,
}

struct Inner {
    /// What contexts made by [`ExecutionContext::fresh`] share.
    common: Arc<Common>,
    decks: Mutex<Vec<Deck>>,
    timeline: Mutex<Vec<(Cow<'static, str>, f64)>>,
    /// When the context was made: the origin of the timeline (`None` where there is none).
    started: Option<Instant>,
}

/// The ids, places, storage and secrets of a context: shared by the contexts the local engine
/// makes for each attempt from one template.
struct Common {
    mode: ExecutionMode,
    execution_id: WorkflowExecutionIdentifier,
    task_id: Identifier,
    attempt: u32,
    working_dir: PathBuf,
    output_prefix: String,
    conversion: ConversionContext,
    checkpoint: Option<Checkpoint>,
    secrets: SecretsManager,
}

/// The context of one task attempt. Cheap to clone; user tasks receive `&ExecutionContext` as
/// an optional first parameter.
#[derive(Clone)]
pub struct ExecutionContext(Arc<Inner>);

impl std::fmt::Debug for ExecutionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutionContext")
            .field("mode", &self.0.common.mode)
            .field("execution_id", &self.0.common.execution_id)
            .field("task_id", &self.0.common.task_id)
            .field("attempt", &self.0.common.attempt)
            .finish_non_exhaustive()
    }
}

/// Builds an [`ExecutionContext`].
pub struct ExecutionContextBuilder {
    mode: ExecutionMode,
    execution_id: WorkflowExecutionIdentifier,
    task_id: Identifier,
    attempt: u32,
    working_dir: PathBuf,
    output_prefix: String,
    conversion: ConversionContext,
    checkpoint: Option<Checkpoint>,
    secrets: Option<SecretsManager>,
}

impl ExecutionContextBuilder {
    /// Looks secrets up through `secrets` instead of a manager read from the environment when
    /// the context is built (the local engine reads it once per engine, not once per task).
    pub(crate) fn secrets(mut self, secrets: SecretsManager) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// Sets the execution id.
    pub fn execution_id(mut self, id: WorkflowExecutionIdentifier) -> Self {
        self.execution_id = id;
        self
    }

    /// Sets the task id.
    pub fn task_id(mut self, id: Identifier) -> Self {
        self.task_id = id;
        self
    }

    /// Sets the attempt number.
    pub fn attempt(mut self, n: u32) -> Self {
        self.attempt = n;
        self
    }

    /// Sets the output prefix (`--output-prefix`).
    pub fn output_prefix(mut self, p: impl Into<String>) -> Self {
        self.output_prefix = p.into();
        self
    }

    /// Sets the checkpoints.
    pub fn checkpoint(mut self, c: Option<Checkpoint>) -> Self {
        self.checkpoint = c;
        self
    }

    /// Builds the context.
    pub fn build(self) -> ExecutionContext {
        ExecutionContext::with_common(Arc::new(Common {
            mode: self.mode,
            execution_id: self.execution_id,
            task_id: self.task_id,
            attempt: self.attempt,
            working_dir: self.working_dir,
            output_prefix: self.output_prefix,
            conversion: self.conversion,
            checkpoint: self.checkpoint,
            secrets: self
                .secrets
                .unwrap_or_else(|| SecretsManager::from_env(self.mode == ExecutionMode::Local)),
        }))
    }
}

impl ExecutionContext {
    fn with_common(common: Arc<Common>) -> Self {
        // Only a task in a container keeps a timeline (its deck shows it).
        let started = (common.mode == ExecutionMode::Container).then(Instant::now);
        ExecutionContext(Arc::new(Inner {
            common,
            decks: Mutex::new(Vec::new()),
            timeline: Mutex::new(Vec::new()),
            started,
        }))
    }

    /// A new context with this one's ids, places, storage and secrets, and decks and a timeline
    /// of its own: what the local engine gives each task attempt, made from one template
    /// without copying the template's parts.
    pub(crate) fn fresh(&self) -> Self {
        Self::with_common(self.0.common.clone())
    }

    /// Starts a context for `mode` whose conversions go through `conversion` and whose scratch
    /// space is `working_dir`.
    pub fn builder(
        mode: ExecutionMode,
        conversion: ConversionContext,
        working_dir: impl Into<PathBuf>,
    ) -> ExecutionContextBuilder {
        ExecutionContextBuilder {
            mode,
            execution_id: WorkflowExecutionIdentifier {
                project: "local".into(),
                domain: "local".into(),
                name: "local".into(),
                ..Default::default()
            },
            task_id: Identifier::default(),
            attempt: 0,
            working_dir: working_dir.into(),
            output_prefix: String::new(),
            conversion,
            checkpoint: None,
            secrets: None,
        }
    }

    /// A context for the local engine over `cx`.
    pub fn local(cx: &ConversionContext) -> Self {
        Self::builder(
            ExecutionMode::Local,
            cx.clone(),
            cx.local_dir().to_path_buf(),
        )
        .build()
    }

    /// Container or local.
    pub fn mode(&self) -> ExecutionMode {
        self.0.common.mode
    }

    /// The workflow execution's id (project, domain, name).
    pub fn execution_id(&self) -> &WorkflowExecutionIdentifier {
        &self.0.common.execution_id
    }

    /// The running task's id.
    pub fn task_id(&self) -> &Identifier {
        &self.0.common.task_id
    }

    /// The attempt number (0 for the first).
    pub fn attempt(&self) -> u32 {
        self.0.common.attempt
    }

    /// A scratch directory for this attempt.
    pub fn working_dir(&self) -> &Path {
        &self.0.common.working_dir
    }

    /// Where outputs metadata goes (`--output-prefix`).
    pub fn output_prefix(&self) -> &str {
        &self.0.common.output_prefix
    }

    /// Where new blobs go (`--raw-output-data-prefix`).
    pub fn raw_output_prefix(&self) -> &str {
        self.0.common.conversion.raw_output_prefix()
    }

    /// The conversion context for the type engine.
    pub fn conversion(&self) -> &ConversionContext {
        &self.0.common.conversion
    }

    /// The storage behind inputs, outputs and blobs.
    pub fn storage(&self) -> &Storage {
        self.0.common.conversion.storage()
    }

    /// The checkpoints, when the platform provides a checkpoint prefix.
    pub fn checkpoint(&self) -> Option<&Checkpoint> {
        self.0.common.checkpoint.as_ref()
    }

    /// Reads a secret requested by the task.
    pub fn secret(&self, group: &str, key: &str) -> Result<SecretValue, SecretError> {
        self.0.common.secrets.get(group, key, None)
    }

    /// Reads a versioned secret.
    pub fn secret_versioned(
        &self,
        group: &str,
        key: &str,
        version: &str,
    ) -> Result<SecretValue, SecretError> {
        self.0.common.secrets.get(group, key, Some(version))
    }

    /// Adds a deck to this run's `deck.html` (written when the task enables decks).
    pub fn add_deck(&self, deck: Deck) {
        if let Ok(mut d) = self.0.decks.lock() {
            d.push(deck);
        }
    }

    /// The decks added so far.
    pub fn decks(&self) -> Vec<Deck> {
        self.0.decks.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// Marks the start of a phase on the timeline deck.
    ///
    /// Only a task in a container keeps a timeline (its deck shows it); in the local engine
    /// this does nothing, so the many small tasks of a local run do not pay for it.
    pub fn record_phase(&self, phase: impl Into<Cow<'static, str>>) {
        let Some(started) = self.0.started else {
            return;
        };
        let at = started.elapsed().as_secs_f64();
        if let Ok(mut t) = self.0.timeline.lock() {
            t.push((phase.into(), at));
        }
    }

    /// The timeline marks so far.
    pub fn timeline(&self) -> Vec<(String, f64)> {
        self.0
            .timeline
            .lock()
            .map(|t| t.iter().map(|(p, at)| (p.to_string(), *at)).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(mode: ExecutionMode) -> ExecutionContext {
        let cx = ConversionContext::new(Storage::new(), std::env::temp_dir(), "/tmp/raw");
        ExecutionContext::builder(mode, cx, std::env::temp_dir())
            .secrets(SecretsManager::from_env(true))
            .attempt(2)
            .build()
    }

    #[test]
    fn only_containers_keep_a_timeline() {
        let container = context(ExecutionMode::Container);
        container.record_phase("Load task");
        container.record_phase(String::from("Read inputs"));
        let phases: Vec<String> = container.timeline().into_iter().map(|(p, _)| p).collect();
        assert_eq!(phases, ["Load task", "Read inputs"]);
        let local = context(ExecutionMode::Local);
        local.record_phase("Load task");
        assert!(local.timeline().is_empty());
    }

    #[test]
    fn fresh_contexts_share_the_template_but_not_its_decks() {
        let template = context(ExecutionMode::Local);
        template.add_deck(Deck::markdown("one", "1"));
        let fresh = template.fresh();
        assert_eq!(fresh.attempt(), 2);
        assert_eq!(fresh.working_dir(), template.working_dir());
        assert_eq!(fresh.raw_output_prefix(), "/tmp/raw");
        assert!(fresh.decks().is_empty());
        fresh.add_deck(Deck::markdown("two", "2"));
        assert_eq!(template.decks().len(), 1);
        assert_eq!(fresh.decks().len(), 1);
    }
}
