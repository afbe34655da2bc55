//! Instances declared for registration: a program registers provider functions that return its
//! instance tasks (and the workflows built from the same configuration); `list` shows them,
//! `serialize` and `package` write their `TaskSpec`s, `run` finds their workflows.
//!
//! ```no_run
//! use flytekit::instance::{Instances, ProviderArgs};
//! # #[derive(serde::Serialize, serde::Deserialize)] struct Table { name: String }
//! # impl flytekit::instance::InstanceTask for Table {
//! #     const TYPE_TAG: &'static str = "doc.Table";
//! #     fn task(&self) -> flytekit::TaskBuilder { unimplemented!() }
//! # }
//! # flytekit::register_instance_type!(Table);
//!
//! /// One task per table of the configuration file (`--instance-arg config=tables.yaml`).
//! fn tables(args: &ProviderArgs) -> Result<Instances, flytekit::task::BoxError> {
//!     let text = std::fs::read_to_string(args.get_or("config", "tables.yaml"))?;
//!     let tables: Vec<Table> = serde_yaml::from_str(&text)?;
//!     let mut out = Instances::new();
//!     for t in &tables {
//!         out.add(t)?;
//!     }
//!     Ok(out)
//! }
//! flytekit::register_instances!(tables);
//! ```
//!
//! Providers run where instances are registered or run locally — never in a task's container,
//! which rebuilds its instance from its loader args alone.

use std::collections::BTreeMap;

use super::InstanceError;
use super::deferred::task_of;
use super::registry::InstanceTask;
use crate::task::{BoxError, Task, error_chain};
use crate::workflow::Workflow;

/// The arguments providers are called with: `KEY=VALUE` pairs given on the command line
/// (`--instance-arg KEY=VALUE`, repeatable).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderArgs {
    args: BTreeMap<String, String>,
}

impl ProviderArgs {
    /// No arguments.
    pub fn new() -> Self {
        Self::default()
    }

    /// The arguments `pairs`.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            args: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.args.get(key).map(String::as_str)
    }

    /// The value of `key`, or `default`.
    pub fn get_or<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.get(key).unwrap_or(default)
    }

    /// The value of `key`, or an error that says how to give it.
    pub fn require(&self, key: &str) -> Result<&str, ProviderError> {
        self.get(key).ok_or_else(|| ProviderError::MissingArg {
            key: key.to_string(),
        })
    }

    /// Every argument, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.args.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// What a provider declares: instance tasks (made by
/// [`task_of`] or `#[instance_task]`), whether they travel in one bundle, and workflows built from
/// the same configuration.
#[derive(Clone, Debug, Default)]
pub struct Instances {
    tasks: Vec<Task>,
    workflows: Vec<Workflow>,
    bundled: bool,
}

impl Instances {
    /// Nothing declared yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares an instance task (made by [`task_of`] or `#[instance_task]`'s `task`).
    pub fn push(&mut self, task: Task) -> &mut Self {
        self.tasks.push(task);
        self
    }

    /// Declares the task of `value` ([`task_of`]) and returns it.
    pub fn add<T: InstanceTask>(&mut self, value: &T) -> Result<Task, InstanceError> {
        let task = task_of(value)?;
        self.tasks.push(task.clone());
        Ok(task)
    }

    /// Declares a workflow built from the configuration (found by `run`, `list`, `package`).
    pub fn workflow(mut self, workflow: Workflow) -> Self {
        self.workflows.push(workflow);
        self
    }

    /// Declares a workflow built from the configuration, in place.
    pub fn push_workflow(&mut self, workflow: Workflow) -> &mut Self {
        self.workflows.push(workflow);
        self
    }

    /// Ships these instances in one uploaded bundle (one object, one digest) instead of one
    /// payload each.
    pub fn bundled(mut self) -> Self {
        self.bundled = true;
        self
    }

    /// The declared instance tasks.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The declared workflows.
    pub fn workflows(&self) -> &[Workflow] {
        &self.workflows
    }

    /// Whether these instances travel in one bundle.
    pub fn is_bundled(&self) -> bool {
        self.bundled
    }
}

impl FromIterator<Task> for Instances {
    fn from_iter<I: IntoIterator<Item = Task>>(iter: I) -> Self {
        Self {
            tasks: iter.into_iter().collect(),
            ..Self::default()
        }
    }
}

impl Extend<Task> for Instances {
    fn extend<I: IntoIterator<Item = Task>>(&mut self, iter: I) {
        self.tasks.extend(iter);
    }
}

/// The signature of a provider function.
pub type ProvideFn = fn(&ProviderArgs) -> Result<Instances, BoxError>;

/// A provider registered with [`register_instances!`](crate::register_instances).
pub struct InstanceProvider {
    name: &'static str,
    provide: ProvideFn,
}

impl InstanceProvider {
    /// The registration of `provide`, named `name` (its Rust path) in messages.
    pub const fn new(name: &'static str, provide: ProvideFn) -> Self {
        Self { name, provide }
    }

    /// The provider's name (its Rust path).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Calls it.
    pub fn provide(&self, args: &ProviderArgs) -> Result<Instances, ProviderError> {
        let instances = (self.provide)(args).map_err(|e| match e.downcast::<ProviderError>() {
            Ok(p) => match *p {
                ProviderError::MissingArg { key } => ProviderError::Failed {
                    provider: self.name.to_string(),
                    message: format!(
                        "it needs the argument `{key}`; pass --instance-arg {key}=<value>"
                    ),
                },
                other => other,
            },
            Err(e) => ProviderError::Failed {
                provider: self.name.to_string(),
                message: error_chain(&*e),
            },
        })?;
        for t in &instances.tasks {
            if t.instance_payload().is_none() {
                return Err(ProviderError::NotAnInstance {
                    provider: self.name.to_string(),
                    task: t.name().to_string(),
                });
            }
        }
        Ok(instances)
    }
}

inventory::collect!(InstanceProvider);

/// Registers a provider of instance tasks for registration: `fn tables(args: &ProviderArgs) ->
/// Result<Instances, BoxError>`, then `flytekit::register_instances!(tables);` at module level.
#[macro_export]
macro_rules! register_instances {
    ($provider:path) => {
        $crate::__private::inventory::submit! {
            $crate::instance::InstanceProvider::new(
                ::std::concat!(::std::module_path!(), "::", ::std::stringify!($provider)),
                $provider,
            )
        }
    };
}

/// The providers registered in this binary, sorted by name.
pub fn registered_providers() -> Vec<&'static InstanceProvider> {
    let mut all: Vec<&'static InstanceProvider> = inventory::iter::<InstanceProvider>().collect();
    all.sort_by_key(|p| p.name);
    all
}

/// Calls every registered provider with `args`: what each declares, by provider name. Two
/// declared tasks (or two declared workflows) may not share a name.
pub fn declared(args: &ProviderArgs) -> Result<Vec<(&'static str, Instances)>, ProviderError> {
    let mut out: Vec<(&'static str, Instances)> = Vec::new();
    let mut tasks: BTreeMap<String, &'static str> = BTreeMap::new();
    let mut workflows: BTreeMap<String, &'static str> = BTreeMap::new();
    for p in registered_providers() {
        let instances = p.provide(args)?;
        for (names, entity) in [
            (
                instances.tasks.iter().map(|t| t.name()).collect::<Vec<_>>(),
                "task",
            ),
            (
                instances.workflows.iter().map(|w| w.name()).collect(),
                "workflow",
            ),
        ] {
            let seen = if entity == "task" {
                &mut tasks
            } else {
                &mut workflows
            };
            for name in names {
                if let Some(first) = seen.insert(name.to_string(), p.name) {
                    return Err(ProviderError::Duplicate {
                        entity,
                        name: name.to_string(),
                        providers: if first == p.name {
                            vec![p.name.to_string()]
                        } else {
                            vec![first.to_string(), p.name.to_string()]
                        },
                    });
                }
            }
        }
        out.push((p.name, instances));
    }
    Ok(out)
}

/// Why the declared instances could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// A provider returned an error.
    #[error("instance provider {provider} failed: {message}")]
    Failed {
        /// The provider.
        provider: String,
        /// Its error, with its causes.
        message: String,
    },
    /// A provider needs an argument that was not given (returned by [`ProviderArgs::require`]).
    #[error("missing instance argument `{key}`; pass --instance-arg {key}=<value>")]
    MissingArg {
        /// The argument.
        key: String,
    },
    /// A provider declared a task that is not an instance task.
    #[error(
        "instance provider {provider} declared task {task}, which is not an instance task; make \
         it with flytekit::instance::task_of, Instances::add or an #[instance_task]'s task(..)"
    )]
    NotAnInstance {
        /// The provider.
        provider: String,
        /// The task.
        task: String,
    },
    /// Two declared entities share a name.
    #[error(
        "{entity} {name} is declared twice (by {}); give each instance its own name",
        providers.join(" and ")
    )]
    Duplicate {
        /// `task` or `workflow`.
        entity: &'static str,
        /// The name.
        name: String,
        /// The providers that declared it.
        providers: Vec<String>,
    },
}
