//! Serialization of map tasks (flytekit's `ArrayNodeMapTask`, contract §4.8): the map task's
//! `TaskTemplate` — the inner task's container under the map's name and interface, with the
//! `map-execute` command. Its workflow node, an `ArrayNode`, is made in [`super::node`].

use flytekit_idl::core::TaskTemplate;

use super::error::SerializeError;
use super::task::entrypoint_command;
use crate::map::{MAP_RESOLVER_LOCATION, MapSpec, map_loader_args};
use crate::settings::SerializationSettings;
use crate::task::Task;

/// The map task's container args (flytekit's `ArrayNodeMapTask.get_command`).
pub(crate) fn command(
    task: &Task,
    spec: &MapSpec,
    settings: &SerializationSettings,
) -> Result<Vec<String>, SerializeError> {
    let loader = map_loader_args(spec, settings).map_err(|e| SerializeError::Resolver {
        task: task.name().to_string(),
        message: e.to_string(),
    })?;
    Ok(entrypoint_command(
        &settings.binary,
        "map-execute",
        MAP_RESOLVER_LOCATION,
        loader,
    ))
}

/// The map task's `TaskTemplate`: the inner task's, with the map command in place of its own
/// (flytekit's `prepare_target`), under the map task's name and interface with
/// `task_type_version = 1`.
pub(crate) fn template(
    task: &Task,
    spec: &MapSpec,
    settings: &SerializationSettings,
) -> Result<TaskTemplate, SerializeError> {
    let args = command(task, spec, settings)?;
    let mut t = spec.inner().plain_template(settings, args)?;
    if let Some(id) = t.id.as_mut() {
        id.name = task.name().to_string();
    }
    t.interface = Some(task.interface().clone());
    t.task_type_version = 1;
    Ok(t)
}
