//! Tasks: a Rust function (or any body over literal maps) plus the configuration Flyte needs to run
//! it in a container — the analog of flytekit's `PythonAutoContainerTask`.
//!
//! `#[task]` builds a [`Task`] through [`TaskBuilder`] and registers it in this binary's task
//! registry, which the default resolver searches inside the container. The builder is public:
//! everything the macro does can be written by hand.

mod accelerator;
mod error;
mod pod;
mod resources;
mod secret;
mod template;
pub(crate) use template::entrypoint_command;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use flytekit_idl::core::{LiteralMap, LiteralType, TypedInterface, VariableMap};
use futures::FutureExt;

pub use accelerator::{A10G, A100, A100_80GB, Accelerator, H100, H200, L4, SharedMemory, T4};
pub use error::{
    BoxError, IgnoreOutputs, RecoverableError, TaskError, USER_RUNTIME_ERROR, UserError,
    error_chain,
};
pub use pod::{PRIMARY_CONTAINER_DEFAULT_NAME, PodTemplate};
pub use resources::{Quantity, ResourceSpec, Resources, validate_quantity};
pub use secret::{MountRequirement, Secret};
pub use template::{
    CommandFn, FastSerializationSettings, SerializationSettings, SerializeError,
    current_binary_name,
};

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
    body: TaskBody,
    pre_execute: Option<PreExecute>,
    post_execute: Option<PostExecute>,
    location: Option<TaskLocation>,
    resolver: String,
    loader_args: Option<Vec<String>>,
    command_fn: std::sync::RwLock<Option<CommandFn>>,
    extension: Option<TaskExtension>,
}

/// What makes a task more than a body over literal maps: a map over another task (an ArrayNode
/// on Flyte) or a dynamic workflow. Set by [`crate::map_task`](mod@crate::map_task) and `#[dynamic]`.
#[derive(Clone)]
#[non_exhaustive]
pub enum TaskExtension {
    /// A map task: runs its inner task once per element of its list inputs.
    Map(Arc<crate::map_task::MapSpec>),
    /// A dynamic task: its body builds a workflow from its inputs, which then runs.
    Dynamic(Arc<crate::dynamic::DynamicSpec>),
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

    /// The map specification when this is a map task (see [`crate::map_task`](mod@crate::map_task)).
    pub fn map_spec(&self) -> Option<&crate::map_task::MapSpec> {
        match &self.0.extension {
            Some(TaskExtension::Map(m)) => Some(m),
            _ => None,
        }
    }

    /// The dynamic specification when this is a `#[dynamic]` task (see [`crate::dynamic`](mod@crate::dynamic)).
    pub fn dynamic_spec(&self) -> Option<&crate::dynamic::DynamicSpec> {
        match &self.0.extension {
            Some(TaskExtension::Dynamic(d)) => Some(d),
            _ => None,
        }
    }

    /// A task with this one's configuration, hooks and resolver under a new name, interface, body
    /// and extension; its command function starts unset (map tasks are built this way).
    pub(crate) fn derived(
        &self,
        name: String,
        interface: TypedInterface,
        body: TaskBody,
        extension: Option<TaskExtension>,
    ) -> Task {
        let i = &self.0;
        Task(Arc::new(Inner {
            name,
            interface,
            config: i.config.clone(),
            body,
            pre_execute: i.pre_execute.clone(),
            post_execute: i.post_execute.clone(),
            location: i.location.clone(),
            resolver: i.resolver.clone(),
            loader_args: i.loader_args.clone(),
            command_fn: std::sync::RwLock::new(None),
            extension,
        }))
    }

    /// An identical copy with its own command function, so a temporary command swap
    /// ([`set_command_fn`](Self::set_command_fn)) cannot race other users of this task.
    pub(crate) fn detached(&self) -> Task {
        self.derived(
            self.0.name.clone(),
            self.0.interface.clone(),
            self.0.body.clone(),
            self.0.extension.clone(),
        )
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
            command_fn: std::sync::RwLock::new(None),
            extension: i.extension.clone(),
        }))
    }

    /// Runs the task on `inputs` (flytekit's `dispatch_execute`): `pre_execute`, the body with
    /// panics caught and reported as USER errors, then `post_execute`.
    pub async fn dispatch(
        &self,
        inputs: &LiteralMap,
        cx: &ExecutionContext,
    ) -> Result<LiteralMap, TaskError> {
        self.dispatch_owned(inputs.clone(), cx).await
    }

    /// [`dispatch`](Self::dispatch), taking the inputs: the body frees them once it has read its
    /// arguments, so a large input is not held twice (what the container entrypoint uses).
    pub async fn dispatch_owned(
        &self,
        inputs: LiteralMap,
        cx: &ExecutionContext,
    ) -> Result<LiteralMap, TaskError> {
        if let Some(pre) = &self.0.pre_execute {
            pre(cx).map_err(|e| {
                TaskError::System(format!("pre_execute failed: {}", error_chain(&*e)))
            })?;
        }
        cx.record_phase("Execute user level code");
        let body = (self.0.body)(cx.clone(), inputs);
        let outputs = match std::panic::AssertUnwindSafe(body).catch_unwind().await {
            Ok(r) => r?,
            Err(payload) => return Err(TaskError::from_panic(self.name(), payload)),
        };
        cx.record_phase("Post-process outputs");
        match &self.0.post_execute {
            Some(post) => post(cx, outputs).map_err(|e| {
                TaskError::System(format!("post_execute failed: {}", error_chain(&*e)))
            }),
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
    extension: Option<TaskExtension>,
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
            extension: None,
        }
    }

    /// Makes the task a map or dynamic task (used by [`crate::map_task`](mod@crate::map_task) and `#[dynamic]`).
    pub fn extension(mut self, extension: TaskExtension) -> Self {
        self.extension = Some(extension);
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

    /// Enables caching under `version`.
    pub fn cache(mut self, version: impl Into<String>) -> Self {
        self.config.cache = true;
        self.config.cache_version = version.into();
        self
    }

    /// Sets the cache flag alone (a version must follow through [`cache_version`](Self::cache_version)).
    pub fn cache_enabled(mut self, on: bool) -> Self {
        self.config.cache = on;
        self
    }

    /// Sets the cache version.
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
        let body = self.body.ok_or_else(|| {
            ConfigError::Invalid(format!("task {} has no body; call .body(...)", self.name))
        })?;
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
                .unwrap_or_else(|| crate::resolver::DEFAULT_RESOLVER_LOCATION.to_string()),
            loader_args: self.loader_args,
            command_fn: std::sync::RwLock::new(None),
            extension: self.extension,
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
                TaskError::System(format!("cannot read the inputs of task '{task}': {e}"))
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

tokio::task_local! {
    /// Set while code already runs on a blocking thread (the engine's map-task workers), where
    /// sync task bodies run in place instead of being handed to another thread.
    static ON_BLOCKING_THREAD: bool;
}

/// Runs `fut`, which the caller drives on a blocking thread, so that [`run_blocking`] inside it
/// calls sync task bodies in place.
pub(crate) async fn on_blocking_thread<F: Future>(fut: F) -> F::Output {
    ON_BLOCKING_THREAD.scope(true, fut).await
}

/// Runs blocking user code of a sync task on tokio's blocking pool, reporting a panic as a USER
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
        Err(e) => Err(TaskError::System(format!(
            "task '{task}' was cancelled: {e}"
        ))),
    }
}

/// A task registered by `#[task]`, found by the default resolver, `list`, `run` and `package`.
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
        let out = task.dispatch(&LiteralMap::default(), &cx).await.unwrap();
        assert!(seen.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(out.literals["o0"], literal(2));

        let failing = Task::builder("t.post_fails")
            .post_execute(|_, _| Err("post failed".into()))
            .body(|_, _| async { Ok(LiteralMap::default()) })
            .build()
            .unwrap();
        let err = failing
            .dispatch(&LiteralMap::default(), &cx)
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
            .dispatch(&LiteralMap::default(), &cx)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("kaboom"), "{err}");
        assert_eq!(err.to_container_error().origin, 1);
    }
}
