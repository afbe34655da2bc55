//! Tasks: a Rust function (or any body over literal maps) plus the configuration Flyte needs to run
//! it in a container — the analog of flytekit's `PythonAutoContainerTask`.
//!
//! `#[task]` builds a [`Task`] through [`TaskBuilder`] and registers it in this binary's task
//! registry, which the default resolver searches inside the container. The builder is public:
//! everything the macro does can be written by hand.

mod accelerator;
mod blocking;
mod error;
mod pod;
mod resources;
mod secret;

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use flytekit_idl::core::{LiteralMap, LiteralType, TypedInterface, VariableMap};
use futures::FutureExt;

pub use accelerator::{A10G, A100, A100_80GB, Accelerator, H100, H200, L4, SharedMemory, T4};
pub(crate) use blocking::on_blocking_thread;
pub use blocking::run_blocking;
pub use error::{
    BoxError, IgnoreOutputs, RecoverableError, TaskError, USER_RUNTIME_ERROR, UserError,
    error_chain,
};
pub use pod::{PRIMARY_CONTAINER_DEFAULT_NAME, PodTemplate};
pub use resources::{Quantity, ResourceSpec, Resources, validate_quantity};
pub use secret::{MountRequirement, Secret};

use crate::execution::ExecutionContext;
use crate::image::ImageSpec;
use crate::type_engine::{ConversionContext, FlyteType, TypeError};

/// The future a task body returns.
pub type TaskFuture = Pin<Box<dyn Future<Output = Result<LiteralMap, TaskError>> + Send>>;

/// A task body: receives the execution context and the input literals, returns output literals.
pub type TaskBody = Arc<dyn Fn(ExecutionContext, LiteralMap) -> TaskFuture + Send + Sync>;

/// A hook run before the body (flytekit's `pre_execute`).
pub type PreExecute = Arc<dyn Fn(&ExecutionContext) -> Result<(), BoxError> + Send + Sync>;

/// A hook run on the outputs after the body (flytekit's `post_execute`); its errors are SYSTEM
/// recoverable, as in flytekit.
pub type PostExecute =
    Arc<dyn Fn(&ExecutionContext, LiteralMap) -> Result<LiteralMap, BoxError> + Send + Sync>;

/// An invalid task configuration, reported when the task is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A bad resource quantity or a conflicting combination.
    #[error("resources: {0}")]
    Resources(String),
    /// A bad secret request.
    #[error("secret: {0}")]
    Secret(String),
    /// A bad pod template.
    #[error("pod template: {0}")]
    PodTemplate(String),
    /// Inconsistent cache settings.
    #[error("cache: {0}")]
    Cache(String),
    /// Any other invalid setting.
    #[error("{0}")]
    Invalid(String),
}

/// Which container image a task runs in.
#[derive(Clone, Debug, PartialEq)]
pub enum ContainerImage {
    /// An image name, possibly with `{{.image.NAME...}}` placeholders.
    Name(String),
    /// An image spec, built (or found) before registration; its name is content-addressed.
    Spec(Box<ImageSpec>),
}

/// Decks a task can render into `deck.html` (flytekit's `DeckField`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeckField {
    /// The input values.
    Input,
    /// The output values.
    Output,
    /// Timings of the run's phases.
    Timeline,
    /// The task's source location.
    SourceCode,
    /// The crates the binary was built with.
    Dependencies,
}

impl DeckField {
    /// flytekit's string value.
    pub fn as_str(&self) -> &'static str {
        match self {
            DeckField::Input => "Input",
            DeckField::Output => "Output",
            DeckField::Timeline => "Timeline",
            DeckField::SourceCode => "Source Code",
            DeckField::Dependencies => "Dependencies",
        }
    }

    /// flytekit's default `deck_fields`.
    pub const DEFAULT: [DeckField; 5] = [
        DeckField::SourceCode,
        DeckField::Dependencies,
        DeckField::Timeline,
        DeckField::Input,
        DeckField::Output,
    ];
}

/// Everything about a task except its body and interface.
#[derive(Clone, Debug)]
pub struct TaskConfig {
    /// The Flyte task type; `python-task` selects Propeller's container plugin, which runs any
    /// container that honours the entrypoint contract.
    pub task_type: String,
    /// The image; `None` means the default image of the serialization settings.
    pub image: Option<ContainerImage>,
    /// Requests and limits, validated.
    pub resources: ResourceSpec,
    /// Environment variables, in order.
    pub environment: Vec<(String, String)>,
    /// Secrets to mount.
    pub secrets: Vec<Secret>,
    /// A pod template, which replaces the container target by a `k8s_pod`.
    pub pod_template: Option<PodTemplate>,
    /// The name of a pod template registered on the cluster.
    pub pod_template_name: Option<String>,
    /// A GPU accelerator.
    pub accelerator: Option<Accelerator>,
    /// Shared memory at `/dev/shm`.
    pub shared_memory: Option<SharedMemory>,
    /// Retries after the first attempt.
    pub retries: u32,
    /// Per-attempt timeout.
    pub timeout: Option<Duration>,
    /// Whether outputs are cached (Flyte's "discoverable").
    pub cache: bool,
    /// The cache version; required with `cache`.
    pub cache_version: String,
    /// Whether concurrent identical runs wait for one another.
    pub cache_serialize: bool,
    /// Inputs left out of the cache key.
    pub cache_ignored_inputs: Vec<String>,
    /// Whether the task may run on interruptible (spot) nodes; `None` inherits.
    pub interruptible: Option<bool>,
    /// A deprecation message shown at registration.
    pub deprecated: Option<String>,
    /// Pod labels (`TaskMetadata.metadata.labels`).
    pub labels: BTreeMap<String, String>,
    /// Pod annotations.
    pub annotations: BTreeMap<String, String>,
    /// Task metadata tags.
    pub tags: BTreeMap<String, String>,
    /// Whether `deck.html` is written.
    pub enable_deck: bool,
    /// The decks rendered when enabled.
    pub deck_fields: Vec<DeckField>,
    /// The task's documentation (the function's doc comment).
    pub docs: String,
    /// Where the task was defined (`file:line`), for the Source Code deck.
    pub source: Option<String>,
}

impl Default for TaskConfig {
    fn default() -> Self {
        Self {
            task_type: "python-task".into(),
            image: None,
            resources: ResourceSpec::default(),
            environment: Vec::new(),
            secrets: Vec::new(),
            pod_template: None,
            pod_template_name: None,
            accelerator: None,
            shared_memory: None,
            retries: 0,
            timeout: None,
            cache: false,
            cache_version: String::new(),
            cache_serialize: false,
            cache_ignored_inputs: Vec::new(),
            interruptible: None,
            deprecated: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            tags: BTreeMap::new(),
            enable_deck: false,
            deck_fields: Vec::new(),
            docs: String::new(),
            source: None,
        }
    }
}

/// The `--resolver` location a task names unless it is given another: the default resolver, which
/// finds `#[task]`s in this binary's registry (see [`crate::resolver`]).
pub const DEFAULT_RESOLVER_LOCATION: &str = "flytekit.resolver.default";

/// Where the default resolver finds a task again: its Rust module and function name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskLocation {
    /// The module path in Flyte's dotted form (`quickstart.tasks`).
    pub module: String,
    /// The function (or registered value) name (`add`).
    pub name: String,
}

struct Inner {
    name: String,
    interface: TypedInterface,
    config: TaskConfig,
    body: Option<TaskBody>,
    pre_execute: Option<PreExecute>,
    post_execute: Option<PostExecute>,
    location: Option<TaskLocation>,
    resolver: String,
    loader_args: Option<Vec<String>>,
    kind: Option<TaskKind>,
}

/// What makes a task more than a body over literal maps — a map over another task, a dynamic
/// workflow, later others — as a typed value attached to the task. The task module does not know
/// the kinds: each kind's module attaches its value with [`TaskBuilder::kind`] and finds it again
/// with [`Task::kind`]; serialization and the runtime match on them.
#[derive(Clone)]
pub struct TaskKind(Arc<dyn Any + Send + Sync>);

impl TaskKind {
    /// Wraps a kind's value.
    pub fn new<K: Any + Send + Sync>(value: K) -> Self {
        Self(Arc::new(value))
    }

    /// Wraps a shared kind value.
    pub fn from_arc<K: Any + Send + Sync>(value: Arc<K>) -> Self {
        Self(value)
    }
}

impl fmt::Debug for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TaskKind(..)")
    }
}

/// A Flyte task: a name, a typed interface, configuration, and a body. Cheap to clone.
#[derive(Clone)]
pub struct Task(Arc<Inner>);

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("name", &self.0.name)
            .field("resolver", &self.0.resolver)
            .finish_non_exhaustive()
    }
}

impl Task {
    /// Starts building a task named `name` (the Flyte name, e.g. `quickstart.tasks.add`).
    pub fn builder(name: impl Into<String>) -> TaskBuilder {
        TaskBuilder::new(name)
    }

    /// The registered name.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The last segment of the name.
    pub fn short_name(&self) -> &str {
        self.0.name.rsplit('.').next().unwrap_or(&self.0.name)
    }

    /// The typed interface.
    pub fn interface(&self) -> &TypedInterface {
        &self.0.interface
    }

    /// The configuration.
    pub fn config(&self) -> &TaskConfig {
        &self.0.config
    }

    /// Where the default resolver finds it, for registered tasks.
    pub fn location(&self) -> Option<&TaskLocation> {
        self.0.location.as_ref()
    }

    /// The location of the resolver that loads it in the container (`--resolver`).
    pub fn resolver_location(&self) -> &str {
        &self.0.resolver
    }

    /// The loader args set explicitly by the builder (instance tasks), if any.
    pub fn explicit_loader_args(&self) -> Option<&[String]> {
        self.0.loader_args.as_deref()
    }

    /// The task's kind value of type `K`, when it has one (see [`TaskKind`]).
    pub fn kind<K: Any + Send + Sync>(&self) -> Option<&K> {
        self.0.kind.as_ref().and_then(|k| k.0.downcast_ref::<K>())
    }

    /// Whether the task has a kind (a map, a dynamic workflow, ...) beyond a plain body.
    pub fn has_kind(&self) -> bool {
        self.0.kind.is_some()
    }

    /// A task with this one's configuration, body, hooks and resolver under a new name, interface
    /// and kind (map tasks are built this way).
    pub(crate) fn derived(
        &self,
        name: String,
        interface: TypedInterface,
        kind: Option<TaskKind>,
    ) -> Task {
        let i = &self.0;
        Task(Arc::new(Inner {
            name,
            interface,
            config: i.config.clone(),
            body: i.body.clone(),
            pre_execute: i.pre_execute.clone(),
            post_execute: i.post_execute.clone(),
            location: i.location.clone(),
            resolver: i.resolver.clone(),
            loader_args: i.loader_args.clone(),
            kind,
        }))
    }

    /// This task under a different resolver and loader args (map tasks name theirs).
    pub(crate) fn with_resolver(self, resolver: String, loader_args: Option<Vec<String>>) -> Task {
        let i = &self.0;
        Task(Arc::new(Inner {
            name: i.name.clone(),
            interface: i.interface.clone(),
            config: i.config.clone(),
            body: i.body.clone(),
            pre_execute: i.pre_execute.clone(),
            post_execute: i.post_execute.clone(),
            location: None,
            resolver,
            loader_args,
            kind: i.kind.clone(),
        }))
    }

    /// Runs the task's own body on `inputs`: `pre_execute`, the body with panics caught and
    /// reported as USER errors, then `post_execute`. Kinds (map, dynamic) are run by the runtime
    /// (`Task::dispatch`), which calls this for plain tasks.
    pub(crate) async fn call_body(
        &self,
        inputs: &LiteralMap,
        cx: &ExecutionContext,
    ) -> Result<LiteralMap, TaskError> {
        self.call_body_owned(inputs.clone(), cx).await
    }

    /// [`call_body`](Self::call_body), taking the inputs: the body frees them once it has read
    /// its arguments, so a large input is not held twice (what the container entrypoint uses).
    pub(crate) async fn call_body_owned(
        &self,
        inputs: LiteralMap,
        cx: &ExecutionContext,
    ) -> Result<LiteralMap, TaskError> {
        let Some(body) = &self.0.body else {
            return Err(TaskError::system(format!(
                "task {} has no body of its own; run it through the engine or the entrypoint",
                self.name()
            )));
        };
        if let Some(pre) = &self.0.pre_execute {
            pre(cx).map_err(|e| TaskError::system_caused_by("pre_execute failed", e))?;
        }
        cx.record_phase("Execute user level code");
        let body = body(cx.clone(), inputs);
        let outputs = match std::panic::AssertUnwindSafe(body).catch_unwind().await {
            Ok(r) => r?,
            Err(payload) => return Err(TaskError::from_panic(self.name(), payload)),
        };
        cx.record_phase("Post-process outputs");
        match &self.0.post_execute {
            Some(post) => {
                post(cx, outputs).map_err(|e| TaskError::system_caused_by("post_execute failed", e))
            }
            None => Ok(outputs),
        }
    }
}

/// Builds a [`Task`]; [`build`](TaskBuilder::build) validates the configuration.
pub struct TaskBuilder {
    name: String,
    interface: TypedInterface,
    config: TaskConfig,
    requests: Resources,
    limits: Resources,
    resources: Option<Resources>,
    body: Option<TaskBody>,
    pre_execute: Option<PreExecute>,
    post_execute: Option<PostExecute>,
    location: Option<TaskLocation>,
    resolver: Option<String>,
    loader_args: Option<Vec<String>>,
    errors: Vec<ConfigError>,
    kind: Option<TaskKind>,
}

impl TaskBuilder {
    /// A builder for a task named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            interface: TypedInterface {
                inputs: Some(VariableMap::default()),
                outputs: Some(VariableMap::default()),
            },
            config: TaskConfig::default(),
            requests: Resources::default(),
            limits: Resources::default(),
            resources: None,
            body: None,
            pre_execute: None,
            post_execute: None,
            location: None,
            resolver: None,
            loader_args: None,
            errors: Vec::new(),
            kind: None,
        }
    }

    /// Gives the task a kind (a map, a dynamic workflow, ...; see [`TaskKind`]). A task with a
    /// kind needs no body of its own: the runtime runs the kind.
    pub fn kind(mut self, kind: TaskKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Declares input `name` of Rust type `T` (description: `description`, or the name).
    pub fn input<T: FlyteType>(self, name: &str, description: &str) -> Self {
        self.input_type(name, T::literal_type(), description)
    }

    /// Declares input `name` with an explicit literal type.
    pub fn input_type(mut self, name: &str, ty: LiteralType, description: &str) -> Self {
        add_variable(
            self.interface.inputs.get_or_insert_default(),
            name,
            ty,
            description,
        );
        self
    }

    /// Declares output `name` of Rust type `T`.
    pub fn output<T: FlyteType>(self, name: &str, description: &str) -> Self {
        self.output_type(name, T::literal_type(), description)
    }

    /// Declares output `name` with an explicit literal type.
    pub fn output_type(mut self, name: &str, ty: LiteralType, description: &str) -> Self {
        add_variable(
            self.interface.outputs.get_or_insert_default(),
            name,
            ty,
            description,
        );
        self
    }

    /// Sets the body.
    pub fn body<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(ExecutionContext, LiteralMap) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<LiteralMap, TaskError>> + Send + 'static,
    {
        self.body = Some(Arc::new(move |cx, inputs| Box::pin(f(cx, inputs))));
        self
    }

    /// Records where the default resolver finds this task: `module` is a `module_path!()`.
    pub fn located_at(mut self, module: &str, name: &str) -> Self {
        self.location = Some(TaskLocation {
            module: module.replace("::", "."),
            name: name.to_string(),
        });
        self
    }

    /// Uses the resolver at `location` with explicit loader args (instance tasks).
    pub fn resolver(mut self, location: impl Into<String>, loader_args: Vec<String>) -> Self {
        self.resolver = Some(location.into());
        self.loader_args = Some(loader_args);
        self
    }

    /// Sets the task type (default `python-task`).
    pub fn task_type(mut self, t: impl Into<String>) -> Self {
        self.config.task_type = t.into();
        self
    }

    /// Sets the image: a name (placeholders allowed) ...
    pub fn image(mut self, image: impl Into<String>) -> Self {
        self.config.image = Some(ContainerImage::Name(image.into()));
        self
    }

    /// ... or an image spec.
    pub fn image_spec(mut self, spec: ImageSpec) -> Self {
        self.config.image = Some(ContainerImage::Spec(Box::new(spec)));
        self
    }

    /// Sets requests.
    pub fn requests(mut self, r: Resources) -> Self {
        self.requests = r;
        self
    }

    /// Sets limits.
    pub fn limits(mut self, r: Resources) -> Self {
        self.limits = r;
        self
    }

    /// Sets request/limit pairs (not with `requests`/`limits`).
    pub fn resources(mut self, r: Resources) -> Self {
        self.resources = Some(r);
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        let (k, v) = (k.into(), v.into());
        // A repeated key keeps its first position, like a Python dict update.
        match self.config.environment.iter_mut().find(|(x, _)| x == &k) {
            Some(entry) => entry.1 = v,
            None => self.config.environment.push((k, v)),
        }
        self
    }

    /// Requests a secret.
    pub fn secret(mut self, s: Secret) -> Self {
        self.config.secrets.push(s);
        self
    }

    /// Sets a pod template.
    pub fn pod_template(mut self, p: PodTemplate) -> Self {
        self.config.pod_template = Some(p);
        self
    }

    /// Names a cluster pod template.
    pub fn pod_template_name(mut self, n: impl Into<String>) -> Self {
        self.config.pod_template_name = Some(n.into());
        self
    }

    /// Sets the accelerator.
    pub fn accelerator(mut self, a: Accelerator) -> Self {
        self.config.accelerator = Some(a);
        self
    }

    /// Mounts unbounded shared memory.
    pub fn shared_memory(mut self) -> Self {
        self.config.shared_memory = Some(SharedMemory::Unlimited);
        self
    }

    /// Mounts shared memory limited to `size` (a Kubernetes quantity).
    pub fn shared_memory_limit(mut self, size: impl Into<String>) -> Self {
        let size = size.into();
        if let Err(e) = validate_quantity("shared_memory", &size) {
            self.errors.push(e);
        }
        self.config.shared_memory = Some(SharedMemory::Limit(size));
        self
    }

    /// Sets retries.
    pub fn retries(mut self, n: u32) -> Self {
        self.config.retries = n;
        self
    }

    /// Sets the timeout.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.config.timeout = Some(d);
        self
    }

    /// Caches the task's outputs under `version` (Flyte's "discoverable"; a new version
    /// invalidates earlier outputs).
    pub fn cache(mut self, version: impl Into<String>) -> Self {
        self.config.cache = true;
        self.config.cache_version = version.into();
        self
    }

    /// Records a cache version without enabling the cache (flytekit serializes it either way).
    pub fn cache_version(mut self, v: impl Into<String>) -> Self {
        self.config.cache_version = v.into();
        self
    }

    /// Serializes concurrent identical cached runs.
    pub fn cache_serialize(mut self, on: bool) -> Self {
        self.config.cache_serialize = on;
        self
    }

    /// Leaves `inputs` out of the cache key.
    pub fn cache_ignored_inputs<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        inputs: I,
    ) -> Self {
        self.config.cache_ignored_inputs = inputs.into_iter().map(Into::into).collect();
        self
    }

    /// Marks interruptible.
    pub fn interruptible(mut self, on: bool) -> Self {
        self.config.interruptible = Some(on);
        self
    }

    /// Marks deprecated with a message.
    pub fn deprecated(mut self, msg: impl Into<String>) -> Self {
        self.config.deprecated = Some(msg.into());
        self
    }

    /// Adds a pod label.
    pub fn label(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.config.labels.insert(k.into(), v.into());
        self
    }

    /// Adds a pod annotation.
    pub fn annotation(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.config.annotations.insert(k.into(), v.into());
        self
    }

    /// Adds a metadata tag.
    pub fn tag(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.config.tags.insert(k.into(), v.into());
        self
    }

    /// Enables `deck.html` with the default deck fields.
    pub fn enable_deck(mut self, on: bool) -> Self {
        self.config.enable_deck = on;
        self
    }

    /// Chooses the deck fields (kept only when decks are enabled, as in flytekit).
    pub fn deck_fields(mut self, fields: &[DeckField]) -> Self {
        self.config.deck_fields = fields.to_vec();
        self
    }

    /// Sets the documentation.
    pub fn docs(mut self, docs: impl Into<String>) -> Self {
        self.config.docs = docs.into();
        self
    }

    /// Records the source location.
    pub fn source(mut self, s: impl Into<String>) -> Self {
        self.config.source = Some(s.into());
        self
    }

    /// Adds a `pre_execute` hook.
    pub fn pre_execute(
        mut self,
        f: impl Fn(&ExecutionContext) -> Result<(), BoxError> + Send + Sync + 'static,
    ) -> Self {
        self.pre_execute = Some(Arc::new(f));
        self
    }

    /// Adds a `post_execute` hook.
    pub fn post_execute(
        mut self,
        f: impl Fn(&ExecutionContext, LiteralMap) -> Result<LiteralMap, BoxError>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.post_execute = Some(Arc::new(f));
        self
    }

    /// Validates and builds the task.
    pub fn build(mut self) -> Result<Task, ConfigError> {
        if let Some(e) = self.errors.pop() {
            return Err(e);
        }
        self.config.resources = match &self.resources {
            Some(_) if !self.requests.is_empty() || !self.limits.is_empty() => {
                return Err(ConfigError::Resources(
                    "`resources` can not be used together with `limits` or `requests`; set only `resources`".into(),
                ));
            }
            Some(r) => ResourceSpec::from_pairs(r)?,
            None => ResourceSpec::from_requests_limits(&self.requests, &self.limits)?,
        };
        for s in &self.config.secrets {
            s.validate()?;
        }
        if let Some(p) = &self.config.pod_template {
            p.validate()?;
        }
        if self.config.cache && self.config.cache_version.is_empty() {
            return Err(ConfigError::Cache(
                "caching is enabled (`cache`) but `cache_version` is not set; add cache_version = \"1\"".into(),
            ));
        }
        if self.config.cache_serialize && !self.config.cache {
            return Err(ConfigError::Cache(
                "`cache_serialize` is enabled but `cache` is not".into(),
            ));
        }
        let inputs = self.interface.inputs.clone().unwrap_or_default();
        for ignored in &self.config.cache_ignored_inputs {
            if !inputs.variables.contains_key(ignored) {
                return Err(ConfigError::Cache(format!(
                    "cache_ignored_inputs names `{ignored}`, which is not an input of task {}",
                    self.name
                )));
            }
        }
        if self.config.enable_deck && self.config.deck_fields.is_empty() {
            self.config.deck_fields = DeckField::DEFAULT.to_vec();
        } else if !self.config.enable_deck {
            self.config.deck_fields.clear();
        }
        if self.name.is_empty() {
            return Err(ConfigError::Invalid("a task needs a name".into()));
        }
        if self.body.is_none() && self.kind.is_none() {
            return Err(ConfigError::Invalid(format!(
                "task {} has no body; call .body(...)",
                self.name
            )));
        }
        let body = self.body;
        Ok(Task(Arc::new(Inner {
            name: self.name,
            interface: self.interface,
            config: self.config,
            body,
            pre_execute: self.pre_execute,
            post_execute: self.post_execute,
            location: self.location,
            resolver: self
                .resolver
                .unwrap_or_else(|| DEFAULT_RESOLVER_LOCATION.to_string()),
            loader_args: self.loader_args,
            kind: self.kind,
        })))
    }
}

fn add_variable(map: &mut VariableMap, name: &str, ty: LiteralType, description: &str) {
    map.variables.insert(
        name.to_string(),
        flytekit_idl::core::Variable {
            r#type: Some(ty),
            description: if description.is_empty() {
                name.to_string()
            } else {
                description.to_string()
            },
            ..Default::default()
        },
    );
}

/// Reads input `name` for a task body; a failure is an input-conversion error naming the task.
pub async fn read_input<T: FlyteType>(
    task: &str,
    inputs: &LiteralMap,
    name: &str,
    cx: &ConversionContext,
) -> Result<T, TaskError> {
    crate::type_engine::read_input(inputs, name, cx)
        .await
        .map_err(|e: TypeError| match e.storage_error() {
            // A download that failed but may work later (the network, the store): recoverable,
            // as flytekit's FlyteDownloadDataException.
            Some(s) if s.retry_may_help() => {
                TaskError::system(format!("cannot read the inputs of task '{task}': {e}"))
            }
            _ => TaskError::InputConversion {
                task: task.to_string(),
                message: e.to_string(),
            },
        })
}

/// Writes output `name` for a task body; a failure is an output-conversion error naming the task.
pub async fn write_output<T: FlyteType>(
    task: &str,
    outputs: &mut LiteralMap,
    name: &str,
    value: &T,
    cx: &ConversionContext,
) -> Result<(), TaskError> {
    crate::type_engine::write_output(outputs, name, value, cx)
        .await
        .map_err(|e: TypeError| TaskError::OutputConversion {
            task: task.to_string(),
            message: e.to_string(),
        })
}

/// A task registered by `#[task]`, found by the default resolver, `list`, `run` and `package`.
#[doc(hidden)]
pub struct TaskRegistration {
    build: fn() -> Task,
}

impl TaskRegistration {
    /// A registration whose task is built by `build`.
    pub const fn new(build: fn() -> Task) -> Self {
        Self { build }
    }

    /// Builds (or returns the already built) task.
    pub fn task(&self) -> Task {
        (self.build)()
    }
}

inventory::collect!(TaskRegistration);

/// Every task registered in this binary, sorted by name.
pub fn registered() -> Vec<Task> {
    let mut all: Vec<Task> = inventory::iter::<TaskRegistration>()
        .map(|r| r.task())
        .collect();
    all.sort_by(|a, b| a.name().cmp(b.name()));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(v: i64) -> flytekit_idl::core::Literal {
        use flytekit_idl::core::{Primitive, Scalar, literal, primitive, scalar};
        flytekit_idl::core::Literal {
            value: Some(literal::Value::Scalar(Scalar {
                value: Some(scalar::Value::Primitive(Primitive {
                    value: Some(primitive::Value::Integer(v)),
                })),
            })),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn hooks_run_around_the_body_and_their_errors_are_system_errors() {
        let seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen2 = seen.clone();
        let task = Task::builder("t.hooked")
            .output::<i64>("o0", "")
            .pre_execute(move |_| {
                seen2.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            })
            .post_execute(|_, mut out| {
                out.literals.insert("o0".into(), literal(2));
                Ok(out)
            })
            .body(|_, _| async {
                let mut m = LiteralMap::default();
                m.literals.insert("o0".into(), literal(1));
                Ok(m)
            })
            .build()
            .unwrap();
        let cx = ExecutionContext::local(&ConversionContext::in_memory());
        let out = task.call_body(&LiteralMap::default(), &cx).await.unwrap();
        assert!(seen.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(out.literals["o0"], literal(2));

        let failing = Task::builder("t.post_fails")
            .post_execute(|_, _| Err("post failed".into()))
            .body(|_, _| async { Ok(LiteralMap::default()) })
            .build()
            .unwrap();
        let err = failing
            .call_body(&LiteralMap::default(), &cx)
            .await
            .unwrap_err();
        let ce = err.to_container_error();
        assert_eq!((ce.code.as_str(), ce.kind, ce.origin), ("SYSTEM", 1, 2));
    }

    #[tokio::test]
    async fn panics_in_async_bodies_are_user_errors() {
        let task = Task::builder("t.panics")
            .body(|_, _| async { panic!("kaboom") })
            .build()
            .unwrap();
        let cx = ExecutionContext::local(&ConversionContext::in_memory());
        let err = task
            .call_body(&LiteralMap::default(), &cx)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("kaboom"), "{err}");
        assert_eq!(err.to_container_error().origin, 1);
    }
}
