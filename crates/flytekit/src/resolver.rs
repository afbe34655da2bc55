//! Task resolvers (flytekit's `TaskResolverMixin`): how a task is named in its container args
//! (`--resolver <location> -- <loader args>`) and found again inside the container.
//!
//! The default resolver looks tasks up in the compile-time registry `#[task]` fills; loader args
//! are `task-module <module> task-name <function>`. Implement [`TaskResolver`] and register it
//! with [`register_resolver!`](crate::register_resolver) for tasks built at run time.

use async_trait::async_trait;

use crate::settings::SerializationSettings;
use crate::task::Task;

pub use crate::task::DEFAULT_RESOLVER_LOCATION;

/// Why a task could not be loaded in the container. Always a USER error in `error.pb`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// No resolver is registered at the location.
    #[error(
        "no task resolver at '{location}' in this binary (it has: {known}); was the task serialized by a different binary?"
    )]
    UnknownResolver {
        /// The `--resolver` value.
        location: String,
        /// The registered locations.
        known: String,
    },
    /// The loader args do not have the resolver's shape.
    #[error("bad loader args {args:?}: {expected}")]
    BadLoaderArgs {
        /// The args received.
        args: Vec<String>,
        /// The shape the resolver expects.
        expected: String,
    },
    /// The named task is not in this binary.
    #[error("no task '{name}' in module '{module}' in this binary{hint}")]
    UnknownTask {
        /// The module asked for.
        module: String,
        /// The task asked for.
        name: String,
        /// Closest matches, or the count of tasks the binary holds.
        hint: String,
    },
    /// Anything else the resolver reports.
    #[error("{0}")]
    Other(String),
}

/// Finds tasks again inside the container.
#[async_trait]
pub trait TaskResolver: Send + Sync + 'static {
    /// The stable string emitted after `--resolver`.
    fn location(&self) -> &str;

    /// The args emitted after `--` for `task`.
    fn loader_args(
        &self,
        settings: &SerializationSettings,
        task: &Task,
    ) -> Result<Vec<String>, ResolveError>;

    /// The `--resolver` location and loader args `task` is serialized with under `settings`: by
    /// default this resolver's [`location`](Self::location) and [`loader_args`](Self::loader_args).
    /// A resolver may hand a task to another one: an instance task whose payload the settings
    /// place in a bundle names the bundle resolver.
    fn target(
        &self,
        settings: &SerializationSettings,
        task: &Task,
    ) -> Result<(String, Vec<String>), ResolveError> {
        Ok((
            self.location().to_string(),
            self.loader_args(settings, task)?,
        ))
    }

    /// Rebuilds the task from its loader args.
    async fn load_task(&self, loader_args: &[String]) -> Result<Task, ResolveError>;

    /// Every task this resolver can load, where that is knowable (for `list`).
    fn all_tasks(&self) -> Vec<Task> {
        Vec::new()
    }
}

/// A resolver registered in this binary (see [`register_resolver!`](crate::register_resolver)).
pub struct ResolverRegistration {
    resolver: &'static dyn TaskResolver,
}

impl ResolverRegistration {
    /// Registers `resolver`.
    pub const fn new(resolver: &'static dyn TaskResolver) -> Self {
        Self { resolver }
    }
}

inventory::collect!(ResolverRegistration);

/// Registers a `static` resolver so `execute` can find it by its location:
/// `static MINE: MyResolver = MyResolver; flytekit::register_resolver!(MINE);`
#[macro_export]
macro_rules! register_resolver {
    ($resolver:path) => {
        $crate::__private::inventory::submit! {
            $crate::resolver::ResolverRegistration::new(&$resolver)
        }
    };
}

/// The resolver registered at `location`.
pub fn find_resolver(location: &str) -> Result<&'static dyn TaskResolver, ResolveError> {
    let mut known = Vec::new();
    for r in inventory::iter::<ResolverRegistration>() {
        if r.resolver.location() == location {
            return Ok(r.resolver);
        }
        known.push(r.resolver.location().to_string());
    }
    known.sort();
    Err(ResolveError::UnknownResolver {
        location: location.to_string(),
        known: known.join(", "),
    })
}

/// The `--resolver` location and loader args of `task`: its own location and explicit loader
/// args when it was built with them, else what its resolver chooses under `settings`
/// ([`TaskResolver::target`]).
pub(crate) fn target(
    task: &Task,
    settings: &SerializationSettings,
) -> Result<(String, Vec<String>), ResolveError> {
    if let Some(args) = task.explicit_loader_args() {
        return Ok((task.resolver_location().to_string(), args.to_vec()));
    }
    find_resolver(task.resolver_location())?.target(settings, task)
}

/// Loads a task by resolver location and loader args (what `execute` does first).
pub async fn load_task(location: &str, loader_args: &[String]) -> Result<Task, ResolveError> {
    find_resolver(location)?.load_task(loader_args).await
}

/// The default resolver: the compile-time registry filled by `#[task]`.
pub struct DefaultTaskResolver;

/// The default resolver's instance.
pub static DEFAULT_RESOLVER: DefaultTaskResolver = DefaultTaskResolver;

crate::register_resolver!(DEFAULT_RESOLVER);

#[async_trait]
impl TaskResolver for DefaultTaskResolver {
    fn location(&self) -> &str {
        DEFAULT_RESOLVER_LOCATION
    }

    fn loader_args(
        &self,
        _settings: &SerializationSettings,
        task: &Task,
    ) -> Result<Vec<String>, ResolveError> {
        let loc = task.location().ok_or_else(|| {
            ResolveError::Other(format!(
                "task {} is not registered, so the default resolver cannot name it; define it with \
                 #[task] or call TaskBuilder::located_at",
                task.name()
            ))
        })?;
        Ok(vec![
            "task-module".into(),
            loc.module.clone(),
            "task-name".into(),
            loc.name.clone(),
        ])
    }

    async fn load_task(&self, args: &[String]) -> Result<Task, ResolveError> {
        let [k1, module, k2, name, ..] = args else {
            return Err(ResolveError::BadLoaderArgs {
                args: args.to_vec(),
                expected: "task-module <module> task-name <function>".into(),
            });
        };
        if k1 != "task-module" || k2 != "task-name" {
            return Err(ResolveError::BadLoaderArgs {
                args: args.to_vec(),
                expected: "task-module <module> task-name <function>".into(),
            });
        }
        let all = crate::task::registered();
        if let Some(t) = all.iter().find(|t| {
            t.location()
                .is_some_and(|l| &l.module == module && &l.name == name)
        }) {
            return Ok(t.clone());
        }
        let wanted = format!("{module}.{name}");
        let mut scored: Vec<(f64, String)> = all
            .iter()
            .filter_map(|t| t.location())
            .map(|l| {
                let full = format!("{}.{}", l.module, l.name);
                let score = if &l.module == module {
                    strsim::jaro_winkler(name, &l.name)
                } else {
                    strsim::jaro_winkler(&wanted, &full) * 0.9
                };
                (score, full)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let close: Vec<String> = scored
            .iter()
            .filter(|(s, _)| *s > 0.85)
            .take(3)
            .map(|(_, n)| n.clone())
            .collect();
        let hint = if !close.is_empty() {
            format!("; did you mean {}?", close.join(", "))
        } else {
            format!(
                "; it holds {} task(s): {}",
                scored.len(),
                scored
                    .iter()
                    .map(|(_, n)| n.as_str())
                    .take(10)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Err(ResolveError::UnknownTask {
            module: module.clone(),
            name: name.clone(),
            hint,
        })
    }

    fn all_tasks(&self) -> Vec<Task> {
        crate::task::registered()
    }
}
