//! How a map task is named in its container args and found again: flytekit's
//! `ArrayNodeMapTaskResolver` (`--resolver flytekit.resolver.map -- vars <bound> resolver
//! <inner resolver> <inner loader args>`).

use async_trait::async_trait;

use super::builder::map_task;
use super::spec::{MAP_RESOLVER_LOCATION, MapSpec};
use crate::resolver::{ResolveError, TaskResolver};
use crate::settings::SerializationSettings;
use crate::task::Task;

/// The loader args after `--` (flytekit's `ArrayNodeMapTaskResolver.loader_args`):
/// `vars <bound,csv> resolver <inner location> <inner loader args>`.
pub(crate) fn map_loader_args(
    spec: &MapSpec,
    settings: &SerializationSettings,
) -> Result<Vec<String>, ResolveError> {
    let (resolver, inner_args) = crate::resolver::target(&spec.inner, settings)?;
    let mut args = vec![
        "vars".to_string(),
        spec.bound_inputs
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(","),
        "resolver".to_string(),
        resolver,
    ];
    args.extend(inner_args);
    Ok(args)
}

/// Loads map tasks in their containers from `vars <bound> resolver <inner location> <inner args>`
/// (flytekit's `ArrayNodeMapTaskResolver`).
pub struct MapTaskResolver;

/// The map resolver's instance.
pub static MAP_RESOLVER: MapTaskResolver = MapTaskResolver;

crate::register_resolver!(MAP_RESOLVER);

const MAP_ARGS_SHAPE: &str =
    "vars <bound inputs, comma-separated> resolver <inner resolver> <inner loader args...>";

#[async_trait]
impl TaskResolver for MapTaskResolver {
    fn location(&self) -> &str {
        MAP_RESOLVER_LOCATION
    }

    fn loader_args(
        &self,
        settings: &SerializationSettings,
        task: &Task,
    ) -> Result<Vec<String>, ResolveError> {
        let spec = task.map_spec().ok_or_else(|| {
            ResolveError::Other(format!("task {} is not a map task", task.name()))
        })?;
        map_loader_args(spec, settings)
    }

    async fn load_task(&self, args: &[String]) -> Result<Task, ResolveError> {
        let bad = || ResolveError::BadLoaderArgs {
            args: args.to_vec(),
            expected: MAP_ARGS_SHAPE.into(),
        };
        let [k1, bound, k2, resolver, inner_args @ ..] = args else {
            return Err(bad());
        };
        if k1 != "vars" || k2 != "resolver" || inner_args.is_empty() {
            return Err(bad());
        }
        let inner = crate::resolver::load_task(resolver, inner_args).await?;
        map_task(inner)
            .bound_inputs(bound.split(','))
            .build()
            .map(Task::from)
            .map_err(|e| ResolveError::Other(e.to_string()))
    }
}
