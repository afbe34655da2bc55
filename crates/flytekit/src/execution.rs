//! What a running task can see and use: its ids, attempt, working directory, storage, secrets,
//! checkpoints and decks (flytekit's `ExecutionParameters`).

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
    mode: ExecutionMode,
    execution_id: WorkflowExecutionIdentifier,
    task_id: Identifier,
    attempt: u32,
    working_dir: PathBuf,
    output_prefix: String,
    conversion: ConversionContext,
    checkpoint: Option<Checkpoint>,
    secrets: SecretsManager,
    decks: Mutex<Vec<Deck>>,
    timeline: Mutex<Vec<(String, f64)>>,
    started: Instant,
}

/// The context of one task attempt. Cheap to clone; user tasks receive `&ExecutionContext` as
/// an optional first parameter.
#[derive(Clone)]
pub struct ExecutionContext(Arc<Inner>);

impl std::fmt::Debug for ExecutionContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutionContext")
            .field("mode", &self.0.mode)
            .field("execution_id", &self.0.execution_id)
            .field("task_id", &self.0.task_id)
            .field("attempt", &self.0.attempt)
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
        ExecutionContext(Arc::new(Inner {
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
            decks: Mutex::new(Vec::new()),
            timeline: Mutex::new(Vec::new()),
            started: Instant::now(),
        }))
    }
}

impl ExecutionContext {
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
        self.0.mode
    }

    /// The workflow execution's id (project, domain, name).
    pub fn execution_id(&self) -> &WorkflowExecutionIdentifier {
        &self.0.execution_id
    }

    /// The running task's id.
    pub fn task_id(&self) -> &Identifier {
        &self.0.task_id
    }

    /// The attempt number (0 for the first).
    pub fn attempt(&self) -> u32 {
        self.0.attempt
    }

    /// A scratch directory for this attempt.
    pub fn working_dir(&self) -> &Path {
        &self.0.working_dir
    }

    /// Where outputs metadata goes (`--output-prefix`).
    pub fn output_prefix(&self) -> &str {
        &self.0.output_prefix
    }

    /// Where new blobs go (`--raw-output-data-prefix`).
    pub fn raw_output_prefix(&self) -> &str {
        self.0.conversion.raw_output_prefix()
    }

    /// The conversion context for the type engine.
    pub fn conversion(&self) -> &ConversionContext {
        &self.0.conversion
    }

    /// The storage behind inputs, outputs and blobs.
    pub fn storage(&self) -> &Storage {
        self.0.conversion.storage()
    }

    /// The checkpoints, when the platform provides a checkpoint prefix.
    pub fn checkpoint(&self) -> Option<&Checkpoint> {
        self.0.checkpoint.as_ref()
    }

    /// Reads a secret requested by the task.
    pub fn secret(&self, group: &str, key: &str) -> Result<SecretValue, SecretError> {
        self.0.secrets.get(group, key, None)
    }

    /// Reads a versioned secret.
    pub fn secret_versioned(
        &self,
        group: &str,
        key: &str,
        version: &str,
    ) -> Result<SecretValue, SecretError> {
        self.0.secrets.get(group, key, Some(version))
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
    pub fn record_phase(&self, phase: &str) {
        let at = self.0.started.elapsed().as_secs_f64();
        if let Ok(mut t) = self.0.timeline.lock() {
            t.push((phase.to_string(), at));
        }
    }

    /// The timeline marks so far.
    pub fn timeline(&self) -> Vec<(String, f64)> {
        self.0
            .timeline
            .lock()
            .map(|t| t.clone())
            .unwrap_or_default()
    }
}
