//! The instance resolver: rebuilds an instance task in its container from its loader args.

use async_trait::async_trait;
use bytes::Bytes;

use super::cache::PayloadCache;
use super::codec::decompress;
use super::loader_args::LoaderArgs;
use super::registry::find_type;
use super::{INSTANCE_RESOLVER_LOCATION, InstanceError};
use crate::resolver::{ResolveError, TaskResolver};
use crate::settings::SerializationSettings;
use crate::storage::Storage;
use crate::task::Task;

/// The instance resolver (`--resolver flytekit.resolver.instance`): rebuilds instance tasks from
/// their loader args.
pub struct InstanceResolver;

/// The instance resolver's instance.
pub static INSTANCE_RESOLVER: InstanceResolver = InstanceResolver;

crate::register_resolver!(INSTANCE_RESOLVER);

impl InstanceResolver {
    /// Loads the task of `args` with an explicit storage and cache (what
    /// [`load_task`](TaskResolver::load_task) does with the environment's).
    pub async fn load_with(
        &self,
        storage: &Storage,
        cache: &PayloadCache,
        args: &[String],
    ) -> Result<Task, InstanceError> {
        let parsed = LoaderArgs::parse(args)?;
        // The type is looked up first: an unknown tag needs no download.
        let ty = find_type(parsed.tag())?;
        let encoded = match &parsed {
            LoaderArgs::Inline { payload, .. } => Bytes::from(payload.clone()),
            LoaderArgs::Offloaded { uri, sha256, .. } => cache.fetch(storage, uri, sha256).await?.0,
        };
        let what = match &parsed {
            LoaderArgs::Inline { tag, .. } => format!("the inline payload of type {tag}"),
            LoaderArgs::Offloaded { uri, .. } => format!("the payload at {uri}"),
        };
        let raw = decompress(&encoded, &what)?;
        drop(encoded);
        ty.builder_from_payload(&raw)?
            .resolver(INSTANCE_RESOLVER_LOCATION, args.to_vec())
            .build()
            .map_err(|source| InstanceError::Build {
                tag: ty.tag().to_string(),
                source,
            })
    }
}

#[async_trait]
impl TaskResolver for InstanceResolver {
    fn location(&self) -> &str {
        INSTANCE_RESOLVER_LOCATION
    }

    fn loader_args(
        &self,
        settings: &SerializationSettings,
        task: &Task,
    ) -> Result<Vec<String>, ResolveError> {
        self.target(settings, task).map(|(_, args)| args)
    }

    fn target(
        &self,
        settings: &SerializationSettings,
        task: &Task,
    ) -> Result<(String, Vec<String>), ResolveError> {
        let Some(payload) = task.instance_payload() else {
            return Err(ResolveError::Other(format!(
                "task {} names the instance resolver but carries neither loader args nor a \
                 payload; build instance tasks with flytekit::instance::task_of (or \
                 #[instance_task])",
                task.name()
            )));
        };
        super::deferred::target(task, payload, settings).map_err(ResolveError::from)
    }

    async fn load_task(&self, args: &[String]) -> Result<Task, ResolveError> {
        let storage = Storage::try_new().map_err(|e| ResolveError::Other(e.to_string()))?;
        self.load_with(&storage, &PayloadCache::from_env(), args)
            .await
            .map_err(ResolveError::from)
    }
}
